package tiles

import (
	"strconv"
	"strings"
)

// The layer table: every table the service publishes, what it shows and
// from which zoom. Table names, column expressions and conditions here are
// constants of this file; they are the only identifiers that ever reach SQL
// (a request names a layer, the name is looked up here, and an unknown name
// is ErrUnknownLayer before any SQL is built).
//
// To publish a new table add one entry to allLayers; when its rows change
// outside the network version (a repair site opens without an import), set
// volatile so its tiles are never cached under a network version. A layer
// whose geometry is not a stored, indexed column (repair sites have lon/lat
// columns; patrol routes are legs along pipes) names a derived row source
// in from: a constant subquery with a geom column in the storage CRS, an
// integer fid when fid is set, and every prop's expression; {srid} in it is
// replaced by the storage SRID and {box} by the request's filter envelope
// (in the storage CRS) so that the subquery can narrow its rows early.

// prop is one attribute of a layer: its name in the tile or the GeoJSON,
// the SQL expression over the table's columns, and its TileJSON field type.
type prop struct {
	name string
	expr string
	typ  string // "String" | "Number" | "Boolean" (TileJSON vector_layers fields)
}

// thinStep: below zoom Below, only rows with dn >= MinDN are drawn.
type thinStep struct {
	Below int
	MinDN int
}

// PipeThinning is the low-zoom thinning of the pipes layer: the first step
// whose Below is above the zoom applies (so z10 and below draw the
// transmission mains, DN ≥ 600; z11 the supply mains too, DN ≥ 300; z12 and
// up every pipe). Unknown DN (0) counts as small. A z10 tile spans about
// 30 km: in a city of a million pipes it holds some 16,000 of DN ≥ 300
// (110–150 ms to render), about 1,000 of DN ≥ 600.
var PipeThinning = []thinStep{
	{Below: 11, MinDN: 600},
	{Below: 12, MinDN: 300},
}

// layer describes one published table.
type layer struct {
	name     string // layer and collection name; the MVT layer (source-layer) name
	table    string // SQL identifier (constant)
	geomType string // "Point" | "LineString" | "Polygon", for TileJSON
	minZoom  int    // no rows in tiles below this zoom
	fid      string // integer column used as the MVT feature id; "" = none
	props    []prop // in tiles and in GeoJSON
	more     []prop // in GeoJSON only (too detailed for tiles)
	thin     []thinStep
	where    string // extra constant SQL condition; "" = none
	volatile bool   // rows change outside network versions: tiles are not cached
	// from is a derived row source (see above); "" reads table directly.
	// Derived layers take no part in the data extent.
	from string
	desc string
}

// source returns the FROM item of the layer's rows: the table, or the
// derived subquery with {srid} and {box} filled in.
func (l *layer) source(srid int, box string) string {
	if l.from == "" {
		return l.table
	}
	r := strings.NewReplacer("{srid}", strconv.Itoa(srid), "{box}", box)
	return "(" + r.Replace(l.from) + ") AS " + l.table
}

func (l *layer) minDN(z int) int {
	for _, t := range l.thin {
		if z < t.Below {
			return t.MinDN
		}
	}
	return 0
}

var allLayers = []*layer{
	{
		name: "pipes", table: "pipes", geomType: "LineString", fid: "seq",
		desc: "pipes; below z12 only DN ≥ 300, below z11 only DN ≥ 600",
		props: []prop{
			{"id", "id", "String"}, {"dn", "dn", "Number"}, {"grade", "grade", "String"},
			{"status", "status", "String"}, {"crossing", "crossing", "String"},
			{"material", "material", "String"}, {"district", "district", "String"},
		},
		more: []prop{
			{"role", "role", "String"}, {"install_year", "install_year", "Number"},
			{"length_m", "round(length_m::numeric, 2)", "Number"}, {"dn_inferred", "dn_inferred", "Boolean"},
		},
		thin: PipeThinning,
	},
	{
		name: "valves", table: "valves", geomType: "Point", fid: "seq", minZoom: 14,
		desc: "isolation valves, from z14",
		props: []prop{
			{"id", "id", "String"}, {"dn", "dn", "Number"},
			{"normally_open", "normally_open", "Boolean"}, {"operable", "operable", "Boolean"},
		},
		more: []prop{{"pipe", "pipe_id", "String"}},
	},
	{
		name: "hydrants", table: "hydrants", geomType: "Point", fid: "seq", minZoom: 13,
		desc:  "fire hydrants, from z13",
		props: []prop{{"id", "id", "String"}},
		more:  []prop{{"pipe", "pipe_id", "String"}},
	},
	{
		name: "connections", table: "connections", geomType: "Point", fid: "seq", minZoom: 16,
		desc:  "service connections, from z16",
		props: []prop{{"id", "id", "String"}},
		more:  []prop{{"pipe", "pipe_id", "String"}},
	},
	{
		name: "sources", table: "sources", geomType: "Point", fid: "seq",
		desc:  "sources: plants, reservoirs, tanks, boosters, wells",
		props: []prop{{"id", "id", "String"}, {"type", "type", "String"}},
	},
	{
		name: "districts", table: "districts", geomType: "Polygon",
		desc:  "patrol/management districts",
		props: []prop{{"id", "id", "String"}, {"name", "name", "String"}},
		more:  []prop{{"manager", "manager", "String"}},
	},
	{
		// Open repair jobs at their leak (or work site), from the jobs
		// table: changes with every job opened or closed, so never cached.
		// Deadlines are not stored (repair recomputes them): the map asks
		// the repair API which sites are late and marks them by feature id
		// (the job id).
		name: "repair_sites", table: "repair_sites", geomType: "Point", fid: "fid", volatile: true,
		desc: "open repair jobs and planned shutoffs at their leak or work site (not cached)",
		props: []prop{
			{"id", "id", "Number"}, {"kind", "kind", "String"}, {"district", "district", "String"},
			{"pipe", "pipe", "String"}, {"dn", "dn", "Number"}, {"holding", "holding", "Boolean"},
		},
		more: []prop{{"ordered_at", "ordered_at", "String"}, {"planned_start", "planned_start", "String"}},
		from: `SELECT id AS fid, id, kind, district, pipe_id AS pipe, leak_dn AS dn, holding,
	to_char(ordered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS ordered_at,
	to_char(planned_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS planned_start,
	ST_Transform(ST_SetSRID(ST_MakePoint(lon, lat), 4326), {srid}) AS geom
FROM repair_jobs WHERE status = 'open' AND lon IS NOT NULL AND lat IS NOT NULL`,
	},
	{
		// The stored patrol routes of yesterday, today and later days, one
		// feature per leg, drawn in walking order (a leg walked against its
		// pipe is reversed): kind patrol | walk | offnet, seq its place in
		// the route. The client filters on date. Only routes of districts
		// whose polygon meets the tile (or that have none) are unrolled, and
		// only their legs on pipes in the tile are cut out of the pipes.
		name: "patrol_routes", table: "patrol_routes", geomType: "LineString", fid: "fid", volatile: true, minZoom: 10,
		desc: "patrol routes of recent and coming days, one feature per leg in walking order (not cached)",
		props: []prop{
			{"id", "id", "String"}, {"route", "route", "Number"}, {"date", "date", "String"},
			{"district", "district", "String"}, {"idx", "idx", "Number"}, {"of", "of", "Number"},
			{"manager", "manager", "String"}, {"seq", "seq", "Number"}, {"kind", "kind", "String"},
			{"pipe", "pipe", "String"},
		},
		from: patrolLegs,
	},
}

// patrolLegs unrolls the legs of the stored routes (see migrations
// 0003_patrol.sql: leg_from/leg_to are distances along the pipe, or the
// x/y of an off-network leg's start, which ends where the next leg starts
// or at the route's start; migration 0008: a road leg's line is the n-th
// of leg_roads). Legs along pipes, along roads and off the network are
// three branches, so that the first finds its pipes through the pipes'
// spatial index ({box}) instead of joining every pipe.
const patrolLegs = `WITH legs AS (
	SELECT r.id AS route, to_char(r.plan_date, 'YYYY-MM-DD') AS date, r.district, r.idx, r.of, r.manager,
		l.pipe, l.f, l.t, l.i::integer AS seq, substr(r.leg_kind, l.i::integer, 1) AS k,
		CASE WHEN substr(r.leg_kind, l.i::integer, 1) = 'O' THEN
			CASE
			WHEN l.i = cardinality(r.leg_pipe) THEN r.start
			WHEN substr(r.leg_kind, l.i::integer + 1, 1) IN ('O', 'R') THEN ST_SetSRID(ST_MakePoint(r.leg_from[l.i + 1], r.leg_to[l.i + 1]), {srid})
			ELSE (SELECT ST_LineInterpolatePoint(q.geom, LEAST(1, GREATEST(0, r.leg_from[l.i + 1] / NULLIF(ST_Length(q.geom), 0))))
				FROM pipes q WHERE q.id = r.leg_pipe[l.i + 1])
			END
		END AS b,
		CASE WHEN substr(r.leg_kind, l.i::integer, 1) = 'R' THEN
			ST_GeometryN(r.leg_roads, l.i::integer - length(replace(substr(r.leg_kind, 1, l.i::integer), 'R', '')))
		END AS road
	FROM patrol_routes r
	CROSS JOIN LATERAL unnest(r.leg_pipe, r.leg_from, r.leg_to) WITH ORDINALITY AS l(pipe, f, t, i)
	WHERE r.plan_date >= current_date - 1
		AND (r.district IN (SELECT id FROM districts WHERE geom && {box})
			OR NOT EXISTS (SELECT 1 FROM districts d WHERE d.id = r.district AND d.geom IS NOT NULL))
)
SELECT (route * 1000000 + seq)::bigint AS fid, route || '-' || seq AS id, route, date, district, idx, of, manager, seq,
	CASE k WHEN 'P' THEN 'patrol' WHEN 'W' THEN 'walk' WHEN 'R' THEN 'road' ELSE 'offnet' END AS kind, pipe, geom
FROM (
	SELECT legs.*, CASE
		WHEN ST_Length(p.geom) = 0 THEN NULL
		WHEN legs.f <= legs.t THEN ST_LineSubstring(p.geom, LEAST(1, GREATEST(0, legs.f / ST_Length(p.geom))), LEAST(1, GREATEST(0, legs.t / ST_Length(p.geom))))
		ELSE ST_Reverse(ST_LineSubstring(p.geom, LEAST(1, GREATEST(0, legs.t / ST_Length(p.geom))), LEAST(1, GREATEST(0, legs.f / ST_Length(p.geom)))))
		END AS geom
	FROM legs JOIN pipes p ON p.id = legs.pipe
	WHERE legs.k <> 'O' AND p.geom && {box}
	UNION ALL
	SELECT legs.*, legs.road AS geom FROM legs WHERE legs.k = 'R' AND legs.road && {box}
	UNION ALL
	SELECT legs.*, ST_MakeLine(ST_SetSRID(ST_MakePoint(legs.f, legs.t), {srid}), legs.b) AS geom
	FROM legs WHERE legs.k = 'O'
) u`

// composites are tile layers made of several layers in one tile, fetched in
// one round trip: the map's network source.
var composites = map[string][]string{
	"network": {"pipes", "valves", "hydrants", "sources"},
}

// MaxDetailZoom is the zoom from which tiles gain no detail (every layer is
// present); TileJSON advertises it as maxzoom so clients overzoom past it.
const MaxDetailZoom = 16

// MaxZoom is the highest zoom served.
const MaxZoom = 22

// Tile geometry: MVT extent and buffer (in tile units), and the margin of
// the row filter that matches the buffer.
const (
	extent = 4096
	buffer = 256
	margin = float64(buffer) / extent
)
