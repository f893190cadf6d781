// Package epanet reads an EPANET input file (.inp) into a gis.Dataset.
//
// EPANET models a network for hydraulics: nodes (junctions, reservoirs,
// tanks) joined by links (pipes, pumps, control valves). The reader maps it
// onto the Network GeoJSON model (docs/network-geojson.md):
//
//   - Pipes become gis.Pipe with their polyline = start node + [VERTICES] +
//     end node. DN: SI models give the diameter in mm, DN = round(mm); US
//     models give inches, DN = round(inches × 25) — the nominal DN
//     convention (12 in → DN300, 6 in → DN150), not the exact 25.4.
//     The LENGTH column, in metres, is kept in Extra["epanet_length_m"] and
//     the roughness in Extra["roughness"]; Material is "" (EPANET has none).
//   - Status CLOSED (in [PIPES] or [STATUS]): the pipe is kept in service and
//     a normally closed valve "closed:<pipe id>" is put at its midpoint.
//     Status CV: an ordinary pipe (flow direction is not modelled).
//   - Pumps and control valves (PRV PSV PBV FCV TCV GPV, and PCV) become
//     short in-service pipes between their nodes with Extra["epanet_type"] =
//     "pump" or the valve type. A valve's DN is its diameter; a pump's is the
//     largest DN of the pipes at either of its nodes (DNInferred). Pumps get
//     role "booster_main".
//   - Reservoirs and tanks become gis.Source of type "reservoir" / "tank".
//   - Every junction whose base demand is > 0 becomes one gis.Customer
//     (residential, 1 household) on the smallest id (plain string order) of
//     the pipes at the junction. The base demand follows EPANET: the sum of
//     the junction's [DEMANDS] rows if it has any, else its [JUNCTIONS]
//     demand. A negative demand is an inflow: no customer, and a warning.
//     A junction with no pipe gets the smallest id among its pumps/valves.
//   - Optionally (Options.Valves = "n-1") a synthetic isolation valve layer
//     (see generateN1), recorded in Provenance["valves"].
//   - Elevations and heads are kept in Extra (elevation_m, head_m), not in Z.
//
// Warnings also flag where the network topology (points snapped within
// 0.05 m) will differ from EPANET's node/link graph: links drawn with zero
// length, nodes that coincide, nodes lying on another link (a tee).
//
// Coordinates: EPANET coordinates are a plane in the modeller's units. Either
// the caller names their CRS (Options.SRID; used as they are), or the plane
// is placed at Options.Origin: converted to metres, centred on the bbox
// centre, rescaled if the drawing is schematic, and described by a
// transverse Mercator PROJ string in Dataset.Proj.
package epanet

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
	"github.com/waterline-gis/waterline/gis"
)

// DefaultMaxBytes is the input size limit used when Options.MaxBytes is 0.
const DefaultMaxBytes = 64 << 20

// maxIssues bounds the errors collected from one file (garbage input would
// otherwise produce one per line).
const maxIssues = 1000

// Options control Read.
type Options struct {
	Name string // file name for messages
	// SRID: the coordinates are in this EPSG CRS (--crs); 0 = a local plane.
	SRID int
	// Origin (--origin LON,LAT): place the local plane's centre here.
	Origin *orb.Point
	// Units of the coordinates when placing by Origin: "m" or "ft";
	// "" = the model's length unit (ft for US flow units, m for SI).
	Units string
	// Valves: "" = no isolation valves, "n-1" = generate the N-1 layer.
	Valves string
	// Seed of the generated valve layer.
	Seed int64
	// MaxBytes limits the input size; 0 = DefaultMaxBytes.
	MaxBytes int64
}

// Issue codes. Errors make Read fail; warnings are returned with the data.
const (
	// errors
	CodeTooLarge      = "input.too_large"       // input exceeds MaxBytes
	CodeBadOption     = "option.invalid"        // Options.Units / Valves / Origin / SRID out of range
	CodeCRSMissing    = "crs.missing"           // neither SRID nor Origin
	CodeBadNumber     = "epanet.bad_number"     // a numeric field is not a finite number
	CodeBadValue      = "epanet.bad_value"      // a number out of range (length/diameter <= 0, huge coordinates)
	CodeShortRow      = "epanet.short_row"      // a row lacks required fields
	CodeBadUnits      = "epanet.bad_units"      // [OPTIONS] UNITS is not an EPANET flow unit
	CodeBadStatus     = "epanet.bad_status"     // pipe status not OPEN / CLOSED / CV
	CodeBadValveType  = "epanet.bad_valve_type" // valve type not PRV PSV PBV FCV TCV GPV PCV
	CodeDuplicateID   = "epanet.duplicate_id"   // node or link id defined twice, or a node's coordinates given twice
	CodeUnknownNode   = "epanet.unknown_node"   // a link names a node that is not defined
	CodeSameNodes     = "epanet.same_nodes"     // a link starts and ends at the same node
	CodeNoCoordinates = "epanet.no_coordinates" // a node used by a link has no [COORDINATES]
	CodeNoPipes       = "epanet.no_pipes"       // no [PIPES] rows
	CodeTooManyErrors = "input.too_many_errors" // error list truncated (as gis/netjson)

	// warnings
	CodeUnitsDefault     = "epanet.units_default" // no UNITS option; GPM assumed (EPANET's default)
	CodeUnplacedNode     = "epanet.unplaced_node" // node without coordinates that no link uses: dropped
	CodeCoordUnknownNode = "epanet.coordinates_unknown_node"
	CodeDemandUnknown    = "epanet.demand_unknown_node" // [DEMANDS] row for a missing node or a non-junction
	CodeVertexUnknown    = "epanet.vertices_unknown_link"
	CodeStatusUnknown    = "epanet.status_unknown_link"
	CodeNegativeDemand   = "epanet.negative_demand" // junction with an inflow: not a customer, not a source
	CodeCustomerNoPipe   = "epanet.customer_no_pipe"
	CodePumpDNUnknown    = "epanet.pump_dn_unknown"
	CodeZeroLength       = "pipe.zero_length"        // link drawn with zero length (as gis/netjson)
	CodeCoincidentNodes  = "epanet.coincident_nodes" // two nodes no link joins lie within the snapping tolerance: topology will join them
	CodeNodeOnLink       = "epanet.node_on_link"     // a node lies on the inside of a link that does not end there: topology will make a tee
	CodeScaleUnknown     = "epanet.scale_unknown"    // the drawing scale cannot be measured (e.g. every pipe drawn with zero length): not rescaled
	CodeSchematicCRS     = "crs.schematic"           // SRID given but the drawing does not match LENGTH
	CodeOriginIgnored    = "crs.origin_ignored"      // both SRID and Origin given
	CodeTooManyWarnings  = "input.too_many_warnings" // warning list truncated (as gis/netjson)
)

var usUnits = map[string]bool{"CFS": true, "GPM": true, "MGD": true, "IMGD": true, "AFD": true}
var siUnits = map[string]bool{"LPS": true, "LPM": true, "MLD": true, "CMH": true, "CMD": true}
var valveTypes = map[string]bool{"PRV": true, "PSV": true, "PBV": true, "FCV": true, "TCV": true, "GPV": true, "PCV": true}

const ftToM = 0.3048

// snapTolerance is the snapping tolerance of network-geojson.md (metres, or
// units of the given CRS): node points closer than this become one junction.
const snapTolerance = 0.05

// A schematic drawing is rescaled only when its scale (median drawn length /
// LENGTH) lies in [minRatio, maxRatio]: beyond that it is degenerate (e.g.
// every node at one point), and rescaling could overflow.
const (
	minRatio = 1e-9
	maxRatio = 1e9
)

// Limits on magnitudes, so that arithmetic stays finite and DN fits an int.
const (
	maxCoord    = 1e12
	maxLengthM  = 1e9
	maxDiamMM   = 1e5
	maxDiamInch = maxDiamMM / 25
)

type nodeKind int

const (
	junction nodeKind = iota
	reservoir
	tank
)

func (k nodeKind) String() string {
	return [...]string{"junction", "reservoir", "tank"}[k]
}

type node struct {
	id     string
	kind   nodeKind
	line   int
	value  float64 // elevation (junction, tank) or head (reservoir), model units
	demand float64 // [JUNCTIONS] demand
	hasDem bool    // has [DEMANDS] rows
	demSum float64 // sum of [DEMANDS] rows
	hasXY  bool
	xyLine int
	xy     orb.Point // raw, then transformed
	pipes  []*link   // incident ordinary pipes (distinct)
	links  []*link   // all incident links
}

type linkKind int

const (
	pipeLink linkKind = iota
	pumpLink
	valveLink
)

type link struct {
	id         string
	kind       linkKind
	line       int
	from, to   string
	n1, n2     *node
	length     float64 // model units
	diam       float64 // model units
	rough      float64
	status     string // pipes: "OPEN", "CLOSED", "CV"
	vtype      string // valves
	setting    string // valves
	params     string // pumps
	initStatus string // from [STATUS], pumps and valves
	verts      []orb.Point
	geom       orb.LineString // final geometry
	dn         int
	dnInferred bool
}

type refRow struct {
	line   int
	id     string
	x, y   float64
	val    string
	number float64
}

type parser struct {
	file  string
	errs  []gis.Issue
	warns []gis.Issue

	nodes     map[string]*node
	nodeOrder []*node
	links     map[string]*link
	linkOrder []*link
	nPipes    int

	units     string
	unitsLine int
	title     string

	coords   []refRow
	verts    []refRow
	demands  []refRow
	statuses []refRow
}

func (p *parser) where(line int) string {
	return gis.Ref{File: p.file, Index: -1, Line: line}.String()
}

func (p *parser) errAt(line int, feature, code, msg, fix string) {
	if len(p.errs) == maxIssues {
		p.errs = append(p.errs, gis.Issue{Code: CodeTooManyErrors, Where: p.where(0),
			Msg: fmt.Sprintf("more than %d errors; the rest are not listed", maxIssues), Fix: "fix these and read the file again"})
	}
	if len(p.errs) > maxIssues {
		return
	}
	p.errs = append(p.errs, gis.Issue{Code: code, Where: p.where(line), Feature: feature, Msg: msg, Fix: fix})
}

func (p *parser) warnAt(line int, feature, code, msg, fix string) {
	if len(p.warns) == maxIssues {
		p.warns = append(p.warns, gis.Issue{Code: CodeTooManyWarnings, Where: p.where(0),
			Msg: fmt.Sprintf("more than %d warnings; the rest are not listed", maxIssues)})
	}
	if len(p.warns) > maxIssues {
		return
	}
	p.warns = append(p.warns, gis.Issue{Code: code, Where: p.where(line), Feature: feature, Msg: msg, Fix: fix})
}

// num parses a numeric field; a bad one is reported with its line.
func (p *parser) num(line int, what, tok string) (float64, bool) {
	v, err := strconv.ParseFloat(tok, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		p.errAt(line, "", CodeBadNumber, fmt.Sprintf("%s %q is not a number", what, tok), "write a finite decimal number")
		return 0, false
	}
	return v, true
}

// Read reads an EPANET .inp model. It returns the dataset and warnings, or
// a *gis.InvalidError listing every error found (with the warnings so far).
func Read(r io.Reader, opt Options) (*gis.Dataset, []gis.Issue, error) {
	p := &parser{file: opt.Name, nodes: map[string]*node{}, links: map[string]*link{}}
	if p.file == "" {
		p.file = "input"
	}
	limit := opt.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, nil, fmt.Errorf("epanet: reading %s: %w", p.file, err)
	}
	if int64(len(data)) > limit {
		p.errAt(0, "", CodeTooLarge, fmt.Sprintf("input is larger than %d bytes", limit), "split the model or raise the size limit")
		return nil, nil, &gis.InvalidError{Issues: p.errs}
	}
	p.parse(data)
	p.resolve()
	p.checkOptions(opt)
	if len(p.errs) > 0 {
		return nil, p.warns, &gis.InvalidError{Issues: p.errs}
	}
	ds := p.build(opt)
	if len(p.errs) > 0 {
		return nil, p.warns, &gis.InvalidError{Issues: p.errs}
	}
	return ds, p.warns, nil
}

// tokens splits an .inp line into fields: whitespace separated, "quoted"
// fields may hold spaces, and ';' outside quotes starts a comment.
func tokens(s string) []string {
	var out []string
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ';':
			return out
		case c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f':
			i++
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				out = append(out, s[i+1:])
				return out
			}
			out = append(out, s[i+1:i+1+j])
			i += j + 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\v\f;\"", rune(s[j])) {
				j++
			}
			out = append(out, s[i:j])
			i = j
		}
	}
	return out
}

var knownSections = map[string]bool{
	"TITLE": true, "JUNCTIONS": true, "RESERVOIRS": true, "TANKS": true, "PIPES": true,
	"PUMPS": true, "VALVES": true, "COORDINATES": true, "VERTICES": true, "DEMANDS": true,
	"OPTIONS": true, "STATUS": true, "END": true,
}

func (p *parser) parse(data []byte) {
	section := ""
	lineNo := 0
	for len(data) > 0 {
		var raw []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			raw, data = data[:i], data[i+1:]
		} else {
			raw, data = data, nil
		}
		lineNo++
		line := strings.TrimRight(string(raw), "\r")
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "[") {
			name := trimmed[1:]
			if j := strings.IndexByte(name, ']'); j >= 0 {
				name = name[:j]
			}
			section = strings.ToUpper(strings.TrimSpace(name))
			if !knownSections[section] {
				section = "" // ignored
			}
			if section == "END" {
				return
			}
			continue
		}
		if section == "TITLE" {
			if p.title == "" && trimmed != "" && !strings.HasPrefix(trimmed, ";") {
				p.title = trimmed
			}
			continue
		}
		if section == "" {
			continue
		}
		f := tokens(line)
		if len(f) == 0 {
			continue
		}
		switch section {
		case "JUNCTIONS":
			p.junction(lineNo, f)
		case "RESERVOIRS":
			p.reservoir(lineNo, f)
		case "TANKS":
			p.tank(lineNo, f)
		case "PIPES":
			p.pipe(lineNo, f)
		case "PUMPS":
			p.pump(lineNo, f)
		case "VALVES":
			p.valve(lineNo, f)
		case "COORDINATES", "VERTICES":
			if len(f) < 3 {
				p.errAt(lineNo, "", CodeShortRow, fmt.Sprintf("[%s] row needs ID, X and Y", section), "give the id and both coordinates")
				continue
			}
			x, ok1 := p.num(lineNo, "X coordinate", f[1])
			y, ok2 := p.num(lineNo, "Y coordinate", f[2])
			if !ok1 || !ok2 {
				continue
			}
			if math.Abs(x) > maxCoord || math.Abs(y) > maxCoord {
				p.errAt(lineNo, "", CodeBadValue, fmt.Sprintf("coordinate (%g, %g) is out of range (|value| > %g)", x, y, maxCoord), "check the coordinates")
				continue
			}
			row := refRow{line: lineNo, id: f[0], x: x, y: y}
			if section == "COORDINATES" {
				p.coords = append(p.coords, row)
			} else {
				p.verts = append(p.verts, row)
			}
		case "DEMANDS":
			if len(f) < 2 {
				p.errAt(lineNo, "", CodeShortRow, "[DEMANDS] row needs a junction ID and a demand", "give the demand")
				continue
			}
			d, ok := p.num(lineNo, "demand", f[1])
			if !ok {
				continue
			}
			p.demands = append(p.demands, refRow{line: lineNo, id: f[0], number: d})
		case "STATUS":
			if len(f) < 2 {
				p.errAt(lineNo, "", CodeShortRow, "[STATUS] row needs a link ID and a status or setting", "give the status")
				continue
			}
			p.statuses = append(p.statuses, refRow{line: lineNo, id: f[0], val: strings.ToUpper(f[1])})
		case "OPTIONS":
			if strings.EqualFold(f[0], "UNITS") {
				if len(f) < 2 {
					p.errAt(lineNo, "", CodeShortRow, "UNITS option without a value", "write e.g. UNITS GPM or UNITS LPS")
					continue
				}
				p.units, p.unitsLine = strings.ToUpper(f[1]), lineNo
			}
		}
	}
}

func (p *parser) addNode(line int, kind nodeKind, id string) *node {
	if prev, ok := p.nodes[id]; ok {
		p.errAt(line, "", CodeDuplicateID, fmt.Sprintf("node %s is defined twice (%s at line %d, %s here)", id, prev.kind, prev.line, kind),
			"give every junction, reservoir and tank its own id")
		return nil
	}
	n := &node{id: id, kind: kind, line: line}
	p.nodes[id] = n
	p.nodeOrder = append(p.nodeOrder, n)
	return n
}

func (p *parser) junction(line int, f []string) {
	if len(f) < 2 {
		p.errAt(line, "", CodeShortRow, "[JUNCTIONS] row needs ID and elevation", "give the elevation")
		return
	}
	// A bad number is reported; the node is still defined so that links
	// naming it do not add "unknown node" errors.
	elev, _ := p.num(line, "junction "+f[0]+" elevation", f[1])
	var dem float64
	if len(f) >= 3 {
		dem, _ = p.num(line, "junction "+f[0]+" demand", f[2])
	}
	if n := p.addNode(line, junction, f[0]); n != nil {
		n.value, n.demand = elev, dem
	}
}

func (p *parser) reservoir(line int, f []string) {
	if len(f) < 2 {
		p.errAt(line, "source:"+f[0], CodeShortRow, "[RESERVOIRS] row needs ID and head", "give the head")
		return
	}
	head, _ := p.num(line, "reservoir "+f[0]+" head", f[1])
	if n := p.addNode(line, reservoir, f[0]); n != nil {
		n.value = head
	}
}

func (p *parser) tank(line int, f []string) {
	if len(f) < 2 {
		p.errAt(line, "source:"+f[0], CodeShortRow, "[TANKS] row needs at least ID and elevation", "give the tank's data")
		return
	}
	names := []string{"elevation", "initial level", "minimum level", "maximum level", "diameter", "minimum volume"}
	var elev float64
	for i := 1; i < len(f) && i <= len(names); i++ {
		v, _ := p.num(line, "tank "+f[0]+" "+names[i-1], f[i])
		if i == 1 {
			elev = v
		}
	}
	if n := p.addNode(line, tank, f[0]); n != nil {
		n.value = elev
	}
}

func (p *parser) addLink(line int, kind linkKind, f []string) *link {
	id := f[0]
	if prev, ok := p.links[id]; ok {
		p.errAt(line, "pipe:"+id, CodeDuplicateID, fmt.Sprintf("link %s is defined twice (line %d and here)", id, prev.line),
			"give every pipe, pump and valve its own id")
		return nil
	}
	l := &link{id: id, kind: kind, line: line, from: f[1], to: f[2]}
	p.links[id] = l
	p.linkOrder = append(p.linkOrder, l)
	return l
}

func isStatusWord(s string) bool {
	switch strings.ToUpper(s) {
	case "OPEN", "CLOSED", "CV":
		return true
	}
	return false
}

func (p *parser) pipe(line int, f []string) {
	p.nPipes++
	if len(f) < 6 {
		p.errAt(line, "pipe:"+f[0], CodeShortRow, "[PIPES] row needs ID, Node1, Node2, Length, Diameter and Roughness", "complete the row")
		return
	}
	ok := true
	length, ok1 := p.num(line, "pipe "+f[0]+" length", f[3])
	diam, ok2 := p.num(line, "pipe "+f[0]+" diameter", f[4])
	rough, ok3 := p.num(line, "pipe "+f[0]+" roughness", f[5])
	ok = ok1 && ok2 && ok3
	status := "OPEN"
	rest := f[6:]
	if len(rest) > 0 && !isStatusWord(rest[0]) {
		if _, okm := p.num(line, "pipe "+f[0]+" minor loss", rest[0]); !okm {
			ok = false
		}
		rest = rest[1:]
	}
	if len(rest) > 0 {
		if !isStatusWord(rest[0]) {
			p.errAt(line, "pipe:"+f[0], CodeBadStatus, fmt.Sprintf("pipe %s status %q is not OPEN, CLOSED or CV", f[0], rest[0]), "write OPEN, CLOSED or CV")
			ok = false
		} else {
			status = strings.ToUpper(rest[0])
		}
	}
	l := p.addLink(line, pipeLink, f)
	if l == nil || !ok {
		return
	}
	if !p.checkLength(line, f[0], length) || !p.checkDiam(line, f[0], diam) {
		return
	}
	l.length, l.diam, l.rough, l.status = length, diam, rough, status
}

func (p *parser) checkLength(line int, id string, length float64) bool {
	if length <= 0 || length > maxLengthM {
		p.errAt(line, "pipe:"+id, CodeBadValue, fmt.Sprintf("pipe %s length %g is not in (0, %g]", id, length, maxLengthM), "give the pipe's real length")
		return false
	}
	return true
}

// checkDiam checks a diameter in model units; the unit system is not known
// yet, so the larger (mm) bound applies here and DN is checked again later.
func (p *parser) checkDiam(line int, id string, diam float64) bool {
	if diam <= 0 || diam > maxDiamMM {
		p.errAt(line, "pipe:"+id, CodeBadValue, fmt.Sprintf("link %s diameter %g is not in (0, %g]", id, diam, maxDiamMM), "give the real diameter")
		return false
	}
	return true
}

func (p *parser) pump(line int, f []string) {
	if len(f) < 3 {
		p.errAt(line, "pipe:"+f[0], CodeShortRow, "[PUMPS] row needs ID, Node1 and Node2", "complete the row")
		return
	}
	if l := p.addLink(line, pumpLink, f); l != nil {
		l.params = strings.Join(f[3:], " ")
	}
}

func (p *parser) valve(line int, f []string) {
	if len(f) < 6 {
		p.errAt(line, "pipe:"+f[0], CodeShortRow, "[VALVES] row needs ID, Node1, Node2, Diameter, Type and Setting", "complete the row")
		return
	}
	diam, ok := p.num(line, "valve "+f[0]+" diameter", f[3])
	vtype := strings.ToUpper(f[4])
	if !valveTypes[vtype] {
		p.errAt(line, "pipe:"+f[0], CodeBadValveType, fmt.Sprintf("valve %s type %q is not PRV, PSV, PBV, FCV, TCV, GPV or PCV", f[0], f[4]), "write a valve type EPANET knows")
		ok = false
	}
	if vtype != "GPV" { // a GPV's setting is a head-loss curve id
		if _, oks := p.num(line, "valve "+f[0]+" setting", f[5]); !oks {
			ok = false
		}
	}
	if len(f) >= 7 {
		if _, okm := p.num(line, "valve "+f[0]+" minor loss", f[6]); !okm {
			ok = false
		}
	}
	l := p.addLink(line, valveLink, f)
	if l == nil || !ok || !p.checkDiam(line, f[0], diam) {
		return
	}
	l.diam, l.vtype, l.setting = diam, vtype, f[5]
}

// resolve checks the cross references once the whole file is read.
func (p *parser) resolve() {
	// units
	switch {
	case p.unitsLine == 0:
		p.units = "GPM"
		p.warnAt(0, "", CodeUnitsDefault, "[OPTIONS] has no UNITS; GPM (US units: feet, inches) assumed, as EPANET does", "add UNITS to [OPTIONS]")
	case !usUnits[p.units] && !siUnits[p.units]:
		p.errAt(p.unitsLine, "", CodeBadUnits, fmt.Sprintf("UNITS %q is not an EPANET flow unit", p.units), "use CFS, GPM, MGD, IMGD, AFD, LPS, LPM, MLD, CMH or CMD")
	}
	us := !siUnits[p.units]
	if us {
		for _, l := range p.linkOrder {
			if l.diam > maxDiamInch {
				p.errAt(l.line, "pipe:"+l.id, CodeBadValue, fmt.Sprintf("link %s diameter %g in is out of range", l.id, l.diam), "give the real diameter in inches")
			}
		}
	}

	// coordinates
	for _, c := range p.coords {
		n := p.nodes[c.id]
		if n == nil {
			p.warnAt(c.line, "", CodeCoordUnknownNode, fmt.Sprintf("coordinates for %s, which is not a junction, reservoir or tank; ignored", c.id), "")
			continue
		}
		if n.hasXY {
			p.errAt(c.line, "", CodeDuplicateID, fmt.Sprintf("node %s has coordinates twice (line %d and here)", c.id, n.xyLine), "keep one [COORDINATES] row per node")
			continue
		}
		n.hasXY, n.xyLine, n.xy = true, c.line, orb.Point{c.x, c.y}
	}

	// demands
	for _, d := range p.demands {
		n := p.nodes[d.id]
		if n == nil || n.kind != junction {
			p.warnAt(d.line, "", CodeDemandUnknown, fmt.Sprintf("[DEMANDS] row for %s, which is not a junction; ignored", d.id), "")
			continue
		}
		n.hasDem = true
		n.demSum += d.number
	}

	// links → nodes
	for _, l := range p.linkOrder {
		ok := true
		for _, end := range []string{l.from, l.to} {
			if p.nodes[end] == nil {
				p.errAt(l.line, "pipe:"+l.id, CodeUnknownNode, fmt.Sprintf("link %s names node %s, which is not defined", l.id, end), "define the node in [JUNCTIONS], [RESERVOIRS] or [TANKS], or correct the link")
				ok = false
			}
		}
		if l.from == l.to {
			p.errAt(l.line, "pipe:"+l.id, CodeSameNodes, fmt.Sprintf("link %s starts and ends at node %s", l.id, l.from), "correct one of its nodes or remove it")
			ok = false
		}
		if !ok {
			continue
		}
		l.n1, l.n2 = p.nodes[l.from], p.nodes[l.to]
		for _, n := range []*node{l.n1, l.n2} {
			n.links = append(n.links, l)
			if l.kind == pipeLink {
				n.pipes = append(n.pipes, l)
			}
		}
	}
	for _, n := range p.nodeOrder {
		if n.hasXY {
			continue
		}
		if len(n.links) > 0 {
			ids := make([]string, 0, 3)
			for i, l := range n.links {
				if i == 3 {
					ids = append(ids, "…")
					break
				}
				ids = append(ids, l.id)
			}
			p.errAt(n.line, "", CodeNoCoordinates, fmt.Sprintf("%s %s has no [COORDINATES] row; links %s use it", n.kind, n.id, strings.Join(ids, ", ")),
				"add its coordinates")
		} else {
			p.warnAt(n.line, "", CodeUnplacedNode, fmt.Sprintf("%s %s has no coordinates and no link uses it; it is left out", n.kind, n.id), "add its coordinates or remove it")
		}
	}

	// vertices
	warned := map[string]bool{}
	for _, v := range p.verts {
		l := p.links[v.id]
		if l == nil {
			if !warned[v.id] {
				warned[v.id] = true
				p.warnAt(v.line, "", CodeVertexUnknown, fmt.Sprintf("[VERTICES] for link %s, which is not defined; ignored", v.id), "")
			}
			continue
		}
		l.verts = append(l.verts, orb.Point{v.x, v.y})
	}

	// status
	for _, s := range p.statuses {
		l := p.links[s.id]
		if l == nil {
			p.warnAt(s.line, "", CodeStatusUnknown, fmt.Sprintf("[STATUS] for link %s, which is not defined; ignored", s.id), "")
			continue
		}
		if l.kind == pipeLink {
			switch s.val {
			case "CLOSED":
				l.status = "CLOSED"
			case "OPEN":
				if l.status == "CLOSED" {
					l.status = "OPEN"
				}
			}
			continue
		}
		l.initStatus = s.val
	}

	if p.nPipes == 0 {
		p.errAt(0, "", CodeNoPipes, "the model has no [PIPES] rows", "is this an EPANET .inp file? It needs a [PIPES] section")
	}
}

func (p *parser) checkOptions(opt Options) {
	switch opt.Units {
	case "", "m", "ft":
	default:
		p.errAt(0, "", CodeBadOption, fmt.Sprintf("coordinate units %q are not m or ft", opt.Units), "pass m or ft")
	}
	switch opt.Valves {
	case "", "n-1":
	default:
		p.errAt(0, "", CodeBadOption, fmt.Sprintf("valve layer %q is unknown", opt.Valves), `pass "n-1" or nothing`)
	}
	switch {
	case opt.SRID < 0:
		p.errAt(0, "", CodeBadOption, fmt.Sprintf("EPSG code %d is not valid", opt.SRID), "pass --crs EPSG:N")
	case opt.SRID > 0:
		if opt.Origin != nil {
			p.warnAt(0, "", CodeOriginIgnored, "both a CRS and an origin were given; the coordinates are taken as EPSG:"+strconv.Itoa(opt.SRID)+" and the origin is ignored", "pass only one")
		}
	case opt.Origin != nil:
		lon, lat := opt.Origin[0], opt.Origin[1]
		if !(lon >= -180 && lon <= 180 && lat > -90 && lat < 90) {
			p.errAt(0, "", CodeBadOption, fmt.Sprintf("origin %g,%g is not a longitude,latitude", lon, lat), "pass --origin LON,LAT in degrees")
		}
	default:
		p.errAt(0, "", CodeCRSMissing, "EPANET coordinates are a local plane; pass --crs EPSG:N or --origin LON,LAT", "pass --crs EPSG:N or --origin LON,LAT")
	}
}

// dnOf converts a diameter in model units to a DN in mm.
func dnOf(diam float64, us bool) int {
	mm := diam
	if us {
		mm = diam * 25
	}
	dn := int(math.Round(mm))
	if dn < 1 && diam > 0 {
		dn = 1
	}
	return dn
}

func pathLength(ls orb.LineString) float64 {
	var s float64
	for i := 1; i < len(ls); i++ {
		s += math.Hypot(ls[i][0]-ls[i-1][0], ls[i][1]-ls[i-1][1])
	}
	return s
}

// midpoint is the point half way along ls.
func midpoint(ls orb.LineString) orb.Point {
	half := pathLength(ls) / 2
	var acc float64
	for i := 1; i < len(ls); i++ {
		a, b := ls[i-1], ls[i]
		d := math.Hypot(b[0]-a[0], b[1]-a[1])
		if d > 0 && acc+d >= half {
			t := (half - acc) / d
			return orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}
		}
		acc += d
	}
	return ls[0]
}

func (l *link) rawLine() orb.LineString {
	ls := make(orb.LineString, 0, len(l.verts)+2)
	ls = append(ls, l.n1.xy)
	ls = append(ls, l.verts...)
	return append(ls, l.n2.xy)
}

func median(v []float64) float64 {
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

func (p *parser) build(opt Options) *gis.Dataset {
	us := !siUnits[p.units]
	lenToM := 1.0
	if us {
		lenToM = ftToM
	}
	ds := &gis.Dataset{Name: opt.Name, Provenance: map[string]string{}}
	prov := ds.Provenance
	prov["format"] = "EPANET .inp"
	if p.title != "" {
		prov["epanet_title"] = p.title
	}
	if us {
		prov["epanet_units"] = p.units + " (US: length ft, diameter in)"
		prov["dn"] = "DN = round(diameter in inches × 25), the nominal DN convention (12 in → DN300, 6 in → DN150)"
	} else {
		prov["epanet_units"] = p.units + " (SI: length m, diameter mm)"
		prov["dn"] = "DN = round(diameter in mm)"
	}
	prov["material"] = "unknown: EPANET has no material; the roughness is kept in extra.roughness"

	// Drawing scale: median over pipes of drawn length / LENGTH, both in
	// model units (raw coordinates) for the CRS case, in metres otherwise.
	ratios := func(coordToM float64) []float64 {
		var rs []float64
		for _, l := range p.linkOrder {
			if l.kind == pipeLink && l.n1 != nil {
				rs = append(rs, pathLength(l.rawLine())*coordToM/(l.length*lenToM))
			}
		}
		return rs
	}

	var transform func(orb.Point) orb.Point
	if opt.SRID > 0 {
		ds.SRID = opt.SRID
		transform = func(q orb.Point) orb.Point { return q }
		prov["crs"] = fmt.Sprintf("EPSG:%d as given; EPANET coordinates used as they are", opt.SRID)
		if rs := ratios(lenToM); len(rs) > 0 {
			if m := median(rs); m < 0.2 || m > 5 {
				p.warnAt(0, "", CodeSchematicCRS, fmt.Sprintf("the drawn pipe lengths are %s × the LENGTH column (median); the drawing looks schematic, yet the coordinates are taken as EPSG:%d", fmtNum(m), opt.SRID),
					"check the CRS, or use --origin to place and rescale the drawing")
			}
		}
	} else {
		coordToM := lenToM
		unitName := "ft"
		if !us {
			unitName = "m"
		}
		switch opt.Units {
		case "m":
			coordToM, unitName = 1, "m"
		case "ft":
			coordToM, unitName = ftToM, "ft"
		}
		// bbox centre of every placed node and vertex
		minX, minY := math.Inf(1), math.Inf(1)
		maxX, maxY := math.Inf(-1), math.Inf(-1)
		grow := func(q orb.Point) {
			minX, maxX = math.Min(minX, q[0]), math.Max(maxX, q[0])
			minY, maxY = math.Min(minY, q[1]), math.Max(maxY, q[1])
		}
		for _, n := range p.nodeOrder {
			if n.hasXY {
				grow(n.xy)
			}
		}
		for _, l := range p.linkOrder {
			for _, v := range l.verts {
				grow(v)
			}
		}
		cx, cy := (minX+maxX)/2, (minY+maxY)/2
		scale := 1.0
		if rs := ratios(coordToM); len(rs) > 0 {
			m := median(rs)
			switch {
			case !(m >= minRatio && m <= maxRatio):
				p.warnAt(0, "", CodeScaleUnknown, fmt.Sprintf("the median pipe is drawn %s × its LENGTH; that is no plausible drawing scale, so the drawing is kept as it is", fmtNum(m)), "check [COORDINATES] and the --origin units")
			case m < 0.5 || m > 2:
				scale = 1 / m
				prov["scale"] = fmt.Sprintf("schematic drawing rescaled by %s (median drawn length / LENGTH was %s)", fmtNum(scale), fmtNum(m))
			default:
				prov["scale"] = fmt.Sprintf("drawing to scale (median drawn length / LENGTH %s); not rescaled", fmtNum(m))
			}
		}
		k := coordToM * scale
		transform = func(q orb.Point) orb.Point { return orb.Point{(q[0] - cx) * k, (q[1] - cy) * k} }
		lon, lat := opt.Origin[0], opt.Origin[1]
		f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
		ds.Proj = "+proj=tmerc +lat_0=" + f(lat) + " +lon_0=" + f(lon) + " +k=1 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs"
		prov["crs"] = fmt.Sprintf("local plane: EPANET coordinates in %s converted to metres, bbox centre placed at %s,%s (transverse Mercator, see Proj)", unitName, f(lon), f(lat))
	}

	// Transform vertices (node points are transformed once, below).
	for _, l := range p.linkOrder {
		for i, v := range l.verts {
			l.verts[i] = transform(v)
		}
	}
	for _, n := range p.nodeOrder {
		if n.hasXY {
			n.xy = transform(n.xy)
		}
	}

	// DNs: pipes and valves first, then pumps from the pipes at their nodes.
	for _, l := range p.linkOrder {
		if l.kind != pumpLink && l.n1 != nil {
			l.dn = dnOf(l.diam, us)
		}
	}
	for _, l := range p.linkOrder {
		if l.kind != pumpLink || l.n1 == nil {
			continue
		}
		for _, n := range []*node{l.n1, l.n2} {
			for _, q := range n.pipes {
				l.dn = max(l.dn, q.dn)
			}
		}
		l.dnInferred = true
		if l.dn == 0 {
			p.warnAt(l.line, "pipe:"+l.id, CodePumpDNUnknown, fmt.Sprintf("pump %s has no pipe at either node; its DN is unknown (0)", l.id), "")
		}
	}

	var nClosed, nCV, nPump, nValve int
	for _, l := range p.linkOrder {
		if l.n1 == nil {
			continue
		}
		geom := l.rawLine()
		l.geom = geom
		if pathLength(geom) == 0 {
			p.warnAt(l.line, "pipe:"+l.id, CodeZeroLength, fmt.Sprintf("link %s is drawn with zero length (its nodes %s and %s coincide)", l.id, l.from, l.to), "")
		}
		pp := gis.Pipe{
			ID: l.id, DN: l.dn, DNInferred: l.dnInferred, Status: gis.StatusInService, Geom: geom,
			Extra: map[string]any{}, Src: gis.Ref{File: p.file, Index: -1, Line: l.line},
		}
		switch l.kind {
		case pipeLink:
			pp.Extra["epanet_length_m"] = l.length * lenToM
			pp.Extra["roughness"] = l.rough
			switch l.status {
			case "CLOSED":
				nClosed++
				pp.Extra["epanet_status"] = "CLOSED"
				ds.Valves = append(ds.Valves, gis.Valve{
					ID: "closed:" + l.id, Pipe: l.id, DN: l.dn, NormallyOpen: false, Operable: true,
					Geom: midpoint(geom), Extra: map[string]any{"generated": "closed pipe"}, Src: pp.Src,
				})
			case "CV":
				nCV++
				pp.Extra["epanet_status"] = "CV"
			}
		case pumpLink:
			nPump++
			pp.Role = "booster_main"
			pp.Extra["epanet_type"] = "pump"
			if l.params != "" {
				pp.Extra["parameters"] = l.params
			}
		case valveLink:
			nValve++
			pp.Extra["epanet_type"] = l.vtype
			pp.Extra["setting"] = l.setting
		}
		if l.initStatus != "" {
			pp.Extra["epanet_initial_status"] = l.initStatus
		}
		ds.Pipes = append(ds.Pipes, pp)
	}
	p.checkCoincident()
	p.checkNodesOnLinks()

	if nClosed > 0 {
		prov["closed_pipes"] = fmt.Sprintf("%d CLOSED pipes kept in service, each with a normally closed valve closed:<pipe id> at its midpoint", nClosed)
	}
	if nCV > 0 {
		prov["check_valves"] = fmt.Sprintf("%d CV pipes (check valves) imported as ordinary pipes: flow direction is not modelled", nCV)
	}
	if nPump > 0 {
		prov["pumps"] = fmt.Sprintf("%d pumps imported as short pipes (role booster_main, extra.epanet_type pump, DN inferred from the largest pipe at either node); treated as open, an initial [STATUS] is kept in extra.epanet_initial_status", nPump)
	}
	if nValve > 0 {
		prov["control_valves"] = fmt.Sprintf("%d control valves imported as short open pipes (extra.epanet_type = the valve type, DN = the valve's diameter); an initial [STATUS] is kept in extra.epanet_initial_status", nValve)
	}

	// Sources and customers.
	var nNeg int
	for _, n := range p.nodeOrder {
		if !n.hasXY {
			continue
		}
		src := gis.Ref{File: p.file, Index: -1, Line: n.line}
		switch n.kind {
		case reservoir:
			ds.Sources = append(ds.Sources, gis.Source{ID: n.id, Type: "reservoir", Geom: n.xy,
				Extra: map[string]any{"head_m": n.value * lenToM}, Src: src})
		case tank:
			ds.Sources = append(ds.Sources, gis.Source{ID: n.id, Type: "tank", Geom: n.xy,
				Extra: map[string]any{"elevation_m": n.value * lenToM}, Src: src})
		case junction:
			dem := n.demand
			if n.hasDem {
				dem = n.demSum
			}
			if dem < 0 {
				nNeg++
				p.warnAt(n.line, "", CodeNegativeDemand, fmt.Sprintf("junction %s has a negative base demand (%s %s): an inflow; it is neither a customer nor a source", n.id, fmtNum(dem), p.units),
					"if water enters the network here, add a source at this point")
			}
			if !(dem > 0) {
				continue
			}
			pt := n.xy
			c := gis.Customer{ID: n.id, Geom: &pt, Category: "residential", Households: 1,
				Pipe: smallestID(n.pipes), Src: src,
				Extra: map[string]any{"base_demand": dem, "demand_units": p.units, "elevation_m": n.value * lenToM}}
			if c.Pipe == "" {
				c.Pipe = smallestID(n.links)
			}
			if c.Pipe == "" {
				p.warnAt(n.line, "customer:"+n.id, CodeCustomerNoPipe, fmt.Sprintf("junction %s has a demand but no link; its customer goes to the nearest pipe", n.id), "")
			}
			ds.Customers = append(ds.Customers, c)
		}
	}
	prov["customers"] = "one customer per junction with a base demand > 0 (residential, 1 household, extra.base_demand in " + p.units + ")"

	if opt.Valves == "n-1" {
		nv := generateN1(ds, p.nodeOrder, opt.Seed, p.file)
		prov["valves"] = fmt.Sprintf("generated n-1, seed %d, %d valves", opt.Seed, nv)
	}
	return ds
}

// smallestID is the smallest link id in plain string order, "" for none.
func smallestID(ls []*link) string {
	best := ""
	for i, l := range ls {
		if i == 0 || l.id < best {
			best = l.id
		}
	}
	return best
}

// checkCoincident warns about nodes that lie within the snapping tolerance of
// each other without a link between them: EPANET keeps them apart, the
// network topology will join them.
func (p *parser) checkCoincident() {
	type cell struct{ x, y int64 }
	grid := map[cell][]*node{}
	cellOf := func(q orb.Point) cell {
		return cell{int64(math.Floor(q[0] / snapTolerance)), int64(math.Floor(q[1] / snapTolerance))}
	}
	for _, n := range p.nodeOrder {
		if n.hasXY {
			c := cellOf(n.xy)
			grid[c] = append(grid[c], n)
		}
	}
	joined := func(a, b *node) bool {
		for _, l := range a.links {
			if l.n1 == b || l.n2 == b {
				return true
			}
		}
		return false
	}
	const maxReported = 100
	reported := 0
	for _, n := range p.nodeOrder {
		if !n.hasXY {
			continue
		}
		c := cellOf(n.xy)
		for dx := int64(-1); dx <= 1; dx++ {
			for dy := int64(-1); dy <= 1; dy++ {
				for _, o := range grid[cell{c.x + dx, c.y + dy}] {
					if o.line <= n.line || joined(n, o) {
						continue // each pair once, in file order
					}
					if d := math.Hypot(o.xy[0]-n.xy[0], o.xy[1]-n.xy[1]); d <= snapTolerance {
						if reported++; reported > maxReported {
							p.warnAt(0, "", CodeCoincidentNodes, fmt.Sprintf("more than %d pairs of nodes coincide; the rest are not listed", maxReported), "check [COORDINATES]")
							return
						}
						p.warnAt(o.xyLine, "", CodeCoincidentNodes, fmt.Sprintf("%s %s and %s %s are %s apart; no link joins them in EPANET, but the network will join them as one junction", n.kind, n.id, o.kind, o.id, fmtNum(d)),
							"move one of them if they are not connected")
					}
				}
			}
		}
	}
}

// distToLine is the 2-D distance from q to the polyline ls.
func distToLine(ls orb.LineString, q orb.Point) float64 {
	best := math.Inf(1)
	for i := 1; i < len(ls); i++ {
		a, b := ls[i-1], ls[i]
		dx, dy := b[0]-a[0], b[1]-a[1]
		t := 0.0
		if l2 := dx*dx + dy*dy; l2 > 0 {
			t = math.Max(0, math.Min(1, ((q[0]-a[0])*dx+(q[1]-a[1])*dy)/l2))
		}
		best = math.Min(best, math.Hypot(q[0]-a[0]-t*dx, q[1]-a[1]-t*dy))
	}
	return best
}

// checkNodesOnLinks warns about nodes that lie within the snapping tolerance
// of the inside of a link that does not end at them: EPANET keeps them
// apart, the network topology will cut the link there (a tee).
func (p *parser) checkNodesOnLinks() {
	var tr rtree.RTreeG[*link]
	for _, l := range p.linkOrder {
		if len(l.geom) < 2 {
			continue
		}
		b := l.geom.Bound()
		tr.Insert([2]float64{b.Min[0], b.Min[1]}, [2]float64{b.Max[0], b.Max[1]}, l)
	}
	const maxReported = 100
	reported := 0
	for _, n := range p.nodeOrder {
		if !n.hasXY {
			continue
		}
		q := n.xy
		lo := [2]float64{q[0] - snapTolerance, q[1] - snapTolerance}
		hi := [2]float64{q[0] + snapTolerance, q[1] + snapTolerance}
		stop := false
		tr.Search(lo, hi, func(_, _ [2]float64, l *link) bool {
			if l.n1 == n || l.n2 == n {
				return true
			}
			end0, end1 := l.geom[0], l.geom[len(l.geom)-1]
			if math.Hypot(q[0]-end0[0], q[1]-end0[1]) <= snapTolerance || math.Hypot(q[0]-end1[0], q[1]-end1[1]) <= snapTolerance {
				return true // at the link's end: a coincident node, reported apart
			}
			if d := distToLine(l.geom, q); d <= snapTolerance {
				if reported++; reported > maxReported {
					p.warnAt(0, "", CodeNodeOnLink, fmt.Sprintf("more than %d nodes lie on links; the rest are not listed", maxReported), "check [COORDINATES] and [VERTICES]")
					stop = true
					return false
				}
				p.warnAt(n.xyLine, "pipe:"+l.id, CodeNodeOnLink, fmt.Sprintf("%s %s lies %s from link %s, which does not end there; the network will connect them (a tee)", n.kind, n.id, fmtNum(d), l.id),
					"move the node or the link's vertices if they are not connected")
			}
			return true
		})
		if stop {
			return
		}
	}
}
