package gis

import (
	"cmp"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"strings"
)

// Strings is a read-only column of strings kept in one buffer. A []string
// holds a pointer per value, which the garbage collector walks on every
// cycle; a Strings of a million customer ids is two objects, one of them
// without pointers, so the loaded network costs the collector next to
// nothing. The zero value is an empty column. Build one with
// StringsBuilder or StringsOf.
type Strings struct {
	data string
	end  []uint32 // end of value i in data
}

// Len is the number of values.
func (s Strings) Len() int { return len(s.end) }

// At is value i (0 <= i < Len), sharing the column's memory.
func (s Strings) At(i int) string {
	start := uint32(0)
	if i > 0 {
		start = s.end[i-1]
	}
	return s.data[start:s.end[i]]
}

// Slice returns the values as a []string (sharing the column's memory),
// for tests and small columns.
func (s Strings) Slice() []string {
	out := make([]string, s.Len())
	for i := range out {
		out[i] = s.At(i)
	}
	return out
}

// String formats the values as a []string does.
func (s Strings) String() string { return fmt.Sprint(s.Slice()) }

// StringsOf copies ss into a column.
func StringsOf(ss ...string) Strings {
	var b StringsBuilder
	for _, s := range ss {
		b.Add(s)
	}
	return b.Strings()
}

// StringsBuilder collects the values of a column. The zero value is
// ready to use.
type StringsBuilder struct {
	buf []byte
	end []uint32
}

// Add appends a value.
func (b *StringsBuilder) Add(s string) {
	b.buf = append(b.buf, s...)
	b.mark()
}

// AddBytes appends a value given as bytes (copied: they may be a
// database driver's memory).
func (b *StringsBuilder) AddBytes(v []byte) {
	b.buf = append(b.buf, v...)
	b.mark()
}

func (b *StringsBuilder) mark() {
	if len(b.buf) > math.MaxUint32 {
		panic("gis: a Strings column is limited to 4 GiB")
	}
	b.end = append(b.end, uint32(len(b.buf)))
}

// Strings returns the column; the builder is empty afterwards.
func (b *StringsBuilder) Strings() Strings {
	s := Strings{data: string(b.buf), end: b.end}
	*b = StringsBuilder{}
	return s
}

// StringIndex finds values in a Strings column: an open-addressing hash
// table of positions, without pointers (a map[string]int32 of a million
// ids is a million pointers for the garbage collector to walk). When a
// value occurs more than once, the last position wins.
type StringIndex struct {
	col   Strings
	seed  maphash.Seed
	slots []int32 // position+1; 0: empty
	mask  uint64
}

// NewStringIndex indexes every value of col.
func NewStringIndex(col Strings) *StringIndex {
	size := 1
	for size < 2*col.Len() || size < 8 {
		size *= 2
	}
	x := &StringIndex{col: col, seed: maphash.MakeSeed(), slots: make([]int32, size), mask: uint64(size - 1)}
	for i := range col.Len() {
		h := maphash.String(x.seed, col.At(i)) & x.mask
		for x.slots[h] != 0 && col.At(int(x.slots[h]-1)) != col.At(i) {
			h = (h + 1) & x.mask
		}
		x.slots[h] = int32(i + 1)
	}
	return x
}

// Find returns the position of s, or false.
func (x *StringIndex) Find(s string) (int32, bool) {
	h := maphash.String(x.seed, s) & x.mask
	for x.slots[h] != 0 {
		if p := x.slots[h] - 1; x.col.At(int(p)) == s {
			return p, true
		}
		h = (h + 1) & x.mask
	}
	return -1, false
}

// Ranks returns each value's place in the column sorted as strings are
// (byte-wise; equal values by position): rank[i] < rank[j] exactly when
// value i sorts before value j. Sorting positions by rank sorts their
// values without comparing a string.
func (s Strings) Ranks() []int32 {
	idx := make([]int32, s.Len())
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int {
		if c := strings.Compare(s.At(int(a)), s.At(int(b))); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	rank := make([]int32, len(idx))
	for r, i := range idx {
		rank[i] = int32(r)
	}
	return rank
}
