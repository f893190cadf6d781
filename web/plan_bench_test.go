package web_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/gen"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/repair"
	"github.com/waterline-gis/waterline/web"
)

type fixedNetwork struct{ n *gis.Network }

func (f fixedNetwork) Network() *gis.Network { return f.n }

var benchCity = sync.OnceValues(func() (*gis.Network, error) {
	ds, err := gen.Generate(gen.Options{Pipes: 200_000, Seed: 1})
	if err != nil {
		return nil, err
	}
	topo, _ := gis.Resolve(ds, 0)
	n := gis.NewNetwork(topo)
	xs, ys, dx, dy := gis.GridPoints(400000, 3900000, 600000, 4200000, 4, 4)
	n.LonLat = &gis.LonLatGrid{MinX: 400000, MinY: 3900000, DX: dx, DY: dy, NX: 4, NY: 4, Lon: xs, Lat: ys}
	return n, nil
})

// discardWriter is a ResponseWriter that keeps nothing but the status.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
}
func (w *discardWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	w.n += len(b)
	return len(b), nil
}

// BenchmarkPlanHandler is POST /api/shutoffs/plan through the server's
// whole handler chain (middleware, router, decoding, planning with the
// contingency of every valve, encoding), in-process on a generated city of
// 200,000 pipes, without a database or a socket.
func BenchmarkPlanHandler(b *testing.B) {
	n, err := benchCity()
	if err != nil {
		b.Fatal(err)
	}
	srv := web.New(web.Config{Live: store.NewLive(nil), Planner: &repair.Planner{Live: fixedNetwork{n}}, TZ: time.UTC})
	h := srv.Handler()
	var pipes []string
	for i, ok := range n.Topo.PipeInService {
		if ok {
			pipes = append(pipes, n.Topo.PipeID.At(i))
		}
	}
	var seed uint64
	var mu sync.Mutex
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	defer func() {
		// Process CPU (every goroutine, the collector included) per request:
		// on a shared machine a steadier figure than wall time.
		b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	}()
	b.RunParallel(func(pb *testing.PB) {
		mu.Lock()
		seed++
		r := rand.New(rand.NewPCG(seed, 7))
		mu.Unlock()
		var bytesOut int
		for pb.Next() {
			body := `{"pipe":` + strconv.Quote(pipes[r.IntN(len(pipes))]) + `,"at":0.5}`
			req, _ := http.NewRequest(http.MethodPost, "/api/shutoffs/plan", io.NopCloser(bytes.NewReader([]byte(body))))
			req.Header.Set("Content-Type", "application/json")
			w := &discardWriter{h: http.Header{}}
			h.ServeHTTP(w, req)
			if w.status != 200 {
				b.Fatalf("status %d", w.status)
			}
			bytesOut += w.n
		}
		_ = bytesOut
	})
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
