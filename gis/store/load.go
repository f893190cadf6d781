package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/waterline-gis/waterline/gis"
)

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func zSlice(z *float64) []float64 {
	if z == nil {
		return nil
	}
	return []float64{*z}
}

func intOr0(p *int32) int {
	if p == nil {
		return 0
	}
	return int(*p)
}

// Export reads the whole stored network back as a Dataset in the storage
// CRS, features in their stored order.
func (s *Store) Export(ctx context.Context) (*gis.Dataset, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("store: export: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	return s.exportTx(ctx, tx)
}

// exportTx is Export inside tx.
func (s *Store) exportTx(ctx context.Context, tx pgx.Tx) (*gis.Dataset, error) {
	ds := &gis.Dataset{SRID: s.srid}
	var err error
	q := func(sql string, scan func(rows pgx.Rows) error) error {
		rows, err := tx.Query(ctx, sql)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	err = q(`SELECT id, name, manager, geom, extra FROM districts ORDER BY id`, func(r pgx.Rows) error {
		var d gis.District
		var g []byte
		if err := r.Scan(&d.ID, &d.Name, &d.Manager, &g, &d.Extra); err != nil {
			return err
		}
		if g != nil {
			mp, err := toMultiPolygon(g)
			if err != nil {
				return err
			}
			d.Geom = mp
		}
		ds.Districts = append(ds.Districts, d)
		return nil
	})
	if err == nil {
		err = q(`SELECT id, dn, dn_inferred, material, role, crossing, status, install_year, district, geom, z, extra FROM pipes ORDER BY seq`, func(r pgx.Rows) error {
			var p gis.Pipe
			var g []byte
			var year *int32
			if err := r.Scan(&p.ID, &p.DN, &p.DNInferred, &p.Material, &p.Role, &p.Crossing, &p.Status, &year, &p.District, &g, &p.Z, &p.Extra); err != nil {
				return err
			}
			p.InstallYear = intOr0(year)
			ls, err := toLine(g)
			if err != nil {
				return err
			}
			p.Geom = ls
			ds.Pipes = append(ds.Pipes, p)
			return nil
		})
	}
	if err == nil {
		err = q(`SELECT id, pipe_id, dn, normally_open, operable, geom, z, extra FROM valves ORDER BY seq`, func(r pgx.Rows) error {
			var v gis.Valve
			var g []byte
			var z *float64
			if err := r.Scan(&v.ID, &v.Pipe, &v.DN, &v.NormallyOpen, &v.Operable, &g, &z, &v.Extra); err != nil {
				return err
			}
			v.Z = zSlice(z)
			pt, err := toPoint(g)
			v.Geom = pt
			ds.Valves = append(ds.Valves, v)
			return err
		})
	}
	if err == nil {
		err = q(`SELECT id, type, geom, z, extra FROM sources ORDER BY seq`, func(r pgx.Rows) error {
			var v gis.Source
			var g []byte
			var z *float64
			if err := r.Scan(&v.ID, &v.Type, &g, &z, &v.Extra); err != nil {
				return err
			}
			v.Z = zSlice(z)
			pt, err := toPoint(g)
			v.Geom = pt
			ds.Sources = append(ds.Sources, v)
			return err
		})
	}
	if err == nil {
		err = q(`SELECT id, pipe_id, geom, z, extra FROM hydrants ORDER BY seq`, func(r pgx.Rows) error {
			var v gis.Hydrant
			var g []byte
			var z *float64
			if err := r.Scan(&v.ID, &v.Pipe, &g, &z, &v.Extra); err != nil {
				return err
			}
			v.Z = zSlice(z)
			pt, err := toPoint(g)
			v.Geom = pt
			ds.Hydrants = append(ds.Hydrants, v)
			return err
		})
	}
	if err == nil {
		err = q(`SELECT id, pipe_id, geom, z, extra FROM connections ORDER BY seq`, func(r pgx.Rows) error {
			var v gis.Connection
			var g []byte
			var z *float64
			if err := r.Scan(&v.ID, &v.Pipe, &g, &z, &v.Extra); err != nil {
				return err
			}
			v.Z = zSlice(z)
			pt, err := toPoint(g)
			v.Geom = pt
			ds.Connections = append(ds.Connections, v)
			return err
		})
	}
	if err == nil {
		err = q(`SELECT id, connection_id, pipe_id, name, address, phone, category, critical, households, geom, z, extra FROM customers ORDER BY seq`, func(r pgx.Rows) error {
			var c gis.Customer
			var g []byte
			var z *float64
			if err := r.Scan(&c.ID, &c.Connection, &c.Pipe, &c.Name, &c.Address, &c.Phone, &c.Category, &c.Critical, &c.Households, &g, &z, &c.Extra); err != nil {
				return err
			}
			c.Z = zSlice(z)
			if g != nil {
				pt, err := toPoint(g)
				if err != nil {
					return err
				}
				c.Geom = &pt
			}
			ds.Customers = append(ds.Customers, c)
			return nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("store: export: %w", err)
	}
	return ds, nil
}

// LoadTopology reads the stored, already-resolved topology (no spatial
// work is redone) and the network version it belongs to, in one snapshot.
func (s *Store) LoadTopology(ctx context.Context) (*gis.Topology, int64, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, 0, fmt.Errorf("store: load: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	t := &gis.Topology{SRID: s.srid, Tol: gis.DefaultTolerance}
	var version int64
	var np, nv, nc, nn int
	err = tx.QueryRow(ctx, `SELECT (SELECT version FROM network_version), (SELECT count(*) FROM pipes), (SELECT count(*) FROM valves),
		(SELECT count(*) FROM customers), (SELECT count(*) FROM nodes)`).Scan(&version, &np, &nv, &nc, &nn)
	if err != nil {
		return nil, 0, fmt.Errorf("store: load: %w", err)
	}
	t.NodeXY = make([]float64, 0, 2*nn)
	t.PipeDN = make([]int32, 0, np)
	t.PipeInService = make([]bool, 0, np)
	t.PipeFrom = make([]int32, 0, np)
	t.PipeTo = make([]int32, 0, np)
	t.PipeLen = make([]float64, 0, np)
	t.PipeOff = make([]int32, 1, np+1)
	t.PipeXY = make([]float64, 0, 8*np)
	type stmt struct {
		group int // statements of one group run in order on one connection
		sql   string
		scan  func(rows pgx.Rows) error
	}
	// The many-valued text columns are read as borrowed bytes into
	// gis.Strings columns: a million-pipe network's ids and names make a
	// handful of heap objects without a pointer per value, instead of
	// millions of strings the garbage collector would mark on every cycle
	// while plans are served.
	var pipeIDs, valveIDs, connIDs, custIDs, custNames, custCats gis.StringsBuilder
	stmts := []stmt{
		{0, `SELECT ST_X(geom), ST_Y(geom) FROM nodes ORDER BY id`, func(r pgx.Rows) error {
			var x, y float64
			err := r.Scan(&x, &y)
			t.NodeXY = append(t.NodeXY, x, y)
			return err
		}},
		{0, `SELECT id, dn, status = 'in_service', coalesce(from_node, -1), coalesce(to_node, -1), length_m, ST_AsBinary(geom) FROM pipes ORDER BY seq`, func(r pgx.Rows) error {
			var id pgtype.DriverBytes
			var dn, from, to int32
			var ins bool
			var l float64
			var g []byte
			if err := r.Scan(&id, &dn, &ins, &from, &to, &l, &g); err != nil {
				return err
			}
			pipeIDs.AddBytes(id)
			t.PipeDN = append(t.PipeDN, dn)
			t.PipeInService = append(t.PipeInService, ins)
			t.PipeFrom = append(t.PipeFrom, from)
			t.PipeTo = append(t.PipeTo, to)
			t.PipeLen = append(t.PipeLen, l)
			var err error
			t.PipeXY, err = appendLineXY(t.PipeXY, g)
			t.PipeOff = append(t.PipeOff, int32(len(t.PipeXY)/2))
			return err
		}},
		{2, `SELECT pipe_seq, node_id, s FROM pipe_tees ORDER BY pipe_seq, s`, func(r pgx.Rows) error {
			var p, n int32
			var sv float64
			err := r.Scan(&p, &n, &sv)
			t.TeePipe = append(t.TeePipe, p)
			t.TeeNode = append(t.TeeNode, n)
			t.TeeS = append(t.TeeS, sv)
			return err
		}},
		{2, `SELECT id, coalesce(at_pipe, -1), s, dn, normally_open, operable FROM valves ORDER BY seq`, func(r pgx.Rows) error {
			var id pgtype.DriverBytes
			var p, dn int32
			var sv float64
			var open, op bool
			err := r.Scan(&id, &p, &sv, &dn, &open, &op)
			valveIDs.AddBytes(id)
			t.ValvePipe = append(t.ValvePipe, p)
			t.ValveS = append(t.ValveS, sv)
			t.ValveDN = append(t.ValveDN, dn)
			t.ValveOpen = append(t.ValveOpen, open)
			t.ValveOperable = append(t.ValveOperable, op)
			return err
		}},
		{2, `SELECT id, coalesce(at_pipe, -1), s FROM sources ORDER BY seq`, func(r pgx.Rows) error {
			var id string
			var p int32
			var sv float64
			err := r.Scan(&id, &p, &sv)
			t.SourceID = append(t.SourceID, id)
			t.SourcePipe = append(t.SourcePipe, p)
			t.SourceS = append(t.SourceS, sv)
			return err
		}},
		{2, `SELECT id, coalesce(at_pipe, -1), s FROM hydrants ORDER BY seq`, func(r pgx.Rows) error {
			var id string
			var p int32
			var sv float64
			err := r.Scan(&id, &p, &sv)
			t.HydrantID = append(t.HydrantID, id)
			t.HydrantPipe = append(t.HydrantPipe, p)
			t.HydrantS = append(t.HydrantS, sv)
			return err
		}},
		{2, `SELECT id, coalesce(at_pipe, -1), s FROM connections ORDER BY seq`, func(r pgx.Rows) error {
			var id pgtype.DriverBytes
			var p int32
			var sv float64
			err := r.Scan(&id, &p, &sv)
			connIDs.AddBytes(id)
			t.ConnPipe = append(t.ConnPipe, p)
			t.ConnS = append(t.ConnS, sv)
			return err
		}},
		{1, `SELECT id, coalesce(at_conn, -1), coalesce(at_pipe, -1), s, pipe_level, households, critical, category,
			CASE WHEN critical THEN name ELSE '' END FROM customers ORDER BY seq`, func(r pgx.Rows) error {
			var id, cat, name pgtype.DriverBytes
			var conn, p, hh int32
			var sv float64
			var pl, crit bool
			err := r.Scan(&id, &conn, &p, &sv, &pl, &hh, &crit, &cat, &name)
			custIDs.AddBytes(id)
			custNames.AddBytes(name)
			t.CustConn = append(t.CustConn, conn)
			t.CustPipe = append(t.CustPipe, p)
			t.CustS = append(t.CustS, sv)
			t.CustPipeLevel = append(t.CustPipeLevel, pl)
			t.CustHouseholds = append(t.CustHouseholds, hh)
			t.CustCritical = append(t.CustCritical, crit)
			custCats.AddBytes(cat)
			return err
		}},
	}
	// The three groups run in parallel, each in its own transaction on the
	// leader's exported snapshot, so they read one consistent network while
	// PostgreSQL and the decoding use both cores.
	var snap string
	if err := tx.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&snap); err != nil {
		return nil, 0, fmt.Errorf("store: load: %w", err)
	}
	run := func(ctx context.Context, q pgx.Tx, group int) error {
		for _, st := range stmts {
			if st.group != group {
				continue
			}
			rows, err := q.Query(ctx, st.sql)
			if err != nil {
				return err
			}
			for rows.Next() {
				if err := st.scan(rows); err != nil {
					rows.Close()
					return err
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	}
	if s.pool.Config().MaxConns < 2 {
		// One connection, and tx holds it: the helpers would wait for
		// it forever, so the groups run in turn on tx.
		for g := 0; g <= 2 && err == nil; g++ {
			err = run(ctx, tx, g)
		}
	} else {
		errs := make(chan error, 2)
		for g := 1; g <= 2; g++ {
			go func(g int) {
				errs <- func() error {
					q, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
					if err != nil {
						return err
					}
					defer q.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
					if _, err := q.Exec(ctx, "SET TRANSACTION SNAPSHOT '"+snap+"'"); err != nil {
						return err
					}
					return run(ctx, q, g)
				}()
			}(g)
		}
		err = run(ctx, tx, 0)
		for g := 1; g <= 2; g++ {
			if e := <-errs; e != nil && err == nil {
				err = e
			}
		}
	}
	if err != nil {
		return nil, 0, fmt.Errorf("store: load: %w", err)
	}
	t.PipeID, t.ValveID, t.ConnID = pipeIDs.Strings(), valveIDs.Strings(), connIDs.Strings()
	t.CustID, t.CustName, t.CustCategory = custIDs.Strings(), custNames.Strings(), custCats.Strings()
	return t, version, nil
}
