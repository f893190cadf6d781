package store_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/asbuilt"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/migrations/testdb"
)

const asbuiltDir = "../../../shared/data/asbuilt"

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(asbuiltDir, name))
	if err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	return b
}

// jinanLive is a live network around the sample survey: the DN400 main its
// J1 ties into (fed by a plant), and the DN200 mains at J74 and, 0.2 m
// off, at J115.
func jinanLive() *gis.Dataset {
	return &gis.Dataset{SRID: 4548,
		Pipes: []gis.Pipe{
			{ID: "L1", DN: 400, Material: "球墨铸铁", Status: gis.StatusInService, Geom: orb.LineString{{497705.318, 4059300}, {497705.318, 4059450}}},
			{ID: "L2", DN: 200, Material: "球墨铸铁", Status: gis.StatusInService, Geom: orb.LineString{{499400, 4060296.479}, {499500, 4060296.479}}},
			{ID: "L3", DN: 200, Material: "球墨铸铁", Status: gis.StatusInService, Geom: orb.LineString{{497900, 4058984.854}, {498000, 4058984.854}}},
		},
		Valves:  []gis.Valve{{ID: "LV1", Pipe: "L1", DN: 400, NormallyOpen: true, Operable: true, Geom: orb.Point{497705.318, 4059320}}},
		Sources: []gis.Source{{ID: "PLANT", Type: "plant", Geom: orb.Point{497705.318, 4059300}}},
	}
}

func newStore(t testing.TB, live *gis.Dataset) (*store.Store, *pgxpool.Pool) {
	t.Helper()
	pool, _ := testdb.New(t, 4548)
	st := store.New(pool, 4548, gis.DefaultGradeRules(), nil)
	if live != nil {
		if _, err := st.Import(context.Background(), live, store.ImportOptions{File: "live", Format: "test", Replace: true}); err != nil {
			t.Fatal(err)
		}
	}
	return st, pool
}

func codeOf(err error) string {
	var ge *gis.Error
	if errors.As(err, &ge) {
		return ge.Code
	}
	return ""
}

func hasIssue(b *store.Batch, code string) bool {
	for _, i := range b.Issues {
		if i.Code == code {
			return true
		}
	}
	return false
}

// TestAsbuiltWorkflow takes the sample survey through the whole workflow:
// upload, validation and preview against a live network it ties into,
// the four-eyes approval, commit, history, and the rollback by a
// compensating batch.
func TestAsbuiltWorkflow(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, jinanLive())
	b, err := st.Upload(ctx, store.UploadRequest{File: "sample_clean.xlsx", Project: "经十路西段配套给水工程", Contractor: "测绘院", SurveyDate: "2026-10-15",
		By: "alice", CRS: "EPSG:4548"}, sample(t, "sample_clean.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != store.BatchReady || b.Errors != 0 {
		t.Fatalf("status %s, %d errors: %v", b.Status, b.Errors, b.Issues)
	}
	if !hasIssue(b, asbuilt.CodeTieSnapped) {
		t.Errorf("J115, 0.2 m off L3, is not snapped: %v", b.Issues)
	}
	splits := map[string]bool{}
	adds := 0
	for _, c := range b.Changes {
		switch c.Action {
		case asbuilt.ActSplit:
			splits[c.ID] = true
		case asbuilt.ActAdd:
			adds++
		}
	}
	if !splits["L1"] || !splits["L2"] || !splits["L3"] || adds != 133+15+6 {
		t.Errorf("changes: splits %v, %d adds", splits, adds)
	}
	for _, i := range b.Issues {
		if i.At != nil && i.LonLat == nil {
			t.Errorf("issue %s is not located in lon/lat", i)
		}
	}
	pv, err := st.Preview(ctx, b.ID)
	if err != nil || !strings.Contains(string(pv), `"change":"split"`) || !strings.Contains(string(pv), `"issue":"tie.snapped"`) || !strings.Contains(string(pv), "116.9") {
		t.Errorf("preview: %v %.300s", err, pv)
	}

	// Four eyes.
	if _, err := st.Approve(ctx, b.ID, "alice", true); codeOf(err) != store.ErrSelfApproval {
		t.Fatalf("self approval: %v", err)
	}
	if _, err := st.Approve(ctx, b.ID, "bob", false); codeOf(err) != "batch.unacknowledged_warnings" {
		t.Fatalf("approval without acknowledging: %v", err)
	}
	if _, err := st.Commit(ctx, b.ID, "bob"); codeOf(err) != "batch.bad_status" {
		t.Fatalf("commit before approval: %v", err)
	}
	if b, err = st.Approve(ctx, b.ID, "bob", true); err != nil || b.Status != store.BatchApproved {
		t.Fatalf("approve: %v", err)
	}
	v0, _ := st.Version(ctx)
	if b, err = st.Commit(ctx, b.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	if b.Status != store.BatchCommitted || *b.Version != v0+1 {
		t.Fatalf("committed: %s version %v", b.Status, b.Version)
	}
	ds, err := st.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Pipes) != 3+133 || len(ds.Valves) != 1+15 || len(ds.Hydrants) != 6 {
		t.Fatalf("network after commit: %d pipes %d valves %d hydrants", len(ds.Pipes), len(ds.Valves), len(ds.Hydrants))
	}
	topo, _, err := st.LoadTopology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	net := gis.NewNetwork(topo)
	// The survey is tied in: one component with the plant. Leak on the
	// first survey pipe: the plan is bounded by valves.
	pid := b.Changes[0].ID
	for _, c := range b.Changes {
		if c.Action == asbuilt.ActAdd && c.Kind == "pipe" {
			pid = c.ID
			break
		}
	}
	if _, ok := net.PipeIndex(pid); !ok {
		t.Fatalf("pipe %s not in the loaded network", pid)
	}
	if len(topo.TeePipe) < 3 {
		t.Errorf("%d tees; the three tie-ins split L1, L2, L3", len(topo.TeePipe))
	}
	h, err := st.History(ctx, "pipe", pid)
	if err != nil || len(h.Events) != 1 || h.Events[0].Action != "add" || !h.Live || *h.Events[0].Batch != b.ID {
		t.Fatalf("history of %s: %+v %v", pid, h, err)
	}
	h, err = st.History(ctx, "pipe", "L1")
	if err != nil || len(h.Events) != 1 || h.Events[0].Action != "split" {
		t.Fatalf("history of L1: %+v %v", h, err)
	}
	if _, err := st.History(ctx, "pipe", "nope"); codeOf(err) != "pipe.not_found" {
		t.Errorf("history of an unknown pipe: %v", err)
	}

	// Roll back: a compensating batch, approved by someone else, committed.
	rb, err := st.Rollback(ctx, b.ID, "carol")
	if err != nil {
		t.Fatal(err)
	}
	if rb.Status != store.BatchReady || *rb.RollbackOf != b.ID {
		t.Fatalf("rollback batch: %s %v", rb.Status, rb.Issues)
	}
	removes := 0
	for _, c := range rb.Changes {
		if c.Action == asbuilt.ActRemove {
			removes++
		}
	}
	if removes != 133+15+6 {
		t.Errorf("rollback removes %d features", removes)
	}
	if _, err := st.Rollback(ctx, b.ID, "carol"); codeOf(err) != "batch.rollback_pending" {
		t.Errorf("second rollback: %v", err)
	}
	if _, err := st.Approve(ctx, rb.ID, "carol", true); codeOf(err) != store.ErrSelfApproval {
		t.Fatalf("self approval of the rollback: %v", err)
	}
	if _, err := st.Approve(ctx, rb.ID, "alice", true); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Commit(ctx, rb.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	ds, _ = st.Export(ctx)
	if len(ds.Pipes) != 3 || len(ds.Valves) != 1 || len(ds.Hydrants) != 0 {
		t.Fatalf("after rollback: %d pipes %d valves %d hydrants", len(ds.Pipes), len(ds.Valves), len(ds.Hydrants))
	}
	h, err = st.History(ctx, "pipe", pid)
	if err != nil || len(h.Events) != 2 || h.Events[1].Action != "remove" || h.Live || h.Events[1].Before == nil {
		t.Fatalf("history after rollback: %+v %v", h, err)
	}
	if b, _ = st.Batch(ctx, b.ID); b.RolledBackBy == nil || *b.RolledBackBy != rb.ID {
		t.Errorf("batch not marked rolled back: %+v", b.RolledBackBy)
	}
	if _, err := st.Rollback(ctx, b.ID, "carol"); codeOf(err) != "batch.rolled_back" {
		t.Errorf("rollback twice: %v", err)
	}
	list, err := st.Batches(ctx, "", 10)
	if err != nil || len(list) != 2 {
		t.Errorf("batches: %d %v", len(list), err)
	}
}

// approved uploads the GBK sample and approves it.
func approved(t *testing.T, st *store.Store) *store.Batch {
	t.Helper()
	ctx := context.Background()
	b, err := st.Upload(ctx, store.UploadRequest{File: "sample_clean_gbk.csv", By: "alice", CRS: "EPSG:4548"}, sample(t, "sample_clean_gbk.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != store.BatchReady {
		t.Fatalf("status %s: %v", b.Status, b.Issues)
	}
	if b, err = st.Approve(ctx, b.ID, "bob", true); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCommitStale: the network changes between preview and commit → 409;
// validated again, the batch commits.
func TestCommitStale(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, jinanLive())
	b := approved(t, st)
	other := &gis.Dataset{SRID: 4548, Pipes: []gis.Pipe{{ID: "X", DN: 100, Material: "钢", Status: gis.StatusInService, Geom: orb.LineString{{497000, 4059000}, {497010, 4059000}}}}}
	if _, err := st.Import(ctx, other, store.ImportOptions{File: "other"}); err != nil {
		t.Fatal(err)
	}
	_, err := st.Commit(ctx, b.ID, "bob")
	var ge *gis.Error
	if !errors.As(err, &ge) || ge.Kind != gis.Conflict || ge.Code != "network.changed" {
		t.Fatalf("commit on a changed network: %v", err)
	}
	if b, _ = st.Batch(ctx, b.ID); b.Status != store.BatchApproved || !strings.Contains(b.Failure, "changed") {
		t.Fatalf("after a stale commit: %s %q", b.Status, b.Failure)
	}
	if b, err = st.Revalidate(ctx, b.ID, "alice"); err != nil || b.Status != store.BatchReady {
		t.Fatalf("revalidate: %v %s", err, b.Status)
	}
	if _, err := st.Approve(ctx, b.ID, "bob", true); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Commit(ctx, b.ID, "bob"); err != nil {
		t.Fatal(err)
	}
}

// TestCommitKilled kills the commit in the middle of its writes — by
// cancelling its context during the COPY of the pipes, and by terminating
// its backend from another connection — and checks that the live network
// is exactly as before and the batch can still be committed.
func TestCommitKilled(t *testing.T) {
	for _, how := range []string{"cancel", "terminate"} {
		t.Run(how, func(t *testing.T) {
			ctx := context.Background()
			st, pool := newStore(t, jinanLive())
			before, _ := st.Export(ctx)
			v0, _ := st.Version(ctx)
			b := approved(t, st)
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			store.SetHook(st, func(hctx context.Context, step string) {
				if step != "copy pipes" {
					return
				}
				switch how {
				case "cancel":
					cancel()
				case "terminate":
					var n int
					if err := pool.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
						WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle in transaction'`).Scan(&n); err != nil || n != 1 {
						t.Errorf("terminated %d backends: %v", n, err)
					}
				}
			})
			if _, err := st.Commit(cctx, b.ID, "bob"); err == nil {
				t.Fatal("the killed commit succeeded")
			}
			store.SetHook(st, nil)
			after, err := st.Export(ctx)
			if err != nil {
				t.Fatal(err)
			}
			v1, _ := st.Version(ctx)
			if v1 != v0 || len(after.Pipes) != len(before.Pipes) || len(after.Valves) != len(before.Valves) {
				t.Fatalf("network changed: version %d→%d, pipes %d→%d", v0, v1, len(before.Pipes), len(after.Pipes))
			}
			for i := range before.Pipes {
				if before.Pipes[i].ID != after.Pipes[i].ID || !equalLine(before.Pipes[i].Geom, after.Pipes[i].Geom) {
					t.Fatalf("pipe %d changed", i)
				}
			}
			var hist int
			pool.QueryRow(ctx, "SELECT count(*) FROM network_history").Scan(&hist) //nolint:errcheck
			if hist != 0 {
				t.Errorf("%d history rows after a killed commit", hist)
			}
			if b, _ = st.Batch(ctx, b.ID); b.Status != store.BatchApproved || b.Failure == "" {
				t.Errorf("batch after a killed commit: %s %q", b.Status, b.Failure)
			}
			if _, err := st.Commit(ctx, b.ID, "bob"); err != nil {
				t.Fatalf("commit after the kill: %v", err)
			}
		})
	}
}

func equalLine(a, b orb.LineString) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i][0]-b[i][0]) > 1e-6 || math.Abs(a[i][1]-b[i][1]) > 1e-6 {
			return false
		}
	}
	return true
}

// TestBadInput: each bad file leaves a failed batch with a clear error and
// the live network unchanged.
func TestBadInput(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, jinanLive())
	st.SetAsbuiltOptions(store.AsbuiltOptions{Limits: asbuilt.Limits{MaxBytes: 1 << 20}})
	v0, _ := st.Version(ctx)
	x := sample(t, "sample_clean.xlsx")
	cases := map[string]struct {
		file string
		data []byte
		crs  string
		code string
	}{
		"truncated":     {"s.xlsx", x[:len(x)/2], "", asbuilt.CodeFileUnreadable},
		"malformed":     {"s.csv", []byte("点号,连接点号,X,Y\n\"J1,J2\n"), "", asbuilt.CodeFileUnreadable},
		"wrong type":    {"s.pdf", []byte("%PDF-1.7\n..."), "", asbuilt.CodeFileWrongType},
		"oversized":     {"s.csv", make([]byte, 2<<20), "", asbuilt.CodeFileTooLarge},
		"unknown CRS":   {"s.csv", sample(t, "sample_clean.csv"), "EPSG:999999", asbuilt.CodeCRSUnknown},
		"unknown local": {"s.csv", sample(t, "sample_clean.csv"), "local:nowhere", asbuilt.CodeCRSUnknown},
		"implausible":   {"s.csv", sample(t, "sample_clean.csv"), "EPSG:4551", asbuilt.CodeCRSImplausible},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			b, err := st.Upload(ctx, store.UploadRequest{File: c.file, By: "alice", CRS: c.crs}, c.data)
			if err != nil {
				t.Fatal(err)
			}
			if b.Status != store.BatchFailed || !hasIssue(b, c.code) || !strings.HasPrefix(b.Failure, c.code) {
				t.Fatalf("status %s failure %q issues %v", b.Status, b.Failure, b.Issues)
			}
			if _, err := st.Approve(ctx, b.ID, "bob", true); codeOf(err) != "batch.bad_status" {
				t.Errorf("a failed batch was approvable: %v", err)
			}
			if _, err := st.Preview(ctx, b.ID); codeOf(err) != "batch.no_preview" {
				t.Errorf("preview of a failed batch: %v", err)
			}
		})
	}
	if v, _ := st.Version(ctx); v != v0 {
		t.Errorf("version %d → %d", v0, v)
	}
	// An invalid (not failed) batch: errors block approval.
	bad := []byte("点号,连接点号,管径,材质,X,Y\nP1,P2,200,钢,4059000,497800\nP2,P9,200,钢,4059000,497810\n")
	b, err := st.Upload(ctx, store.UploadRequest{File: "bad.csv", By: "alice", CRS: "EPSG:4548"}, bad)
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != store.BatchInvalid || !hasIssue(b, asbuilt.CodePointUnknownConnect) {
		t.Fatalf("status %s: %v", b.Status, b.Issues)
	}
	if _, err := st.Approve(ctx, b.ID, "bob", true); codeOf(err) != "batch.has_errors" {
		t.Errorf("approving a batch with errors: %v", err)
	}
	if b, err = st.Reject(ctx, b.ID, "bob", "fix P9"); err != nil || b.Status != store.BatchRejected {
		t.Errorf("reject: %v", err)
	}
}

// TestLocalCRS registers a city system (the storage zone shifted to a
// local origin) and imports the sample written in it: it lands where the
// EPSG:4548 sample does.
func TestLocalCRS(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, jinanLive())
	if _, err := st.RegisterCRS(ctx, "jinan-city", "+proj=nonsense", "", "admin"); codeOf(err) != "crs.bad_proj" {
		t.Errorf("bad PROJ: %v", err)
	}
	if _, err := st.RegisterCRS(ctx, "jinan-city", "+proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0=0 +y_0=-4000000 +ellps=GRS80 +units=m +no_defs", "济南城建坐标 (test)", "admin"); err != nil {
		t.Fatal(err)
	}
	// Shift the sample: northing −4,000,000, easting −500,000.
	csv := string(sample(t, "sample_clean.csv"))
	var out []string
	for _, line := range strings.Split(csv, "\r\n") {
		f := strings.Split(line, ",")
		if len(f) > 10 && strings.HasPrefix(f[8], "40") {
			f[8] = shift(t, f[8], -4000000)
			f[9] = shift(t, f[9], -500000)
		}
		out = append(out, strings.Join(f, ","))
	}
	b, err := st.Upload(ctx, store.UploadRequest{File: "local.csv", By: "alice", CRS: "local:jinan-city"}, []byte(strings.Join(out, "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != store.BatchReady || b.SourceCRS != "local:jinan-city" {
		t.Fatalf("status %s crs %s: %v", b.Status, b.SourceCRS, b.Issues)
	}
	ref, err := st.Upload(ctx, store.UploadRequest{File: "sample.csv", By: "alice", CRS: "EPSG:4548"}, sample(t, "sample_clean.csv"))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := st.Staged(ctx, b.ID)
	c, _ := st.Staged(ctx, ref.ID)
	if a == nil || c == nil || len(a.Pipes) != 133 || len(c.Pipes) != 133 {
		t.Fatalf("staged: %v %v", a, c)
	}
	for i := range a.Pipes {
		for k := range a.Pipes[i].Geom {
			p, q := a.Pipes[i].Geom[k], c.Pipes[i].Geom[k]
			if math.Hypot(p[0]-q[0], p[1]-q[1]) > 0.001 {
				t.Fatalf("pipe %d vertex %d: local %v, EPSG:4548 %v", i, k, p, q)
			}
		}
	}
	list, _ := st.LocalCRSs(ctx)
	if len(list) != 1 || list[0].Name != "jinan-city" {
		t.Errorf("local CRSs: %+v", list)
	}
}

func shift(t *testing.T, s string, by float64) string {
	var f float64
	if _, err := fmtSscan(s, &f); err != nil {
		t.Fatal(err)
	}
	return strings.TrimRight(strings.TrimRight(fmtFloat(f+by), "0"), ".")
}

func fmtSscan(s string, f *float64) (int, error) { return fmt.Sscan(s, f) }
func fmtFloat(f float64) string                  { return strconv.FormatFloat(f, 'f', 3, 64) }

// TestZonePrefix: the sample with zone-prefixed eastings (39…), declared
// EPSG:4548, is read as EPSG:4527 with a warning and lands where the
// sample does.
func TestZonePrefix(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t, jinanLive())
	csv := string(sample(t, "sample_clean.csv"))
	var out []string
	for _, line := range strings.Split(csv, "\r\n") {
		f := strings.Split(line, ",")
		if len(f) > 10 && strings.HasPrefix(f[9], "49") {
			f[9] = "39" + f[9]
		}
		out = append(out, strings.Join(f, ","))
	}
	b, err := st.Upload(ctx, store.UploadRequest{File: "zone.csv", By: "alice", CRS: "EPSG:4548"}, []byte(strings.Join(out, "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != store.BatchReady || b.SourceCRS != "EPSG:4527" || !hasIssue(b, asbuilt.CodeCRSZonePrefix) {
		t.Fatalf("status %s crs %s: %v", b.Status, b.SourceCRS, b.Issues)
	}
	ref, err := st.Upload(ctx, store.UploadRequest{File: "sample.csv", By: "alice", CRS: "EPSG:4548"}, sample(t, "sample_clean.csv"))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := st.Staged(ctx, b.ID)
	c, _ := st.Staged(ctx, ref.ID)
	for i := range a.Pipes {
		for k := range a.Pipes[i].Geom {
			p, q := a.Pipes[i].Geom[k], c.Pipes[i].Geom[k]
			if math.Hypot(p[0]-q[0], p[1]-q[1]) > 0.001 {
				t.Fatalf("pipe %d vertex %d: %v, want %v", i, k, p, q)
			}
		}
	}
}
