package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/gen"
	"github.com/waterline-gis/waterline/gis/netjson"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/gis/tiles"
	"github.com/waterline-gis/waterline/web"
)

// cmdBench measures the performance targets of the README on a generated
// city in the configured database (which it replaces): import, load into
// memory (time and peak memory, in a fresh process), shutoff plans
// in-process and over HTTP, and the network-wide segment view.
func cmdBench(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench", "[--pipes N] [--import-pipes N]")
	ec := bindConfig(fs, e.getenv, false)
	pipes := fs.Int("pipes", 1_000_000, "size of the generated city for load, plan and segment figures")
	importPipes := fs.Int("import-pipes", 100_000, "size of the Network GeoJSON import figure")
	plans := fs.Int("plans", 2000, "number of in-process plans")
	clients := fs.Int("clients", 50, "concurrent HTTP clients")
	seconds := fs.Int("seconds", 10, "duration of the HTTP run")
	phase := fs.String("phase", "", "internal: run one phase in this process (load, http-load)")
	loadURL := fs.String("url", "", "internal: the URL the http-load phase asks")
	skipSetup := fs.Bool("skip-setup", false, "measure plans on the network already in the database (no import, no load phase)")
	cpuprof := fs.String("cpuprofile", "", "write a CPU profile of the server during the HTTP phase to FILE")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *phase == "http-load" {
		return benchHTTPLoadPhase(ctx, e, *loadURL, *clients, float64(*seconds))
	}
	cfg, err := ec.resolve()
	if err != nil {
		return err
	}
	log := logger(&env{stderr: bytesDiscard{}})
	pool, st, err := open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer pool.Close()
	if *phase == "load" {
		return benchLoadPhase(ctx, e, st)
	}
	w := e.stdout
	fmt.Fprintf(w, "machine: %d CPUs, %s/%s, %s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())

	// 1. Import of Network GeoJSON, topology and validation included.
	if !*skipSetup {
		ds, err := gen.Generate(gen.Options{Pipes: *importPipes, Seed: 11, SRID: cfg.SRID})
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := netjson.Write(&buf, ds); err != nil {
			return err
		}
		size := buf.Len()
		t0 := time.Now()
		ds2, _, err := netjson.Read(&buf, netjson.Options{Name: "bench.geojson"})
		if err != nil {
			return err
		}
		tRead := time.Since(t0)
		res, err := st.Import(ctx, ds2, store.ImportOptions{File: "bench.geojson", Format: "geojson", Replace: true})
		if err != nil {
			return err
		}
		total := time.Since(t0)
		fmt.Fprintf(w, "import: %d pipes, %d valves, %d customers (%.0f MB GeoJSON): read %.2f s, total %.2f s (target < 10 s)\n",
			len(ds.Pipes), len(ds.Valves), len(ds.Customers), float64(size)/1e6, tRead.Seconds(), total.Seconds())
		_ = res
	}

	t0 := time.Now()
	if !*skipSetup {
		// 2. The big city into the store.
		ds, err := gen.Generate(gen.Options{Pipes: *pipes, Seed: 1, SRID: cfg.SRID})
		if err != nil {
			return err
		}
		tGen := time.Since(t0)
		t0 = time.Now()
		if _, err := st.Import(ctx, ds, store.ImportOptions{File: "bench", Format: "gen", Replace: true}); err != nil {
			return err
		}
		fmt.Fprintf(w, "city: %d pipes, %d valves, %d customers, %d districts: generated in %.1f s, imported in %.1f s\n",
			len(ds.Pipes), len(ds.Valves), len(ds.Customers), len(ds.Districts), tGen.Seconds(), time.Since(t0).Seconds())
		ds = nil
		runtime.GC()

		// 3. Load in a fresh process, for an honest peak memory.
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		cmd := exec.CommandContext(ctx, exe, "bench", "-phase", "load", "-db", cfg.DatabaseURL, "-srid", strconv.Itoa(cfg.SRID))
		cmd.Stderr = e.stderr
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("load phase: %w", err)
		}
		w.Write(out) //nolint:errcheck
	}

	// 4. Plans in-process.
	live := store.NewLive(st)
	if err := live.Reload(ctx); err != nil {
		return err
	}
	net := live.Network()
	rng := rand.New(rand.NewPCG(1, 2))
	var inService []int32
	for i, ok := range net.Topo.PipeInService {
		if ok {
			inService = append(inService, int32(i))
		}
	}
	durs := make([]time.Duration, *plans)
	var custs int
	for i := range durs {
		p := inService[rng.IntN(len(inService))]
		t := time.Now()
		r := net.Render(net.Normal().Isolate(gis.Leak{Pipe: p, S: net.Topo.PipeLen[p] / 2}))
		durs[i] = time.Since(t)
		custs += len(r.Customers)
	}
	med, p99 := pct(durs, 50), pct(durs, 99)
	fmt.Fprintf(w, "plan in-process (isolation + rendered id lists, %d random leaks, mean %d customers): median %.3f ms, p99 %.3f ms (targets < 1 ms, < 5 ms)\n",
		*plans, custs / *plans, ms(med), ms(p99))

	// 5. Segment view of the whole network.
	t0 = time.Now()
	stats := net.SegmentStats(20)
	fmt.Fprintf(w, "segments: %d shutoff units over %d base segments in %.2f s (target < 2 s)\n", stats.Units, stats.BaseSegments, time.Since(t0).Seconds())

	// 6. Plans over HTTP on loopback.
	// As serve: plans see the valves repair jobs hold closed (kept in
	// memory by notifications), a spare P, and plans gated at the number
	// of CPUs.
	planner, jobs, err := repairService(st, live, cfg, log, "")
	if err != nil {
		return err
	}
	heldCtx, stopHeld := context.WithCancel(ctx)
	defer stopHeld()
	go jobs.RunHeld(heldCtx, heldPollEvery) //nolint:errcheck // returns when heldCtx ends
	srv := web.New(web.Config{Store: st, Live: live, Tiles: tiles.New(pool, cfg.SRID, 64<<20),
		Planner: planner, TZ: cfg.TZ, PlanSlots: spareProc(e.getenv)})
	ln, err := net0()
	if err != nil {
		return err
	}
	inServer := &handlerTimes{}
	hs := &http.Server{Handler: inServer.wrap(srv.Handler())}
	go hs.Serve(ln) //nolint:errcheck
	defer hs.Close()
	url := "http://" + ln.Addr().String() + "/api/shutoffs/plan"
	var prof *os.File
	if *cpuprof != "" {
		if prof, err = os.Create(*cpuprof); err != nil {
			return err
		}
		defer prof.Close()
		if err := pprof.StartCPUProfile(prof); err != nil {
			return err
		}
	}
	pipeIDs := make([]string, len(inService))
	for i, p := range inService {
		pipeIDs[i] = net.Topo.PipeID.At(int(p))
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	load := httpLoad{clients: *clients, duration: time.Duration(*seconds) * time.Second, pipes: pipeIDs}
	res, err := load.runChild(ctx, exe, url)
	if prof != nil {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "plan over HTTP (%d clients in a separate process, %d s, full answer with contingency and geometry): %d requests, %d errors, median %.1f ms, p99 %.1f ms, %.0f plans/s (target p99 < 25 ms)\n",
		*clients, *seconds, len(res.Latencies), res.Errors, ms(pct(res.Latencies, 50)), ms(pct(res.Latencies, 99)), res.rate())
	waits := inServer.waits(res)
	fmt.Fprintf(w, "  of which waiting before the server's handler starts: median %.1f ms, p99 %.1f ms; in the handler: median %.2f ms, p99 %.2f ms\n",
		ms(pct(waits, 50)), ms(pct(waits, 99)), ms(pct(inServer.d, 50)), ms(pct(inServer.d, 99)))

	// Where the server's CPU goes: the same load against a server that
	// answers every request with one stored plan answer (same size, same
	// headers) costs what serving HTTP on loopback costs; the rest is
	// planning, encoding and middleware.
	canned, err := cannedAnswer(srv.Handler(), pipeIDs[0])
	if err != nil {
		return err
	}
	ln2, err := net0()
	if err != nil {
		return err
	}
	hs2 := &http.Server{Handler: canned}
	go hs2.Serve(ln2) //nolint:errcheck
	defer hs2.Close()
	load.duration = min(load.duration, 3*time.Second)
	cal, err := load.runChild(ctx, exe, "http://"+ln2.Addr().String()+"/api/shutoffs/plan")
	if err != nil {
		return err
	}
	server, transport := res.perRequest(res.ServerCPU), cal.perRequest(cal.ServerCPU)
	fmt.Fprintf(w, "  CPU per plan: server %.0f µs (HTTP on loopback %.0f µs, measured against a stored answer; planning, encoding and middleware %.0f µs), load generator %.0f µs; %.0f %% of %d CPUs busy\n",
		us(server), us(transport), us(server-transport), us(res.perRequest(res.CPU)), 100*res.busy(), runtime.NumCPU())
	return nil
}

func benchLoadPhase(ctx context.Context, e *env, st *store.Store) error {
	resetPeakRSS()
	t0 := time.Now()
	live := store.NewLive(st)
	if err := live.Reload(ctx); err != nil {
		return err
	}
	total := time.Since(t0)
	t := live.Network().Topo
	fmt.Fprintf(e.stdout, "load into memory (what serve does: parallel snapshot read, graph, lon/lat grid): %d pipes, %d valves, %d customers in %.2f s (target < 8 s); peak RSS %.0f MiB (target < 2048)\n",
		t.PipeID.Len(), t.ValveID.Len(), t.CustID.Len(), total.Seconds(), float64(peakRSS())/(1<<20))
	return nil
}

// resetPeakRSS resets the kernel's peak-RSS mark of this process.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) } //nolint:errcheck

// peakRSS is the process's peak resident set size in bytes (VmHWM).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(a, b int) bool { return s[a] < s[b] })
	return s[(len(s)-1)*p/100]
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func us(d time.Duration) float64 { return float64(d) / 1e3 }

func net0() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

type bytesDiscard struct{}

func (bytesDiscard) Write(p []byte) (int, error) { return len(p), nil }
