package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/waterline-gis/waterline/gis"
)

// Session is a new sign-in: Token goes into the cookie, CSRF to the page.
type Session struct {
	Token   string
	CSRF    string
	Expires time.Time // the cookie's end (the session's absolute end)
}

// Login checks a password and opens a session. It returns
// ErrBadCredentials for an unknown user, a wrong password or a disabled
// account, taking the same time for each.
func (s *Service) Login(ctx context.Context, name, password, remote, userAgent string) (*Session, *Principal, error) {
	var (
		id       int64
		hash     string
		disabled bool
	)
	err := s.pool.QueryRow(ctx, "SELECT id, password_hash, disabled FROM users WHERE name = $1", name).Scan(&id, &hash, &disabled)
	if errors.Is(err, pgx.ErrNoRows) {
		hash = ""
	} else if err != nil {
		return nil, nil, fmt.Errorf("auth: login: %w", err)
	}
	check := hash
	if check == "" {
		check = s.dummy
	}
	ok, err := s.verify(ctx, password, check)
	if err != nil {
		return nil, nil, err
	}
	if !ok || hash == "" || disabled {
		return nil, nil, ErrBadCredentials
	}
	if s.needsRehash(hash) {
		if nh, err := s.hash(ctx, password); err == nil {
			s.pool.Exec(ctx, "UPDATE users SET password_hash = $2 WHERE id = $1 AND password_hash = $3", id, nh, hash) //nolint:errcheck // an upgrade; retried next time
		}
	}
	now := s.opt.Now()
	sess := &Session{Token: randomToken(32), CSRF: randomToken(32), Expires: now.Add(s.opt.SessionMax)}
	key := digest(sess.Token)
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO sessions (id_hash, user_id, csrf, created_at, last_seen_at, expires_at, max_until, remote, user_agent)
		VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8)`, key[:], id, sess.CSRF, now, now.Add(min(s.opt.SessionIdle, s.opt.SessionMax)), sess.Expires,
		remote, strings.ToValidUTF8(userAgent, "")); err != nil {
		return nil, nil, fmt.Errorf("auth: login: %w", err)
	}
	if _, err := s.pool.Exec(ctx, "UPDATE users SET last_login_at = $2 WHERE id = $1", id, now); err != nil {
		return nil, nil, fmt.Errorf("auth: login: %w", err)
	}
	// Sweep expired sessions now and then (a sign-in is a rare event).
	s.pool.Exec(ctx, "DELETE FROM sessions WHERE expires_at < $1", now.Add(-time.Hour)) //nolint:errcheck // housekeeping
	p, err := s.Session(ctx, sess.Token)
	if err != nil {
		return nil, nil, err
	}
	return sess, p, nil
}

// Logout ends the session whose cookie value is token.
func (s *Service) Logout(ctx context.Context, token string) error {
	key := digest(token)
	s.forget(&key)
	if _, err := s.pool.Exec(ctx, "DELETE FROM sessions WHERE id_hash = $1", key[:]); err != nil {
		return fmt.Errorf("auth: logout: %w", err)
	}
	return nil
}

// EndSessions ends every session of a user (other replicas stop
// accepting them within CacheTTL).
func (s *Service) EndSessions(ctx context.Context, name string) (int64, error) {
	tag, err := s.pool.Exec(ctx, "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = $1)", name)
	s.forget(nil)
	if err != nil {
		return 0, fmt.Errorf("auth: end sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}

// Session resolves a session cookie. An unknown, expired or ended
// session, or a disabled user, is ErrUnauthenticated. Use slides the idle
// expiry forward (written at most once a minute).
func (s *Service) Session(ctx context.Context, token string) (*Principal, error) {
	if token == "" || len(token) > 100 {
		return nil, ErrUnauthenticated
	}
	key := digest(token)
	if p := s.cached(key); p != nil {
		return p, nil
	}
	now := s.opt.Now()
	p := &Principal{Via: ViaSession, Session: key[:]}
	var (
		role     string
		lastSeen time.Time
		maxUntil time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT u.id, u.name, u.display_name, u.role, u.districts, s.csrf, s.last_seen_at, s.max_until
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id_hash = $1 AND s.expires_at > $2 AND NOT u.disabled`, key[:], now).
		Scan(&p.UserID, &p.Name, &p.DisplayName, &role, &p.Districts, &p.CSRF, &lastSeen, &maxUntil)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, fmt.Errorf("auth: session: %w", err)
	}
	p.Role = Role(role)
	if p.Districts == nil {
		p.Districts = []string{}
	}
	if now.Sub(lastSeen) > time.Minute {
		exp := now.Add(s.opt.SessionIdle)
		if exp.After(maxUntil) {
			exp = maxUntil
		}
		wctx, cancel := withTimeout(ctx)
		s.pool.Exec(wctx, "UPDATE sessions SET last_seen_at = $2, expires_at = $3 WHERE id_hash = $1", key[:], now, exp) //nolint:errcheck // bookkeeping
		cancel()
	}
	s.remember(key, p)
	return p, nil
}

// TokenPrefix starts every API token.
const TokenPrefix = "wlt_"

// Token describes an API token (never the token itself).
type Token struct {
	ID         int64      `json:"id"`
	User       string     `json:"user"`
	Label      string     `json:"label"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	CreatedBy  string     `json:"created_by"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// CreateToken makes an API token acting as user, returning the token
// (shown once: only its digest is kept). expires nil: no end. Errors:
// NotFound (user), Invalid.
func (s *Service) CreateToken(ctx context.Context, user, label string, expires *time.Time, by string) (string, *Token, error) {
	if len(label) > 200 {
		return "", nil, gis.Errorf(gis.Invalid, "token.bad_label", "a label is at most 200 bytes")
	}
	if expires != nil && !expires.After(s.opt.Now()) {
		return "", nil, gis.Errorf(gis.Invalid, "token.bad_expiry", "the expiry must lie in the future")
	}
	secret := TokenPrefix + randomToken(32)
	key := digest(secret)
	t := &Token{User: user, Label: label, Prefix: secret[:len(TokenPrefix)+6], CreatedBy: by, ExpiresAt: expires}
	err := s.pool.QueryRow(ctx, `INSERT INTO api_tokens (user_id, label, hash, prefix, created_by, expires_at)
		SELECT id, $2, $3, $4, $5, $6 FROM users WHERE name = $1 RETURNING id, created_at`,
		user, label, key[:], t.Prefix, by, expires).Scan(&t.ID, &t.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, gis.Errorf(gis.NotFound, "user.not_found", "no user %q", user)
	}
	if err != nil {
		return "", nil, fmt.Errorf("auth: create token: %w", err)
	}
	return secret, t, nil
}

// Tokens lists the tokens of a user ("": every user's), newest first.
func (s *Service) Tokens(ctx context.Context, user string) ([]*Token, error) {
	rows, err := s.pool.Query(ctx, `SELECT t.id, u.name, t.label, t.prefix, t.created_at, t.created_by, t.expires_at, t.last_used_at, t.revoked_at
		FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE $1 = '' OR u.name = $1 ORDER BY t.id DESC`, user)
	if err != nil {
		return nil, fmt.Errorf("auth: tokens: %w", err)
	}
	defer rows.Close()
	out := []*Token{}
	for rows.Next() {
		var t Token
		if err := rows.Scan(&t.ID, &t.User, &t.Label, &t.Prefix, &t.CreatedAt, &t.CreatedBy, &t.ExpiresAt, &t.LastUsedAt, &t.RevokedAt); err != nil {
			return nil, fmt.Errorf("auth: tokens: %w", err)
		}
		out = append(out, &t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a token by id. Errors: NotFound.
func (s *Service) RevokeToken(ctx context.Context, id int64) (*Token, error) {
	var t Token
	err := s.pool.QueryRow(ctx, `UPDATE api_tokens t SET revoked_at = coalesce(t.revoked_at, now()) FROM users u
		WHERE t.id = $1 AND u.id = t.user_id
		RETURNING t.id, u.name, t.label, t.prefix, t.created_at, t.created_by, t.expires_at, t.last_used_at, t.revoked_at`, id).
		Scan(&t.ID, &t.User, &t.Label, &t.Prefix, &t.CreatedAt, &t.CreatedBy, &t.ExpiresAt, &t.LastUsedAt, &t.RevokedAt)
	s.forget(nil)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, gis.Errorf(gis.NotFound, "token.not_found", "no token %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: revoke token: %w", err)
	}
	return &t, nil
}

// APIToken resolves a bearer token. An unknown, expired or revoked token,
// or a disabled user, is ErrUnauthenticated.
func (s *Service) APIToken(ctx context.Context, secret string) (*Principal, error) {
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 100 {
		return nil, ErrUnauthenticated
	}
	key := digest(secret)
	if p := s.cached(key); p != nil {
		return p, nil
	}
	now := s.opt.Now()
	p := &Principal{Via: ViaToken}
	var (
		role     string
		lastUsed *time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT u.id, u.name, u.display_name, u.role, u.districts, t.id, t.last_used_at
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2) AND NOT u.disabled`, key[:], now).
		Scan(&p.UserID, &p.Name, &p.DisplayName, &role, &p.Districts, &p.TokenID, &lastUsed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, fmt.Errorf("auth: token: %w", err)
	}
	p.Role = Role(role)
	if p.Districts == nil {
		p.Districts = []string{}
	}
	if lastUsed == nil || now.Sub(*lastUsed) > time.Minute {
		wctx, cancel := withTimeout(ctx)
		s.pool.Exec(wctx, "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1", p.TokenID, now) //nolint:errcheck // bookkeeping
		cancel()
	}
	s.remember(key, p)
	return p, nil
}
