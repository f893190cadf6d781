package store

import (
	"fmt"
	"strings"
	"time"
)

// stepTimer records how long each step of a write took, for the log.
type stepTimer struct {
	last  time.Time
	names []string
	took  []time.Duration
}

// mark ends the step name (begun at the previous mark).
func (t *stepTimer) mark(name string) {
	now := time.Now()
	t.names = append(t.names, name)
	t.took = append(t.took, now.Sub(t.last))
	t.last = now
}

// String lists the steps as "name=12ms name=3ms".
func (t *stepTimer) String() string {
	var b strings.Builder
	for i, n := range t.names {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%dms", n, t.took[i].Milliseconds())
	}
	return b.String()
}
