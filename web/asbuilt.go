package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/asbuilt"
	"github.com/waterline-gis/waterline/gis/store"
)

// asbuiltRoutes adds the as-built survey import API (issue 6):
//
//	POST /api/asbuilt/batches                    upload (multipart: file, project, contractor, survey_date, crs, mapping; or the raw file with ?file=…&project=…) → 201 batch; 422 with the failed batch when the file cannot be used
//	GET  /api/asbuilt/batches?status=&limit=     batches, newest first
//	GET  /api/asbuilt/batches/{id}               a batch: status, issues (source rows, lon/lat), summary, changes
//	GET  /api/asbuilt/batches/{id}/preview       GeoJSON (lon/lat) of what is added, changed, split, removed, and every issue
//	POST /api/asbuilt/batches/{id}/validate      validate again against the network as it is now
//	POST /api/asbuilt/batches/{id}/approve       {"acknowledge_warnings": true} — not by the uploader (403)
//	POST /api/asbuilt/batches/{id}/reject        {"reason": "…"}
//	POST /api/asbuilt/batches/{id}/commit        → 200 batch; 409 network.changed when the network moved since the preview
//	POST /api/asbuilt/batches/{id}/rollback      → 201 the compensating batch (to approve and commit)
//	GET  /api/asbuilt/crs                        registered local coordinate systems
//	PUT  /api/asbuilt/crs/{name}                 {"proj": "+proj=…", "description": "…"}
//	GET  /api/network/history?pipe=ID            a pipe's life (also valve=, hydrant=)
//
// Who acts is requestUser's answer.
func (s *Server) asbuiltRoutes(r *mux.Router) {
	if s.cfg.Store == nil {
		return
	}
	const b = "/api/asbuilt/batches/{id:[0-9]+}"
	r.HandleFunc("/api/asbuilt/batches", s.asbuiltUpload).Methods(http.MethodPost)
	r.HandleFunc("/api/asbuilt/batches", s.asbuiltList).Methods(http.MethodGet)
	r.HandleFunc(b, s.asbuiltGet).Methods(http.MethodGet)
	r.HandleFunc(b+"/preview", s.asbuiltPreview).Methods(http.MethodGet)
	r.HandleFunc(b+"/validate", s.asbuiltAction("validate")).Methods(http.MethodPost)
	r.HandleFunc(b+"/approve", s.asbuiltAction("approve")).Methods(http.MethodPost)
	r.HandleFunc(b+"/reject", s.asbuiltAction("reject")).Methods(http.MethodPost)
	r.HandleFunc(b+"/commit", s.asbuiltAction("commit")).Methods(http.MethodPost)
	r.HandleFunc(b+"/rollback", s.asbuiltAction("rollback")).Methods(http.MethodPost)
	r.HandleFunc("/api/asbuilt/crs", s.asbuiltCRSList).Methods(http.MethodGet)
	r.HandleFunc("/api/asbuilt/crs/{name}", s.asbuiltCRSPut).Methods(http.MethodPut)
	r.HandleFunc("/api/network/history", s.networkHistory).Methods(http.MethodGet)
}

// UserHeader names the acting user until authentication replaces it.
const UserHeader = "X-Waterline-User"

// requestUser is who makes the request: the X-Waterline-User header, else
// the name the request body or form gives. It is the one place to swap for
// the authenticated user.
func requestUser(r *http.Request, given string) string {
	if u := strings.TrimSpace(r.Header.Get(UserHeader)); u != "" {
		return u
	}
	return strings.TrimSpace(given)
}

// asbuiltError is s.error, with the four-eyes rule answered 403.
func (s *Server) asbuiltError(w http.ResponseWriter, r *http.Request, err error) {
	var ge *gis.Error
	if errors.As(err, &ge) && ge.Code == store.ErrSelfApproval {
		writeJSON(w, http.StatusForbidden, errBody(ge.Code, ge.Msg))
		return
	}
	s.error(w, r, err)
}

func batchID(r *http.Request) (int64, error) {
	v := mux.Vars(r)["id"]
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, gis.Errorf(gis.Invalid, "batch.bad_id", "batch id %q is not a number", v)
	}
	return id, nil
}

func (s *Server) uploadLimit() int64 { return s.cfg.Store.UploadLimit() }

// asbuiltUpload takes a multipart form (part "file" and the fields) or the
// raw file with the fields as query parameters. The file is read up to the
// limit and one byte more, so an oversized upload costs no more than that
// and still leaves a failed batch saying why.
func (s *Server) asbuiltUpload(w http.ResponseWriter, r *http.Request) {
	limit := s.uploadLimit()
	req := store.UploadRequest{}
	var data []byte
	var mapping []byte
	field := func(name, v string) {
		switch name {
		case "project":
			req.Project = v
		case "contractor":
			req.Contractor = v
		case "survey_date":
			req.SurveyDate = v
		case "crs":
			req.CRS = v
		case "by":
			req.By = v
		case "file":
			req.File = v
		case "mapping":
			mapping = []byte(v)
		}
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		mr, err := r.MultipartReader()
		if err != nil {
			s.error(w, r, gis.Errorf(gis.Invalid, "upload.bad_form", "the multipart form cannot be read: %v", err))
			return
		}
		got := false
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				s.error(w, r, gis.Errorf(gis.Invalid, "upload.bad_form", "the multipart form cannot be read: %v", err))
				return
			}
			name := p.FormName()
			if name == "file" {
				req.File = p.FileName()
				data, err = io.ReadAll(io.LimitReader(p, limit+1))
				if err != nil {
					s.error(w, r, gis.Errorf(gis.Invalid, "upload.truncated", "the upload was cut off: %v", err))
					return
				}
				got = true
			} else if name == "mapping" {
				mapping, err = io.ReadAll(io.LimitReader(p, 1<<20))
				if err != nil {
					s.error(w, r, gis.Errorf(gis.Invalid, "upload.truncated", "the upload was cut off: %v", err))
					return
				}
			} else {
				v, err := io.ReadAll(io.LimitReader(p, 64<<10))
				if err != nil {
					s.error(w, r, gis.Errorf(gis.Invalid, "upload.truncated", "the upload was cut off: %v", err))
					return
				}
				field(name, string(v))
			}
			p.Close()
		}
		if !got {
			s.error(w, r, gis.Errorf(gis.Invalid, "upload.no_file", "the form has no part named file"))
			return
		}
	} else {
		q := r.URL.Query()
		for _, k := range []string{"project", "contractor", "survey_date", "crs", "by", "file", "mapping"} {
			if v := q.Get(k); v != "" {
				field(k, v)
			}
		}
		var err error
		data, err = io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil {
			s.error(w, r, gis.Errorf(gis.Invalid, "upload.truncated", "the upload was cut off: %v", err))
			return
		}
	}
	req.By = requestUser(r, req.By)
	if len(mapping) > 0 {
		m, err := asbuilt.ParseMapping(mapping)
		if err != nil {
			var ae *asbuilt.Error
			if errors.As(err, &ae) {
				s.error(w, r, gis.Errorf(gis.Invalid, ae.Issues[0].Code, "%s", ae.Issues[0].Msg))
				return
			}
			s.error(w, r, err)
			return
		}
		req.Mapping = m
	}
	b, err := s.cfg.Store.Upload(r.Context(), req, data)
	if err != nil {
		s.asbuiltError(w, r, err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/asbuilt/batches/%d", b.ID))
	if b.Status == store.BatchFailed {
		code, msg := "batch.failed", b.Failure
		for _, i := range b.Issues {
			if i.Severity == asbuilt.SevError {
				code, msg = i.Code, i.Msg
				break
			}
		}
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": map[string]string{"code": code, "message": msg}, "batch": b})
		return
	}
	writeJSON(w, http.StatusCreated, b)
}

func (s *Server) asbuiltList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 100
	if v := q.Get("limit"); v != "" {
		k, err := strconv.Atoi(v)
		if err != nil || k < 1 || k > 1000 {
			s.error(w, r, gis.Errorf(gis.Invalid, "limit.bad", "limit must be an integer within [1, 1000]"))
			return
		}
		limit = k
	}
	list, err := s.cfg.Store.Batches(r.Context(), q.Get("status"), limit)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"batches": list})
}

func (s *Server) asbuiltGet(w http.ResponseWriter, r *http.Request) {
	id, err := batchID(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	b, err := s.cfg.Store.Batch(r.Context(), id)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}

func (s *Server) asbuiltPreview(w http.ResponseWriter, r *http.Request) {
	id, err := batchID(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	p, err := s.cfg.Store.Preview(r.Context(), id)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	w.Write(p) //nolint:errcheck
}

// asbuiltAction runs one step of the workflow on a batch; the body is
// {"by", "acknowledge_warnings", "reason"} (all optional; by when no
// header names the user).
func (s *Server) asbuiltAction(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := batchID(r)
		if err != nil {
			s.error(w, r, err)
			return
		}
		var req struct {
			By          string `json:"by"`
			Acknowledge bool   `json:"acknowledge_warnings"`
			Reason      string `json:"reason"`
		}
		if r.ContentLength != 0 {
			if err := decode(r, w, &req); err != nil {
				s.error(w, r, err)
				return
			}
		}
		by := requestUser(r, req.By)
		ctx := r.Context()
		st := s.cfg.Store
		var b *store.Batch
		status := http.StatusOK
		switch action {
		case "validate":
			b, err = st.Revalidate(ctx, id, by)
		case "approve":
			b, err = st.Approve(ctx, id, by, req.Acknowledge)
		case "reject":
			b, err = st.Reject(ctx, id, by, req.Reason)
		case "commit":
			b, err = st.Commit(ctx, id, by)
			if err == nil && s.cfg.Live != nil {
				if e := s.cfg.Live.Reload(ctx); e != nil {
					s.cfg.Log.Warn("reload after commit", "batch", id, "err", e)
				}
			}
		case "rollback":
			b, err = st.Rollback(ctx, id, by)
			status = http.StatusCreated
			if b != nil {
				w.Header().Set("Location", fmt.Sprintf("/api/asbuilt/batches/%d", b.ID))
			}
		}
		if err != nil {
			s.asbuiltError(w, r, err)
			return
		}
		writeJSON(w, status, b)
	}
}

func (s *Server) asbuiltCRSList(w http.ResponseWriter, r *http.Request) {
	list, err := s.cfg.Store.LocalCRSs(r.Context())
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"crs": list})
}

func (s *Server) asbuiltCRSPut(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Proj        string `json:"proj"`
		Description string `json:"description"`
		By          string `json:"by"`
	}
	if err := decode(r, w, &req); err != nil {
		s.error(w, r, err)
		return
	}
	c, err := s.cfg.Store.RegisterCRS(r.Context(), mux.Vars(r)["name"], req.Proj, req.Description, requestUser(r, req.By))
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) networkHistory(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for _, kind := range []string{gis.KindPipe, gis.KindValve, gis.KindHydrant, gis.KindSource, gis.KindConnection, gis.KindCustomer} {
		if id := q.Get(kind); id != "" {
			h, err := s.cfg.Store.History(r.Context(), kind, id)
			if err != nil {
				s.error(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, h)
			return
		}
	}
	s.error(w, r, gis.Errorf(gis.Invalid, "history.no_feature", "name the feature: ?pipe=ID (or valve=, hydrant=)"))
}
