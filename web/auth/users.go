package auth

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/waterline-gis/waterline/gis"
)

// User is an account. Its password hash never leaves the package.
type User struct {
	ID          int64      `json:"id"`
	Name        string     `json:"name"`
	DisplayName string     `json:"display_name"`
	Role        Role       `json:"role"`
	Districts   []string   `json:"districts"`
	Disabled    bool       `json:"disabled"`
	HasPassword bool       `json:"has_password"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	LastLoginAt *time.Time `json:"last_login_at,omitempty"`
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$`)

// CheckName checks a user name: 1 to 64 letters, digits and _ . @ -,
// starting with a letter or digit.
func CheckName(name string) error {
	if !nameRE.MatchString(name) {
		return gis.Errorf(gis.Invalid, "user.bad_name", "a user name has 1 to 64 letters, digits, _ . @ or -, starting with a letter or digit")
	}
	return nil
}

func checkDistricts(role Role, ds []string) ([]string, error) {
	out := []string{}
	for _, d := range ds {
		d = strings.TrimSpace(d)
		if d == "" {
			continue
		}
		if len(d) > 100 {
			return nil, gis.Errorf(gis.Invalid, "user.bad_district", "a district id is at most 100 bytes")
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	if len(out) > 100 {
		return nil, gis.Errorf(gis.Invalid, "user.bad_district", "at most 100 districts")
	}
	if role == DistrictManager && len(out) == 0 {
		return nil, gis.Errorf(gis.Invalid, "user.needs_district", "a district manager is bound to one or more districts")
	}
	if role != DistrictManager && len(out) > 0 {
		return nil, gis.Errorf(gis.Invalid, "user.district_role", "only a district manager is bound to districts")
	}
	return out, nil
}

// NewUser is an account to create. An empty Password makes an account
// that cannot sign in with a password (a machine using API tokens).
type NewUser struct {
	Name        string   `json:"name"`
	DisplayName string   `json:"display_name"`
	Role        Role     `json:"role"`
	Districts   []string `json:"districts"`
	Password    string   `json:"password"`
}

const userCols = `id, name, display_name, role, districts, disabled, password_hash <> '', created_at, updated_at, last_login_at`

func scanUser(r pgx.Row) (*User, error) {
	var u User
	var role string
	if err := r.Scan(&u.ID, &u.Name, &u.DisplayName, &role, &u.Districts, &u.Disabled, &u.HasPassword, &u.CreatedAt, &u.UpdatedAt, &u.LastLoginAt); err != nil {
		return nil, err
	}
	u.Role = Role(role)
	if u.Districts == nil {
		u.Districts = []string{}
	}
	return &u, nil
}

// AddUser creates an account. Errors: Invalid (name, role, districts,
// password), Conflict (the name is taken).
func (s *Service) AddUser(ctx context.Context, nu NewUser) (*User, error) {
	if err := CheckName(nu.Name); err != nil {
		return nil, err
	}
	role, err := ParseRole(string(nu.Role))
	if err != nil {
		return nil, err
	}
	ds, err := checkDistricts(role, nu.Districts)
	if err != nil {
		return nil, err
	}
	if len(nu.DisplayName) > 200 {
		return nil, gis.Errorf(gis.Invalid, "user.bad_display_name", "a display name is at most 200 bytes")
	}
	hash := ""
	if nu.Password != "" {
		if err := CheckPassword(nu.Password); err != nil {
			return nil, err
		}
		if hash, err = s.hash(ctx, nu.Password); err != nil {
			return nil, err
		}
	}
	u, err := scanUser(s.pool.QueryRow(ctx, `INSERT INTO users (name, display_name, role, districts, password_hash, password_changed_at)
		VALUES ($1, $2, $3, $4, $5, CASE WHEN $5 <> '' THEN now() END) RETURNING `+userCols, nu.Name, nu.DisplayName, string(role), ds, hash))
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return nil, gis.Errorf(gis.Conflict, "user.exists", "a user %q exists already", nu.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: add user: %w", err)
	}
	return u, nil
}

// User returns an account. Errors: NotFound.
func (s *Service) User(ctx context.Context, name string) (*User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, "SELECT "+userCols+" FROM users WHERE name = $1", name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, gis.Errorf(gis.NotFound, "user.not_found", "no user %q", name)
	}
	if err != nil {
		return nil, fmt.Errorf("auth: user: %w", err)
	}
	return u, nil
}

// Users lists every account by name.
func (s *Service) Users(ctx context.Context) ([]*User, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+userCols+" FROM users ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("auth: users: %w", err)
	}
	defer rows.Close()
	out := []*User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("auth: users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// UserUpdate changes an account; nil fields stay.
type UserUpdate struct {
	DisplayName *string   `json:"display_name"`
	Role        *Role     `json:"role"`
	Districts   *[]string `json:"districts"`
	Disabled    *bool     `json:"disabled"`
}

// UpdateUser changes an account. A change of role or districts, or
// disabling it, ends its sessions and revokes nothing else: its tokens act
// with the new role (a disabled user's tokens stop working). Errors:
// NotFound, Invalid.
func (s *Service) UpdateUser(ctx context.Context, name string, up UserUpdate) (*User, error) {
	var out *User
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		u, err := scanUser(tx.QueryRow(ctx, "SELECT "+userCols+" FROM users WHERE name = $1 FOR UPDATE", name))
		if errors.Is(err, pgx.ErrNoRows) {
			return gis.Errorf(gis.NotFound, "user.not_found", "no user %q", name)
		}
		if err != nil {
			return err
		}
		role, ds := u.Role, u.Districts
		if up.Role != nil {
			if role, err = ParseRole(string(*up.Role)); err != nil {
				return err
			}
			if role != DistrictManager && up.Districts == nil {
				ds = nil
			}
		}
		if up.Districts != nil {
			ds = *up.Districts
		}
		if ds, err = checkDistricts(role, ds); err != nil {
			return err
		}
		display := u.DisplayName
		if up.DisplayName != nil {
			if len(*up.DisplayName) > 200 {
				return gis.Errorf(gis.Invalid, "user.bad_display_name", "a display name is at most 200 bytes")
			}
			display = *up.DisplayName
		}
		disabled := u.Disabled
		if up.Disabled != nil {
			disabled = *up.Disabled
		}
		out, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET display_name = $2, role = $3, districts = $4, disabled = $5, updated_at = now()
			WHERE id = $1 RETURNING `+userCols, u.ID, display, string(role), ds, disabled))
		if err != nil {
			return err
		}
		if role != u.Role || !slices.Equal(ds, u.Districts) || disabled {
			_, err = tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = $1", u.ID)
		}
		return err
	})
	s.forget(nil)
	var ge *gis.Error
	if errors.As(err, &ge) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("auth: update user: %w", err)
	}
	return out, nil
}

// SetPassword replaces a user's password ("" removes password sign-in)
// and ends the user's sessions. Errors: NotFound, Invalid.
func (s *Service) SetPassword(ctx context.Context, name, pw string) error {
	hash := ""
	if pw != "" {
		if err := CheckPassword(pw); err != nil {
			return err
		}
		var err error
		if hash, err = s.hash(ctx, pw); err != nil {
			return err
		}
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `UPDATE users SET password_hash = $2, password_changed_at = now(), updated_at = now()
			WHERE name = $1 RETURNING id`, name, hash).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return gis.Errorf(gis.NotFound, "user.not_found", "no user %q", name)
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = $1", id)
		return err
	})
	s.forget(nil)
	var ge *gis.Error
	if err != nil && !errors.As(err, &ge) {
		return fmt.Errorf("auth: set password: %w", err)
	}
	return err
}

// ChangePassword is a signed-in user changing their own password: old
// must match. The user's other sessions end; keep is kept (the session
// digest making the change, or nil). Errors: ErrBadCredentials, Invalid.
func (s *Service) ChangePassword(ctx context.Context, userID int64, old, pw string, keep []byte) error {
	if err := CheckPassword(pw); err != nil {
		return err
	}
	var hash string
	if err := s.pool.QueryRow(ctx, "SELECT password_hash FROM users WHERE id = $1 AND NOT disabled", userID).Scan(&hash); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrBadCredentials
		}
		return fmt.Errorf("auth: change password: %w", err)
	}
	ok, err := s.verify(ctx, old, hash)
	if err != nil {
		return err
	}
	if !ok || hash == "" {
		return ErrBadCredentials
	}
	nh, err := s.hash(ctx, pw)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE users SET password_hash = $2, password_changed_at = now(), updated_at = now() WHERE id = $1", userID, nh); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = $1 AND id_hash IS DISTINCT FROM $2", userID, keep)
		return err
	})
	s.forget(nil)
	if err != nil {
		return fmt.Errorf("auth: change password: %w", err)
	}
	return nil
}

// EnsureAdmin makes sure an administrator called name can sign in. When
// the user is missing it is created with a random password, returned with
// created true. With reset, an existing user gets a new random password
// (returned), is enabled and made an administrator. Otherwise an existing
// user is left alone and the password is "".
func (s *Service) EnsureAdmin(ctx context.Context, name string, reset bool) (password string, created bool, err error) {
	if err := CheckName(name); err != nil {
		return "", false, err
	}
	pw := GeneratePassword()
	_, err = s.AddUser(ctx, NewUser{Name: name, DisplayName: "Administrator", Role: Admin, Password: pw})
	if err == nil {
		return pw, true, nil
	}
	var ge *gis.Error
	if !errors.As(err, &ge) || ge.Kind != gis.Conflict {
		return "", false, err
	}
	if !reset {
		return "", false, nil
	}
	admin, no := Admin, false
	if _, err := s.UpdateUser(ctx, name, UserUpdate{Role: &admin, Disabled: &no}); err != nil {
		return "", false, err
	}
	if err := s.SetPassword(ctx, name, pw); err != nil {
		return "", false, err
	}
	return pw, false, nil
}

// HasUsers says whether any account exists.
func (s *Service) HasUsers(ctx context.Context) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM users)").Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("auth: %w", err)
	}
	return ok, nil
}
