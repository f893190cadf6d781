// Package migrations holds the database schema as embedded SQL files (DDL
// only), applied in file-name order under a PostgreSQL advisory lock and
// recorded in schema_migrations. The storage CRS is part of the schema: it
// is substituted for {{SRID}} when a file is applied, recorded in the
// settings table, and every later start must use the same one.
package migrations

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed *.sql
var files embed.FS

// lockKey is the advisory lock that serialises migrations across replicas.
const lockKey = 0x57_61_74_65_72_31 // "Water1"

// Migration is one schema file.
type Migration struct {
	Name string
	SQL  string
}

// All returns the embedded migrations in order.
func All() ([]Migration, error) {
	names, err := fs.Glob(files, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]Migration, 0, len(names))
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Name: n, SQL: string(b)})
	}
	return out, nil
}

// MismatchError is returned when the database was created for another
// storage CRS than the one configured.
type MismatchError struct{ Stored, Configured int }

func (e *MismatchError) Error() string {
	return fmt.Sprintf("migrations: the database stores geometry in EPSG:%d but WATERLINE_SRID is %d; use the same CRS or a new database", e.Stored, e.Configured)
}

// Apply runs every migration not yet applied, each in its own transaction,
// holding an advisory lock so concurrent replicas apply them once. srid is
// the storage CRS; it must be known to PostGIS (spatial_ref_sys). It returns
// the names of the migrations it applied.
func Apply(ctx context.Context, pool *pgxpool.Pool, srid int) ([]string, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: acquire connection: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(lockKey)); err != nil {
		return nil, fmt.Errorf("migrations: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(lockKey)) //nolint:errcheck

	if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS postgis`); err != nil {
		return nil, fmt.Errorf("migrations: PostGIS is not available on this server (install postgresql-15-postgis-3): %w", err)
	}
	var known bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM spatial_ref_sys WHERE srid = $1)", srid).Scan(&known); err != nil {
		return nil, fmt.Errorf("migrations: check CRS: %w", err)
	}
	if !known {
		return nil, fmt.Errorf("migrations: storage CRS EPSG:%d is not known to PostGIS", srid)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("migrations: create schema_migrations: %w", err)
	}
	done := map[string]bool{}
	rows, err := conn.Query(ctx, "SELECT name FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("migrations: read applied: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("migrations: read applied: %w", err)
	}
	for _, n := range names {
		done[n] = true
	}
	if done["0001_network.sql"] {
		var stored string
		if err := conn.QueryRow(ctx, "SELECT value FROM settings WHERE key = 'srid'").Scan(&stored); err != nil {
			return nil, fmt.Errorf("migrations: read stored CRS: %w", err)
		}
		if s, _ := strconv.Atoi(stored); s != srid {
			return nil, &MismatchError{Stored: s, Configured: srid}
		}
	}
	all, err := All()
	if err != nil {
		return nil, err
	}
	var applied []string
	for _, m := range all {
		if done[m.Name] {
			continue
		}
		sql := strings.ReplaceAll(m.SQL, "{{SRID}}", strconv.Itoa(srid))
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, sql); err != nil {
				return err
			}
			if m.Name == "0001_network.sql" {
				if _, err := tx.Exec(ctx, "INSERT INTO settings (key, value) VALUES ('srid', $1)", strconv.Itoa(srid)); err != nil {
					return err
				}
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (name) VALUES ($1)", m.Name)
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("migrations: apply %s: %w", m.Name, err)
		}
		applied = append(applied, m.Name)
	}
	return applied, nil
}
