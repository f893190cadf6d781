package schedule

import "testing"

// FuzzParseDay: date=, from=, to= of the patrol API. A day it accepts
// prints back as itself.
func FuzzParseDay(f *testing.F) {
	for _, s := range []string{"2026-03-02", "2026-02-29", "0000-01-01", "9999-12-31", "2026-3-2", "", "2026-03-02T00:00:00Z", "２０２６-03-02"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDay(s)
		if err != nil {
			return
		}
		if d2, err := ParseDay(d.String()); err != nil || d2 != d {
			t.Fatalf("ParseDay(%q) = %v, which reads back as %v, %v", s, d, d2, err)
		}
	})
}
