package patrol

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waterline-gis/waterline/gis"
)

// AnomalyTypes are the kinds of anomaly a manager reports (service standard
// §1: facilities lost, damaged, buried, chamber collapsed; §4: leaks).
func AnomalyTypes() []string {
	return []string{"lost", "damaged", "buried", "chamber_collapsed", "leak", "other"}
}

// AnomalyInput is a manager's report.
type AnomalyInput struct {
	Type     string    `json:"type"`
	Lon      *float64  `json:"lon"`
	Lat      *float64  `json:"lat"`
	FoundAt  time.Time `json:"found_at"` // when it was found (RFC 3339)
	Note     string    `json:"note"`
	Manager  string    `json:"manager"`
	District string    `json:"district"` // default: the district of the nearest pipe
	Pipe     string    `json:"pipe"`     // default: the nearest in-service pipe within 50 m
}

// Anomaly is a recorded report.
type Anomaly struct {
	ID         int64     `json:"id"`
	Type       string    `json:"type"`
	District   string    `json:"district"`
	Manager    string    `json:"manager"`
	Pipe       string    `json:"pipe"`
	Note       string    `json:"note"`
	Lon        float64   `json:"lon"`
	Lat        float64   `json:"lat"`
	FoundAt    time.Time `json:"found_at"`
	ReportedAt time.Time `json:"reported_at"`
	// Late: reported more than the rules' report_within_minutes after
	// being found; DelayMin is the delay in minutes.
	Late      bool    `json:"late"`
	DelayMin  float64 `json:"delay_min"`
	RepairJob string  `json:"repair_job,omitempty"`
	Photos    []Photo `json:"photos"`
}

// Photo describes a stored photo (the bytes are fetched separately).
type Photo struct {
	ID          int64     `json:"id"`
	ContentType string    `json:"content_type"`
	Size        int       `json:"size"`
	CreatedAt   time.Time `json:"created_at"`
}

const anomalySnapM = 50

// ReportAnomaly records a report, received now. Errors (*gis.Error,
// Invalid): "anomaly.bad_type", "anomaly.bad_position",
// "anomaly.no_found_at", "anomaly.found_in_future", "anomaly.note_too_long";
// NotFound "pipe.not_found".
func (s *Service) ReportAnomaly(ctx context.Context, in AnomalyInput) (*Anomaly, error) {
	now := s.cfg.Now()
	ok := false
	for _, t := range AnomalyTypes() {
		ok = ok || t == in.Type
	}
	switch {
	case !ok:
		return nil, gis.Errorf(gis.Invalid, "anomaly.bad_type", "type %q is not one of %s", in.Type, strings.Join(AnomalyTypes(), ", "))
	case in.Lon == nil || in.Lat == nil || !(*in.Lon >= -180 && *in.Lon <= 180 && *in.Lat >= -90 && *in.Lat <= 90):
		return nil, gis.Errorf(gis.Invalid, "anomaly.bad_position", "give the position as WGS84 lon and lat")
	case in.FoundAt.IsZero():
		return nil, gis.Errorf(gis.Invalid, "anomaly.no_found_at", "give found_at, when the anomaly was found (RFC 3339)")
	case in.FoundAt.After(now.Add(time.Duration(s.cfg.Rules.FoundSkewMin) * time.Minute)):
		return nil, gis.Errorf(gis.Invalid, "anomaly.found_in_future", "found_at %s is in the future", s.local(in.FoundAt).Format(time.RFC3339))
	case len(in.Note) > 4000:
		return nil, gis.Errorf(gis.Invalid, "anomaly.note_too_long", "the note is longer than 4000 bytes")
	}
	a := &Anomaly{Type: in.Type, Manager: in.Manager, District: in.District, Pipe: in.Pipe, Note: in.Note,
		Lon: *in.Lon, Lat: *in.Lat, FoundAt: s.local(in.FoundAt), ReportedAt: s.local(now), Photos: []Photo{}}
	delay := now.Sub(in.FoundAt)
	a.DelayMin = math.Max(0, math.Round(delay.Minutes()*10)/10)
	a.Late = delay > time.Duration(s.cfg.Rules.ReportWithinMin)*time.Minute
	pool := s.cfg.Store.Pool()
	if a.Pipe != "" {
		var dist string
		err := pool.QueryRow(ctx, "SELECT district FROM pipes WHERE id = $1", a.Pipe).Scan(&dist)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, gis.Errorf(gis.NotFound, "pipe.not_found", "there is no pipe %q", a.Pipe)
		}
		if err != nil {
			return nil, fmt.Errorf("patrol: anomaly pipe: %w", err)
		}
		if a.District == "" {
			a.District = dist
		}
	} else if id, _, _, err := s.cfg.Store.Snap(ctx, a.Lon, a.Lat, 4326, anomalySnapM); err == nil {
		a.Pipe = id
		if a.District == "" {
			pool.QueryRow(ctx, "SELECT district FROM pipes WHERE id = $1", id).Scan(&a.District) //nolint:errcheck // best effort
		}
	} else {
		var ge *gis.Error
		if !errors.As(err, &ge) {
			return nil, err
		}
	}
	if a.District == "" {
		// Inside a district's polygon.
		pool.QueryRow(ctx, `SELECT id FROM districts WHERE ST_Contains(geom, ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), 4326), $3::int))
			ORDER BY id LIMIT 1`, a.Lon, a.Lat, s.cfg.Store.SRID()).Scan(&a.District) //nolint:errcheck // none is fine
	}
	err := pool.QueryRow(ctx, `INSERT INTO patrol_anomalies (type, district, manager, pipe_id, note, geom, found_at, reported_at, late)
		VALUES ($1, $2, $3, $4, $5, ST_Transform(ST_SetSRID(ST_MakePoint($6, $7), 4326), $8::int), $9, $10, $11) RETURNING id`,
		a.Type, a.District, a.Manager, a.Pipe, a.Note, a.Lon, a.Lat, s.cfg.Store.SRID(), in.FoundAt, now, a.Late).Scan(&a.ID)
	if err != nil {
		return nil, fmt.Errorf("patrol: record anomaly: %w", err)
	}
	if a.Type == "leak" && s.cfg.OnLeak != nil {
		job, err := s.cfg.OnLeak(ctx, a)
		if err != nil {
			s.cfg.Log.Error("leak report: opening a repair job failed", "anomaly", a.ID, "err", err)
		} else if job != "" {
			a.RepairJob = job
			if _, err := pool.Exec(ctx, "UPDATE patrol_anomalies SET repair_job = $2 WHERE id = $1", a.ID, job); err != nil {
				return nil, fmt.Errorf("patrol: record anomaly repair job: %w", err)
			}
		}
	}
	return a, nil
}

// photoType reports whether ct is an accepted photo format.
func photoType(ct string) bool {
	switch ct {
	case "image/jpeg", "image/png", "image/webp", "image/heic", "image/heif":
		return true
	}
	return false
}

// AddPhoto stores a photo of anomaly id in the database. contentType is
// what the client declared; JPEG, PNG and WebP are also recognised by
// their bytes. Errors: NotFound "anomaly.not_found"; Invalid
// "photo.too_large", "photo.bad_type", "photo.empty"; Conflict
// "photo.too_many".
func (s *Service) AddPhoto(ctx context.Context, id int64, contentType string, r io.Reader) (*Photo, error) {
	max := s.cfg.Rules.PhotoMaxBytes
	b, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return nil, fmt.Errorf("patrol: read photo: %w", err)
	}
	if len(b) > max {
		return nil, gis.Errorf(gis.Invalid, "photo.too_large", "the photo is larger than %d bytes", max)
	}
	if len(b) == 0 {
		return nil, gis.Errorf(gis.Invalid, "photo.empty", "the photo is empty")
	}
	ct := strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	if sniff := http.DetectContentType(b); photoType(sniff) {
		ct = sniff
	} else if ct != "image/heic" && ct != "image/heif" {
		return nil, gis.Errorf(gis.Invalid, "photo.bad_type", "a photo must be JPEG, PNG, WebP or HEIC (got %s)", sniff)
	}
	var n int
	err = s.cfg.Store.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM patrol_anomaly_photos WHERE anomaly_id = $1)
		FROM patrol_anomalies WHERE id = $1`, id).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, gis.Errorf(gis.NotFound, "anomaly.not_found", "there is no anomaly %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("patrol: photo: %w", err)
	}
	if n >= s.cfg.Rules.PhotosPerAnomaly {
		return nil, gis.Errorf(gis.Conflict, "photo.too_many", "anomaly %d already has %d photos", id, n)
	}
	p := &Photo{ContentType: ct, Size: len(b)}
	if err := s.cfg.Store.Pool().QueryRow(ctx, `INSERT INTO patrol_anomaly_photos (anomaly_id, content_type, size, data)
		VALUES ($1, $2, $3, $4) RETURNING id, created_at`, id, ct, len(b), b).Scan(&p.ID, &p.CreatedAt); err != nil {
		return nil, fmt.Errorf("patrol: store photo: %w", err)
	}
	p.CreatedAt = s.local(p.CreatedAt)
	return p, nil
}

// PhotoData returns a photo's bytes and content type. Errors: NotFound.
func (s *Service) PhotoData(ctx context.Context, anomaly, photo int64) ([]byte, string, error) {
	var b []byte
	var ct string
	err := s.cfg.Store.Pool().QueryRow(ctx, "SELECT data, content_type FROM patrol_anomaly_photos WHERE id = $1 AND anomaly_id = $2",
		photo, anomaly).Scan(&b, &ct)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", gis.Errorf(gis.NotFound, "photo.not_found", "anomaly %d has no photo %d", anomaly, photo)
	}
	if err != nil {
		return nil, "", fmt.Errorf("patrol: photo: %w", err)
	}
	return b, ct, nil
}

// AnomalyFilter selects anomalies found within [From, To) (zero: open).
type AnomalyFilter struct {
	From, To time.Time
	District string
	Type     string
	Limit    int // default 500
}

// Anomalies lists reports, newest first.
func (s *Service) Anomalies(ctx context.Context, f AnomalyFilter) ([]*Anomaly, error) {
	return s.anomalies(ctx, 0, f)
}

// Anomaly returns one report with its photos. Errors: NotFound.
func (s *Service) Anomaly(ctx context.Context, id int64) (*Anomaly, error) {
	as, err := s.anomalies(ctx, id, AnomalyFilter{})
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, gis.Errorf(gis.NotFound, "anomaly.not_found", "there is no anomaly %d", id)
	}
	return as[0], nil
}

func (s *Service) anomalies(ctx context.Context, id int64, f AnomalyFilter) ([]*Anomaly, error) {
	if f.Limit <= 0 {
		f.Limit = 500
	}
	var from, to *time.Time
	if !f.From.IsZero() {
		from = &f.From
	}
	if !f.To.IsZero() {
		to = &f.To
	}
	rows, err := s.cfg.Store.Pool().Query(ctx, `SELECT a.id, a.type, a.district, a.manager, a.pipe_id, a.note,
			ST_X(ST_Transform(a.geom, 4326)), ST_Y(ST_Transform(a.geom, 4326)), a.found_at, a.reported_at, a.late, a.repair_job,
			coalesce((SELECT json_agg(json_build_object('id', p.id, 'content_type', p.content_type, 'size', p.size, 'created_at', p.created_at) ORDER BY p.id)
				FROM patrol_anomaly_photos p WHERE p.anomaly_id = a.id), '[]')
		FROM patrol_anomalies a
		WHERE ($1::bigint = 0 OR a.id = $1) AND ($2::timestamptz IS NULL OR a.found_at >= $2) AND ($3::timestamptz IS NULL OR a.found_at < $3)
			AND ($4 = '' OR a.district = $4) AND ($5 = '' OR a.type = $5)
		ORDER BY a.found_at DESC, a.id DESC LIMIT $6`, id, from, to, f.District, f.Type, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("patrol: anomalies: %w", err)
	}
	out := []*Anomaly{}
	var a Anomaly
	_, err = pgx.ForEachRow(rows, []any{&a.ID, &a.Type, &a.District, &a.Manager, &a.Pipe, &a.Note, &a.Lon, &a.Lat, &a.FoundAt,
		&a.ReportedAt, &a.Late, &a.RepairJob, &a.Photos}, func() error {
		x := a
		x.FoundAt, x.ReportedAt = s.local(x.FoundAt), s.local(x.ReportedAt)
		x.DelayMin = math.Max(0, math.Round(x.ReportedAt.Sub(x.FoundAt).Minutes()*10)/10)
		x.Lon, x.Lat = math.Round(x.Lon*1e7)/1e7, math.Round(x.Lat*1e7)/1e7
		for i := range x.Photos {
			x.Photos[i].CreatedAt = s.local(x.Photos[i].CreatedAt)
		}
		out = append(out, &x)
		a.Photos = nil
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("patrol: anomalies: %w", err)
	}
	return out, nil
}
