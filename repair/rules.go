package repair

import (
	"fmt"
	"time"
)

// Rules are the deadlines and limits of repair jobs (service standard §3,
// §4), read from the [repair] section of the rules file. Every number a
// deadline uses is here; nothing in the code repeats one. The defaults are
// the standard's, except where a field says otherwise.
type Rules struct {
	// OnSiteMinutes: crew on site within this long after the repair order
	// (§3.1: 30 min).
	OnSiteMinutes int `toml:"on_site_minutes" json:"on_site_minutes"`
	// BarriersMinutes: barriers, warning signs and lighting in place within
	// this long after the crew arrives (§3.3: 30 min).
	BarriersMinutes int `toml:"barriers_minutes" json:"barriers_minutes"`
	// StopLargeDN splits the water-stopped deadline by the leaking pipe's
	// DN: below it StopSmallHours, at or above it StopLargeHours, both
	// counted from the order (§3.4: DN300; 2 h; 4 h). An unknown DN (0) is
	// below it: the stricter deadline.
	StopLargeDN    int `toml:"stop_large_dn" json:"stop_large_dn"`
	StopSmallHours int `toml:"stop_small_hours" json:"stop_small_hours"`
	StopLargeHours int `toml:"stop_large_hours" json:"stop_large_hours"`
	// ReopenMinutes: valves reopened within this long after the water
	// quality passes (§3.6: 10 min).
	ReopenMinutes int `toml:"reopen_minutes" json:"reopen_minutes"`
	// CallbackMinutes: customers called back within this long after the
	// valves are reopened. The standard names no number (§3.7); 60 min is
	// Waterline's default.
	CallbackMinutes int `toml:"callback_minutes" json:"callback_minutes"`
	// QuietFrom and QuietUntil ("HH:MM", the utility's zone) bound the
	// hours without callbacks (§3.7: after 22:00, call after 08:30). A
	// callback due strictly inside them is due at QuietUntil, unless the
	// customer asked to be called at night.
	QuietFrom  string `toml:"quiet_from" json:"quiet_from"`
	QuietUntil string `toml:"quiet_until" json:"quiet_until"`
	// RoadNoticeWorkingDays: the written road-surface notice to the
	// municipal authority is due by the end of this many working days
	// after the day the site is restored (§3.8: 3), counted by Calendar.
	RoadNoticeWorkingDays int `toml:"road_notice_working_days" json:"road_notice_working_days"`
	// Calendar names the holiday calendar working days are counted by
	// ("CN": the national calendar with its swapped working weekends).
	Calendar string `toml:"calendar" json:"calendar"`
	// ClockSkewSeconds: how far in the future a recorded time may lie
	// (a phone's clock runs ahead); later is refused.
	ClockSkewSeconds int `toml:"clock_skew_seconds" json:"clock_skew_seconds"`
	// ScanSchedule is the cron schedule (utility zone) of the overdue
	// scan: every minute.
	ScanSchedule string `toml:"scan_schedule" json:"scan_schedule"`
	// WebhookTimeoutSeconds bounds one escalation POST; WebhookMaxAttempts
	// is how many scans try an event before it is marked failed.
	WebhookTimeoutSeconds int `toml:"webhook_timeout_seconds" json:"webhook_timeout_seconds"`
	WebhookMaxAttempts    int `toml:"webhook_max_attempts" json:"webhook_max_attempts"`
}

// DefaultRules are the service standard's.
func DefaultRules() Rules {
	return Rules{
		OnSiteMinutes: 30, BarriersMinutes: 30,
		StopLargeDN: 300, StopSmallHours: 2, StopLargeHours: 4,
		ReopenMinutes: 10, CallbackMinutes: 60,
		QuietFrom: "22:00", QuietUntil: "08:30",
		RoadNoticeWorkingDays: 3, Calendar: "CN",
		ClockSkewSeconds: 120, ScanSchedule: "* * * * *",
		WebhookTimeoutSeconds: 5, WebhookMaxAttempts: 60,
	}
}

// Validate checks the rules: positive durations, clock times as HH:MM.
func (r Rules) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{
		{"on_site_minutes", r.OnSiteMinutes}, {"barriers_minutes", r.BarriersMinutes},
		{"stop_large_dn", r.StopLargeDN}, {"stop_small_hours", r.StopSmallHours}, {"stop_large_hours", r.StopLargeHours},
		{"reopen_minutes", r.ReopenMinutes}, {"callback_minutes", r.CallbackMinutes},
		{"road_notice_working_days", r.RoadNoticeWorkingDays}, {"webhook_timeout_seconds", r.WebhookTimeoutSeconds},
		{"webhook_max_attempts", r.WebhookMaxAttempts},
	} {
		if f.v <= 0 {
			return fmt.Errorf("repair: %s must be positive, is %d", f.name, f.v)
		}
	}
	if r.ClockSkewSeconds < 0 {
		return fmt.Errorf("repair: clock_skew_seconds must not be negative")
	}
	if _, err := clockMinutes(r.QuietFrom); err != nil {
		return fmt.Errorf("repair: quiet_from: %w", err)
	}
	if _, err := clockMinutes(r.QuietUntil); err != nil {
		return fmt.Errorf("repair: quiet_until: %w", err)
	}
	if r.Calendar == "" {
		return fmt.Errorf("repair: calendar must name a holiday calendar (e.g. CN)")
	}
	if r.ScanSchedule == "" {
		return fmt.Errorf("repair: scan_schedule must be a cron schedule")
	}
	return nil
}

// clockMinutes parses "HH:MM" into minutes after midnight.
func clockMinutes(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a clock time HH:MM", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

func (r Rules) skew() time.Duration { return time.Duration(r.ClockSkewSeconds) * time.Second }

func (r Rules) webhookTimeout() time.Duration {
	return time.Duration(r.WebhookTimeoutSeconds) * time.Second
}
