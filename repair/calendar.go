package repair

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/waterline-gis/waterline/gis"
)

// The shipped holiday calendars, one file a year. A utility loads newer
// years (or corrections) into the database; a year loaded there replaces
// the shipped one.
//
//go:embed calendars/*.json
var shippedCalendars embed.FS

// CalendarYear is one year of a holiday calendar, as published (for China:
// the State Council's notice on the year's holiday arrangement). It is data:
// a utility loads next year's when it is published.
type CalendarYear struct {
	Calendar string `json:"calendar"` // "CN"
	Year     int    `json:"year"`
	Source   string `json:"source"`
	// Provisional marks a year made before its official arrangement was
	// known; deadlines counted with it carry a warning.
	Provisional bool `json:"provisional,omitempty"`
	// Holidays are days off, as inclusive date ranges (any weekday).
	Holidays []DayRange `json:"holidays"`
	// Workdays are weekend days that are working days (调休 上班).
	Workdays []NamedDay `json:"workdays"`
}

// DayRange is an inclusive range of dates, YYYY-MM-DD.
type DayRange struct {
	From string `json:"from"`
	To   string `json:"to"`
	Name string `json:"name"`
}

// NamedDay is a date, YYYY-MM-DD.
type NamedDay struct {
	Date string `json:"date"`
	Name string `json:"name"`
}

// yearDays is a validated year: which dates differ from Monday–Friday.
type yearDays struct {
	doc CalendarYear
	off map[string]string // date → holiday name
	on  map[string]string // weekend date → why it is a working day
}

const dateLayout = "2006-01-02"

func parseDay(s string) (time.Time, error) {
	return time.Parse(dateLayout, s) // UTC midnight: a civil date
}

// compile validates a calendar year: dates well formed and within the
// year, ranges ordered, swapped working days on weekends, no day both off
// and on. Errors are *gis.Error Invalid naming the bad entry.
func (cy CalendarYear) compile() (*yearDays, error) {
	bad := func(format string, args ...any) error {
		return gis.Errorf(gis.Invalid, "calendar.bad", "calendar %s %d: "+format, append([]any{cy.Calendar, cy.Year}, args...)...)
	}
	if cy.Calendar == "" || strings.TrimSpace(cy.Calendar) != cy.Calendar {
		return nil, gis.Errorf(gis.Invalid, "calendar.bad", "a calendar year must name its calendar (e.g. \"CN\")")
	}
	if cy.Year < 2000 || cy.Year > 2100 {
		return nil, bad("the year must be within 2000–2100")
	}
	y := &yearDays{doc: cy, off: map[string]string{}, on: map[string]string{}}
	inYear := func(s string) (time.Time, error) {
		d, err := parseDay(s)
		if err != nil {
			return d, bad("%q is not a date YYYY-MM-DD", s)
		}
		if d.Year() != cy.Year {
			return d, bad("%s is not in %d", s, cy.Year)
		}
		return d, nil
	}
	for _, h := range cy.Holidays {
		from, err := inYear(h.From)
		if err != nil {
			return nil, err
		}
		to, err := inYear(h.To)
		if err != nil {
			return nil, err
		}
		if to.Before(from) {
			return nil, bad("holiday %q ends (%s) before it starts (%s)", h.Name, h.To, h.From)
		}
		if to.Sub(from) > 31*24*time.Hour {
			return nil, bad("holiday %q is longer than a month", h.Name)
		}
		for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
			y.off[d.Format(dateLayout)] = h.Name
		}
	}
	for _, w := range cy.Workdays {
		d, err := inYear(w.Date)
		if err != nil {
			return nil, err
		}
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			return nil, bad("working day %s is a %s: only a weekend day can be swapped to a working day", w.Date, wd)
		}
		if name, ok := y.off[w.Date]; ok {
			return nil, bad("%s is both a holiday (%s) and a working day", w.Date, name)
		}
		y.on[w.Date] = w.Name
	}
	return y, nil
}

// Calendar tells working days from days off: Monday to Friday work,
// except the holidays of its years, plus their swapped working weekend
// days. A Calendar is immutable and safe for concurrent use.
type Calendar struct {
	name  string
	years map[int]*yearDays
}

// NewCalendar builds the calendar name from years (other calendars' years
// are ignored; a later year replaces an earlier one of the same number).
func NewCalendar(name string, years []CalendarYear) (*Calendar, error) {
	c := &Calendar{name: name, years: map[int]*yearDays{}}
	for _, cy := range years {
		if cy.Calendar != name {
			continue
		}
		y, err := cy.compile()
		if err != nil {
			return nil, err
		}
		c.years[cy.Year] = y
	}
	return c, nil
}

// ShippedCalendarYears returns the calendar years built into the binary
// (China 2026, and 2027 provisional until its arrangement is loaded).
func ShippedCalendarYears() ([]CalendarYear, error) {
	names, err := fs.Glob(shippedCalendars, "calendars/*.json")
	if err != nil {
		return nil, fmt.Errorf("repair: shipped calendars: %w", err)
	}
	sort.Strings(names)
	var out []CalendarYear
	for _, n := range names {
		b, err := shippedCalendars.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("repair: shipped calendar %s: %w", n, err)
		}
		cy, err := ParseCalendarYear(b)
		if err != nil {
			return nil, fmt.Errorf("repair: shipped calendar %s: %w", n, err)
		}
		out = append(out, cy)
	}
	return out, nil
}

// ParseCalendarYear reads and validates one calendar year (JSON).
func ParseCalendarYear(b []byte) (CalendarYear, error) {
	var cy CalendarYear
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cy); err != nil {
		return cy, gis.Errorf(gis.Invalid, "calendar.bad_json", "the calendar is not valid JSON: %v", err)
	}
	if _, err := cy.compile(); err != nil {
		return cy, err
	}
	return cy, nil
}

// Name is the calendar's name.
func (c *Calendar) Name() string { return c.name }

// Years returns the years the calendar knows, in order, with their source.
func (c *Calendar) Years() []CalendarYear {
	out := make([]CalendarYear, 0, len(c.years))
	for _, y := range c.years {
		out = append(out, y.doc)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Year < out[b].Year })
	return out
}

// WorkingDay reports whether the civil date of day (its year, month and
// day, whatever its zone) is a working day, and whether the calendar knows
// that year; an unknown year counts Monday to Friday.
func (c *Calendar) WorkingDay(day time.Time) (working, known bool) {
	key := day.Format(dateLayout)
	y, ok := c.years[day.Year()]
	if ok {
		if _, off := y.off[key]; off {
			return false, true
		}
		if _, on := y.on[key]; on {
			return true, true
		}
	}
	wd := day.Weekday()
	return wd != time.Saturday && wd != time.Sunday, ok
}

// AddWorkingDays returns the end of the n-th working day after the day of
// t in loc (the day itself does not count): 00:00 in loc of the day after
// it. warning is non-empty when a year counted through is unknown to the
// calendar (Monday to Friday were counted) or provisional.
func (c *Calendar) AddWorkingDays(t time.Time, n int, loc *time.Location) (due time.Time, warning string) {
	lt := t.In(loc)
	day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, time.UTC)
	var unknown, provisional []int
	note := func(list *[]int, y int) {
		for _, v := range *list {
			if v == y {
				return
			}
		}
		*list = append(*list, y)
	}
	for k := 0; k < n; {
		day = day.AddDate(0, 0, 1)
		working, known := c.WorkingDay(day)
		if !known {
			note(&unknown, day.Year())
		} else if c.years[day.Year()].doc.Provisional {
			note(&provisional, day.Year())
		}
		if working {
			k++
		}
	}
	var w []string
	if len(unknown) > 0 {
		w = append(w, fmt.Sprintf("the %s holiday calendar has no year %v: Monday to Friday were counted; load the year's calendar", c.name, unknown))
	}
	if len(provisional) > 0 {
		w = append(w, fmt.Sprintf("the %s holiday calendar for %v is provisional; load the official arrangement", c.name, provisional))
	}
	return time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc), strings.Join(w, "; ")
}
