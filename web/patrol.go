package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/patrol"
	"github.com/waterline-gis/waterline/patrol/rpp"
	"github.com/waterline-gis/waterline/patrol/schedule"
)

// patrolRoutes adds the patrol API (all under /api/patrol/):
//
//	GET  rules                              the patrol rules in force
//	GET  districts                          patrol settings of every district
//	PUT  districts/{id}                     replace a district's settings (office, managers, mode, capacity_km)
//	POST plan                               plan a day {date, district, start:{lon,lat}, managers, save}
//	GET  routes?date=&district=             the day's stored routes
//	GET  routes/{id}                        a route with its steps
//	GET  routes/{id}.geojson | .gpx         the route as a map layer / for a phone
//	GET  status?date=&district=             each pipe's due status (map colouring)
//	GET  coverage?date=&district=&manager=&route=   a day's coverage and missed pipes
//	POST tracks?district=&manager=&route=   upload a GPS track (GPX or GeoJSON, raw or multipart "file")
//	GET  tracks?date=&district=             the day's tracks
//	GET  tracks/{id}                        a track and what it covered
//	POST anomalies                          report an anomaly (JSON)
//	GET  anomalies?from=&to=&district=&type=
//	GET  anomalies/{id}
//	POST anomalies/{id}/photos              add a photo (raw image, or multipart "photo")
//	GET  anomalies/{id}/photos/{photo}
//	GET  reports/{coverage|overdue|anomalies}?from=&to=&date=&by=&group=&district=&format=csv
//	POST rpp?time_limit_ms=                 solve an RPP instance in Corberán's format
//
// Dates are YYYY-MM-DD in the utility's zone (default: today).
func (s *Server) patrolRoutes(r *mux.Router) {
	p := r.PathPrefix("/api/patrol").Subrouter()
	p.HandleFunc("/rules", s.patrolRules).Methods(http.MethodGet)
	p.HandleFunc("/districts", s.patrolDistricts).Methods(http.MethodGet)
	p.HandleFunc("/districts/{id}", s.patrolSetDistrict).Methods(http.MethodPut)
	p.HandleFunc("/plan", s.patrolPlan).Methods(http.MethodPost)
	p.HandleFunc("/routes", s.patrolRouteList).Methods(http.MethodGet)
	p.HandleFunc("/routes/{id:[0-9]+}", s.patrolRoute).Methods(http.MethodGet)
	p.HandleFunc("/routes/{id:[0-9]+}.geojson", s.patrolRouteGeoJSON).Methods(http.MethodGet)
	p.HandleFunc("/routes/{id:[0-9]+}.gpx", s.patrolRouteGPX).Methods(http.MethodGet)
	p.HandleFunc("/status", s.patrolStatus).Methods(http.MethodGet)
	p.HandleFunc("/coverage", s.patrolCoverage).Methods(http.MethodGet)
	p.HandleFunc("/tracks", s.patrolUpload).Methods(http.MethodPost)
	p.HandleFunc("/tracks", s.patrolTracks).Methods(http.MethodGet)
	p.HandleFunc("/tracks/{id:[0-9]+}", s.patrolTrack).Methods(http.MethodGet)
	p.HandleFunc("/anomalies", s.patrolReportAnomaly).Methods(http.MethodPost)
	p.HandleFunc("/anomalies", s.patrolAnomalies).Methods(http.MethodGet)
	p.HandleFunc("/anomalies/{id:[0-9]+}", s.patrolAnomaly).Methods(http.MethodGet)
	p.HandleFunc("/anomalies/{id:[0-9]+}/photos", s.patrolAddPhoto).Methods(http.MethodPost)
	p.HandleFunc("/anomalies/{id:[0-9]+}/photos/{photo:[0-9]+}", s.patrolPhoto).Methods(http.MethodGet)
	p.HandleFunc("/reports/{kind}", s.patrolReport).Methods(http.MethodGet)
	p.HandleFunc("/rpp", s.patrolRPP).Methods(http.MethodPost)
}

// patrolSvc returns the patrol service, or answers 503 when the server has
// none.
func (s *Server) patrolSvc(w http.ResponseWriter, r *http.Request) (*patrol.Service, bool) {
	if s.cfg.Patrol == nil {
		s.error(w, r, gis.Errorf(gis.Unavailable, "patrol.unavailable", "patrol planning is not configured on this server"))
		return nil, false
	}
	return s.cfg.Patrol, true
}

func idVar(r *http.Request, name string) int64 {
	id, _ := strconv.ParseInt(mux.Vars(r)[name], 10, 64) // the route pattern admits digits only
	return id
}

// dayParam reads a YYYY-MM-DD query parameter (default: def).
func dayParam(r *http.Request, name string, def schedule.Day) (schedule.Day, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	d, err := schedule.ParseDay(v)
	if err != nil {
		return 0, gis.Errorf(gis.Invalid, "date.bad", "%s=%q is not a date YYYY-MM-DD", name, v)
	}
	return d, nil
}

func (s *Server) patrolRules(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.patrolSvc(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": svc.Rules(), "time_zone": svc.TZ().String(), "anomaly_types": patrol.AnomalyTypes()})
}

func (s *Server) patrolDistricts(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.patrolSvc(w, r)
	if !ok {
		return
	}
	ds, err := svc.Districts(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"districts": ds})
}

func (s *Server) patrolSetDistrict(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.patrolSvc(w, r)
	if !ok {
		return
	}
	var u patrol.DistrictUpdate
	if err := decode(r, w, &u); err != nil {
		s.error(w, r, err)
		return
	}
	d, err := svc.SetDistrict(r.Context(), mux.Vars(r)["id"], u)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// patrolPlan plans a day; with "save" it replaces the stored plan of the
// district (or of every district).
func (s *Server) patrolPlan(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.patrolSvc(w, r)
	if !ok {
		return
	}
	var req struct {
		Date     string `json:"date"`
		District string `json:"district"`
		Start    *struct {
			Lon float64 `json:"lon"`
			Lat float64 `json:"lat"`
		} `json:"start"`
		Managers int  `json:"managers"`
		Save     bool `json:"save"`
	}
	if err := decode(r, w, &req); err != nil {
		s.error(w, r, err)
		return
	}
	day := svc.Today()
	if req.Date != "" {
		d, err := schedule.ParseDay(req.Date)
		if err != nil {
			s.error(w, r, gis.Errorf(gis.Invalid, "date.bad", "date %q is not a date YYYY-MM-DD", req.Date))
			return
		}
		day = d
	}
	opt := patrol.PlanOptions{Day: day, District: req.District, Managers: req.Managers, Save: req.Save, Force: req.Save}
	if req.Start != nil {
		opt.StartLonLat = &[2]float64{req.Start.Lon, req.Start.Lat}
	}
	p, err := svc.Plan(r.Context(), opt)
	if errors.Is(err, patrol.ErrPlanned) {
		err = gis.Errorf(gis.Conflict, "plan.running", "the day is being planned right now; try again shortly")
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) patrolRouteList(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.patrolSvc(w, r)
	if !ok {
		return
	}
	day, err := dayParam(r, "date", svc.Today())
	if err != nil {
		s.error(w, r, err)
		return
	}
	rs, err := svc.Routes(r.Context(), day, r.URL.Query().Get("district"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"date": day.String(), "routes": rs})
}

func (s *Server) patrolRoute(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.patrolSvc(w, r)
	if !ok {
		return
	}
	v, err := svc.Route(r.Context(), idVar(r, "id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// writeBuffered renders into memory first, so a failure still gets a
// proper error response.
func (s *Server) writeBuffered(w http.ResponseWriter, r *http.Request, ctype, filename string, render func(io.Writer) error) {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ctype)
	if filename != "" {
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	}
	w.Write(buf.Bytes()) //nolint:errcheck
}

func (s *Server) patrolRouteGeoJSON(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.patrolSvc(w, r)
	if !ok {
		return
	}
	v, err := svc.Route(r.Context(), idVar(r, "id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.writeBuffered(w, r, "application/geo+json", "", func(out io.Writer) error { return svc.WriteGeoJSON(r.Context(), out, v) })
}

func (s *Server) patrolRouteGPX(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.patrolSvc(w, r)
	if !ok {
		return
	}
	v, err := svc.Route(r.Context(), idVar(r, "id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	name := fmt.Sprintf("patrol-%s-%s-%d.gpx", v.Date, v.District, v.Index)
	s.writeBuffered(w, r, "application/gpx+xml", name, func(out io.Writer) error { return svc.WriteGPX(r.Context(), out, v) })
}

func (s *Server) patrolStatus(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.patrolSvc(w, r)
	if !ok {
		return
	}
	day, err := dayParam(r, "date", svc.Today())
	if err != nil {
		s.error(w, r, err)
		return
	}
	st, err := svc.Status(r.Context(), day, r.URL.Query().Get("district"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) patrolCoverage(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.patrolSvc(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	day, err := dayParam(r, "date", svc.Today())
	if err != nil {
		s.error(w, r, err)
		return
	}
	cq := patrol.CoverageQuery{Day: day, District: q.Get("district"), Manager: q.Get("manager")}
	if v := q.Get("route"); v != "" {
		if cq.RouteID, err = strconv.ParseInt(v, 10, 64); err != nil || cq.RouteID <= 0 {
			s.error(w, r, gis.Errorf(gis.Invalid, "route.bad_id", "route=%q is not a route id", v))
			return
		}
	}
	cv, err := svc.Coverage(r.Context(), cq)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, cv)
}

// upload returns the uploaded file: the body, or the named part of a
// multipart form.
func upload(r *http.Request, field string) (io.Reader, string, error) {
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		return r.Body, r.Header.Get("Content-Type"), nil
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, "", gis.Errorf(gis.Invalid, "upload.no_file", "the form has no %q file", field)
		}
		if err != nil {
			return nil, "", gis.Errorf(gis.Invalid, "upload.bad_form", "the multipart form cannot be read: %v", err)
		}
		if part.FormName() == field || part.FileName() != "" {
			return part, part.Header.Get("Content-Type"), nil
		}
	}
}

func (s *Server) patrolUpload(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.patrolSvc(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	up := patrol.TrackUpload{District: q.Get("district"), Manager: q.Get("manager")}
	if v := q.Get("route"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			s.error(w, r, gis.Errorf(gis.Invalid, "route.bad_id", "route=%q is not a route id", v))
			return
		}
		up.RouteID = id
	}
	body, _, err := upload(r, "file")
	if err != nil {
		s.error(w, r, err)
		return
	}
	up.Body = body
	res, err := svc.UploadTrack(r.Context(), up)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, res)
}

func (s *Server) patrolTracks(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.patrolSvc(w, r)
	if !ok {
		return
	}
	day, err := dayParam(r, "date", svc.Today())
	if err != nil {
		s.error(w, r, err)
		return
	}
	ts, err := svc.Tracks(r.Context(), day, r.URL.Query().Get("district"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"date": day.String(), "tracks": ts})
}

func (s *Server) patrolTrack(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.patrolSvc(w, r)
	if !ok {
		return
	}
	t, err := svc.Track(r.Context(), idVar(r, "id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) patrolReportAnomaly(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.patrolSvc(w, r)
	if !ok {
		return
	}
	var in patrol.AnomalyInput
	if err := decode(r, w, &in); err != nil {
		s.error(w, r, err)
		return
	}
	a, err := svc.ReportAnomaly(r.Context(), in)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

// timeParam reads a date (the start of that day in the utility's zone)
// or an RFC 3339 time; end moves a date to the start of the next day.
func timeParam(r *http.Request, name string, loc *time.Location, end bool) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := schedule.ParseDay(v); err == nil {
		if end {
			d++
		}
		return d.Start(loc), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, gis.Errorf(gis.Invalid, "time.bad", "%s=%q is neither a date YYYY-MM-DD nor an RFC 3339 time", name, v)
	}
	return t, nil
}

func (s *Server) patrolAnomalies(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.patrolSvc(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	f := patrol.AnomalyFilter{District: q.Get("district"), Type: q.Get("type")}
	var err error
	if f.From, err = timeParam(r, "from", svc.TZ(), false); err == nil {
		f.To, err = timeParam(r, "to", svc.TZ(), true)
	}
	if err == nil && q.Get("limit") != "" {
		if f.Limit, err = strconv.Atoi(q.Get("limit")); err != nil || f.Limit < 1 || f.Limit > 10000 {
			err = gis.Errorf(gis.Invalid, "limit.bad", "limit must be an integer within [1, 10000]")
		}
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	as, err := svc.Anomalies(r.Context(), f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"anomalies": as})
}

func (s *Server) patrolAnomaly(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.patrolSvc(w, r)
	if !ok {
		return
	}
	a, err := svc.Anomaly(r.Context(), idVar(r, "id"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) patrolAddPhoto(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.patrolSvc(w, r)
	if !ok {
		return
	}
	body, ctype, err := upload(r, "photo")
	if err != nil {
		s.error(w, r, err)
		return
	}
	p, err := svc.AddPhoto(r.Context(), idVar(r, "id"), ctype, body)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, p)
}

func (s *Server) patrolPhoto(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.patrolSvc(w, r)
	if !ok {
		return
	}
	b, ct, err := svc.PhotoData(r.Context(), idVar(r, "id"), idVar(r, "photo"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "private, max-age=86400")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(b) //nolint:errcheck
}

// patrolReport serves reports/{coverage|overdue|anomalies} as JSON or CSV
// (format=csv, or Accept: text/csv).
func (s *Server) patrolReport(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.patrolSvc(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	today := svc.Today()
	kind := mux.Vars(r)["kind"]
	var rep *patrol.Report
	var err error
	switch kind {
	case "coverage", "anomalies":
		rq := patrol.ReportQuery{By: q.Get("by"), Group: q.Get("group"), District: q.Get("district")}
		if rq.To, err = dayParam(r, "to", today); err == nil {
			rq.From, err = dayParam(r, "from", rq.To-6)
		}
		if err == nil {
			if kind == "coverage" {
				rep, err = svc.CoverageReport(r.Context(), rq)
			} else {
				rep, err = svc.AnomalyReport(r.Context(), rq)
			}
		}
	case "overdue":
		var day schedule.Day
		if day, err = dayParam(r, "date", today); err == nil {
			rep, err = svc.OverdueReport(r.Context(), day, q.Get("district"))
		}
	default:
		err = gis.Errorf(gis.NotFound, "report.unknown", "there is no report %q (coverage, overdue, anomalies)", kind)
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	format := q.Get("format")
	if format == "" && strings.Contains(r.Header.Get("Accept"), "text/csv") {
		format = "csv"
	}
	switch format {
	case "", "json":
		writeJSON(w, http.StatusOK, rep)
	case "csv":
		name := fmt.Sprintf("patrol-%s-%s-%s.csv", rep.Kind, rep.From, rep.To)
		s.writeBuffered(w, r, "text/csv; charset=utf-8", name, func(out io.Writer) error { return writeReportCSV(out, rep) })
	default:
		s.error(w, r, gis.Errorf(gis.Invalid, "format.bad", "format must be json or csv"))
	}
}

// writeReportCSV writes a report for Excel: UTF-8 with a byte-order mark,
// one column per report column.
func writeReportCSV(w io.Writer, rep *patrol.Report) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(rep.Columns); err != nil {
		return err
	}
	row := make([]string, len(rep.Columns))
	for _, rr := range rep.Rows {
		for i, c := range rep.Columns {
			switch v := rr[c].(type) {
			case nil:
				row[i] = ""
			case float64:
				row[i] = strconv.FormatFloat(v, 'f', -1, 64)
			case string:
				row[i] = inert(v)
			default:
				row[i] = inert(fmt.Sprint(v))
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// rppResult is one solved instance.
type rppResult struct {
	Name       string  `json:"name"`
	Vertices   int     `json:"vertices"`
	Required   int     `json:"required_edges"`
	Edges      int     `json:"edges"`
	Cost       float64 `json:"cost"`
	LowerBound float64 `json:"lower_bound"`
	Gap        float64 `json:"gap"` // (cost - bound) / bound
	MS         float64 `json:"ms"`
	Tour       []int   `json:"tour"` // 1-based vertices, first = last
}

// patrolRPP solves an undirected RPP instance posted in Corberán's format.
func (s *Server) patrolRPP(w http.ResponseWriter, r *http.Request) {
	limit := rpp.DefaultTimeLimit
	if v := r.URL.Query().Get("time_limit_ms"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 10000 {
			s.error(w, r, gis.Errorf(gis.Invalid, "rpp.bad_time_limit", "time_limit_ms must be an integer within [0, 10000]"))
			return
		}
		limit = time.Duration(n) * time.Millisecond
	}
	body := http.MaxBytesReader(w, r.Body, maxBody)
	g, name, err := rpp.ReadCorberan(body, "instance")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.error(w, r, gis.Errorf(gis.Invalid, "body.too_large", "the instance is larger than %d bytes", maxBody))
			return
		}
		s.error(w, r, gis.Errorf(gis.Invalid, "rpp.bad_instance", "%v", err))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	t0 := time.Now()
	sol, err := rpp.Solve(ctx, g, rpp.Options{Depot: -1, TimeLimit: limit})
	el := time.Since(t0)
	if errors.Is(err, rpp.ErrInfeasible) {
		s.error(w, r, gis.Errorf(gis.Invalid, "rpp.infeasible", "%v", err))
		return
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	res := rppResult{Name: name, Vertices: g.N, Edges: len(g.Edges), Cost: sol.Cost, LowerBound: sol.LowerBound,
		MS: math.Round(float64(el.Microseconds())/10) / 100, Tour: make([]int, len(sol.Walk))}
	for _, e := range g.Edges {
		if e.Required {
			res.Required++
		}
	}
	if sol.LowerBound > 0 {
		res.Gap = math.Round((sol.Cost-sol.LowerBound)/sol.LowerBound*1e6) / 1e6
	}
	for i, v := range sol.Walk {
		res.Tour[i] = v + 1
	}
	writeJSON(w, http.StatusOK, res)
}
