package repair

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestHeldCache: with RunHeld running, HeldClosed answers from memory (a
// cancelled context does not stop it), sees this replica's own writes at
// once and another replica's as soon as their notification comes.
func TestHeldCache(t *testing.T) {
	fx := newFixture(t, JobsConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fx.jobs.RunHeld(ctx, time.Minute) }()
	defer func() {
		cancel()
		<-done
	}()
	dead, kill := context.WithCancel(context.Background())
	kill()
	// heldNow is HeldClosed answered from memory (it fails on the
	// database with a cancelled context); it waits up to 5 s for the cache
	// to hold want.
	heldNow := func(want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			held, err := fx.jobs.HeldClosed(dead)
			if err == nil && strings.Join(held, ",") == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("held from memory: %v %v, want %q", held, err, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	heldNow("")

	// This replica's write: the next plan sees it at once (asking the
	// database until the cache has read it again).
	t0 := fx.at(t, "2026-03-10 09:00")
	a := fx.open(t, emergency("2061"), t0)
	for i, m := range []Milestone{Dispatched, OnSite, Approved, ValvesClosed} {
		fx.record(t, a.ID, m, t0.Add(time.Duration(i+1)*time.Minute), t0.Add(10*time.Minute))
	}
	if held, err := fx.jobs.HeldClosed(context.Background()); err != nil || strings.Join(held, ",") != "1088,1090,1109,1111,1114" {
		t.Fatalf("held right after this replica closed valves: %v %v", held, err)
	}
	heldNow("1088,1090,1109,1111,1114")

	// Another replica's write reaches this one's cache.
	cfg := JobsConfig{Store: fx.st, Planner: fx.planner, TZ: fx.loc, Rules: DefaultRules()}
	other, err := NewJobs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	now := t0.Add(20 * time.Minute)
	b, err := other.Open(context.Background(), emergency("2079"), now)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range []Milestone{Dispatched, OnSite, Approved, ValvesClosed} {
		if _, err := other.Record(context.Background(), b.ID, RecordRequest{Milestone: m, By: "x", At: ptr(now.Add(time.Duration(i+1) * time.Minute))}, now.Add(10*time.Minute)); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
	}
	heldNow("1088,1090,1091,1109,1111,1114")
}
