package repair

import (
	"context"
	"testing"
	"time"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/migrations/testdb"
)

// benchJobs is a database with n open emergency jobs ordered over the last
// n×7 minutes before now, each at some milestone (so some are overdue),
// each holding five valves and fifty customers.
func benchJobs(b *testing.B, n int) (*Jobs, time.Time) {
	b.Helper()
	ctx := context.Background()
	pool, _ := testdb.New(b, 4548)
	st := store.New(pool, 4548, gis.DefaultGradeRules(), nil)
	loc := shanghai(b)
	jobs, err := NewJobs(JobsConfig{Store: st, Planner: &Planner{Store: st}, Rules: DefaultRules(), TZ: loc})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 3, 10, 15, 0, 0, 0, loc)
	if _, err := pool.Exec(ctx, `INSERT INTO repair_jobs (kind, ordered_at, created_at, created_by, source, content,
		address, pipe_id, leak_at, leak_dn, district, network_version, plan, valves, customers, households)
		SELECT 'emergency', $1::timestamptz - g * interval '7 minutes', $1::timestamptz - g * interval '7 minutes', 'bench',
			'hotline', 'leak', '经十路 ' || g || '号', 'p' || g, 0.5, (ARRAY[110, 200, 300, 600])[g % 4 + 1], 'dma' || (g % 5), 1, '{}',
			ARRAY['v' || g, 'v' || g + 1, 'v' || g + 2, 'v' || g + 3, 'v' || g + 4],
			ARRAY(SELECT 'c' || g || '-' || k FROM generate_series(1, 50) k), 50
		FROM generate_series(1, $2::int) g`, now, n); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO repair_milestones (job_id, milestone, at, recorded_at, recorded_by)
		SELECT j.id, m.name, j.ordered_at + m.off, j.ordered_at + m.off, 'bench'
		FROM repair_jobs j, (VALUES ('dispatched', interval '3 minutes', 1), ('on_site', interval '25 minutes', 2),
			('barriers', interval '50 minutes', 3), ('approved', interval '55 minutes', 4), ('valves_closed', interval '90 minutes', 5),
			('repaired', interval '4 hours', 6), ('quality_passed', interval '5 hours', 7), ('valves_reopened', interval '5 hours 5 minutes', 8),
			('site_restored', interval '6 hours', 9)) AS m(name, off, k)
		WHERE k <= j.id % 10 AND j.ordered_at + m.off <= $1`, now); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "UPDATE repair_jobs SET holding = true WHERE id IN (SELECT job_id FROM repair_milestones WHERE milestone = 'valves_closed') AND id NOT IN (SELECT job_id FROM repair_milestones WHERE milestone = 'valves_reopened')"); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	return jobs, now
}

// BenchmarkScan1000: the overdue scan over 1,000 open jobs, in its steady
// state (every overdue milestone escalated already; target < 50 ms).
func BenchmarkScan1000(b *testing.B) {
	jobs, now := benchJobs(b, 1000)
	ctx := context.Background()
	start := time.Now()
	first, err := jobs.Scan(ctx, now)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("first scan: %d open jobs, %d overdue milestones, %d escalated in %v", first.OpenJobs, first.Overdue, len(first.Escalated), time.Since(start))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := jobs.Scan(ctx, now)
		if err != nil || res.OpenJobs != 1000 {
			b.Fatal(res, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/scan")
}

// BenchmarkList1000: listing 1,000 open jobs with their next deadlines
// (target < 20 ms).
func BenchmarkList1000(b *testing.B) {
	jobs, now := benchJobs(b, 1000)
	ctx := context.Background()
	if _, err := jobs.Calendar(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l, err := jobs.List(ctx, Filter{Status: "open", Limit: 1000}, now)
		if err != nil || len(l.Jobs) != 1000 || l.Jobs[0].Next == nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/list")
}

// BenchmarkHeldClosed: the hook every shutoff plan calls.
func BenchmarkHeldClosed(b *testing.B) {
	jobs, _ := benchJobs(b, 1000)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := jobs.HeldClosed(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
