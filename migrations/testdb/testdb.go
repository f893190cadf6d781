// Package testdb gives each test its own PostGIS database, migrated, on the
// server named by WATERLINE_TEST_DATABASE_URL (default: the local server on
// 127.0.0.1:5432 as user postgres). Databases are cloned from a migrated
// template (one per storage CRS and schema version), so each costs one
// CREATE DATABASE; they are dropped when the test ends.
//
// Tests that use it talk to a real PostGIS: when the server is unreachable
// the test fails, it is not skipped.
package testdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/waterline-gis/waterline/gis/store"
	"github.com/waterline-gis/waterline/migrations"
)

// AdminURL is the server the test databases are made on.
func AdminURL() string {
	if u := os.Getenv("WATERLINE_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

func withDB(admin, db string) string {
	u, err := url.Parse(admin)
	if err != nil {
		return admin
	}
	u.Path = "/" + db
	return u.String()
}

func schemaHash() string {
	h := sha256.New()
	all, _ := migrations.All()
	for _, m := range all {
		h.Write([]byte(m.Name))
		h.Write([]byte(m.SQL))
	}
	return hex.EncodeToString(h.Sum(nil))[:10]
}

// ensureTemplate creates the migrated template database for srid once.
func ensureTemplate(ctx context.Context, admin *pgx.Conn, srid int) (string, error) {
	name := fmt.Sprintf("waterline_tmpl_%d_%s", srid, schemaHash())
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(4242)"); err != nil {
		return "", err
	}
	defer admin.Exec(context.Background(), "SELECT pg_advisory_unlock(4242)") //nolint:errcheck
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	tmp := name + "_build"
	admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{tmp}.Sanitize()) //nolint:errcheck
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{tmp}.Sanitize()); err != nil {
		return "", err
	}
	pool, err := store.Connect(ctx, withDB(AdminURL(), tmp), 10*time.Second)
	if err != nil {
		return "", err
	}
	_, err = migrations.Apply(ctx, pool, srid)
	pool.Close()
	if err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{tmp}.Sanitize()+" RENAME TO "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	return name, nil
}

// New returns a pool on a fresh migrated database storing geometry in
// EPSG:srid, and its URL. The database is dropped at the end of the test.
func New(t testing.TB, srid int) (*pgxpool.Pool, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatalf("testdb: PostGIS is needed for this test; connect %s: %v (run `make test`, which starts it)", AdminURL(), err)
	}
	defer admin.Close(context.Background())
	tmpl, err := ensureTemplate(ctx, admin, srid)
	if err != nil {
		t.Fatalf("testdb: template: %v", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "waterline_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+pgx.Identifier{tmpl}.Sanitize()); err != nil {
		t.Fatalf("testdb: create database: %v", err)
	}
	dbURL := withDB(AdminURL(), name)
	pool, err := store.Connect(ctx, dbURL, 10*time.Second)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		c, err := pgx.Connect(context.Background(), AdminURL())
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)") //nolint:errcheck
	})
	return pool, dbURL
}
