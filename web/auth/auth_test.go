package auth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/migrations/testdb"
	"github.com/waterline-gis/waterline/web/auth"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestPasswordHashes(t *testing.T) {
	ctx := context.Background()
	pool, _ := testdb.New(t, 4548)
	svc := auth.New(pool, auth.Options{Hash: auth.TestHashParams()})
	if _, err := svc.AddUser(ctx, auth.NewUser{Name: "a", Role: auth.Viewer, Password: "first password"}); err != nil {
		t.Fatal(err)
	}
	var hash string
	if err := pool.QueryRow(ctx, "SELECT password_hash FROM users WHERE name = 'a'").Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(hash, "first password") {
		t.Errorf("stored hash %q", hash)
	}
	// Two users with one password get different hashes (salted).
	svc.AddUser(ctx, auth.NewUser{Name: "b", Role: auth.Viewer, Password: "first password"}) //nolint:errcheck
	var hash2 string
	pool.QueryRow(ctx, "SELECT password_hash FROM users WHERE name = 'b'").Scan(&hash2) //nolint:errcheck
	if hash2 == hash {
		t.Error("no salt")
	}
	// A service with stronger parameters upgrades the hash at sign-in.
	strong := auth.New(pool, auth.Options{Hash: auth.HashParams{MemoryKiB: 128, Time: 2, Threads: 1}})
	if _, _, err := strong.Login(ctx, "a", "first password", "", ""); err != nil {
		t.Fatal(err)
	}
	pool.QueryRow(ctx, "SELECT password_hash FROM users WHERE name = 'a'").Scan(&hash) //nolint:errcheck
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=128,t=2,p=1$") {
		t.Errorf("hash not upgraded: %q", hash)
	}
	if _, _, err := svc.Login(ctx, "a", "first password", "", ""); err != nil {
		t.Errorf("sign-in after the upgrade: %v", err)
	}
	if _, _, err := svc.Login(ctx, "a", "First password", "", ""); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("wrong case: %v", err)
	}
	// A machine account has no password: it never signs in.
	svc.AddUser(ctx, auth.NewUser{Name: "m", Role: auth.GIS}) //nolint:errcheck
	if _, _, err := svc.Login(ctx, "m", "", "", ""); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("machine account signed in: %v", err)
	}
}

func TestSessionsExpireAndRevoke(t *testing.T) {
	ctx := context.Background()
	pool, _ := testdb.New(t, 4548)
	clk := &clock{t: time.Now()}
	opt := auth.Options{Hash: auth.TestHashParams(), Now: clk.Now, SessionIdle: time.Hour, SessionMax: 3 * time.Hour, CacheTTL: time.Second}
	a := auth.New(pool, opt)
	b := auth.New(pool, opt) // another replica
	if _, err := a.AddUser(ctx, auth.NewUser{Name: "u", Role: auth.DistrictManager, Districts: []string{"D1"}, Password: "a good password"}); err != nil {
		t.Fatal(err)
	}
	sess, p, err := a.Login(ctx, "u", "a good password", "127.0.0.1", "test")
	if err != nil || p.Role != auth.DistrictManager || !p.InDistrict("D1") || p.InDistrict("D2") || sess.CSRF == "" {
		t.Fatalf("login: %v %+v", err, p)
	}
	var stored int
	pool.QueryRow(ctx, "SELECT count(*) FROM sessions WHERE id_hash = convert_to($1, 'UTF8')", sess.Token).Scan(&stored) //nolint:errcheck
	if stored != 0 {
		t.Error("the session id is stored in clear")
	}
	// Used every 50 minutes, it lives on (idle expiry slides) …
	for range 3 {
		clk.Advance(50 * time.Minute)
		if _, err := b.Session(ctx, sess.Token); err != nil {
			t.Fatalf("session in use expired: %v", err)
		}
	}
	// … but not past its absolute end.
	clk.Advance(31 * time.Minute)
	if _, err := b.Session(ctx, sess.Token); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("session past its end: %v", err)
	}
	// Idle: gone after an hour.
	sess, _, _ = a.Login(ctx, "u", "a good password", "", "")
	clk.Advance(61 * time.Minute)
	if _, err := a.Session(ctx, sess.Token); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("idle session: %v", err)
	}
	// Logout on one replica: at once there, within the cache's TTL on
	// the other.
	sess, _, _ = a.Login(ctx, "u", "a good password", "", "")
	if _, err := b.Session(ctx, sess.Token); err != nil {
		t.Fatal(err)
	}
	if err := a.Logout(ctx, sess.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Session(ctx, sess.Token); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Error("logged-out session accepted where it was ended")
	}
	clk.Advance(2 * time.Second)
	if _, err := b.Session(ctx, sess.Token); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Error("logged-out session accepted on another replica after the cache TTL")
	}
	// A role change ends sessions.
	sess, _, _ = a.Login(ctx, "u", "a good password", "", "")
	v := auth.Viewer
	if _, err := a.UpdateUser(ctx, "u", auth.UserUpdate{Role: &v}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Second)
	if _, err := b.Session(ctx, sess.Token); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Error("session survived a role change")
	}
	if u, _ := a.User(ctx, "u"); u.Role != auth.Viewer || len(u.Districts) != 0 {
		t.Errorf("after the role change: %+v", u)
	}
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	pool, _ := testdb.New(t, 4548)
	clk := &clock{t: time.Now()}
	svc := auth.New(pool, auth.Options{Hash: auth.TestHashParams(), Now: clk.Now, CacheTTL: -1})
	svc.AddUser(ctx, auth.NewUser{Name: "scada", Role: auth.GIS}) //nolint:errcheck
	exp := clk.Now().Add(24 * time.Hour)
	tok, info, err := svc.CreateToken(ctx, "scada", "bridge", &exp, "admin")
	if err != nil || !strings.HasPrefix(tok, "wlt_") || len(tok) < 40 || !strings.HasPrefix(tok, info.Prefix) {
		t.Fatalf("token: %v %q %+v", err, tok, info)
	}
	var n int
	pool.QueryRow(ctx, "SELECT count(*) FROM api_tokens WHERE prefix = $1 AND position($2 in encode(hash, 'escape')) = 0", info.Prefix, tok).Scan(&n) //nolint:errcheck
	if n != 1 {
		t.Error("token stored in clear")
	}
	p, err := svc.APIToken(ctx, tok)
	if err != nil || p.Name != "scada" || p.Role != auth.GIS || p.Via != auth.ViaToken || p.TokenID != info.ID {
		t.Fatalf("resolve: %v %+v", err, p)
	}
	for _, bad := range []string{"", "wlt_", tok + "x", strings.ToUpper(tok), "Bearer " + tok} {
		if _, err := svc.APIToken(ctx, bad); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("token %q: %v", bad, err)
		}
	}
	clk.Advance(25 * time.Hour)
	if _, err := svc.APIToken(ctx, tok); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Error("expired token accepted")
	}
	tok2, info2, _ := svc.CreateToken(ctx, "scada", "", nil, "admin")
	if _, err := svc.RevokeToken(ctx, info2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.APIToken(ctx, tok2); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Error("revoked token accepted")
	}
	if _, _, err := svc.CreateToken(ctx, "nobody", "", nil, "admin"); err == nil {
		t.Error("token for an unknown user")
	}
	var ge *gis.Error
	if _, err := svc.RevokeToken(ctx, 999); !errors.As(err, &ge) || ge.Kind != gis.NotFound {
		t.Errorf("revoke unknown: %v", err)
	}
}

// TestHashingBounded: a flood of sign-ins computes at most
// HashConcurrency hashes at once (each takes its memory).
func TestHashingBounded(t *testing.T) {
	ctx := context.Background()
	pool, _ := testdb.New(t, 4548)
	svc := auth.New(pool, auth.Options{Hash: auth.HashParams{MemoryKiB: 8 << 10, Time: 1, Threads: 1}, HashConcurrency: 2})
	svc.AddUser(ctx, auth.NewUser{Name: "u", Role: auth.Viewer, Password: "a good password"}) //nolint:errcheck
	var wg sync.WaitGroup
	t0 := time.Now()
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			svc.Login(ctx, "u", "wrong password", "", "") //nolint:errcheck
		}()
	}
	wg.Wait()
	t.Logf("16 sign-ins with 8 MiB hashes, 2 at a time: %v", time.Since(t0))
}
