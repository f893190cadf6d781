package jsonw

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// stdJSON is encoding/json's Encoder without HTML escaping, less its
// trailing newline.
func stdJSON(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
}

func TestAppendFloat(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	check := func(f float64) {
		t.Helper()
		want, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendFloat(nil, f); !bytes.Equal(got, want) {
			t.Fatalf("%v (%x): got %s, want %s", f, math.Float64bits(f), got, want)
		}
	}
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 0.5, 1e-6, -1e-6, 9.99999e-7, 1e-7, 3e-7, -3e-7,
		1e7, 1e8, 99999999.9999999, 1e20, 1e21, 123456789012345678, 5e-324, math.MaxFloat64, -math.MaxFloat64,
		117.1234567, 36.6512345, 0.0000012, 12.25, 500123.45678912345, 4060000.123} {
		check(f)
		check(-f)
	}
	for i := 0; i < 2_000_000; i++ {
		var f float64
		switch i % 6 {
		case 0: // a coordinate in degrees, rounded as the plan does
			f = math.Round((r.Float64()*360-180)*1e7) / 1e7
		case 1: // a length rounded to 0.1 or 0.01 m
			f = math.Round(r.Float64()*1e5*100) / 100
		case 2: // a projected coordinate
			f = r.Float64() * 5e6
		case 3: // any magnitude
			f = math.Float64frombits(r.Uint64())
			if math.IsNaN(f) || math.IsInf(f, 0) {
				continue
			}
		case 4: // a small number with few decimals
			f = float64(r.IntN(2_000_000)-1_000_000) / math.Pow10(r.IntN(10))
		case 5: // near the 1e8 and 1e-6 edges
			f = []float64{1e8, 1e-6}[r.IntN(2)] * (1 + (r.Float64()-0.5)*1e-6)
			f = math.Round(f*1e7) / 1e7
		}
		check(f)
	}
}

func TestAppendString(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := []string{"a", "Z", "0", " ", `"`, `\`, "/", "<", ">", "&", "\x00", "\x01", "\b", "\f", "\n", "\r", "\t", "\x1f", "\x7f",
		"é", "济南", "经十路", "\u2028", "\u2029", "\ufffd", "\xff", "\xe6\xb5", "😀", "\xed\xa0\x80"}
	for i := 0; i < 200_000; i++ {
		var sb strings.Builder
		for k := r.IntN(12); k > 0; k-- {
			sb.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		s := sb.String()
		if got, want := AppendString(nil, s), stdJSON(t, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	}
}

// BenchmarkAppendFloat writes coordinates in degrees (seven decimals)
// and lengths in metres (two), as a plan's answer holds them.
func BenchmarkAppendFloat(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	fs := make([]float64, 1024)
	for i := range fs {
		if i%2 == 0 {
			fs[i] = math.Round((116+r.Float64())*1e7) / 1e7
		} else {
			fs[i] = math.Round(r.Float64()*1e5) / 100
		}
	}
	buf := make([]byte, 0, 64)
	for i := 0; b.Loop(); i++ {
		buf = AppendFloat(buf[:0], fs[i%len(fs)])
	}
}
