package epanet

import (
	"math/rand/v2"
	"sort"
	"strconv"

	"github.com/waterline-gis/waterline/gis"
)

// generateN1 adds the synthetic "N-1" isolation valve layer: at every node
// with k >= 2 pipes (pumps and control valves do not count), a valve on k-1
// of them, so that any one pipe can be cut off from the node while one pipe
// stays connected. Which pipe goes without a valve is drawn from a
// math/rand/v2 PCG source seeded with (uint64(seed), 0); nodes are visited
// in plain string order of their ids and each node's pipes in plain string
// order of theirs, so the layer depends on the seed only.
//
// A valve sits at the node's point on its pipe (i.e. at that pipe's end,
// between the pipe and the junction), ID "v:<node>:<pipe>", DN = the pipe's
// DN, normally open and operable. It returns the number of valves added.
func generateN1(ds *gis.Dataset, nodes []*node, seed int64, file string) int {
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	sorted := make([]*node, 0, len(nodes))
	for _, n := range nodes {
		if n.hasXY && len(n.pipes) >= 2 {
			sorted = append(sorted, n)
		}
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].id < sorted[j].id })

	used := map[string]bool{}
	for _, v := range ds.Valves {
		used[v.ID] = true
	}
	count := 0
	for _, n := range sorted {
		pipes := append([]*link(nil), n.pipes...)
		sort.Slice(pipes, func(i, j int) bool { return pipes[i].id < pipes[j].id })
		skip := rng.IntN(len(pipes))
		for i, l := range pipes {
			if i == skip {
				continue
			}
			id := "v:" + n.id + ":" + l.id
			for k := 2; used[id]; k++ { // ids with ':' in them can collide
				id = "v:" + n.id + ":" + l.id + "#" + strconv.Itoa(k)
			}
			used[id] = true
			ds.Valves = append(ds.Valves, gis.Valve{
				ID: id, Pipe: l.id, DN: l.dn, NormallyOpen: true, Operable: true, Geom: n.xy,
				Extra: map[string]any{"generated": "n-1"},
				Src:   gis.Ref{File: file, Index: -1},
			})
			count++
		}
	}
	return count
}
