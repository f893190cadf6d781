package netjson

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
)

// This file walks JSON values that json.Decoder has already validated
// (Decoder.Decode into a json.RawMessage checks the syntax of the whole
// value), so it only has to find boundaries, not to diagnose. It still
// never indexes out of range: a fuzzer feeds it whatever the decoder lets
// through.

// cur is a cursor over one valid JSON value.
type cur struct {
	b []byte
	i int
}

func (c *cur) ws() {
	for c.i < len(c.b) {
		switch c.b[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

// peek skips white space and returns the next byte (0 at the end).
func (c *cur) peek() byte {
	c.ws()
	if c.i < len(c.b) {
		return c.b[c.i]
	}
	return 0
}

// skipString consumes a string starting at the opening quote and reports
// whether it holds escapes.
func (c *cur) skipString() (escaped bool) {
	c.i++
	for c.i < len(c.b) {
		q := bytes.IndexByte(c.b[c.i:], '"')
		if q < 0 {
			c.i = len(c.b)
			return escaped
		}
		bs := bytes.IndexByte(c.b[c.i:c.i+q], '\\')
		if bs < 0 {
			c.i += q + 1
			return escaped
		}
		escaped = true
		c.i += bs + 2
	}
	return escaped
}

// value consumes one value and returns its bytes.
func (c *cur) value() []byte {
	c.ws()
	start := c.i
	if c.i >= len(c.b) {
		return nil
	}
	switch c.b[c.i] {
	case '"':
		c.skipString()
	case '{', '[':
		depth := 0
		for c.i < len(c.b) {
			ch := c.b[c.i]
			if !structural[ch] {
				c.i++
				continue
			}
			switch ch {
			case '"':
				c.skipString()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					c.i++
					return c.b[start:c.i]
				}
			}
			c.i++
		}
	default: // number, true, false, null
		c.scalarEnd()
	}
	return c.b[start:c.i]
}

// scalarEnd moves past a number or literal.
func (c *cur) scalarEnd() {
	for c.i < len(c.b) && !endsScalar[c.b[c.i]] {
		c.i++
	}
}

var endsScalar = [256]bool{',': true, ']': true, '}': true, ':': true, ' ': true, '\t': true, '\n': true, '\r': true}

// structural marks the bytes that matter when skipping a container.
var structural = [256]bool{'"': true, '[': true, ']': true, '{': true, '}': true}

// objIter iterates the members of an object.
type objIter struct {
	c     cur
	first bool
}

// newObjIter returns an iterator, or false when raw is not an object.
func newObjIter(raw []byte) (objIter, bool) {
	it := objIter{c: cur{b: raw}, first: true}
	if it.c.peek() != '{' {
		return it, false
	}
	it.c.i++
	return it, true
}

// next returns the next member: its key (unquoted; decoded when it holds
// escapes) and its raw value.
func (it *objIter) next() (key []byte, val []byte, ok bool) {
	key, ok = it.nextKey()
	if !ok {
		return nil, nil, false
	}
	val = it.c.value()
	if len(val) == 0 {
		return nil, nil, false
	}
	return key, val, true
}

// nextKey returns the next member's key and leaves the cursor at its
// value, which the caller must consume.
func (it *objIter) nextKey() (key []byte, ok bool) {
	ch := it.c.peek()
	if ch == ',' {
		it.c.i++
		ch = it.c.peek()
	}
	if ch != '"' {
		return nil, false
	}
	start := it.c.i
	esc := it.c.skipString()
	if it.c.i-1 <= start {
		return nil, false
	}
	key = it.c.b[start+1 : it.c.i-1]
	if esc || !utf8.Valid(key) {
		var s string
		if json.Unmarshal(it.c.b[start:it.c.i], &s) == nil {
			key = []byte(s)
		}
	}
	if it.c.peek() != ':' {
		return nil, false
	}
	it.c.i++
	it.c.ws()
	return key, true
}

// --- scalar values ---

func isNull(raw []byte) bool { return len(raw) == 0 || (raw[0] == 'n') }

func isNumber(raw []byte) bool {
	return len(raw) > 0 && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'))
}

// jsonString returns the value of a JSON string.
func jsonString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), true
	}
	// Escapes or invalid UTF-8: let encoding/json decide (it replaces
	// invalid bytes with U+FFFD, as for every other string it decodes).
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// isIntLiteral reports whether a JSON number is written as an integer.
func isIntLiteral(raw []byte) bool {
	for i, ch := range raw {
		if ch == '-' && i == 0 {
			continue
		}
		if ch < '0' || ch > '9' {
			return false
		}
	}
	return len(raw) > 0 && raw[len(raw)-1] != '-'
}

// numberText renders a JSON number as a decimal string: integer literals
// as written, other numbers in shortest decimal form (12.0 → "12", 1e3 →
// "1000"). ok is false for numbers that overflow float64.
func numberText(raw []byte) (string, bool) {
	if isIntLiteral(raw) {
		return string(raw), true
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return "", false
	}
	if f == 0 {
		f = 0 // no "-0"
	}
	return strconv.FormatFloat(f, 'f', -1, 64), true
}

// textValue accepts a string, or a number rendered by numberText.
func textValue(raw []byte) (string, bool) {
	if isNumber(raw) {
		return numberText(raw)
	}
	return jsonString(raw)
}

// intValue accepts a JSON number with an integral value within int32.
func intValue(raw []byte) (int, bool) {
	if !isNumber(raw) {
		return 0, false
	}
	if isIntLiteral(raw) {
		n, err := strconv.ParseInt(string(raw), 10, 32)
		return int(n), err == nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

func boolValue(raw []byte) (v bool, ok bool) {
	switch string(raw) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// anyValue decodes an arbitrary property value for Extra, as encoding/json
// decodes into an interface (string, float64, bool, nil, []any,
// map[string]any), except that a number that overflows float64 is kept as
// a json.Number so that it is written back unchanged.
func anyValue(raw []byte) any {
	if len(raw) == 0 {
		return nil
	}
	switch raw[0] {
	case '"':
		if s, ok := jsonString(raw); ok {
			return s
		}
	case 't':
		return true
	case 'f':
		return false
	case 'n':
		return nil
	case '{', '[':
		var v any
		if json.Unmarshal(raw, &v) == nil {
			return v
		}
	default:
		f, err := strconv.ParseFloat(string(raw), 64)
		if err == nil {
			return f
		}
		return json.Number(string(raw))
	}
	// Something encoding/json refused to put in an interface: an
	// overflowing number inside an array or object.
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return json.RawMessage(append([]byte(nil), raw...))
	}
	return floatNumbers(v)
}

// floatNumbers turns every json.Number that fits a float64 into one.
func floatNumbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		if f, err := strconv.ParseFloat(string(t), 64); err == nil {
			return f
		}
		return t
	case []any:
		for i := range t {
			t[i] = floatNumbers(t[i])
		}
	case map[string]any:
		for k := range t {
			t[k] = floatNumbers(t[k])
		}
	}
	return v
}

// shorten renders a raw value for a message.
func shorten(raw []byte) string {
	const max = 40
	s := string(raw)
	if len(raw) > max {
		n := max
		for n > 0 && !utf8.RuneStart(raw[n]) {
			n--
		}
		s = string(raw[:n]) + "…"
	}
	if !utf8.ValidString(s) {
		s = strconv.Quote(s)
	}
	return s
}
