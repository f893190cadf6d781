package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's Prometheus collectors, on a registry of its own
// (no global registry).
type metrics struct {
	reg      *prometheus.Registry
	latency  *prometheus.HistogramVec
	inflight prometheus.Gauge
}

func newMetrics(s *Server) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "waterline_http_request_duration_seconds",
		Help:    "HTTP request latency by route and status class.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
	}, []string{"route", "method", "status"})
	m.inflight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "waterline_http_in_flight", Help: "Requests being served."})
	m.reg.MustRegister(m.latency, m.inflight,
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
	}
	return m
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
type routeHolder struct{ template string }

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
		w.Header().Set("X-Request-Id", id)
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
			s.metrics.latency.WithLabelValues(route, r.Method, strconv.Itoa(status/100)+"xx").Observe(d.Seconds())
			level := slog.LevelInfo
			if route == "/tiles/{layer}/{z}/{x}/{y}.mvt" || route == "/metrics" || route == "/healthz" {
				level = slog.LevelDebug
			}
			s.cfg.Log.Log(r.Context(), level, "request", "request_id", id, "method", r.Method, "path", r.URL.Path,
				"route", route, "status", status, "bytes", sw.bytes, "ms", float64(d.Microseconds())/1000, "remote", r.RemoteAddr)
		}()
		next.ServeHTTP(sw, r)
	})
}
