package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// httpLoad is a closed-loop load on the plan API: clients goroutines, each
// asking for the plan of a leak in the middle of a random pipe and waiting
// for the whole answer before asking again, over kept-alive connections,
// for duration.
type httpLoad struct {
	clients  int
	duration time.Duration
	pipes    []string // pipe ids to leak on
}

// loadResult is what a run measured.
type loadResult struct {
	Latencies []time.Duration  // of every request, answered or not
	Sent      map[string]int64 // when each request was sent (Unix ns), by its X-Request-Id
	Errors    int              // requests without a 200 answer
	Wall      time.Duration
	CPU       time.Duration // CPU time of the generator's process during the run
	ServerCPU time.Duration `json:"-"` // CPU time of the server's process during the run (runChild)
}

// rate is requests per second.
func (r loadResult) rate() float64 { return float64(len(r.Latencies)) / r.Wall.Seconds() }

// perRequest is d divided by the number of requests.
func (r loadResult) perRequest(d time.Duration) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	return d / time.Duration(len(r.Latencies))
}

// busy is the share of the machine's CPUs the server and the generator used.
func (r loadResult) busy() float64 {
	return (r.CPU + r.ServerCPU).Seconds() / r.Wall.Seconds() / float64(runtime.NumCPU())
}

// runChild runs the load from a child process (exe bench -phase
// http-load), as a real client would be: the generator has a Go runtime of
// its own, so its goroutines and its garbage do not share the server's
// scheduler and collector, and the two processes' CPU times are measured
// apart. ServerCPU is this process's CPU time over the run.
func (l httpLoad) runChild(ctx context.Context, exe, url string) (loadResult, error) {
	cmd := exec.CommandContext(ctx, exe, "bench", "-phase", "http-load", "-url", url,
		"-clients", strconv.Itoa(l.clients), "-seconds", strconv.FormatFloat(l.duration.Seconds(), 'f', -1, 64))
	cmd.Stdin = strings.NewReader(strings.Join(l.pipes, "\n"))
	cmd.Stderr = os.Stderr
	cpu0 := processCPU()
	out, err := cmd.Output()
	server := processCPU() - cpu0
	if err != nil {
		return loadResult{}, fmt.Errorf("bench: load generator: %w", err)
	}
	var res loadResult
	if err := json.Unmarshal(out, &res); err != nil {
		return loadResult{}, fmt.Errorf("bench: load generator's answer: %w", err)
	}
	res.ServerCPU = server
	return res, nil
}

// benchHTTPLoadPhase is the child of runChild: it reads pipe ids from
// stdin, one per line, runs the load and writes its loadResult as JSON.
func benchHTTPLoadPhase(ctx context.Context, e *env, url string, clients int, seconds float64) error {
	l := httpLoad{clients: clients, duration: time.Duration(seconds * float64(time.Second))}
	sc := bufio.NewScanner(e.stdin)
	for sc.Scan() {
		if id := sc.Text(); id != "" {
			l.pipes = append(l.pipes, id)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(l.pipes) == 0 {
		return fmt.Errorf("bench: http-load: no pipe ids on stdin")
	}
	res, err := l.run(ctx, url)
	if err != nil {
		return err
	}
	return json.NewEncoder(e.stdout).Encode(res)
}

func (l httpLoad) run(ctx context.Context, rawURL string) (loadResult, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" {
		return loadResult{}, fmt.Errorf("bench: load URL %q: want http://host:port/path", rawURL)
	}
	lat := make([][]time.Duration, l.clients)
	sent := make([]map[string]int64, l.clients)
	errs := make([]int, l.clients)
	cpu0 := processCPU()
	t0 := time.Now()
	deadline := t0.Add(l.duration)
	var wg sync.WaitGroup
	for c := range l.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(c), 7))
			sent[c] = map[string]int64{}
			cl := &planClient{host: u.Host, path: u.Path}
			defer cl.close()
			for time.Now().Before(deadline) {
				t := time.Now()
				id := fmt.Sprintf("%d-%d", c, len(lat[c]))
				err := cl.plan(ctx, l.pipes[r.IntN(len(l.pipes))], id)
				lat[c] = append(lat[c], time.Since(t))
				sent[c][id] = t.UnixNano()
				if err != nil {
					errs[c]++
					cl.close()
				}
			}
		}()
	}
	wg.Wait()
	res := loadResult{Wall: time.Since(t0), CPU: processCPU() - cpu0, Sent: map[string]int64{}}
	for c := range lat {
		res.Latencies = append(res.Latencies, lat[c]...)
		maps.Copy(res.Sent, sent[c])
		res.Errors += errs[c]
	}
	return res, nil
}

// planClient is one client of the load: a kept-alive HTTP/1.1 connection
// on which it writes each request itself and reads each answer's head
// (readResponseHead) and body, without http.Transport's goroutine
// hand-offs (which cost as much CPU as a plan), so that the generator
// takes little of the cores it shares with the server.
type planClient struct {
	host, path string
	conn       net.Conn
	br         *bufio.Reader
	req        []byte
}

// plan asks for the plan of a leak in the middle of pipe, with id as the
// request's X-Request-Id, and reads the whole answer; anything but a 200
// is an error.
func (c *planClient) plan(ctx context.Context, pipe, id string) error {
	if c.conn == nil {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", c.host)
		if err != nil {
			return err
		}
		c.conn, c.br = conn, bufio.NewReaderSize(conn, 64<<10)
	}
	body := `{"pipe":` + strconv.Quote(pipe) + `,"at":0.5}`
	c.req = fmt.Appendf(c.req[:0], "POST %s HTTP/1.1\r\nHost: %s\r\nX-Request-Id: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		c.path, c.host, id, len(body), body)
	if err := c.conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err
	}
	if _, err := c.conn.Write(c.req); err != nil {
		return err
	}
	status, n, err := readResponseHead(c.br)
	if err != nil {
		return err
	}
	if _, err := c.br.Discard(n); err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("status %d", status)
	}
	return nil
}

// readResponseHead reads an HTTP/1.1 response's status line and headers
// from br and returns the status and the body's Content-Length. It is all
// a client of the plan API needs (the server sends every answer with its
// length), at a fraction of http.ReadResponse's cost: the generator
// shares the machine's cores with the server it measures.
func readResponseHead(br *bufio.Reader) (status, length int, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, 0, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, 0, fmt.Errorf("bench: bad status line %q", line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, 0, fmt.Errorf("bench: bad status line %q", line)
	}
	length = -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, 0, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, 0, fmt.Errorf("bench: bad header line %q", line)
		}
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil || length < 0 {
				return 0, 0, fmt.Errorf("bench: bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, 0, fmt.Errorf("bench: the answer has no Content-Length (Transfer-Encoding %s)", value)
		}
	}
	if length < 0 {
		return 0, 0, fmt.Errorf("bench: the answer has no Content-Length")
	}
	return status, length, nil
}

func (c *planClient) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
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

// handlerTimes records when the server's handler started each request
// (by X-Request-Id) and how long it took, from its call to its return:
// the part of a request's latency spent in the handler, apart from the
// time the request waited before the server read it.
type handlerTimes struct {
	mu    sync.Mutex
	d     []time.Duration
	start map[string]int64 // Unix ns
}

func (t *handlerTimes) wrap(h http.Handler) http.Handler {
	t.start = map[string]int64{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		h.ServeHTTP(w, r)
		d := time.Since(t0)
		t.mu.Lock()
		t.d = append(t.d, d)
		t.start[r.Header.Get("X-Request-Id")] = t0.UnixNano()
		t.mu.Unlock()
	})
}

// waits are, for each request of res that reached the handler, the time
// from its sending to the handler's start (both clocks are this
// machine's).
func (t *handlerTimes) waits(res loadResult) []time.Duration {
	var out []time.Duration
	for id, sent := range res.Sent {
		if st, ok := t.start[id]; ok {
			out = append(out, time.Duration(st-sent))
		}
	}
	return out
}
