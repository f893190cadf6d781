package tiles

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Features returns the features of a collection (a layer of Layers) as a
// GeoJSON FeatureCollection in EPSG:4326, OGC API Features style: each
// feature's "id" is its id, "numberReturned" counts them. bbox, when not
// nil, is minLon, minLat, maxLon, maxLat: only features whose bounding box
// meets it are returned. At most limit features are returned, ordered by id
// (limit <= 0 means DefaultLimit; it is capped at MaxLimit).
//
// Errors: ErrUnknownLayer, ErrOutOfRange (a bbox that is not a lon/lat box),
// the context's error, or a database error.
func (s *Service) Features(ctx context.Context, collection string, bbox *[4]float64, limit int) ([]byte, error) {
	l, ok := s.layers[collection]
	if !ok {
		return nil, fmt.Errorf("%w: collection %q (known: %s)", ErrUnknownLayer, collection, strings.Join(s.Layers(), ", "))
	}
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	var box [4]float64
	if bbox != nil {
		box = *bbox
		for _, v := range box {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%w: bbox %v has a value that is not a number", ErrOutOfRange, box)
			}
		}
		if box[0] > box[2] || box[1] > box[3] || box[0] < -180 || box[2] > 180 || box[1] < -90 || box[3] > 90 {
			return nil, fmt.Errorf("%w: bbox %v must be minLon, minLat, maxLon, maxLat within WGS84 bounds", ErrOutOfRange, box)
		}
		v, err := s.currentVersion(ctx)
		if err != nil {
			return nil, err
		}
		ext, err := s.extent(ctx, v)
		if err != nil {
			return nil, err
		}
		// Clip the box to the data so that it transforms into the storage
		// CRS; a box outside it has nothing in it.
		var meets bool
		if ext.ok {
			box, meets = intersect(box, ext.lonlat)
		}
		if !meets {
			return []byte(`{"type":"FeatureCollection","numberReturned":0,"features":[]}`), nil
		}
	}
	q, args := featuresQuery(l, bbox != nil, box, limit, s.srid)
	var out string
	if err := s.queryRow(ctx, q, args, &out); err != nil {
		return nil, fmt.Errorf("tiles: features of %s: %w", collection, err)
	}
	return []byte(out), nil
}

func (s *Service) currentVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.pool.QueryRow(ctx, "SELECT version FROM network_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("tiles: network version: %w", err)
	}
	return v, nil
}

// featuresQuery builds the query of a feature collection. Parameters: $1
// the limit, then with a bbox $2 … $5 the box, $6 the segment length that
// lets its edges bend in the storage CRS, $7 the storage SRID.
func featuresQuery(l *layer, withBox bool, box [4]float64, limit, srid int) (string, []any) {
	args := []any{limit}
	var props []string
	inner := []string{"geom"}
	for _, p := range append(append([]prop(nil), l.props...), l.more...) {
		inner = append(inner, p.expr+" AS "+p.name)
		if p.name != "id" {
			props = append(props, "'"+p.name+"', t."+p.name)
		}
	}
	var where string
	// Without a bbox a derived layer's {box} is the whole plane.
	env := "ST_MakeEnvelope(-1e12, -1e12, 1e12, 1e12, " + strconv.Itoa(srid) + ")"
	if withBox {
		args = append(args, box[0], box[1], box[2], box[3], math.Max(box[2]-box[0], box[3]-box[1])/16+1e-9, srid)
		env = "ST_Transform(ST_Segmentize(ST_MakeEnvelope($2, $3, $4, $5, 4326), $6::float8), $7::integer)"
		where = " WHERE geom && " + env
	}
	q := `SELECT json_build_object('type', 'FeatureCollection', 'numberReturned', count(*),
	'features', COALESCE(json_agg(json_build_object('type', 'Feature', 'id', t.id,
		'geometry', ST_AsGeoJSON(ST_Transform(t.geom, 4326), 7)::json,
		'properties', json_build_object(` + strings.Join(props, ", ") + `)) ORDER BY t.id), '[]'::json))::text
FROM (SELECT ` + strings.Join(inner, ", ") + ` FROM ` + l.source(srid, env) + where + ` ORDER BY id LIMIT $1) t`
	return q, args
}
