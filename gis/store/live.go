package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/waterline-gis/waterline/gis"
)

// Live keeps the current in-memory Network of the store, published through
// an atomic pointer: readers never wait for a reload. It reloads when the
// network version changes — announced on NotifyChannel by any replica's
// import, and checked every PollEvery as a backstop.
type Live struct {
	st        *Store
	cur       atomic.Pointer[gis.Network]
	mu        sync.Mutex // serialises reloads
	PollEvery time.Duration
	// OnReload, if set, is called after a new network is published.
	OnReload func(n *gis.Network)
}

// NewLive returns a Live for st; call Reload or Run to load the network.
func NewLive(st *Store) *Live {
	return &Live{st: st, PollEvery: 30 * time.Second}
}

// Network returns the current network, or nil before the first load.
func (l *Live) Network() *gis.Network { return l.cur.Load() }

// Reload loads the network if the stored version differs from the
// published one (or nothing is published yet).
func (l *Live) Reload(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, err := l.st.Version(ctx)
	if err != nil {
		return err
	}
	if cur := l.cur.Load(); cur != nil && cur.Version == v {
		return nil
	}
	start := time.Now()
	topo, v, err := l.st.LoadTopology(ctx)
	if err != nil {
		return err
	}
	// The lon/lat grid is PostgreSQL's work; build the graph meanwhile.
	type gridResult struct {
		g   *gis.LonLatGrid
		err error
	}
	gc := make(chan gridResult, 1)
	go func() {
		g, err := l.st.LonLatGrid(ctx, 250)
		gc <- gridResult{g, err}
	}()
	n := gis.NewNetwork(topo)
	n.Version = v
	gr := <-gc
	if gr.err != nil {
		return gr.err
	}
	n.LonLat = gr.g
	n.RankIDs()
	l.cur.Store(n)
	l.st.log.Info("network loaded", "version", v, "pipes", topo.PipeID.Len(), "segments", n.NumSegments(), "elapsed", time.Since(start))
	if l.OnReload != nil {
		l.OnReload(n)
	}
	return nil
}

// Run listens for network changes until ctx ends, reloading on each; it
// reconnects after errors. It returns ctx's error.
func (l *Live) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		if err := l.listen(ctx); err != nil && ctx.Err() == nil {
			l.st.log.Warn("network listener failed; retrying", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
			}
		}
	}
	return ctx.Err()
}

func (l *Live) listen(ctx context.Context) error {
	return Follow(ctx, l.st.pool, NotifyChannel, l.PollEvery, l.Reload)
}

// Follow listens on channel on a connection of its own from pool and
// calls refresh once listening, then after every notification and after
// every quiet spell of pollEvery (a backstop for a lost one): refresh
// never misses a change announced after Follow began to listen. It
// returns nil when ctx ends, or the first error of the connection or of
// refresh (the caller retries).
func Follow(ctx context.Context, pool *pgxpool.Pool, channel string, pollEvery time.Duration, refresh func(context.Context) error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("store: listen: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return fmt.Errorf("store: listen: %w", err)
	}
	for {
		if err := refresh(ctx); err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, pollEvery)
		_, err := conn.Conn().WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if err != nil && wctx.Err() == nil {
			conn.Conn().Close(context.Background()) //nolint:errcheck // broken: drop it
			return fmt.Errorf("store: wait for notification on %s: %w", channel, err)
		}
	}
}
