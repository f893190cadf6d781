package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/waterline-gis/waterline/gis"
)

// Object is a kind of stored object that belongs to a district.
type Object int

// The objects a district manager's access is checked on.
const (
	PatrolRoute Object = iota + 1
	PatrolTrack
	PatrolAnomaly
)

// districtSQL are constant queries; no identifier comes from a request.
var districtSQL = map[Object]string{
	PatrolRoute:   "SELECT district FROM patrol_routes WHERE id = $1",
	PatrolTrack:   "SELECT district FROM patrol_tracks WHERE id = $1",
	PatrolAnomaly: "SELECT district FROM patrol_anomalies WHERE id = $1",
}

// DistrictOf returns the district of a stored object, and false when
// there is no such object.
func (s *Service) DistrictOf(ctx context.Context, o Object, id int64) (string, bool, error) {
	q, ok := districtSQL[o]
	if !ok {
		return "", false, fmt.Errorf("auth: unknown object kind %d", o)
	}
	var d string
	err := s.pool.QueryRow(ctx, q, id).Scan(&d)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("auth: district of %d: %w", id, err)
	}
	return d, true, nil
}

// Assigned says whether a user is on a repair job's crew.
func (s *Service) Assigned(ctx context.Context, job, user int64) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM repair_job_crew WHERE job_id = $1 AND user_id = $2)", job, user).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("auth: crew: %w", err)
	}
	return ok, nil
}

// Crew lists the user names assigned to a job.
func (s *Service) Crew(ctx context.Context, job int64) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT u.name FROM repair_job_crew c JOIN users u ON u.id = c.user_id
		WHERE c.job_id = $1 ORDER BY u.name`, job)
	if err != nil {
		return nil, fmt.Errorf("auth: crew: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("auth: crew: %w", err)
	}
	if names == nil {
		names = []string{}
	}
	return names, nil
}

// SetCrew replaces a job's crew with the named users, who must exist,
// be enabled and have the crew role. Errors: NotFound (job or user),
// Invalid (a user who is not crew).
func (s *Service) SetCrew(ctx context.Context, job int64, users []string, by string) ([]string, error) {
	if len(users) > 50 {
		return nil, gis.Errorf(gis.Invalid, "crew.too_many", "at most 50 crew members")
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM repair_jobs WHERE id = $1)", job).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return gis.Errorf(gis.NotFound, "job.not_found", "no repair job %d", job)
		}
		ids := make([]int64, 0, len(users))
		for _, name := range users {
			var id int64
			var role string
			var disabled bool
			err := tx.QueryRow(ctx, "SELECT id, role, disabled FROM users WHERE name = $1", name).Scan(&id, &role, &disabled)
			if errors.Is(err, pgx.ErrNoRows) {
				return gis.Errorf(gis.NotFound, "user.not_found", "no user %q", name)
			}
			if err != nil {
				return err
			}
			if Role(role) != Crew || disabled {
				return gis.Errorf(gis.Invalid, "crew.not_crew", "user %q is not an enabled crew member", name)
			}
			ids = append(ids, id)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM repair_job_crew WHERE job_id = $1 AND NOT (user_id = ANY($2))", job, ids); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO repair_job_crew (job_id, user_id, assigned_by) SELECT $1, unnest($2::bigint[]), $3
			ON CONFLICT DO NOTHING`, job, ids, by)
		return err
	})
	var ge *gis.Error
	if errors.As(err, &ge) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("auth: set crew: %w", err)
	}
	return s.Crew(ctx, job)
}

// AssignedJobs lists the repair jobs a user is on the crew of, newest
// first.
func (s *Service) AssignedJobs(ctx context.Context, user int64) ([]int64, error) {
	rows, err := s.pool.Query(ctx, "SELECT job_id FROM repair_job_crew WHERE user_id = $1 ORDER BY job_id DESC LIMIT 200", user)
	if err != nil {
		return nil, fmt.Errorf("auth: jobs: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("auth: jobs: %w", err)
	}
	return ids, nil
}
