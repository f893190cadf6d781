package gis

import "testing"

func TestClassifyDefaults(t *testing.T) {
	r := DefaultGradeRules()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		dn       int
		role     string
		crossing string
		grade    string
		every    int
		unknown  bool
	}{
		{1200, "transmission", "", "special", 1, false},
		{1400, "transmission", "", "special", 1, false}, // gap: raw water above 1200
		{600, "", "", "special", 1, false},              // DN600 included in special
		{599, "", "", "1", 1, false},
		{300, "", "", "1", 1, false},
		{299, "", "", "2", 2, false},
		{200, "", "", "2", 2, false},
		{199, "", "", "3", 3, false},
		{160, "", "", "3", 3, false}, // gap: PE de160
		{150, "", "", "3", 3, false},
		{100, "booster_main", "", "special", 1, false},
		{0, "", "", "1", 1, true}, // unknown DN: flagged, patrolled as grade 1
		{100, "", "river", "3", 3, false},
	}
	for _, c := range cases {
		got := r.Classify(c.dn, c.role, c.crossing)
		if got.Grade != c.grade || got.EveryDays != c.every || got.UnknownDN != c.unknown {
			t.Errorf("Classify(%d,%q,%q) = %+v, want grade %s every %d unknown %v", c.dn, c.role, c.crossing, got, c.grade, c.every, c.unknown)
		}
	}
	if !r.Classify(100, "", "railway").Crossing {
		t.Error("railway crossing not flagged")
	}
	// A utility that patrols crossings every 2 days sees grade-3 crossings due sooner.
	r.CrossingEveryDays = 2
	if got := r.Classify(100, "", "river").EveryDays; got != 2 {
		t.Errorf("crossing interval: got %d, want 2", got)
	}
}

func TestValidateRejectsGaps(t *testing.T) {
	r := DefaultGradeRules()
	r.Bands = r.Bands[:3] // no band below DN200
	if err := r.Validate(); err == nil {
		t.Fatal("rules with a DN gap validated")
	}
}
