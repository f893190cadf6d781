package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/gen"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/migrations/testdb"
	"github.com/waterline-gis/waterline/web/auth"
)

// envInt reads a positive integer from the environment.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestLoad is the loopback load test: `waterline serve` on a generated
// city (WATERLINE_LOAD_PIPES, default 20000, as `make demo`), signed in
// with production limits, and WATERLINE_LOAD_CLIENTS clients (default 200)
// — each its own user with an API token, on keep-alive connections —
// mixing map tiles, shutoff plans and lists without pause for
// WATERLINE_LOAD_SECONDS (default 10; the README's figures come from 60).
// No request may fail; it prints the latency percentiles of each kind.
//
//	WATERLINE_LOAD_SECONDS=60 go test ./cmd/waterline -run TestLoad -v
func TestLoad(t *testing.T) {
	seconds := envInt("WATERLINE_LOAD_SECONDS", 10)
	clients := envInt("WATERLINE_LOAD_CLIENTS", 200)
	npipes := envInt("WATERLINE_LOAD_PIPES", 20000)
	if testing.Short() {
		seconds = min(seconds, 3)
	}
	t.Parallel()
	_, url := testdb.New(t, 4548)
	envs := map[string]string{"DATABASE_URL": url}
	t0 := time.Now()
	genImport(t, envs, npipes, 7)
	t.Logf("generated and imported %d pipes in %v", npipes, time.Since(t0).Round(time.Millisecond))
	ds, err := gen.Generate(gen.Options{Pipes: npipes, Seed: 7, SRID: 4548})
	if err != nil {
		t.Fatal(err)
	}
	var pipes []string
	for _, p := range ds.Pipes {
		if p.Status == gis.StatusInService {
			pipes = append(pipes, p.ID)
		}
	}
	srv := startServe(t, envs)

	// One user and token per client (per-client rate limits apply).
	ctx := context.Background()
	pool, err := store.Connect(ctx, url, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	users := auth.New(pool, auth.Options{})
	tokens := make([]string, clients)
	for i := range tokens {
		name := fmt.Sprintf("load%03d", i)
		if _, err := users.AddUser(ctx, auth.NewUser{Name: name, Role: auth.Dispatcher}); err != nil {
			t.Fatal(err)
		}
		if tokens[i], _, err = users.CreateToken(ctx, name, "load test", nil, "test"); err != nil {
			t.Fatal(err)
		}
	}
	pool.Close()

	// The tiles of the city at zooms 13 to 16.
	var info struct {
		BBox []float64 `json:"bbox"`
	}
	if code := getJSON(t, http.DefaultClient, srv.base+"/api/network", tokens[0], &info); code != 200 || len(info.BBox) != 4 {
		t.Fatalf("network: %d %v", code, info)
	}
	type tile struct{ z, x, y int }
	var tiles []tile
	for z := 13; z <= 16; z++ {
		x0, y1 := lonLatTile(info.BBox[0], info.BBox[1], z)
		x1, y0 := lonLatTile(info.BBox[2], info.BBox[3], z)
		for x := x0; x <= x1; x++ {
			for y := y0; y <= y1; y++ {
				tiles = append(tiles, tile{z, x, y})
			}
		}
	}
	lists := []string{"/api/repair/jobs", "/api/patrol/routes?district=D001", "/api/patrol/anomalies?district=D002",
		"/api/network", "/api/segments/stats?top=10", "/api/repair/escalations"}

	kinds := []string{"tile", "plan", "list", "features"}
	type sample struct {
		kind int
		d    time.Duration
	}
	var (
		mu      sync.Mutex
		samples = make([][]time.Duration, len(kinds))
		errs    = map[string]int{}
		wg      sync.WaitGroup
	)
	transport := &http.Transport{MaxIdleConns: clients * 2, MaxIdleConnsPerHost: clients * 2, IdleConnTimeout: time.Minute}
	client := &http.Client{Transport: transport, Timeout: 60 * time.Second}
	end := time.Now().Add(time.Duration(seconds) * time.Second)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			mine := make([][]time.Duration, len(kinds))
			for time.Now().Before(end) {
				var req *http.Request
				k := 0
				switch x := rng.IntN(100); {
				case x < 55: // the map: tiles
					tl := tiles[rng.IntN(len(tiles))]
					req, _ = http.NewRequest("GET", fmt.Sprintf("%s/tiles/network/%d/%d/%d.mvt", srv.base, tl.z, tl.x, tl.y), nil)
				case x < 70: // a click on a pipe
					k = 1
					req, _ = http.NewRequest("POST", srv.base+"/api/shutoffs/plan",
						strings.NewReader(fmt.Sprintf(`{"pipe":%q,"at":%.3f}`, pipes[rng.IntN(len(pipes))], rng.Float64())))
				case x < 90:
					k = 2
					req, _ = http.NewRequest("GET", srv.base+lists[rng.IntN(len(lists))], nil)
				default: // the clicked pipe's line
					k = 3
					lon := info.BBox[0] + rng.Float64()*(info.BBox[2]-info.BBox[0])
					lat := info.BBox[1] + rng.Float64()*(info.BBox[3]-info.BBox[1])
					req, _ = http.NewRequest("GET", fmt.Sprintf("%s/collections/pipes/items?bbox=%f,%f,%f,%f&limit=50", srv.base, lon, lat, lon+0.002, lat+0.002), nil)
				}
				req.Header.Set("Authorization", "Bearer "+tokens[c])
				t0 := time.Now()
				res, err := client.Do(req)
				d := time.Since(t0)
				if err != nil {
					mu.Lock()
					errs[kinds[k]+": "+err.Error()]++
					mu.Unlock()
					continue
				}
				io.Copy(io.Discard, res.Body) //nolint:errcheck
				res.Body.Close()
				if res.StatusCode >= 300 && res.StatusCode != 304 {
					mu.Lock()
					errs[fmt.Sprintf("%s: %s", kinds[k], res.Status)]++
					mu.Unlock()
					continue
				}
				mine[k] = append(mine[k], d)
			}
			mu.Lock()
			for k := range mine {
				samples[k] = append(samples[k], mine[k]...)
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	transport.CloseIdleConnections()

	total := 0
	var report strings.Builder
	fmt.Fprintf(&report, "load: %d clients, %d s, %d pipes\n%-9s %9s %8s %8s %8s %8s\n", clients, seconds, npipes, "kind", "requests", "p50 ms", "p90 ms", "p99 ms", "max ms")
	for k, name := range kinds {
		s := samples[k]
		total += len(s)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		fmt.Fprintf(&report, "%-9s %9d %8.1f %8.1f %8.1f %8.1f\n", name, len(s), loadPct(s, 50), loadPct(s, 90), loadPct(s, 99), loadPct(s, 100))
	}
	fmt.Fprintf(&report, "%-9s %9d  (%.0f requests/s)\n", "all", total, float64(total)/float64(seconds))
	t.Log("\n" + report.String())
	fmt.Fprint(os.Stderr, report.String())
	for e, n := range errs {
		t.Errorf("%d × %s", n, e)
	}
	if total < clients {
		t.Errorf("only %d requests", total)
	}
}

func loadPct(s []time.Duration, p float64) float64 {
	if len(s) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return float64(s[max(i, 0)].Microseconds()) / 1000
}

// lonLatTile is the web-mercator tile holding a point.
func lonLatTile(lon, lat float64, z int) (int, int) {
	n := math.Exp2(float64(z))
	x := int((lon + 180) / 360 * n)
	r := lat * math.Pi / 180
	y := int((1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * n)
	return x, y
}
