package netjson

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/waterline-gis/waterline/gis/jsonw"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/waterline-gis/waterline/gis"
)

// Write writes ds as a Network GeoJSON FeatureCollection, one feature per
// line: the legacy crs member "urn:ogc:def:crs:EPSG::<SRID>" when SRID is
// not 0, then pipes, valves, sources, hydrants, connections, customers and
// districts, each kind in slice order. Every property Read understands is
// written, except values that Read gives back anyway when they are absent
// (empty strings, zero dn and install_year, false dn_inferred and critical,
// households 1); valve normally_open/operable and pipe status are always
// written. Extra follows, keys sorted; an Extra key that names a property of
// the kind (or kind/id) is skipped, the field wins. Z is written when it
// has one value per vertex. Districts are written as MultiPolygons.
//
// For a Dataset as Read returns it (SRID or Proj set, Extra values of the
// types encoding/json decodes into), Read(Write(ds)) gives ds back, apart
// from Src, which names the new file. Write fails on values JSON cannot
// hold (NaN or infinite coordinates, Z of the wrong length, Extra values
// encoding/json cannot marshal) and on errors of w; the output is then
// incomplete.
func Write(w io.Writer, ds *gis.Dataset) error {
	if ds == nil {
		return errors.New("netjson: Write of a nil Dataset")
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	e := &enc{}
	b := e.buf[:0]
	b = append(b, `{"type":"FeatureCollection"`...)
	if ds.Name != "" {
		b = append(b, `,"name":`...)
		b = jsonw.AppendString(b, ds.Name)
	}
	if ds.SRID != 0 {
		b = append(b, `,"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::`...)
		b = strconv.AppendInt(b, int64(ds.SRID), 10)
		b = append(b, `"}}`...)
	}
	if ds.Proj != "" {
		b = append(b, `,"proj":`...)
		b = jsonw.AppendString(b, ds.Proj)
	}
	if len(ds.Provenance) > 0 {
		b = append(b, `,"provenance":{`...)
		for i, k := range slices.Sorted(maps.Keys(ds.Provenance)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonw.AppendString(b, k)
			b = append(b, ':')
			b = jsonw.AppendString(b, ds.Provenance[k])
		}
		b = append(b, '}')
	}
	b = append(b, `,"features":[`...)
	e.first = true
	e.buf = b

	// Each feature is encoded into e.buf and then written, so an error
	// names the feature and memory stays small.
	for i := range ds.Pipes {
		p := &ds.Pipes[i]
		e.begin(gis.KindPipe, p.ID)
		if p.DN != 0 {
			e.intProp("dn", p.DN)
		} else {
			e.key("dn") // unknown diameter
			e.buf = append(e.buf, "null"...)
		}
		if p.DNInferred {
			e.boolProp("dn_inferred", true)
		}
		e.strProp("material", p.Material)
		e.strProp("role", p.Role)
		e.strProp("crossing", p.Crossing)
		e.strProp("status", p.Status)
		if p.InstallYear != 0 {
			e.intProp("install_year", p.InstallYear)
		}
		e.strProp("district", p.District)
		e.extra(kPipe, p.Extra)
		e.lineGeom(p.Geom, p.Z)
		if err := e.finish(bw); err != nil {
			return err
		}
	}
	for i := range ds.Valves {
		v := &ds.Valves[i]
		e.begin(gis.KindValve, v.ID)
		e.strProp("pipe", v.Pipe)
		if v.DN != 0 {
			e.intProp("dn", v.DN)
		}
		e.boolProp("normally_open", v.NormallyOpen)
		e.boolProp("operable", v.Operable)
		e.extra(kValve, v.Extra)
		e.pointGeom(&v.Geom, v.Z)
		if err := e.finish(bw); err != nil {
			return err
		}
	}
	for i := range ds.Sources {
		s := &ds.Sources[i]
		e.begin(gis.KindSource, s.ID)
		e.strProp("type", s.Type)
		e.extra(kSource, s.Extra)
		e.pointGeom(&s.Geom, s.Z)
		if err := e.finish(bw); err != nil {
			return err
		}
	}
	for i := range ds.Hydrants {
		h := &ds.Hydrants[i]
		e.begin(gis.KindHydrant, h.ID)
		e.strProp("pipe", h.Pipe)
		e.extra(kHydrant, h.Extra)
		e.pointGeom(&h.Geom, h.Z)
		if err := e.finish(bw); err != nil {
			return err
		}
	}
	for i := range ds.Connections {
		c := &ds.Connections[i]
		e.begin(gis.KindConnection, c.ID)
		e.strProp("pipe", c.Pipe)
		e.extra(kConnection, c.Extra)
		e.pointGeom(&c.Geom, c.Z)
		if err := e.finish(bw); err != nil {
			return err
		}
	}
	for i := range ds.Customers {
		c := &ds.Customers[i]
		e.begin(gis.KindCustomer, c.ID)
		e.strProp("connection", c.Connection)
		e.strProp("pipe", c.Pipe)
		e.strProp("name", c.Name)
		e.strProp("address", c.Address)
		e.strProp("phone", c.Phone)
		e.strProp("category", c.Category)
		if c.Critical {
			e.boolProp("critical", true)
		}
		if c.Households != 1 && c.Households != 0 {
			e.intProp("households", c.Households)
		}
		e.extra(kCustomer, c.Extra)
		e.pointGeom(c.Geom, c.Z)
		if err := e.finish(bw); err != nil {
			return err
		}
	}
	for i := range ds.Districts {
		d := &ds.Districts[i]
		e.begin(gis.KindDistrict, d.ID)
		e.strProp("name", d.Name)
		e.strProp("manager", d.Manager)
		e.extra(kDistrict, d.Extra)
		e.areaGeom(d.Geom)
		if err := e.finish(bw); err != nil {
			return err
		}
	}
	e.buf = append(e.buf, "\n]}\n"...)
	if _, err := bw.Write(e.buf); err != nil {
		return err
	}
	return bw.Flush()
}

// enc encodes one feature at a time into buf.
type enc struct {
	buf   []byte
	first bool   // no feature written yet
	label string // kind:id of the feature being written
	err   error  // first error of the feature
	tmp   bytes.Buffer
	je    *json.Encoder
}

// finish closes the feature and writes it.
func (e *enc) finish(bw *bufio.Writer) error {
	e.buf = append(e.buf, '}')
	if e.err != nil {
		return e.err
	}
	_, err := bw.Write(e.buf)
	e.buf = e.buf[:0]
	return err
}

func (e *enc) begin(kind, id string) {
	e.label = kind + ":" + id
	e.err = nil
	if e.first {
		e.buf = append(e.buf, '\n')
		e.first = false
	} else {
		e.buf = append(e.buf, ",\n"...)
	}
	e.buf = append(e.buf, `{"type":"Feature","properties":{"kind":"`...)
	e.buf = append(e.buf, kind...)
	e.buf = append(e.buf, `","id":`...)
	e.buf = jsonw.AppendString(e.buf, id)
}

func (e *enc) setErr(format string, args ...any) {
	if e.err == nil {
		e.err = fmt.Errorf("netjson: writing %s: %s", e.label, fmt.Sprintf(format, args...))
	}
}

func (e *enc) key(k string) {
	e.buf = append(e.buf, ',')
	e.buf = jsonw.AppendString(e.buf, k)
	e.buf = append(e.buf, ':')
}

func (e *enc) strProp(k, v string) {
	if v != "" {
		e.key(k)
		e.buf = jsonw.AppendString(e.buf, v)
	}
}

func (e *enc) intProp(k string, v int) {
	e.key(k)
	e.buf = strconv.AppendInt(e.buf, int64(v), 10)
}

func (e *enc) boolProp(k string, v bool) {
	e.key(k)
	e.buf = strconv.AppendBool(e.buf, v)
}

func (e *enc) extra(k int, m map[string]any) {
	if len(m) == 0 {
		return
	}
	keys := make([]string, 0, len(m))
	for key := range m {
		if key == "kind" || key == "id" || slices.Contains(known[k], key) {
			continue
		}
		keys = append(keys, key)
	}
	slices.Sort(keys)
	if e.je == nil {
		e.je = json.NewEncoder(&e.tmp)
		e.je.SetEscapeHTML(false)
	}
	for _, key := range keys {
		e.key(key)
		switch v := m[key].(type) {
		case string:
			e.buf = jsonw.AppendString(e.buf, v)
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				e.setErr("property %q is %v, which JSON cannot hold", key, v)
				e.buf = append(e.buf, "null"...)
				continue
			}
			e.buf = jsonw.AppendFloat(e.buf, v)
		case bool:
			e.buf = strconv.AppendBool(e.buf, v)
		case nil:
			e.buf = append(e.buf, "null"...)
		default:
			e.tmp.Reset()
			if err := e.je.Encode(v); err != nil {
				e.setErr("property %q: %v", key, err)
				e.buf = append(e.buf, "null"...)
				continue
			}
			e.buf = append(e.buf, bytes.TrimRight(e.tmp.Bytes(), "\n")...)
		}
	}
}

func (e *enc) coord(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		e.setErr("coordinate %v is not finite", v)
		v = 0
	}
	e.buf = jsonw.AppendFloat(e.buf, v)
}

func (e *enc) position(p orb.Point, z []float64, i int) {
	e.buf = append(e.buf, '[')
	e.coord(p[0])
	e.buf = append(e.buf, ',')
	e.coord(p[1])
	if z != nil {
		e.buf = append(e.buf, ',')
		e.coord(z[i])
	}
	e.buf = append(e.buf, ']')
}

// zFor checks a Z slice against the number of vertices: nil or empty is
// 2-D.
func (e *enc) zFor(z []float64, n int) []float64 {
	if len(z) == 0 {
		return nil
	}
	if len(z) != n {
		e.setErr("Z has %d values for %d vertices", len(z), n)
		return nil
	}
	return z
}

func (e *enc) pointGeom(p *orb.Point, z []float64) {
	e.buf = append(e.buf, `},"geometry":`...)
	if p == nil {
		e.buf = append(e.buf, "null"...)
		return
	}
	e.buf = append(e.buf, `{"type":"Point","coordinates":`...)
	e.position(*p, e.zFor(z, 1), 0)
	e.buf = append(e.buf, '}')
}

func (e *enc) lineGeom(ls orb.LineString, z []float64) {
	e.buf = append(e.buf, `},"geometry":`...)
	if ls == nil {
		e.buf = append(e.buf, "null"...)
		return
	}
	e.buf = append(e.buf, `{"type":"LineString","coordinates":`...)
	e.points(ls, e.zFor(z, len(ls)))
	e.buf = append(e.buf, '}')
}

func (e *enc) points(pts []orb.Point, z []float64) {
	e.buf = append(e.buf, '[')
	for i, p := range pts {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.position(p, z, i)
	}
	e.buf = append(e.buf, ']')
}

func (e *enc) areaGeom(mp orb.MultiPolygon) {
	e.buf = append(e.buf, `},"geometry":`...)
	if mp == nil {
		e.buf = append(e.buf, "null"...)
		return
	}
	e.buf = append(e.buf, `{"type":"MultiPolygon","coordinates":[`...)
	for i, poly := range mp {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = append(e.buf, '[')
		for j, ring := range poly {
			if j > 0 {
				e.buf = append(e.buf, ',')
			}
			e.points(ring, nil)
		}
		e.buf = append(e.buf, ']')
	}
	e.buf = append(e.buf, "]}"...)
}
