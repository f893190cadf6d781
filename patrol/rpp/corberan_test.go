package rpp

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

const sampleP01 = `NOMBRE : P01
COMENTARIO : converted from P01NoRPP (4th column = PRPP benefit dropped)
VERTICES : 11
ARISTAS_REQ : 7
ARISTAS_NOREQ : 6
LISTA_ARISTAS_REQ :
(   1,   2)  coste      3      3
(   3,   4)  coste      6      6
(   3,   5)  coste      1      1
(   5,   6)  coste      2      2
(   7,   8)  coste      8      8
(   9,  10)  coste      1      1
(  10,  11)  coste      4      4
LISTA_ARISTAS_NOREQ :
(   1,  10)  coste      5      5
(   2,   3)  coste     10     10
(   4,   5)  coste      1      1
(   4,   8)  coste      4      4
(   5,  11)  coste     22     22
(   6,   7)  coste      9      9
`

func TestReadCorberanSample(t *testing.T) {
	check := func(t *testing.T, text string) {
		g, name, err := ReadCorberan(strings.NewReader(text), "P01.txt")
		if err != nil {
			t.Fatal(err)
		}
		if name != "P01" || g.N != 11 || len(g.Edges) != 13 {
			t.Fatalf("name %q N %d edges %d", name, g.N, len(g.Edges))
		}
		nreq := 0
		for i, e := range g.Edges {
			if e.Required {
				nreq++
			}
			if e.Required != (i < 7) || e.ID != i {
				t.Fatalf("edge %d: %+v", i, e)
			}
		}
		if nreq != 7 {
			t.Fatalf("%d required", nreq)
		}
		if e := g.Edges[0]; e.U != 0 || e.V != 1 || e.Cost != 3 {
			t.Fatalf("first edge %+v", e)
		}
		if e := g.Edges[11]; e.U != 4 || e.V != 10 || e.Cost != 22 || e.Required {
			t.Fatalf("edge 11 %+v", e)
		}
	}
	t.Run("LF", func(t *testing.T) { check(t, sampleP01) })
	t.Run("CRLF", func(t *testing.T) { check(t, strings.ReplaceAll(sampleP01, "\n", "\r\n")) })
	t.Run("RISTAS_REQ", func(t *testing.T) {
		check(t, strings.Replace(sampleP01, "ARISTAS_REQ : 7", "RISTAS_REQ : 7", 1))
	})
	t.Run("blank lines and END", func(t *testing.T) {
		check(t, strings.ReplaceAll(sampleP01, "LISTA", "\nLISTA")+"\nEND\n")
	})
}

func TestReadCorberanErrors(t *testing.T) {
	cases := []struct {
		name, text, want string
	}{
		{"bad edge line", strings.Replace(sampleP01, "(   3,   4)  coste      6      6", "(   3,   4)  cost 6 6", 1), "bad.txt:8: bad edge line"},
		{"bad number", strings.Replace(sampleP01, "(   3,   4)  coste      6      6", "(   3,   x)  coste 6 6", 1), "bad.txt:8: bad edge line"},
		{"vertex out of range", strings.Replace(sampleP01, "(  10,  11)  coste      4      4", "(  10,  12)  coste      4      4", 1), "bad.txt:13: vertex out of range"},
		{"vertex zero", strings.Replace(sampleP01, "(   1,   2)  coste      3      3", "(   0,   2)  coste      3      3", 1), "bad.txt:7: vertex out of range"},
		{"too few required", strings.Replace(sampleP01, "ARISTAS_REQ : 7", "ARISTAS_REQ : 8", 1), "bad.txt:6: required edge list has 7 edges, header ARISTAS_REQ says 8"},
		{"too many required", strings.Replace(sampleP01, "ARISTAS_REQ : 7", "ARISTAS_REQ : 6", 1), "bad.txt:13: more edges than the header's count 6"},
		{"too few non-required", strings.Replace(sampleP01, "ARISTAS_NOREQ : 6", "ARISTAS_NOREQ : 9", 1), "bad.txt:14: non-required edge list has 6 edges, header ARISTAS_NOREQ says 9"},
		{"asymmetric", strings.Replace(sampleP01, "(   5,   6)  coste      2      2", "(   5,   6)  coste      2      3", 1), "bad.txt:10: asymmetric costs"},
		{"missing vertices", strings.Replace(sampleP01, "VERTICES : 11\n", "", 1), "bad.txt:5: LISTA_ARISTAS_REQ before VERTICES"},
		{"bad vertices", strings.Replace(sampleP01, "VERTICES : 11", "VERTICES : eleven", 1), "bad.txt:3: bad VERTICES value"},
		{"edge in header", strings.Replace(sampleP01, "LISTA_ARISTAS_REQ :\n", "", 1), "bad.txt:6: edge line outside"},
		{"garbage line", strings.Replace(sampleP01, "COMENTARIO", "hello world\nCOMENTARIO", 1), "bad.txt:2: unexpected line"},
		{"empty", "", "bad.txt:0: missing VERTICES header"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := ReadCorberan(strings.NewReader(c.text), "bad.txt")
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want it to contain %q", err, c.want)
			}
		})
	}
}

// writeCorberan serialises g (integral symmetric costs) in Corberán's format.
func writeCorberan(g Graph, name string) string {
	var b bytes.Buffer
	var req, noreq []Edge
	for _, e := range g.Edges {
		if e.Required {
			req = append(req, e)
		} else {
			noreq = append(noreq, e)
		}
	}
	fmt.Fprintf(&b, "NOMBRE : %s\nCOMENTARIO : test\nVERTICES : %d\nARISTAS_REQ : %d\nARISTAS_NOREQ : %d\n", name, g.N, len(req), len(noreq))
	fmt.Fprintf(&b, "LISTA_ARISTAS_REQ :\n")
	for _, e := range req {
		fmt.Fprintf(&b, "(%4d,%4d)  coste %6.0f %6.0f\n", e.U+1, e.V+1, e.Cost, e.Cost)
	}
	fmt.Fprintf(&b, "LISTA_ARISTAS_NOREQ :\n")
	for _, e := range noreq {
		fmt.Fprintf(&b, "(%4d,%4d)  coste %6.0f %6.0f\n", e.U+1, e.V+1, e.Cost, e.Cost)
	}
	return b.String()
}

func FuzzReadCorberan(f *testing.F) {
	f.Add(sampleP01)
	f.Add(strings.ReplaceAll(sampleP01, "\n", "\r\n"))
	f.Add(strings.Replace(sampleP01, "ARISTAS_REQ", "RISTAS_REQ", 1))
	f.Add(strings.Replace(sampleP01, "ARISTAS_REQ : 7", "ARISTAS_REQ : 8", 1))
	f.Add("VERTICES : 2\nARISTAS_REQ : 1\nLISTA_ARISTAS_REQ :\n(1,2) coste 5 5\n")
	f.Add("VERTICES : 1\nARISTAS_REQ : 1\nARISTAS_NOREQ : 0\nLISTA_ARISTAS_REQ :\n(1,1) coste 0 0\nLISTA_ARISTAS_NOREQ :\nEND\n")
	f.Add("(1,2) coste 5 5\n")
	f.Add("VERTICES : 99999999999999999999\n")
	f.Fuzz(func(t *testing.T, text string) {
		g, _, err := ReadCorberan(strings.NewReader(text), "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz:") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for i, e := range g.Edges {
			if e.U < 0 || e.U >= g.N || e.V < 0 || e.V >= g.N || e.Cost < 0 || e.ID != i {
				t.Fatalf("invalid edge %d: %+v (N=%d)", i, e, g.N)
			}
		}
		// Round trip.
		g2, _, err := ReadCorberan(strings.NewReader(writeCorberan(g, "rt")), "rt")
		if err != nil {
			t.Fatalf("round trip: %v", err)
		}
		if g2.N != g.N || len(g2.Edges) != len(g.Edges) {
			t.Fatalf("round trip changed the graph")
		}
		// Reorder g's edges (required first) and compare.
		var want []Edge
		for _, e := range g.Edges {
			if e.Required {
				want = append(want, e)
			}
		}
		for _, e := range g.Edges {
			if !e.Required {
				want = append(want, e)
			}
		}
		for i := range want {
			a, b := want[i], g2.Edges[i]
			if a.U != b.U || a.V != b.V || a.Cost != b.Cost || a.Required != b.Required {
				t.Fatalf("round trip edge %d: %+v vs %+v", i, a, b)
			}
		}
	})
}
