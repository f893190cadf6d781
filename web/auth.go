package web

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/repair"
	"github.com/waterline-gis/waterline/web/auth"
)

// Sign-in: a browser holds a session cookie (HttpOnly, SameSite=Lax,
// Secure behind TLS); a machine sends "Authorization: Bearer wlt_…". A
// state-changing request made with a session cookie must come from the
// service's own pages: Sec-Fetch-Site / Origin are checked
// (http.CrossOriginProtection), and the X-CSRF-Token header, when sent,
// must match the session's token (GET /api/me gives it; so does the
// waterline_csrf cookie). Bearer-token requests are not checked: a
// browser never adds that header by itself.
const (
	SessionCookie = "waterline_session"
	CSRFCookie    = "waterline_csrf"
	CSRFHeader    = "X-CSRF-Token"
)

type principalKey struct{}

// PrincipalFrom returns who makes the request (nil before the guard ran
// or on public routes when nobody is signed in).
func PrincipalFrom(ctx context.Context) *auth.Principal {
	p, _ := ctx.Value(principalKey{}).(*auth.Principal)
	return p
}

// httpError is an error with its own status: authentication,
// authorization and limits.
type httpError struct {
	status int
	code   string
	msg    string
	retry  time.Duration // Retry-After, when set
}

func (e *httpError) Error() string { return e.msg }

func errf(status int, code, format string, args ...any) *httpError {
	return &httpError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

var (
	errSignIn    = errf(http.StatusUnauthorized, "auth.required", "sign in first (or send an API token)")
	errForbidden = errf(http.StatusForbidden, "auth.forbidden", "your role may not do this")
	errNoRule    = errf(http.StatusForbidden, "auth.no_rule", "this route has no access rule")
)

func isUnsafe(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// rule returns the access rule of a request's route.
func (s *Server) rule(method, template string) (access, bool) {
	if a, ok := s.rules[method+" "+template]; ok {
		return a, true
	}
	a, ok := s.rules["* "+template]
	return a, ok
}

// guard is the router middleware that enforces the access rules and the
// limits of every route: who is asking (session or token), whether their
// role may call the route and reach the object, cross-site request
// forgery, per-client rates, bounded concurrency, the body size, deadlines
// — and it writes the audit log.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		template := ""
		if cr := mux.CurrentRoute(r); cr != nil {
			template, _ = cr.GetPathTemplate()
		}
		rule, ok := s.rule(r.Method, template)
		sw := &statusWriter{ResponseWriter: w}
		var p *auth.Principal
		var err error
		defer func() {
			// Calls by nobody are refused before anything happens and are
			// counted, not written: an anonymous flood must not turn into
			// database writes.
			if rule.audit != auditNone && s.cfg.Auth != nil && p != nil {
				s.audit(r, p, template, sw, err)
			}
		}()
		if !ok {
			s.cfg.Log.Error("route has no access rule", "request_id", RequestID(r.Context()), "method", r.Method, "route", template)
			err = errNoRule
			s.error(sw, r, err)
			return
		}
		var release func()
		r, p, release, err = s.admit(sw, r, rule)
		defer release()
		if err != nil {
			var redirect *redirectError
			if errors.As(err, &redirect) {
				err = nil
				seeOther(sw, redirect.to)
				return
			}
			var he *httpError
			if errors.As(err, &he) && (he.status == 401 || he.status == 403) {
				s.metrics.denied.WithLabelValues(he.code).Inc()
			}
			s.error(sw, r, err)
			return
		}
		lim := s.limits.of(rule.class)
		// A turn in the class (heavy work cannot take the whole pool).
		if sl := s.slots[rule.class]; sl != nil {
			if !sl.take(r.Context(), s.limits.QueueWait) {
				err = &httpError{status: http.StatusServiceUnavailable, code: "server.busy", msg: "the server is busy with requests like this one; try again shortly", retry: time.Second}
				s.error(sw, r, err)
				return
			}
			defer sl.give()
		}
		ctx, cancel := context.WithTimeout(r.Context(), lim.Timeout)
		defer cancel()
		rc := http.NewResponseController(sw)
		rc.SetWriteDeadline(time.Now().Add(lim.Timeout + 15*time.Second)) //nolint:errcheck // not every writer supports it (tests)
		next.ServeHTTP(sw, r.WithContext(ctx))
	})
}

// redirectError sends a browser elsewhere (the sign-in page).
type redirectError struct{ to string }

func (e *redirectError) Error() string { return "redirect to " + e.to }

// admit decides whether a request may be served: it returns the request
// to serve (with the principal in its context, its body read) and the
// principal, or an error to answer with.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, rule access) (_ *http.Request, _ *auth.Principal, release func(), _ error) {
	release = func() {}
	r, p, err := s.admit1(w, r, rule, &release)
	return r, p, release, err
}

func (s *Server) admit1(w http.ResponseWriter, r *http.Request, rule access, release *func()) (*http.Request, *auth.Principal, error) {
	p, err := s.authenticate(w, r)
	if err != nil {
		return r, nil, err
	}
	if rule.scope == scopeUIPage {
		if p == nil && s.cfg.Auth != nil && (r.URL.Path == "/" || r.URL.Path == "/index.html") && r.Method == http.MethodGet {
			return r, nil, &redirectError{to: "login"}
		}
	} else if !rule.public {
		if p == nil {
			return r, nil, errSignIn
		}
		if !rule.roles.has(p.Role) {
			return r, p, errForbidden
		}
	}
	if p != nil {
		r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		if h, ok := r.Context().Value(routeKey).(*routeHolder); ok {
			h.user = p.Name
		}
		if p.Via != auth.ViaOpen {
			// Handlers that name the acting user from this header (the
			// as-built routes) get the signed-in user, never a claim.
			r.Header.Set("X-Waterline-User", p.Name)
		}
	}
	// Cross-site request forgery: a cookie-authenticated change, or a
	// sign-in, must come from this site.
	if isUnsafe(r.Method) && s.cfg.Auth != nil && (p != nil && p.Via == auth.ViaSession || rule.class == classLogin) {
		if err := s.csrf.Check(r); err != nil {
			return r, p, errf(http.StatusForbidden, "csrf.origin", "cross-site request refused: %v", err)
		}
		if tok := r.Header.Get(CSRFHeader); tok != "" && p != nil && p.Via == auth.ViaSession &&
			subtle.ConstantTimeCompare([]byte(tok), []byte(p.CSRF)) != 1 {
			return r, p, errf(http.StatusForbidden, "csrf.token", "the %s header does not match your session; reload the page", CSRFHeader)
		}
	}
	if err := checkText(r); err != nil {
		return r, p, err
	}
	// Per-client rate of the class.
	lim := s.limits.of(rule.class)
	if s.rateLimited && lim.Rate > 0 {
		key := "ip:" + clientIP(r, s.limits.TrustProxy)
		if p != nil && p.UserID != 0 {
			key = "u:" + strconv.FormatInt(p.UserID, 10)
		}
		if ok, wait := s.limiter.allow(rule.class.String()+"/"+key, lim.Rate, lim.Burst); !ok {
			s.metrics.limited.WithLabelValues(rule.class.String()).Inc()
			return r, p, &httpError{status: http.StatusTooManyRequests, code: "rate.limited",
				msg: "too many requests of this kind; slow down", retry: wait}
		}
	}
	// The body, read in full before the handler runs (bounded in size and
	// time, and all bodies together by the memory budget): a slow client
	// never holds a database connection or a turn of its class.
	if isUnsafe(r.Method) && r.Body != nil && r.Body != http.NoBody {
		max := rule.body
		if max == 0 {
			max = maxBody
		}
		want := max
		if r.ContentLength >= 0 && r.ContentLength < max {
			want = r.ContentLength
		}
		want = min(want, s.limits.BodyBudget)
		ctx, cancel := context.WithTimeout(r.Context(), s.limits.QueueWait)
		err := s.bodies.Acquire(ctx, want)
		cancel()
		if err != nil {
			return r, p, &httpError{status: http.StatusServiceUnavailable, code: "server.busy", msg: "the server is receiving too much data; try again shortly", retry: 5 * time.Second}
		}
		*release = func() { s.bodies.Release(want) }
		body, err := readBody(w, r, max, lim.ReadTimeout)
		if err != nil {
			return r, p, err
		}
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		if rule.class != classUpload && textBody(r) && hasNUL(body) {
			return r, p, errBadText
		}
	}
	if p != nil {
		if err := s.inScope(r, p, rule); err != nil {
			return r, p, err
		}
		if rule.stampBy && p.Via != auth.ViaOpen {
			if err := stampBy(r, p.Name); err != nil {
				return r, p, err
			}
		}
	}
	return r, p, nil
}

// readBody reads a request body of at most max bytes within timeout.
func readBody(w http.ResponseWriter, r *http.Request, max int64, timeout time.Duration) ([]byte, error) {
	tooLarge := &httpError{status: http.StatusRequestEntityTooLarge, code: "body.too_large", msg: fmt.Sprintf("the request body is larger than %d bytes", max)}
	if r.ContentLength > max {
		w.Header().Set("Connection", "close")
		return nil, tooLarge
	}
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Now().Add(timeout)) //nolint:errcheck // not every writer supports it (tests)
	n := r.ContentLength
	if n < 0 || n > 1<<20 {
		n = 1 << 16
	}
	buf := bytes.NewBuffer(make([]byte, 0, n+1))
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		// Do not read the rest: answer and close the connection.
		w.Header().Set("Connection", "close")
	} else {
		rc.SetReadDeadline(time.Time{}) //nolint:errcheck
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, tooLarge
	case err != nil:
		return nil, &httpError{status: http.StatusBadRequest, code: "body.unreadable", msg: "the request body could not be read in time"}
	}
	return buf.Bytes(), nil
}

// authenticate finds the principal: a bearer token, else a session
// cookie, else nobody (nil). A server without sign-in (Config.Auth nil)
// treats every request as an administrator's. A bad token is an error; a
// stale cookie is cleared and treated as nobody.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*auth.Principal, error) {
	if s.cfg.Auth == nil {
		return auth.Open(), nil
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return nil, errf(http.StatusUnauthorized, "auth.bad_scheme", "use Authorization: Bearer <token>")
		}
		p, err := s.cfg.Auth.APIToken(r.Context(), strings.TrimSpace(tok))
		if errors.Is(err, auth.ErrUnauthenticated) {
			return nil, errf(http.StatusUnauthorized, "auth.bad_token", "the API token is unknown, expired or revoked")
		}
		if err != nil {
			return nil, authUnavailable(err)
		}
		return p, nil
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	p, err := s.cfg.Auth.Session(r.Context(), c.Value)
	if errors.Is(err, auth.ErrUnauthenticated) {
		s.clearCookies(w, r)
		return nil, nil
	}
	if err != nil {
		return nil, authUnavailable(err)
	}
	return p, nil
}

func authUnavailable(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &wrappedUnavailable{err}
}

// wrappedUnavailable is a database failure while checking credentials:
// logged, answered 503.
type wrappedUnavailable struct{ err error }

func (e *wrappedUnavailable) Error() string { return "auth: " + e.err.Error() }
func (e *wrappedUnavailable) Unwrap() error { return e.err }

// inScope checks that a district manager or crew member reaches only
// their own objects; other roles pass.
func (s *Server) inScope(r *http.Request, p *auth.Principal, rule access) error {
	switch {
	case p.Role == auth.DistrictManager:
	case p.Role == auth.Crew && (rule.scope == scopeJob || rule.scope == scopeJobMilestone):
	default:
		return nil
	}
	ctx := r.Context()
	outOfScope := func(what string) error {
		return errf(http.StatusForbidden, "auth.out_of_scope", "%s is not in your districts", what)
	}
	mine := func(d, what string) error {
		if !p.InDistrict(d) {
			return outOfScope(what)
		}
		return nil
	}
	objectDistrict := func(o auth.Object, id int64, what string) error {
		d, found, err := s.cfg.Auth.DistrictOf(ctx, o, id)
		if err != nil {
			return authUnavailable(err)
		}
		if !found {
			return nil // the handler answers 404
		}
		return mine(d, what)
	}
	pathID := func() int64 {
		id, _ := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
		return id
	}
	q := r.URL.Query()
	// defaultDistrict sets ?district= to the manager's only district.
	defaultDistrict := func() error {
		if len(p.Districts) != 1 {
			return gis.Errorf(gis.Invalid, "district.required", "give district= (one of %s)", strings.Join(p.Districts, ", "))
		}
		q.Set("district", p.Districts[0])
		r.URL.RawQuery = q.Encode()
		return nil
	}
	switch rule.scope {
	case scopeDistrictQuery:
		if d := q.Get("district"); d != "" || len(q["district"]) > 0 {
			return mine(d, fmt.Sprintf("district %q", d))
		}
		return defaultDistrict()
	case scopeDistrictPath:
		return mine(mux.Vars(r)["id"], "this district")
	case scopeDistrictBody:
		var b struct {
			District string `json:"district"`
		}
		json.Unmarshal(peekBody(r), &b) //nolint:errcheck // a bad body has no district; the handler explains
		if b.District == "" {
			return errf(http.StatusForbidden, "auth.district_required", "give \"district\": one of %s", strings.Join(p.Districts, ", "))
		}
		return mine(b.District, fmt.Sprintf("district %q", b.District))
	case scopeRoute:
		return objectDistrict(auth.PatrolRoute, pathID(), "this route")
	case scopeTrack:
		return objectDistrict(auth.PatrolTrack, pathID(), "this track")
	case scopeAnomaly:
		return objectDistrict(auth.PatrolAnomaly, pathID(), "this anomaly")
	case scopeRouteOrDistrict:
		route, district := q.Get("route"), q.Get("district")
		if route != "" {
			id, err := strconv.ParseInt(route, 10, 64)
			if err != nil || id <= 0 {
				return gis.Errorf(gis.Invalid, "route.bad_id", "route=%q is not a route id", route)
			}
			d, found, err := s.cfg.Auth.DistrictOf(ctx, auth.PatrolRoute, id)
			if err != nil {
				return authUnavailable(err)
			}
			if !found {
				return gis.Errorf(gis.NotFound, "route.not_found", "no patrol route %d", id)
			}
			if err := mine(d, "this route"); err != nil {
				return err
			}
		}
		if district != "" || len(q["district"]) > 0 {
			return mine(district, fmt.Sprintf("district %q", district))
		}
		if route == "" {
			return defaultDistrict()
		}
		return nil
	case scopeJob, scopeJobMilestone:
		if p.Role != auth.Crew {
			return errForbidden
		}
		ok, err := s.cfg.Auth.Assigned(ctx, pathID(), p.UserID)
		if err != nil {
			return authUnavailable(err)
		}
		if !ok {
			return errf(http.StatusForbidden, "auth.not_assigned", "you are not on this job's crew")
		}
		if rule.scope == scopeJobMilestone {
			var b struct {
				Milestone string `json:"milestone"`
			}
			json.Unmarshal(peekBody(r), &b) //nolint:errcheck // the handler explains a bad body
			if !crewMayRecord(b.Milestone) {
				return errf(http.StatusForbidden, "auth.dispatch_only", "the dispatch centre records %q", b.Milestone)
			}
		}
		return nil
	}
	// A district manager on a route without a district scope: the rule
	// lists the role, so the route holds nothing district-bound.
	return nil
}

// peekBody returns the (already read) body without consuming it.
func peekBody(r *http.Request) []byte {
	if r.GetBody == nil {
		return nil
	}
	rc, err := r.GetBody()
	if err != nil {
		return nil
	}
	b, _ := io.ReadAll(rc)
	return b
}

// stampBy sets the JSON body's "by" (whatever its case) to name. A body
// that is not a JSON object is left for the handler to refuse.
func stampBy(r *http.Request, name string) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(peekBody(r), &m); err != nil || m == nil {
		return nil
	}
	for k := range m {
		if strings.EqualFold(k, "by") {
			delete(m, k)
		}
	}
	m["by"], _ = json.Marshal(name)
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return nil
}

// audit records a call of an audited route.
func (s *Server) audit(r *http.Request, p *auth.Principal, template string, sw *statusWriter, err error) {
	status := sw.status
	if status == 0 {
		status = http.StatusOK
	}
	target := map[string]any{}
	if vars := mux.Vars(r); len(vars) > 0 {
		target["vars"] = vars
	}
	if q := r.URL.RawQuery; q != "" {
		if len(q) > 500 {
			q = q[:500]
		}
		target["query"] = q
	}
	if loc := sw.Header().Get("Location"); loc != "" && status < 300 {
		target["created"] = loc
	}
	rule, _ := s.rule(r.Method, template)
	if rule.audit == auditExport {
		target["export"] = "customer contact data"
	}
	e := auth.Entry{Action: r.Method + " " + template, Target: target, Status: status, Outcome: auth.Outcome(status),
		Remote: clientIP(r, s.limits.TrustProxy), RequestID: RequestID(r.Context())}
	e.Actor, e.Role, e.Via = p.Name, string(p.Role), p.Via
	if p.TokenID != 0 {
		target["token"] = p.TokenID
	}
	if err := s.cfg.Auth.Record(r.Context(), e); err != nil {
		s.cfg.Log.Error("audit log write failed", "request_id", RequestID(r.Context()), "action", e.Action, "err", err)
	}
}

// secureRequest says whether the client reached us over TLS (directly or
// through a proxy that says so).
func secureRequest(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(strings.TrimSpace(strings.Split(r.Header.Get("X-Forwarded-Proto"), ",")[0]), "https")
}

func (s *Server) setSessionCookies(w http.ResponseWriter, r *http.Request, sess *auth.Session) {
	secure := secureRequest(r)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: sess.Token, Path: "/", Expires: sess.Expires,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: sess.CSRF, Path: "/", Expires: sess.Expires,
		HttpOnly: false, Secure: secure, SameSite: http.SameSiteStrictMode})
}

func (s *Server) clearCookies(w http.ResponseWriter, r *http.Request) {
	secure := secureRequest(r)
	for _, name := range []string{SessionCookie, CSRFCookie} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: name == SessionCookie,
			Secure: secure, SameSite: http.SameSiteLaxMode})
	}
}

// seesContacts says whether the request may see customers' names and
// phones: dispatchers and administrators, and a crew member on their own
// job (the guard has checked the assignment).
func seesContacts(r *http.Request, ownJob bool) bool {
	p := PrincipalFrom(r.Context())
	if p == nil {
		return false
	}
	return p.Role.SeesContacts() || ownJob && p.Role == auth.Crew
}

// redactCustomers blanks the names and phones of customers.
func redactCustomers(cs []store.CustomerInfo) {
	for i := range cs {
		cs[i].Name, cs[i].Phone = "", ""
	}
}

// redactJobs removes contact data from jobs for a request that may not
// see it: the work order's contact and reporter, the critical customers
// of the stored plan, the names in a notice.
func redactJobs(r *http.Request, jobs ...*repair.Job) {
	if seesContacts(r, true) {
		return
	}
	for _, jb := range jobs {
		if jb == nil {
			continue
		}
		jb.Order.Contact, jb.Order.Reporter = "", ""
		if len(jb.Plan) > 0 {
			jb.Plan = redactPlanJSON(jb.Plan)
		}
		if jb.Notice != nil {
			for i := range jb.Notice.Late {
				jb.Notice.Late[i].Name = ""
			}
		}
	}
}

// redactPlanJSON blanks names and phones in a stored plan's "critical".
func redactPlanJSON(plan json.RawMessage) json.RawMessage {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(plan, &m); err != nil {
		return json.RawMessage(`{}`)
	}
	if raw, ok := m["critical"]; ok {
		var cs []store.CustomerInfo
		if err := json.Unmarshal(raw, &cs); err != nil {
			delete(m, "critical")
		} else {
			redactCustomers(cs)
			m["critical"], _ = json.Marshal(cs)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return json.RawMessage(`{}`)
	}
	return b
}

// allowedRoutes lists the routes a role may call ("METHOD template").
func (s *Server) allowedRoutes(role auth.Role) []string {
	var out []string
	for k, a := range s.rules {
		if a.public || a.roles.has(role) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// safeNext returns a sign-in page's "next" if it leads within this site
// (a path, absolute or relative to the UI, with its query), else "".
func safeNext(next string) string {
	if next == "" || len(next) > 500 || strings.ContainsAny(next, "\\\x00\r\n\t") || strings.HasPrefix(next, "//") ||
		strings.Contains(next, "..") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	return next
}

// afterSignIn is where a sign-in sends the browser, from api/login.
func afterSignIn(next string) string {
	if strings.HasPrefix(next, "/") {
		return next
	}
	return "../" + next
}

// seeOther redirects with a Location relative to the request (kept as
// given, so the UI works under a reverse proxy's path prefix).
func seeOther(w http.ResponseWriter, to string) {
	w.Header().Set("Location", to)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusSeeOther)
}

var errBadText = errf(http.StatusBadRequest, "request.bad_text", "text in a request may not hold NUL characters or invalid UTF-8")

// checkText refuses a path or query that is not valid UTF-8 or holds a
// NUL character: no text column takes them (PostgreSQL would answer an
// error), and no id or name has them.
func checkText(r *http.Request) error {
	ok := func(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }
	if !ok(r.URL.Path) {
		return errBadText
	}
	if r.URL.RawQuery == "" {
		return nil
	}
	for k, vs := range r.URL.Query() {
		if !ok(k) {
			return errBadText
		}
		for _, v := range vs {
			if !ok(v) {
				return errBadText
			}
		}
	}
	return nil
}

// textBody says whether a body is JSON or a form (not a file).
func textBody(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "" || ct == "application/json" || ct == "application/x-www-form-urlencoded" || strings.HasSuffix(ct, "+json")
}

// hasNUL says whether a JSON or form body holds a NUL: a raw byte, the
// JSON escape \u0000 (not itself escaped), or %00.
func hasNUL(b []byte) bool {
	if bytes.IndexByte(b, 0) >= 0 || bytes.Contains(b, []byte("%00")) {
		return true
	}
	for i := 0; ; {
		k := bytes.Index(b[i:], []byte(`u0000`))
		if k < 0 {
			return false
		}
		k += i
		n := 0
		for j := k - 1; j >= 0 && b[j] == '\\'; j-- {
			n++
		}
		if n%2 == 1 {
			return true
		}
		i = k + 5
	}
}
