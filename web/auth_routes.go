package web

import (
	_ "embed"
	"errors"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/repair"
	"github.com/waterline-gis/waterline/web/auth"
)

//go:embed login.html
var loginHTML string

var loginPage = template.Must(template.New("login").Parse(loginHTML))

// authRoutes adds sign-in, the signed-in user, users, tokens, the audit
// log and repair crews:
//
//	GET    /login                          the sign-in page (a form posting to api/login)
//	POST   /api/login                      {name, password} (JSON, or the page's form) → session cookie
//	POST   /api/logout                     end the session
//	GET    /api/me                         who is signed in: user, role, districts, csrf_token, routes allowed
//	POST   /api/me/password                {old, new}
//	GET    /api/me/jobs                    the repair jobs the user is on the crew of
//	GET    /api/users                      (admin) every user
//	POST   /api/users                      (admin) {name, display_name, role, districts, password?} → the password if generated
//	PATCH  /api/users/{name}               (admin) {display_name?, role?, districts?, disabled?}
//	POST   /api/users/{name}/password      (admin) {password?} → a new password (generated when absent)
//	GET    /api/tokens?user=               (admin) API tokens (never the secrets)
//	POST   /api/tokens                     (admin) {user, label, expires_days?} → the token, shown once
//	DELETE /api/tokens/{id}                (admin) revoke
//	GET    /api/audit?actor=&action=&outcome=&request_id=&from=&to=&before=&limit=   (admin)
//	GET    /api/repair/jobs/{id}/crew      the job's crew
//	PUT    /api/repair/jobs/{id}/crew      {"crew": [user names]}
func (s *Server) authRoutes(r *mux.Router) {
	r.HandleFunc("/login", s.loginPage).Methods(http.MethodGet)
	r.HandleFunc("/api/login", s.login).Methods(http.MethodPost)
	r.HandleFunc("/api/logout", s.logout).Methods(http.MethodPost)
	r.HandleFunc("/api/me", s.me).Methods(http.MethodGet)
	r.HandleFunc("/api/me/password", s.changePassword).Methods(http.MethodPost)
	r.HandleFunc("/api/me/jobs", s.myJobs).Methods(http.MethodGet)
	r.HandleFunc("/api/users", s.users).Methods(http.MethodGet)
	r.HandleFunc("/api/users", s.addUser).Methods(http.MethodPost)
	r.HandleFunc("/api/users/{name}", s.updateUser).Methods(http.MethodPatch)
	r.HandleFunc("/api/users/{name}/password", s.resetPassword).Methods(http.MethodPost)
	r.HandleFunc("/api/tokens", s.tokens).Methods(http.MethodGet)
	r.HandleFunc("/api/tokens", s.addToken).Methods(http.MethodPost)
	r.HandleFunc("/api/tokens/{id:[0-9]+}", s.revokeToken).Methods(http.MethodDelete)
	r.HandleFunc("/api/audit", s.auditLog).Methods(http.MethodGet)
	if s.cfg.Jobs != nil {
		r.HandleFunc("/api/repair/jobs/{id:[0-9]+}/crew", s.jobCrew).Methods(http.MethodGet)
		r.HandleFunc("/api/repair/jobs/{id:[0-9]+}/crew", s.setJobCrew).Methods(http.MethodPut)
	}
}

// authSvc returns the user store, or answers 503 on a server without
// sign-in.
func (s *Server) authSvc(w http.ResponseWriter, r *http.Request) (*auth.Service, bool) {
	if s.cfg.Auth == nil {
		s.error(w, r, gis.Errorf(gis.Unavailable, "auth.off", "this server runs without sign-in"))
		return nil, false
	}
	return s.cfg.Auth, true
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	data := struct {
		Next, Error string
		SignedOut   bool
	}{Next: safeNext(q.Get("next")), SignedOut: q.Get("signed_out") == "1"}
	switch q.Get("error") {
	case "":
	case "rate":
		data.Error = "rate"
	default:
		data.Error = "credentials"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.Header().Set("Cache-Control", "no-store")
	if err := loginPage.Execute(w, data); err != nil {
		s.cfg.Log.Warn("login page", "err", err)
	}
}

// isForm says whether a request carries an HTML form (the sign-in page
// without JavaScript) rather than JSON.
func isForm(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "application/x-www-form-urlencoded"
}

type meResponse struct {
	User      *auth.Principal `json:"user"`
	CSRFToken string          `json:"csrf_token,omitempty"`
	CSRFHead  string          `json:"csrf_header"`
	SignIn    bool            `json:"sign_in"` // false: a server without sign-in (tests)
	Routes    []string        `json:"routes"`
}

func (s *Server) meOf(p *auth.Principal) meResponse {
	return meResponse{User: p, CSRFToken: p.CSRF, CSRFHead: CSRFHeader, SignIn: s.cfg.Auth != nil, Routes: s.allowedRoutes(p.Role)}
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.authSvc(w, r)
	if !ok {
		return
	}
	form := isForm(r)
	var req struct {
		Name     string `json:"name"`
		Password string `json:"password"`
		Next     string `json:"next"`
	}
	if form {
		if err := r.ParseForm(); err != nil {
			s.error(w, r, gis.Errorf(gis.Invalid, "body.bad_form", "the form cannot be read"))
			return
		}
		req.Name, req.Password, req.Next = r.PostForm.Get("name"), r.PostForm.Get("password"), r.PostForm.Get("next")
	} else if err := decode(r, w, &req); err != nil {
		s.error(w, r, err)
		return
	}
	req.Name = strings.TrimSpace(req.Name)
	next := safeNext(req.Next)
	back := func(code string) {
		v := url.Values{"error": {code}}
		if next != "" {
			v.Set("next", next)
		}
		seeOther(w, "../login?"+v.Encode())
	}
	entry := auth.Entry{Action: "login", Actor: clipName(req.Name), Via: auth.ViaSession, Remote: clientIP(r, s.limits.TrustProxy),
		RequestID: RequestID(r.Context())}
	// Per account, on top of the guard's per-address limit: guessing one
	// user's password from many addresses is slowed down too.
	if s.rateLimited {
		if ok, wait := s.limiter.allow("login-name/"+strings.ToLower(req.Name), s.limits.Login.Rate, s.limits.Login.Burst); !ok {
			s.metrics.limited.WithLabelValues("login").Inc()
			entry.Status, entry.Outcome = http.StatusTooManyRequests, "denied"
			s.record(r, entry)
			if form {
				back("rate")
				return
			}
			s.error(w, r, &httpError{status: http.StatusTooManyRequests, code: "rate.limited", msg: "too many sign-in attempts; try again later", retry: wait})
			return
		}
	}
	sess, p, err := svc.Login(r.Context(), req.Name, req.Password, clientIP(r, s.limits.TrustProxy), r.UserAgent())
	if errors.Is(err, auth.ErrBadCredentials) {
		s.metrics.denied.WithLabelValues("auth.bad_credentials").Inc()
		entry.Status, entry.Outcome = http.StatusUnauthorized, "denied"
		s.record(r, entry)
		if form {
			back("credentials")
			return
		}
		s.error(w, r, errf(http.StatusUnauthorized, "auth.bad_credentials", "wrong user name or password"))
		return
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	entry.Role, entry.Status = string(p.Role), http.StatusOK
	s.record(r, entry)
	s.setSessionCookies(w, r, sess)
	if form {
		seeOther(w, afterSignIn(next))
		return
	}
	writeJSON(w, http.StatusOK, s.meOf(p))
}

func clipName(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}

// record writes an audit entry outside the guard (sign-in, sign-out).
func (s *Server) record(r *http.Request, e auth.Entry) {
	if s.cfg.Auth == nil {
		return
	}
	if e.Outcome == "" {
		e.Outcome = auth.Outcome(e.Status)
	}
	if err := s.cfg.Auth.Record(r.Context(), e); err != nil {
		s.cfg.Log.Error("audit log write failed", "request_id", RequestID(r.Context()), "action", e.Action, "err", err)
	}
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.authSvc(w, r)
	if !ok {
		return
	}
	p := PrincipalFrom(r.Context())
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		if err := svc.Logout(r.Context(), c.Value); err != nil {
			s.error(w, r, err)
			return
		}
	}
	s.clearCookies(w, r)
	s.record(r, auth.Entry{Action: "logout", Actor: p.Name, Role: string(p.Role), Via: p.Via, Status: http.StatusOK,
		Remote: clientIP(r, s.limits.TrustProxy), RequestID: RequestID(r.Context())})
	if isForm(r) {
		seeOther(w, "../login?signed_out=1")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "signed out"})
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.meOf(PrincipalFrom(r.Context())))
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.authSvc(w, r)
	if !ok {
		return
	}
	var req struct {
		Old string `json:"old"`
		New string `json:"new"`
	}
	if err := decode(r, w, &req); err != nil {
		s.error(w, r, err)
		return
	}
	p := PrincipalFrom(r.Context())
	err := svc.ChangePassword(r.Context(), p.UserID, req.Old, req.New, p.Session)
	if errors.Is(err, auth.ErrBadCredentials) {
		err = errf(http.StatusForbidden, "auth.bad_credentials", "the old password is wrong")
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "password changed; other sessions ended"})
}

func (s *Server) myJobs(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFrom(r.Context())
	jobs := []*repair.Job{}
	if s.cfg.Auth != nil && s.cfg.Jobs != nil {
		ids, err := s.cfg.Auth.AssignedJobs(r.Context(), p.UserID)
		if err != nil {
			s.error(w, r, err)
			return
		}
		now := s.cfg.Now()
		for _, id := range ids {
			jb, err := s.cfg.Jobs.Get(r.Context(), id, now)
			var ge *gis.Error
			if errors.As(err, &ge) && ge.Kind == gis.NotFound {
				continue
			}
			if err != nil {
				s.error(w, r, err)
				return
			}
			jobs = append(jobs, jb)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": jobs})
}

func (s *Server) users(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.authSvc(w, r)
	if !ok {
		return
	}
	us, err := svc.Users(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": us})
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.authSvc(w, r)
	if !ok {
		return
	}
	var req struct {
		auth.NewUser
		NoPassword bool `json:"no_password"` // a machine account: tokens only
	}
	if err := decode(r, w, &req); err != nil {
		s.error(w, r, err)
		return
	}
	generated := ""
	if req.Password == "" && !req.NoPassword {
		generated = auth.GeneratePassword()
		req.Password = generated
	}
	u, err := svc.AddUser(r.Context(), req.NewUser)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/users/"+url.PathEscape(u.Name))
	out := map[string]any{"user": u}
	if generated != "" {
		out["password"] = generated
	}
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.authSvc(w, r)
	if !ok {
		return
	}
	var up auth.UserUpdate
	if err := decode(r, w, &up); err != nil {
		s.error(w, r, err)
		return
	}
	name := mux.Vars(r)["name"]
	if p := PrincipalFrom(r.Context()); p.Name == name && (up.Disabled != nil && *up.Disabled || up.Role != nil && *up.Role != auth.Admin) {
		s.error(w, r, gis.Errorf(gis.Conflict, "user.self", "an administrator cannot disable or demote themselves"))
		return
	}
	u, err := svc.UpdateUser(r.Context(), name, up)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": u})
}

func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.authSvc(w, r)
	if !ok {
		return
	}
	var req struct {
		Password string `json:"password"`
	}
	if r.ContentLength != 0 {
		if err := decode(r, w, &req); err != nil {
			s.error(w, r, err)
			return
		}
	}
	generated := ""
	if req.Password == "" {
		generated = auth.GeneratePassword()
		req.Password = generated
	}
	if err := svc.SetPassword(r.Context(), mux.Vars(r)["name"], req.Password); err != nil {
		s.error(w, r, err)
		return
	}
	out := map[string]any{"status": "password set; the user's sessions ended"}
	if generated != "" {
		out["password"] = generated
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) tokens(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.authSvc(w, r)
	if !ok {
		return
	}
	ts, err := svc.Tokens(r.Context(), r.URL.Query().Get("user"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": ts})
}

func (s *Server) addToken(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.authSvc(w, r)
	if !ok {
		return
	}
	var req struct {
		User        string `json:"user"`
		Label       string `json:"label"`
		ExpiresDays int    `json:"expires_days"`
	}
	if err := decode(r, w, &req); err != nil {
		s.error(w, r, err)
		return
	}
	var exp *time.Time
	if req.ExpiresDays < 0 || req.ExpiresDays > 3660 {
		s.error(w, r, gis.Errorf(gis.Invalid, "token.bad_expiry", "expires_days must be within [0, 3660] (0: no expiry)"))
		return
	}
	if req.ExpiresDays > 0 {
		t := s.cfg.Now().Add(time.Duration(req.ExpiresDays) * 24 * time.Hour)
		exp = &t
	}
	secret, t, err := svc.CreateToken(r.Context(), req.User, req.Label, exp, PrincipalFrom(r.Context()).Name)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/tokens/"+strconv.FormatInt(t.ID, 10))
	writeJSON(w, http.StatusCreated, map[string]any{"token": secret, "info": t})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.authSvc(w, r)
	if !ok {
		return
	}
	t, err := svc.RevokeToken(r.Context(), idVar(r, "id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"info": t})
}

// auditFilter reads GET /api/audit's query.
func auditFilter(r *http.Request) (auth.AuditFilter, error) {
	q := r.URL.Query()
	f := auth.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Outcome: q.Get("outcome"), RequestID: q.Get("request_id")}
	var err error
	if f.From, err = queryTime(r, "from"); err != nil {
		return f, err
	}
	if f.To, err = queryTime(r, "to"); err != nil {
		return f, err
	}
	for name, dst := range map[string]*int64{"before": &f.BeforeID, "limit": nil} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || (dst == nil && n > 1000) {
			return f, gis.Errorf(gis.Invalid, "filter."+name, "%s=%q: give a positive integer (limit at most 1000)", name, v)
		}
		if dst != nil {
			*dst = n
		} else {
			f.Limit = int(n)
		}
	}
	switch f.Outcome {
	case "", "ok", "rejected", "denied", "error":
	default:
		return f, gis.Errorf(gis.Invalid, "filter.outcome", "outcome: ok, rejected, denied or error")
	}
	return f, nil
}

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.authSvc(w, r)
	if !ok {
		return
	}
	f, err := auditFilter(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	es, err := svc.Audit(r.Context(), f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": es})
}

func (s *Server) jobCrew(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.authSvc(w, r)
	if !ok {
		return
	}
	names, err := svc.Crew(r.Context(), idVar(r, "id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"job_id": idVar(r, "id"), "crew": names})
}

func (s *Server) setJobCrew(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.authSvc(w, r)
	if !ok {
		return
	}
	var req struct {
		Crew []string `json:"crew"`
	}
	if err := decode(r, w, &req); err != nil {
		s.error(w, r, err)
		return
	}
	names, err := svc.SetCrew(r.Context(), idVar(r, "id"), req.Crew, PrincipalFrom(r.Context()).Name)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"job_id": idVar(r, "id"), "crew": names})
}
