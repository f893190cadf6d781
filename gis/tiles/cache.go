package tiles

import (
	"container/list"
	"sync"
)

// key names a cached tile. The network version is part of it, so a new
// version never serves an old tile; old entries age out of the LRU.
type key struct {
	version int64
	layer   string
	z, x, y int
}

// entryOverhead approximates the memory of an entry beyond its bytes (key,
// list element, map slot), so that many empty tiles are bounded too.
const entryOverhead = 128

type entry struct {
	k key
	b []byte
}

// lru is a byte-bounded least-recently-used cache. It is safe for
// concurrent use. The cached slices are shared: callers must not modify them.
type lru struct {
	mu    sync.Mutex
	max   int64
	size  int64
	ll    *list.List // front = most recently used
	items map[key]*list.Element
	hits  int64
	miss  int64
}

func newLRU(max int64) *lru {
	return &lru{max: max, ll: list.New(), items: map[key]*list.Element{}}
}

func (c *lru) get(k key) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.ll.MoveToFront(el)
		c.hits++
		return el.Value.(*entry).b, true
	}
	c.miss++
	return nil, false
}

func (c *lru) add(k key, b []byte) {
	cost := int64(len(b)) + entryOverhead
	if cost > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		old := el.Value.(*entry)
		c.size += int64(len(b)) - int64(len(old.b))
		old.b = b
		c.ll.MoveToFront(el)
	} else {
		c.items[k] = c.ll.PushFront(&entry{k: k, b: b})
		c.size += cost
	}
	for c.size > c.max {
		el := c.ll.Back()
		e := el.Value.(*entry)
		c.ll.Remove(el)
		delete(c.items, e.k)
		c.size -= int64(len(e.b)) + entryOverhead
	}
}

// CacheStats reports the tile cache's use.
type CacheStats struct {
	Entries int   `json:"entries"`
	Bytes   int64 `json:"bytes"`
	Max     int64 `json:"max_bytes"`
	Hits    int64 `json:"hits"`
	Misses  int64 `json:"misses"`
}

func (c *lru) stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Entries: len(c.items), Bytes: c.size, Max: c.max, Hits: c.hits, Misses: c.miss}
}
