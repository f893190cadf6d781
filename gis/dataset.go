// Package gis owns the water network: the interchange model (Dataset), its
// topology (pipes cut into pieces at valves, joined at junctions and tees),
// the immutable in-memory Network that answers isolation questions, and the
// rules that classify pipes into patrol grades.
//
// Coordinates in a Dataset are planar, in the CRS named by Dataset.SRID;
// lengths and tolerances are in that CRS's units (metres for every CRS the
// service stores in).
package gis

import (
	"fmt"

	"github.com/paulmach/orb"
)

// Feature kinds of the Network GeoJSON format (docs: network-geojson.md).
const (
	KindPipe       = "pipe"
	KindValve      = "valve"
	KindSource     = "source"
	KindHydrant    = "hydrant"
	KindConnection = "connection"
	KindCustomer   = "customer"
	KindDistrict   = "district"
)

// Pipe status values. Only StatusInService pipes carry water.
const (
	StatusInService = "in_service"
	StatusAbandoned = "abandoned"
	StatusPlanned   = "planned"
)

// Ref locates a feature in its source file so that errors can name it.
type Ref struct {
	File  string // file name as given by the user
	Index int    // 0-based feature index in a GeoJSON file, -1 when not applicable
	Line  int    // 1-based line in a text file, 0 when not applicable
}

// String renders the reference as "file: feature 12" or "file:34".
func (r Ref) String() string {
	switch {
	case r.Line > 0:
		return fmt.Sprintf("%s:%d", r.File, r.Line)
	case r.Index >= 0:
		return fmt.Sprintf("%s: feature %d", r.File, r.Index)
	default:
		return r.File
	}
}

// Pipe is a pipe as delivered: a polyline with attributes. Topology (junctions,
// tees, valve positions) is derived by Build.
type Pipe struct {
	ID          string
	DN          int // nominal diameter in mm; 0 = unknown
	DNInferred  bool
	Material    string
	Role        string // transmission | booster_main | distribution | service
	Crossing    string // "" | river | railway
	Status      string // in_service | abandoned | planned
	InstallYear int    // 0 = unknown
	District    string
	Geom        orb.LineString
	Z           []float64      // elevation per vertex; nil when the source has none
	Extra       map[string]any // other properties, kept for export
	Src         Ref
}

// Valve is an isolation (shut-off) valve.
type Valve struct {
	ID           string
	Pipe         string // pipe it sits on; "" = nearest in-service pipe within tolerance
	DN           int
	NormallyOpen bool
	Operable     bool
	Geom         orb.Point
	Z            []float64 // nil or one value
	Extra        map[string]any
	Src          Ref
}

// Source is where water enters the network (plant, reservoir, tank, booster, well).
type Source struct {
	ID    string
	Type  string
	Geom  orb.Point
	Z     []float64
	Extra map[string]any
	Src   Ref
}

// Hydrant is a fire hydrant on a pipe.
type Hydrant struct {
	ID    string
	Pipe  string
	Geom  orb.Point
	Z     []float64
	Extra map[string]any
	Src   Ref
}

// Connection is a service connection (tap) on a main.
type Connection struct {
	ID    string
	Pipe  string
	Geom  orb.Point
	Z     []float64
	Extra map[string]any
	Src   Ref
}

// Customer is a supplied customer (account/meter).
type Customer struct {
	ID         string
	Connection string     // the connection that supplies it, if any
	Pipe       string     // the pipe that supplies it, if no connection
	Geom       *orb.Point // nil when the feature has null geometry
	Z          []float64  // nil or one value
	Name       string
	Address    string
	Phone      string
	Category   string // residential | commercial | industrial | hospital | thermal_power | school | vip | other
	Critical   bool
	Households int // >= 1
	Extra      map[string]any
	Src        Ref
}

// District is a patrol/management district.
type District struct {
	ID      string
	Name    string
	Manager string
	Geom    orb.MultiPolygon
	Extra   map[string]any
	Src     Ref
}

// Dataset is a whole network or a piece of one, as read from a file or from
// the store, before topology is built. It is plain data: not safe for
// concurrent mutation.
type Dataset struct {
	Name string
	SRID int // EPSG code of the coordinates; 0 = not known (see Proj)
	// Proj is a PROJ definition of the coordinates' CRS, used when SRID is 0
	// (e.g. a local plane placed at a given origin). Both empty = unknown.
	Proj        string
	Pipes       []Pipe
	Valves      []Valve
	Sources     []Source
	Hydrants    []Hydrant
	Connections []Connection
	Customers   []Customer
	Districts   []District
	// Provenance records how the data was made (e.g. generated valves).
	Provenance map[string]string
}

// Issue is one finding of a reader or validator. Code is stable and
// machine-readable (e.g. "geometry.too_few_points"); Msg says what is wrong
// and Fix what to do about it.
type Issue struct {
	Code    string `json:"code"`
	Where   string `json:"where"`
	Feature string `json:"feature,omitempty"` // kind:id when known
	Msg     string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

func (i Issue) String() string {
	s := i.Where + ": " + i.Code + ": " + i.Msg
	if i.Feature != "" {
		s = i.Where + " (" + i.Feature + "): " + i.Code + ": " + i.Msg
	}
	if i.Fix != "" {
		s += " (fix: " + i.Fix + ")"
	}
	return s
}

// InvalidError is returned when input is rejected; it carries every error
// found (not only the first), so a user can fix a file in one pass.
type InvalidError struct {
	Issues []Issue
}

func (e *InvalidError) Error() string {
	if len(e.Issues) == 0 {
		return "gis: invalid input"
	}
	if len(e.Issues) == 1 {
		return "gis: " + e.Issues[0].String()
	}
	return fmt.Sprintf("gis: %s (and %d more errors)", e.Issues[0].String(), len(e.Issues)-1)
}
