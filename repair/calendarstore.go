package repair

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/waterline-gis/waterline/gis"
)

// loadedCalendarYears reads the years of the rules' calendar loaded into
// the database.
func (j *Jobs) loadedCalendarYears(ctx context.Context) ([]CalendarYear, error) {
	rows, err := j.pool.Query(ctx, "SELECT doc FROM work_calendars WHERE calendar = $1 ORDER BY year", j.rules.Calendar)
	if err != nil {
		return nil, fmt.Errorf("repair: read calendars: %w", err)
	}
	docs, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("repair: read calendars: %w", err)
	}
	out := make([]CalendarYear, 0, len(docs))
	for _, d := range docs {
		var cy CalendarYear
		if err := json.Unmarshal(d, &cy); err != nil {
			return nil, fmt.Errorf("repair: stored calendar: %w", err)
		}
		out = append(out, cy)
	}
	return out, nil
}

// LoadCalendarYear validates cy and stores it, replacing the year (shipped
// or loaded before). Open jobs' deadlines follow at once on this replica,
// within a minute on others. Errors: *gis.Error Invalid for a bad calendar.
func (j *Jobs) LoadCalendarYear(ctx context.Context, cy CalendarYear, by string) error {
	if _, err := cy.compile(); err != nil {
		return err
	}
	if strings.TrimSpace(by) == "" {
		return gis.Errorf(gis.Invalid, "calendar.by", "say who loads the calendar (by)")
	}
	doc, err := json.Marshal(cy)
	if err != nil {
		return fmt.Errorf("repair: calendar: %w", err)
	}
	_, err = j.pool.Exec(ctx, `INSERT INTO work_calendars (calendar, year, doc, loaded_by) VALUES ($1, $2, $3, $4)
		ON CONFLICT (calendar, year) DO UPDATE SET doc = $3, loaded_by = $4, loaded_at = now()`, cy.Calendar, cy.Year, doc, by)
	if err != nil {
		return fmt.Errorf("repair: store calendar %s %d: %w", cy.Calendar, cy.Year, err)
	}
	j.forgetCalendar()
	j.log.Info("holiday calendar loaded", "calendar", cy.Calendar, "year", cy.Year, "by", by, "provisional", cy.Provisional)
	return nil
}
