package schedule_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/waterline-gis/waterline/patrol/schedule"
)

func TestDays(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	// 23:30 UTC on 1 March is 07:30 on 2 March in Shanghai.
	at := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC)
	d := schedule.DayOf(at, sh)
	if d.String() != "2026-03-02" || schedule.DayOf(at, time.UTC).String() != "2026-03-01" {
		t.Fatalf("%s", d)
	}
	if p, err := schedule.ParseDay("2026-03-02"); err != nil || p != d {
		t.Fatalf("parse: %v %v", p, err)
	}
	if _, err := schedule.ParseDay("2026-13-02"); err == nil {
		t.Fatal("bad date accepted")
	}
	if got := d.Start(sh); !got.Equal(time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC)) {
		t.Fatalf("start %v", got)
	}
	if schedule.FromTime(d.Time()) != d {
		t.Fatal("round trip")
	}
	for every := int32(1); every <= 7; every++ {
		for ph := int32(0); ph < every; ph++ {
			n := schedule.NextOnCycle(d, every, ph)
			if n < d || n-d >= schedule.Day(every) || !schedule.OnCycle(n, every, ph) {
				t.Fatalf("every %d phase %d: next %v from %v", every, ph, n, d)
			}
		}
	}
	if !schedule.OnCycle(-1, 3, 2) || schedule.OnCycle(-1, 3, 0) {
		t.Fatal("negative days")
	}
}

// TestPhasesBalance: each interval's pipes are split into equal parts.
func TestPhasesBalance(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var ps []schedule.Pipe
	for g := int32(0); g < 3; g++ {
		for i := 0; i < 3000; i++ {
			every := []int32{1, 2, 3, 3, 7}[rng.IntN(5)]
			ps = append(ps, schedule.Pipe{Group: g, Every: every, Weight: 50 + rng.Float64()*100,
				X: rng.Float64() * 3000, Y: rng.Float64() * 2000})
		}
	}
	ph := schedule.Phases(ps)
	load := map[[3]int32]float64{}
	total := map[[2]int32]float64{}
	maxW := 150.0
	for i, p := range ps {
		if ph[i] < 0 || ph[i] >= max(p.Every, 1) {
			t.Fatalf("pipe %d: phase %d of %d", i, ph[i], p.Every)
		}
		load[[3]int32{p.Group, p.Every, ph[i]}] += p.Weight
		total[[2]int32{p.Group, p.Every}] += p.Weight
	}
	for k, w := range load {
		want := total[[2]int32{k[0], k[1]}] / float64(k[1])
		if math.Abs(w-want) > 2*maxW {
			t.Errorf("group %d every %d phase %d: %.0f, want %.0f", k[0], k[1], k[2], w, want)
		}
	}
}

// TestNeverLate simulates a year of a pipe following its plan: gaps never
// exceed the interval; a missed day makes it overdue, planned every day
// until patrolled, then back on its cycle.
func TestNeverLate(t *testing.T) {
	for every := int32(1); every <= 7; every++ {
		for phase := int32(0); phase < every; phase++ {
			last := schedule.NoDay
			first := schedule.NoDay
			start := schedule.DateDay(2026, 1, 1)
			for d := start; d < start+365; d++ {
				st := schedule.StatusOn(d, every, phase, last, first)
				if first == schedule.NoDay && st.Planned {
					first = st.Due
				}
				if last != schedule.NoDay && d-last > schedule.Day(every) && !st.Overdue {
					t.Fatalf("every %d phase %d day %d: %d days since last, not overdue", every, phase, d-start, d-last)
				}
				if st.Planned {
					if last != schedule.NoDay && d-last > schedule.Day(every) {
						t.Fatalf("every %d phase %d: planned %d days after the last patrol", every, phase, d-last)
					}
					last = d
				}
			}
		}
	}
	// A missed patrol: overdue the next day, planned until done.
	last := schedule.DateDay(2026, 3, 1)
	d := last + 3 // due (every 3, phase of the last day)
	ph := int32(int64(last) % 3)
	if st := schedule.StatusOn(d, 3, ph, last, schedule.NoDay); !st.Planned || st.Overdue || st.Due != d {
		t.Fatalf("due day: %+v", st)
	}
	for k := schedule.Day(1); k <= 4; k++ {
		st := schedule.StatusOn(d+k, 3, ph, last, schedule.NoDay)
		if !st.Planned || !st.Overdue || st.DaysOverdue != int(k) {
			t.Fatalf("missed, day +%d: %+v", k, st)
		}
	}
	// Patrolled late (day d+2): next due three days later, then on cycle.
	last = d + 2
	if st := schedule.StatusOn(d+3, 3, ph, last, schedule.NoDay); !st.Planned || st.Overdue {
		t.Fatalf("back on cycle: %+v", st)
	}
	// Never patrolled: due on its first phase day.
	if st := schedule.StatusOn(d, 7, ph, schedule.NoDay, schedule.NoDay); st.Due != schedule.NextOnCycle(d, 7, ph) || !st.Never {
		t.Fatalf("never: %+v", st)
	}
	if st := schedule.StatusOn(d+10, 7, ph, schedule.NoDay, d); !st.Overdue || st.DaysOverdue != 10 {
		t.Fatalf("never, first due passed: %+v", st)
	}
}
