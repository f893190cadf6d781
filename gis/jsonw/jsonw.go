// Package jsonw appends JSON numbers and strings to byte slices exactly
// as encoding/json writes them (with HTML escaping off), for the
// hand-written encoders of large answers: the Network GeoJSON writer and
// the shutoff plan. Tests hold every output byte-equal to encoding/json.
package jsonw

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// AppendFloat appends f (finite) as encoding/json writes a float64:
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
func AppendFloat(b []byte, f float64) []byte {
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
				// Drop trailing zeros, then write the nd digits left
				// two at a time.
				nd := 7
				for fp%100 == 0 {
					fp /= 100
					nd -= 2
				}
				if fp%10 == 0 {
					fp /= 10
					nd--
				}
				for ; nd >= 2; nd -= 2 {
					i -= 2
					q := 2 * (fp % 100)
					d[i], d[i+1] = digitPairs[q], digitPairs[q+1]
					fp /= 100
				}
				if nd == 1 {
					i--
					d[i] = byte('0' + fp)
				}
				i--
				d[i] = '.'
			}
			for ip >= 10 {
				i -= 2
				q := 2 * (ip % 100)
				d[i], d[i+1] = digitPairs[q], digitPairs[q+1]
				ip /= 100
			}
			if ip > 0 || i == len(d) || d[i] == '.' {
				i--
				d[i] = byte('0' + ip)
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

// digitPairs are "00" to "99", for writing two decimal digits at once.
const digitPairs = "00010203040506070809" + "10111213141516171819" + "20212223242526272829" +
	"30313233343536373839" + "40414243444546474849" + "50515253545556575859" + "60616263646566676869" +
	"70717273747576777879" + "80818283848586878889" + "90919293949596979899"

// AppendString appends s quoted as encoding/json writes a string
// without HTML escaping: quotation mark, backslash and control characters
// escaped, invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped.
func AppendString(b []byte, s string) []byte {
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
// UTF-8 sequences, which AppendString checks.) Read only.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()
