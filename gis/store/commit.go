package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/asbuilt"
	"github.com/waterline-gis/waterline/gis/netjson"
)

// errStale says the network changed after a batch was validated.
type errStale struct{ base, cur int64 }

func (e errStale) Error() string {
	return fmt.Sprintf("network version %d, validated against %d", e.cur, e.base)
}

// Commit applies an approved batch to the live network in one transaction
// under the network write lock: it re-checks that the network is still the
// version the batch was validated (and previewed) against — if not, the
// batch stays approved and the error is a *gis.Error Conflict
// (network.changed): validate it again —, merges the staged features by
// id, resolves the topology of the whole network, writes the rows that
// change (incrementally, indexes in place: added, removed, and those whose
// attributes or derived columns — seq, junctions, length, grade,
// placement — differ; junctions keep their stored ids; when most stored
// rows would change it rewrites the tables whole, which stores the same
// rows), records the previous version of every feature it changes in
// network_history, bumps the network version and announces it on
// NotifyChannel. If anything fails (or the connection dies) nothing
// changes.
func (s *Store) Commit(ctx context.Context, id int64, by string) (*Batch, error) {
	return s.commit(ctx, id, by, commitIncremental)
}

// How a commit writes the network tables.
const (
	// commitIncremental writes only the rows that differ from what is
	// stored (planNet), junctions keeping their stored ids (keepNodeIDs).
	commitIncremental = iota
	// commitWhole rewrites the tables whole, junctions keeping their
	// stored ids: it stores exactly what commitIncremental does.
	commitWhole
	// commitRewrite rewrites the tables whole with Resolve's junction ids
	// (the commit before the incremental one; kept to measure against).
	commitRewrite
)

// commit is Commit, writing the network tables as mode says.
func (s *Store) commit(ctx context.Context, id int64, by string, mode int) (*Batch, error) {
	if err := need(by, "a commit"); err != nil {
		return nil, err
	}
	var status, file, format, srcCRS string
	var base *int64
	var staged, optRaw []byte
	var rollbackOf *int64
	err := s.pool.QueryRow(ctx, `SELECT status, base_version, staged, options, rollback_of, file, format, source_crs FROM asbuilt_batches WHERE id = $1`, id).
		Scan(&status, &base, &staged, &optRaw, &rollbackOf, &file, &format, &srcCRS)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, gis.Errorf(gis.NotFound, "batch.not_found", "no import batch %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: commit %d: %w", id, err)
	}
	if status != BatchApproved {
		return nil, gis.Errorf(gis.Conflict, "batch.bad_status", "batch %d is %s; only an approved batch can be committed", id, status)
	}
	var bo batchOptions
	_ = json.Unmarshal(optRaw, &bo)
	// The staged data is read while the transaction locks and exports the
	// network; a failure to read it is returned as it is, the batch
	// untouched.
	type read struct {
		ds  *gis.Dataset
		err error
	}
	parsed := make(chan read, 1) // buffered: the reader never blocks
	go func() {
		ds, _, err := netjson.Read(bytes.NewReader(staged), netjson.Options{Name: file})
		parsed <- read{ds, err}
	}()
	var ds *gis.Dataset
	var stagedErr error
	staging := func() (*gis.Dataset, error) {
		if ds == nil && stagedErr == nil {
			r := <-parsed
			ds, stagedErr = r.ds, r.err
			if stagedErr != nil {
				stagedErr = fmt.Errorf("store: commit %d: staged data: %w", id, stagedErr)
			}
		}
		return ds, stagedErr
	}
	start := time.Now()
	tm := stepTimer{last: start}
	var version int64
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(writeLock)); err != nil {
			return err
		}
		var cur int64
		if err := tx.QueryRow(ctx, "SELECT version FROM network_version").Scan(&cur); err != nil {
			return err
		}
		if base == nil || cur != *base {
			b := int64(-1)
			if base != nil {
				b = *base
			}
			return errStale{base: b, cur: cur}
		}
		var st string
		if err := tx.QueryRow(ctx, "SELECT status FROM asbuilt_batches WHERE id = $1 FOR UPDATE", id).Scan(&st); err != nil {
			return err
		}
		if st != BatchApproved {
			return gis.Errorf(gis.Conflict, "batch.bad_status", "batch %d is %s; only an approved batch can be committed", id, st)
		}
		if s.hook != nil {
			s.hook(ctx, "export")
		}
		tm.mark("lock")
		live, stored, err := s.readLive(ctx, tx, mode != commitRewrite)
		if err != nil {
			return err
		}
		tm.mark("export")
		if _, err := staging(); err != nil {
			return err
		}
		tm.mark("staged")
		merged, changes, _ := asbuilt.Merge(live, ds, bo.Remove)
		tm.mark("merge")
		topo, warns := gis.Resolve(merged, gis.DefaultTolerance)
		if stored != nil {
			keepNodeIDs(topo, stored.nodes)
		}
		tm.mark("resolve")
		var np *netPlan
		if mode == commitIncremental {
			inBatch := batchKeys(ds)
			np = s.planNet(merged, topo, stored, func(kind, id string) bool { return inBatch[kind+":"+id] })
			tm.mark("plan")
		}
		if np != nil && !np.wholeIsCheaper() {
			if err := s.apply(ctx, tx, np); err != nil {
				return err
			}
			tm.mark("write")
		} else {
			if err := s.rewrite(ctx, tx, merged, topo); err != nil {
				return err
			}
			tm.mark("rewrite")
		}
		if err := tx.QueryRow(ctx, "UPDATE network_version SET version = version + 1, changed_at = now() RETURNING version").Scan(&version); err != nil {
			return err
		}
		// Splits: live pipes the batch's pipes tie into.
		changes = append(changes, splitsOf(topo, merged, ds)...)
		if s.hook != nil {
			s.hook(ctx, "history")
		}
		if err := s.writeHistory(ctx, tx, id, version, by, live, ds, changes); err != nil {
			return err
		}
		tm.mark("history")
		wj, _ := json.Marshal(warns)
		if wj == nil || string(wj) == "null" {
			wj = []byte("[]")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO imports (file, format, source_crs, mode, started_at, version, counts, warnings, provenance)
			VALUES ($1, $2, $3, 'batch', $4, $5, $6, $7, $8)`, file, "asbuilt:"+format, srcCRS, start, version, counts(ds), string(wj),
			map[string]string{"batch": fmt.Sprint(id)}); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE asbuilt_batches SET status = 'committed', committed_by = $2, committed_at = now(), version = $3, failure = '' WHERE id = $1`,
			id, by, version); err != nil {
			return err
		}
		if rollbackOf != nil {
			if _, err := tx.Exec(ctx, "UPDATE asbuilt_batches SET rolled_back_by = $2 WHERE id = $1", *rollbackOf, id); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, "SELECT pg_notify($1, $2)", NotifyChannel, fmt.Sprint(version))
		return err
	})
	if err != nil && stagedErr != nil && errors.Is(err, stagedErr) {
		return nil, stagedErr
	}
	if err != nil {
		var st errStale
		msg := err.Error()
		if errors.As(err, &st) {
			err = gis.Errorf(gis.Conflict, "network.changed", "the network changed since batch %d was validated (version %d, now %d); validate it again, check the preview and approve it again", id, st.base, st.cur)
			msg = err.Error()
		} else if ge := (*gis.Error)(nil); !errors.As(err, &ge) {
			err = fmt.Errorf("store: commit batch %d: %w", id, err)
		}
		if _, e := s.pool.Exec(context.WithoutCancel(ctx), "UPDATE asbuilt_batches SET failure = $2 WHERE id = $1", id, "commit failed: "+msg); e != nil {
			s.log.Warn("record commit failure", "batch", id, "err", e)
		}
		return nil, err
	}
	tm.mark("commit")
	s.log.Info("as-built batch committed", "batch", id, "version", version, "pipes", len(ds.Pipes), "elapsed", time.Since(start), "steps", tm.String())
	return s.Batch(ctx, id)
}

// batchKeys is the set of the features of ds, as "kind:id".
func batchKeys(ds *gis.Dataset) map[string]bool {
	m := map[string]bool{}
	for i := range ds.Pipes {
		m[gis.KindPipe+":"+ds.Pipes[i].ID] = true
	}
	for i := range ds.Valves {
		m[gis.KindValve+":"+ds.Valves[i].ID] = true
	}
	for i := range ds.Sources {
		m[gis.KindSource+":"+ds.Sources[i].ID] = true
	}
	for i := range ds.Hydrants {
		m[gis.KindHydrant+":"+ds.Hydrants[i].ID] = true
	}
	for i := range ds.Connections {
		m[gis.KindConnection+":"+ds.Connections[i].ID] = true
	}
	for i := range ds.Customers {
		m[gis.KindCustomer+":"+ds.Customers[i].ID] = true
	}
	for i := range ds.Districts {
		m[gis.KindDistrict+":"+ds.Districts[i].ID] = true
	}
	return m
}

// splitsOf lists the live pipes cut by tees at the ends of the batch's pipes.
func splitsOf(t *gis.Topology, merged, ds *gis.Dataset) []asbuilt.Change {
	isNew := make(map[string]bool, len(ds.Pipes))
	for i := range ds.Pipes {
		isNew[ds.Pipes[i].ID] = true
	}
	newNode := map[int32]bool{}
	for i := range merged.Pipes {
		if isNew[merged.Pipes[i].ID] && t.PipeFrom[i] >= 0 {
			newNode[t.PipeFrom[i]] = true
			newNode[t.PipeTo[i]] = true
		}
	}
	var out []asbuilt.Change
	idx := map[int32]int{}
	for k := range t.TeePipe {
		q := t.TeePipe[k]
		if isNew[merged.Pipes[q].ID] || !newNode[t.TeeNode[k]] {
			continue
		}
		i, ok := idx[q]
		if !ok {
			i = len(out)
			idx[q] = i
			out = append(out, asbuilt.Change{Kind: gis.KindPipe, ID: merged.Pipes[q].ID, Action: asbuilt.ActSplit})
		}
		out[i].At = append(out[i].At, t.TeeS[k])
	}
	return out
}

// featureJSON renders the features of ds named in keys ("kind:id"; all
// when keys is nil) as Network GeoJSON features, by key.
func featureJSON(ds *gis.Dataset, keys map[string]bool) (map[string]json.RawMessage, error) {
	sub := &gis.Dataset{SRID: ds.SRID}
	var order []string // the features' keys in the order netjson.Write writes them
	want := func(kind, id string) bool {
		k := kind + ":" + id
		if keys == nil || keys[k] {
			order = append(order, k)
			return true
		}
		return false
	}
	for i := range ds.Pipes {
		if want(gis.KindPipe, ds.Pipes[i].ID) {
			sub.Pipes = append(sub.Pipes, ds.Pipes[i])
		}
	}
	for i := range ds.Valves {
		if want(gis.KindValve, ds.Valves[i].ID) {
			sub.Valves = append(sub.Valves, ds.Valves[i])
		}
	}
	for i := range ds.Sources {
		if want(gis.KindSource, ds.Sources[i].ID) {
			sub.Sources = append(sub.Sources, ds.Sources[i])
		}
	}
	for i := range ds.Hydrants {
		if want(gis.KindHydrant, ds.Hydrants[i].ID) {
			sub.Hydrants = append(sub.Hydrants, ds.Hydrants[i])
		}
	}
	for i := range ds.Connections {
		if want(gis.KindConnection, ds.Connections[i].ID) {
			sub.Connections = append(sub.Connections, ds.Connections[i])
		}
	}
	for i := range ds.Customers {
		if want(gis.KindCustomer, ds.Customers[i].ID) {
			sub.Customers = append(sub.Customers, ds.Customers[i])
		}
	}
	for i := range ds.Districts {
		if want(gis.KindDistrict, ds.Districts[i].ID) {
			sub.Districts = append(sub.Districts, ds.Districts[i])
		}
	}
	var buf bytes.Buffer
	if err := netjson.Write(&buf, sub); err != nil {
		return nil, err
	}
	feats, err := splitFeatures(buf.Bytes())
	if err != nil {
		return nil, err
	}
	if len(feats) != len(order) {
		return nil, fmt.Errorf("history: %d features written, %d expected", len(feats), len(order))
	}
	out := make(map[string]json.RawMessage, len(feats))
	for i, f := range feats {
		out[order[i]] = f
	}
	return out, nil
}

// splitFeatures returns the members of the "features" array of a
// FeatureCollection as netjson.Write writes it (no name, proj or
// provenance members before it), as slices of fc, in order.
func splitFeatures(fc []byte) ([]json.RawMessage, error) {
	const head = `"features":[`
	i := bytes.Index(fc, []byte(head))
	if i < 0 {
		return nil, errors.New("history: no features array")
	}
	i += len(head)
	var out []json.RawMessage
	ws := func() {
		for i < len(fc) && (fc[i] == ' ' || fc[i] == '\n' || fc[i] == '\r' || fc[i] == '\t') {
			i++
		}
	}
	for {
		ws()
		if i >= len(fc) {
			return nil, errors.New("history: truncated features array")
		}
		if fc[i] == ']' {
			return out, nil
		}
		if fc[i] != '{' {
			return nil, fmt.Errorf("history: unexpected %q in the features array", fc[i])
		}
		start, depth, inStr := i, 0, false
		for ; i < len(fc); i++ {
			c := fc[i]
			if inStr {
				switch c {
				case '\\':
					i++
				case '"':
					inStr = false
				}
				continue
			}
			switch c {
			case '"':
				inStr = true
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			if depth == 0 {
				i++
				break
			}
		}
		if depth != 0 {
			return nil, errors.New("history: truncated feature")
		}
		out = append(out, json.RawMessage(fc[start:i]))
		ws()
		if i < len(fc) && fc[i] == ',' {
			i++
		}
	}
}

// writeHistory records every change of a commit: the row before and after.
func (s *Store) writeHistory(ctx context.Context, tx pgx.Tx, batch, version int64, by string, live, ds *gis.Dataset, changes []asbuilt.Change) error {
	need := map[string]bool{}
	for _, c := range changes {
		if c.Action == asbuilt.ActChange || c.Action == asbuilt.ActRemove {
			need[c.Kind+":"+c.ID] = true
		}
	}
	before, err := featureJSON(live, need)
	if err != nil {
		return err
	}
	after, err := featureJSON(ds, nil)
	if err != nil {
		return err
	}
	raw := func(m map[string]json.RawMessage, k string) any {
		if v, ok := m[k]; ok {
			return v
		}
		return nil
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"network_history"}, []string{"batch_id", "version", "kind", "feature_id", "action", "before", "after", "detail", "changed_by"},
		pgx.CopyFromSlice(len(changes), func(i int) ([]any, error) {
			c := changes[i]
			k := c.Kind + ":" + c.ID
			var b, a, d any
			switch c.Action {
			case asbuilt.ActAdd:
				a = raw(after, k)
			case asbuilt.ActChange:
				b, a = raw(before, k), raw(after, k)
			case asbuilt.ActRemove:
				b = raw(before, k)
			case asbuilt.ActSplit:
				dj, _ := json.Marshal(map[string]any{"at": c.At})
				d = json.RawMessage(dj)
			}
			return []any{batch, version, c.Kind, c.ID, c.Action, b, a, d, by}, nil
		}))
	if err != nil {
		return fmt.Errorf("write history: %w", err)
	}
	return nil
}

// Rollback creates the compensating batch of a committed batch: it takes
// out what the batch added and puts back the previous version of what it
// changed or removed, as recorded in network_history. The new batch is
// validated and, like any other, must be approved by a second user and
// committed. A batch whose features were changed again later cannot be
// rolled back (Conflict, batch.superseded); nor twice.
func (s *Store) Rollback(ctx context.Context, id int64, by string) (*Batch, error) {
	if err := need(by, "a rollback"); err != nil {
		return nil, err
	}
	b, err := s.Batch(ctx, id)
	if err != nil {
		return nil, err
	}
	if b.Status != BatchCommitted {
		return nil, gis.Errorf(gis.Conflict, "batch.bad_status", "batch %d is %s; only a committed batch can be rolled back", id, b.Status)
	}
	if b.RolledBackBy != nil {
		return nil, gis.Errorf(gis.Conflict, "batch.rolled_back", "batch %d was rolled back by batch %d already", id, *b.RolledBackBy)
	}
	var pending int64
	err = s.pool.QueryRow(ctx, "SELECT id FROM asbuilt_batches WHERE rollback_of = $1 AND status IN ('received', 'invalid', 'ready', 'approved') LIMIT 1", id).Scan(&pending)
	if err == nil {
		return nil, gis.Errorf(gis.Conflict, "batch.rollback_pending", "batch %d is already being rolled back by batch %d", id, pending)
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("store: rollback %d: %w", id, err)
	}
	var later []string
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT h2.kind || ':' || h2.feature_id FROM network_history h
		JOIN network_history h2 ON h2.kind = h.kind AND h2.feature_id = h.feature_id AND h2.id > h.id AND h2.batch_id IS DISTINCT FROM h.batch_id
		WHERE h.batch_id = $1 AND h.action <> 'split' AND h2.action <> 'split' ORDER BY 1 LIMIT 10`, id)
	if err != nil {
		return nil, fmt.Errorf("store: rollback %d: %w", id, err)
	}
	later, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: rollback %d: %w", id, err)
	}
	if len(later) > 0 {
		return nil, gis.Errorf(gis.Conflict, "batch.superseded", "batch %d cannot be rolled back: later batches changed %s", id, strings.Join(later, ", "))
	}
	opts, _ := json.Marshal(batchOptions{})
	var nid int64
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO asbuilt_batches (project, contractor, uploaded_by, file, format, options, rollback_of)
			VALUES ($1, $2, $3, $4, 'rollback', $5, $6) RETURNING id`,
			fmt.Sprintf("rollback of batch %d (%s)", id, b.Project), b.Contractor, by, fmt.Sprintf("rollback-%d.geojson", id), string(opts), id).Scan(&nid); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO asbuilt_files (batch_id, content) VALUES ($1, '')", nid)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: rollback %d: %w", id, err)
	}
	if err := s.stageRollback(ctx, nid, id); err != nil {
		return nil, err
	}
	return s.Batch(ctx, nid)
}

// stageRollback stages the compensating batch nid of batch of from the
// history: removals of what it added, the previous rows of what it changed.
func (s *Store) stageRollback(ctx context.Context, nid, of int64) error {
	rows, err := s.pool.Query(ctx, `SELECT kind, feature_id, action, before FROM network_history WHERE batch_id = $1 AND action <> 'split' ORDER BY id`, of)
	if err != nil {
		return fmt.Errorf("store: rollback %d: %w", of, err)
	}
	var remove []string
	feats := []json.RawMessage{}
	for rows.Next() {
		var kind, fid, action string
		var before []byte
		if err := rows.Scan(&kind, &fid, &action, &before); err != nil {
			rows.Close()
			return fmt.Errorf("store: rollback %d: %w", of, err)
		}
		switch action {
		case asbuilt.ActAdd:
			remove = append(remove, kind+":"+fid)
		case asbuilt.ActChange, asbuilt.ActRemove:
			feats = append(feats, before)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: rollback %d: %w", of, err)
	}
	fc, _ := json.Marshal(map[string]any{"type": "FeatureCollection",
		"crs":      map[string]any{"type": "name", "properties": map[string]string{"name": fmt.Sprintf("urn:ogc:def:crs:EPSG::%d", s.srid)}},
		"features": feats})
	name := fmt.Sprintf("rollback-%d.geojson", of)
	ds, _, err := netjson.Read(bytes.NewReader(fc), netjson.Options{Name: name})
	if err != nil {
		return fmt.Errorf("store: rollback %d: history: %w", of, err)
	}
	opts, _ := json.Marshal(batchOptions{Remove: remove})
	if _, err := s.pool.Exec(ctx, "UPDATE asbuilt_batches SET options = $2 WHERE id = $1", nid, string(opts)); err != nil {
		return fmt.Errorf("store: rollback %d: %w", of, err)
	}
	if _, err := s.pool.Exec(ctx, "UPDATE asbuilt_files SET content = $2 WHERE batch_id = $1", nid, fc); err != nil {
		return fmt.Errorf("store: rollback %d: %w", of, err)
	}
	live, version, err := s.liveForValidation(ctx)
	if err != nil {
		return err
	}
	d := &asbuilt.Delivery{File: name, Format: "rollback", CRS: asbuilt.CRS{SRID: s.srid},
		Built: &asbuilt.Built{Dataset: ds, PointAt: nil, PipeOf: map[string][2]string{}, Refs: map[string][]int{}}}
	a, err := s.evaluate(ctx, d, live, version, remove)
	if err != nil {
		return err
	}
	return s.record(ctx, nid, a)
}

// HistoryEntry is one change of a feature.
type HistoryEntry struct {
	ID        int64           `json:"id"`
	Batch     *int64          `json:"batch,omitempty"`
	Project   string          `json:"project,omitempty"`
	Version   int64           `json:"version"`
	Action    string          `json:"action"`
	Before    json.RawMessage `json:"before,omitempty"`
	After     json.RawMessage `json:"after,omitempty"`
	Detail    json.RawMessage `json:"detail,omitempty"`
	ChangedAt time.Time       `json:"changed_at"`
	ChangedBy string          `json:"changed_by"`
}

// FeatureHistory is a feature's life: every recorded change, oldest first,
// and whether it is live now.
type FeatureHistory struct {
	Kind    string         `json:"kind"`
	ID      string         `json:"id"`
	Live    bool           `json:"live"`
	Events  []HistoryEntry `json:"events"`
	Version int64          `json:"network_version"`
}

// History returns the life of a feature (kind pipe, valve, hydrant…). A
// feature that is neither live nor in the history is NotFound.
func (s *Store) History(ctx context.Context, kind, id string) (*FeatureHistory, error) {
	table := map[string]string{gis.KindPipe: "pipes", gis.KindValve: "valves", gis.KindHydrant: "hydrants", gis.KindSource: "sources",
		gis.KindConnection: "connections", gis.KindCustomer: "customers", gis.KindDistrict: "districts"}[kind]
	if table == "" {
		return nil, gis.Errorf(gis.Invalid, "history.bad_kind", "unknown feature kind %q", kind)
	}
	h := &FeatureHistory{Kind: kind, ID: id, Events: []HistoryEntry{}}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("store: history: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+pgx.Identifier{table}.Sanitize()+" WHERE id = $1), (SELECT version FROM network_version)", id).Scan(&h.Live, &h.Version); err != nil {
		return nil, fmt.Errorf("store: history: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT h.id, h.batch_id, coalesce(b.project, ''), h.version, h.action, h.before, h.after, h.detail, h.changed_at, h.changed_by
		FROM network_history h LEFT JOIN asbuilt_batches b ON b.id = h.batch_id WHERE h.kind = $1 AND h.feature_id = $2 ORDER BY h.id`, kind, id)
	if err != nil {
		return nil, fmt.Errorf("store: history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e HistoryEntry
		var b, a, d []byte
		if err := rows.Scan(&e.ID, &e.Batch, &e.Project, &e.Version, &e.Action, &b, &a, &d, &e.ChangedAt, &e.ChangedBy); err != nil {
			return nil, fmt.Errorf("store: history: %w", err)
		}
		e.Before, e.After, e.Detail = b, a, d
		h.Events = append(h.Events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: history: %w", err)
	}
	if !h.Live && len(h.Events) == 0 {
		return nil, gis.Errorf(gis.NotFound, kind+".not_found", "%s %s is not in the network and has no history", kind, id)
	}
	return h, nil
}

// LocalCRS is a local coordinate system registered by an admin.
type LocalCRS struct {
	Name         string    `json:"name"`
	Proj         string    `json:"proj"`
	Description  string    `json:"description"`
	RegisteredBy string    `json:"registered_by"`
	RegisteredAt time.Time `json:"registered_at"`
}

// RegisterCRS registers (or replaces) a local coordinate system under
// name, after checking that PROJ can transform from it into the storage
// CRS (a point at its origin). Uploads name it as local:NAME.
func (s *Store) RegisterCRS(ctx context.Context, name, proj, desc, by string) (*LocalCRS, error) {
	if err := need(by, "registering a CRS"); err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if name == "" || strings.ContainsAny(name, " :/") || len(name) > 64 {
		return nil, gis.Errorf(gis.Invalid, "crs.bad_name", "a local CRS name is one word (no spaces, colons or slashes), at most 64 characters")
	}
	if !strings.Contains(proj, "+proj=") {
		return nil, gis.Errorf(gis.Invalid, "crs.bad_proj", "want a PROJ definition such as +proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m")
	}
	if _, _, err := s.transformXY(ctx, []float64{0}, []float64{0}, 0, proj, s.srid); err != nil {
		return nil, gis.Errorf(gis.Invalid, "crs.bad_proj", "PROJ cannot use the definition: %v", err)
	}
	var c LocalCRS
	err := s.pool.QueryRow(ctx, `INSERT INTO asbuilt_crs (name, proj, description, registered_by) VALUES ($1, $2, $3, $4)
		ON CONFLICT (name) DO UPDATE SET proj = $2, description = $3, registered_by = $4, registered_at = now()
		RETURNING name, proj, description, registered_by, registered_at`, name, proj, desc, by).Scan(&c.Name, &c.Proj, &c.Description, &c.RegisteredBy, &c.RegisteredAt)
	if err != nil {
		return nil, fmt.Errorf("store: register CRS: %w", err)
	}
	return &c, nil
}

// LocalCRSs lists the registered local coordinate systems.
func (s *Store) LocalCRSs(ctx context.Context) ([]LocalCRS, error) {
	rows, err := s.pool.Query(ctx, "SELECT name, proj, description, registered_by, registered_at FROM asbuilt_crs ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("store: local CRSs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (LocalCRS, error) {
		var c LocalCRS
		err := r.Scan(&c.Name, &c.Proj, &c.Description, &c.RegisteredBy, &c.RegisteredAt)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: local CRSs: %w", err)
	}
	if out == nil {
		out = []LocalCRS{}
	}
	return out, nil
}

// SetArea sets the deployment's area (storage CRS) that surveys must fall
// in; an empty bound clears it (the live network's extent is used).
func (s *Store) SetArea(ctx context.Context, minx, miny, maxx, maxy float64) error {
	var err error
	if minx >= maxx || miny >= maxy {
		_, err = s.pool.Exec(ctx, "DELETE FROM asbuilt_area")
	} else {
		_, err = s.pool.Exec(ctx, `INSERT INTO asbuilt_area (minx, miny, maxx, maxy) VALUES ($1, $2, $3, $4)
			ON CONFLICT (one) DO UPDATE SET minx = $1, miny = $2, maxx = $3, maxy = $4`, minx, miny, maxx, maxy)
	}
	if err != nil {
		return fmt.Errorf("store: set area: %w", err)
	}
	return nil
}
