package tiles

import (
	"fmt"
	"sync"
	"testing"
)

func TestLRUEvictsLeastRecentlyUsed(t *testing.T) {
	c := newLRU(3 * (100 + entryOverhead))
	k := func(i int) key { return key{version: 1, layer: "pipes", z: 14, x: i} }
	for i := 0; i < 3; i++ {
		c.add(k(i), make([]byte, 100))
	}
	if _, ok := c.get(k(0)); !ok { // 0 is now the most recent
		t.Fatal("entry 0 missing")
	}
	c.add(k(3), make([]byte, 100)) // evicts 1, the least recent
	if _, ok := c.get(k(1)); ok {
		t.Error("entry 1 was not evicted")
	}
	for _, i := range []int{0, 2, 3} {
		if _, ok := c.get(k(i)); !ok {
			t.Errorf("entry %d evicted", i)
		}
	}
	if st := c.stats(); st.Entries != 3 || st.Bytes != st.Max {
		t.Errorf("stats %+v", st)
	}
	// Too big for the cache: not kept, nothing evicted.
	c.add(k(9), make([]byte, 1000))
	if _, ok := c.get(k(9)); ok || c.stats().Entries != 3 {
		t.Error("an entry larger than the cache was kept")
	}
	// Replacing an entry adjusts the size.
	c.add(k(0), make([]byte, 10))
	if st := c.stats(); st.Bytes != 3*entryOverhead+210 {
		t.Errorf("size after replace %d", st.Bytes)
	}
	// Versions are distinct keys.
	k2 := k(0)
	k2.version = 2
	if _, ok := c.get(k2); ok {
		t.Error("version 2 answered from version 1")
	}
}

func TestLRUConcurrent(t *testing.T) {
	c := newLRU(50 * (64 + entryOverhead))
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				kk := key{version: int64(i % 3), layer: fmt.Sprint(g), x: i % 97}
				if _, ok := c.get(kk); !ok {
					c.add(kk, make([]byte, 64))
				}
			}
		}()
	}
	wg.Wait()
	if st := c.stats(); st.Bytes > st.Max || st.Entries > 50 {
		t.Errorf("over budget: %+v", st)
	}
}

func TestTileBounds(t *testing.T) {
	b := tileBounds(0, 0, 0, 0)
	if b[0] != -20037508.342789244 || b[3] != 20037508.342789244 || b[2] != -b[0] || b[1] != -b[3] {
		t.Errorf("z0 bounds %v", b)
	}
	b = tileBounds(1, 1, 0, 0) // north-east quarter
	if b[0] != 0 || b[1] != 0 || b[2] != 20037508.342789244 {
		t.Errorf("1/1/0 bounds %v", b)
	}
	m := tileBounds(1, 1, 0, margin)
	if m[0] >= 0 || m[1] >= 0 || m[2] <= b[2] {
		t.Errorf("margin not applied: %v", m)
	}
	if _, ok := intersect([4]float64{0, 0, 1, 1}, [4]float64{2, 2, 3, 3}); ok {
		t.Error("disjoint boxes intersect")
	}
}

func TestThinningTable(t *testing.T) {
	var pipes *layer
	for _, l := range allLayers {
		if l.name == "pipes" {
			pipes = l
		}
	}
	for z, want := range map[int]int{0: 600, 9: 600, 10: 600, 11: 300, 12: 0, 16: 0} {
		if got := pipes.minDN(z); got != want {
			t.Errorf("z%d: min DN %d, want %d", z, got, want)
		}
	}
}
