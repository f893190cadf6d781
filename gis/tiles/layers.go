package tiles

// The layer table: every table the service publishes, what it shows and
// from which zoom. Table names, column expressions and conditions here are
// constants of this file; they are the only identifiers that ever reach SQL
// (a request names a layer, the name is looked up here, and an unknown name
// is ErrUnknownLayer before any SQL is built).
//
// To publish a new table (repair_sites, patrol_routes, …) add one entry to
// allLayers; when its rows change outside the network version (a repair
// site opens without an import), set volatile so its tiles are never cached
// under a network version.

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
// whose Below is above the zoom applies (so z9 draws DN ≥ 600, z11 DN ≥ 300,
// z12 and up every pipe). Unknown DN (0) counts as small.
var PipeThinning = []thinStep{
	{Below: 10, MinDN: 600},
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
	desc     string
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
		desc: "pipes; below z12 only DN ≥ 300, below z10 only DN ≥ 600",
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
}

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
