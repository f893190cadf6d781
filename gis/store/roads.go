package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/paulmach/orb"
)

// RoadsChannel is the LISTEN/NOTIFY channel on which a committed road
// import is announced (payload: the new roads version). Planners need not
// listen: they compare RoadsVersion at each plan.
const RoadsChannel = "waterline_roads"

// roadsLock is the advisory lock held while the road table is written.
const roadsLock = 0x57_61_74_65_72_52

// Road is one road line to import, in the CRS of RoadImportOptions.SRID.
type Road struct {
	SourceID string // the feature's id in its file (OSM way id), may be empty
	Name     string
	Highway  string // class (OSM highway=*), may be empty
	Layer    int    // OSM layer: crossings of roads on different layers do not meet
	Geom     orb.LineString
	Feature  string // where it came from ("feature 12"), for error messages
}

// RoadImportOptions control ImportRoads.
type RoadImportOptions struct {
	File   string // the file's name, recorded and used in errors
	Format string // geojson | osm | shapefile | gpkg | …
	SRID   int    // CRS of the roads' coordinates (EPSG code)
	// Counts is recorded with the import (what the reader kept and
	// skipped, by class).
	Counts map[string]int
	// Progress, if set, is told each stage as it starts.
	Progress func(stage string)
}

// RoadImportResult reports a committed road import.
type RoadImportResult struct {
	ID        int64   `json:"id"`
	Version   int64   `json:"roads_version"`
	Roads     int     `json:"roads"`
	LengthKm  float64 `json:"length_km"`
	SourceCRS string  `json:"source_crs"`
	Elapsed   time.Duration
}

// RoadLine is a stored road in the storage CRS, as the planner loads it.
type RoadLine struct {
	Geom  orb.LineString
	Layer int
}

// ImportRoads replaces the stored road network with roads, transformed
// from EPSG:opt.SRID into the storage CRS by PostGIS (ST_Transform), in
// one transaction that bumps the roads version and announces it on
// RoadsChannel: it commits whole or changes nothing. The pipe network and
// its version are not touched. Errors: *CRSError when the CRS is unknown
// or a road does not transform to finite coordinates (naming the file and
// feature); an error naming the file and feature for a line with fewer
// than two distinct points; an error when roads is empty.
func (s *Store) ImportRoads(ctx context.Context, roads []Road, opt RoadImportOptions) (*RoadImportResult, error) {
	start := time.Now()
	stage := func(name string) {
		if opt.Progress != nil {
			opt.Progress(name)
		}
	}
	if len(roads) == 0 {
		return nil, fmt.Errorf("store: import roads %s: no road lines", opt.File)
	}
	if opt.SRID <= 0 {
		return nil, &CRSError{Msg: fmt.Sprintf("%s: the roads name no CRS; pass --crs EPSG:N", opt.File)}
	}
	var known bool
	if err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM spatial_ref_sys WHERE srid = $1)", opt.SRID).Scan(&known); err != nil {
		return nil, fmt.Errorf("store: check CRS: %w", err)
	}
	if !known {
		return nil, &CRSError{Msg: fmt.Sprintf("%s: CRS EPSG:%d is not known to PROJ/PostGIS", opt.File, opt.SRID)}
	}
	for i := range roads {
		if err := checkRoad(&roads[i]); err != nil {
			return nil, fmt.Errorf("store: import roads %s: %s: %w", opt.File, roads[i].where(i), err)
		}
	}
	res := &RoadImportResult{Roads: len(roads), SourceCRS: fmt.Sprintf("EPSG:%d", opt.SRID)}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(roadsLock)); err != nil {
			return err
		}
		stage("copy")
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE road_in (seq integer, source_id text, name text, highway text,
			layer smallint, geom geometry) ON COMMIT DROP`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"road_in"}, []string{"seq", "source_id", "name", "highway", "layer", "geom"},
			pgx.CopyFromSlice(len(roads), func(i int) ([]any, error) {
				r := &roads[i]
				b, err := lineEWKB(r.Geom, opt.SRID)
				if err != nil {
					return nil, err
				}
				return []any{int32(i), r.SourceID, r.Name, r.Highway, int16(max(-32768, min(32767, r.Layer))), b}, nil
			})); err != nil {
			return fmt.Errorf("copy roads: %w", err)
		}
		stage("transform")
		if _, err := tx.Exec(ctx, "UPDATE road_in SET geom = ST_Transform(geom, $1::int)", s.srid); err != nil {
			return err
		}
		// A CRS that does not fit the data gives infinite or NaN coordinates.
		var bad *int32
		if err := tx.QueryRow(ctx, `SELECT min(seq) FROM road_in WHERE NOT (ST_XMin(geom) > '-Infinity'::float8
			AND ST_XMax(geom) < 'Infinity'::float8 AND ST_YMin(geom) > '-Infinity'::float8 AND ST_YMax(geom) < 'Infinity'::float8)`).Scan(&bad); err != nil {
			return err
		}
		if bad != nil {
			return &CRSError{Msg: fmt.Sprintf("%s: %s does not transform from EPSG:%d to EPSG:%d; is the CRS right?",
				opt.File, roads[*bad].where(int(*bad)), opt.SRID, s.srid)}
		}
		stage("write")
		if _, err := tx.Exec(ctx, "TRUNCATE roads RESTART IDENTITY"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DROP INDEX IF EXISTS roads_geom"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO roads (source_id, name, highway, layer, geom)
			SELECT source_id, name, highway, layer, geom FROM road_in ORDER BY seq`); err != nil {
			return err
		}
		stage("index")
		if _, err := tx.Exec(ctx, "CREATE INDEX roads_geom ON roads USING gist (geom)"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "ANALYZE roads"); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, "SELECT coalesce(sum(ST_Length(geom)), 0) / 1000 FROM roads").Scan(&res.LengthKm); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, "UPDATE roads_version SET version = version + 1, changed_at = now() RETURNING version").Scan(&res.Version); err != nil {
			return err
		}
		counts := opt.Counts
		if counts == nil {
			counts = map[string]int{}
		}
		cj, _ := json.Marshal(counts)
		if err := tx.QueryRow(ctx, `INSERT INTO road_imports (file, format, source_crs, started_at, version, roads, length_km, counts)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			opt.File, opt.Format, res.SourceCRS, start, res.Version, len(roads), res.LengthKm, string(cj)).Scan(&res.ID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", RoadsChannel, fmt.Sprint(res.Version))
		return err
	})
	if err != nil {
		var ce *CRSError
		if errors.As(err, &ce) {
			return nil, err
		}
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && (pgErr.Code == "XX000" || pgErr.Code == "22023") {
			// PROJ refused the transformation.
			return nil, &CRSError{Msg: fmt.Sprintf("%s: cannot transform from EPSG:%d to EPSG:%d: %s", opt.File, opt.SRID, s.srid, pgErr.Message)}
		}
		return nil, fmt.Errorf("store: import roads %s: %w", opt.File, err)
	}
	res.Elapsed = time.Since(start)
	s.log.Info("roads imported", "file", opt.File, "roads_version", res.Version, "roads", res.Roads, "km", res.LengthKm, "elapsed", res.Elapsed)
	return res, nil
}

func (r *Road) where(i int) string {
	if r.Feature != "" {
		return r.Feature
	}
	return fmt.Sprintf("road %d", i+1)
}

// checkRoad drops repeated points and checks the coordinates are finite
// and at least two distinct points remain.
func checkRoad(r *Road) error {
	out := r.Geom[:0:0]
	for _, p := range r.Geom {
		if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) {
			return fmt.Errorf("a coordinate is not a finite number")
		}
		if len(out) > 0 && out[len(out)-1] == p {
			continue
		}
		out = append(out, p)
	}
	if len(out) < 2 {
		return fmt.Errorf("a road line needs at least two distinct points")
	}
	r.Geom = out
	return nil
}

// RoadsVersion is the current roads version (0: never imported).
func (s *Store) RoadsVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.pool.QueryRow(ctx, "SELECT version FROM roads_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("store: read roads version: %w", err)
	}
	return v, nil
}

// LoadRoads reads every stored road (storage CRS) and the roads version
// they belong to, consistently (one snapshot). A city's 300,000 road lines
// are a few tens of MB; the planner keeps them in memory per version.
func (s *Store) LoadRoads(ctx context.Context) ([]RoadLine, int64, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, 0, fmt.Errorf("store: load roads: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	var version int64
	var n int
	if err := tx.QueryRow(ctx, "SELECT (SELECT version FROM roads_version), (SELECT count(*) FROM roads)").Scan(&version, &n); err != nil {
		return nil, 0, fmt.Errorf("store: load roads: %w", err)
	}
	out := make([]RoadLine, 0, n)
	rows, err := tx.Query(ctx, "SELECT ST_AsEWKB(geom), layer FROM roads ORDER BY id")
	if err != nil {
		return nil, 0, fmt.Errorf("store: load roads: %w", err)
	}
	var b []byte
	var layer int16
	if _, err := pgx.ForEachRow(rows, []any{&b, &layer}, func() error {
		ls, err := toLine(b)
		if err != nil {
			return err
		}
		out = append(out, RoadLine{Geom: ls, Layer: int(layer)})
		return nil
	}); err != nil {
		return nil, 0, fmt.Errorf("store: load roads: %w", err)
	}
	return out, version, nil
}
