// Package auth is who may use Waterline: users with a role (district
// managers bound to districts, crews assigned to repair jobs), passwords
// hashed with argon2id, browser sessions and API tokens stored as digests in
// PostgreSQL (revocable, expiring), and the audit log. The HTTP rules —
// which role may call which route — live in package web; this package
// answers "who is this" and "is this object theirs".
//
// A Service is safe for concurrent use. It caches a resolved session or
// token for Options.CacheTTL, so a revocation takes effect at once on the
// replica that made it and within CacheTTL on the others.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/waterline-gis/waterline/gis"
)

// Role is what a user may do; the route table in package web says which
// routes each role may call.
type Role string

// The roles.
const (
	Admin           Role = "admin"            // everything, users, audit
	GIS             Role = "gis"              // the network: imports, approvals of others' batches
	Dispatcher      Role = "dispatcher"       // shutoff plans and approvals, repair jobs, patrol plans
	DistrictManager Role = "district_manager" // patrol of their districts: routes, tracks, anomalies
	Crew            Role = "crew"             // milestones of the repair jobs they are assigned
	Viewer          Role = "viewer"           // reads, without customers' contact data
)

// Roles lists every role.
func Roles() []Role { return []Role{Admin, GIS, Dispatcher, DistrictManager, Crew, Viewer} }

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	r := Role(strings.TrimSpace(s))
	if slices.Contains(Roles(), r) {
		return r, nil
	}
	return "", gis.Errorf(gis.Invalid, "user.bad_role", "role %q: use one of admin, gis, dispatcher, district_manager, crew, viewer", s)
}

// SeesContacts says whether the role may see customers' names and phones
// everywhere (crews see them for their own jobs only).
func (r Role) SeesContacts() bool { return r == Admin || r == Dispatcher }

// How a request was authenticated.
const (
	ViaSession = "session"
	ViaToken   = "token"
	ViaOpen    = "open" // a server without sign-in (tests only)
	ViaCLI     = "cli"
)

// Principal is who makes a request.
type Principal struct {
	UserID      int64    `json:"-"`
	Name        string   `json:"name"`
	DisplayName string   `json:"display_name"`
	Role        Role     `json:"role"`
	Districts   []string `json:"districts"`
	Via         string   `json:"via"`
	TokenID     int64    `json:"token_id,omitempty"`
	// CSRF is the session's anti-forgery token (sessions only).
	CSRF string `json:"-"`
	// Session is the digest of the session id (sessions only).
	Session []byte `json:"-"`
}

// InDistrict says whether d is one of the principal's districts.
func (p *Principal) InDistrict(d string) bool { return d != "" && slices.Contains(p.Districts, d) }

// Open is the principal of a server without sign-in: an administrator.
func Open() *Principal {
	return &Principal{Name: "anonymous", Role: Admin, Via: ViaOpen, Districts: []string{}}
}

// ErrBadCredentials is a failed sign-in: unknown user, wrong password or
// a disabled account (the caller cannot tell which).
var ErrBadCredentials = errors.New("auth: bad credentials")

// ErrUnauthenticated says a session or token is unknown, expired,
// revoked, or its user disabled.
var ErrUnauthenticated = errors.New("auth: not signed in")

// Options tune a Service; zero values take the defaults.
type Options struct {
	// SessionIdle ends a session unused for this long (default 12 h);
	// SessionMax ends any session this long after sign-in (default 7 days).
	SessionIdle, SessionMax time.Duration
	// CacheTTL is how long a resolved session or token is reused without
	// asking the database (default 3 s; negative: never cached).
	CacheTTL time.Duration
	// Hash are the argon2id parameters of new password hashes.
	Hash HashParams
	// HashConcurrency bounds the password hashes computed at once (each
	// takes Hash.MemoryKiB of memory; default 4).
	HashConcurrency int
	Now             func() time.Time
	Log             *slog.Logger
}

// Service is the user store. Create it with New.
type Service struct {
	pool  *pgxpool.Pool
	opt   Options
	hashQ chan struct{}
	dummy string // a hash to verify against for unknown users (constant time)

	mu    sync.Mutex
	cache map[[32]byte]cached
}

type cached struct {
	p   *Principal
	exp time.Time
}

// maxCache bounds the principal cache.
const maxCache = 20000

// New returns a Service on pool (migrated with 0006_auth.sql).
func New(pool *pgxpool.Pool, opt Options) *Service {
	if opt.SessionIdle <= 0 {
		opt.SessionIdle = 12 * time.Hour
	}
	if opt.SessionMax <= 0 {
		opt.SessionMax = 7 * 24 * time.Hour
	}
	if opt.CacheTTL == 0 {
		opt.CacheTTL = 3 * time.Second
	}
	if opt.Hash == (HashParams{}) {
		opt.Hash = DefaultHashParams()
	}
	if opt.HashConcurrency <= 0 {
		opt.HashConcurrency = 4
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{pool: pool, opt: opt, hashQ: make(chan struct{}, opt.HashConcurrency), cache: map[[32]byte]cached{}}
	s.dummy, _ = hashPassword("not a password", opt.Hash)
	return s
}

// Pool is the service's database pool.
func (s *Service) Pool() *pgxpool.Pool { return s.pool }

// randomToken returns n random bytes, base64url without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("auth: no randomness: %v", err)) // crypto/rand does not fail on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func digest(secret string) [32]byte { return sha256.Sum256([]byte(secret)) }

// GeneratePassword returns a random password of 20 characters from an
// alphabet without look-alikes (about 115 bits).
func GeneratePassword() string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("auth: no randomness: %v", err))
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)] // 256 % 57 bias is negligible for a 20-character password
	}
	return string(b)
}

// forget drops cached principals: all of them (key nil) or one.
func (s *Service) forget(key *[32]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if key == nil {
		clear(s.cache)
		return
	}
	delete(s.cache, *key)
}

func (s *Service) cached(key [32]byte) *Principal {
	if s.opt.CacheTTL < 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cache[key]
	if !ok {
		return nil
	}
	if s.opt.Now().After(c.exp) {
		delete(s.cache, key)
		return nil
	}
	return c.p
}

func (s *Service) remember(key [32]byte, p *Principal) {
	if s.opt.CacheTTL < 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opt.Now()
	if len(s.cache) >= maxCache {
		for k, c := range s.cache {
			if now.After(c.exp) {
				delete(s.cache, k)
			}
		}
		if len(s.cache) >= maxCache {
			clear(s.cache)
		}
	}
	s.cache[key] = cached{p: p, exp: now.Add(s.opt.CacheTTL)}
}

// withTimeout bounds a bookkeeping write that must not be cut short by
// the request ending.
func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
}
