// Package schedule decides when each pipe is patrolled: calendar days in the
// utility's time zone, each pipe's phase in its grade's cycle (balanced so
// that a district's daily workload is even), and its due status on a day.
// It is pure computation: no database, no clock, no globals.
package schedule

import (
	"fmt"
	"time"
)

// Day is a calendar date as the number of days since 1970-01-01. It has no
// time zone: DayOf reads it off an instant in a given zone.
type Day int32

// NoDay marks an unknown day (e.g. a pipe never patrolled).
const NoDay Day = -1 << 31

// DayOf is the calendar day of t in loc.
func DayOf(t time.Time, loc *time.Location) Day {
	y, m, d := t.In(loc).Date()
	return DateDay(y, m, d)
}

// DateDay is the Day of a calendar date.
func DateDay(y int, m time.Month, d int) Day {
	return Day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// ParseDay reads a date written YYYY-MM-DD.
func ParseDay(s string) (Day, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return NoDay, fmt.Errorf("schedule: %q is not a date YYYY-MM-DD", s)
	}
	return DateDay(t.Date()), nil
}

// Time is the UTC midnight of d: the value to bind to a PostgreSQL date.
func (d Day) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// Start is the instant day d begins in loc.
func (d Day) Start(loc *time.Location) time.Time {
	y, m, dd := d.Time().Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, loc)
}

// String renders d as YYYY-MM-DD ("" for NoDay).
func (d Day) String() string {
	if d == NoDay {
		return ""
	}
	return d.Time().Format("2006-01-02")
}

// FromTime is the Day of a PostgreSQL date scanned into a time.Time (UTC
// midnight).
func FromTime(t time.Time) Day { return DateDay(t.Date()) }

// mod is the non-negative remainder.
func mod(a, b int64) int64 {
	r := a % b
	if r < 0 {
		r += b
	}
	return r
}

// OnCycle reports whether day d is a phase day of a pipe patrolled every
// `every` days at the given phase.
func OnCycle(d Day, every, phase int32) bool {
	if every <= 1 {
		return true
	}
	return mod(int64(d), int64(every)) == int64(phase)
}

// NextOnCycle is the first phase day on or after d.
func NextOnCycle(d Day, every, phase int32) Day {
	if every <= 1 {
		return d
	}
	k := mod(int64(phase)-int64(d), int64(every))
	return d + Day(k)
}
