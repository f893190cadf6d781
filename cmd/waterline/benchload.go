package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"time"
)

// httpLoad is a closed-loop load on the plan API: clients goroutines, each
// asking for the plan of a leak in the middle of a random pipe and waiting
// for the whole answer before asking again, over kept-alive connections,
// for duration. In a CPU profile its goroutines (and the client
// transport's) carry the label bench=load-generator.
type httpLoad struct {
	clients  int
	duration time.Duration
	pipes    []string // pipe ids to leak on
}

// loadResult is what a run measured.
type loadResult struct {
	latencies []time.Duration // of every request, answered or not
	errors    int             // requests without a 200 answer
	wall      time.Duration
	cpu       time.Duration // CPU time of the whole process (server, generator, collector) during the run
}

// rate is requests per second.
func (r loadResult) rate() float64 { return float64(len(r.latencies)) / r.wall.Seconds() }

// cpuPerRequest is the process's CPU time per request.
func (r loadResult) cpuPerRequest() time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.cpu / time.Duration(len(r.latencies))
}

// busy is the share of the machine's CPUs the process used.
func (r loadResult) busy() float64 {
	return r.cpu.Seconds() / r.wall.Seconds() / float64(runtime.NumCPU())
}

func (l httpLoad) run(ctx context.Context, url string) loadResult {
	// (Each request has its deadline in its context: a Client.Timeout
	// would cost the generator a goroutine per request.)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: l.clients}}
	defer client.CloseIdleConnections()
	lat := make([][]time.Duration, l.clients)
	errs := make([]int, l.clients)
	cpu0 := processCPU()
	t0 := time.Now()
	deadline := t0.Add(l.duration)
	var wg sync.WaitGroup
	for c := range l.clients {
		wg.Add(1)
		go pprof.Do(ctx, pprof.Labels("bench", "load-generator"), func(ctx context.Context) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(c), 7))
			var body []byte
			for time.Now().Before(deadline) {
				body = append(body[:0], `{"pipe":`...)
				body = strconv.AppendQuote(body, l.pipes[r.IntN(len(l.pipes))])
				body = append(body, `,"at":0.5}`...)
				t := time.Now()
				ok := false
				rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				req, err := http.NewRequestWithContext(rctx, http.MethodPost, url, bytes.NewReader(body))
				if err == nil {
					req.Header.Set("Content-Type", "application/json")
					var res *http.Response
					if res, err = client.Do(req); err == nil {
						_, err = io.Copy(io.Discard, res.Body)
						res.Body.Close()
						ok = err == nil && res.StatusCode == http.StatusOK
					}
				}
				cancel()
				lat[c] = append(lat[c], time.Since(t))
				if !ok {
					errs[c]++
				}
			}
		})
	}
	wg.Wait()
	res := loadResult{wall: time.Since(t0), cpu: processCPU() - cpu0}
	for c := range lat {
		res.latencies = append(res.latencies, lat[c]...)
		res.errors += errs[c]
	}
	return res
}

// cannedAnswer asks h for the plan of a leak on pipe and returns a handler
// that reads each request's body and answers with that same plan: the
// same status, headers and bytes, without planning.
func cannedAnswer(h http.Handler, pipe string) (http.Handler, error) {
	req := httptest.NewRequest(http.MethodPost, "/api/shutoffs/plan",
		bytes.NewReader([]byte(`{"pipe":`+strconv.Quote(pipe)+`,"at":0.5}`)))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("bench: plan for the stored answer: status %d: %s", rec.Code, rec.Body.Bytes())
	}
	header, body := rec.Header().Clone(), rec.Body.Bytes()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) //nolint:errcheck
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(http.StatusOK)
		w.Write(body) //nolint:errcheck
	}), nil
}
