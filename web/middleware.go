package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus collectors, on a registry of its own
// (no global registry).
type metrics struct {
	reg          *prometheus.Registry
	latency      *prometheus.HistogramVec
	inflight     prometheus.Gauge
	planDuration prometheus.Histogram
	denied       *prometheus.CounterVec
	limited      *prometheus.CounterVec
}

func newMetrics(s *Server) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "waterline_http_request_duration_seconds",
		Help:    "HTTP request latency by route and status class.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
	}, []string{"route", "method", "status"})
	m.inflight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "waterline_http_in_flight", Help: "Requests being served."})
	m.planDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "waterline_shutoff_plan_duration_seconds",
		Help:    "Time to compute a shutoff plan (POST /api/shutoffs/plan), without writing it.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	})
	m.denied = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "waterline_auth_denied_total",
		Help: "Requests refused by sign-in or access rules, by error code."}, []string{"code"})
	m.limited = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "waterline_rate_limited_total",
		Help: "Requests refused by a per-client rate limit, by route class."}, []string{"class"})
	m.reg.MustRegister(m.latency, m.inflight, m.planDuration, m.denied, m.limited,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "waterline_network_version", Help: "Network version in memory."},
		func() float64 {
			if n := s.cfg.Live.Network(); n != nil {
				return float64(n.Version)
			}
			return 0
		}))
	if s.cfg.Store != nil {
		pool := s.cfg.Store.Pool()
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "waterline_db_pool_acquired", Help: "Database connections in use."},
			func() float64 { return float64(pool.Stat().AcquiredConns()) }))
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "waterline_db_pool_total", Help: "Database connections open."},
			func() float64 { return float64(pool.Stat().TotalConns()) }))
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "waterline_db_pool_max", Help: "Database connections allowed."},
			func() float64 { return float64(pool.Stat().MaxConns()) }))
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "waterline_db_pool_empty_acquire_total",
			Help: "Acquisitions that waited for a database connection."},
			func() float64 { return float64(pool.Stat().EmptyAcquireCount()) }))
		if s.cfg.Replica != "" {
			m.reg.MustRegister(&jobCollector{pool: pool, replica: s.cfg.Replica, log: s.cfg.Log})
		}
	}
	return m
}

// jobCollector reports the scheduled job runs of this replica from the
// job_run_log table (written by a trigger on job_runs, whichever package
// runs the job through store.RunOnce): runs started, done and failed,
// and the seconds spent in finished runs.
type jobCollector struct {
	pool    *pgxpool.Pool
	replica string
	log     *slog.Logger
}

var (
	jobRunsDesc = prometheus.NewDesc("waterline_job_runs_total",
		"Scheduled job runs of this replica by job and status (started, done, failed).", []string{"job", "status"}, nil)
	jobSecondsDesc = prometheus.NewDesc("waterline_job_run_seconds_total",
		"Seconds spent in finished scheduled job runs of this replica.", []string{"job"}, nil)
)

func (c *jobCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- jobRunsDesc
	ch <- jobSecondsDesc
}

func (c *jobCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rows, err := c.pool.Query(ctx, `SELECT job, status, count(*), coalesce(sum(seconds), 0) FROM job_run_log
		WHERE replica = $1 GROUP BY job, status`, c.replica)
	if err != nil {
		c.log.Warn("metrics: job runs", "err", err)
		return
	}
	defer rows.Close()
	secs := map[string]float64{}
	for rows.Next() {
		var job, status string
		var n int64
		var s float64
		if err := rows.Scan(&job, &status, &n, &s); err != nil {
			return
		}
		if status == "running" {
			status = "started"
		}
		ch <- prometheus.MustNewConstMetric(jobRunsDesc, prometheus.CounterValue, float64(n), job, status)
		secs[job] += s
	}
	for job, s := range secs {
		ch <- prometheus.MustNewConstMetric(jobSecondsDesc, prometheus.CounterValue, s, job)
	}
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

type ctxKey int

const (
	requestIDKey ctxKey = 1
	routeKey     ctxKey = 2
)

// routeHolder carries the matched route template from inside the router
// (where mux knows it) out to the observing middleware.
type routeHolder struct{ template, user string }

// markRoute is a router middleware: it records the matched route.
func markRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := r.Context().Value(routeKey).(*routeHolder); ok {
			if m := mux.CurrentRoute(r); m != nil {
				if t, err := m.GetPathTemplate(); err == nil {
					h.template = t
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// RequestID returns the request id set by the server's middleware.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (deadlines,
// flushing).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// observe wraps every request: a request id (from X-Request-Id or new),
// panic recovery into a JSON 500, a JSON access log line without query
// strings (they may hold names), and latency metrics by route template.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			b := make([]byte, 8)
			rand.Read(b) //nolint:errcheck
			id = hex.EncodeToString(b)
		}
		h := w.Header()
		h.Set("X-Request-Id", id)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "SAMEORIGIN")
		if strings.HasPrefix(r.URL.Path, "/api/") {
			// API answers may hold personal data: no shared caches; a
			// handler may say otherwise (photos).
			h.Set("Cache-Control", "no-store")
		}
		rh := &routeHolder{template: "other"}
		ctx := context.WithValue(context.WithValue(r.Context(), requestIDKey, id), routeKey, rh)
		r = r.WithContext(ctx)
		sw := &statusWriter{ResponseWriter: w}
		s.metrics.inflight.Inc()
		defer func() {
			s.metrics.inflight.Dec()
			if p := recover(); p != nil {
				s.cfg.Log.Error("panic", "request_id", id, "path", r.URL.Path, "panic", p)
				if sw.status == 0 {
					writeJSON(sw, http.StatusInternalServerError, errBody("internal", "internal error; see the server log"))
				}
			}
			route := rh.template
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			d := time.Since(start)
			s.metrics.latency.WithLabelValues(route, r.Method, statusClass(status)).Observe(d.Seconds())
			level := slog.LevelInfo
			if route == "/tiles/{layer}/{z}/{x}/{y}.mvt" || route == "/metrics" || route == "/healthz" {
				level = slog.LevelDebug
			}
			// (Checked first: the line's attributes cost allocations even
			// when the handler drops it.)
			if s.cfg.Log.Enabled(r.Context(), level) {
				s.cfg.Log.Log(r.Context(), level, "request", "request_id", id, "method", r.Method, "path", r.URL.Path,
					"route", route, "user", rh.user, "status", status, "bytes", sw.bytes, "ms", float64(d.Microseconds())/1000, "remote", r.RemoteAddr)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// statusClass is the status label of the latency metric: "2xx" for 200.
func statusClass(status int) string {
	switch status / 100 {
	case 1:
		return "1xx"
	case 2:
		return "2xx"
	case 3:
		return "3xx"
	case 4:
		return "4xx"
	case 5:
		return "5xx"
	}
	return strconv.Itoa(status/100) + "xx"
}

// Scrub wraps a log handler so that no secret or phone number reaches the
// log: attributes named like a secret (password, token, authorization,
// cookie, csrf, secret) are replaced, and phone numbers and API tokens in
// any text (messages, errors, values) are masked.
func Scrub(h slog.Handler) slog.Handler {
	if _, ok := h.(*scrubHandler); ok {
		return h
	}
	return &scrubHandler{h: h}
}

type scrubHandler struct{ h slog.Handler }

func (s *scrubHandler) Enabled(ctx context.Context, l slog.Level) bool { return s.h.Enabled(ctx, l) }

func (s *scrubHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, ScrubText(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(scrubAttr(a))
		return true
	})
	return s.h.Handle(ctx, out)
}

func (s *scrubHandler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = scrubAttr(a)
	}
	return &scrubHandler{h: s.h.WithAttrs(out)}
}

func (s *scrubHandler) WithGroup(name string) slog.Handler {
	return &scrubHandler{h: s.h.WithGroup(name)}
}

func secretKey(k string) bool {
	k = strings.ToLower(k)
	for _, w := range []string{"password", "passwd", "secret", "token", "authorization", "cookie", "csrf", "phone", "contact"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

func scrubAttr(a slog.Attr) slog.Attr {
	if secretKey(a.Key) {
		return slog.String(a.Key, "[redacted]")
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, ScrubText(v.String()))
	case slog.KindGroup:
		g := v.Group()
		out := make([]slog.Attr, len(g))
		for i, x := range g {
			out[i] = scrubAttr(x)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case slog.KindAny:
		var text string
		switch x := v.Any().(type) {
		case error:
			text = x.Error()
		case fmt.Stringer:
			text = x.String()
		default:
			text = fmt.Sprint(x)
		}
		if t := ScrubText(text); t != text {
			return slog.String(a.Key, t)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

var (
	// Mainland mobiles (optionally +86), landlines with an area code
	// (0531-88886666, (0531) 8888 6666), international numbers written
	// with a +; each not inside a longer run of digits.
	phoneRE = regexp.MustCompile(`(?:\+?86[ -]?)?1[3-9]\d{9}|\(?0\d{2,3}\)?[ -]?\d{3,4}[ -]?\d{4}|\+\d{1,3}(?:[ -]?\d){7,12}`)
	tokenRE = regexp.MustCompile(`wlt_[A-Za-z0-9_-]{8,}`)
)

// ScrubText masks phone numbers and API tokens in s.
func ScrubText(s string) string {
	if strings.Contains(s, "wlt_") {
		s = tokenRE.ReplaceAllString(s, "wlt_[redacted]")
	}
	if !strings.ContainsAny(s, "0123456789") {
		return s
	}
	return replaceBounded(s, phoneRE, "[phone]")
}

// replaceBounded replaces the matches of re that are not part of a longer
// run of digits (an id, a coordinate).
func replaceBounded(s string, re *regexp.Regexp, with string) string {
	ms := re.FindAllStringIndex(s, -1)
	if ms == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range ms {
		if m[0] > 0 && isDigitOrDot(s[m[0]-1]) || m[1] < len(s) && isDigitOrDot(s[m[1]]) {
			continue
		}
		b.WriteString(s[last:m[0]])
		b.WriteString(with)
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

func isDigitOrDot(c byte) bool { return c >= '0' && c <= '9' || c == '.' }
