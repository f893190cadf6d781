package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/waterline-gis/waterline/gis"
	"github.com/waterline-gis/waterline/patrol"
	"github.com/waterline-gis/waterline/repair"
)

// Config is the service's configuration: the environment, overridden by
// flags.
type Config struct {
	DatabaseURL string
	SRID        int
	TZ          *time.Location
	Addr        string
	RulesFile   string
	Rules       Rules
}

// Rules is the rules file: every number of the service standard that a
// utility may change. Missing sections keep their defaults.
type Rules struct {
	Grades gis.GradeRules     `toml:"grades"`
	Patrol patrol.Rules       `toml:"patrol"`
	Notice repair.NoticeRules `toml:"notice"`
	Repair repair.Rules       `toml:"repair"`
}

// DefaultRules are the rules of Jinan Water Group's service standard.
func DefaultRules() Rules {
	return Rules{Grades: gis.DefaultGradeRules(), Patrol: patrol.DefaultRules(),
		Notice: repair.DefaultNoticeRules(), Repair: repair.DefaultRules()}
}

// LoadRules reads a rules file over the defaults. An empty path gives the
// defaults.
func LoadRules(path string) (Rules, error) {
	r := DefaultRules()
	if path == "" {
		return r, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return r, fmt.Errorf("rules: %w", err)
	}
	md, err := toml.Decode(string(b), &r)
	if err != nil {
		return r, fmt.Errorf("rules: %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return r, fmt.Errorf("rules: %s: unknown setting %q", path, und[0].String())
	}
	if err := r.Grades.Validate(); err != nil {
		return r, fmt.Errorf("rules: %s: %w", path, err)
	}
	if err := r.Notice.Validate(); err != nil {
		return r, fmt.Errorf("rules: %s: %w", path, err)
	}
	if err := r.Patrol.Validate(); err != nil {
		return r, fmt.Errorf("rules: %s: %w", path, err)
	}
	if err := r.Repair.Validate(); err != nil {
		return r, fmt.Errorf("rules: %s: %w", path, err)
	}
	return r, nil
}

// EncodeRules renders rules as a TOML rules file.
func EncodeRules(r Rules) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("# Waterline rules: every number of the service standard, editable.\n# Start from this file: waterline rules > rules.toml; then WATERLINE_RULES=rules.toml.\n\n")
	err := toml.NewEncoder(&buf).Encode(r)
	return buf.Bytes(), err
}

// envConfig holds the environment's values as flag defaults.
type envConfig struct {
	getenv func(string) string
	url    string
	srid   int
	tz     string
	addr   string
	rules  string
}

// bind registers the common configuration flags on fs, defaulting to the
// environment (DATABASE_URL, WATERLINE_SRID, WATERLINE_TZ, WATERLINE_ADDR,
// WATERLINE_RULES).
func bindConfig(fs *flag.FlagSet, getenv func(string) string, withAddr bool) *envConfig {
	e := &envConfig{getenv: getenv}
	srid := 4548
	if v := getenv("WATERLINE_SRID"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			srid = n
		} else {
			srid = -1
		}
	}
	tz := getenv("WATERLINE_TZ")
	if tz == "" {
		tz = "Asia/Shanghai"
	}
	addr := getenv("WATERLINE_ADDR")
	if addr == "" {
		addr = ":8080"
	}
	fs.StringVar(&e.url, "db", getenv("DATABASE_URL"), "PostgreSQL/PostGIS URL (env DATABASE_URL)")
	fs.IntVar(&e.srid, "srid", srid, "storage CRS as an EPSG code, metric (env WATERLINE_SRID)")
	fs.StringVar(&e.tz, "tz", tz, "the utility's time zone (env WATERLINE_TZ)")
	if withAddr {
		fs.StringVar(&e.addr, "addr", addr, "HTTP listen address (env WATERLINE_ADDR)")
	}
	fs.StringVar(&e.rules, "rules", getenv("WATERLINE_RULES"), "rules file (TOML) for grades and deadlines; defaults built in (env WATERLINE_RULES)")
	return e
}

// resolve turns the parsed flags into a Config.
func (e *envConfig) resolve() (*Config, error) {
	if e.url == "" {
		return nil, fmt.Errorf("no database: set DATABASE_URL or pass -db (make demo starts a local PostGIS)")
	}
	if e.srid <= 0 {
		return nil, fmt.Errorf("WATERLINE_SRID must be an EPSG code such as 4548")
	}
	loc, err := time.LoadLocation(e.tz)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", e.tz, err)
	}
	rules, err := LoadRules(e.rules)
	if err != nil {
		return nil, err
	}
	return &Config{DatabaseURL: e.url, SRID: e.srid, TZ: loc, Addr: e.addr, RulesFile: e.rules, Rules: rules}, nil
}

// serveConfig is what `serve` reads beyond Config: sign-in behind a proxy,
// the metrics listener, the morning job's retry.
type serveConfig struct {
	metricsAddr string
	origins     []string
	originsRaw  string
	trustProxy  bool
	catchUp     time.Duration
}

// bindServeConfig registers serve's flags, defaulting to the environment:
// WATERLINE_METRICS_ADDR, WATERLINE_TRUSTED_ORIGINS (comma-separated),
// WATERLINE_TRUST_PROXY (1/true), WATERLINE_CATCHUP (a duration).
func bindServeConfig(fs *flag.FlagSet, getenv func(string) string) *serveConfig {
	c := &serveConfig{}
	trust, _ := strconv.ParseBool(getenv("WATERLINE_TRUST_PROXY"))
	catchUp := 10 * time.Minute
	if v := getenv("WATERLINE_CATCHUP"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			catchUp = d
		} else {
			catchUp = -1
		}
	}
	fs.StringVar(&c.metricsAddr, "metrics-addr", getenv("WATERLINE_METRICS_ADDR"),
		"serve /metrics without sign-in on this address only, e.g. 127.0.0.1:9090 (env WATERLINE_METRICS_ADDR); on the main address it needs an administrator")
	fs.StringVar(&c.originsRaw, "trusted-origins", getenv("WATERLINE_TRUSTED_ORIGINS"),
		"comma-separated origins whose pages may change state, when a reverse proxy rewrites Host, e.g. https://waterline.example.cn (env WATERLINE_TRUSTED_ORIGINS)")
	fs.BoolVar(&c.trustProxy, "trust-proxy", trust,
		"take the client address from the last X-Forwarded-For entry, for per-client limits and the audit log (env WATERLINE_TRUST_PROXY)")
	fs.DurationVar(&c.catchUp, "catch-up", catchUp, "how often a missed or failed morning patrol plan is retried; 0: never (env WATERLINE_CATCHUP)")
	return c
}

func (c *serveConfig) check() error {
	if c.catchUp < 0 {
		return usageError{"WATERLINE_CATCHUP / -catch-up must be a duration such as 10m"}
	}
	for _, o := range strings.Split(c.originsRaw, ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.origins = append(c.origins, o)
		}
	}
	return nil
}
