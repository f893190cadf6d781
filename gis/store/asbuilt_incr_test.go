package store_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/gen"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/migrations/testdb"
)

// networkOrder is how dumpNetwork orders each network table's rows.
var networkOrder = map[string]string{
	"districts": "id", "nodes": "id", "pipes": "seq", "pipe_tees": "pipe_seq, node_id, s",
	"valves": "seq", "sources": "seq", "hydrants": "seq", "connections": "seq", "customers": "seq",
}

// dumpNetwork returns every row of every network table, every column, as
// PostgreSQL prints it (geometry as hex EWKB, floats exactly).
func dumpNetwork(t *testing.T, pool *pgxpool.Pool) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for table, order := range networkOrder {
		rows, err := pool.Query(context.Background(), fmt.Sprintf("SELECT t::text FROM %s t ORDER BY %s", table, order))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out[table] = append(out[table], s)
		}
		if rows.Err() != nil {
			t.Fatal(rows.Err())
		}
	}
	return out
}

// dumpHistory returns the history rows without their timestamps.
func dumpHistory(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT concat_ws('|', batch_id, version, kind, feature_id, action, before::text, after::text, detail::text, changed_by)
		FROM network_history ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// sameNetwork fails unless the two stores hold the same network: the same
// rows in every network table, the same export, the same version and
// history.
func sameNetwork(t *testing.T, step string, a, b *store.Store, pa, pb *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	da, db := dumpNetwork(t, pa), dumpNetwork(t, pb)
	for table := range networkOrder {
		ra, rb := da[table], db[table]
		if len(ra) != len(rb) {
			t.Errorf("%s: %s has %d rows incrementally, %d rewritten whole", step, table, len(ra), len(rb))
			continue
		}
		for i := range ra {
			if ra[i] != rb[i] {
				t.Errorf("%s: %s row %d:\n incremental %.300s\n whole       %.300s", step, table, i, ra[i], rb[i])
				break
			}
		}
	}
	ea, err := a.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := b.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ea, eb) {
		t.Errorf("%s: the exports differ", step)
	}
	va, _ := a.Version(ctx)
	vb, _ := b.Version(ctx)
	if va != vb {
		t.Errorf("%s: version %d incrementally, %d rewritten whole", step, va, vb)
	}
	if ha, hb := dumpHistory(t, pa), dumpHistory(t, pb); !reflect.DeepEqual(ha, hb) {
		t.Errorf("%s: the history differs (%d rows, %d rows)", step, len(ha), len(hb))
	}
	sameTopology(t, step, a, ea)
}

// sameTopology fails unless the stored topology is the one Resolve gives
// the exported network, up to the numbering of the junctions (the commit
// keeps stored junctions' ids).
func sameTopology(t *testing.T, step string, st *store.Store, ds *gis.Dataset) {
	t.Helper()
	got, _, err := st.LoadTopology(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := gis.Resolve(ds, gis.DefaultTolerance)
	if len(got.NodeXY) != len(want.NodeXY) || len(got.PipeFrom) != len(want.PipeFrom) || len(got.TeePipe) != len(want.TeePipe) {
		t.Fatalf("%s: stored topology has %d junctions, %d pipes, %d tees; resolved %d, %d, %d", step,
			len(got.NodeXY)/2, len(got.PipeFrom), len(got.TeePipe), len(want.NodeXY)/2, len(want.PipeFrom), len(want.TeePipe))
	}
	at := func(tp *gis.Topology, n int32) [2]float64 {
		if n < 0 {
			return [2]float64{-1, -1}
		}
		return [2]float64{tp.NodeXY[2*n], tp.NodeXY[2*n+1]}
	}
	for i := range got.PipeFrom {
		if at(got, got.PipeFrom[i]) != at(want, want.PipeFrom[i]) || at(got, got.PipeTo[i]) != at(want, want.PipeTo[i]) {
			t.Fatalf("%s: pipe %s joins other junctions than Resolve's", step, got.PipeID.At(i))
		}
	}
	for i := range got.TeePipe {
		if got.TeePipe[i] != want.TeePipe[i] || got.TeeS[i] != want.TeeS[i] || at(got, got.TeeNode[i]) != at(want, want.TeeNode[i]) {
			t.Fatalf("%s: tee %d differs from Resolve's", step, i)
		}
	}
	if fmt.Sprint(got.ValvePipe, got.ValveS, got.CustPipe, got.CustS) != fmt.Sprint(want.ValvePipe, want.ValveS, want.CustPipe, want.CustS) {
		t.Fatalf("%s: placements differ from Resolve's", step)
	}
}

// xmins returns the transaction that wrote each stored pipe, by id.
func xmins(t *testing.T, pool *pgxpool.Pool) map[string]string {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT id, xmin::text FROM pipes")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for rows.Next() {
		var id, x string
		if err := rows.Scan(&id, &x); err != nil {
			t.Fatal(err)
		}
		m[id] = x
	}
	return m
}

// rewritten counts the pipes of before that are stored again (a new row
// version) or gone.
func rewritten(before, after map[string]string) int {
	n := 0
	for id, x := range before {
		if after[id] != x {
			n++
		}
	}
	return n
}

// TestCommitIncrementalSample commits the sample survey, and then its
// rollback, into two stores holding the same live network — one
// incrementally (Commit), the other rewriting the network whole — and
// checks that both store exactly the same rows, and that the incremental
// commit left the live rows it did not change alone.
func TestCommitIncrementalSample(t *testing.T) {
	ctx := context.Background()
	a, pa := newStore(t, jinanLive())
	b, pb := newStore(t, jinanLive())
	x := sample(t, "sample_clean.xlsx")
	var ids [2]int64
	for k, st := range []*store.Store{a, b} {
		bt, err := st.Upload(ctx, store.UploadRequest{File: "sample_clean.xlsx", By: "alice", CRS: "EPSG:4548"}, x)
		if err != nil {
			t.Fatal(err)
		}
		if bt, err = st.Approve(ctx, bt.ID, "bob", true); err != nil {
			t.Fatal(err)
		}
		ids[k] = bt.ID
	}
	before := xmins(t, pa)
	if _, err := a.Commit(ctx, ids[0], "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CommitFull(ctx, b, ids[1], "bob"); err != nil {
		t.Fatal(err)
	}
	sameNetwork(t, "sample", a, b, pa, pb)
	// The tie-ins cut L1, L2 and L3 (pipe_tees) but leave their rows.
	if n := rewritten(before, xmins(t, pa)); n != 0 {
		t.Errorf("the incremental commit rewrote %d of the %d live pipes", n, len(before))
	}
	if n := rewritten(before, xmins(t, pb)); n != len(before) {
		t.Errorf("the whole rewrite rewrote %d of the %d live pipes", n, len(before))
	}
	// The rollback: a compensating batch taking out what the sample added.
	for k, st := range []*store.Store{a, b} {
		rb, err := st.Rollback(ctx, ids[k], "carol")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Approve(ctx, rb.ID, "alice", true); err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			_, err = st.Commit(ctx, rb.ID, "alice")
		} else {
			_, err = store.CommitFull(ctx, st, rb.ID, "alice")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	sameNetwork(t, "rollback", a, b, pa, pb)
	if n := rewritten(before, xmins(t, pa)); n != 0 {
		t.Errorf("the incremental rollback rewrote %d of the %d live pipes", n, len(before))
	}
}

// TestCommitIncrementalCity commits, into a generated city, a batch that
// changes pipes (a diameter, so the grade; a geometry, so the topology),
// takes pipes, a valve and a customer out of the middle (so every later
// row is renumbered), adds pipes that tee into live pipes and end on a live
// junction, with a valve and a hydrant; then its rollback. Each time one
// store commits incrementally and the other rewrites the network whole,
// and both must hold exactly the same rows.
func TestCommitIncrementalCity(t *testing.T) {
	ctx := context.Background()
	city, err := gen.Generate(gen.Options{Pipes: 2000, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	a, pa := newStore(t, city)
	b, pb := newStore(t, city)
	live, err := a.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := live.Pipes
	batch := &gis.Dataset{SRID: 4548}
	// Changed: a diameter (grade 3 → special) and a geometry.
	c1 := p[500]
	c1.DN = 800
	c2 := p[501]
	c2.Geom = append(orb.LineString(nil), c2.Geom...)
	c2.Geom[len(c2.Geom)-1][0] += 7
	batch.Pipes = append(batch.Pipes, c1, c2)
	// Added: a pipe from the middle of p[100] (a tee), one from the start
	// of p[200] (its junction), a valve and a hydrant on the first.
	mid := gis.PointAt(p[100].Geom, gis.LineLength(p[100].Geom)/2)
	n1 := gis.Pipe{ID: "N1", DN: 200, Material: "球墨铸铁", Status: gis.StatusInService, Geom: orb.LineString{mid, {mid[0] + 3, mid[1] + 40}}}
	s2 := p[200].Geom[0]
	n2 := gis.Pipe{ID: "N2", DN: 150, Material: "PE", Status: gis.StatusInService, Geom: orb.LineString{s2, {s2[0] - 30, s2[1] - 5}, {s2[0] - 60, s2[1] - 5}}}
	batch.Pipes = append(batch.Pipes, n1, n2)
	batch.Valves = []gis.Valve{{ID: "NV1", Pipe: "N1", DN: 200, NormallyOpen: true, Operable: true, Geom: orb.Point{mid[0] + 1.5, mid[1] + 20}}}
	batch.Hydrants = []gis.Hydrant{{ID: "NH1", Pipe: "N1", Geom: orb.Point{mid[0] + 3, mid[1] + 40}}}
	remove := []string{"pipe:" + p[1000].ID, "pipe:" + p[1001].ID, "valve:" + live.Valves[300].ID, "customer:" + live.Customers[900].ID}
	var ids [2]int64
	for k, st := range []*store.Store{a, b} {
		if ids[k], err = store.StageApproved(ctx, st, batch, remove); err != nil {
			t.Fatal(err)
		}
	}
	before := xmins(t, pa)
	ba, err := a.Commit(ctx, ids[0], "bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CommitFull(ctx, b, ids[1], "bob"); err != nil {
		t.Fatal(err)
	}
	sameNetwork(t, "city", a, b, pa, pb)
	after := xmins(t, pa)
	// Pipes before the first removed one keep their rows unless changed;
	// the later ones move up a seq and are stored again.
	if n := rewritten(before, after); n < 990 || n > 1010 {
		t.Errorf("the incremental commit rewrote %d of the %d live pipes, want about 1,000", n, len(before))
	}
	if after[p[10].ID] != before[p[10].ID] || after[c1.ID] == before[c1.ID] {
		t.Errorf("pipe %s was rewritten or %s was not", p[10].ID, c1.ID)
	}
	ea, _ := a.Export(ctx)
	if len(ea.Pipes) != len(p)+2-2 || len(ea.Valves) != len(live.Valves)+1-1 || len(ea.Customers) != len(live.Customers)-1 {
		t.Errorf("after the commit: %d pipes, %d valves, %d customers", len(ea.Pipes), len(ea.Valves), len(ea.Customers))
	}
	if h, err := a.History(ctx, "pipe", p[100].ID); err != nil || len(h.Events) != 1 || h.Events[0].Action != "split" || *h.Events[0].Batch != ba.ID {
		t.Errorf("history of %s, which N1 tees into: %+v %v", p[100].ID, h, err)
	}
	for k, st := range []*store.Store{a, b} {
		rb, err := st.Rollback(ctx, ids[k], "carol")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Approve(ctx, rb.ID, "alice", true); err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			_, err = st.Commit(ctx, rb.ID, "alice")
		} else {
			_, err = store.CommitFull(ctx, st, rb.ID, "alice")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	sameNetwork(t, "city rollback", a, b, pa, pb)
	// The rollback put back what the history recorded: the network is the
	// one before the batch, but for the order of the features it put back.
	back, err := a.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffByID(live, back); d != "" {
		t.Errorf("after the rollback: %s", d)
	}
}

// diffByID names a feature that differs between x and y, compared by id
// whatever their order; "" when none does.
func diffByID(x, y *gis.Dataset) string {
	type keyed = map[string]any
	index := func(ds *gis.Dataset) keyed {
		m := keyed{}
		for _, p := range ds.Pipes {
			m["pipe:"+p.ID] = p
		}
		for _, v := range ds.Valves {
			m["valve:"+v.ID] = v
		}
		for _, v := range ds.Sources {
			m["source:"+v.ID] = v
		}
		for _, v := range ds.Hydrants {
			m["hydrant:"+v.ID] = v
		}
		for _, v := range ds.Connections {
			m["connection:"+v.ID] = v
		}
		for _, v := range ds.Customers {
			m["customer:"+v.ID] = v
		}
		for _, v := range ds.Districts {
			m["district:"+v.ID] = v
		}
		return m
	}
	mx, my := index(x), index(y)
	for k, v := range mx {
		if !reflect.DeepEqual(v, my[k]) {
			return fmt.Sprintf("%s: %+v, then %+v", k, v, my[k])
		}
	}
	for k := range my {
		if _, ok := mx[k]; !ok {
			return k + " was not there"
		}
	}
	return ""
}

// TestCommitRenumberingRewrites: a batch that takes out one of the first
// pipes of a city (more than 10,000 stored rows) would renumber nearly
// every row; Commit rewrites the network whole instead, and stores what
// the whole rewrite does.
func TestCommitRenumberingRewrites(t *testing.T) {
	ctx := context.Background()
	city, err := gen.Generate(gen.Options{Pipes: 3000, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	a, pa := newStore(t, city)
	b, pb := newStore(t, city)
	remove := []string{"pipe:" + city.Pipes[3].ID}
	var ids [2]int64
	for k, st := range []*store.Store{a, b} {
		if ids[k], err = store.StageApproved(ctx, st, &gis.Dataset{SRID: 4548}, remove); err != nil {
			t.Fatal(err)
		}
	}
	before := xmins(t, pa)
	if _, err := a.Commit(ctx, ids[0], "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CommitFull(ctx, b, ids[1], "bob"); err != nil {
		t.Fatal(err)
	}
	sameNetwork(t, "remove early", a, b, pa, pb)
	if n := rewritten(before, xmins(t, pa)); n != len(before) {
		t.Errorf("%d of %d pipes rewritten; want all (the whole rewrite)", n, len(before))
	}
}

// TestCommitOneConnection: on a pool of one connection the commit reads
// the stored network in its own transaction instead of alongside it (it
// would wait for a second connection for ever).
func TestCommitOneConnection(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	_, url := testdb.New(t, 4548)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	pool, err := store.Connect(ctx, url+sep+"pool_max_conns=1", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	st := store.New(pool, 4548, gis.DefaultGradeRules(), nil)
	if _, err := st.Import(ctx, jinanLive(), store.ImportOptions{File: "live", Replace: true}); err != nil {
		t.Fatal(err)
	}
	b, err := st.Upload(ctx, store.UploadRequest{File: "sample_clean_gbk.csv", By: "alice", CRS: "EPSG:4548"}, sample(t, "sample_clean_gbk.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Approve(ctx, b.ID, "bob", true); err != nil {
		t.Fatal(err)
	}
	if b, err = st.Commit(ctx, b.ID, "bob"); err != nil || b.Status != store.BatchCommitted {
		t.Fatalf("commit: %v", err)
	}
	ds, err := st.Export(ctx)
	if err != nil || len(ds.Pipes) != 3+133 {
		t.Fatalf("after the commit: %v", err)
	}
	var tees int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM pipe_tees").Scan(&tees); err != nil || tees != 3 {
		t.Errorf("%d tees (%v); the tie-ins cut L1, L2 and L3", tees, err)
	}
}
