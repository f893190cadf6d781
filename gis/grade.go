package gis

import (
	"fmt"
	"sort"
)

// GradeBand is one patrol grade by nominal diameter: DN in [MinDN, MaxDN)
// (MaxDN 0 = no upper bound), patrolled every EveryDays days.
type GradeBand struct {
	Grade     string `toml:"grade" json:"grade"`
	MinDN     int    `toml:"min_dn" json:"min_dn"`
	MaxDN     int    `toml:"max_dn" json:"max_dn"`
	EveryDays int    `toml:"every_days" json:"every_days"`
	Note      string `toml:"note" json:"note,omitempty"`
}

// GradeRules classify pipes into patrol grades (service standard §1). The
// defaults are Jinan Water Group's; every number can be changed in the rules
// file. The gaps the standard leaves are decided here, visibly:
// DN above 1200 is special, 150 < DN < 200 is grade 3, unknown DN is
// patrolled as UnknownDNGrade and flagged.
type GradeRules struct {
	Bands []GradeBand `toml:"bands" json:"bands"`
	// Roles whose pipes have a fixed grade whatever their DN (booster-station
	// supply mains are special).
	RoleGrades map[string]string `toml:"role_grades" json:"role_grades"`
	// UnknownDNGrade is the grade of a pipe whose DN is unknown (0).
	UnknownDNGrade string `toml:"unknown_dn_grade" json:"unknown_dn_grade"`
	// CrossingEveryDays is the patrol interval of river and railway
	// crossings; such a pipe keeps its DN grade and is due at whichever
	// interval is shorter.
	CrossingEveryDays int `toml:"crossing_every_days" json:"crossing_every_days"`
}

// DefaultGradeRules are the rules of the service standard.
func DefaultGradeRules() GradeRules {
	return GradeRules{
		Bands: []GradeBand{
			{Grade: "special", MinDN: 600, MaxDN: 0, EveryDays: 1, Note: "DN600-1200 transmission mains; above 1200 (raw water) also special"},
			{Grade: "1", MinDN: 300, MaxDN: 600, EveryDays: 1, Note: "DN300-600 supply mains"},
			{Grade: "2", MinDN: 200, MaxDN: 300, EveryDays: 2, Note: "DN200-300 branch mains"},
			{Grade: "3", MinDN: 1, MaxDN: 200, EveryDays: 3, Note: "DN150 and below; 150<DN<200 (e.g. PE de160) decided as grade 3"},
		},
		RoleGrades:        map[string]string{"booster_main": "special"},
		UnknownDNGrade:    "1",
		CrossingEveryDays: 7,
	}
}

// PipeClass is a pipe's patrol classification.
type PipeClass struct {
	Grade     string `json:"grade"`
	EveryDays int    `json:"every_days"`
	Crossing  bool   `json:"crossing"`
	UnknownDN bool   `json:"unknown_dn,omitempty"`
}

// Validate checks that the rules classify every DN and name known grades.
func (r GradeRules) Validate() error {
	if len(r.Bands) == 0 {
		return fmt.Errorf("grades: no bands")
	}
	grades := map[string]int{}
	for i, b := range r.Bands {
		if b.Grade == "" {
			return fmt.Errorf("grades: band %d has no grade", i+1)
		}
		if b.EveryDays < 1 {
			return fmt.Errorf("grades: band %q: every_days must be at least 1", b.Grade)
		}
		if b.MaxDN != 0 && b.MaxDN <= b.MinDN {
			return fmt.Errorf("grades: band %q: max_dn %d must be above min_dn %d", b.Grade, b.MaxDN, b.MinDN)
		}
		grades[b.Grade] = b.EveryDays
	}
	if _, ok := grades[r.UnknownDNGrade]; !ok {
		return fmt.Errorf("grades: unknown_dn_grade %q is not a band", r.UnknownDNGrade)
	}
	for role, g := range r.RoleGrades {
		if _, ok := grades[g]; !ok {
			return fmt.Errorf("grades: role %q has grade %q, which is not a band", role, g)
		}
	}
	if r.CrossingEveryDays < 1 {
		return fmt.Errorf("grades: crossing_every_days must be at least 1")
	}
	// Every DN from 1 to 5000 must fall in a band.
	bands := append([]GradeBand(nil), r.Bands...)
	sort.Slice(bands, func(a, b int) bool { return bands[a].MinDN < bands[b].MinDN })
	for dn := 1; dn <= 5000; dn++ {
		if _, ok := r.band(dn); !ok {
			return fmt.Errorf("grades: DN%d falls in no band", dn)
		}
	}
	return nil
}

func (r GradeRules) band(dn int) (GradeBand, bool) {
	for _, b := range r.Bands {
		if dn >= b.MinDN && (b.MaxDN == 0 || dn < b.MaxDN) {
			return b, true
		}
	}
	return GradeBand{}, false
}

func (r GradeRules) every(grade string) int {
	for _, b := range r.Bands {
		if b.Grade == grade {
			return b.EveryDays
		}
	}
	return 1
}

// Classify answers "grade and frequency of this pipe". It is the one place
// that does.
func (r GradeRules) Classify(dn int, role, crossing string) PipeClass {
	var c PipeClass
	switch g, ok := r.RoleGrades[role]; {
	case ok:
		c.Grade, c.EveryDays = g, r.every(g)
	case dn <= 0:
		c.Grade, c.EveryDays, c.UnknownDN = r.UnknownDNGrade, r.every(r.UnknownDNGrade), true
	default:
		b, ok := r.band(dn)
		if !ok {
			c.Grade, c.EveryDays, c.UnknownDN = r.UnknownDNGrade, r.every(r.UnknownDNGrade), true
		} else {
			c.Grade, c.EveryDays = b.Grade, b.EveryDays
		}
	}
	if crossing == "river" || crossing == "railway" {
		c.Crossing = true
		if r.CrossingEveryDays < c.EveryDays {
			c.EveryDays = r.CrossingEveryDays
		}
	}
	return c
}
