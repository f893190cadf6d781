package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waterline-gis/waterline/gis"
)

// ImportOptions controls an import.
type ImportOptions struct {
	File    string // the file's name, recorded with the import
	Format  string // geojson | epanet | ...
	Replace bool   // the data is the whole network (else merged by id)
	DryRun  bool   // validate and report; write nothing
	// Progress, if set, is told each stage as it starts.
	Progress func(stage string)
}

// ImportResult reports what an import did (or would do, on a dry run).
type ImportResult struct {
	ID       int64             `json:"id,omitempty"`
	Version  int64             `json:"version"`
	DryRun   bool              `json:"dry_run"`
	Counts   map[string]int    `json:"counts"`
	Warnings []gis.Issue       `json:"warnings"`
	Topology map[string]int    `json:"topology"`
	Elapsed  time.Duration     `json:"-"`
	Prov     map[string]string `json:"provenance,omitempty"`
}

// networkTables are the tables an import rewrites (fixed names, never
// from input).
var networkTables = []string{"districts", "nodes", "pipes", "pipe_tees", "valves", "sources", "hydrants", "connections", "customers"}

func counts(ds *gis.Dataset) map[string]int {
	return map[string]int{
		gis.KindPipe: len(ds.Pipes), gis.KindValve: len(ds.Valves), gis.KindSource: len(ds.Sources),
		gis.KindHydrant: len(ds.Hydrants), gis.KindConnection: len(ds.Connections),
		gis.KindCustomer: len(ds.Customers), gis.KindDistrict: len(ds.Districts),
	}
}

// mergeByID returns base with every element of add replacing the one of the
// same id, new ones appended.
func mergeByID[T any](base, add []T, id func(*T) string) []T {
	if len(base) == 0 {
		return add
	}
	pos := make(map[string]int, len(base))
	for i := range base {
		pos[id(&base[i])] = i
	}
	for i := range add {
		if k, ok := pos[id(&add[i])]; ok {
			base[k] = add[i]
		} else {
			base = append(base, add[i])
		}
	}
	return base
}

// Import writes ds into the network: transformed into the storage CRS,
// merged with the stored network by id (or replacing it), its topology
// resolved over the whole network, all in one transaction that bumps the
// network version and announces it on NotifyChannel. Either all of it is
// committed or nothing changes. ds is modified (transformed) in place.
func (s *Store) Import(ctx context.Context, ds *gis.Dataset, opt ImportOptions) (*ImportResult, error) {
	start := time.Now()
	stage := func(name string) {
		if opt.Progress != nil {
			opt.Progress(name)
		}
	}
	res := &ImportResult{DryRun: opt.DryRun, Counts: counts(ds), Prov: ds.Provenance}
	stage("transform")
	srcCRS := crsName(ds)
	if err := s.Transform(ctx, ds); err != nil {
		return nil, err
	}
	whole := ds
	if !opt.Replace {
		stage("merge")
		cur, err := s.Export(ctx)
		if err != nil {
			return nil, err
		}
		cur.Pipes = mergeByID(cur.Pipes, ds.Pipes, func(p *gis.Pipe) string { return p.ID })
		cur.Valves = mergeByID(cur.Valves, ds.Valves, func(p *gis.Valve) string { return p.ID })
		cur.Sources = mergeByID(cur.Sources, ds.Sources, func(p *gis.Source) string { return p.ID })
		cur.Hydrants = mergeByID(cur.Hydrants, ds.Hydrants, func(p *gis.Hydrant) string { return p.ID })
		cur.Connections = mergeByID(cur.Connections, ds.Connections, func(p *gis.Connection) string { return p.ID })
		cur.Customers = mergeByID(cur.Customers, ds.Customers, func(p *gis.Customer) string { return p.ID })
		cur.Districts = mergeByID(cur.Districts, ds.Districts, func(p *gis.District) string { return p.ID })
		whole = cur
	}
	stage("topology")
	topo, warns := gis.Resolve(whole, gis.DefaultTolerance)
	res.Warnings = warns
	if res.Warnings == nil {
		res.Warnings = []gis.Issue{}
	}
	net := gis.NewNetwork(topo)
	res.Topology = map[string]int{
		"junctions": len(topo.NodeXY) / 2, "tees": len(topo.TeePipe),
		"pieces": net.NumPieces(), "segments": net.NumSegments(),
	}
	if opt.DryRun {
		v, err := s.Version(ctx)
		if err != nil {
			return nil, err
		}
		res.Version = v
		res.Elapsed = time.Since(start)
		return res, nil
	}
	stage("write")
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(writeLock)); err != nil {
			return err
		}
		if err := s.rewrite(ctx, tx, whole, topo); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, "UPDATE network_version SET version = version + 1, changed_at = now() RETURNING version").Scan(&res.Version); err != nil {
			return err
		}
		wj, _ := json.Marshal(res.Warnings)
		prov := ds.Provenance
		if prov == nil {
			prov = map[string]string{}
		}
		mode := "merge"
		if opt.Replace {
			mode = "replace"
		}
		if err := tx.QueryRow(ctx, `INSERT INTO imports (file, format, source_crs, mode, started_at, version, counts, warnings, provenance)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
			opt.File, opt.Format, srcCRS, mode, start, res.Version, res.Counts, string(wj), prov).Scan(&res.ID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", NotifyChannel, fmt.Sprint(res.Version))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: import %s: %w", opt.File, err)
	}
	res.Elapsed = time.Since(start)
	s.log.Info("network imported", "file", opt.File, "version", res.Version, "pipes", len(whole.Pipes), "warnings", len(res.Warnings), "elapsed", res.Elapsed)
	return res, nil
}

// rewrite replaces the network tables' contents with ds and its topology,
// inside tx (which must hold writeLock).
func (s *Store) rewrite(ctx context.Context, tx pgx.Tx, whole *gis.Dataset, topo *gis.Topology) error {
	if _, err := tx.Exec(ctx, "TRUNCATE "+strings.Join(networkTables, ", ")); err != nil {
		return err
	}
	// Spatial indexes are dropped and rebuilt around the bulk load: a
	// sorted GiST build is far faster than row-by-row insertion.
	rows, err := tx.Query(ctx, `SELECT indexname, indexdef FROM pg_indexes
		WHERE schemaname = current_schema() AND indexdef LIKE '%USING gist%'
		AND tablename = ANY($1)`, networkTables)
	if err != nil {
		return err
	}
	defs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var d [2]string
		err := r.Scan(&d[0], &d[1])
		return d, err
	})
	if err != nil {
		return err
	}
	for _, d := range defs {
		if _, err := tx.Exec(ctx, "DROP INDEX "+pgx.Identifier{d[0]}.Sanitize()); err != nil {
			return err
		}
	}
	if err := s.write(ctx, tx, whole, topo); err != nil {
		return err
	}
	for _, d := range defs {
		if _, err := tx.Exec(ctx, d[1]); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, "ANALYZE "+strings.Join(networkTables, ", ")); err != nil {
		return err
	}
	return nil
}

func nullInt(i int32) any {
	if i < 0 {
		return nil
	}
	return i
}

func zOf(z []float64) any {
	if len(z) == 0 {
		return nil
	}
	return z[0]
}

func zArr(z []float64) any {
	if len(z) == 0 {
		return nil
	}
	return z
}

func extra(m map[string]any) any {
	if len(m) == 0 {
		return nil
	}
	return m
}

func nullYear(y int) any {
	if y == 0 {
		return nil
	}
	return y
}

// tableRows is one network table's rows exactly as the writer stores
// them: row(i) is the i-th row's values in the order of cols. Both the
// full rewrite and the incremental commit build their rows here, so the two
// store the same values.
type tableRows struct {
	name string
	cols []string
	n    int
	row  func(i int) ([]any, error)
}

// tables returns the rows of every network table for ds and its topology,
// in networkTables order.
func (s *Store) tables(ds *gis.Dataset, t *gis.Topology) []tableRows {
	srid := s.srid
	return []tableRows{
		{"districts", []string{"id", "name", "manager", "geom", "extra"}, len(ds.Districts), func(i int) ([]any, error) {
			d := &ds.Districts[i]
			var g any
			if len(d.Geom) > 0 {
				b, err := multiPolygonEWKB(d.Geom, srid)
				if err != nil {
					return nil, err
				}
				g = b
			}
			return []any{d.ID, d.Name, d.Manager, g, extra(d.Extra)}, nil
		}},
		{"nodes", []string{"id", "geom"}, len(t.NodeXY) / 2, func(i int) ([]any, error) {
			b, err := pointEWKB([2]float64{t.NodeXY[2*i], t.NodeXY[2*i+1]}, srid)
			return []any{int32(i), b}, err
		}},
		{"pipes", []string{"seq", "id", "dn", "dn_inferred", "material", "role", "crossing", "status", "install_year", "district", "grade", "from_node", "to_node", "length_m", "geom", "z", "extra"}, len(ds.Pipes), func(i int) ([]any, error) {
			p := &ds.Pipes[i]
			b, err := lineEWKB(p.Geom, srid)
			if err != nil {
				return nil, err
			}
			status := p.Status
			if status == "" {
				status = gis.StatusInService
			}
			grade := s.grades.Classify(p.DN, p.Role, p.Crossing).Grade
			return []any{int32(i), p.ID, p.DN, p.DNInferred, p.Material, p.Role, p.Crossing, status, nullYear(p.InstallYear), p.District, grade,
				nullInt(t.PipeFrom[i]), nullInt(t.PipeTo[i]), t.PipeLen[i], b, zArr(p.Z), extra(p.Extra)}, nil
		}},
		{"pipe_tees", []string{"pipe_seq", "node_id", "s"}, len(t.TeePipe), func(i int) ([]any, error) {
			return []any{t.TeePipe[i], t.TeeNode[i], t.TeeS[i]}, nil
		}},
		{"valves", []string{"seq", "id", "pipe_id", "at_pipe", "s", "dn", "normally_open", "operable", "geom", "z", "extra"}, len(ds.Valves), func(i int) ([]any, error) {
			v := &ds.Valves[i]
			b, err := pointEWKB(v.Geom, srid)
			return []any{int32(i), v.ID, v.Pipe, nullInt(t.ValvePipe[i]), t.ValveS[i], v.DN, v.NormallyOpen, v.Operable, b, zOf(v.Z), extra(v.Extra)}, err
		}},
		{"sources", []string{"seq", "id", "type", "at_pipe", "s", "geom", "z", "extra"}, len(ds.Sources), func(i int) ([]any, error) {
			v := &ds.Sources[i]
			b, err := pointEWKB(v.Geom, srid)
			return []any{int32(i), v.ID, v.Type, nullInt(t.SourcePipe[i]), t.SourceS[i], b, zOf(v.Z), extra(v.Extra)}, err
		}},
		{"hydrants", []string{"seq", "id", "pipe_id", "at_pipe", "s", "geom", "z", "extra"}, len(ds.Hydrants), func(i int) ([]any, error) {
			v := &ds.Hydrants[i]
			b, err := pointEWKB(v.Geom, srid)
			return []any{int32(i), v.ID, v.Pipe, nullInt(t.HydrantPipe[i]), t.HydrantS[i], b, zOf(v.Z), extra(v.Extra)}, err
		}},
		{"connections", []string{"seq", "id", "pipe_id", "at_pipe", "s", "geom", "z", "extra"}, len(ds.Connections), func(i int) ([]any, error) {
			v := &ds.Connections[i]
			b, err := pointEWKB(v.Geom, srid)
			return []any{int32(i), v.ID, v.Pipe, nullInt(t.ConnPipe[i]), t.ConnS[i], b, zOf(v.Z), extra(v.Extra)}, err
		}},
		{"customers", []string{"seq", "id", "connection_id", "pipe_id", "at_conn", "at_pipe", "s", "pipe_level", "name", "address", "phone", "category", "critical", "households", "geom", "z", "extra"}, len(ds.Customers), func(i int) ([]any, error) {
			c := &ds.Customers[i]
			var g any
			if c.Geom != nil {
				b, err := pointEWKB(*c.Geom, srid)
				if err != nil {
					return nil, err
				}
				g = b
			}
			hh := c.Households
			if hh < 1 {
				hh = 1
			}
			return []any{int32(i), c.ID, c.Connection, c.Pipe, nullInt(t.CustConn[i]), nullInt(t.CustPipe[i]), t.CustS[i], t.CustPipeLevel[i],
				c.Name, c.Address, c.Phone, c.Category, c.Critical, hh, g, zOf(c.Z), extra(c.Extra)}, nil
		}},
	}
}

// copyRows copies the rows idx of tr (all of them when idx is nil) into
// table (tr.name unless given), calling the test hook first.
func (s *Store) copyRows(ctx context.Context, tx pgx.Tx, table string, tr tableRows, idx []int) error {
	if table == "" {
		table = tr.name
	}
	n := tr.n
	if idx != nil {
		n = len(idx)
	}
	t0 := time.Now()
	defer func() { s.log.Debug("copy", "table", table, "rows", n, "elapsed", time.Since(t0)) }()
	i := 0
	_, err := tx.CopyFrom(ctx, pgx.Identifier{table}, tr.cols, pgx.CopyFromFunc(func() ([]any, error) {
		if i >= n {
			return nil, nil
		}
		k := i
		if idx != nil {
			k = idx[i]
		}
		i++
		return tr.row(k)
	}))
	if err != nil {
		return fmt.Errorf("write %s: %w", table, err)
	}
	return nil
}

// write copies the dataset and its topology into the (empty) tables.
func (s *Store) write(ctx context.Context, tx pgx.Tx, ds *gis.Dataset, t *gis.Topology) error {
	for _, tr := range s.tables(ds, t) {
		if s.hook != nil {
			s.hook(ctx, "copy "+tr.name)
		}
		if err := s.copyRows(ctx, tx, "", tr, nil); err != nil {
			return err
		}
	}
	return nil
}
