package repair

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/waterline-gis/waterline/gis/jsonw"
	"math"
	"strconv"

	"github.com/waterline-gis/waterline/gis/store"
)

// AppendJSON appends the JSON encoding of r to dst and returns the
// extended buffer. The bytes are exactly those encoding/json's Encoder
// writes for r with SetEscapeHTML(false), without the Encoder's trailing
// newline; the encoding is written out field by field instead of by
// reflection, because a plan answer is large (tens of kilobytes) and asked
// for often. A float that is not finite is an error, as for encoding/json;
// the bytes appended then are undefined.
func (r *PlanResponse) AppendJSON(dst []byte) ([]byte, error) {
	var e jsonAppender
	b := dst
	b = append(b, `{"network_version":`...)
	b = strconv.AppendInt(b, r.NetworkVersion, 10)
	b = append(b, `,"leak":{"pipe":`...)
	b = jsonw.AppendString(b, r.Leak.Pipe)
	b = append(b, `,"at":`...)
	b = e.float(b, r.Leak.At)
	b = append(b, `,"s_m":`...)
	b = e.float(b, r.Leak.S)
	b = append(b, `,"x":`...)
	b = e.float(b, r.Leak.X)
	b = append(b, `,"y":`...)
	b = e.float(b, r.Leak.Y)
	b = append(b, `,"lon":`...)
	b = e.float(b, r.Leak.Lon)
	b = append(b, `,"lat":`...)
	b = e.float(b, r.Leak.Lat)
	b = append(b, `,"dn":`...)
	b = strconv.AppendInt(b, int64(r.Leak.DN), 10)
	b = append(b, `},"valves_to_close":`...)
	b = e.strs(b, r.ValvesToClose)
	b = append(b, `,"valves_dry_side":`...)
	b = e.strs(b, r.ValvesDrySide)
	b = append(b, `,"valves_already_closed":`...)
	b = e.strs(b, r.ValvesAlreadyClosed)
	b = append(b, `,"valves_failed":`...)
	b = e.strs(b, r.ValvesFailed)
	b = append(b, `,"segment_pipes":`...)
	b = e.strs(b, r.SegmentPipes)
	b = append(b, `,"unintended_pipes":`...)
	b = e.strs(b, r.UnintendedPipes)
	b = append(b, `,"connections":`...)
	b = e.strs(b, r.Connections)
	b = append(b, `,"customers":`...)
	b = e.strs(b, r.Customers)
	b = append(b, `,"critical_customers":`...)
	b = e.strs(b, r.CriticalCustomers)
	b = append(b, `,"hydrants":`...)
	b = e.strs(b, r.Hydrants)
	b = append(b, `,"households":`...)
	b = strconv.AppendInt(b, r.Households, 10)
	b = append(b, `,"length_m":`...)
	b = e.float(b, r.LengthM)
	b = append(b, `,"segment_length_m":`...)
	b = e.float(b, r.SegmentLengthM)
	b = append(b, `,"unintended_length_m":`...)
	b = e.float(b, r.UnintendedLengthM)
	b = append(b, `,"closing_rule":`...)
	b = jsonw.AppendString(b, r.ClosingRule)
	b = append(b, `,"closing_order":`...)
	if r.ClosingOrder == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for k := range r.ClosingOrder {
			if k > 0 {
				b = append(b, ',')
			}
			b = e.step(b, &r.ClosingOrder[k])
		}
		b = append(b, ']')
	}
	b = append(b, `,"critical":`...)
	b = e.customers(b, r.Critical)
	b = append(b, `,"range":`...)
	b = e.collection(b, r.Range)
	b = append(b, `,"valves":`...)
	b = e.collection(b, r.Valves)
	b = append(b, '}')
	return b, e.err
}

// sameSlice reports whether a and b are the same slice (same elements in
// the same memory), as opposed to equal ones.
func sameSlice(a, b []string) bool {
	return len(a) == len(b) && cap(a) == cap(b) && (a == nil) == (b == nil) && (len(a) == 0 || &a[0] == &b[0])
}

// jsonAppender appends JSON values; the first error sticks. (The buffer
// goes through arguments and results rather than a field: appending to a
// local slice needs no write barrier while the collector runs.)
type jsonAppender struct {
	err error
}

func (e *jsonAppender) float(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		if e.err == nil {
			e.err = fmt.Errorf("repair: plan answer: unsupported value %v", f)
		}
		return append(b, "null"...)
	}
	return jsonw.AppendFloat(b, f)
}

// strs writes a string slice; nil is null, as for encoding/json.
func (e *jsonAppender) strs(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonw.AppendString(b, s)
	}
	b = append(b, ']')
	return b
}

func (e *jsonAppender) step(b []byte, s *ValveStep) []byte {
	b = append(b, `{"order":`...)
	b = strconv.AppendInt(b, int64(s.Order), 10)
	b = append(b, `,"id":`...)
	b = jsonw.AppendString(b, s.ID)
	b = append(b, `,"dn":`...)
	b = strconv.AppendInt(b, int64(s.DN), 10)
	b = append(b, `,"x":`...)
	b = e.float(b, s.X)
	b = append(b, `,"y":`...)
	b = e.float(b, s.Y)
	b = append(b, `,"lon":`...)
	b = e.float(b, s.Lon)
	b = append(b, `,"lat":`...)
	b = e.float(b, s.Lat)
	b = append(b, `,"from_previous_m":`...)
	b = e.float(b, s.FromPrevM)
	b = append(b, `,"holds_back":`...)
	if s.holdsJSON != nil && sameSlice(s.HoldsBack, s.holds) {
		// the far side's pipes, encoded once per network
		b = append(b, s.holdsJSON...)
	} else {
		b = e.strs(b, s.HoldsBack)
	}
	if f := s.IfFails; f != nil {
		b = append(b, `,"if_fails":{"extra_valves":`...)
		b = e.strs(b, f.ExtraValves)
		b = append(b, `,"extra_customers":`...)
		b = strconv.AppendInt(b, int64(f.ExtraCustomers), 10)
		b = append(b, `,"extra_households":`...)
		b = strconv.AppendInt(b, f.ExtraHouseholds, 10)
		b = append(b, `,"extra_length_m":`...)
		b = e.float(b, f.ExtraLengthM)
		b = append(b, '}')
	}
	b = append(b, '}')
	return b
}

func (e *jsonAppender) customers(b []byte, cs []store.CustomerInfo) []byte {
	if cs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range cs {
		c := &cs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = jsonw.AppendString(b, c.ID)
		b = append(b, `,"name":`...)
		b = jsonw.AppendString(b, c.Name)
		b = append(b, `,"address":`...)
		b = jsonw.AppendString(b, c.Address)
		b = append(b, `,"phone":`...)
		b = jsonw.AppendString(b, c.Phone)
		b = append(b, `,"category":`...)
		b = jsonw.AppendString(b, c.Category)
		b = append(b, `,"critical":`...)
		b = strconv.AppendBool(b, c.Critical)
		b = append(b, `,"households":`...)
		b = strconv.AppendInt(b, int64(c.Households), 10)
		b = append(b, '}')
	}
	b = append(b, ']')
	return b
}

func (e *jsonAppender) collection(b []byte, fc FeatureCollection) []byte {
	b = append(b, `{"type":`...)
	b = jsonw.AppendString(b, fc.Type)
	b = append(b, `,"features":`...)
	switch fs := fc.Features.(type) {
	case []lineFeature:
		if fs == nil {
			b = append(b, "null"...)
			break
		}
		b = append(b, '[')
		for i := range fs {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.lineFeature(b, &fs[i])
		}
		b = append(b, ']')
	case []pointFeature:
		if fs == nil {
			b = append(b, "null"...)
			break
		}
		b = append(b, '[')
		for i := range fs {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.pointFeature(b, &fs[i])
		}
		b = append(b, ']')
	default:
		b = e.reflect(b, fs)
	}
	b = append(b, '}')
	return b
}

func (e *jsonAppender) lineFeature(b []byte, f *lineFeature) []byte {
	b = append(b, `{"type":`...)
	b = jsonw.AppendString(b, f.Type)
	b = append(b, `,"geometry":{"type":`...)
	b = jsonw.AppendString(b, f.Geometry.Type)
	b = append(b, `,"coordinates":`...)
	if f.Geometry.Coordinates == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, c := range f.Geometry.Coordinates {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.pair(b, c)
		}
		b = append(b, ']')
	}
	b = append(b, `},"properties":{"part":`...)
	b = jsonw.AppendString(b, f.Properties.Part)
	b = append(b, `,"pipe":`...)
	b = jsonw.AppendString(b, f.Properties.Pipe)
	b = append(b, `,"from_m":`...)
	b = e.float(b, f.Properties.From)
	b = append(b, `,"to_m":`...)
	b = e.float(b, f.Properties.To)
	b = append(b, `}}`...)
	return b
}

func (e *jsonAppender) pointFeature(b []byte, f *pointFeature) []byte {
	b = append(b, `{"type":`...)
	b = jsonw.AppendString(b, f.Type)
	b = append(b, `,"geometry":{"type":`...)
	b = jsonw.AppendString(b, f.Geometry.Type)
	b = append(b, `,"coordinates":`...)
	b = e.pair(b, f.Geometry.Coordinates)
	b = append(b, `},"properties":{"id":`...)
	b = jsonw.AppendString(b, f.Properties.ID)
	b = append(b, `,"role":`...)
	b = jsonw.AppendString(b, f.Properties.Role)
	b = append(b, `,"dn":`...)
	b = strconv.AppendInt(b, int64(f.Properties.DN), 10)
	if f.Properties.Order != 0 {
		b = append(b, `,"order":`...)
		b = strconv.AppendInt(b, int64(f.Properties.Order), 10)
	}
	b = append(b, `}}`...)
	return b
}

func (e *jsonAppender) pair(b []byte, c [2]float64) []byte {
	b = append(b, '[')
	b = e.float(b, c[0])
	b = append(b, ',')
	b = e.float(b, c[1])
	b = append(b, ']')
	return b
}

// reflect writes v with encoding/json (features of a type this file does
// not know).
func (e *jsonAppender) reflect(b []byte, v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		if e.err == nil {
			e.err = err
		}
		return append(b, "null"...)
	}
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})...)
}
