package patrol

import (
	"fmt"
	"sort"
	"strings"

	"github.com/robfig/cron/v3"
)

// Rules are the patrol numbers a utility may change in the rules file
// ([patrol] section); grades and intervals are gis.GradeRules.
type Rules struct {
	// Cron is when the morning job plans the day, read in the utility's
	// time zone (robfig/cron five-field spec).
	Cron string `toml:"cron" json:"cron"`
	// Balance spreads grade-2/3 pipes and crossings over the days of their
	// cycle (see schedule.Phases); false plans everything of a grade on
	// the same days.
	Balance bool `toml:"balance" json:"balance"`
	// Mode is how managers travel unless a district says otherwise; its
	// speed is SpeedsKmh[Mode].
	Mode      string             `toml:"mode" json:"mode"`
	SpeedsKmh map[string]float64 `toml:"speeds_kmh" json:"speeds_kmh"`
	// A manager's daily capacity: CapacityKm, or when it is 0 HoursPerDay
	// at the mode's speed. A district whose longest route exceeds it is
	// flagged over capacity.
	HoursPerDay float64 `toml:"hours_per_day" json:"hours_per_day"`
	CapacityKm  float64 `toml:"capacity_km" json:"capacity_km"`
	// Deadhead is where managers walk between due pipes: "auto" (along
	// the imported road network when there is one — `waterline import
	// --roads` — else along the pipes), "pipes" (always along the pipe
	// network) or "roads" (along the roads; planning fails while none is
	// imported).
	Deadhead string `toml:"deadhead" json:"deadhead"`
	// RoadConnectM: on roads, a pipe junction (or a start) within this
	// distance of a road is joined to it by a straight connector; pipes
	// with an end farther from every road keep pipe deadheading.
	RoadConnectM float64 `toml:"road_connect_m" json:"road_connect_m"`
	// MarginM: deadheading may use pipes up to this far outside the box of
	// a district's due pipes.
	MarginM float64 `toml:"margin_m" json:"margin_m"`
	// OffNetFactor prices straight walks off the pipe network (to an office
	// away from the pipes, across gaps): distance × this.
	OffNetFactor float64 `toml:"offnet_factor" json:"offnet_factor"`
	// Improvement budget of the RPP solver per route, milliseconds: on
	// request, and in the morning job (where every district is routed).
	RouteTimeMS int `toml:"route_time_ms" json:"route_time_ms"`
	JobRouteMS  int `toml:"job_route_time_ms" json:"job_route_time_ms"`
	// Workers routing districts in parallel in the job (0 = all CPUs).
	Workers int `toml:"workers" json:"workers"`

	// Proof of patrol: a pipe is patrolled when CoverFraction of its length
	// lies within BufferM of the track.
	BufferM       float64 `toml:"buffer_m" json:"buffer_m"`
	CoverFraction float64 `toml:"cover_fraction" json:"cover_fraction"`
	// A track segment longer than this is a lost signal, not a walk.
	MaxGapM float64 `toml:"max_gap_m" json:"max_gap_m"`
	// A track is rejected as far from its district when less than
	// NearShare of its points lie within FarM of the district's pipes.
	FarM      float64 `toml:"far_m" json:"far_m"`
	NearShare float64 `toml:"near_share" json:"near_share"`
	// Upload limits.
	TrackMaxPoints int `toml:"track_max_points" json:"track_max_points"`
	TrackMaxBytes  int `toml:"track_max_bytes" json:"track_max_bytes"`

	// Anomalies: late when reported more than ReportWithinMin minutes after
	// being found (service standard §1: 30 min). Photos are stored in the
	// database, each at most PhotoMaxBytes, at most PhotosPerAnomaly.
	ReportWithinMin  int `toml:"report_within_minutes" json:"report_within_minutes"`
	PhotoMaxBytes    int `toml:"photo_max_bytes" json:"photo_max_bytes"`
	PhotosPerAnomaly int `toml:"photos_per_anomaly" json:"photos_per_anomaly"`
	// FoundSkewMin tolerates phone clocks ahead of the server: found_at may
	// be at most this far in the future.
	FoundSkewMin int `toml:"found_skew_minutes" json:"found_skew_minutes"`
}

// DefaultRules are the defaults: walking managers, 6 hours a day, 20 m /
// 80 % proof of patrol, 30-minute anomaly reports.
func DefaultRules() Rules {
	return Rules{
		Cron:             "30 5 * * *",
		Balance:          true,
		Mode:             "walk",
		SpeedsKmh:        map[string]float64{"walk": 4, "ebike": 12, "car": 25},
		HoursPerDay:      6,
		Deadhead:         "auto",
		RoadConnectM:     60,
		MarginM:          300,
		OffNetFactor:     1.4,
		RouteTimeMS:      200,
		JobRouteMS:       20,
		BufferM:          20,
		CoverFraction:    0.8,
		MaxGapM:          150,
		FarM:             300,
		NearShare:        0.2,
		TrackMaxPoints:   200_000,
		TrackMaxBytes:    32 << 20,
		ReportWithinMin:  30,
		PhotoMaxBytes:    5 << 20,
		PhotosPerAnomaly: 10,
		FoundSkewMin:     5,
	}
}

// Validate checks that the rules make sense.
func (r Rules) Validate() error {
	if _, err := cron.ParseStandard(r.Cron); err != nil {
		return fmt.Errorf("patrol: cron %q: %w", r.Cron, err)
	}
	if _, ok := r.SpeedsKmh[r.Mode]; !ok {
		return fmt.Errorf("patrol: mode %q has no speed in speeds_kmh (have %s)", r.Mode, strings.Join(r.modes(), ", "))
	}
	for m, v := range r.SpeedsKmh {
		if !(v > 0) {
			return fmt.Errorf("patrol: speeds_kmh.%s must be positive", m)
		}
	}
	switch {
	case r.CapacityKm < 0 || r.HoursPerDay < 0 || (r.CapacityKm == 0 && r.HoursPerDay == 0):
		return fmt.Errorf("patrol: set capacity_km or hours_per_day (positive)")
	case r.Deadhead != "auto" && r.Deadhead != "pipes" && r.Deadhead != "roads":
		return fmt.Errorf("patrol: deadhead must be \"auto\", \"pipes\" or \"roads\", not %q", r.Deadhead)
	case !(r.RoadConnectM > 0):
		return fmt.Errorf("patrol: road_connect_m must be positive")
	case !(r.MarginM >= 0) || !(r.OffNetFactor >= 1):
		return fmt.Errorf("patrol: margin_m must be >= 0 and offnet_factor >= 1")
	case !(r.BufferM > 0) || !(r.CoverFraction > 0 && r.CoverFraction <= 1):
		return fmt.Errorf("patrol: buffer_m must be positive and cover_fraction within (0, 1]")
	case !(r.MaxGapM > 0) || !(r.FarM > 0) || !(r.NearShare >= 0 && r.NearShare <= 1):
		return fmt.Errorf("patrol: max_gap_m and far_m must be positive, near_share within [0, 1]")
	case r.TrackMaxPoints < 2 || r.TrackMaxBytes < 1024:
		return fmt.Errorf("patrol: track_max_points must be at least 2 and track_max_bytes at least 1024")
	case r.ReportWithinMin < 1 || r.PhotoMaxBytes < 1024 || r.PhotosPerAnomaly < 0 || r.FoundSkewMin < 0:
		return fmt.Errorf("patrol: report_within_minutes >= 1, photo_max_bytes >= 1024, photos_per_anomaly and found_skew_minutes >= 0")
	case r.Workers < 0:
		return fmt.Errorf("patrol: workers must be >= 0")
	}
	return nil
}

func (r Rules) modes() []string {
	out := make([]string, 0, len(r.SpeedsKmh))
	for m := range r.SpeedsKmh {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// speed is the travel speed of mode (the rules' mode when empty or
// unknown), km/h.
func (r Rules) speed(mode string) (string, float64) {
	if v, ok := r.SpeedsKmh[mode]; ok {
		return mode, v
	}
	return r.Mode, r.SpeedsKmh[r.Mode]
}

// capacityM is a manager's daily capacity in metres at the given speed.
func (r Rules) capacityM(km *float64, speedKmh float64) float64 {
	if km != nil && *km > 0 {
		return *km * 1000
	}
	if r.CapacityKm > 0 {
		return r.CapacityKm * 1000
	}
	return r.HoursPerDay * speedKmh * 1000
}
