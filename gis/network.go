package gis

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Network is the immutable in-memory graph of a water network, assembled
// from a Topology. Pipes are cut into pieces at their valves and tees;
// pieces meet at vertices (junctions, or points inside a pipe beside a
// valve); a valve joins the vertices on its two sides. Pieces joined
// without passing a valve form base segments, the smallest parts a crew can
// isolate. A Network is safe for concurrent use by any number of goroutines.
type Network struct {
	Topo    *Topology
	Version int64 // network version it was loaded at (set by the loader)
	// LonLat transforms storage coordinates for the web (set by the
	// loader; nil when not available).
	LonLat *LonLatGrid

	pipeByID  *StringIndex
	valveByID *StringIndex
	// ranks of the id columns (Strings.Ranks), for sorting plans' id
	// lists without comparing strings; nil until RankIDs has run.
	ranks atomic.Pointer[idRanks]

	nVert int32
	// pieces
	pieceA, pieceB     []int32
	piecePipe          []int32
	pieceFrom, pieceTo []float64
	pipePieceOff       []int32 // pieces of pipe p: pipePieceOff[p] .. pipePieceOff[p+1]
	pieceSeg           []int32

	valveA, valveB []int32 // vertices beside each valve (-1 when it takes no part)
	valveSegA      []int32
	valveSegB      []int32

	nSeg                   int32
	segPieceOff, segPieces []int32
	segConnOff, segConns   []int32
	segCustOff, segCusts   []int32
	segHydOff, segHyds     []int32
	segValveOff, segValves []int32 // valves with a side in the segment (not loops)
	segValveTo             []int32 // the segment on the other side of each segValves entry
	segSources             []int32 // source segments (sorted, unique)
	pipeCustOff, pipeCusts []int32 // pipe-level customers per pipe
	// segPipeOff, segPipeList: the pipes with a positive-length piece in
	// each segment, sorted and unique; segPipeByID holds the same lists
	// (same offsets) in the string order of the pipes' ids.
	segPipeOff, segPipeList []int32
	segPipeByID             []int32
	segHH                   []int64   // households of the segment-level customers of each segment
	segLen                  []float64 // length of the pieces of each segment, summed in piece order
	pipeHH                  []int64   // households of the pipe-level customers of each pipe

	normal *State

	valveXY []float64 // x, y of each valve on its pipe (0, 0 when on none)
	// segIDs caches, per segment, the ids of SegmentPipesByID and their
	// JSON (built on first use; shared, read only).
	segIDs []atomic.Pointer[segmentIDs]

	scratch sync.Pool
	// closed memoizes WithClosed by the set of valves: the valves repair
	// jobs hold closed change rarely, and each plan asks for them, while
	// building a State walks every segment.
	closed struct {
		sync.Mutex
		states map[string]*State
	}
}

// naturalLess orders ids the way series valves are ordered: all-digit ids
// numerically, before the others; the others in plain string order.
func naturalLess(a, b string) bool {
	da, db := allDigits(a), allDigits(b)
	switch {
	case da && db:
		if len(trimZeros(a)) != len(trimZeros(b)) {
			return len(trimZeros(a)) < len(trimZeros(b))
		}
		if trimZeros(a) != trimZeros(b) {
			return trimZeros(a) < trimZeros(b)
		}
		return a < b
	case da:
		return true
	case db:
		return false
	}
	return a < b
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func trimZeros(s string) string {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return s
}

// csr builds a compressed adjacency from (key, value) pairs.
func csr(n int, keys, vals []int32) (off, out []int32) {
	off = make([]int32, n+1)
	for _, k := range keys {
		off[k+1]++
	}
	for i := 0; i < n; i++ {
		off[i+1] += off[i]
	}
	out = make([]int32, len(keys))
	pos := append([]int32(nil), off[:n]...)
	for i, k := range keys {
		out[pos[k]] = vals[i]
		pos[k]++
	}
	return off, out
}

// NewNetwork assembles the graph of t. It does not copy t.
func NewNetwork(t *Topology) *Network {
	n := &Network{Topo: t}
	np := t.PipeID.Len()
	n.pipeByID = NewStringIndex(t.PipeID)
	n.valveByID = NewStringIndex(t.ValveID)
	n.nVert = int32(len(t.NodeXY) / 2)
	newVert := func() int32 { n.nVert++; return n.nVert - 1 }

	// Cut events per pipe: tees and valves.
	type event struct {
		s     float64
		tee   bool
		ref   int32 // node of a tee, or valve index
		valID string
	}
	var evKeys, evVals []int32
	for i, p := range t.TeePipe {
		evKeys = append(evKeys, p)
		evVals = append(evVals, int32(i))
	}
	nTee := int32(len(t.TeePipe))
	for i, p := range t.ValvePipe {
		if p >= 0 {
			evKeys = append(evKeys, p)
			evVals = append(evVals, nTee+int32(i))
		}
	}
	evOff, evList := csr(np, evKeys, evVals)

	n.valveA = make([]int32, t.ValveID.Len())
	n.valveB = make([]int32, t.ValveID.Len())
	for i := range n.valveA {
		n.valveA[i], n.valveB[i] = -1, -1
	}
	n.pipePieceOff = make([]int32, np+1)
	addPiece := func(p, a, b int32, from, to float64) {
		n.pieceA = append(n.pieceA, a)
		n.pieceB = append(n.pieceB, b)
		n.piecePipe = append(n.piecePipe, p)
		n.pieceFrom = append(n.pieceFrom, from)
		n.pieceTo = append(n.pieceTo, to)
	}
	var evs []event
	for p := 0; p < np; p++ {
		n.pipePieceOff[p] = int32(len(n.pieceA))
		if !t.PipeInService[p] || t.PipeFrom[p] < 0 {
			continue
		}
		evs = evs[:0]
		for _, e := range evList[evOff[p]:evOff[p+1]] {
			if e < nTee {
				evs = append(evs, event{s: t.TeeS[e], tee: true, ref: t.TeeNode[e]})
			} else {
				v := e - nTee
				evs = append(evs, event{s: t.ValveS[v], ref: v, valID: t.ValveID.At(int(v))})
			}
		}
		sort.Slice(evs, func(a, b int) bool {
			ea, eb := evs[a], evs[b]
			if ea.s != eb.s {
				return ea.s < eb.s
			}
			if ea.tee != eb.tee {
				return ea.tee // the tee is on the start side
			}
			if ea.tee {
				return ea.ref < eb.ref
			}
			return naturalLess(ea.valID, eb.valID)
		})
		L := t.PipeLen[p]
		cur, pos := t.PipeFrom[p], 0.0
		ended := false
		for k, e := range evs {
			if e.tee {
				addPiece(int32(p), cur, e.ref, pos, e.s)
				cur, pos = e.ref, e.s
				continue
			}
			if e.s > pos {
				a := newVert()
				addPiece(int32(p), cur, a, pos, e.s)
				cur, pos = a, e.s
			}
			var b int32
			if e.s >= L && k == len(evs)-1 {
				b, ended = t.PipeTo[p], true
			} else {
				b = newVert()
			}
			n.valveA[e.ref], n.valveB[e.ref] = cur, b
			cur = b
		}
		if !ended {
			addPiece(int32(p), cur, t.PipeTo[p], pos, L)
		}
	}
	n.pipePieceOff[np] = int32(len(n.pieceA))

	// Base segments: vertices joined by pieces.
	uf := newUnionFind(int(n.nVert))
	for i := range n.pieceA {
		uf.union(n.pieceA[i], n.pieceB[i])
	}
	segOfVert := make([]int32, n.nVert)
	for i := range segOfVert {
		segOfVert[i] = -1
	}
	for v := int32(0); v < n.nVert; v++ {
		r := uf.find(v)
		if segOfVert[r] < 0 {
			segOfVert[r] = n.nSeg
			n.nSeg++
		}
		segOfVert[v] = segOfVert[r]
	}
	n.pieceSeg = make([]int32, len(n.pieceA))
	pieceIdx := make([]int32, len(n.pieceA))
	for i := range n.pieceA {
		n.pieceSeg[i] = segOfVert[n.pieceA[i]]
		pieceIdx[i] = int32(i)
	}
	n.segPieceOff, n.segPieces = csr(int(n.nSeg), n.pieceSeg, pieceIdx)

	n.valveSegA = make([]int32, t.ValveID.Len())
	n.valveSegB = make([]int32, t.ValveID.Len())
	var vk, vv []int32
	for i := range t.ValveID.Len() {
		n.valveSegA[i], n.valveSegB[i] = -1, -1
		if n.valveA[i] < 0 {
			continue
		}
		a, b := segOfVert[n.valveA[i]], segOfVert[n.valveB[i]]
		n.valveSegA[i], n.valveSegB[i] = a, b
		if a != b {
			vk = append(vk, a, b)
			vv = append(vv, int32(i), int32(i))
		}
	}
	n.segValveOff, n.segValves = csr(int(n.nSeg), vk, vv)
	n.segValveTo = make([]int32, len(n.segValves))
	for s := int32(0); s < n.nSeg; s++ {
		for k := n.segValveOff[s]; k < n.segValveOff[s+1]; k++ {
			v := n.segValves[k]
			if o := n.valveSegA[v]; o != s {
				n.segValveTo[k] = o
			} else {
				n.segValveTo[k] = n.valveSegB[v]
			}
		}
	}

	// Items onto the pieces that hold them.
	itemCSR := func(pipes []int32, ss []float64) (off, out []int32) {
		var keys, vals []int32
		for i, p := range pipes {
			if p < 0 {
				continue
			}
			if pc := n.locate(p, ss[i]); pc >= 0 {
				keys = append(keys, n.pieceSeg[pc])
				vals = append(vals, int32(i))
			}
		}
		return csr(int(n.nSeg), keys, vals)
	}
	n.segConnOff, n.segConns = itemCSR(t.ConnPipe, t.ConnS)
	n.segHydOff, n.segHyds = itemCSR(t.HydrantPipe, t.HydrantS)
	var ck, cv, pk, pv []int32
	for i, p := range t.CustPipe {
		if p < 0 {
			continue
		}
		if t.CustPipeLevel[i] {
			pk = append(pk, p)
			pv = append(pv, int32(i))
		} else if pc := n.locate(p, t.CustS[i]); pc >= 0 {
			ck = append(ck, n.pieceSeg[pc])
			cv = append(cv, int32(i))
		}
	}
	n.segCustOff, n.segCusts = csr(int(n.nSeg), ck, cv)
	n.pipeCustOff, n.pipeCusts = csr(np, pk, pv)
	seen := make(map[int32]bool)
	for i, p := range t.SourcePipe {
		if p < 0 {
			continue
		}
		if pc := n.locate(p, t.SourceS[i]); pc >= 0 && !seen[n.pieceSeg[pc]] {
			seen[n.pieceSeg[pc]] = true
			n.segSources = append(n.segSources, n.pieceSeg[pc])
		}
	}
	sort.Slice(n.segSources, func(a, b int) bool { return n.segSources[a] < n.segSources[b] })
	n.summarise()
	n.normal = n.newState(nil)
	return n
}

// summarise precomputes what plans read per segment, per pipe and per
// valve: the pipe list of each segment (by index and by id), the length
// and households of each segment, the households behind each pipe, where
// each valve stands.
func (n *Network) summarise() {
	t := n.Topo
	n.segPipeOff = make([]int32, n.nSeg+1)
	n.segPipeList = make([]int32, 0, len(n.pieceA))
	n.segHH = make([]int64, n.nSeg)
	n.segLen = make([]float64, n.nSeg)
	for s := int32(0); s < n.nSeg; s++ {
		n.segPipeOff[s] = int32(len(n.segPipeList))
		start := len(n.segPipeList)
		for _, pc := range n.segPieces[n.segPieceOff[s]:n.segPieceOff[s+1]] {
			n.segLen[s] += n.pieceTo[pc] - n.pieceFrom[pc]
			if n.pieceTo[pc] > n.pieceFrom[pc] {
				n.segPipeList = append(n.segPipeList, n.piecePipe[pc])
			}
		}
		// Pieces are numbered pipe by pipe, so the list is nearly always
		// sorted already; sort anyway, it is what the contract says.
		l := n.segPipeList[start:]
		slices.Sort(l)
		n.segPipeList = append(n.segPipeList[:start], slices.Compact(l)...)
		for _, c := range n.segCusts[n.segCustOff[s]:n.segCustOff[s+1]] {
			n.segHH[s] += int64(t.CustHouseholds[c])
		}
	}
	n.segPipeOff[n.nSeg] = int32(len(n.segPipeList))
	n.segPipeList = slices.Clip(n.segPipeList)
	n.segPipeByID = slices.Clone(n.segPipeList)
	for s := int32(0); s < n.nSeg; s++ {
		l := n.segPipeByID[n.segPipeOff[s]:n.segPipeOff[s+1]]
		slices.SortFunc(l, func(a, b int32) int { return strings.Compare(t.PipeID.At(int(a)), t.PipeID.At(int(b))) })
	}
	n.valveXY = make([]float64, 2*t.ValveID.Len())
	for v, p := range t.ValvePipe {
		if p >= 0 {
			q := t.PointOnPipe(int(p), t.ValveS[v])
			n.valveXY[2*v], n.valveXY[2*v+1] = q[0], q[1]
		}
	}
	n.segIDs = make([]atomic.Pointer[segmentIDs], n.nSeg)
	n.pipeHH = make([]int64, t.PipeID.Len())
	for q := range n.pipeHH {
		for _, c := range n.pipeCusts[n.pipeCustOff[q]:n.pipeCustOff[q+1]] {
			n.pipeHH[q] += int64(t.CustHouseholds[c])
		}
	}
}

// segPipes is the sorted pipe list of segment s (shared: read only).
func (n *Network) segPipes(s int32) []int32 {
	return n.segPipeList[n.segPipeOff[s]:n.segPipeOff[s+1]]
}

// locate returns the piece of pipe p holding distance s: the first piece
// (from the pipe's start) whose range contains s; -1 if p has no pieces.
func (n *Network) locate(p int32, s float64) int32 {
	lo, hi := n.pipePieceOff[p], n.pipePieceOff[p+1]
	if lo == hi {
		return -1
	}
	k := sort.Search(int(hi-lo), func(i int) bool { return n.pieceTo[lo+int32(i)] >= s })
	if k == int(hi-lo) {
		k--
	}
	return lo + int32(k)
}

// idRanks are the ranks of the pipe, valve, connection and customer ids.
type idRanks struct{ pipe, valve, conn, cust []int32 }

// RankIDs ranks the pipe, valve, connection and customer ids
// (Strings.Ranks), two columns at a time, so that plans sort their id
// lists by comparing integers. Plans are the same without it, only
// slower; store.Live runs it before it publishes a network (0.6 s for the
// million-pipe city on two cores).
func (n *Network) RankIDs() {
	t := n.Topo
	var rk idRanks
	var wg sync.WaitGroup
	wg.Go(func() { rk.pipe, rk.valve = t.PipeID.Ranks(), t.ValveID.Ranks() })
	rk.cust, rk.conn = t.CustID.Ranks(), t.ConnID.Ranks()
	wg.Wait()
	n.ranks.Store(&rk)
}

// PipeIndex returns the index of the pipe with the given id.
func (n *Network) PipeIndex(id string) (int32, bool) {
	return n.pipeByID.Find(id)
}

// ValveIndex returns the index of the valve with the given id.
func (n *Network) ValveIndex(id string) (int32, bool) {
	return n.valveByID.Find(id)
}

// NumSegments is the number of base (valve-bounded) segments.
func (n *Network) NumSegments() int { return int(n.nSeg) }

// NumPieces is the number of pipe pieces.
func (n *Network) NumPieces() int { return len(n.pieceA) }

// State is the network with a given set of valves held closed (by active
// repair jobs) on top of their normal positions. It caches which segments
// have water and a spanning forest from the sources that makes isolation
// queries local. A State is immutable and safe for concurrent use.
type State struct {
	net    *Network
	closed []bool // held closed, per valve; nil = none
	reach  []bool // segment has a path to a source
	pre    []int32
	post   []int32 // subtree of s in the forest: pre[s] <= pre[u] < post[s]
}

// Normal is the state with no valve held closed.
func (n *Network) Normal() *State { return n.normal }

// WithClosed returns the state with the given valves (indices) held
// closed. States are remembered per set of valves (the last few sets), so
// asking again for the same set is cheap; the result is shared and, like
// every State, safe for concurrent use.
func (n *Network) WithClosed(valves []int32) *State {
	if len(valves) == 0 {
		return n.normal
	}
	set := slices.Clone(valves)
	slices.Sort(set)
	set = slices.Compact(set)
	key := make([]byte, 0, 4*len(set))
	for _, v := range set {
		key = append(key, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
	}
	n.closed.Lock()
	st := n.closed.states[string(key)]
	n.closed.Unlock()
	if st != nil {
		return st
	}
	closed := make([]bool, n.Topo.ValveID.Len())
	for _, v := range set {
		closed[v] = true
	}
	st = n.newState(closed)
	n.closed.Lock()
	if len(n.closed.states) >= maxClosedStates || n.closed.states == nil {
		n.closed.states = make(map[string]*State, maxClosedStates)
	}
	n.closed.states[string(key)] = st
	n.closed.Unlock()
	return st
}

// maxClosedStates bounds the sets of closed valves WithClosed remembers.
const maxClosedStates = 8

// passes reports whether valve v lets water through in state closed.
func (n *Network) passes(v int32, closed []bool) bool {
	return n.Topo.ValveOpen[v] && (closed == nil || !closed[v])
}

func (n *Network) newState(closed []bool) *State {
	st := &State{net: n, closed: closed}
	ns := n.nSeg
	st.reach = make([]bool, ns)
	parent := make([]int32, ns)
	for i := range parent {
		parent[i] = -1
	}
	queue := make([]int32, 0, ns)
	for _, s := range n.segSources {
		st.reach[s] = true
		queue = append(queue, s)
	}
	for h := 0; h < len(queue); h++ {
		s := queue[h]
		for _, v := range n.segValves[n.segValveOff[s]:n.segValveOff[s+1]] {
			if !n.passes(v, closed) {
				continue
			}
			o := n.valveSegA[v]
			if o == s {
				o = n.valveSegB[v]
			}
			if !st.reach[o] {
				st.reach[o] = true
				parent[o] = s
				queue = append(queue, o)
			}
		}
	}
	// Pre/post numbering of the BFS forest (children CSR, iterative DFS).
	var ck, cv []int32
	for s := int32(0); s < ns; s++ {
		if parent[s] >= 0 {
			ck = append(ck, parent[s])
			cv = append(cv, s)
		}
	}
	coff, child := csr(int(ns), ck, cv)
	st.pre = make([]int32, ns)
	st.post = make([]int32, ns)
	for i := range st.pre {
		st.pre[i] = -1
	}
	counter := int32(0)
	type frame struct{ s, next int32 }
	var stack []frame
	for _, root := range n.segSources {
		stack = append(stack[:0], frame{root, coff[root]})
		st.pre[root] = counter
		counter++
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			if f.next < coff[f.s+1] {
				c := child[f.next]
				f.next++
				st.pre[c] = counter
				counter++
				stack = append(stack, frame{c, coff[c]})
				continue
			}
			st.post[f.s] = counter
			stack = stack[:len(stack)-1]
		}
	}
	return st
}

// scratch holds per-query marks, stamped with a generation so they need no
// clearing between queries.
type scratch struct {
	gen      uint32
	segMark  []uint32 // == gen: in the drained region
	segStat  []uint32 // generation of segState
	segState []uint8
	// baseMark stamps, with baseGen, the region a plan drains while its
	// fallbacks are worked out (see State.Fallbacks).
	baseGen  uint32
	baseMark []uint32
}

// next starts a query: it returns a fresh generation for segMark and
// segStat (clearing them when the counter wraps).
func (sc *scratch) next() uint32 {
	sc.gen++
	if sc.gen == 0 { // wrapped: clear
		clear(sc.segMark)
		clear(sc.segStat)
		sc.gen = 1
	}
	return sc.gen
}

// nextBase returns a fresh generation for baseMark.
func (sc *scratch) nextBase() uint32 {
	sc.baseGen++
	if sc.baseGen == 0 {
		clear(sc.baseMark)
		sc.baseGen = 1
	}
	return sc.baseGen
}

const (
	stUnknown uint8 = iota
	stSafe
	stIsolated
)

func (n *Network) getScratch() *scratch {
	if s, ok := n.scratch.Get().(*scratch); ok {
		return s
	}
	return &scratch{
		segMark:  make([]uint32, n.nSeg),
		segStat:  make([]uint32, n.nSeg),
		segState: make([]uint8, n.nSeg),
		baseMark: make([]uint32, n.nSeg),
	}
}

// Leak is where a leak is and which valves fail when operated.
type Leak struct {
	Pipe   int32
	S      float64 // distance along the pipe
	Failed []int32 // valves named failed (indices)
}

// Plan is the answer to "isolate this leak", in indices. Lists are in no
// particular order; Render sorts them.
type Plan struct {
	Segments         []int32 // base segments drained (the leak's segment, grown)
	Unintended       []int32 // base segments cut off from every source
	ToClose          []int32
	DrySide          []int32
	AlreadyClosed    []int32
	FailedValves     []int32
	SegmentPipes     []int32
	UnintendedPipes  []int32
	Connections      []int32
	Customers        []int32
	Hydrants         []int32
	Households       int64
	SegmentLength    float64
	UnintendedLength float64
	// FarSide maps each valve to close (by position in ToClose) to the
	// segment on its far side.
	FarSide []int32
}

// keepsWater reports whether segment f, outside the drained region (the
// segments sc.segMark holds at gen), still has water once the region is
// drained: whether a walk from f through open valves, staying outside the
// region, reaches a segment for which clean holds (its path to a source in
// the BFS forest avoids the region). A component found cut off is appended
// to *cut. Answers are remembered in sc.segStat/segState for gen, so every
// segment is walked at most once per generation; bfs is scratch space.
func (st *State) keepsWater(sc *scratch, gen uint32, f int32, clean func(int32) bool, bfs, cut *[]int32) bool {
	n := st.net
	if !st.reach[f] {
		return false
	}
	if sc.segStat[f] == gen {
		return sc.segState[f] == stSafe
	}
	q := append((*bfs)[:0], f)
	sc.segStat[f], sc.segState[f] = gen, stUnknown
	found := false
	for h := 0; h < len(q) && !found; h++ {
		u := q[h]
		if clean(u) {
			found = true
			break
		}
		for j := n.segValveOff[u]; j < n.segValveOff[u+1]; j++ {
			o := n.segValveTo[j]
			if sc.segMark[o] == gen || !n.passes(n.segValves[j], st.closed) {
				continue
			}
			if sc.segStat[o] == gen {
				if sc.segState[o] == stSafe {
					found = true
					break
				}
				continue
			}
			sc.segStat[o], sc.segState[o] = gen, stUnknown
			q = append(q, o)
		}
	}
	state := stIsolated
	if found {
		state = stSafe
	}
	for _, u := range q {
		sc.segState[u] = state
	}
	if !found {
		*cut = append(*cut, q...)
	}
	*bfs = q
	return found
}

// Isolate plans the shutoff of a leak in this state, exactly as
// network-geojson.md ("Shutoff semantics") defines it. The leak's pipe must
// be in service (callers check; an out-of-service pipe yields an empty plan).
func (st *State) Isolate(l Leak) Plan {
	n := st.net
	var p Plan
	if l.Pipe < 0 || int(l.Pipe) >= n.Topo.PipeID.Len() {
		return p
	}
	pc := n.locate(l.Pipe, l.S)
	if pc < 0 {
		return p
	}
	sc := n.getScratch()
	defer n.scratch.Put(sc)
	gen := sc.next()
	failed := func(v int32) bool {
		for _, f := range l.Failed {
			if f == v {
				return true
			}
		}
		return false
	}
	seg0 := n.pieceSeg[pc]
	X := []int32{seg0}
	sc.segMark[seg0] = gen
	// Grow in rounds through boundary valves that cannot close.
	for {
		var grow []int32
		for _, s := range X {
			for j := n.segValveOff[s]; j < n.segValveOff[s+1]; j++ {
				v, o := n.segValves[j], n.segValveTo[j]
				if sc.segMark[o] == gen {
					continue
				}
				if n.passes(v, st.closed) && (!n.Topo.ValveOperable[v] || failed(v)) {
					grow = append(grow, v)
				}
			}
		}
		if len(grow) == 0 {
			break
		}
		for _, v := range grow {
			p.FailedValves = append(p.FailedValves, v)
			a, b := n.valveSegA[v], n.valveSegB[v]
			for _, s := range [2]int32{a, b} {
				if sc.segMark[s] != gen {
					sc.segMark[s] = gen
					X = append(X, s)
				}
			}
		}
	}
	p.Segments = X
	// clean: u's path to a source in the forest avoids X.
	clean := func(u int32) bool {
		if !st.reach[u] {
			return false
		}
		pu := st.pre[u]
		for _, x := range X {
			if px := st.pre[x]; px >= 0 && px <= pu && pu < st.post[x] {
				return false
			}
		}
		return true
	}
	var bfs []int32
	// safe reports whether segment f (outside X) still has water once X is
	// drained; isolated components it finds are added to p.Unintended.
	safe := func(f int32) bool { return st.keepsWater(sc, gen, f, clean, &bfs, &p.Unintended) }
	for _, s := range X {
		for j := n.segValveOff[s]; j < n.segValveOff[s+1]; j++ {
			v, o := n.segValves[j], n.segValveTo[j]
			if sc.segMark[o] == gen {
				continue
			}
			if !n.passes(v, st.closed) {
				p.AlreadyClosed = append(p.AlreadyClosed, v)
			} else if safe(o) {
				p.ToClose = append(p.ToClose, v)
				p.FarSide = append(p.FarSide, o)
			} else {
				p.DrySide = append(p.DrySide, v)
			}
		}
	}
	// What is without water.
	collect := func(segs []int32, pipes *[]int32, length *float64) {
		for _, s := range segs {
			for _, pc := range n.segPieces[n.segPieceOff[s]:n.segPieceOff[s+1]] {
				*length += n.pieceTo[pc] - n.pieceFrom[pc]
			}
			p.Connections = append(p.Connections, n.segConns[n.segConnOff[s]:n.segConnOff[s+1]]...)
			p.Hydrants = append(p.Hydrants, n.segHyds[n.segHydOff[s]:n.segHydOff[s+1]]...)
			p.Customers = append(p.Customers, n.segCusts[n.segCustOff[s]:n.segCustOff[s+1]]...)
			p.Households += n.segHH[s]
		}
		// pipes with a positive-length piece in segs, sorted and unique
		for _, s := range segs {
			*pipes = append(*pipes, n.segPipes(s)...)
		}
		if len(segs) > 1 {
			*pipes = dedup(*pipes)
		}
	}
	collect(X, &p.SegmentPipes, &p.SegmentLength)
	collect(p.Unintended, &p.UnintendedPipes, &p.UnintendedLength)
	// Pipe-level customers: affected when any piece of their pipe is. Both
	// pipe lists are sorted and unique; walk their union once.
	a, b := p.SegmentPipes, p.UnintendedPipes
	for len(a) > 0 || len(b) > 0 {
		var q int32
		switch {
		case len(b) == 0 || (len(a) > 0 && a[0] < b[0]):
			q, a = a[0], a[1:]
		case len(a) == 0 || b[0] < a[0]:
			q, b = b[0], b[1:]
		default: // equal
			q, a, b = a[0], a[1:], b[1:]
		}
		p.Customers = append(p.Customers, n.pipeCusts[n.pipeCustOff[q]:n.pipeCustOff[q+1]]...)
		p.Households += n.pipeHH[q]
	}
	return p
}

func dedup(xs []int32) []int32 {
	slices.Sort(xs)
	return slices.Compact(xs)
}

// Piece is a stretch of a pipe: From and To are distances along it.
type Piece struct {
	Pipe     int32
	From, To float64
}

// Pieces returns the positive-length pieces of the given base segments.
func (n *Network) Pieces(segs []int32) []Piece {
	var out []Piece
	for _, s := range segs {
		for _, pc := range n.segPieces[n.segPieceOff[s]:n.segPieceOff[s+1]] {
			if n.pieceTo[pc] > n.pieceFrom[pc] {
				out = append(out, Piece{Pipe: n.piecePipe[pc], From: n.pieceFrom[pc], To: n.pieceTo[pc]})
			}
		}
	}
	return out
}

// ValvePoint is where valve v sits (on its pipe, or its own point when it
// takes no part: then ok is false).
func (n *Network) ValvePoint(v int32) (x, y float64, ok bool) {
	t := n.Topo
	if t.ValvePipe[v] < 0 {
		return 0, 0, false
	}
	return n.valveXY[2*v], n.valveXY[2*v+1], true
}

// SegmentPipes returns the pipes with a positive-length piece in segment
// s, sorted by index and unique. The slice is the network's own: callers
// must not modify it.
func (n *Network) SegmentPipes(s int32) []int32 { return n.segPipes(s) }

// SegmentPipesByID returns the pipes of SegmentPipes(s) in the plain
// string order of their ids (as Render sorts id lists). The slice is the
// network's own: callers must not modify it.
func (n *Network) SegmentPipesByID(s int32) []int32 {
	return n.segPipeByID[n.segPipeOff[s]:n.segPipeOff[s+1]]
}

// segmentIDs is the cached id list of a segment's pipes and its JSON.
type segmentIDs struct {
	ids  []string
	json []byte
}

func (n *Network) segmentIDs(s int32) *segmentIDs {
	if c := n.segIDs[s].Load(); c != nil {
		return c
	}
	c := &segmentIDs{}
	if seg := n.SegmentPipesByID(s); len(seg) > 0 {
		c.ids = make([]string, len(seg))
		for i, q := range seg {
			c.ids[i] = n.Topo.PipeID.At(int(q))
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c.ids); err == nil { // a []string always encodes
		c.json = bytes.TrimSuffix(buf.Bytes(), []byte{'\n'})
	}
	n.segIDs[s].CompareAndSwap(nil, c)
	return n.segIDs[s].Load()
}

// SegmentPipeIDs returns the ids of SegmentPipesByID(s), in that order
// (nil when the segment has no pipe). The slice is built on first use and
// shared: callers must not modify it.
func (n *Network) SegmentPipeIDs(s int32) []string { return n.segmentIDs(s).ids }

// SegmentPipeIDsJSON returns SegmentPipeIDs(s) encoded as encoding/json's
// Encoder writes it with SetEscapeHTML(false), without the newline ("null"
// for no pipe). The bytes are built on first use and shared: callers must
// not modify them.
func (n *Network) SegmentPipeIDsJSON(s int32) []byte { return n.segmentIDs(s).json }
