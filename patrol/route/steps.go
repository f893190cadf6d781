package route

import (
	"slices"

	"github.com/paulmach/orb"

	"github.com/waterline-gis/waterline/gis"
)

// Step kinds.
const (
	StepPatrol = "patrol" // walk along a due pipe and inspect it
	StepWalk   = "walk"   // walk along pipes to the next due one (deadhead)
	StepOffNet = "offnet" // walk off the pipe network, in a straight line
	StepRoad   = "road"   // walk along the streets to the next due pipe (deadhead on roads)
)

// Step is what a manager is told: patrol a stretch of a pipe, walk a way
// along pipes or along the streets, or cross off the network. Legs[First:Last] are its legs.
type Step struct {
	Kind        string
	Pipes       []int32 // patrol: the pipe; walk: the pipes walked along, in order
	From, To    float64 // patrol: distances along the pipe (From > To: against its direction)
	Length      float64
	A, B        orb.Point
	First, Last int
}

// Steps merges a route's legs into steps: consecutive patrol legs that
// continue along one pipe, consecutive deadhead legs, consecutive
// off-network legs, consecutive road legs.
func Steps(legs []Leg) []Step {
	var out []Step
	for i, lg := range legs {
		kind := StepWalk
		switch {
		case lg.IsRoad():
			kind = StepRoad
		case lg.Pipe < 0:
			kind = StepOffNet
		case lg.Patrol:
			kind = StepPatrol
		}
		if k := len(out) - 1; k >= 0 {
			s := &out[k]
			same := s.Kind == kind
			if same && kind == StepPatrol {
				same = s.Pipes[0] == lg.Pipe && s.To == lg.From
			}
			if same {
				s.Length += lg.Length
				s.B = lg.B
				s.To = lg.To
				s.Last = i + 1
				if kind == StepWalk && s.Pipes[len(s.Pipes)-1] != lg.Pipe {
					s.Pipes = append(s.Pipes, lg.Pipe)
				}
				continue
			}
		}
		s := Step{Kind: kind, From: lg.From, To: lg.To, Length: lg.Length, A: lg.A, B: lg.B, First: i, Last: i + 1}
		if lg.Pipe >= 0 {
			s.Pipes = []int32{lg.Pipe}
		}
		out = append(out, s)
	}
	return out
}

// LegLine is the geometry of a leg, in walking order.
func (n *Net) LegLine(lg Leg) orb.LineString {
	if lg.IsRoad() {
		return append(orb.LineString(nil), lg.Line...)
	}
	if lg.Pipe < 0 || int(lg.Pipe) >= n.Topo.NumPipes() {
		return orb.LineString{lg.A, lg.B}
	}
	ls := n.Topo.PipeLine(int(lg.Pipe))
	if lg.From <= lg.To {
		return gis.SubLine(ls, lg.From, lg.To)
	}
	sub := gis.SubLine(ls, lg.To, lg.From)
	slices.Reverse(sub)
	return sub
}

// Line is the geometry of legs[first:last] joined end to end.
func (n *Net) Line(legs []Leg) orb.LineString {
	var out orb.LineString
	for _, lg := range legs {
		ls := n.LegLine(lg)
		if len(out) > 0 && len(ls) > 0 && out[len(out)-1] == ls[0] {
			ls = ls[1:]
		}
		out = append(out, ls...)
	}
	return out
}
