package gis

import (
	"fmt"
	"slices"
	"testing"
)

func TestStrings(t *testing.T) {
	vals := []string{"P1", "", "管-3", "济南市中心医院", ""}
	s := StringsOf(vals...)
	if s.Len() != len(vals) || !slices.Equal(s.Slice(), vals) {
		t.Fatalf("got %q, want %q", s.Slice(), vals)
	}
	for i, v := range vals {
		if s.At(i) != v {
			t.Errorf("At(%d) = %q, want %q", i, s.At(i), v)
		}
	}
	// AddBytes copies: the caller may reuse its bytes.
	var b StringsBuilder
	buf := []byte("abc")
	b.AddBytes(buf)
	copy(buf, "xyz")
	b.Add("d")
	got := b.Strings()
	if got.At(0) != "abc" || got.At(1) != "d" || got.String() != "[abc d]" {
		t.Fatalf("builder: %v", got)
	}
	if b.Strings().Len() != 0 {
		t.Fatal("the builder is not empty after Strings")
	}
	var zero Strings
	if zero.Len() != 0 || len(zero.Slice()) != 0 {
		t.Fatal("zero value is not empty")
	}
}

func TestStringIndex(t *testing.T) {
	var b StringsBuilder
	for i := range 5000 {
		b.Add(fmt.Sprintf("P%d", i))
	}
	b.Add("P7") // a duplicate: the last position wins, as map assignment does
	b.Add("")
	col := b.Strings()
	x := NewStringIndex(col)
	for i := range 5000 {
		want := int32(i)
		if i == 7 {
			want = 5000
		}
		if got, ok := x.Find(fmt.Sprintf("P%d", i)); !ok || got != want {
			t.Fatalf("P%d: %d %v, want %d", i, got, ok, want)
		}
	}
	if got, ok := x.Find(""); !ok || got != 5001 {
		t.Fatalf("the empty value: %d %v", got, ok)
	}
	for _, s := range []string{"P5000", "p1", "P-1", " P1"} {
		if got, ok := x.Find(s); ok {
			t.Fatalf("%q found at %d", s, got)
		}
	}
	if _, ok := NewStringIndex(Strings{}).Find("x"); ok {
		t.Fatal("found in an empty column")
	}
}

func TestRanks(t *testing.T) {
	vals := []string{"P10", "P9", "", "管-3", "P10", "A", "p1"}
	s := StringsOf(vals...)
	rank := s.Ranks()
	for i := range vals {
		for j := range vals {
			want := vals[i] < vals[j] || vals[i] == vals[j] && i < j
			if got := rank[i] < rank[j]; got != want {
				t.Errorf("rank[%d]=%d < rank[%d]=%d is %v; %q before %q is %v", i, rank[i], j, rank[j], got, vals[i], vals[j], want)
			}
		}
	}
}
