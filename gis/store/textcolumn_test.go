package store

import (
	"slices"
	"testing"
	"unsafe"
)

func TestTextColumn(t *testing.T) {
	vals := []string{"P1", "", "管-3", "P40", ""}
	var c textColumn
	buf := make([]byte, 16)
	for _, v := range vals {
		// The driver reuses its memory between rows.
		b := append(buf[:0], v...)
		c.add(b)
		for i := range b {
			b[i] = 'x'
		}
	}
	got := c.strings()
	if !slices.Equal(got, vals) {
		t.Fatalf("got %q, want %q", got, vals)
	}
	// One backing string: each value starts where the one before ends.
	if unsafe.StringData(got[2]) != (*byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(got[0])), len(got[0]))) ||
		unsafe.StringData(got[3]) != (*byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(got[2])), len(got[2]))) {
		t.Fatal("the values do not share one backing string")
	}
	var empty textColumn
	if s := empty.strings(); len(s) != 0 {
		t.Fatalf("empty column: %q", s)
	}

	in := interner{}
	a := in.intern([]byte("hospital"))
	b := in.intern(append([]byte(nil), "hospital"...))
	if a != "hospital" || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Fatal("equal values are not one string")
	}
	if in.intern([]byte("vip")) != "vip" || len(in) != 2 {
		t.Fatalf("interner holds %v", in)
	}
}
