package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"golang.org/x/sync/semaphore"

	"github.com/waterline-gis/waterline/patrol"
	"github.com/waterline-gis/waterline/repair"
	"github.com/waterline-gis/waterline/web/auth"
)

func TestScrub(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(Scrub(slog.NewJSONHandler(&buf, nil))).With("phone", "13912345678", "who", "call 0531-88886666")
	log.Info("customer 李女士 13812345678 called", "password", "hunter2hunter2", "err", errors.New("dial 0531-86001234: refused"),
		"Authorization", "Bearer wlt_abcdefghijklmnop", "note", "token wlt_QWERTYUIOPasdfgh in text",
		"g", slog.GroupValue(slog.String("contact", "x"), slog.String("text", "+86 139 1234 5678")),
		"csrf_token", "abc", "intl", "+34 93 123 45 67", "paren", "(0531) 8888 6666")
	got := buf.String()
	for _, secret := range []string{"13912345678", "0531-88886666", "13812345678", "hunter2hunter2", "0531-86001234", "wlt_abcdefghijklmnop",
		"wlt_QWERTYUIOPasdfgh", "139 1234 5678", `"abc"`, "93 123 45 67", "8888 6666"} {
		if strings.Contains(got, secret) {
			t.Errorf("log holds %q: %s", secret, got)
		}
	}
	for _, kept := range []string{"李女士", "[phone]", "refused"} {
		if !strings.Contains(got, kept) {
			t.Errorf("log lost %q: %s", kept, got)
		}
	}
	// What is not a phone stays: ids, coordinates, dates, versions, sizes.
	for _, s := range []string{"P12345", "117.0123456789", "36.6543210987", "2026-03-02", "2026-03-02T05:30:00+08:00",
		"network version 12", "job 1234567", "CU000123", "pipe 2061", "1700000000123", "elapsed 1.234567891s", "a1b2c3d4e5f60718"} {
		if got := ScrubText(s); got != s {
			t.Errorf("ScrubText(%q) = %q", s, got)
		}
	}
}

func TestLimiterBoundedAndFair(t *testing.T) {
	now := time.Unix(1e9, 0)
	l := newLimiter(100, func() time.Time { return now })
	// Each client has its own bucket.
	for i := range 3 {
		if ok, _ := l.allow("a", 1, 3); !ok {
			t.Fatalf("a's request %d refused", i)
		}
	}
	if ok, wait := l.allow("a", 1, 3); ok || wait <= 0 || wait > time.Second {
		t.Errorf("a's fourth request: %v %v", ok, wait)
	}
	if ok, _ := l.allow("b", 1, 3); !ok {
		t.Error("b refused because of a")
	}
	now = now.Add(time.Second)
	if ok, _ := l.allow("a", 1, 3); !ok {
		t.Error("a refused after a second")
	}
	// A flood of new clients does not grow the map beyond its bound.
	for i := range 10000 {
		now = now.Add(time.Millisecond)
		l.allow(fmt.Sprint("ip", i), 1, 1)
	}
	if n := l.size(); n > 100 {
		t.Errorf("the limiter keeps %d clients, bound 100", n)
	}
	// A client seen recently survives an eviction.
	l.allow("recent", 1, 1)
	for i := range 20 {
		l.allow(fmt.Sprint("old", i), 1, 1)
	}
	if ok, _ := l.allow("recent", 1, 1); ok {
		t.Error("recent client's bucket was forgotten (its burst was reset)")
	}
}

func TestSlots(t *testing.T) {
	s := make(slots, 2)
	ctx := context.Background()
	if !s.take(ctx, 0) || !s.take(ctx, 0) {
		t.Fatal("free slots refused")
	}
	t0 := time.Now()
	if s.take(ctx, 50*time.Millisecond) {
		t.Fatal("a third slot granted")
	}
	if d := time.Since(t0); d < 40*time.Millisecond {
		t.Errorf("gave up after %v", d)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if !s.take(ctx, time.Second) {
			t.Error("a freed slot was not taken")
		}
	}()
	time.Sleep(10 * time.Millisecond)
	s.give()
	wg.Wait()
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "?lang=en": "?lang=en", "repair": "repair", "//evil.example": "", "https://evil.example/": "",
		"/abs": "/abs", "/?lang=en#x": "/?lang=en#x", "/\\evil": "", "/%2F%2Fevil": "/%2F%2Fevil", "javascript:alert(1)": "", "..%2f..": "", "../x": "", "\\\\evil": "", "a\r\nSet-Cookie: x": "",
		"x#y": "x#y", "%2F%2Fevil": "%2F%2Fevil",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSlowClientHoldsNothing: clients that send their bodies slowly hold
// no database connection and no handler; they are cut off at the class's
// read deadline while other requests are served.
func TestSlowClientHoldsNothing(t *testing.T) {
	var served sync.WaitGroup
	calls := 0
	var mu sync.Mutex
	lim := DefaultLimits(16)
	lim.Light.ReadTimeout = 300 * time.Millisecond
	s := &Server{cfg: Config{Log: slog.New(slog.DiscardHandler), Now: time.Now}, rules: map[string]access{"POST /x": {public: true}}, bodies: semaphore.NewWeighted(1 << 30),
		limits: lim, limiter: newLimiter(100, time.Now), slots: map[class]slots{}}
	s.metrics = newMetrics(s)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		w.WriteHeader(204)
	})
	rt := mux.NewRouter()
	rt.Use(markRoute, s.guard)
	rt.Handle("/x", h).Methods("POST")
	ts := httptest.NewServer(s.observe(rt))
	defer ts.Close()
	addr := strings.TrimPrefix(ts.URL, "http://")
	for range 20 {
		served.Add(1)
		go func() {
			defer served.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			fmt.Fprintf(c, "POST /x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
			c.SetReadDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Errorf("slow client: %v", err)
				return
			}
			var m map[string]map[string]string
			json.NewDecoder(res.Body).Decode(&m) //nolint:errcheck
			res.Body.Close()
			if res.StatusCode != 400 || m["error"]["code"] != "body.unreadable" {
				t.Errorf("slow client: %d %v", res.StatusCode, m)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	res, err := http.Post(ts.URL+"/x", "application/json", strings.NewReader("{}"))
	if err != nil || res.StatusCode != 204 {
		t.Fatalf("a quick client waited behind slow ones: %v %v", err, res)
	}
	res.Body.Close()
	t0 := time.Now()
	served.Wait()
	if d := time.Since(t0); d > time.Second {
		t.Errorf("slow clients were held %v", d)
	}
	if calls != 1 {
		t.Errorf("the handler ran %d times, want once (slow bodies never reach it)", calls)
	}
}

// FuzzRequestParsers feeds every query and path parser a request reaches
// in package web: they must not panic, and what they accept must be in
// range.
func FuzzRequestParsers(f *testing.F) {
	for _, s := range []string{"", "1,2,3,4", "-180,-90,180,90", "NaN,1,2,3", "1e400,0,0,0", ",,,", "2026-03-02", "2026-02-30",
		"2026-03-10T14:00:00+08:00", "true", "-1", "99999999999999999999", "a,b,,c", "0.5", "' OR 1=1 --", "<script>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if b, err := parseBBox(v); err == nil && b != nil {
			if !(b[0] >= -180 && b[2] <= 180 && b[1] >= -90 && b[3] <= 90 && b[0] <= b[2] && b[1] <= b[3]) {
				t.Fatalf("bbox %q accepted as %v", v, b)
			}
		}
		for _, p := range splitComma(v) {
			if p == "" || strings.Contains(p, ",") {
				t.Fatalf("splitComma(%q) gave %q", v, p)
			}
		}
		q := url.Values{}
		for _, k := range []string{"pipe", "at", "failed", "status", "district", "kind", "overdue", "limit", "offset", "date", "from",
			"to", "since", "restore", "job", "unresolved", "actor", "action", "outcome", "before", "request_id"} {
			q.Set(k, v)
		}
		r := httptest.NewRequest("GET", "/?"+q.Encode(), nil)
		if req, err := planFromQuery(r); err == nil && req.At != nil && *req.At != *req.At {
			t.Fatalf("at=%q gave NaN", v)
		}
		jobFilter(r)                          //nolint:errcheck
		dayParam(r, "date", 0)                //nolint:errcheck
		timeParam(r, "from", time.UTC, false) //nolint:errcheck
		queryTime(r, "since")                 //nolint:errcheck
		if f, err := auditFilter(r); err == nil && (f.Limit < 0 || f.Limit > 1000 || f.BeforeID < 0) {
			t.Fatalf("audit filter %q: %+v", v, f)
		}
		safeNext(v)
		r.Header.Set("X-Forwarded-For", v)
		clientIP(r, true)
		r.Header.Set("X-Forwarded-Proto", v)
		secureRequest(r)
	})
}

// FuzzStampBy: whatever the body, "by" ends up the signed-in user's, or
// the body is left for the handler to refuse.
func FuzzStampBy(f *testing.F) {
	for _, s := range []string{`{}`, `{"by":"x"}`, `{"BY":"x","bY":"y"}`, `[1]`, `null`, `{"by":{"a":1}}`, `{"milestone":"on_site","by":"\u0062"}`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		if err := stampBy(r, "crew1"); err != nil {
			return
		}
		got := peekBody(r)
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) != nil || m == nil {
			return // not an object: left alone
		}
		var v struct {
			By string `json:"by"`
		}
		if err := json.Unmarshal(got, &v); err != nil || v.By != "crew1" {
			t.Fatalf("body %q stamped to %q: by=%q %v", body, got, v.By, err)
		}
	})
}

// FuzzDecodeBodies decodes a body into every JSON request type of the API
// (as the handlers do): no panic, and a body over the limit is refused.
func FuzzDecodeBodies(f *testing.F) {
	for _, s := range []string{`{}`, `{"pipe":"P1","at":0.5,"failed_valves":["V1"]}`, `{"leak":{"point":[117,36.6]},"order":{"source":"x"}}`,
		`{"milestone":"on_site","at":"2026-03-02T10:00:00+08:00","photo":"data:image/png;base64,AA=="}`, `{"year":{"calendar":"CN","year":2026,"holidays":[{"from":"2026-01-01","to":"2026-01-03"}]}}`,
		`{"office":{"Lon":1,"Lat":2},"managers":["a"],"capacity_km":1e308}`, `{"type":"leak","lon":1e400}`, `[`, `null`, `{"name":"a","role":"crew","districts":null}`} {
		f.Add([]byte(s))
	}
	targets := []func() any{
		func() any { return &repair.PlanRequest{} }, func() any { return &repair.OpenRequest{} }, func() any { return &repair.RecordRequest{} },
		func() any { return &repair.FailureRequest{} }, func() any { return &repair.NoticeRequest{} }, func() any { return &repair.CalendarYear{} },
		func() any { return &patrol.AnomalyInput{} }, func() any { return &patrol.DistrictUpdate{} }, func() any { return &auth.NewUser{} },
		func() any { return &auth.UserUpdate{} },
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, mk := range targets {
			r := httptest.NewRequest("POST", "/", bytes.NewReader(b))
			w := httptest.NewRecorder()
			decode(r, w, mk()) //nolint:errcheck
		}
		r := httptest.NewRequest("POST", "/", bytes.NewReader(b))
		hasNUL(b)
		textBody(r)
	})
}

// FuzzUpload: the multipart reader of track and photo uploads.
func FuzzUpload(f *testing.F) {
	f.Add("multipart/form-data; boundary=X", []byte("--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.gpx\"\r\n\r\n<gpx/>\r\n--X--\r\n"))
	f.Add("multipart/form-data; boundary=X", []byte("--X\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--X--\r\n"))
	f.Add("multipart/form-data", []byte("garbage"))
	f.Add("application/gpx+xml", []byte("<gpx/>"))
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		rd, _, err := upload(r, "file")
		if err == nil && rd != nil {
			io.Copy(io.Discard, io.LimitReader(rd, 1<<20)) //nolint:errcheck
		}
	})
}

// TestStateChangesAreAudited: every route that may change state (a
// method other than GET) is audited, but for those that only compute an
// answer or audit themselves.
func TestStateChangesAreAudited(t *testing.T) {
	computeOnly := map[string]bool{
		"POST /api/shutoffs/plan": true, "POST /api/shutoffs/notice": true, "POST /api/patrol/rpp": true,
		"POST /api/login": true, "POST /api/logout": true, // the handlers write their own entries
		"* /": true, "* /api/": true, // files and 404s
	}
	for k, a := range accessRules() {
		method, _, _ := strings.Cut(k, " ")
		if method != "GET" && !computeOnly[k] && a.audit != auditChange {
			t.Errorf("%s changes state but is not audited", k)
		}
		if a.public && (a.stampBy || a.scope != scopeNone && a.scope != scopeUIPage) {
			t.Errorf("%s is public yet scoped", k)
		}
		if !a.public && a.roles == 0 {
			t.Errorf("%s has no role", k)
		}
	}
}
