package repair

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/waterline-gis/waterline/gis/store"
)

// JobsConfig wires a Jobs. Store, Planner and TZ are required.
type JobsConfig struct {
	Store   *store.Store
	Planner *Planner // plans shutoffs; its HeldClosed is not used by Jobs (Jobs knows what it holds)
	Rules   Rules
	TZ      *time.Location // the utility's zone: clock times and days are read in it
	Log     *slog.Logger
	// Webhook is the URL escalations are POSTed to; "" sends none.
	Webhook string
	// Client sends webhooks; nil means a client with the rules' timeout.
	Client *http.Client
	// Now is the clock of the scheduled scan; nil means time.Now. Request
	// paths take the time from their caller.
	Now func() time.Time
	// Replica names this process in the scan's run records.
	Replica string
}

// Jobs is the repair job service: work orders with their shutoff plans,
// milestones against their deadlines, the valves open jobs hold closed,
// valve failures on site, planned shutoffs and their conflicts, the
// overdue scan and its escalations, the on-time report.
//
// Every method takes the caller's context and, where time matters, the
// caller's "now"; deadlines are recomputed from stored times on each read,
// so nothing is lost on a restart. Errors meant for the user are
// *gis.Error (Invalid, NotFound, Conflict); others are wrapped with the
// operation. Jobs is safe for concurrent use, also across replicas: writes
// that change which valves are held closed are serialised by a PostgreSQL
// advisory lock.
type Jobs struct {
	st      *store.Store
	pool    *pgxpool.Pool
	planner *Planner
	rules   Rules
	tz      *time.Location
	log     *slog.Logger
	webhook string
	client  *http.Client
	now     func() time.Time
	replica string
	shipped []CalendarYear

	held heldCache // of HeldClosed, kept by RunHeld

	calMu sync.Mutex
	cal   *Calendar
	calAt time.Time // when cal was loaded (wall clock)
}

// calendarTTL is how long a loaded calendar is used before it is read
// again: a calendar loaded on another replica is seen within it.
const calendarTTL = time.Minute

// valveLock is the advisory lock held by every write that changes which
// valves jobs hold closed, so that "held by another open job" is decided
// on committed state.
const valveLock = 0x57_61_74_65_72_35 // "Water5"

// NewJobs returns the service. It checks the rules and the shipped
// calendars.
func NewJobs(cfg JobsConfig) (*Jobs, error) {
	if cfg.Store == nil || cfg.Planner == nil || cfg.TZ == nil {
		return nil, fmt.Errorf("repair: jobs need a store, a planner and a time zone")
	}
	if err := cfg.Rules.Validate(); err != nil {
		return nil, err
	}
	if cfg.Webhook != "" {
		if u, err := url.Parse(cfg.Webhook); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("repair: webhook %q is not an http(s) URL", cfg.Webhook)
		}
	}
	shipped, err := ShippedCalendarYears()
	if err != nil {
		return nil, err
	}
	j := &Jobs{st: cfg.Store, pool: cfg.Store.Pool(), planner: cfg.Planner, rules: cfg.Rules, tz: cfg.TZ,
		log: cfg.Log, webhook: cfg.Webhook, client: cfg.Client, now: cfg.Now, replica: cfg.Replica, shipped: shipped}
	if j.log == nil {
		j.log = slog.New(slog.DiscardHandler)
	}
	if j.client == nil {
		j.client = &http.Client{Timeout: cfg.Rules.webhookTimeout()}
	}
	if j.now == nil {
		j.now = time.Now
	}
	return j, nil
}

// Rules returns the rules in effect.
func (j *Jobs) Rules() Rules { return j.rules }

// TZ returns the utility's zone.
func (j *Jobs) TZ() *time.Location { return j.tz }

// Calendar returns the holiday calendar of the rules: the shipped years,
// each replaced by the year loaded into the database if there is one. It
// is cached for a minute.
func (j *Jobs) Calendar(ctx context.Context) (*Calendar, error) {
	j.calMu.Lock()
	defer j.calMu.Unlock()
	if j.cal != nil && time.Since(j.calAt) < calendarTTL {
		return j.cal, nil
	}
	loaded, err := j.loadedCalendarYears(ctx)
	if err != nil {
		return nil, err
	}
	years := append(append([]CalendarYear(nil), j.shipped...), loaded...)
	cal, err := NewCalendar(j.rules.Calendar, years)
	if err != nil {
		return nil, fmt.Errorf("repair: calendar: %w", err)
	}
	j.cal, j.calAt = cal, time.Now()
	return cal, nil
}

func (j *Jobs) forgetCalendar() {
	j.calMu.Lock()
	j.cal = nil
	j.calMu.Unlock()
}
