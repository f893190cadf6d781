package repair

import (
	"context"
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/waterline-gis/waterline/gis/store"
)

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// HeldChannel is the LISTEN/NOTIFY channel on which every change to
// repair jobs is announced (a trigger of migration 0009).
const HeldChannel = "waterline_repair_jobs"

// HeldClosed returns the valves open jobs hold closed (valves closed
// recorded, valves reopened not yet), sorted. It is the Planner's
// HeldClosed hook: every shutoff plan sees these valves shut.
//
// While RunHeld runs, the answer comes from memory, refreshed on every
// change to repair jobs: at once for changes this Jobs makes, within
// the notification's delivery (milliseconds) for other replicas'.
// Otherwise it asks the database. The slice may be shared: callers must
// not change it.
func (j *Jobs) HeldClosed(ctx context.Context) ([]string, error) {
	if vs := j.held.vs.Load(); vs != nil {
		return *vs, nil
	}
	return j.heldExcept(ctx, 0)
}

// heldCache is what RunHeld keeps of HeldClosed. vs is nil while it is
// not known to be current; gen counts this Jobs' own writes, so that an
// answer read before one of them is not kept after it.
type heldCache struct {
	vs        atomic.Pointer[[]string]
	gen       atomic.Uint64
	listening atomic.Bool // RunHeld is listening: the cache may be filled
}

// changed forgets the held valves after a write of this Jobs (called
// once the write's transaction has ended, whatever its outcome).
func (c *heldCache) changed() {
	c.gen.Add(1)
	c.vs.Store(nil)
}

// write runs fn in a transaction on the pool. Once the transaction has
// ended the held-valve cache forgets what it knew and, while RunHeld
// listens, reads the held valves again: this replica's next plan sees the
// change, without waiting for the notification.
func (j *Jobs) write(ctx context.Context, fn func(pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, j.pool, fn)
	j.held.changed()
	if j.held.listening.Load() {
		if rerr := j.refreshHeld(context.WithoutCancel(ctx)); rerr != nil {
			j.log.Warn("repair: reading the held valves after a change", "err", rerr)
		}
	}
	return err
}

// refreshHeld reads the held valves into the cache, unless this Jobs
// wrote in the meantime (then the next notification reads them again).
func (j *Jobs) refreshHeld(ctx context.Context) error {
	gen := j.held.gen.Load()
	vs, err := j.heldExcept(ctx, 0)
	if err != nil {
		return err
	}
	if vs == nil {
		vs = []string{}
	}
	if j.held.gen.Load() == gen {
		j.held.vs.Store(&vs)
	}
	return nil
}

// RunHeld keeps HeldClosed's answer in memory until ctx ends: it listens
// on HeldChannel on a connection of its own and reads the held valves
// again on every notification (and every pollEvery, should one be lost).
// While it is not listening (a broken connection; it reconnects),
// HeldClosed asks the database. It returns ctx's error.
func (j *Jobs) RunHeld(ctx context.Context, pollEvery time.Duration) error {
	for ctx.Err() == nil {
		err := j.listenHeld(ctx, pollEvery)
		j.held.listening.Store(false)
		j.held.changed()
		if err != nil && ctx.Err() == nil {
			j.log.Warn("repair: held-valve listener failed; retrying", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
			}
		}
	}
	return ctx.Err()
}

func (j *Jobs) listenHeld(ctx context.Context, pollEvery time.Duration) error {
	return store.Follow(ctx, j.pool, HeldChannel, pollEvery, func(ctx context.Context) error {
		j.held.listening.Store(true) // listening: the cache may be filled
		return j.refreshHeld(ctx)
	})
}

// heldExcept is HeldClosed without the valves of job except.
func (j *Jobs) heldExcept(ctx context.Context, except int64) ([]string, error) {
	rows, err := j.pool.Query(ctx, `SELECT DISTINCT v FROM repair_jobs, unnest(valves) AS v
		WHERE status = 'open' AND holding AND id <> $1 ORDER BY v`, except)
	if err != nil {
		return nil, fmt.Errorf("repair: valves held closed: %w", err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("repair: valves held closed: %w", err)
	}
	return vs, nil
}

// plan plans req on the live network, seeing shut every valve held closed
// by open jobs other than except (a job re-planning itself must not see
// its own valves as already shut). It returns the plan and the valves the
// job holds closed with it: those it closes, and those it finds closed
// only because another job holds them (that job's reopening must not open
// them).
func (j *Jobs) plan(ctx context.Context, req PlanRequest, except int64) (*PlanResponse, []string, error) {
	var held []string
	p := *j.planner
	p.HeldClosed = func(ctx context.Context) ([]string, error) {
		var err error
		held, err = j.heldExcept(ctx, except)
		return held, err
	}
	plan, err := p.Plan(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	return plan, union(plan.ValvesToClose, intersect(plan.ValvesAlreadyClosed, held)), nil
}

// heldBy returns, for each of valves held closed by an open job other than
// except, the jobs holding it.
func heldBy(ctx context.Context, q querier, except int64, valves []string) (map[string][]int64, error) {
	rows, err := q.Query(ctx, `SELECT v, id FROM repair_jobs, unnest(valves) AS v
		WHERE status = 'open' AND holding AND id <> $1 AND v = ANY($2) ORDER BY v, id`, except, valves)
	if err != nil {
		return nil, fmt.Errorf("repair: held valves: %w", err)
	}
	defer rows.Close()
	out := map[string][]int64{}
	for rows.Next() {
		var v string
		var id int64
		if err := rows.Scan(&v, &id); err != nil {
			return nil, fmt.Errorf("repair: held valves: %w", err)
		}
		out[v] = append(out[v], id)
	}
	return out, rows.Err()
}

// split divides valves into those no other job holds and those held, in
// valve order.
func split(valves []string, held map[string][]int64) (free []string, kept []HeldValve) {
	for _, v := range valves {
		if ids, ok := held[v]; ok {
			kept = append(kept, HeldValve{Valve: v, Jobs: ids})
		} else {
			free = append(free, v)
		}
	}
	return free, kept
}

// valveActions says what the crew does with jb's valves now: close them
// (those not already held closed by another job), or, while holding,
// which to open on reopening and which another open job still holds.
func (j *Jobs) valveActions(ctx context.Context, q querier, jb *Job) (*ValveActions, error) {
	_, closed := jb.facts.Done[ValvesClosed]
	if closed && !jb.Holding {
		return nil, nil // reopened: nothing left to do
	}
	held, err := heldBy(ctx, q, jb.ID, jb.Valves)
	if err != nil {
		return nil, err
	}
	free, kept := split(jb.Valves, held)
	if jb.Holding {
		return &ValveActions{Stage: "reopen", Open: free, KeepClosed: kept}, nil
	}
	return &ValveActions{Stage: "close", Close: free, AlreadyClosed: kept}, nil
}

// conflicts returns the open planned shutoffs other than id overlapping
// [start, end) and sharing valves or customers with the given ones (nil
// customers: those stored on job id).
func (j *Jobs) conflicts(ctx context.Context, q querier, id int64, start, end time.Time, valves, customers []string) ([]Conflict, error) {
	rows, err := q.Query(ctx, `WITH me AS (SELECT $4::text[] AS valves,
			coalesce($5::text[], (SELECT customers FROM repair_jobs WHERE id = $1), '{}') AS customers)
		SELECT o.id, o.planned_start, o.planned_end,
			ARRAY(SELECT unnest(o.valves) INTERSECT SELECT unnest(me.valves) ORDER BY 1),
			(SELECT count(*) FROM (SELECT unnest(o.customers) INTERSECT SELECT unnest(me.customers)) s)
		FROM repair_jobs o, me
		WHERE o.kind = 'planned' AND o.status = 'open' AND o.id <> $1
			AND tstzrange(o.planned_start, o.planned_end) && tstzrange($2, $3)
			AND (o.valves && me.valves OR o.customers && me.customers)
		ORDER BY o.planned_start, o.id`, id, start, end, valves, customers)
	if err != nil {
		return nil, fmt.Errorf("repair: planned conflicts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Conflict, error) {
		var c Conflict
		err := r.Scan(&c.JobID, &c.Start, &c.End, &c.SharedValves, &c.SharedCustomers)
		c.Start, c.End = c.Start.In(j.tz), c.End.In(j.tz)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("repair: planned conflicts: %w", err)
	}
	return out, nil
}

// union returns the sorted union of sets of ids.
func union(sets ...[]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range sets {
		for _, v := range s {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	sort.Strings(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// intersect returns the elements of a also in b, in a's order.
func intersect(a, b []string) []string {
	return minus(a, minus(a, b))
}

// minus returns the elements of a not in b, in a's order.
func minus(a, b []string) []string {
	in := make(map[string]bool, len(b))
	for _, v := range b {
		in[v] = true
	}
	out := []string{}
	for _, v := range a {
		if !in[v] {
			out = append(out, v)
		}
	}
	return out
}
