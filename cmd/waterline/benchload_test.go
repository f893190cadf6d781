package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestHTTPLoad runs the bench's load generator against a small server: every
// request must arrive as the plan request it claims to be, with its id,
// whole; answers other than 200 must count as errors; and the handler's
// start times must match the requests' send times by id.
func TestHTTPLoad(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]string{}
	times := &handlerTimes{}
	h := times.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Pipe string  `json:"pipe"`
			At   float64 `json:"at"`
		}
		if r.Method != http.MethodPost || r.URL.Path != "/api/shutoffs/plan" || json.NewDecoder(r.Body).Decode(&body) != nil || body.At != 0.5 {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		mu.Lock()
		seen[r.Header.Get("X-Request-Id")] = body.Pipe
		mu.Unlock()
		if body.Pipe == "bad" {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":{}}`) //nolint:errcheck
			return
		}
		// Larger than the client's buffer, with its length, as plans are.
		w.Header().Set("Content-Length", "100000")
		io.WriteString(w, strings.Repeat("x", 100_000)) //nolint:errcheck
	}))
	ts := httptest.NewServer(h)
	defer ts.Close()
	l := httpLoad{clients: 3, duration: 300 * time.Millisecond, pipes: []string{"P1", "P2", "bad"}}
	res, err := l.run(context.Background(), ts.URL+"/api/shutoffs/plan")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Latencies) < 10 || len(res.Sent) != len(res.Latencies) {
		t.Fatalf("%d latencies, %d send times", len(res.Latencies), len(res.Sent))
	}
	bad := 0
	for id := range res.Sent {
		pipe, ok := seen[id]
		if !ok {
			t.Fatalf("request %s never reached the server", id)
		}
		if pipe == "bad" {
			bad++
		}
	}
	if res.Errors != bad || bad == 0 {
		t.Fatalf("%d errors counted, %d requests answered 404", res.Errors, bad)
	}
	waits := times.waits(res)
	if len(waits) != len(res.Latencies) {
		t.Fatalf("%d waits for %d requests", len(waits), len(res.Latencies))
	}
	for _, w := range waits {
		if w < 0 || w > 5*time.Second {
			t.Fatalf("wait %v before the handler", w)
		}
	}
	if _, err := l.run(context.Background(), "ftp://example.org/"); err == nil {
		t.Fatal("a non-http URL was accepted")
	}
}

func TestReadResponseHead(t *testing.T) {
	for in, want := range map[string]struct{ status, length int }{
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 5\r\n\r\nhello": {200, 5},
		"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n":                       {503, 0},
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n":        {-1, -1},
		"HTTP/1.1 200 OK\r\n\r\n":                      {-1, -1},
		"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n": {-1, -1},
		"SSH-2.0-OpenSSH\r\n":                          {-1, -1},
	} {
		status, length, err := readResponseHead(bufio.NewReader(strings.NewReader(in)))
		if want.status < 0 {
			if err == nil {
				t.Errorf("%q: accepted (%d, %d)", in, status, length)
			}
			continue
		}
		if err != nil || status != want.status || length != want.length {
			t.Errorf("%q: %d %d %v, want %d %d", in, status, length, err, want.status, want.length)
		}
	}
}
