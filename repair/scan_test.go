package repair

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

// hook is a webhook receiver answering with the statuses given, then 200.
type hook struct {
	mu       sync.Mutex
	statuses []int
	bodies   []WebhookEvent
	delay    time.Duration
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	time.Sleep(h.delay)
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	status := 200
	if len(h.statuses) > 0 {
		status, h.statuses = h.statuses[0], h.statuses[1:]
	}
	if status == 200 {
		var ev WebhookEvent
		json.Unmarshal(b, &ev) //nolint:errcheck
		h.bodies = append(h.bodies, ev)
	}
	w.WriteHeader(status)
}

func (h *hook) received() []WebhookEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]WebhookEvent(nil), h.bodies...)
}

// TestScanEscalates: the scan marks overdue milestones once, stores the
// escalation, POSTs it to the webhook (retrying after a failure), survives
// a restart, and runs once per minute slot across replicas.
func TestScanEscalates(t *testing.T) {
	h := &hook{statuses: []int{500}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	var clock time.Time
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	set := func(t time.Time) { mu.Lock(); clock = t; mu.Unlock() }
	fx := newFixture(t, JobsConfig{Webhook: srv.URL, Now: now, Replica: "r1"})
	ctx := context.Background()
	t0 := fx.at(t, "2026-03-10 09:00")
	jb := fx.open(t, emergency("2061"), t0)
	fx.record(t, jb.ID, Dispatched, t0.Add(time.Minute), t0.Add(time.Minute))

	res, err := fx.jobs.Scan(ctx, t0.Add(30*time.Minute)) // due exactly now: not yet overdue
	if err != nil || res.Overdue != 0 || len(res.Escalated) != 0 || res.OpenJobs != 1 {
		t.Fatalf("scan at the due time: %+v %v", res, err)
	}
	res, err = fx.jobs.Scan(ctx, t0.Add(31*time.Minute))
	if err != nil || res.Overdue != 1 || len(res.Escalated) != 1 || res.Sent != 0 || res.Failed != 1 {
		t.Fatalf("first overdue scan (webhook answers 500): %+v %v", res, err)
	}
	es, _ := fx.jobs.Escalations(ctx, EscalationFilter{JobID: jb.ID})
	if len(es) != 1 || es[0].Milestone != OnSite || es[0].Delivery != "pending" || es[0].Attempts != 1 || es[0].LastError == "" ||
		es[0].Due.Format(time.RFC3339) != "2026-03-10T09:30:00+08:00" {
		t.Fatalf("escalation: %+v", es)
	}
	// The next scan escalates nothing new and delivers the pending one.
	res, err = fx.jobs.Scan(ctx, t0.Add(32*time.Minute))
	if err != nil || len(res.Escalated) != 0 || res.Sent != 1 {
		t.Fatalf("retry scan: %+v %v", res, err)
	}
	got := h.received()
	if len(got) != 1 || got[0].Event != "repair.milestone_overdue" || got[0].JobID != jb.ID || got[0].Milestone != OnSite ||
		got[0].Kind != Emergency || got[0].Label != "crew on site" || got[0].Job != "/api/repair/jobs/"+itoa(jb.ID) {
		t.Fatalf("webhook got %+v", got)
	}
	// A restart: a new Jobs on the same database finds the same overdue
	// milestone (recomputed from stored times) and escalates it no more.
	j2, err := NewJobs(JobsConfig{Store: fx.st, Planner: fx.planner, Rules: DefaultRules(), TZ: fx.loc, Webhook: srv.URL, Now: now, Replica: "r2"})
	if err != nil {
		t.Fatal(err)
	}
	res, err = j2.Scan(ctx, t0.Add(40*time.Minute))
	if err != nil || res.Overdue != 1 || len(res.Escalated) != 0 || res.Sent != 0 {
		t.Fatalf("after restart: %+v %v", res, err)
	}
	// Recording the milestone resolves the escalation.
	fx.record(t, jb.ID, OnSite, t0.Add(41*time.Minute), t0.Add(41*time.Minute))
	if es, _ := fx.jobs.Escalations(ctx, EscalationFilter{Unresolved: true}); len(es) != 0 {
		t.Errorf("unresolved after recording: %+v", es)
	}
	if es, _ := fx.jobs.Escalations(ctx, EscalationFilter{}); len(es) != 1 || es[0].ResolvedAt == nil || es[0].SentAt == nil {
		t.Errorf("resolved: %+v", es)
	}
	// The cron path: once per minute slot, across replicas.
	set(t0.Add(2 * time.Hour)) // barriers (due 10:11) overdue now
	for _, j := range []*Jobs{fx.jobs, j2, fx.jobs} {
		if err := j.RunScan(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var runs int
	fx.st.Pool().QueryRow(ctx, "SELECT count(*) FROM job_runs WHERE job = $1", ScanJob).Scan(&runs) //nolint:errcheck
	if es, _ := fx.jobs.Escalations(ctx, EscalationFilter{}); runs != 1 || len(es) != 2 || es[0].Milestone != Barriers {
		t.Errorf("cron: %d runs, escalations %+v", runs, es)
	}
}

// TestWebhookTimeoutAndGivingUp: a slow webhook is cut off by the timeout
// and, after the rules' attempts, an escalation is marked failed.
func TestWebhookTimeoutAndGivingUp(t *testing.T) {
	h := &hook{delay: 4 * time.Second}
	srv := httptest.NewServer(h)
	defer srv.Close()
	r := DefaultRules()
	r.WebhookTimeoutSeconds, r.WebhookMaxAttempts = 1, 2
	fx := newFixture(t, JobsConfig{Webhook: srv.URL, Rules: r})
	ctx := context.Background()
	t0 := fx.at(t, "2026-03-10 09:00")
	fx.open(t, emergency("2061"), t0)
	for i := 0; i < 3; i++ {
		start := time.Now()
		res, err := fx.jobs.Scan(ctx, t0.Add(time.Duration(40+i)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el >= 4*time.Second {
			t.Errorf("scan %d took %v with a 1 s webhook timeout", i, el)
		}
		if want := map[int]int{0: 1, 1: 1, 2: 0}[i]; res.Failed != want {
			t.Errorf("scan %d: %+v", i, res)
		}
	}
	es, _ := fx.jobs.Escalations(ctx, EscalationFilter{})
	if len(es) != 1 || es[0].Delivery != "failed" || es[0].Attempts != 2 {
		t.Errorf("gave up: %+v", es)
	}
}

// TestSchedule: a bad schedule is refused; the default one is accepted.
func TestSchedule(t *testing.T) {
	fx := newFixture(t, JobsConfig{})
	c := cron.New(cron.WithLocation(fx.loc))
	if _, err := fx.jobs.Schedule(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	r := DefaultRules()
	r.ScanSchedule = "every now and then"
	j, err := NewJobs(JobsConfig{Store: fx.st, Planner: fx.planner, Rules: r, TZ: fx.loc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Schedule(context.Background(), c); err == nil {
		t.Error("a bad schedule was accepted")
	}
}
