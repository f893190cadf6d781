package tiles

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/waterline-gis/waterline/gis"
)

// Search limits.
const (
	DefaultSearchLimit = 10
	MaxSearchLimit     = 50
	MaxSearchQuery     = 100 // characters
)

// SearchResult is one hit of Search: a pipe, valve or hydrant by its id,
// an address of the customers' (the customers themselves are not shown:
// their names and phones are not the map's to give), or a district by id
// or name. Pipe and At name the place on the network a dispatcher plans a
// shutoff for: the pipe itself (its middle), the pipe a valve or hydrant
// sits on, the pipe that serves the address.
type SearchResult struct {
	Kind  string      `json:"kind"` // pipe | valve | hydrant | address | district
	ID    string      `json:"id"`   // the feature's id; the address itself for an address
	Label string      `json:"label"`
	Pipe  string      `json:"pipe,omitempty"`
	At    *float64    `json:"at,omitempty"` // fraction along Pipe, [0, 1]
	Lon   float64     `json:"lon"`
	Lat   float64     `json:"lat"`
	BBox  *[4]float64 `json:"bbox,omitempty"` // lon/lat box of a pipe or district
	// Count: how many customers share an address.
	Count int `json:"count,omitempty"`
}

// likeEscape escapes the LIKE wildcards of s (the escape character is \).
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Search finds what a dispatcher typed: ids (exact first, then by prefix,
// case-insensitive) of pipes, valves and hydrants, customer addresses and
// district names containing q. At most limit results (limit <= 0:
// DefaultSearchLimit; at most MaxSearchLimit), exact id matches first.
// Positions are lon/lat.
//
// Errors: *gis.Error Invalid "search.bad_query" for an empty or overlong
// query, the context's error, or a database error.
func (s *Service) Search(ctx context.Context, q string, limit int) ([]SearchResult, error) {
	q = strings.TrimSpace(q)
	if q == "" || !utf8.ValidString(q) || utf8.RuneCountInString(q) > MaxSearchQuery || strings.ContainsRune(q, 0) {
		return nil, gis.Errorf(gis.Invalid, "search.bad_query", "give q, 1 to %d characters: a pipe, valve or hydrant id, an address or a district", MaxSearchQuery)
	}
	if limit <= 0 {
		limit = DefaultSearchLimit
	}
	limit = min(limit, MaxSearchLimit)
	prefix := likeEscape(q) + "%"
	inside := "%" + likeEscape(q) + "%"
	// One statement, one round trip; each branch is bounded by the limit.
	// rank: 0 exact id, 1 id prefix, 2 address, 3 district.
	const pt = `ST_Transform(%s, 4326)`
	sql := `WITH hits AS (
	(SELECT 0 AS rank, 'pipe' AS kind, id, 'DN' || dn AS label, id AS pipe, 0.5::float8 AS at, ST_LineInterpolatePoint(geom, 0.5) AS p, geom AS g, 0 AS n
		FROM pipes WHERE id = $1)
	UNION ALL
	(SELECT 1, 'pipe', id, 'DN' || dn, id, 0.5, ST_LineInterpolatePoint(geom, 0.5), geom, 0
		FROM pipes WHERE id ILIKE $2 AND id <> $1 ORDER BY id LIMIT $4)
	UNION ALL
	(SELECT CASE WHEN v.id = $1 THEN 0 ELSE 1 END, 'valve', v.id, 'DN' || v.dn, p.id,
		CASE WHEN p.length_m > 0 THEN LEAST(1, GREATEST(0, v.s / p.length_m)) END, v.geom, NULL::geometry, 0
		FROM valves v LEFT JOIN pipes p ON p.seq = v.at_pipe
		WHERE v.id = $1 OR v.id ILIKE $2 ORDER BY v.id <> $1, v.id LIMIT $4)
	UNION ALL
	(SELECT CASE WHEN h.id = $1 THEN 0 ELSE 1 END, 'hydrant', h.id, '', p.id,
		CASE WHEN p.length_m > 0 THEN LEAST(1, GREATEST(0, h.s / p.length_m)) END, h.geom, NULL::geometry, 0
		FROM hydrants h LEFT JOIN pipes p ON p.seq = h.at_pipe
		WHERE h.id = $1 OR h.id ILIKE $2 ORDER BY h.id <> $1, h.id LIMIT $4)
	UNION ALL
	(SELECT 2, 'address', a.address, a.address, p.id,
		CASE WHEN p.length_m > 0 THEN LEAST(1, GREATEST(0, a.s / p.length_m)) END,
		COALESCE(a.geom, c.geom, ST_LineInterpolatePoint(p.geom, CASE WHEN p.length_m > 0 THEN LEAST(1, GREATEST(0, a.s / p.length_m)) ELSE 0.5 END)),
		NULL::geometry, a.n
		FROM (SELECT DISTINCT ON (address) address, geom, at_conn, at_pipe, s, count(*) OVER (PARTITION BY address) AS n
			FROM customers WHERE address ILIKE $3 ORDER BY address, seq) a
		LEFT JOIN connections c ON c.seq = a.at_conn
		LEFT JOIN pipes p ON p.seq = a.at_pipe
		ORDER BY length(a.address), a.address LIMIT $4)
	UNION ALL
	(SELECT 3, 'district', id, name, NULL, NULL, ST_PointOnSurface(geom), geom, 0
		FROM districts WHERE (id ILIKE $2 OR name ILIKE $3) AND geom IS NOT NULL ORDER BY id LIMIT $4)
)
SELECT COALESCE(json_agg(json_build_object('kind', kind, 'id', id, 'label', label, 'pipe', pipe, 'at', at,
	'lon', ST_X(` + fmt.Sprintf(pt, "p") + `), 'lat', ST_Y(` + fmt.Sprintf(pt, "p") + `),
	'bbox', CASE WHEN g IS NOT NULL THEN json_build_array(ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)) END, 'count', n)
	ORDER BY rank, kind <> 'pipe', id), '[]'::json)::text
FROM (SELECT *, ` + fmt.Sprintf(pt, "g") + `::box2d AS b FROM hits WHERE p IS NOT NULL ORDER BY rank, kind <> 'pipe', id LIMIT $4) t`
	var out string
	if err := s.queryRow(ctx, sql, []any{q, prefix, inside, limit}, &out); err != nil {
		return nil, fmt.Errorf("tiles: search: %w", err)
	}
	var res []SearchResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		return nil, fmt.Errorf("tiles: search: %w", err)
	}
	for i := range res {
		if res[i].Label == "DN0" {
			res[i].Label = ""
		}
	}
	return res, nil
}
