// Package web is Waterline's HTTP layer: one route table, one error mapper,
// the JSON API, vector tiles and the embedded map UI.
package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"golang.org/x/sync/semaphore"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/gis/tiles"
	"github.com/waterline-gis/waterline/patrol"
	"github.com/waterline-gis/waterline/repair"
	"github.com/waterline-gis/waterline/web/auth"
	"github.com/waterline-gis/waterline/web/ui"
)

// Config wires the server's dependencies. Store, Live, Tiles, Planner, TZ
// are required; Patrol and Jobs add their routes.
type Config struct {
	Store   *store.Store
	Live    *store.Live
	Tiles   *tiles.Service
	Planner *repair.Planner
	Log     *slog.Logger
	TZ      *time.Location
	Basemap string // optional raster tile URL template for a base map
	Patrol  *patrol.Service
	Jobs    *repair.Jobs
	// Now is the clock (tests set it); nil means time.Now.
	Now func() time.Time
	// Auth is sign-in: users, sessions, tokens, the audit log. Nil runs
	// the server open — every request is an administrator's, nothing is
	// audited — which only tests may do; `waterline serve` always sets it.
	Auth *auth.Service
	// Limits bound requests and clients; nil takes DefaultLimits (per
	// client rates apply when Auth is set or Limits is given).
	Limits *Limits
	// TrustedOrigins are origins ("https://waterline.example.cn") whose
	// pages may make state-changing requests besides the server's own host
	// (a reverse proxy that rewrites Host).
	TrustedOrigins []string
	// Replica names this process in job_runs; with it, /metrics counts
	// the scheduled job runs this replica made.
	Replica string
	// PlanSlots bounds the shutoff plans (POST /api/shutoffs/plan) worked
	// out and encoded at once; the others wait their turn in the order
	// they came, up to Limits.QueueWait (0: no bound). A plan is CPU work
	// on the in-memory network, so more at once than there are CPUs only
	// serves them in a random order; `waterline serve` sets the number of
	// CPUs.
	PlanSlots int
}

// Server serves the API and the UI. It is safe for concurrent use.
type Server struct {
	cfg         Config
	router      *mux.Router
	metrics     *metrics
	handler     http.Handler
	rules       map[string]access
	limits      Limits
	rateLimited bool
	limiter     *limiter
	slots       map[class]slots
	planSlots   slots // of PlanSlots, or nil
	bodies      *semaphore.Weighted
	csrf        *http.CrossOriginProtection
	bufs        bufferPool // response buffers of the hot JSON answers
}

// New builds the server and its route table.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Log = slog.New(Scrub(cfg.Log.Handler()))
	s := &Server{cfg: cfg, router: mux.NewRouter(), rules: accessRules(), csrf: http.NewCrossOriginProtection()}
	for _, o := range cfg.TrustedOrigins {
		if err := s.csrf.AddTrustedOrigin(o); err != nil {
			cfg.Log.Error("bad trusted origin; ignored", "origin", o, "err", err)
		}
	}
	poolSize := 16
	if cfg.Store != nil {
		poolSize = int(cfg.Store.Pool().Config().MaxConns)
	}
	s.limits = DefaultLimits(poolSize)
	if cfg.Limits != nil {
		s.limits = *cfg.Limits
		s.limits.fill(DefaultLimits(poolSize))
	}
	s.rateLimited = cfg.Auth != nil || cfg.Limits != nil
	// Upload bodies: at least what the services are configured to keep.
	raise := func(route string, n int64) {
		if a, ok := s.rules[route]; ok && n+formOverhead > a.body {
			a.body = n + formOverhead
			s.rules[route] = a
		}
	}
	if cfg.Patrol != nil {
		raise("POST /api/patrol/tracks", int64(cfg.Patrol.Rules().TrackMaxBytes))
		raise("POST /api/patrol/anomalies/{id:[0-9]+}/photos", int64(cfg.Patrol.Rules().PhotoMaxBytes))
	}
	if cfg.Store != nil {
		raise("POST /api/asbuilt/batches", cfg.Store.UploadLimit())
	}
	s.limiter = newLimiter(s.limits.MaxClients, time.Now)
	s.bodies = semaphore.NewWeighted(s.limits.BodyBudget)
	s.slots = map[class]slots{}
	for _, c := range []class{classLight, classHeavy, classExport, classUpload, classLogin} {
		if n := s.limits.of(c).Concurrent; n > 0 {
			s.slots[c] = make(slots, n)
		}
	}
	if cfg.PlanSlots > 0 {
		s.planSlots = make(slots, cfg.PlanSlots)
	}
	if cfg.Auth == nil {
		cfg.Log.Warn("serving without sign-in: every request is an administrator's (tests only)")
	}
	s.metrics = newMetrics(s)
	s.routes()
	s.handler = s.observe(s.router)
	if missing := s.unruledRoutes(); len(missing) > 0 {
		cfg.Log.Error("routes without an access rule are refused to everyone; add them to web/auth_rules.go", "routes", missing)
	}
	return s
}

// MetricsHandler serves the Prometheus metrics alone, without sign-in:
// for a listener of its own on an internal address.
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler() }

// Routes lists every route of the router as "METHOD template" ("*" for a
// route of any method), in the router's order.
func (s *Server) Routes() []string {
	var out []string
	s.router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error { //nolint:errcheck // the walker returns nil
		if route.GetHandler() == nil {
			return nil // a subrouter's prefix
		}
		t, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		methods, err := route.GetMethods()
		if err != nil {
			methods = []string{"*"}
		}
		for _, m := range methods {
			out = append(out, m+" "+t)
		}
		return nil
	})
	return out
}

// HasRule says whether a route ("METHOD template", as Routes lists it) has
// an access rule.
func (s *Server) HasRule(route string) bool {
	m, t, _ := strings.Cut(route, " ")
	_, ok := s.rule(m, t)
	return ok
}

// unruledRoutes lists the routes that have no access rule.
func (s *Server) unruledRoutes() []string {
	var missing []string
	for _, r := range s.Routes() {
		if !s.HasRule(r) {
			missing = append(missing, r)
		}
	}
	return missing
}

// Handler is the server's root handler.
func (s *Server) Handler() http.Handler { return s.handler }

// maxBody limits JSON request bodies.
const maxBody = 1 << 20

func (s *Server) routes() {
	r := s.router
	r.Use(markRoute, s.guard)
	r.HandleFunc("/healthz", s.healthz).Methods(http.MethodGet)
	r.HandleFunc("/readyz", s.readyz).Methods(http.MethodGet)
	r.Handle("/metrics", s.metrics.handler()).Methods(http.MethodGet)
	r.HandleFunc("/api/config", s.config).Methods(http.MethodGet)
	r.HandleFunc("/api/network", s.network).Methods(http.MethodGet)
	r.HandleFunc("/api/shutoffs/plan", s.plan).Methods(http.MethodPost)
	r.HandleFunc("/api/shutoffs/customers.csv", s.planCSV).Methods(http.MethodGet)
	r.HandleFunc("/api/shutoffs/notice", s.notice).Methods(http.MethodPost)
	r.HandleFunc("/api/segments/stats", s.segmentStats).Methods(http.MethodGet)
	r.HandleFunc("/api/search", s.search).Methods(http.MethodGet)
	r.HandleFunc("/tiles/{layer}/{z}/{x}/{y}.mvt", s.tile).Methods(http.MethodGet)
	r.HandleFunc("/tiles/{layer}.json", s.tileJSON).Methods(http.MethodGet)
	r.HandleFunc("/collections", s.collections).Methods(http.MethodGet)
	r.HandleFunc("/collections/{id}/items", s.items).Methods(http.MethodGet)
	s.patrolRoutes(r)
	s.repairRoutes(r)
	s.asbuiltRoutes(r)
	s.authRoutes(r)
	r.PathPrefix("/api/").HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.error(w, r, gis.Errorf(gis.NotFound, "route.not_found", "no API route %s %s", r.Method, r.URL.Path))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusMethodNotAllowed, errBody("method.not_allowed", fmt.Sprintf("%s is not allowed on %s", r.Method, r.URL.Path)))
	})
	r.PathPrefix("/").Handler(http.FileServer(http.FS(ui.FS())))
}

func errBody(code, msg string) map[string]any {
	return map[string]any{"error": map[string]string{"code": code, "message": msg}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// error is the one place that maps an error to a status and JSON body.
// Internal errors are logged and answered without their text.
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	var ge *gis.Error
	var he *httpError
	var unavailable *wrappedUnavailable
	switch {
	case errors.As(err, &he):
		if he.retry > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(max(1, (he.retry+time.Second-1)/time.Second))))
		}
		if he.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="waterline"`)
		}
		writeJSON(w, he.status, errBody(he.code, he.msg))
	case errors.As(err, &unavailable):
		s.cfg.Log.Error("sign-in check failed", "request_id", RequestID(r.Context()), "err", err)
		w.Header().Set("Retry-After", "2")
		writeJSON(w, http.StatusServiceUnavailable, errBody("auth.unavailable", "credentials cannot be checked right now; try again shortly"))
	case errors.As(err, &ge):
		status := map[gis.ErrorKind]int{gis.Invalid: 400, gis.NotFound: 404, gis.Conflict: 409, gis.Unavailable: 503}[ge.Kind]
		if status == 0 {
			status = 400
		}
		writeJSON(w, status, errBody(ge.Code, ge.Msg))
	case errors.Is(err, tiles.ErrUnknownLayer):
		writeJSON(w, http.StatusNotFound, errBody("layer.unknown", err.Error()))
	case errors.Is(err, tiles.ErrOutOfRange):
		writeJSON(w, http.StatusBadRequest, errBody("tile.out_of_range", err.Error()))
	case errors.Is(err, context.Canceled):
		writeJSON(w, 499, errBody("request.canceled", "the request was canceled"))
	case errors.Is(err, context.DeadlineExceeded):
		writeJSON(w, http.StatusServiceUnavailable, errBody("request.timeout", "the request took too long"))
	default:
		s.cfg.Log.Error("internal error", "request_id", RequestID(r.Context()), "method", r.Method, "path", r.URL.Path, "err", err)
		writeJSON(w, http.StatusInternalServerError, errBody("internal", "internal error; see the server log"))
	}
}

// decode reads a JSON body strictly (unknown fields are an error).
func decode(r *http.Request, w http.ResponseWriter, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return gis.Errorf(gis.Invalid, "body.too_large", "the request body is larger than %d bytes", maxBody)
		}
		return gis.Errorf(gis.Invalid, "body.bad_json", "the request body is not valid JSON for this route: %v", err)
	}
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.cfg.Store.Pool().Ping(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, errBody("db.unreachable", "the database is not reachable"))
		return
	}
	n := s.cfg.Live.Network()
	if n == nil {
		writeJSON(w, http.StatusServiceUnavailable, errBody("network.not_loaded", "the network is not loaded yet"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "network_version": n.Version})
}

func (s *Server) config(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"srid": s.cfg.Store.SRID(), "time_zone": s.cfg.TZ.String(), "basemap": s.cfg.Basemap,
		"layers": s.cfg.Tiles.Layers(),
	})
}

func (s *Server) network(w http.ResponseWriter, r *http.Request) {
	info, err := s.cfg.Store.Info(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) plan(w http.ResponseWriter, r *http.Request) {
	var req repair.PlanRequest
	if err := decode(r, w, &req); err != nil {
		s.error(w, r, err)
		return
	}
	// The turn covers planning and encoding, not asking the database
	// which valves repair jobs hold closed, nor sending: a turn is CPU
	// work, and a client slow to read its answer holds up nobody else's
	// plan.
	held, err := s.cfg.Planner.Held(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	if !s.planSlots.take(r.Context(), s.limits.QueueWait) {
		s.error(w, r, &httpError{status: http.StatusServiceUnavailable, code: "server.busy",
			msg: "the server is busy with shutoff plans; try again shortly", retry: time.Second})
		return
	}
	bp := s.bufs.get()
	defer s.bufs.put(bp)
	b, err := func() ([]byte, error) {
		defer s.planSlots.give() // also when planning panics
		return s.planJSON(r, req, held, (*bp)[:0])
	}()
	*bp = b
	if err != nil {
		s.error(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b) //nolint:errcheck // the client went away
}

// planJSON works out the plan of req with the valves held closed and
// appends its JSON answer and a newline to b: the answer is large and
// asked for often, so it is encoded without reflection into a reused
// buffer (the same bytes writeJSON would write).
func (s *Server) planJSON(r *http.Request, req repair.PlanRequest, held []string, b []byte) ([]byte, error) {
	t0 := time.Now()
	resp, err := s.cfg.Planner.PlanHeld(r.Context(), req, held)
	if err != nil {
		return b, err
	}
	s.metrics.planDuration.Observe(time.Since(t0).Seconds())
	if !seesContacts(r, false) {
		redactCustomers(resp.Critical)
	}
	b, err = resp.AppendJSON(b)
	return append(b, '\n'), err
}

// planFromQuery reads a plan request from query parameters: pipe, at,
// failed (repeated or comma-separated).
func planFromQuery(r *http.Request) (repair.PlanRequest, error) {
	q := r.URL.Query()
	req := repair.PlanRequest{Pipe: q.Get("pipe")}
	if v := q.Get("at"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return req, gis.Errorf(gis.Invalid, "leak.bad_at", "at=%q is not a number", v)
		}
		req.At = &f
	}
	for _, f := range q["failed"] {
		for _, id := range splitComma(f) {
			req.FailedValves = append(req.FailedValves, id)
		}
	}
	no := false
	req.Contingency = &no
	return req, nil
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

func (s *Server) planCSV(w http.ResponseWriter, r *http.Request) {
	req, err := planFromQuery(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	resp, err := s.cfg.Planner.Plan(r.Context(), req)
	if err != nil {
		s.error(w, r, err)
		return
	}
	rows, err := s.cfg.Planner.CustomersCSV(r.Context(), resp)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "shutoff-" + resp.Leak.Pipe + "-customers.csv"}))
	if err := writeCustomersCSV(w, rows); err != nil {
		s.cfg.Log.Warn("csv write", "err", err)
	}
}

// notice answers {"plan": PlanRequest, "notice": NoticeRequest}.
func (s *Server) notice(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Plan   repair.PlanRequest   `json:"plan"`
		Notice repair.NoticeRequest `json:"notice"`
	}
	if err := decode(r, w, &req); err != nil {
		s.error(w, r, err)
		return
	}
	n, err := s.cfg.Planner.NoticeFor(r.Context(), req.Plan, req.Notice, s.cfg.Now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, n)
}

func (s *Server) segmentStats(w http.ResponseWriter, r *http.Request) {
	n := s.cfg.Live.Network()
	if n == nil {
		s.error(w, r, gis.Errorf(gis.Unavailable, "network.not_loaded", "the network is not loaded yet"))
		return
	}
	top := 20
	if v := r.URL.Query().Get("top"); v != "" {
		k, err := strconv.Atoi(v)
		if err != nil || k < 1 || k > 1000 {
			s.error(w, r, gis.Errorf(gis.Invalid, "top.bad", "top must be an integer within [1, 1000]"))
			return
		}
		top = k
	}
	writeJSON(w, http.StatusOK, n.SegmentStats(top))
}

// search answers GET /api/search?q=&limit=: pipes, valves and hydrants
// by id, addresses and districts (tiles.Search; never customers' names).
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 0
	if v := q.Get("limit"); v != "" {
		k, err := strconv.Atoi(v)
		if err != nil || k < 1 || k > tiles.MaxSearchLimit {
			s.error(w, r, gis.Errorf(gis.Invalid, "limit.bad", "limit must be an integer within [1, %d]", tiles.MaxSearchLimit))
			return
		}
		limit = k
	}
	res, err := s.cfg.Tiles.Search(r.Context(), q.Get("q"), limit)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if res == nil {
		res = []tiles.SearchResult{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": res})
}

func intVar(r *http.Request, name string) (int, error) {
	v := mux.Vars(r)[name]
	i, err := strconv.Atoi(v)
	if err != nil {
		return 0, gis.Errorf(gis.Invalid, "tile.bad_coordinate", "%s=%q is not an integer", name, v)
	}
	return i, nil
}

func (s *Server) tile(w http.ResponseWriter, r *http.Request) {
	var zxy [3]int
	for i, name := range []string{"z", "x", "y"} {
		v, err := intVar(r, name)
		if err != nil {
			s.error(w, r, err)
			return
		}
		zxy[i] = v
	}
	var version int64
	if n := s.cfg.Live.Network(); n != nil {
		version = n.Version
	}
	layer := mux.Vars(r)["layer"]
	// Network layers change only with the network version, so their ETag
	// is known before the tile is made. Volatile layers (repair sites,
	// patrol routes) change between versions: their ETag is the content's.
	volatile := s.cfg.Tiles.Volatile(layer)
	etag := fmt.Sprintf(`"v%d-%s-%d-%d-%d"`, version, layer, zxy[0], zxy[1], zxy[2])
	if !volatile && r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	b, err := s.cfg.Tiles.Tile(r.Context(), layer, zxy[0], zxy[1], zxy[2], version)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if volatile {
		sum := sha256.Sum256(b)
		etag = `"c` + hex.EncodeToString(sum[:12]) + `"`
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	w.Header().Set("Content-Type", "application/vnd.mapbox-vector-tile")
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b) //nolint:errcheck
}

func (s *Server) tileJSON(w http.ResponseWriter, r *http.Request) {
	layer := mux.Vars(r)["layer"]
	tmpl := "/tiles/" + layer + "/{z}/{x}/{y}.mvt"
	tj := s.cfg.Tiles.TileJSON(layer, tmpl)
	if tj == nil {
		s.error(w, r, fmt.Errorf("%w: %q", tiles.ErrUnknownLayer, layer))
		return
	}
	writeJSON(w, http.StatusOK, tj)
}

func (s *Server) collections(w http.ResponseWriter, r *http.Request) {
	var cs []map[string]any
	for _, l := range s.cfg.Tiles.Layers() {
		cs = append(cs, map[string]any{"id": l, "links": []map[string]string{{"rel": "items", "href": "/collections/" + l + "/items", "type": "application/geo+json"}}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"collections": cs})
}

// parseBBox reads a bbox parameter: minLon,minLat,maxLon,maxLat in WGS84
// ("" gives nil).
func parseBBox(v string) (*[4]float64, error) {
	if v == "" {
		return nil, nil
	}
	parts := splitComma(v)
	if len(parts) != 4 {
		return nil, gis.Errorf(gis.Invalid, "bbox.bad", "bbox must be four numbers minLon,minLat,maxLon,maxLat")
	}
	var b [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || f != f {
			return nil, gis.Errorf(gis.Invalid, "bbox.bad", "bbox value %q is not a number", p)
		}
		b[i] = f
	}
	if b[0] > b[2] || b[1] > b[3] || b[0] < -180 || b[2] > 180 || b[1] < -90 || b[3] > 90 {
		return nil, gis.Errorf(gis.Invalid, "bbox.bad", "bbox must be minLon,minLat,maxLon,maxLat within WGS84 bounds")
	}
	return &b, nil
}

func (s *Server) items(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 1000
	if v := q.Get("limit"); v != "" {
		k, err := strconv.Atoi(v)
		if err != nil || k < 1 || k > 10000 {
			s.error(w, r, gis.Errorf(gis.Invalid, "limit.bad", "limit must be an integer within [1, 10000]"))
			return
		}
		limit = k
	}
	bbox, err := parseBBox(q.Get("bbox"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	body, err := s.cfg.Tiles.Features(r.Context(), mux.Vars(r)["id"], bbox, limit)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	w.Write(body) //nolint:errcheck
}

// bufferPool keeps byte buffers for encoding answers between requests.
// Buffers that grew beyond maxPooledBuffer are dropped, not kept.
type bufferPool struct{ p sync.Pool }

const maxPooledBuffer = 1 << 20

// get returns an empty buffer (with whatever capacity it had).
func (bp *bufferPool) get() *[]byte {
	if b, ok := bp.p.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, 32<<10)
	return &b
}

// put returns b to the pool; b must not be used afterwards.
func (bp *bufferPool) put(b *[]byte) {
	if cap(*b) > maxPooledBuffer {
		return
	}
	*b = (*b)[:0]
	bp.p.Put(b)
}
