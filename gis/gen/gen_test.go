package gen

import (
	"bufio"
	"math"
	"os"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/waterline-gis/waterline/gis"
)

func generate(t testing.TB, opt Options) *gis.Dataset {
	t.Helper()
	ds, err := Generate(opt)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestDeterministic(t *testing.T) {
	a := generate(t, Options{Pipes: 3000, Seed: 42})
	b := generate(t, Options{Pipes: 3000, Seed: 42})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same options gave different datasets")
	}
	c := generate(t, Options{Pipes: 3000, Seed: 43})
	if reflect.DeepEqual(a.Pipes, c.Pipes) {
		t.Fatal("different seeds gave the same pipes")
	}
}

func TestOptions(t *testing.T) {
	if _, err := Generate(Options{Pipes: 10}); err == nil {
		t.Error("10 pipes accepted")
	}
	if _, err := Generate(Options{Pipes: 1000, Districts: 500}); err == nil {
		t.Error("500 districts in a 1,000-pipe city accepted")
	}
	ds := generate(t, Options{Pipes: 1000, SRID: 32650, Origin: orb.Point{1000, 2000}})
	if ds.SRID != 32650 {
		t.Errorf("SRID %d", ds.SRID)
	}
	if c := ds.Pipes[0].Geom.Bound().Center(); math.Abs(c[0]-1000) > 5000 || math.Abs(c[1]-2000) > 5000 {
		t.Errorf("city not at its origin: %v", c)
	}
}

// TestSizes: many sizes and seeds generate without trouble and hit the
// target (exactly, in practice).
func TestSizes(t *testing.T) {
	for _, n := range []int{100, 137, 250, 1000, 2500, 7777, 20000} {
		for seed := int64(0); seed < 6; seed++ {
			ds, err := Generate(Options{Pipes: n, Seed: seed})
			if err != nil {
				t.Fatalf("%d pipes, seed %d: %v", n, seed, err)
			}
			if d := math.Abs(float64(len(ds.Pipes)-n)) / float64(n); d > 0.01 {
				t.Errorf("%d pipes, seed %d: got %d", n, seed, len(ds.Pipes))
			}
			checkConnected(t, ds)
		}
	}
}

func within(t *testing.T, what string, got, lo, hi float64) {
	t.Helper()
	if got < lo || got > hi {
		t.Errorf("%s = %.4g, want %.4g..%.4g", what, got, lo, hi)
	}
}

func TestCounts(t *testing.T) {
	const n = 10000
	ds := generate(t, Options{Pipes: n, Seed: 1})
	P := float64(len(ds.Pipes))
	within(t, "pipes", P, n*0.99, n*1.01)
	within(t, "valves per pipe", float64(len(ds.Valves))/P, 0.25, 0.35)
	within(t, "connections per pipe", float64(len(ds.Connections))/P, 0.9, 1.1)
	within(t, "customers per pipe", float64(len(ds.Customers))/P, 0.9, 1.15)
	within(t, "hydrants per pipe", float64(len(ds.Hydrants))/P, 0.04, 0.06)
	if len(ds.Districts) != 2 {
		t.Errorf("%d districts, want 2", len(ds.Districts))
	}
	status := map[string]int{}
	dn0 := 0
	for _, p := range ds.Pipes {
		status[p.Status]++
		if p.DN == 0 {
			dn0++
		}
		if p.Extra != nil || p.Z != nil {
			t.Fatalf("pipe %s has Extra or Z", p.ID)
		}
	}
	within(t, "abandoned share", float64(status[gis.StatusAbandoned])/P, 0.004, 0.006)
	within(t, "planned share", float64(status[gis.StatusPlanned])/P, 0.0015, 0.0025)
	within(t, "unknown-DN share", float64(dn0)/P, 0.0005, 0.002)
	closed, inop := 0, 0
	for _, v := range ds.Valves {
		if !v.NormallyOpen {
			closed++
		}
		if !v.Operable {
			inop++
		}
	}
	V := float64(len(ds.Valves))
	within(t, "normally closed valves", float64(closed)/V, 0.007, 0.013)
	within(t, "inoperable valves", float64(inop)/V, 0.015, 0.025)

	types := map[string]int{}
	for _, s := range ds.Sources {
		types[s.Type]++
	}
	if types["plant"] < 2 || types["reservoir"] < 2 || types["tank"] < 2 {
		t.Errorf("sources %v", types)
	}

	conns := map[string]orb.Point{}
	for _, c := range ds.Connections {
		conns[c.ID] = c.Geom
	}
	cats := map[string]int{}
	name := regexp.MustCompile(`^客户 [0-9]+$`)
	addr := regexp.MustCompile(`^\p{Han}+ [0-9]+号$`)
	phone := regexp.MustCompile(`^0531-8[0-9]{7}$`)
	hh := 0
	for _, c := range ds.Customers {
		cats[c.Category]++
		hh += c.Households
		cp, ok := conns[c.Connection]
		if !ok {
			t.Fatalf("customer %s: unknown connection %q", c.ID, c.Connection)
		}
		if c.Geom != nil && planar.Distance(*c.Geom, cp) > 25 {
			t.Fatalf("customer %s is %.1f m from its connection", c.ID, planar.Distance(*c.Geom, cp))
		}
		if !name.MatchString(c.Name) || !addr.MatchString(c.Address) || !phone.MatchString(c.Phone) {
			t.Fatalf("customer %s: name %q address %q phone %q", c.ID, c.Name, c.Address, c.Phone)
		}
		if c.Households < 1 || c.Households > 60 {
			t.Fatalf("customer %s: %d households", c.ID, c.Households)
		}
		if c.Critical != (c.Category == "hospital" || c.Category == "thermal_power") {
			t.Fatalf("customer %s: category %s critical %v", c.ID, c.Category, c.Critical)
		}
	}
	for _, k := range []string{"residential", "commercial", "industrial", "school", "vip", "hospital", "thermal_power"} {
		if cats[k] == 0 {
			t.Errorf("no %s customer: %v", k, cats)
		}
	}
	if cats["residential"] < len(ds.Customers)*3/4 {
		t.Errorf("categories %v", cats)
	}
	t.Logf("%d pipes, %d valves (%d closed, %d inoperable), %d connections, %d customers (%d households), %d hydrants, sources %v, status %v, categories %v",
		len(ds.Pipes), len(ds.Valves), closed, inop, len(ds.Connections), len(ds.Customers), hh, len(ds.Hydrants), types, status, cats)
}

func TestGrades(t *testing.T) {
	ds := generate(t, Options{Pipes: 10000, Seed: 3})
	rules := gis.DefaultGradeRules()
	grades := map[string]int{}
	var unknown, gap, raw, river, rail, trunk int
	for _, p := range ds.Pipes {
		c := rules.Classify(p.DN, p.Role, p.Crossing)
		grades[c.Grade]++
		if c.UnknownDN {
			unknown++
		}
		switch {
		case p.DN == 160 || p.DN == 180:
			gap++
		case p.DN > 1200:
			raw++
		}
		switch p.Crossing {
		case "river":
			river++
		case "railway":
			rail++
		}
		if p.Role == "transmission" {
			trunk++
			if p.DN < 600 {
				t.Errorf("transmission pipe %s DN%d", p.ID, p.DN)
			}
		}
		if p.Material == "" && p.DN != 0 {
			t.Errorf("pipe %s DN%d has no material", p.ID, p.DN)
		}
		if p.Status != gis.StatusPlanned && p.DN != 0 && (p.InstallYear < 1960 || p.InstallYear > 2025) {
			t.Errorf("pipe %s installed %d", p.ID, p.InstallYear)
		}
	}
	for _, g := range []string{"special", "1", "2", "3"} {
		if grades[g] == 0 {
			t.Errorf("no grade %s pipe: %v", g, grades)
		}
	}
	if unknown == 0 || gap == 0 || raw == 0 || river == 0 || rail == 0 {
		t.Errorf("unknown DN %d, DN160/180 %d, DN>1200 %d, river %d, railway %d", unknown, gap, raw, river, rail)
	}
	t.Logf("grades %v; unknown DN %d, DN160/180 %d, DN>1200 %d, transmission %d, river %d, railway %d",
		grades, unknown, gap, raw, trunk, river, rail)
}

// checkConnected: the in-service pipes, joined where their ends coincide
// exactly, form one network, and every source sits on one of its ends.
func checkConnected(t *testing.T, ds *gis.Dataset) {
	t.Helper()
	id := map[orb.Point]int32{}
	var parent []int32
	find := func(x int32) int32 {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	node := func(p orb.Point) int32 {
		k, ok := id[p]
		if !ok {
			k = int32(len(parent))
			id[p] = k
			parent = append(parent, k)
		}
		return k
	}
	for _, p := range ds.Pipes {
		if p.Status != gis.StatusInService {
			continue
		}
		a, b := find(node(p.Geom[0])), find(node(p.Geom[len(p.Geom)-1]))
		parent[a] = b
	}
	root := int32(-1)
	for _, k := range id {
		if r := find(k); root < 0 {
			root = r
		} else if r != root {
			t.Fatalf("%s: the in-service network falls apart", ds.Name)
		}
	}
	if len(ds.Sources) == 0 {
		t.Fatalf("%s: no sources", ds.Name)
	}
	for _, s := range ds.Sources {
		if _, ok := id[s.Geom]; !ok {
			t.Fatalf("%s: source %s (%s) is not at an in-service pipe end", ds.Name, s.ID, s.Type)
		}
	}
}

func TestConnected(t *testing.T) {
	checkConnected(t, generate(t, Options{Pipes: 10000, Seed: 5}))
}

// TestGeometry checks the topology contract on 5,000-pipe cities.
func TestGeometry(t *testing.T) {
	for seed := int64(9); seed < 12; seed++ {
		checkGeometry(t, generate(t, Options{Pipes: 5000, Seed: seed, Districts: 4}))
	}
}

func checkGeometry(t *testing.T, ds *gis.Dataset) {
	t.Helper()
	byID := map[string]int{}
	lens := make([]float64, len(ds.Pipes))
	for i, p := range ds.Pipes {
		if _, dup := byID[p.ID]; dup {
			t.Fatalf("duplicate pipe id %s", p.ID)
		}
		byID[p.ID] = i
		if len(p.Geom) < 2 || len(p.Geom) > 4 {
			t.Fatalf("pipe %s has %d points", p.ID, len(p.Geom))
		}
		for k := 1; k < len(p.Geom); k++ {
			if p.Geom[k] == p.Geom[k-1] {
				t.Fatalf("pipe %s repeats a point", p.ID)
			}
		}
		lens[i] = gis.LineLength(p.Geom)
		if lens[i] < 50 {
			t.Errorf("pipe %s is %.1f m long", p.ID, lens[i])
		}
	}
	onPipe := func(kind, id, pipe string, pt orb.Point, minEnd float64) {
		i, ok := byID[pipe]
		if !ok {
			t.Fatalf("%s %s: unknown pipe %q", kind, id, pipe)
		}
		if ds.Pipes[i].Status != gis.StatusInService {
			t.Fatalf("%s %s on pipe %s that is %s", kind, id, pipe, ds.Pipes[i].Status)
		}
		s, d := gis.Project(ds.Pipes[i].Geom, pt)
		if d > 1e-6 || s < minEnd || s > lens[i]-minEnd {
			t.Fatalf("%s %s: %.3g m off pipe %s at s=%.2f of %.2f", kind, id, d, pipe, s, lens[i])
		}
	}
	for _, v := range ds.Valves {
		onPipe("valve", v.ID, v.Pipe, v.Geom, 1)
		if v.DN != ds.Pipes[byID[v.Pipe]].DN {
			t.Fatalf("valve %s DN%d on DN%d", v.ID, v.DN, ds.Pipes[byID[v.Pipe]].DN)
		}
		s, _ := gis.Project(ds.Pipes[byID[v.Pipe]].Geom, v.Geom)
		if L := lens[byID[v.Pipe]]; math.Min(s, L-s) > 5+1e-9 {
			t.Fatalf("valve %s is %.1f m from its tee", v.ID, math.Min(s, L-s))
		}
	}
	for _, c := range ds.Connections {
		onPipe("connection", c.ID, c.Pipe, c.Geom, 1)
	}
	for _, h := range ds.Hydrants {
		onPipe("hydrant", h.ID, h.Pipe, h.Geom, 1)
	}

	// Pipe ends: identical or at least 0.1 m apart.
	type cell struct{ x, y int64 }
	const tol = 0.1
	ends := map[cell][]orb.Point{}
	for _, p := range ds.Pipes {
		for _, e := range []orb.Point{p.Geom[0], p.Geom[len(p.Geom)-1]} {
			c := cell{int64(math.Floor(e[0] / tol)), int64(math.Floor(e[1] / tol))}
			for dx := int64(-1); dx <= 1; dx++ {
				for dy := int64(-1); dy <= 1; dy++ {
					for _, o := range ends[cell{c.x + dx, c.y + dy}] {
						if o != e && planar.Distance(o, e) < tol {
							t.Fatalf("pipe ends %v and %v are %.3g m apart", o, e, planar.Distance(o, e))
						}
					}
				}
			}
			ends[c] = append(ends[c], e)
		}
	}
	// No pipe end within 0.1 m of another pipe's inside: grid of 200 m cells.
	const cs = 200.0
	grid := map[cell][]int{}
	for i, p := range ds.Pipes {
		b := p.Geom.Bound().Pad(tol)
		for x := int64(math.Floor(b.Min[0] / cs)); x <= int64(math.Floor(b.Max[0]/cs)); x++ {
			for y := int64(math.Floor(b.Min[1] / cs)); y <= int64(math.Floor(b.Max[1]/cs)); y++ {
				grid[cell{x, y}] = append(grid[cell{x, y}], i)
			}
		}
	}
	checked := 0
	for i, p := range ds.Pipes {
		for _, e := range []orb.Point{p.Geom[0], p.Geom[len(p.Geom)-1]} {
			for _, q := range grid[cell{int64(math.Floor(e[0] / cs)), int64(math.Floor(e[1] / cs))}] {
				g := ds.Pipes[q].Geom
				if q == i || e == g[0] || e == g[len(g)-1] {
					continue
				}
				checked++
				if d := gis.DistanceToLine(g, e); d < tol {
					t.Fatalf("end %v of pipe %s is %.3g m from the inside of pipe %s", e, p.ID, d, ds.Pipes[q].ID)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("the grid index found no neighbours")
	}

	// Districts: every pipe's midpoint lies in its district and no other;
	// every district has pipes.
	if len(ds.Districts) != 4 {
		t.Fatalf("%d districts", len(ds.Districts))
	}
	perDistrict := map[string]int{}
	for _, p := range ds.Pipes {
		mid := gis.PointAt(p.Geom, gis.LineLength(p.Geom)/2)
		for _, d := range ds.Districts {
			if in := planar.MultiPolygonContains(d.Geom, mid); in != (d.ID == p.District) {
				t.Fatalf("pipe %s (district %s): midpoint in %s = %v", p.ID, p.District, d.ID, in)
			}
		}
		perDistrict[p.District]++
	}
	area := 0.0
	for _, d := range ds.Districts {
		if perDistrict[d.ID] == 0 {
			t.Errorf("district %s has no pipes", d.ID)
		}
		if a := planar.Area(d.Geom); a <= 0 {
			t.Errorf("district %s has area %.0f", d.ID, a)
		} else {
			area += a
		}
		if !strings.HasPrefix(d.Name, "片区") || !strings.HasPrefix(d.Manager, "manager-") {
			t.Errorf("district %s: %q %q", d.ID, d.Name, d.Manager)
		}
	}
	t.Logf("districts %v, %.1f km²", perDistrict, area/1e6)
}

// TestResolve: the service's own topology reads the city as built: no tees,
// no warnings but the dead ends of its stub streets, one junction per
// distinct end point, valves inside pipes.
func TestResolve(t *testing.T) {
	ds := generate(t, Options{Pipes: 5000, Seed: 11})
	top, warns := gis.Resolve(ds, 0)
	for _, w := range warns {
		if w.Code != "topology.dead_end" {
			t.Fatalf("%d warnings, one %s", len(warns), w)
		}
	}
	if len(top.TeePipe) != 0 {
		t.Fatalf("%d tees", len(top.TeePipe))
	}
	ends := map[orb.Point]bool{}
	for _, p := range ds.Pipes {
		if p.Status == gis.StatusInService {
			ends[p.Geom[0]], ends[p.Geom[len(p.Geom)-1]] = true, true
		}
	}
	if len(top.NodeXY)/2 != len(ends) {
		t.Fatalf("%d junctions for %d distinct ends", len(top.NodeXY)/2, len(ends))
	}
	for v, q := range top.ValvePipe {
		if q < 0 || top.ValveS[v] <= top.Tol || top.ValveS[v] >= top.PipeLen[q]-top.Tol {
			t.Fatalf("valve %s not inside its pipe", top.ValveID.At(int(v)))
		}
	}
	net := gis.NewNetwork(top)
	t.Logf("%d junctions, %d pieces, %d segments", len(ends), net.NumPieces(), net.NumSegments())
}

func BenchmarkGenerate100k(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Generate(Options{Pipes: 100_000, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMillion generates a 1,000,000-pipe city and reports time and memory.
// It runs only with WATERLINE_BIG=1 (and not -short).
func TestMillion(t *testing.T) {
	if testing.Short() || os.Getenv("WATERLINE_BIG") != "1" {
		t.Skip("set WATERLINE_BIG=1 to generate a 1,000,000-pipe city")
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	t0 := time.Now()
	ds, err := Generate(Options{Pipes: 1_000_000, Seed: 1})
	el := time.Since(t0)
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapInuse > peak.Load() {
		peak.Store(ms.HeapInuse)
	}
	runtime.GC()
	var live runtime.MemStats
	runtime.ReadMemStats(&live)
	t.Logf("1,000,000-pipe city in %v: %d pipes, %d valves, %d connections, %d customers, %d hydrants, %d sources, %d districts",
		el.Round(time.Millisecond), len(ds.Pipes), len(ds.Valves), len(ds.Connections), len(ds.Customers), len(ds.Hydrants), len(ds.Sources), len(ds.Districts))
	t.Logf("memory: peak heap in use %.0f MiB, live dataset %.0f MiB, Sys %.0f MiB, %d allocations, %d GCs, peak RSS %s",
		float64(peak.Load())/(1<<20), float64(live.HeapAlloc-base.HeapAlloc)/(1<<20), float64(ms.Sys)/(1<<20),
		ms.Mallocs-base.Mallocs, ms.NumGC-base.NumGC, vmHWM())
	if el > 10*time.Second {
		t.Errorf("took %v, want under 10 s", el)
	}
	if peak.Load() > 1536<<20 {
		t.Errorf("peak heap %d MiB, want under 1.5 GiB", peak.Load()>>20)
	}
	if d := len(ds.Pipes) - 1_000_000; d > 10_000 || d < -10_000 {
		t.Errorf("%d pipes", len(ds.Pipes))
	}
	runtime.KeepAlive(ds)
}

// vmHWM is the process's peak resident set size (Linux), or "n/a".
func vmHWM() string {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "n/a"
}
