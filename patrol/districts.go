package patrol

import (
	"context"
	"fmt"
	"sort"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
)

// DistrictSettings are a district's effective patrol settings.
type DistrictSettings struct {
	District   string   `json:"district"`
	Name       string   `json:"name"`
	Managers   []string `json:"managers"` // from the patrol settings, else districts.manager
	Office     *LonLat  `json:"office"`   // null: routes start inside the district
	Mode       string   `json:"mode"`
	SpeedKmh   float64  `json:"speed_kmh"`
	CapacityM  float64  `json:"capacity_m"` // per manager per day
	Pipes      int      `json:"pipes"`      // walkable pipes
	Configured bool     `json:"configured"` // has patrol settings of its own
}

// DistrictUpdate replaces a district's patrol settings; zero values fall
// back to the defaults (districts.manager, the rules' mode and capacity).
type DistrictUpdate struct {
	Office     *struct{ Lon, Lat float64 } `json:"office"`
	Managers   []string                    `json:"managers"`
	Mode       string                      `json:"mode"`
	CapacityKm *float64                    `json:"capacity_km"`
}

// Districts lists every district that has pipes or settings.
func (s *Service) Districts(ctx context.Context) ([]DistrictSettings, error) {
	c, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	infos, err := s.districtInfos(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var ids []string
	for _, d := range c.dists {
		if len(c.pipesOf[c.distIdx[d]]) > 0 {
			ids, seen[d] = append(ids, d), true
		}
	}
	for id := range infos {
		if !seen[id] {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	var configured map[string]bool
	if configured, err = s.configured(ctx); err != nil {
		return nil, err
	}
	var offices []orb.Point
	var who []int
	out := make([]DistrictSettings, 0, len(ids))
	for _, id := range ids {
		in := infos[id]
		if in == nil {
			in = &districtInfo{id: id}
		}
		mode, speed := s.cfg.Rules.speed(in.mode)
		ds := DistrictSettings{District: id, Name: in.name, Managers: in.managers, Mode: mode, SpeedKmh: speed,
			CapacityM: s.cfg.Rules.capacityM(in.capKm, speed), Configured: configured[id]}
		if ds.Managers == nil {
			ds.Managers = []string{}
		}
		if d, ok := c.distIdx[id]; ok {
			ds.Pipes = len(c.pipesOf[d])
		}
		if in.office != nil {
			offices = append(offices, *in.office)
			who = append(who, len(out))
			ds.Office = &LonLat{X: in.office[0], Y: in.office[1]}
		}
		out = append(out, ds)
	}
	ll, err := s.lonLat(ctx, offices)
	if err != nil {
		return nil, err
	}
	for i, k := range who {
		out[k].Office.Lon, out[k].Office.Lat = ll[i][0], ll[i][1]
	}
	return out, nil
}

func (s *Service) configured(ctx context.Context) (map[string]bool, error) {
	rows, err := s.cfg.Store.Pool().Query(ctx, "SELECT district FROM patrol_districts")
	if err != nil {
		return nil, fmt.Errorf("patrol: districts: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("patrol: districts: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}

// SetDistrict replaces a district's patrol settings. Errors: Invalid
// "district.bad_mode", "district.bad_office", "district.bad_capacity";
// NotFound for a district with neither pipes nor a polygon.
func (s *Service) SetDistrict(ctx context.Context, id string, u DistrictUpdate) (*DistrictSettings, error) {
	if u.Mode != "" {
		if _, ok := s.cfg.Rules.SpeedsKmh[u.Mode]; !ok {
			return nil, gis.Errorf(gis.Invalid, "district.bad_mode", "mode %q has no speed in the rules (have %v)", u.Mode, s.cfg.Rules.modes())
		}
	}
	if u.CapacityKm != nil && !(*u.CapacityKm > 0 && *u.CapacityKm < 1000) {
		return nil, gis.Errorf(gis.Invalid, "district.bad_capacity", "capacity_km must be within (0, 1000)")
	}
	if u.Office != nil && !(u.Office.Lon >= -180 && u.Office.Lon <= 180 && u.Office.Lat >= -90 && u.Office.Lat <= 90) {
		return nil, gis.Errorf(gis.Invalid, "district.bad_office", "the office must be a WGS84 lon/lat")
	}
	c, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	if _, ok := c.distIdx[id]; !ok {
		var exists bool
		if err := s.cfg.Store.Pool().QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM districts WHERE id = $1)", id).Scan(&exists); err != nil {
			return nil, fmt.Errorf("patrol: district %s: %w", id, err)
		}
		if !exists {
			return nil, gis.Errorf(gis.NotFound, "district.not_found", "there is no district %q", id)
		}
	}
	var lon, lat *float64
	if u.Office != nil {
		lon, lat = &u.Office.Lon, &u.Office.Lat
	}
	var mgrs []string
	for _, m := range u.Managers {
		if m != "" {
			mgrs = append(mgrs, m)
		}
	}
	var mode *string
	if u.Mode != "" {
		mode = &u.Mode
	}
	_, err = s.cfg.Store.Pool().Exec(ctx, `INSERT INTO patrol_districts (district, office, managers, mode, capacity_km, updated_at)
		VALUES ($1, CASE WHEN $2::float8 IS NULL THEN NULL ELSE ST_Transform(ST_SetSRID(ST_MakePoint($2, $3), 4326), $4::int) END, $5, $6, $7, now())
		ON CONFLICT (district) DO UPDATE SET office = EXCLUDED.office, managers = EXCLUDED.managers, mode = EXCLUDED.mode,
			capacity_km = EXCLUDED.capacity_km, updated_at = now()`, id, lon, lat, s.cfg.Store.SRID(), mgrs, mode, u.CapacityKm)
	if err != nil {
		return nil, fmt.Errorf("patrol: set district %s: %w", id, err)
	}
	all, err := s.Districts(ctx)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].District == id {
			return &all[i], nil
		}
	}
	return nil, gis.Errorf(gis.NotFound, "district.not_found", "there is no district %q", id)
}
