package store

// The as-built survey workflow (issue 6): a delivery is uploaded into a
// batch, read and staged (transformed into the storage CRS), validated
// against the live network and previewed; a second user approves it; the
// commit applies it in one transaction under the network write lock,
// provided the network is still the version it was validated against, and
// writes the previous version of every row it changes into
// network_history, tagged with the batch. A committed batch is rolled back
// by a compensating batch that goes through the same approval and commit.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/asbuilt"
	"github.com/waterline-gis/waterline/gis/netjson"
)

// Batch statuses.
const (
	BatchReceived  = "received"  // uploaded, being read
	BatchFailed    = "failed"    // the file cannot be used (see Issues, Failure)
	BatchInvalid   = "invalid"   // read, but validation found errors: it cannot be approved
	BatchReady     = "ready"     // validated without errors: waiting for approval
	BatchApproved  = "approved"  // approved by a second user: can be committed
	BatchRejected  = "rejected"  // rejected by a reviewer
	BatchCommitted = "committed" // applied to the live network
)

// UploadRequest is a delivery and what the uploader says about it.
type UploadRequest struct {
	File       string           `json:"file"`
	Project    string           `json:"project"`
	Contractor string           `json:"contractor"`
	SurveyDate string           `json:"survey_date"` // YYYY-MM-DD
	By         string           `json:"by"`
	CRS        string           `json:"crs,omitempty"` // EPSG:N, local:NAME, a PROJ string; empty: detect
	Mapping    *asbuilt.Mapping `json:"mapping,omitempty"`
}

// batchOptions are kept with the batch to read it again the same way.
type batchOptions struct {
	CRS     string           `json:"crs,omitempty"`
	Mapping *asbuilt.Mapping `json:"mapping,omitempty"`
	Remove  []string         `json:"remove,omitempty"` // a compensating batch: live features to take out
}

// Batch is an import batch as the API shows it.
type Batch struct {
	ID           int64            `json:"id"`
	Status       string           `json:"status"`
	Project      string           `json:"project"`
	Contractor   string           `json:"contractor"`
	SurveyDate   string           `json:"survey_date,omitempty"`
	UploadedBy   string           `json:"uploaded_by"`
	UploadedAt   time.Time        `json:"uploaded_at"`
	File         string           `json:"file"`
	Format       string           `json:"format"`
	SizeBytes    int64            `json:"size_bytes"`
	SHA256       string           `json:"sha256"`
	SourceCRS    string           `json:"source_crs"`
	Errors       int              `json:"errors"`
	Warnings     int              `json:"warnings"`
	Issues       []asbuilt.Issue  `json:"issues,omitempty"`
	Summary      map[string]any   `json:"summary,omitempty"`
	Changes      []asbuilt.Change `json:"changes,omitempty"`
	BaseVersion  *int64           `json:"base_version,omitempty"`
	ValidatedAt  *time.Time       `json:"validated_at,omitempty"`
	ApprovedBy   string           `json:"approved_by,omitempty"`
	ApprovedAt   *time.Time       `json:"approved_at,omitempty"`
	Acknowledged bool             `json:"warnings_acknowledged"`
	RejectedBy   string           `json:"rejected_by,omitempty"`
	RejectedAt   *time.Time       `json:"rejected_at,omitempty"`
	Reason       string           `json:"reason,omitempty"`
	CommittedBy  string           `json:"committed_by,omitempty"`
	CommittedAt  *time.Time       `json:"committed_at,omitempty"`
	Version      *int64           `json:"version,omitempty"`
	RollbackOf   *int64           `json:"rollback_of,omitempty"`
	RolledBackBy *int64           `json:"rolled_back_by,omitempty"`
	Failure      string           `json:"failure,omitempty"`
}

// AsbuiltOptions tunes the workflow. Zero values take the defaults.
type AsbuiltOptions struct {
	Limits  asbuilt.Limits
	OGR2OGR string
	// AreaMargin widens the live network's extent when judging whether a
	// survey is plausibly in the deployment's area (metres; default 5 km).
	AreaMargin float64
}

// SetAsbuiltOptions sets the workflow's options (call before use).
func (s *Store) SetAsbuiltOptions(o AsbuiltOptions) { s.abOpt = o }

// UploadLimit is the largest delivery accepted, in bytes.
func (s *Store) UploadLimit() int64 {
	if s.abOpt.Limits.MaxBytes > 0 {
		return s.abOpt.Limits.MaxBytes
	}
	return asbuilt.DefaultLimits.MaxBytes
}

func need(by, what string) error {
	if strings.TrimSpace(by) == "" {
		return gis.Errorf(gis.Invalid, "user.missing", "%s needs the user's name", what)
	}
	return nil
}

// Upload creates a batch for a delivery and stages and validates it. The
// returned batch is failed (the file cannot be used), invalid (errors to
// fix), or ready (for approval). Only a database failure is an error.
func (s *Store) Upload(ctx context.Context, req UploadRequest, data []byte) (*Batch, error) {
	if err := need(req.By, "an upload"); err != nil {
		return nil, err
	}
	var date any
	if req.SurveyDate != "" {
		d, err := time.Parse("2006-01-02", req.SurveyDate)
		if err != nil {
			return nil, gis.Errorf(gis.Invalid, "batch.bad_survey_date", "survey_date %q: want YYYY-MM-DD", req.SurveyDate)
		}
		date = d
	}
	if req.File == "" {
		req.File = "upload"
	}
	if _, err := asbuilt.ParseCRS(req.CRS); err != nil {
		return nil, gis.Errorf(gis.Invalid, asbuilt.CodeCRSUnknown, "%v", err)
	}
	sum := sha256.Sum256(data)
	size := len(data)
	oversized := int64(size) > s.UploadLimit()
	if oversized {
		data = nil // not kept: the batch fails on its size
	}
	opts, _ := json.Marshal(batchOptions{CRS: req.CRS, Mapping: req.Mapping})
	var id int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO asbuilt_batches (project, contractor, survey_date, uploaded_by, file, size_bytes, sha256, options)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			req.Project, req.Contractor, date, req.By, req.File, size, hex.EncodeToString(sum[:]), string(opts)).Scan(&id); err != nil {
			return err
		}
		if data == nil {
			data = []byte{}
		}
		_, err := tx.Exec(ctx, "INSERT INTO asbuilt_files (batch_id, content) VALUES ($1, $2)", id, data)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: upload: %w", err)
	}
	if oversized {
		err = s.recordFailure(ctx, id, "", []asbuilt.Issue{{Severity: asbuilt.SevError, Code: asbuilt.CodeFileTooLarge, Where: req.File,
			Msg: fmt.Sprintf("the file is over the limit of %d MiB", s.UploadLimit()>>20), Fix: "split the survey into several deliveries"}})
	} else {
		err = s.stage(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	return s.Batch(ctx, id)
}

// Revalidate reads a batch's file again and validates it against the
// network as it is now (after the network changed under an approved
// batch, for instance). Any approval is withdrawn.
func (s *Store) Revalidate(ctx context.Context, id int64, by string) (*Batch, error) {
	if err := need(by, "revalidation"); err != nil {
		return nil, err
	}
	b, err := s.Batch(ctx, id)
	if err != nil {
		return nil, err
	}
	switch b.Status {
	case BatchFailed, BatchInvalid, BatchReady, BatchApproved:
	default:
		return nil, gis.Errorf(gis.Conflict, "batch.bad_status", "batch %d is %s; only a batch not yet committed or rejected can be validated again", id, b.Status)
	}
	if b.RollbackOf != nil {
		err = s.stageRollback(ctx, id, *b.RollbackOf)
	} else {
		err = s.stage(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	return s.Batch(ctx, id)
}

// assessment is what reading and validating a delivery gave: a failed
// file (Failed, Issues), or the staged data, issues, summary, changes and
// preview against network version Version.
type assessment struct {
	Failed    bool
	Format    string
	SourceCRS string
	Issues    []asbuilt.Issue
	Summary   map[string]any
	Changes   []asbuilt.Change
	Staged    []byte
	Preview   []byte
	Version   int64
}

func failed(format string, issues []asbuilt.Issue) *assessment {
	return &assessment{Failed: true, Format: format, Issues: issues}
}

// stage reads, transforms, validates and previews batch id, and records
// the outcome.
func (s *Store) stage(ctx context.Context, id int64) error {
	var name string
	var data []byte
	var optRaw []byte
	var surveyDate *time.Time
	if err := s.pool.QueryRow(ctx, `SELECT b.file, f.content, b.options, b.survey_date FROM asbuilt_batches b JOIN asbuilt_files f ON f.batch_id = b.id WHERE b.id = $1`, id).
		Scan(&name, &data, &optRaw, &surveyDate); err != nil {
		return fmt.Errorf("store: stage batch %d: %w", id, err)
	}
	var bo batchOptions
	_ = json.Unmarshal(optRaw, &bo)
	year := 0
	if surveyDate != nil {
		year = surveyDate.Year()
	}
	a, err := s.assess(ctx, name, data, bo, year, fmt.Sprintf("%d:", id))
	if err != nil {
		return err
	}
	return s.record(ctx, id, a)
}

// Check reads and validates a delivery as Upload does, against the live
// network, but records nothing: a dry run. The batch returned has no id.
func (s *Store) Check(ctx context.Context, req UploadRequest, data []byte) (*Batch, error) {
	if int64(len(data)) > s.UploadLimit() {
		a := failed("", []asbuilt.Issue{{Severity: asbuilt.SevError, Code: asbuilt.CodeFileTooLarge, Where: req.File,
			Msg: fmt.Sprintf("the file is over the limit of %d MiB", s.UploadLimit()>>20), Fix: "split the survey into several deliveries"}})
		return a.batch(req), nil
	}
	year := 0
	if d, err := time.Parse("2006-01-02", req.SurveyDate); err == nil {
		year = d.Year()
	}
	a, err := s.assess(ctx, req.File, data, batchOptions{CRS: req.CRS, Mapping: req.Mapping}, year, "new:")
	if err != nil {
		return nil, err
	}
	return a.batch(req), nil
}

func (a *assessment) batch(req UploadRequest) *Batch {
	b := &Batch{Status: BatchReady, Project: req.Project, Contractor: req.Contractor, SurveyDate: req.SurveyDate, UploadedBy: req.By,
		File: req.File, Format: a.Format, SourceCRS: a.SourceCRS, Issues: a.Issues, Summary: a.Summary, Changes: a.Changes}
	b.Errors, b.Warnings = asbuilt.Count(a.Issues)
	switch {
	case a.Failed:
		b.Status = BatchFailed
		b.Failure = failureOf(a.Issues)
	case b.Errors > 0:
		b.Status = BatchInvalid
	default:
		v := a.Version
		b.BaseVersion = &v
	}
	return b
}

// assess reads a delivery and validates it against the live network.
func (s *Store) assess(ctx context.Context, name string, data []byte, bo batchOptions, year int, prefix string) (*assessment, error) {
	crs, err := asbuilt.ParseCRS(bo.CRS)
	if err != nil {
		return failed("", []asbuilt.Issue{{Severity: asbuilt.SevError, Code: asbuilt.CodeCRSUnknown, Where: name, Msg: err.Error(), Fix: "pass EPSG:N or local:NAME"}}), nil
	}
	if crs.Local != "" {
		err := s.pool.QueryRow(ctx, "SELECT proj FROM asbuilt_crs WHERE name = $1", crs.Local).Scan(&crs.Proj)
		if errors.Is(err, pgx.ErrNoRows) {
			return failed("", []asbuilt.Issue{{Severity: asbuilt.SevError, Code: asbuilt.CodeCRSUnknown, Where: name,
				Msg: fmt.Sprintf("no local coordinate system %q is registered", crs.Local), Fix: "register it first (waterline asbuilt crs add NAME 'PROJ definition'), or name an EPSG code"}}), nil
		}
		if err != nil {
			return nil, fmt.Errorf("store: stage %s: %w", name, err)
		}
	}
	if crs.SRID != 0 {
		var known bool
		if err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM spatial_ref_sys WHERE srid = $1)", crs.SRID).Scan(&known); err != nil {
			return nil, fmt.Errorf("store: stage %s: %w", name, err)
		}
		if !known {
			return failed("", []asbuilt.Issue{{Severity: asbuilt.SevError, Code: asbuilt.CodeCRSUnknown, Where: name,
				Msg: fmt.Sprintf("EPSG:%d is not a CRS known to PROJ/PostGIS", crs.SRID), Fix: "check the EPSG code (Jinan: EPSG:4548, or EPSG:4527 with the zone prefix)"}}), nil
		}
	}
	d, err := asbuilt.Read(name, data, asbuilt.ReadOptions{CRS: crs, StorageSRID: s.srid, Mapping: bo.Mapping, Limits: s.abOpt.Limits, OGR2OGR: s.abOpt.OGR2OGR,
		Build: asbuilt.BuildOptions{IDPrefix: prefix, InstallYear: year, Mapping: bo.Mapping}})
	if err != nil {
		var ae *asbuilt.Error
		if errors.As(err, &ae) {
			return failed("", ae.Issues), nil
		}
		return failed("", []asbuilt.Issue{{Severity: asbuilt.SevError, Code: asbuilt.CodeFileUnreadable, Where: name, Msg: "the file cannot be read"}}), nil
	}
	live, version, err := s.liveForValidation(ctx)
	if err != nil {
		return nil, err
	}
	return s.evaluate(ctx, d, live, version, bo.Remove)
}

// liveForValidation exports the live network and its version in one snapshot.
func (s *Store) liveForValidation(ctx context.Context) (*gis.Dataset, int64, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, 0, fmt.Errorf("store: validate: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	var version int64
	if err := tx.QueryRow(ctx, "SELECT version FROM network_version").Scan(&version); err != nil {
		return nil, 0, fmt.Errorf("store: validate: %w", err)
	}
	live, err := s.exportTx(ctx, tx)
	if err != nil {
		return nil, 0, err
	}
	return live, version, nil
}

// evaluate transforms a delivery into the storage CRS, checks its area,
// validates it against live and builds the preview.
func (s *Store) evaluate(ctx context.Context, d *asbuilt.Delivery, live *gis.Dataset, version int64, remove []string) (*assessment, error) {
	srcCRS := d.CRS.Name()
	if errs, _ := asbuilt.Count(d.Issues); errs > 0 && hasCode(d.Issues, asbuilt.CodeCRSMissing, asbuilt.CodeCRSImplausible) {
		return failed(d.Format, d.Issues), nil
	}
	if err := s.transformDelivery(ctx, d); err != nil {
		var ce *CRSError
		if errors.As(err, &ce) {
			return failed(d.Format, append(d.Issues, asbuilt.Issue{Severity: asbuilt.SevError, Code: asbuilt.CodeCRSUnknown, Where: d.File,
				Msg: ce.Msg, Fix: "check the CRS named for the file"})), nil
		}
		return nil, err
	}
	if is := s.checkArea(ctx, d, live, srcCRS); is != nil {
		return failed(d.Format, append(d.Issues, *is)), nil
	}
	v := asbuilt.Validate(d, live, asbuilt.ValidateOptions{Remove: remove})
	summary := s.summarize(d, v, live)
	preview, err := s.preview(ctx, d.Dataset, live, v, summary)
	if err != nil {
		return nil, err
	}
	var staged bytes.Buffer
	d.Dataset.SRID, d.Dataset.Proj = s.srid, ""
	if err := netjson.Write(&staged, d.Dataset); err != nil {
		return nil, fmt.Errorf("store: stage: %w", err)
	}
	return &assessment{Format: d.Format, SourceCRS: srcCRS, Issues: v.Issues, Summary: summary, Changes: v.Changes,
		Staged: staged.Bytes(), Preview: preview, Version: version}, nil
}

// record writes an assessment into batch id.
func (s *Store) record(ctx context.Context, id int64, a *assessment) error {
	if a.Failed {
		return s.recordFailure(ctx, id, a.Format, a.Issues)
	}
	errs, warns := asbuilt.Count(a.Issues)
	status := BatchReady
	if errs > 0 {
		status = BatchInvalid
	}
	ij, _ := json.Marshal(a.Issues)
	sj, _ := json.Marshal(a.Summary)
	cj, _ := json.Marshal(a.Changes)
	_, err := s.pool.Exec(ctx, `UPDATE asbuilt_batches SET status = $2, format = $3, source_crs = $4, errors = $5, warnings = $6, issues = $7, summary = $8,
		changes = $9, staged = $10, preview = $11, base_version = $12, validated_at = now(), approved_by = NULL, approved_at = NULL, acknowledged = false, failure = ''
		WHERE id = $1`, id, status, a.Format, a.SourceCRS, errs, warns, string(ij), string(sj), string(cj), a.Staged, a.Preview, a.Version)
	if err != nil {
		return fmt.Errorf("store: record batch %d: %w", id, err)
	}
	s.log.Info("as-built batch validated", "batch", id, "status", status, "errors", errs, "warnings", warns)
	return nil
}

func hasCode(issues []asbuilt.Issue, codes ...string) bool {
	for _, i := range issues {
		for _, c := range codes {
			if i.Code == c && i.Severity == asbuilt.SevError {
				return true
			}
		}
	}
	return false
}

func failureOf(issues []asbuilt.Issue) string {
	for _, i := range issues {
		if i.Severity == asbuilt.SevError {
			return i.Code + ": " + i.Msg
		}
	}
	return "the file cannot be used"
}

func (s *Store) recordFailure(ctx context.Context, id int64, format string, issues []asbuilt.Issue) error {
	errs, warns := asbuilt.Count(issues)
	ij, _ := json.Marshal(issues)
	msg := failureOf(issues)
	_, err := s.pool.Exec(ctx, `UPDATE asbuilt_batches SET status = 'failed', format = $2, errors = $3, warnings = $4, issues = $5, failure = $6,
		staged = NULL, preview = NULL, approved_by = NULL, approved_at = NULL, validated_at = now() WHERE id = $1`, id, format, errs, warns, string(ij), msg)
	if err != nil {
		return fmt.Errorf("store: record batch %d: %w", id, err)
	}
	s.log.Info("as-built batch failed", "batch", id, "reason", msg)
	return nil
}

// transformDelivery moves a delivery's dataset, survey points and issue
// positions into the storage CRS in one PostGIS call.
func (s *Store) transformDelivery(ctx context.Context, d *asbuilt.Delivery) error {
	ds := d.Dataset
	if ds.SRID == 0 && ds.Proj == "" {
		ds.SRID = d.CRS.SRID
		ds.Proj = d.CRS.Proj
	}
	if ds.SRID == s.srid && ds.Proj == "" {
		return nil
	}
	if ds.SRID == 0 && ds.Proj == "" {
		return &CRSError{Msg: "the data names no CRS"}
	}
	var pts []*[2]float64
	visit(ds, func(p *[2]float64) { pts = append(pts, p) })
	keys := make([]string, 0, len(d.PointAt))
	for k := range d.PointAt {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pa := make([]orb.Point, len(keys))
	for i, k := range keys {
		pa[i] = d.PointAt[k]
		pts = append(pts, (*[2]float64)(&pa[i]))
	}
	for i := range d.Issues {
		if d.Issues[i].At != nil {
			pts = append(pts, (*[2]float64)(d.Issues[i].At))
		}
	}
	if len(pts) == 0 {
		ds.SRID, ds.Proj = s.srid, ""
		return nil
	}
	xs, ys := make([]float64, len(pts)), make([]float64, len(pts))
	for i, p := range pts {
		xs[i], ys[i] = p[0], p[1]
	}
	tx, ty, err := s.transformXY(ctx, xs, ys, ds.SRID, ds.Proj, s.srid)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			return &CRSError{Msg: fmt.Sprintf("cannot transform from %s to EPSG:%d: %s", crsName(ds), s.srid, pgErr.Message)}
		}
		return fmt.Errorf("store: transform: %w", err)
	}
	for i := range tx {
		if math.IsNaN(tx[i]) || math.IsInf(tx[i], 0) || math.IsNaN(ty[i]) || math.IsInf(ty[i], 0) {
			return &CRSError{Msg: fmt.Sprintf("coordinates (%g, %g) in %s do not transform to EPSG:%d; is the CRS right?", xs[i], ys[i], crsName(ds), s.srid)}
		}
		pts[i][0], pts[i][1] = tx[i], ty[i]
	}
	for i, k := range keys {
		d.PointAt[k] = pa[i]
	}
	ds.SRID, ds.Proj = s.srid, ""
	return nil
}

// checkArea compares the survey's extent (storage CRS) with the
// deployment's area — the configured one, else the live network's extent
// widened by AreaMargin — and returns a crs.implausible error when the
// survey lies outside it. With neither there is nothing to compare.
func (s *Store) checkArea(ctx context.Context, d *asbuilt.Delivery, live *gis.Dataset, srcCRS string) *asbuilt.Issue {
	var sb orb.Bound
	first := true
	visit(d.Dataset, func(p *[2]float64) {
		if first {
			sb = orb.Bound{Min: orb.Point(*p), Max: orb.Point(*p)}
			first = false
		} else {
			sb = sb.Extend(orb.Point(*p))
		}
	})
	if first {
		return nil
	}
	var area orb.Bound
	var minx, miny, maxx, maxy float64
	err := s.pool.QueryRow(ctx, "SELECT minx, miny, maxx, maxy FROM asbuilt_area").Scan(&minx, &miny, &maxx, &maxy)
	what := "the deployment's area"
	switch {
	case err == nil:
		area = orb.Bound{Min: orb.Point{minx, miny}, Max: orb.Point{maxx, maxy}}
	case len(live.Pipes) > 0:
		what = "the live network"
		area = live.Pipes[0].Geom.Bound()
		for i := range live.Pipes {
			area = area.Union(live.Pipes[i].Geom.Bound())
		}
		m := s.abOpt.AreaMargin
		if m <= 0 {
			m = 5000
		}
		area = area.Pad(m)
	default:
		return nil
	}
	if area.Intersects(sb) {
		return nil
	}
	c, ac := sb.Center(), area.Center()
	dist := math.Hypot(c[0]-ac[0], c[1]-ac[1]) / 1000
	return &asbuilt.Issue{Severity: asbuilt.SevError, Code: asbuilt.CodeCRSImplausible, Where: d.File,
		Msg: fmt.Sprintf("read as %s, the survey lies outside %s (its centre is %.0f km from the area's centre): the CRS is probably wrong", srcCRS, what, dist),
		Fix: "check the CRS (Jinan: EPSG:4548, or EPSG:4527 with the zone prefix; a local city system as local:NAME) and that X is the northing",
		At:  ptr(c)}
}

func ptr(p orb.Point) *orb.Point { return &p }

// summarize gathers the figures a reviewer reads before approving.
func (s *Store) summarize(d *asbuilt.Delivery, v *asbuilt.Validation, live *gis.Dataset) map[string]any {
	actions := map[string]map[string]int{}
	for _, c := range v.Changes {
		if actions[c.Action] == nil {
			actions[c.Action] = map[string]int{}
		}
		actions[c.Action][c.Kind]++
	}
	length, byDN, byMat := 0.0, map[string]float64{}, map[string]int{}
	for i := range d.Dataset.Pipes {
		p := &d.Dataset.Pipes[i]
		l := gis.LineLength(p.Geom)
		length += l
		byDN[fmt.Sprint(p.DN)] += l
		byMat[p.Material]++
	}
	for k, l := range byDN {
		byDN[k] = math.Round(l*100) / 100
	}
	codes := map[string]int{}
	for _, i := range v.Issues {
		codes[i.Code]++
	}
	errs, warns := asbuilt.Count(v.Issues)
	sm := map[string]any{
		"format": d.Format, "crs": d.CRS.Name(), "swapped_xy": d.Swap,
		"pipes": len(d.Dataset.Pipes), "valves": len(d.Dataset.Valves), "hydrants": len(d.Dataset.Hydrants),
		"length_m": math.Round(length*100) / 100, "length_by_dn_m": byDN, "pipes_by_material": byMat,
		"changes": actions, "errors": errs, "warnings": warns, "issues_by_code": codes,
		"live_pipes": len(live.Pipes),
	}
	if d.Summary != nil {
		sm["table"] = d.Summary
	}
	return sm
}

// preview renders the batch for the map: GeoJSON in lon/lat with every
// added, changed, split and removed feature (property "change") and every
// issue as a point (property "issue"), and the summary as a foreign member.
func (s *Store) preview(ctx context.Context, ds, live *gis.Dataset, v *asbuilt.Validation, summary map[string]any) ([]byte, error) {
	type feat struct {
		props map[string]any
		geom  string // "Point" | "LineString" | ""
		pts   []orb.Point
		issue int // index in v.Issues + 1; 0 for a change
	}
	var feats []feat
	newPipes := map[string]*gis.Pipe{}
	for i := range ds.Pipes {
		newPipes[ds.Pipes[i].ID] = &ds.Pipes[i]
	}
	livePipes := map[string]*gis.Pipe{}
	for i := range live.Pipes {
		livePipes[live.Pipes[i].ID] = &live.Pipes[i]
	}
	pointOf := func(kind, id string, from *gis.Dataset) (orb.Point, map[string]any, bool) {
		switch kind {
		case gis.KindValve:
			for i := range from.Valves {
				if from.Valves[i].ID == id {
					return from.Valves[i].Geom, map[string]any{"pipe": from.Valves[i].Pipe, "dn": from.Valves[i].DN}, true
				}
			}
		case gis.KindHydrant:
			for i := range from.Hydrants {
				if from.Hydrants[i].ID == id {
					return from.Hydrants[i].Geom, map[string]any{"pipe": from.Hydrants[i].Pipe}, true
				}
			}
		}
		return orb.Point{}, nil, false
	}
	for _, c := range v.Changes {
		props := map[string]any{"change": c.Action, "kind": c.Kind, "id": c.ID}
		switch c.Kind {
		case gis.KindPipe:
			p := newPipes[c.ID]
			if c.Action == asbuilt.ActRemove || c.Action == asbuilt.ActSplit {
				p = livePipes[c.ID]
			}
			if p == nil {
				continue
			}
			props["dn"], props["material"] = p.DN, p.Material
			if c.Action == asbuilt.ActSplit {
				props["split_at"] = c.At
				for _, at := range c.At {
					feats = append(feats, feat{props: map[string]any{"change": "split_point", "kind": "pipe", "id": c.ID, "at": at}, geom: "Point", pts: []orb.Point{gis.PointAt(p.Geom, at)}})
				}
			}
			if r, ok := p.Extra["survey_rows"]; ok {
				props["rows"] = r
			}
			feats = append(feats, feat{props: props, geom: "LineString", pts: p.Geom})
		default:
			from := ds
			if c.Action == asbuilt.ActRemove {
				from = live
			}
			pt, extra, ok := pointOf(c.Kind, c.ID, from)
			if !ok {
				feats = append(feats, feat{props: props})
				continue
			}
			for k, v := range extra {
				props[k] = v
			}
			feats = append(feats, feat{props: props, geom: "Point", pts: []orb.Point{pt}})
		}
	}
	for i := range v.Issues {
		is := &v.Issues[i]
		props := map[string]any{"issue": is.Code, "severity": is.Severity, "message": is.Msg, "where": is.Where}
		if is.Fix != "" {
			props["fix"] = is.Fix
		}
		if len(is.Rows) > 0 {
			props["rows"] = is.Rows
		}
		if is.Feature != "" {
			props["feature"] = is.Feature
		}
		if is.At == nil {
			feats = append(feats, feat{props: props, issue: i + 1})
			continue
		}
		feats = append(feats, feat{props: props, geom: "Point", pts: []orb.Point{*is.At}, issue: i + 1})
	}
	var xs, ys []float64
	for _, f := range feats {
		for _, p := range f.pts {
			xs = append(xs, p[0])
			ys = append(ys, p[1])
		}
	}
	lon, lat, err := s.ToLonLat(ctx, xs, ys)
	if err != nil {
		return nil, err
	}
	// Issues get their lon/lat too (for the batch's issue list).
	k := 0
	out := make([]map[string]any, 0, len(feats))
	for _, f := range feats {
		var g any
		if f.geom != "" {
			cs := make([][2]float64, len(f.pts))
			for j := range f.pts {
				cs[j] = [2]float64{math.Round(lon[k]*1e8) / 1e8, math.Round(lat[k]*1e8) / 1e8}
				k++
			}
			if f.geom == "Point" {
				g = map[string]any{"type": "Point", "coordinates": cs[0]}
			} else {
				g = map[string]any{"type": "LineString", "coordinates": cs}
			}
			if f.issue > 0 {
				v.Issues[f.issue-1].LonLat = &orb.Point{cs[0][0], cs[0][1]}
			}
		}
		out = append(out, map[string]any{"type": "Feature", "geometry": g, "properties": f.props})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]any{"type": "FeatureCollection", "features": out, "summary": summary}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

const batchCols = `id, status, project, contractor, coalesce(to_char(survey_date, 'YYYY-MM-DD'), ''), uploaded_by, uploaded_at, file, format, size_bytes, sha256,
	source_crs, errors, warnings, issues, summary, changes, base_version, validated_at, coalesce(approved_by, ''), approved_at, acknowledged,
	coalesce(rejected_by, ''), rejected_at, reason, coalesce(committed_by, ''), committed_at, version, rollback_of, rolled_back_by, failure`

func scanBatch(r pgx.Row, withDetail bool) (*Batch, error) {
	var b Batch
	var issues, summary, changes []byte
	err := r.Scan(&b.ID, &b.Status, &b.Project, &b.Contractor, &b.SurveyDate, &b.UploadedBy, &b.UploadedAt, &b.File, &b.Format, &b.SizeBytes, &b.SHA256,
		&b.SourceCRS, &b.Errors, &b.Warnings, &issues, &summary, &changes, &b.BaseVersion, &b.ValidatedAt, &b.ApprovedBy, &b.ApprovedAt, &b.Acknowledged,
		&b.RejectedBy, &b.RejectedAt, &b.Reason, &b.CommittedBy, &b.CommittedAt, &b.Version, &b.RollbackOf, &b.RolledBackBy, &b.Failure)
	if err != nil {
		return nil, err
	}
	if withDetail {
		_ = json.Unmarshal(issues, &b.Issues)
		_ = json.Unmarshal(summary, &b.Summary)
		_ = json.Unmarshal(changes, &b.Changes)
	}
	return &b, nil
}

// Batch returns a batch with its issues, summary and changes. An unknown
// id is a *gis.Error NotFound (batch.not_found).
func (s *Store) Batch(ctx context.Context, id int64) (*Batch, error) {
	b, err := scanBatch(s.pool.QueryRow(ctx, "SELECT "+batchCols+" FROM asbuilt_batches WHERE id = $1", id), true)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, gis.Errorf(gis.NotFound, "batch.not_found", "no import batch %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: batch %d: %w", id, err)
	}
	return b, nil
}

// Batches lists batches, newest first, optionally of one status.
func (s *Store) Batches(ctx context.Context, status string, limit int) ([]*Batch, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, "SELECT "+batchCols+" FROM asbuilt_batches WHERE ($1 = '' OR status = $1) ORDER BY id DESC LIMIT $2", status, limit)
	if err != nil {
		return nil, fmt.Errorf("store: batches: %w", err)
	}
	defer rows.Close()
	out := []*Batch{}
	for rows.Next() {
		b, err := scanBatch(rows, false)
		if err != nil {
			return nil, fmt.Errorf("store: batches: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// Preview returns the batch's preview GeoJSON (lon/lat). A failed batch
// has none: *gis.Error Conflict (batch.no_preview).
func (s *Store) Preview(ctx context.Context, id int64) ([]byte, error) {
	var p []byte
	err := s.pool.QueryRow(ctx, "SELECT preview FROM asbuilt_batches WHERE id = $1", id).Scan(&p)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, gis.Errorf(gis.NotFound, "batch.not_found", "no import batch %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: preview %d: %w", id, err)
	}
	if p == nil {
		return nil, gis.Errorf(gis.Conflict, "batch.no_preview", "batch %d has no preview: its file could not be used", id)
	}
	return p, nil
}

// ErrSelfApproval is the code of the error returned when the uploader
// tries to approve their own batch.
const ErrSelfApproval = "batch.self_approval"

// Approve approves a ready batch. The approver must not be its uploader
// (*gis.Error Conflict, code batch.self_approval); warnings must be
// acknowledged (Invalid, batch.unacknowledged_warnings); a batch with
// errors or in another state cannot be approved (Conflict).
func (s *Store) Approve(ctx context.Context, id int64, by string, acknowledge bool) (*Batch, error) {
	if err := need(by, "approval"); err != nil {
		return nil, err
	}
	b, err := s.Batch(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case b.Status == BatchInvalid:
		return nil, gis.Errorf(gis.Conflict, "batch.has_errors", "batch %d has %d errors; fix the file and upload it again", id, b.Errors)
	case b.Status != BatchReady:
		return nil, gis.Errorf(gis.Conflict, "batch.bad_status", "batch %d is %s; only a ready batch can be approved", id, b.Status)
	case strings.EqualFold(strings.TrimSpace(by), strings.TrimSpace(b.UploadedBy)):
		return nil, gis.Errorf(gis.Conflict, ErrSelfApproval, "%s uploaded batch %d and cannot approve it; a second user must", by, id)
	case b.Warnings > 0 && !acknowledge:
		return nil, gis.Errorf(gis.Invalid, "batch.unacknowledged_warnings", "batch %d has %d warnings; approve with acknowledge_warnings after reading them", id, b.Warnings)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE asbuilt_batches SET status = 'approved', approved_by = $2, approved_at = now(), acknowledged = $3 WHERE id = $1 AND status = 'ready'`,
		id, by, b.Warnings > 0)
	if err != nil {
		return nil, fmt.Errorf("store: approve %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return nil, gis.Errorf(gis.Conflict, "batch.bad_status", "batch %d changed meanwhile; reload it", id)
	}
	return s.Batch(ctx, id)
}

// Reject rejects a batch that is not committed.
func (s *Store) Reject(ctx context.Context, id int64, by, reason string) (*Batch, error) {
	if err := need(by, "rejection"); err != nil {
		return nil, err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE asbuilt_batches SET status = 'rejected', rejected_by = $2, rejected_at = now(), reason = $3
		WHERE id = $1 AND status IN ('failed', 'invalid', 'ready', 'approved')`, id, by, reason)
	if err != nil {
		return nil, fmt.Errorf("store: reject %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		b, err := s.Batch(ctx, id)
		if err != nil {
			return nil, err
		}
		return nil, gis.Errorf(gis.Conflict, "batch.bad_status", "batch %d is %s and cannot be rejected", id, b.Status)
	}
	return s.Batch(ctx, id)
}

// Staged returns a batch's staged delivery (storage CRS), as it will be
// committed. A failed batch has none (Conflict, batch.no_preview).
func (s *Store) Staged(ctx context.Context, id int64) (*gis.Dataset, error) {
	var p []byte
	err := s.pool.QueryRow(ctx, "SELECT staged FROM asbuilt_batches WHERE id = $1", id).Scan(&p)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, gis.Errorf(gis.NotFound, "batch.not_found", "no import batch %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: staged %d: %w", id, err)
	}
	if p == nil {
		return nil, gis.Errorf(gis.Conflict, "batch.no_preview", "batch %d has no staged data: its file could not be used", id)
	}
	ds, _, err := netjson.Read(bytes.NewReader(p), netjson.Options{Name: fmt.Sprintf("batch-%d", id)})
	if err != nil {
		return nil, fmt.Errorf("store: staged %d: %w", id, err)
	}
	return ds, nil
}
