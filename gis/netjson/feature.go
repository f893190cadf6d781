package netjson

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/waterline-gis/waterline/gis"
)

var (
	pipeRoles    = []string{"transmission", "booster_main", "distribution", "service"}
	pipeCrossing = []string{"river", "railway"}
	pipeStatus   = []string{gis.StatusInService, gis.StatusAbandoned, gis.StatusPlanned}
	sourceTypes  = []string{"plant", "reservoir", "tank", "booster", "well"}
)

// known lists the properties each kind understands (besides kind and id),
// in the order Write emits them. Other properties go to Extra.
var known = [nKinds][]string{
	kPipe:       {"dn", "dn_inferred", "material", "role", "crossing", "status", "install_year", "district"},
	kValve:      {"pipe", "dn", "normally_open", "operable"},
	kSource:     {"type"},
	kHydrant:    {"pipe"},
	kConnection: {"pipe"},
	kCustomer:   {"connection", "pipe", "name", "address", "phone", "category", "critical", "households"},
	kDistrict:   {"name", "manager"},
}

// feat is the feature being read.
type feat struct {
	rd    *reader
	idx   int
	k     int    // kind index
	kind  string // kind name
	id    string
	hasID bool
	nerr  int
}

func (f *feat) where() string { return gis.Ref{File: f.rd.name, Index: f.idx}.String() }

func (f *feat) src() gis.Ref { return gis.Ref{File: f.rd.opt.Name, Index: f.idx} }

// label is "kind:id" once both are known.
func (f *feat) label() string {
	if !f.hasID {
		return ""
	}
	return f.kind + ":" + f.id
}

func (f *feat) err(code, msg, fix string) {
	f.nerr++
	f.rd.addErr(gis.Issue{Code: code, Where: f.where(), Feature: f.label(), Msg: msg, Fix: fix})
}

func (f *feat) warn(code, msg, fix string) {
	f.rd.addWarn(gis.Issue{Code: code, Where: f.where(), Feature: f.label(), Msg: msg, Fix: fix})
}

func kindIndex(raw []byte) int {
	if len(raw) < 2 || raw[0] != '"' {
		return -1
	}
	s := raw[1 : len(raw)-1]
	for k, name := range kindNames {
		if string(s) == name {
			return k
		}
	}
	return -1
}

// feature reads one element of the features array.
func (rd *reader) feature(idx int, raw []byte) {
	f := feat{rd: rd, idx: idx, k: -1}
	it, ok := newObjIter(raw)
	if !ok {
		f.err(CodeNotFeature, fmt.Sprintf("the element is %s, not a Feature object", shorten(raw)),
			`every element of features must be {"type": "Feature", "properties": {...}, "geometry": ...}`)
		return
	}
	var typ, props, topID []byte
	var geom geomMember
	for {
		key, ok := it.nextKey()
		if !ok {
			break
		}
		if string(key) == "geometry" {
			// Split the geometry object in the same pass (its coordinates
			// are most of the bytes).
			geom = splitGeometry(&it.c)
			continue
		}
		val := it.c.value()
		switch string(key) {
		case "type":
			typ = val
		case "properties":
			props = val
		case "id":
			topID = val
		}
	}
	if string(typ) != `"Feature"` {
		if s, ok := jsonString(typ); !ok || s != "Feature" {
			msg := "the feature has no type"
			if typ != nil {
				msg = fmt.Sprintf("the feature's type is %s, not \"Feature\"", shorten(typ))
			}
			f.err(CodeNotFeature, msg, `every element of features must be {"type": "Feature", "properties": {...}, "geometry": ...}`)
			return
		}
	}

	rd.props = rd.props[:0]
	var kindRaw, idRaw []byte
	if !isNull(props) {
		pit, ok := newObjIter(props)
		if !ok {
			f.err(CodeNoKind, fmt.Sprintf("properties is %s, not an object", shorten(props)),
				`give the feature "properties": {"kind": ..., "id": ..., ...}`)
			return
		}
		for {
			key, val, ok := pit.next()
			if !ok {
				break
			}
			switch string(key) {
			case "kind":
				kindRaw = val
			case "id":
				idRaw = val
			default:
				rd.props = append(rd.props, prop{key, val})
			}
		}
	}

	kindFix := "set properties.kind to one of " + strings.Join(kindNames[:], ", ")
	if isNull(kindRaw) {
		f.err(CodeNoKind, "the feature has no properties.kind", kindFix)
		return
	}
	f.k = kindIndex(kindRaw)
	if f.k < 0 {
		kind, ok := jsonString(kindRaw)
		if !ok {
			f.err(CodeNoKind, fmt.Sprintf("kind is %s, not a string", shorten(kindRaw)), kindFix)
			return
		}
		fix := "the feature was skipped; " + kindFix + " if it belongs to the network"
		for _, name := range kindNames {
			if strings.EqualFold(strings.TrimSpace(kind), name) {
				fix = fmt.Sprintf("the feature was skipped; kinds are lower case: write %q", name)
			}
		}
		f.warn(CodeUnknownKind, fmt.Sprintf("unknown kind %q", kind), fix)
		return
	}
	f.kind = kindNames[f.k]

	if id, ok := f.parseID(idRaw, topID); ok {
		f.id, f.hasID = id, true
		if first, dup := rd.ids[f.k][id]; dup {
			f.err(CodeDuplicateID, fmt.Sprintf("%s id %q is already used by feature %d", f.kind, id, first),
				fmt.Sprintf("give every %s its own id (ids must be unique within a kind)", f.kind))
		} else {
			rd.ids[f.k][id] = idx
		}
	}

	switch f.k {
	case kPipe:
		rd.pipe(&f, geom)
	case kValve:
		rd.valve(&f, geom)
	case kSource:
		rd.source(&f, geom)
	case kHydrant:
		rd.hydrant(&f, geom)
	case kConnection:
		rd.connection(&f, geom)
	case kCustomer:
		rd.customer(&f, geom)
	case kDistrict:
		rd.district(&f, geom)
	}
}

func (f *feat) parseID(raw, topID []byte) (string, bool) {
	if isNull(raw) {
		fix := fmt.Sprintf(`add "id" to properties: a string unique among the %ss of the file`, f.kind)
		if !isNull(topID) {
			fix = `the feature has a top-level id; put the network id in properties as "id"`
		}
		f.err(CodeNoID, fmt.Sprintf("the %s has no properties.id", f.kind), fix)
		return "", false
	}
	id, ok := textValue(raw)
	if !ok {
		f.err(CodeBadID, fmt.Sprintf("id is %s; it must be a string (or a number)", shorten(raw)),
			`write the id as a JSON string, e.g. "id": "129"`)
		return "", false
	}
	if strings.TrimSpace(id) == "" {
		f.err(CodeNoID, fmt.Sprintf("the %s has an empty id", f.kind),
			fmt.Sprintf("give the %s a non-empty id", f.kind))
		return "", false
	}
	return id, true
}

// --- property helpers: null means absent everywhere ---

func (f *feat) text(v []byte, dst *string, name string) {
	if isNull(v) {
		return
	}
	s, ok := textValue(v)
	if !ok {
		f.err(CodeBadProperty, fmt.Sprintf("%s is %s; it must be a string", name, shorten(v)),
			fmt.Sprintf("write %s as a JSON string", name))
		return
	}
	*dst = s
}

// textInterned is text for values that repeat (material, district,
// category): equal values share one string.
func (f *feat) textInterned(v []byte, dst *string, name string) {
	if len(v) >= 2 && v[0] == '"' && bytes.IndexByte(v, '\\') < 0 && utf8.Valid(v) {
		*dst = f.rd.intern(v[1 : len(v)-1])
		return
	}
	f.text(v, dst, name)
}

func (f *feat) enum(v []byte, dst *string, name string, allowed []string, code string) {
	if isNull(v) {
		return
	}
	if len(v) >= 2 && v[0] == '"' {
		for _, a := range allowed {
			if string(v[1:len(v)-1]) == a {
				*dst = a
				return
			}
		}
		if s, ok := jsonString(v); ok {
			for _, a := range allowed {
				if s == a {
					*dst = a
					return
				}
			}
		}
	}
	f.err(code, fmt.Sprintf("%s is %s; it must be one of %s", name, shorten(v), strings.Join(allowed, ", ")),
		fmt.Sprintf("use one of %s (lower case), or leave %s out", strings.Join(allowed, ", "), name))
}

func (f *feat) boolean(v []byte, dst *bool, name, code string) {
	if isNull(v) {
		return
	}
	b, ok := boolValue(v)
	if !ok {
		f.err(code, fmt.Sprintf("%s is %s; it must be true or false", name, shorten(v)),
			fmt.Sprintf("write %s as JSON true or false (not a string or a number)", name))
		return
	}
	*dst = b
}

func (f *feat) addExtra(m map[string]any, p prop) map[string]any {
	if m == nil {
		m = make(map[string]any, min(len(f.rd.props), 8))
	}
	m[f.rd.intern(p.key)] = anyValue(p.val)
	return m
}

// --- kinds ---

func (rd *reader) pipe(f *feat, geom geomMember) {
	p := gis.Pipe{ID: f.id, Status: gis.StatusInService, Src: f.src()}
	hasDN := false
	for _, pr := range rd.props {
		v := pr.val
		switch string(pr.key) {
		case "dn":
			hasDN = true
			if isNull(v) {
				// Explicitly unknown: kept as DN 0, graded by the rules'
				// unknown-DN grade and flagged until a survey fixes it.
				f.warn(CodePipeUnknownDN, "dn is null: the diameter is unknown; the pipe is patrolled by the unknown-DN rule until it is surveyed",
					"survey the pipe and write its nominal diameter in mm")
				continue
			}
			n, ok := intValue(v)
			if !ok || n <= 0 {
				f.err(CodePipeBadDN, fmt.Sprintf("dn is %s; it must be a whole number of millimetres above 0", shorten(v)),
					`write the nominal diameter in mm as a JSON number, e.g. "dn": 110`)
				continue
			}
			p.DN = n
		case "dn_inferred":
			f.boolean(v, &p.DNInferred, "dn_inferred", CodeBadProperty)
		case "material":
			f.textInterned(v, &p.Material, "material")
		case "role":
			f.enum(v, &p.Role, "role", pipeRoles, CodePipeBadRole)
		case "crossing":
			f.enum(v, &p.Crossing, "crossing", pipeCrossing, CodePipeBadCross)
		case "status":
			f.enum(v, &p.Status, "status", pipeStatus, CodePipeBadStatus)
		case "install_year":
			if isNull(v) {
				continue
			}
			n, ok := intValue(v)
			if !ok || n < 0 || n > 9999 {
				f.err(CodePipeBadYear, fmt.Sprintf("install_year is %s; it must be a year such as 1998", shorten(v)),
					"write install_year as a whole JSON number, or leave it out when unknown")
				continue
			}
			p.InstallYear = n
		case "district":
			f.textInterned(v, &p.District, "district")
		default:
			p.Extra = f.addExtra(p.Extra, pr)
		}
	}
	if !hasDN {
		f.err(CodePipeBadDN, "the pipe has no dn",
			`add the nominal diameter in mm, e.g. "dn": 110 (if it is an estimate, add "dn_inferred": true; if it is unknown, "dn": null)`)
	}
	g, ok := f.geometry(geom, true)
	if ok {
		p.Geom, p.Z, ok = f.line(g)
	}
	if ok {
		checkVertices(f, p.Geom)
	}
	if f.nerr == 0 {
		rd.pipes.add(p)
	}
}

func checkVertices(f *feat, ls orb.LineString) {
	dups, first := 0, -1
	for i := 1; i < len(ls); i++ {
		if ls[i] == ls[i-1] {
			if dups == 0 {
				first = i
			}
			dups++
		}
	}
	switch {
	case dups == 0:
	case dups == len(ls)-1:
		f.warn(CodeZeroLength, fmt.Sprintf("all %d vertices of the pipe are at the same spot", len(ls)),
			"draw the pipe along its real course, or remove it")
	default:
		what := "a vertex that repeats the one before it"
		if dups > 1 {
			what = fmt.Sprintf("%d vertices that repeat the one before them", dups)
		}
		f.warn(CodeDuplicateVertices,
			fmt.Sprintf("the pipe has %s (the first is vertex %d, counting from 0)", what, first),
			"remove the repeated vertices (e.g. QGIS: Vector › Geometry Tools › Remove Duplicate Vertices)")
	}
}

func (rd *reader) valve(f *feat, geom geomMember) {
	v := gis.Valve{ID: f.id, NormallyOpen: true, Operable: true, Src: f.src()}
	for _, pr := range rd.props {
		val := pr.val
		switch string(pr.key) {
		case "pipe":
			f.text(val, &v.Pipe, "pipe")
		case "dn":
			if isNull(val) {
				continue
			}
			n, ok := intValue(val)
			if !ok || n <= 0 {
				f.err(CodeValveBadDN, fmt.Sprintf("dn is %s; it must be a whole number of millimetres above 0", shorten(val)),
					`write the valve's nominal diameter in mm as a JSON number, e.g. "dn": 110, or leave it out`)
				continue
			}
			v.DN = n
		case "normally_open":
			f.boolean(val, &v.NormallyOpen, "normally_open", CodeValveBadBool)
		case "operable":
			f.boolean(val, &v.Operable, "operable", CodeValveBadBool)
		default:
			v.Extra = f.addExtra(v.Extra, pr)
		}
	}
	g, ok := f.geometry(geom, true)
	if ok {
		v.Geom, v.Z, _, ok = f.point(g, true)
	}
	if f.nerr == 0 {
		rd.valves.add(v)
	}
}

func (rd *reader) source(f *feat, geom geomMember) {
	s := gis.Source{ID: f.id, Src: f.src()}
	for _, pr := range rd.props {
		switch string(pr.key) {
		case "type":
			if isNull(pr.val) {
				continue
			}
			t, ok := jsonString(pr.val)
			if !ok {
				f.err(CodeBadProperty, fmt.Sprintf("type is %s; it must be a string", shorten(pr.val)),
					"write type as one of "+strings.Join(sourceTypes, ", "))
				continue
			}
			s.Type = t
			known := false
			for _, a := range sourceTypes {
				if t == a {
					s.Type, known = a, true
				}
			}
			if !known {
				f.warn(CodeSourceType, fmt.Sprintf("unknown source type %q (kept)", t),
					"use one of "+strings.Join(sourceTypes, ", "))
			}
		default:
			s.Extra = f.addExtra(s.Extra, pr)
		}
	}
	g, ok := f.geometry(geom, true)
	if ok {
		s.Geom, s.Z, _, _ = f.point(g, true)
	}
	if f.nerr == 0 {
		rd.sources.add(s)
	}
}

func (rd *reader) hydrant(f *feat, geom geomMember) {
	h := gis.Hydrant{ID: f.id, Src: f.src()}
	for _, pr := range rd.props {
		switch string(pr.key) {
		case "pipe":
			f.text(pr.val, &h.Pipe, "pipe")
		default:
			h.Extra = f.addExtra(h.Extra, pr)
		}
	}
	g, ok := f.geometry(geom, true)
	if ok {
		h.Geom, h.Z, _, _ = f.point(g, true)
	}
	if f.nerr == 0 {
		rd.hydrants.add(h)
	}
}

func (rd *reader) connection(f *feat, geom geomMember) {
	c := gis.Connection{ID: f.id, Src: f.src()}
	for _, pr := range rd.props {
		switch string(pr.key) {
		case "pipe":
			f.text(pr.val, &c.Pipe, "pipe")
		default:
			c.Extra = f.addExtra(c.Extra, pr)
		}
	}
	g, ok := f.geometry(geom, true)
	if ok {
		c.Geom, c.Z, _, _ = f.point(g, true)
	}
	if f.nerr == 0 {
		rd.connections.add(c)
	}
}

func (rd *reader) customer(f *feat, geom geomMember) {
	c := gis.Customer{ID: f.id, Households: 1, Src: f.src()}
	for _, pr := range rd.props {
		v := pr.val
		switch string(pr.key) {
		case "connection":
			f.text(v, &c.Connection, "connection")
		case "pipe":
			f.text(v, &c.Pipe, "pipe")
		case "name":
			f.text(v, &c.Name, "name")
		case "address":
			f.text(v, &c.Address, "address")
		case "phone":
			f.text(v, &c.Phone, "phone")
		case "category":
			f.textInterned(v, &c.Category, "category")
		case "critical":
			f.boolean(v, &c.Critical, "critical", CodeBadProperty)
		case "households":
			if isNull(v) {
				continue
			}
			n, ok := intValue(v)
			if !ok || n < 1 {
				f.err(CodeCustBadHH, fmt.Sprintf("households is %s; it must be a whole number of at least 1", shorten(v)),
					"write households as a JSON number such as 1 or 12, or leave it out for 1")
				continue
			}
			c.Households = n
		default:
			c.Extra = f.addExtra(c.Extra, pr)
		}
	}
	g, ok := f.geometry(geom, false)
	if ok && g.typ != "" {
		var pt orb.Point
		var z []float64
		var present bool
		pt, z, present, ok = f.point(g, false)
		if ok && present {
			c.Geom, c.Z = &pt, z
		}
	}
	if f.nerr == 0 {
		if c.Geom == nil && c.Connection == "" && c.Pipe == "" {
			f.warn(CodeCustNoSupply, "the customer has no geometry, connection or pipe, so it can never be placed on the network",
				"give it a connection, a pipe or a point")
		}
		rd.customers.add(c)
	}
}

func (rd *reader) district(f *feat, geom geomMember) {
	d := gis.District{ID: f.id, Src: f.src()}
	for _, pr := range rd.props {
		switch string(pr.key) {
		case "name":
			f.text(pr.val, &d.Name, "name")
		case "manager":
			f.text(pr.val, &d.Manager, "manager")
		default:
			d.Extra = f.addExtra(d.Extra, pr)
		}
	}
	g, ok := f.geometry(geom, true)
	if ok {
		d.Geom, _ = f.area(g)
	}
	if f.nerr == 0 {
		rd.districts.add(d)
	}
}
