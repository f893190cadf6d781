package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Entry is one line of the audit log.
type Entry struct {
	ID        int64          `json:"id"`
	At        time.Time      `json:"at"`
	Actor     string         `json:"actor"`
	Role      string         `json:"role"`
	Via       string         `json:"via"`
	Action    string         `json:"action"`
	Target    map[string]any `json:"target"`
	Status    int            `json:"status"`
	Outcome   string         `json:"outcome"` // ok, rejected, denied, error
	Remote    string         `json:"remote"`
	RequestID string         `json:"request_id"`
}

// Outcome classifies an HTTP status for the audit log.
func Outcome(status int) string {
	switch {
	case status == 401 || status == 403:
		return "denied"
	case status >= 500:
		return "error"
	case status >= 400:
		return "rejected"
	}
	return "ok"
}

// Record appends an entry (its ID and, when zero, At are set by the
// database). It does not give up when ctx ends: an audited change has
// happened already.
func (s *Service) Record(ctx context.Context, e Entry) error {
	if e.Target == nil {
		e.Target = map[string]any{}
	}
	if e.Outcome == "" {
		e.Outcome = "ok"
	}
	target, err := json.Marshal(e.Target)
	if err != nil {
		return fmt.Errorf("auth: audit: %w", err)
	}
	wctx, cancel := withTimeout(ctx)
	defer cancel()
	var at any
	if !e.At.IsZero() {
		at = e.At
	}
	_, err = s.pool.Exec(wctx, `INSERT INTO audit_log (at, actor, role, via, action, target, status, outcome, remote, request_id)
		VALUES (coalesce($1, now()), $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		at, clip(e.Actor, 100), clip(e.Role, 50), clip(e.Via, 20), clip(e.Action, 300), target, e.Status, e.Outcome, clip(e.Remote, 100), clip(e.RequestID, 100))
	if err != nil {
		return fmt.Errorf("auth: audit: %w", err)
	}
	return nil
}

func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// AuditFilter selects audit entries; zero fields do not filter.
type AuditFilter struct {
	Actor     string
	Action    string // a prefix: "POST /api/repair" matches every repair change
	Outcome   string
	RequestID string
	From, To  time.Time // [From, To)
	BeforeID  int64     // page backwards: entries with a smaller id
	Limit     int       // default 100, at most 1000
}

// Audit lists entries matching f, newest first.
func (s *Service) Audit(ctx context.Context, f AuditFilter) ([]*Entry, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.Limit > 1000 {
		f.Limit = 1000
	}
	var from, to any
	if !f.From.IsZero() {
		from = f.From
	}
	if !f.To.IsZero() {
		to = f.To
	}
	rows, err := s.pool.Query(ctx, `SELECT id, at, actor, role, via, action, target, status, outcome, remote, request_id
		FROM audit_log
		WHERE ($1 = '' OR actor = $1)
		  AND ($2 = '' OR starts_with(action, $2))
		  AND ($3 = '' OR outcome = $3)
		  AND ($4 = '' OR request_id = $4)
		  AND ($5::timestamptz IS NULL OR at >= $5)
		  AND ($6::timestamptz IS NULL OR at < $6)
		  AND ($7 = 0 OR id < $7)
		ORDER BY id DESC LIMIT $8`, f.Actor, f.Action, f.Outcome, f.RequestID, from, to, f.BeforeID, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("auth: audit: %w", err)
	}
	defer rows.Close()
	out := []*Entry{}
	for rows.Next() {
		var e Entry
		var target []byte
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Role, &e.Via, &e.Action, &target, &e.Status, &e.Outcome, &e.Remote, &e.RequestID); err != nil {
			return nil, fmt.Errorf("auth: audit: %w", err)
		}
		if err := json.Unmarshal(target, &e.Target); err != nil {
			e.Target = map[string]any{}
		}
		out = append(out, &e)
	}
	return out, rows.Err()
}
