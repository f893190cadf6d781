package store_test

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/migrations/testdb"
)

// tiny is a hand-made network: a source, two pipes in a line, a valve in the
// middle of the second pipe with a customer on each side.
func tiny() *gis.Dataset {
	pt := orb.Point{150, 0}
	return &gis.Dataset{
		SRID: 4548,
		Pipes: []gis.Pipe{
			{ID: "a", DN: 300, Status: gis.StatusInService, Geom: orb.LineString{{500000, 4060000}, {500100, 4060000}}},
			{ID: "b", DN: 100, Status: gis.StatusInService, Geom: orb.LineString{{500100, 4060000}, {500300, 4060000}}, Z: []float64{10, 11}},
			{ID: "old", DN: 100, Status: gis.StatusAbandoned, Geom: orb.LineString{{500300, 4060000}, {500400, 4060000}}},
		},
		Valves:  []gis.Valve{{ID: "v1", Pipe: "b", DN: 100, NormallyOpen: true, Operable: true, Geom: orb.Point{500200, 4060000}}},
		Sources: []gis.Source{{ID: "s", Type: "plant", Geom: orb.Point{500000, 4060000}}},
		Connections: []gis.Connection{
			{ID: "c1", Pipe: "b", Geom: orb.Point{500150, 4060001}},
			{ID: "c2", Pipe: "b", Geom: orb.Point{500250, 4060001}},
		},
		Customers: []gis.Customer{
			{ID: "k1", Connection: "c1", Households: 3, Category: "hospital", Critical: true, Name: "医院"},
			{ID: "k2", Connection: "c2", Households: 1},
			{ID: "k3", Geom: &orb.Point{500000 + pt[0], 4060000 + 5}, Households: 2},
		},
	}
}

func TestImportLoadPlan(t *testing.T) {
	ctx := context.Background()
	pool, _ := testdb.New(t, 4548)
	st := store.New(pool, 4548, gis.DefaultGradeRules(), nil)
	res, err := st.Import(ctx, tiny(), store.ImportOptions{File: "tiny", Format: "test", Replace: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != 1 {
		t.Fatalf("version %d, want 1", res.Version)
	}
	topo, v, err := st.LoadTopology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v != 1 || topo.PipeID.Len() != 3 {
		t.Fatalf("loaded version %d with %d pipes", v, topo.PipeID.Len())
	}
	net := gis.NewNetwork(topo)
	// A leak on pipe b beyond the valve: the valve closes, k2 is affected.
	b, _ := net.PipeIndex("b")
	r := net.Render(net.Normal().Isolate(gis.Leak{Pipe: b, S: 150}))
	if len(r.ValvesToClose) != 1 || r.ValvesToClose[0] != "v1" || len(r.ValvesDrySide) != 0 {
		t.Errorf("leak past the valve: %+v", r)
	}
	if len(r.Customers) != 1 || r.Customers[0] != "k2" {
		t.Errorf("customers %v, want [k2]", r.Customers)
	}
	// A leak on pipe a holds the source: everything is dry, nothing to close.
	a, _ := net.PipeIndex("a")
	r = net.Render(net.Normal().Isolate(gis.Leak{Pipe: a, S: 50}))
	if len(r.Customers) != 3 || r.Households != 6 || len(r.CriticalCustomers) != 1 ||
		len(r.ValvesDrySide) != 1 || len(r.UnintendedPipes) != 1 || r.UnintendedPipes[0] != "b" {
		t.Errorf("leak at the source: %+v", r)
	}
	// Export gives the same data back.
	ds, err := st.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Pipes) != 3 || ds.Pipes[1].Z[1] != 11 || ds.Customers[0].Name != "医院" || ds.Pipes[2].Status != gis.StatusAbandoned {
		t.Errorf("export: %+v", ds.Pipes)
	}
}

// TestLoadTopologyOneConnection loads through a pool of one connection
// (the parallel read needs three) and must get the same topology as
// through the full pool, ids and names included, instead of waiting
// forever.
func TestLoadTopologyOneConnection(t *testing.T) {
	ctx := context.Background()
	pool, url := testdb.New(t, 4548)
	st := store.New(pool, 4548, gis.DefaultGradeRules(), nil)
	if _, err := st.Import(ctx, tiny(), store.ImportOptions{File: "tiny", Format: "test", Replace: true}); err != nil {
		t.Fatal(err)
	}
	want, _, err := st.LoadTopology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1
	one, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	got, _, err := store.New(one, 4548, gis.DefaultGradeRules(), nil).LoadTopology(tctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("one connection loaded %+v, the full pool %+v", got, want)
	}
	if got.CustName.At(0) != "医院" || got.CustCategory.At(0) != "hospital" || got.PipeID.At(1) != "b" || got.ValveID.At(0) != "v1" {
		t.Fatalf("ids and names: %q %q %q %q", got.PipeID, got.ValveID, got.CustName, got.CustCategory)
	}
}

func TestImportIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	pool, _ := testdb.New(t, 4548)
	st := store.New(pool, 4548, gis.DefaultGradeRules(), nil)
	if _, err := st.Import(ctx, tiny(), store.ImportOptions{File: "tiny", Replace: true}); err != nil {
		t.Fatal(err)
	}
	bad := tiny()
	bad.Customers[1].Households = 0
	bad.Pipes[0].Status = "bogus" // violates the status CHECK: the COPY fails mid-way
	if _, err := st.Import(ctx, bad, store.ImportOptions{File: "bad", Replace: true}); err == nil {
		t.Fatal("import of a bad status succeeded")
	}
	v, _ := st.Version(ctx)
	ds, _ := st.Export(ctx)
	if v != 1 || len(ds.Pipes) != 3 || ds.Pipes[0].Status != gis.StatusInService {
		t.Fatalf("a failed import changed the store: version %d", v)
	}
}

func TestTransformUnknownCRS(t *testing.T) {
	ctx := context.Background()
	pool, _ := testdb.New(t, 4548)
	st := store.New(pool, 4548, gis.DefaultGradeRules(), nil)
	ds := tiny()
	ds.SRID = 999999
	_, err := st.Import(ctx, ds, store.ImportOptions{File: "x"})
	if _, ok := err.(*store.CRSError); !ok {
		t.Fatalf("want a CRSError, got %v", err)
	}
	// WGS84 into the Jinan CRS lands near easting 500000 at 117°E.
	ds = &gis.Dataset{SRID: 4326, Pipes: []gis.Pipe{{ID: "p", DN: 100, Geom: orb.LineString{{117, 36.67}, {117.001, 36.67}}}}}
	if err := st.Transform(ctx, ds); err != nil {
		t.Fatal(err)
	}
	if x := ds.Pipes[0].Geom[0][0]; x < 499999 || x > 500001 {
		t.Fatalf("117°E transformed to easting %f", x)
	}
}

func TestGradesAndFilter(t *testing.T) {
	ctx := context.Background()
	pool, _ := testdb.New(t, 4548)
	rules := gis.DefaultGradeRules()
	st := store.New(pool, 4548, rules, nil)
	ds := tiny()
	ds.Pipes[1].Crossing = "river"
	if _, err := st.Import(ctx, ds, store.ImportOptions{File: "tiny", Replace: true}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		f    store.PipeFilter
		want string
	}{
		{store.PipeFilter{Grade: "1"}, "a"}, // DN300
		{store.PipeFilter{Grade: "3"}, "b"}, // DN100; the abandoned pipe is left out
		{store.PipeFilter{Crossing: true}, "b"},
		{store.PipeFilter{}, "a,b"},
	} {
		ids, err := st.PipeIDs(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(ids, ","); got != c.want {
			t.Errorf("%+v: got %s, want %s", c.f, got, c.want)
		}
	}
}

// TestLiveFollowsImports: a Live network reloads when another writer
// commits an import (LISTEN/NOTIFY), as every replica's must.
func TestLiveFollowsImports(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool, url := testdb.New(t, 4548)
	st := store.New(pool, 4548, gis.DefaultGradeRules(), nil)
	if _, err := st.Import(ctx, tiny(), store.ImportOptions{File: "tiny", Replace: true}); err != nil {
		t.Fatal(err)
	}
	live := store.NewLive(st)
	reloaded := make(chan int64, 4)
	live.OnReload = func(n *gis.Network) { reloaded <- n.Version }
	go live.Run(ctx)
	if v := <-reloaded; v != 1 {
		t.Fatalf("first load: version %d", v)
	}
	// Another replica: its own pool, its own store.
	pool2, err := store.Connect(ctx, url, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer pool2.Close()
	st2 := store.New(pool2, 4548, gis.DefaultGradeRules(), nil)
	more := tiny()
	more.Pipes = append(more.Pipes, gis.Pipe{ID: "d", DN: 100, Status: gis.StatusInService, Geom: orb.LineString{{500300, 4060000}, {500300, 4060100}}})
	if _, err := st2.Import(ctx, more, store.ImportOptions{File: "more"}); err != nil {
		t.Fatal(err)
	}
	select {
	case v := <-reloaded:
		if v != 2 || live.Network().Topo.PipeID.Len() != 4 {
			t.Fatalf("reloaded version %d with %d pipes", v, live.Network().Topo.PipeID.Len())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the live network did not follow the import")
	}
}

// TestRunOnce: two replicas firing the same slot run it once; a forced
// re-run runs again; a failure can be retried.
func TestRunOnce(t *testing.T) {
	ctx := context.Background()
	pool, url := testdb.New(t, 4548)
	pool2, err := store.Connect(ctx, url, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer pool2.Close()
	a := store.New(pool, 4548, gis.DefaultGradeRules(), nil)
	b := store.New(pool2, 4548, gis.DefaultGradeRules(), nil)
	var runs atomic.Int32
	job := func(ctx context.Context) error { runs.Add(1); time.Sleep(50 * time.Millisecond); return nil }
	var wg sync.WaitGroup
	for _, st := range []*store.Store{a, b, a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); st.RunOnce(ctx, "test.job", "2026-11-26", "r", false, job) }() //nolint:errcheck
	}
	wg.Wait()
	if err := b.RunOnce(ctx, "test.job", "2026-11-26", "r", false, job); !errors.Is(err, store.ErrJobDone) {
		t.Errorf("second run of a done slot: %v", err)
	}
	if runs.Load() != 1 {
		t.Fatalf("slot ran %d times, want once", runs.Load())
	}
	if err := a.RunOnce(ctx, "test.job", "2026-11-26", "r", true, job); err != nil || runs.Load() != 2 {
		t.Errorf("forced re-run: %v, runs %d", err, runs.Load())
	}
	boom := errors.New("boom")
	if err := a.RunOnce(ctx, "test.fail", "s", "r", false, func(context.Context) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("failing job: %v", err)
	}
	if err := a.RunOnce(ctx, "test.fail", "s", "r", false, job); err != nil {
		t.Errorf("retry after failure: %v", err)
	}
}

// TestLonLatGrid: the interpolated transformation agrees with PostGIS to
// well under a centimetre across the network.
func TestLonLatGrid(t *testing.T) {
	ctx := context.Background()
	pool, _ := testdb.New(t, 4548)
	st := store.New(pool, 4548, gis.DefaultGradeRules(), nil)
	ds := tiny()
	// Stretch the network over 40 km so the grid has many cells.
	ds.Pipes = append(ds.Pipes, gis.Pipe{ID: "far", DN: 100, Status: gis.StatusInService, Geom: orb.LineString{{480000, 4040000}, {520000, 4080000}}})
	if _, err := st.Import(ctx, ds, store.ImportOptions{File: "tiny", Replace: true}); err != nil {
		t.Fatal(err)
	}
	g, err := st.LonLatGrid(ctx, 250)
	if err != nil {
		t.Fatal(err)
	}
	var xs, ys []float64
	for i := 0; i < 200; i++ {
		xs = append(xs, 480000+float64(i*197%40000))
		ys = append(ys, 4040000+float64(i*331%40000))
	}
	lon, lat, err := st.ToLonLat(ctx, xs, ys)
	if err != nil {
		t.Fatal(err)
	}
	for i := range xs {
		glon, glat := g.Apply(xs[i], ys[i])
		// 1e-7 degrees is about 1 cm.
		if math.Abs(glon-lon[i]) > 1e-7 || math.Abs(glat-lat[i]) > 1e-7 {
			t.Fatalf("(%v,%v): grid %v,%v, PostGIS %v,%v", xs[i], ys[i], glon, glat, lon[i], lat[i])
		}
	}
}
