package repair

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

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
	b = appendJSONString(b, r.Leak.Pipe)
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
	b = appendJSONString(b, r.ClosingRule)
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
	return appendJSONFloat(b, f)
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
		b = appendJSONString(b, s)
	}
	b = append(b, ']')
	return b
}

func (e *jsonAppender) step(b []byte, s *ValveStep) []byte {
	b = append(b, `{"order":`...)
	b = strconv.AppendInt(b, int64(s.Order), 10)
	b = append(b, `,"id":`...)
	b = appendJSONString(b, s.ID)
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
		b = appendJSONString(b, c.ID)
		b = append(b, `,"name":`...)
		b = appendJSONString(b, c.Name)
		b = append(b, `,"address":`...)
		b = appendJSONString(b, c.Address)
		b = append(b, `,"phone":`...)
		b = appendJSONString(b, c.Phone)
		b = append(b, `,"category":`...)
		b = appendJSONString(b, c.Category)
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
	b = appendJSONString(b, fc.Type)
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
	b = appendJSONString(b, f.Type)
	b = append(b, `,"geometry":{"type":`...)
	b = appendJSONString(b, f.Geometry.Type)
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
	b = appendJSONString(b, f.Properties.Part)
	b = append(b, `,"pipe":`...)
	b = appendJSONString(b, f.Properties.Pipe)
	b = append(b, `,"from_m":`...)
	b = e.float(b, f.Properties.From)
	b = append(b, `,"to_m":`...)
	b = e.float(b, f.Properties.To)
	b = append(b, `}}`...)
	return b
}

func (e *jsonAppender) pointFeature(b []byte, f *pointFeature) []byte {
	b = append(b, `{"type":`...)
	b = appendJSONString(b, f.Type)
	b = append(b, `,"geometry":{"type":`...)
	b = appendJSONString(b, f.Geometry.Type)
	b = append(b, `,"coordinates":`...)
	b = e.pair(b, f.Geometry.Coordinates)
	b = append(b, `},"properties":{"id":`...)
	b = appendJSONString(b, f.Properties.ID)
	b = append(b, `,"role":`...)
	b = appendJSONString(b, f.Properties.Role)
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

// appendJSONFloat appends f (finite) as encoding/json writes a float64:
// the shortest decimal that reads back as f, in plain notation unless
// |f| < 1e-6 or |f| >= 1e21.
//
// Numbers with at most seven decimals — rounded coordinates in degrees,
// lengths in metres — take a short path through integers: when |f| lies
// in [1e-6, 1e8) and is the double nearest to m/1e7 for an integer m, the
// decimal m/1e7 is the shortest that reads back as f (any other decimal
// of as few digits lies on the same 1e-7 grid, far further from f than
// its rounding interval), so writing m with the decimal point put in and
// trailing zeros dropped gives strconv's digits.
func appendJSONFloat(b []byte, f float64) []byte {
	if abs := math.Abs(f); abs >= 1e-6 && abs < 1e8 {
		// m: f in units of 1e-7, rounded (how does not matter: the test
		// below accepts m only if f is the double nearest m/1e7).
		x := abs * 1e7
		u := int64(x + 0.5)
		if float64(u)/1e7 == abs {
			var d [24]byte
			i := len(d)
			ip, fp := u/10_000_000, u%10_000_000
			if fp != 0 {
				nd := 7
				for fp%10 == 0 {
					fp /= 10
					nd--
				}
				for ; nd > 0; nd-- {
					i--
					d[i] = byte('0' + fp%10)
					fp /= 10
				}
				i--
				d[i] = '.'
			}
			for {
				i--
				d[i] = byte('0' + ip%10)
				ip /= 10
				if ip == 0 {
					break
				}
			}
			if f < 0 {
				i--
				d[i] = '-'
			}
			return append(b, d[i:]...)
		}
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted as encoding/json writes a string
// without HTML escaping: quotation mark, backslash and control characters
// escaped, invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	// Most strings (ids) need no escaping: find the first byte that may.
	i := 0
	for i < len(s) && jsonPlain[s[i]] {
		i++
	}
	if i == len(s) {
		b = append(b, s...)
		return append(b, '"')
	}
	start := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonPlain[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// jsonPlain says which bytes a JSON string holds as they are: printable
// ASCII but the quotation mark and the backslash. (Bytes from 0x80 start
// UTF-8 sequences, which appendJSONString checks.) Read only.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()
