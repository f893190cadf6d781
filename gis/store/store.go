// Package store keeps the network in PostGIS: it connects, imports a
// Dataset in one transaction (transforming it into the storage CRS and
// resolving its topology), exports it back, and loads the Topology the
// in-memory graph is assembled from.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/waterline-gis/waterline/gis"
)

// NotifyChannel is the LISTEN/NOTIFY channel on which a committed network
// change is announced (payload: the new version).
const NotifyChannel = "waterline_network"

// writeLock is the advisory lock held while the network is written.
const writeLock = 0x57_61_74_65_72_32

// Connect opens a pool to url, registers PostGIS's geometry type so that
// EWKB values can be sent and received in binary, and pings the server
// within timeout.
func Connect(ctx context.Context, url string, timeout time.Duration) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: parse DATABASE_URL: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = 16 // request handlers make short queries; a slow client holds none
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["jit"]; !ok {
		// The service's queries are short; JIT compilation only adds to them
		// (a z10 tile took 810 ms with it, 40 ms without).
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["statement_timeout"]; !ok {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = "120s"
	}
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		var oid uint32
		err := c.QueryRow(ctx, "SELECT oid FROM pg_type WHERE typname = 'geometry'").Scan(&oid)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // PostGIS not installed yet: migrations will add it
		}
		if err != nil {
			return err
		}
		c.TypeMap().RegisterType(&pgtype.Type{Name: "geometry", OID: oid, Codec: pgtype.ByteaCodec{}})
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(pctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", cfg.ConnConfig.Host, err)
	}
	return pool, nil
}

// Store is the network in PostGIS. It is safe for concurrent use.
type Store struct {
	pool   *pgxpool.Pool
	srid   int
	grades gis.GradeRules
	log    *slog.Logger
	// hook, when set (tests), is called before each step of a network
	// write ("copy pipes", …) with the writing transaction's context.
	hook func(ctx context.Context, step string)
	// abOpt tunes the as-built workflow.
	abOpt AsbuiltOptions
	// info caches Info for one network version: counting a city's
	// pipes takes a tenth of a second, and every map load asks.
	info struct {
		sync.Mutex
		v *Info
	}
}

// New returns a Store on pool, storing geometry in EPSG:srid and grading
// pipes by grades.
func New(pool *pgxpool.Pool, srid int, grades gis.GradeRules, log *slog.Logger) *Store {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{pool: pool, srid: srid, grades: grades, log: log}
}

// SRID is the storage CRS.
func (s *Store) SRID() int { return s.srid }

// Pool is the underlying connection pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Version returns the current network version.
func (s *Store) Version(ctx context.Context) (int64, error) {
	var v int64
	if err := s.pool.QueryRow(ctx, "SELECT version FROM network_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("store: read network version: %w", err)
	}
	return v, nil
}

// CRSError says a CRS is unknown or cannot be used.
type CRSError struct{ Msg string }

func (e *CRSError) Error() string { return "store: " + e.Msg }

// Transform converts every coordinate of ds into the storage CRS, in
// PostGIS (PROJ), and sets ds.SRID accordingly. It fails with *CRSError
// when the source CRS is unknown or gives coordinates that are not finite.
func (s *Store) Transform(ctx context.Context, ds *gis.Dataset) error {
	if ds.SRID == s.srid && ds.Proj == "" {
		return nil
	}
	if ds.SRID == 0 && ds.Proj == "" {
		return &CRSError{Msg: "the data names no CRS; pass --crs EPSG:N"}
	}
	if ds.SRID != 0 {
		var known bool
		if err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM spatial_ref_sys WHERE srid = $1)", ds.SRID).Scan(&known); err != nil {
			return fmt.Errorf("store: check CRS: %w", err)
		}
		if !known {
			return &CRSError{Msg: fmt.Sprintf("CRS EPSG:%d is not known to PROJ/PostGIS", ds.SRID)}
		}
	}
	// Gather every coordinate, transform in one round trip, scatter back.
	var xs, ys []float64
	visit(ds, func(p *[2]float64) { xs = append(xs, p[0]); ys = append(ys, p[1]) })
	if len(xs) == 0 {
		ds.SRID, ds.Proj = s.srid, ""
		return nil
	}
	// One MULTIPOINT, transformed in one call: PROJ builds its pipeline
	// once, however many points there are.
	tx, ty, err := s.transformXY(ctx, xs, ys, ds.SRID, ds.Proj, s.srid)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			return &CRSError{Msg: fmt.Sprintf("cannot transform from %s to EPSG:%d: %s", crsName(ds), s.srid, pgErr.Message)}
		}
		return fmt.Errorf("store: transform: %w", err)
	}
	if len(tx) != len(xs) {
		return fmt.Errorf("store: transform returned %d points for %d", len(tx), len(xs))
	}
	for i := range tx {
		if math.IsNaN(tx[i]) || math.IsInf(tx[i], 0) || math.IsNaN(ty[i]) || math.IsInf(ty[i], 0) {
			return &CRSError{Msg: fmt.Sprintf("coordinates (%g, %g) in %s do not transform to EPSG:%d; is the CRS right?", xs[i], ys[i], crsName(ds), s.srid)}
		}
	}
	k := 0
	visit(ds, func(p *[2]float64) { p[0], p[1] = tx[k], ty[k]; k++ })
	ds.SRID, ds.Proj = s.srid, ""
	return nil
}

func crsName(ds *gis.Dataset) string {
	if ds.SRID != 0 {
		return fmt.Sprintf("EPSG:%d", ds.SRID)
	}
	return fmt.Sprintf("%q", ds.Proj)
}

// visit calls f for every coordinate of ds, in a fixed order.
func visit(ds *gis.Dataset, f func(p *[2]float64)) {
	for i := range ds.Pipes {
		for k := range ds.Pipes[i].Geom {
			f((*[2]float64)(&ds.Pipes[i].Geom[k]))
		}
	}
	for i := range ds.Valves {
		f((*[2]float64)(&ds.Valves[i].Geom))
	}
	for i := range ds.Sources {
		f((*[2]float64)(&ds.Sources[i].Geom))
	}
	for i := range ds.Hydrants {
		f((*[2]float64)(&ds.Hydrants[i].Geom))
	}
	for i := range ds.Connections {
		f((*[2]float64)(&ds.Connections[i].Geom))
	}
	for i := range ds.Customers {
		if ds.Customers[i].Geom != nil {
			f((*[2]float64)(ds.Customers[i].Geom))
		}
	}
	for i := range ds.Districts {
		for _, poly := range ds.Districts[i].Geom {
			for _, ring := range poly {
				for k := range ring {
					f((*[2]float64)(&ring[k]))
				}
			}
		}
	}
}

// transformXY transforms points from EPSG:from (or the PROJ definition
// proj when from is 0) to EPSG:to in one PostGIS call.
func (s *Store) transformXY(ctx context.Context, xs, ys []float64, from int, proj string, to int) ([]float64, []float64, error) {
	mp, err := multiPointWKB(xs, ys)
	if err != nil {
		return nil, nil, err
	}
	var out []byte
	if from != 0 {
		err = s.pool.QueryRow(ctx, `SELECT ST_AsBinary(ST_Transform(ST_SetSRID(ST_GeomFromWKB($1), $2::int), $3::int))`, mp, from, to).Scan(&out)
	} else {
		err = s.pool.QueryRow(ctx, `SELECT ST_AsBinary(ST_Transform(ST_GeomFromWKB($1), $2::text, $3::int))`, mp, proj, to).Scan(&out)
	}
	if err != nil {
		return nil, nil, err
	}
	return multiPointXY(out, len(xs))
}
