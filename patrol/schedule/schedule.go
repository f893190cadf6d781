package schedule

import (
	"math"
	"sort"
)

// Pipe is what the scheduler needs of one pipe.
type Pipe struct {
	Group  int32   // balancing group (a district): groups are balanced separately
	Every  int32   // patrol interval in days, >= 1 (gis.GradeRules.Classify)
	Weight float64 // workload, e.g. length in metres
	X, Y   float64 // position (e.g. the pipe's midpoint) in a metric CRS
}

// Phases gives each pipe its phase in its cycle: a pipe patrolled every
// `Every` days is on its cycle on the days d with d mod Every == phase (see
// OnCycle); pipes patrolled daily get phase 0.
//
// Balanced days: within each group, the pipes of each interval above one
// day are cut into Every spatially compact parts of (nearly) equal total
// weight by recursive coordinate bisection at weighted medians (cut across
// the longer side of the bounding box, the weight split in proportion to
// the number of parts on each side); part j is patrolled on phase j. Each
// day then carries the same share Weight/Every of each interval, so a
// group's daily workload is even up to one pipe's weight per part, while
// every pipe stays on a cycle of exactly its interval. The result depends
// only on the input (ties broken by index), so every replica computes the
// same phases.
func Phases(pipes []Pipe) []int32 {
	phase := make([]int32, len(pipes))
	type key struct{ group, every int32 }
	classes := map[key][]int32{}
	for i, p := range pipes {
		if p.Every > 1 {
			k := key{p.Group, p.Every}
			classes[k] = append(classes[k], int32(i))
		}
	}
	for k, idx := range classes {
		bisect(pipes, idx, 0, k.every, phase)
	}
	return phase
}

// NaivePhases puts every pipe at phase 0: everything of a grade falls due on
// the same days. It is the unbalanced schedule, kept for comparison.
func NaivePhases(pipes []Pipe) []int32 { return make([]int32, len(pipes)) }

// bisect assigns parts [first, first+parts) to the pipes idx.
func bisect(pipes []Pipe, idx []int32, first, parts int32, phase []int32) {
	if parts <= 1 || len(idx) <= 1 {
		for _, i := range idx {
			phase[i] = first
		}
		if parts > 1 && len(idx) == 1 {
			// One pipe for several parts: place it by its position so that
			// single pipes of different groups do not all land on phase 0.
			phase[idx[0]] = first + int32(uint32(idx[0])%uint32(parts))
		}
		return
	}
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	total := 0.0
	for _, i := range idx {
		p := pipes[i]
		minX, maxX = math.Min(minX, p.X), math.Max(maxX, p.X)
		minY, maxY = math.Min(minY, p.Y), math.Max(maxY, p.Y)
		total += p.Weight
	}
	byX := maxX-minX >= maxY-minY
	coord := func(i int32) float64 {
		if byX {
			return pipes[i].X
		}
		return pipes[i].Y
	}
	sort.Slice(idx, func(a, b int) bool {
		ca, cb := coord(idx[a]), coord(idx[b])
		if ca != cb {
			return ca < cb
		}
		return idx[a] < idx[b]
	})
	left := parts / 2
	target := total * float64(left) / float64(parts)
	// Cut where the prefix weight is nearest the target, keeping both sides
	// non-empty.
	best, bestErr, acc := 1, math.Inf(1), 0.0
	for k := 0; k < len(idx)-1; k++ {
		acc += pipes[idx[k]].Weight
		if e := math.Abs(acc - target); e < bestErr {
			best, bestErr = k+1, e
		}
		if acc > target {
			break
		}
	}
	bisect(pipes, idx[:best], first, left, phase)
	bisect(pipes, idx[best:], first+left, parts-left, phase)
}

// Status is a pipe's patrol status on a day.
type Status struct {
	Due         Day  // the day by which the next patrol is due
	Planned     bool // on the day's plan: due (or overdue), or a phase day of its cycle
	Overdue     bool // Due is before the day
	DaysOverdue int
	Never       bool // never patrolled: Due is its first phase day
}

// StatusOn is the status on day today of a pipe patrolled every `every`
// days at phase `phase`, last patrolled on day last (NoDay: never).
//
// A patrolled pipe is due `every` days after its last patrol. A pipe never
// patrolled is due on firstDue, the first phase day of its cycle once the
// service knew it (NoDay: the first phase day on or after today). A pipe
// is planned on a day when it is due or overdue then, or when the day is a
// phase day of its cycle and it was not patrolled that day already.
// Phase days follow one another exactly `every` days apart, so a pipe
// planned on each of them is never late; a missed pipe is overdue, and
// stays planned, first in line, every day until it is patrolled, after
// which it rejoins its cycle.
func StatusOn(today Day, every, phase int32, last, firstDue Day) Status {
	if every < 1 {
		every = 1
	}
	var s Status
	switch {
	case last != NoDay:
		s.Due = last + Day(every)
	case firstDue != NoDay:
		s.Due, s.Never = firstDue, true
	default:
		s.Due, s.Never = NextOnCycle(today, every, phase), true
	}
	s.Overdue = s.Due < today
	if s.Overdue {
		s.DaysOverdue = int(today - s.Due)
	}
	s.Planned = s.Due <= today || (OnCycle(today, every, phase) && (last == NoDay || last < today))
	return s
}
