package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/repair"
)

// repairRoutes adds the repair job API (when Config.Jobs is set):
//
//	POST /api/repair/jobs                              open a job (repair.OpenRequest) → 201 job
//	GET  /api/repair/jobs?status=&district=&kind=&overdue=&limit=&offset=   jobs with their next deadline
//	GET  /api/repair/jobs.geojson?status=…             the same as points for the map
//	GET  /api/repair/jobs/{id}                         the whole job
//	GET  /api/repair/jobs/{id}/timeline                every milestone: due, done, late by
//	POST /api/repair/jobs/{id}/milestones              record one (repair.RecordRequest)
//	GET  /api/repair/jobs/{id}/milestones/{m}/photo    its uploaded photo
//	POST /api/repair/jobs/{id}/failed-valves           a valve failed on site (repair.FailureRequest)
//	POST /api/repair/jobs/{id}/cancel                  {"by", "reason"}
//	GET  /api/repair/jobs/{id}/notice?restore=RFC3339  the shutoff notice
//	GET  /api/repair/escalations?job=&delivery=&unresolved=&since=&limit=
//	GET  /api/repair/report?from=YYYY-MM&to=YYYY-MM[&format=csv]   on-time rates; also /report.csv
//	GET  /api/repair/rules                             the deadline rules in effect
//	GET  /api/repair/calendar                          the holiday calendar's years
//	PUT  /api/repair/calendar                          load a year: {"by", "year": repair.CalendarYear}
//
// Times are RFC 3339 in the utility's zone; the clock is Config.Now.
func (s *Server) repairRoutes(r *mux.Router) {
	if s.cfg.Jobs == nil {
		return
	}
	const job = "/api/repair/jobs/{id:[0-9]+}"
	r.HandleFunc("/api/repair/jobs", s.repairOpen).Methods(http.MethodPost)
	r.HandleFunc("/api/repair/jobs", s.repairList).Methods(http.MethodGet)
	r.HandleFunc("/api/repair/jobs.geojson", s.repairGeoJSON).Methods(http.MethodGet)
	r.HandleFunc(job, s.repairGet).Methods(http.MethodGet)
	r.HandleFunc(job+"/timeline", s.repairTimeline).Methods(http.MethodGet)
	r.HandleFunc(job+"/milestones", s.repairRecord).Methods(http.MethodPost)
	r.HandleFunc(job+"/milestones/{milestone}/photo", s.repairPhoto).Methods(http.MethodGet)
	r.HandleFunc(job+"/failed-valves", s.repairFail).Methods(http.MethodPost)
	r.HandleFunc(job+"/cancel", s.repairCancel).Methods(http.MethodPost)
	r.HandleFunc(job+"/notice", s.repairNotice).Methods(http.MethodGet)
	r.HandleFunc("/api/repair/escalations", s.repairEscalations).Methods(http.MethodGet)
	r.HandleFunc("/api/repair/report", s.repairReport).Methods(http.MethodGet)
	r.HandleFunc("/api/repair/report.csv", s.repairReport).Methods(http.MethodGet)
	r.HandleFunc("/api/repair/rules", s.repairRules).Methods(http.MethodGet)
	r.HandleFunc("/api/repair/calendar", s.repairCalendar).Methods(http.MethodGet)
	r.HandleFunc("/api/repair/calendar", s.repairCalendarLoad).Methods(http.MethodPut)
}

func jobID(r *http.Request) (int64, error) {
	v := mux.Vars(r)["id"]
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, gis.Errorf(gis.Invalid, "job.bad_id", "job id %q is not a number", v)
	}
	return id, nil
}

func (s *Server) repairOpen(w http.ResponseWriter, r *http.Request) {
	var req repair.OpenRequest
	if err := decode(r, w, &req); err != nil {
		s.error(w, r, err)
		return
	}
	jb, err := s.cfg.Jobs.Open(r.Context(), req, s.cfg.Now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/repair/jobs/%d", jb.ID))
	writeJSON(w, http.StatusCreated, jb)
}

// jobFilter reads a list filter from the query: status, district, kind,
// overdue (true/false), limit, offset.
func jobFilter(r *http.Request) (repair.Filter, error) {
	q := r.URL.Query()
	f := repair.Filter{Status: q.Get("status"), District: q.Get("district"), Kind: repair.Kind(q.Get("kind"))}
	var err error
	if v := q.Get("overdue"); v != "" {
		if f.Overdue, err = strconv.ParseBool(v); err != nil {
			return f, gis.Errorf(gis.Invalid, "filter.overdue", "overdue=%q: use true or false", v)
		}
	}
	for name, dst := range map[string]*int{"limit": &f.Limit, "offset": &f.Offset} {
		if v := q.Get(name); v != "" {
			if *dst, err = strconv.Atoi(v); err != nil {
				return f, gis.Errorf(gis.Invalid, "filter.page", "%s=%q is not an integer", name, v)
			}
		}
	}
	return f, nil
}

func (s *Server) repairList(w http.ResponseWriter, r *http.Request) {
	f, err := jobFilter(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	l, err := s.cfg.Jobs.List(r.Context(), f, s.cfg.Now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	redactJobs(r, l.Jobs...)
	writeJSON(w, http.StatusOK, l)
}

// repairGeoJSON serves the listed jobs as points (lon/lat) for the map:
// id, kind, status, district, address, next milestone and due time,
// overdue milestones, whether it holds valves closed.
func (s *Server) repairGeoJSON(w http.ResponseWriter, r *http.Request) {
	f, err := jobFilter(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if r.URL.Query().Get("limit") == "" {
		f.Limit = 1000
	}
	l, err := s.cfg.Jobs.List(r.Context(), f, s.cfg.Now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	features := []map[string]any{}
	for _, jb := range l.Jobs {
		if jb.Leak.Lon == nil || jb.Leak.Lat == nil {
			continue
		}
		props := map[string]any{"id": jb.ID, "kind": jb.Kind, "status": jb.Status, "district": jb.District,
			"address": jb.Order.Address, "pipe": jb.Leak.Pipe, "overdue": jb.Overdue, "holding": jb.Holding}
		if jb.Next != nil {
			props["next"], props["next_due"], props["next_state"] = jb.Next.Milestone, jb.Next.Due, jb.Next.State
		}
		features = append(features, map[string]any{"type": "Feature", "properties": props,
			"geometry": map[string]any{"type": "Point", "coordinates": []float64{*jb.Leak.Lon, *jb.Leak.Lat}}})
	}
	w.Header().Set("Content-Type", "application/geo+json")
	writeJSONBody(w, map[string]any{"type": "FeatureCollection", "features": features})
}

// writeJSONBody writes v with a status of 200 and the content type already
// set by the caller.
func writeJSONBody(w http.ResponseWriter, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func (s *Server) repairGet(w http.ResponseWriter, r *http.Request) {
	id, err := jobID(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	jb, err := s.cfg.Jobs.Get(r.Context(), id, s.cfg.Now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	redactJobs(r, jb)
	writeJSON(w, http.StatusOK, jb)
}

func (s *Server) repairTimeline(w http.ResponseWriter, r *http.Request) {
	id, err := jobID(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	now := s.cfg.Now()
	jb, err := s.cfg.Jobs.Get(r.Context(), id, now)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"job_id": jb.ID, "status": jb.Status, "now": now.In(s.cfg.Jobs.TZ()),
		"next": jb.Next, "overdue": jb.Overdue, "timeline": jb.Timeline})
}

func (s *Server) repairRecord(w http.ResponseWriter, r *http.Request) {
	id, err := jobID(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	var req repair.RecordRequest
	if err := decode(r, w, &req); err != nil {
		s.error(w, r, err)
		return
	}
	res, err := s.cfg.Jobs.Record(r.Context(), id, req, s.cfg.Now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, res)
}

func (s *Server) repairPhoto(w http.ResponseWriter, r *http.Request) {
	id, err := jobID(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	b, ctype, err := s.cfg.Jobs.Photo(r.Context(), id, repair.Milestone(mux.Vars(r)["milestone"]))
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "private, max-age=86400") // a recorded milestone never changes
	w.Write(b)                                                //nolint:errcheck
}

func (s *Server) repairFail(w http.ResponseWriter, r *http.Request) {
	id, err := jobID(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	var req repair.FailureRequest
	if err := decode(r, w, &req); err != nil {
		s.error(w, r, err)
		return
	}
	jb, err := s.cfg.Jobs.FailValve(r.Context(), id, req, s.cfg.Now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, jb)
}

func (s *Server) repairCancel(w http.ResponseWriter, r *http.Request) {
	id, err := jobID(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	var req struct {
		By     string `json:"by"`
		Reason string `json:"reason"`
	}
	if err := decode(r, w, &req); err != nil {
		s.error(w, r, err)
		return
	}
	jb, err := s.cfg.Jobs.Cancel(r.Context(), id, req.By, req.Reason, s.cfg.Now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, jb)
}

// queryTime reads an RFC 3339 time parameter; "" gives the zero time.
func queryTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, gis.Errorf(gis.Invalid, "time.bad", "%s=%q is not an RFC 3339 time (2026-03-10T14:00:00+08:00)", name, v)
	}
	return t, nil
}

func (s *Server) repairNotice(w http.ResponseWriter, r *http.Request) {
	id, err := jobID(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	restore, err := queryTime(r, "restore")
	if err != nil {
		s.error(w, r, err)
		return
	}
	n, err := s.cfg.Jobs.JobNotice(r.Context(), id, restore, s.cfg.Now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, n)
}

func (s *Server) repairEscalations(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := repair.EscalationFilter{Delivery: q.Get("delivery")}
	var err error
	if v := q.Get("job"); v != "" {
		if f.JobID, err = strconv.ParseInt(v, 10, 64); err != nil {
			s.error(w, r, gis.Errorf(gis.Invalid, "filter.job", "job=%q is not a job id", v))
			return
		}
	}
	if v := q.Get("unresolved"); v != "" {
		if f.Unresolved, err = strconv.ParseBool(v); err != nil {
			s.error(w, r, gis.Errorf(gis.Invalid, "filter.unresolved", "unresolved=%q: use true or false", v))
			return
		}
	}
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > 1000 {
			s.error(w, r, gis.Errorf(gis.Invalid, "filter.page", "limit must be an integer within [1, 1000]"))
			return
		}
	}
	if f.Since, err = queryTime(r, "since"); err != nil {
		s.error(w, r, err)
		return
	}
	es, err := s.cfg.Jobs.Escalations(r.Context(), f)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"escalations": es})
}

func (s *Server) repairReport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rep, err := s.cfg.Jobs.Report(r.Context(), q.Get("from"), q.Get("to"), s.cfg.Now())
	if err != nil {
		s.error(w, r, err)
		return
	}
	if q.Get("format") != "csv" && r.URL.Path != "/api/repair/report.csv" {
		writeJSON(w, http.StatusOK, rep)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="repair-on-time-%s-%s.csv"`, rep.From, rep.To))
	if err := rep.WriteCSV(w); err != nil {
		s.cfg.Log.Warn("csv write", "err", err)
	}
}

func (s *Server) repairRules(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"rules": s.cfg.Jobs.Rules(), "time_zone": s.cfg.Jobs.TZ().String(),
		"milestones": map[string]any{"emergency": repair.Milestones(repair.Emergency), "planned": repair.Milestones(repair.Planned)}})
}

func (s *Server) repairCalendar(w http.ResponseWriter, r *http.Request) {
	cal, err := s.cfg.Jobs.Calendar(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"calendar": cal.Name(), "years": cal.Years()})
}

func (s *Server) repairCalendarLoad(w http.ResponseWriter, r *http.Request) {
	var req struct {
		By   string              `json:"by"`
		Year repair.CalendarYear `json:"year"`
	}
	if err := decode(r, w, &req); err != nil {
		s.error(w, r, err)
		return
	}
	if err := s.cfg.Jobs.LoadCalendarYear(r.Context(), req.Year, req.By); err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"loaded": fmt.Sprintf("%s %d", req.Year.Calendar, req.Year.Year)})
}
