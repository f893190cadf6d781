package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/waterline-gis/waterline/gis"
)

// Snap finds the in-service pipe nearest to the point (x, y) given in
// EPSG:srid, within tol metres; ties go to the smallest id. It returns the
// pipe's id, the distance along it of the point's projection and the
// distance from the point. No pipe within tol → *gis.Error NotFound.
func (s *Store) Snap(ctx context.Context, x, y float64, srid int, tol float64) (id string, along, dist float64, err error) {
	err = s.pool.QueryRow(ctx, `
		WITH p AS (SELECT ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), $3::int), $4::int) AS g)
		SELECT id, ST_LineLocatePoint(pipes.geom, p.g) * length_m, ST_Distance(pipes.geom, p.g)
		FROM pipes, p
		WHERE status = 'in_service' AND ST_DWithin(pipes.geom, p.g, $5)
		ORDER BY ST_Distance(pipes.geom, p.g), id
		LIMIT 1`, x, y, srid, s.srid, tol).Scan(&id, &along, &dist)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", 0, 0, gis.Errorf(gis.NotFound, "point.no_pipe", "no in-service pipe within %g m of the point (%g, %g)", tol, x, y)
	}
	if err != nil {
		return "", 0, 0, fmt.Errorf("store: snap: %w", err)
	}
	return id, along, dist, nil
}

// ToLonLat transforms storage-CRS coordinates to WGS84 longitude/latitude.
func (s *Store) ToLonLat(ctx context.Context, xs, ys []float64) ([]float64, []float64, error) {
	if len(xs) == 0 {
		return nil, nil, nil
	}
	lon, lat, err := s.transformXY(ctx, xs, ys, s.srid, "", 4326)
	if err != nil {
		return nil, nil, fmt.Errorf("store: to lon/lat: %w", err)
	}
	return lon, lat, nil
}

// CustomerInfo is a customer's contact record.
type CustomerInfo struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Address    string `json:"address"`
	Phone      string `json:"phone"`
	Category   string `json:"category"`
	Critical   bool   `json:"critical"`
	Households int    `json:"households"`
}

// Customers returns the contact records of the given customers, in the
// order of ids (unknown ids are left out).
func (s *Store) Customers(ctx context.Context, ids []string) ([]CustomerInfo, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.id, c.name, c.address, c.phone, c.category, c.critical, c.households
		FROM unnest($1::text[]) WITH ORDINALITY AS u(id, i) JOIN customers c ON c.id = u.id ORDER BY u.i`, ids)
	if err != nil {
		return nil, fmt.Errorf("store: customers: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CustomerInfo, error) {
		var c CustomerInfo
		err := r.Scan(&c.ID, &c.Name, &c.Address, &c.Phone, &c.Category, &c.Critical, &c.Households)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: customers: %w", err)
	}
	return out, nil
}

// Info is a summary of the stored network.
type Info struct {
	Version int64          `json:"version"`
	SRID    int            `json:"srid"`
	BBox    []float64      `json:"bbox"` // lon/lat: minLon, minLat, maxLon, maxLat; empty when there are no pipes
	Counts  map[string]int `json:"counts"`
	Grades  map[string]int `json:"pipes_by_grade"`
}

// Info summarises the stored network. The summary is computed once per
// network version (every committed change bumps it); callers must not
// modify the returned value.
func (s *Store) Info(ctx context.Context) (*Info, error) {
	var version int64
	if err := s.pool.QueryRow(ctx, "SELECT version FROM network_version").Scan(&version); err != nil {
		return nil, fmt.Errorf("store: info: %w", err)
	}
	s.info.Lock()
	cached := s.info.v
	s.info.Unlock()
	if cached != nil && cached.Version == version {
		return cached, nil
	}
	in, err := s.computeInfo(ctx)
	if err != nil {
		return nil, err
	}
	s.info.Lock()
	if s.info.v == nil || s.info.v.Version <= in.Version {
		s.info.v = in
	}
	s.info.Unlock()
	return in, nil
}

func (s *Store) computeInfo(ctx context.Context) (*Info, error) {
	in := &Info{SRID: s.srid, Counts: map[string]int{}, Grades: map[string]int{}}
	var minx, miny, maxx, maxy *float64
	var np, nv, ns, nh, nc, nk, nd int
	err := s.pool.QueryRow(ctx, `SELECT (SELECT version FROM network_version),
		ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e),
		(SELECT count(*) FROM pipes), (SELECT count(*) FROM valves), (SELECT count(*) FROM sources),
		(SELECT count(*) FROM hydrants), (SELECT count(*) FROM connections), (SELECT count(*) FROM customers),
		(SELECT count(*) FROM districts)
		FROM (SELECT ST_Transform(ST_SetSRID(ST_Extent(geom)::geometry, $1::int), 4326) AS e FROM pipes) x`, s.srid).
		Scan(&in.Version, &minx, &miny, &maxx, &maxy, &np, &nv, &ns, &nh, &nc, &nk, &nd)
	if err != nil {
		return nil, fmt.Errorf("store: info: %w", err)
	}
	in.Counts = map[string]int{"pipes": np, "valves": nv, "sources": ns, "hydrants": nh, "connections": nc, "customers": nk, "districts": nd}
	in.BBox = []float64{}
	if minx != nil {
		in.BBox = []float64{*minx, *miny, *maxx, *maxy}
	}
	rows, err := s.pool.Query(ctx, "SELECT grade, count(*) FROM pipes WHERE status = 'in_service' GROUP BY grade")
	if err != nil {
		return nil, fmt.Errorf("store: info: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var g string
		var c int
		if err := rows.Scan(&g, &c); err != nil {
			return nil, err
		}
		in.Grades[g] = c
	}
	return in, rows.Err()
}

// PipeFilter selects pipes; empty fields match everything.
type PipeFilter struct {
	Grade    string // patrol grade as classified at import ("special", "1", ...)
	District string
	Crossing bool // only river and railway crossings
}

// PipeIDs returns the ids of the in-service pipes matching f, in id order.
func (s *Store) PipeIDs(ctx context.Context, f PipeFilter) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM pipes
		WHERE status = 'in_service' AND ($1 = '' OR grade = $1) AND ($2 = '' OR district = $2)
		AND (NOT $3 OR crossing IN ('river', 'railway')) ORDER BY id`, f.Grade, f.District, f.Crossing)
	if err != nil {
		return nil, fmt.Errorf("store: pipes: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: pipes: %w", err)
	}
	return ids, nil
}

// LonLatGrid builds the storage-CRS → lon/lat interpolation grid for the
// stored network's extent (with a margin), from one PostGIS transformation
// of its control points. Cells are at most cell metres; nil when the
// network is empty.
func (s *Store) LonLatGrid(ctx context.Context, cell float64) (*gis.LonLatGrid, error) {
	var minx, miny, maxx, maxy *float64
	if err := s.pool.QueryRow(ctx, `SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) AS e FROM pipes) x`).
		Scan(&minx, &miny, &maxx, &maxy); err != nil {
		return nil, fmt.Errorf("store: extent: %w", err)
	}
	if minx == nil {
		return nil, nil
	}
	const margin = 2000.0
	x0, y0, x1, y1 := *minx-margin, *miny-margin, *maxx+margin, *maxy+margin
	nx := max(1, min(512, int((x1-x0)/cell)+1))
	ny := max(1, min(512, int((y1-y0)/cell)+1))
	xs, ys, dx, dy := gis.GridPoints(x0, y0, x1, y1, nx, ny)
	lon, lat, err := s.ToLonLat(ctx, xs, ys)
	if err != nil {
		return nil, err
	}
	return &gis.LonLatGrid{MinX: x0, MinY: y0, DX: dx, DY: dy, NX: nx, NY: ny, Lon: lon, Lat: lat}, nil
}
