-- The pipe network. Geometry columns are typmod-constrained to the
-- deployment's storage CRS ({{SRID}} is substituted once, at first migration;
-- the value is recorded in settings and checked at every start).

CREATE TABLE settings (
    key   text PRIMARY KEY,
    value text NOT NULL
);

-- One row: the network version, bumped by every committed change.
CREATE TABLE network_version (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    version    bigint NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO network_version (version) VALUES (0);

CREATE TABLE imports (
    id          bigserial PRIMARY KEY,
    file        text NOT NULL,
    format      text NOT NULL,
    source_crs  text NOT NULL,
    mode        text NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    version     bigint NOT NULL,
    counts      jsonb NOT NULL,
    warnings    jsonb NOT NULL,
    provenance  jsonb NOT NULL
);

CREATE TABLE districts (
    id      text PRIMARY KEY,
    name    text NOT NULL DEFAULT '',
    manager text NOT NULL DEFAULT '',
    geom    geometry(MultiPolygon, {{SRID}}),
    extra   jsonb
);
CREATE INDEX districts_geom ON districts USING gist (geom);

-- Junctions: pipe ends within the snapping tolerance, and tees.
CREATE TABLE nodes (
    id   integer PRIMARY KEY,
    geom geometry(Point, {{SRID}}) NOT NULL
);
CREATE INDEX nodes_geom ON nodes USING gist (geom);

CREATE TABLE pipes (
    seq          integer NOT NULL UNIQUE, -- dense order of the in-memory graph
    id           text PRIMARY KEY,
    dn           integer NOT NULL DEFAULT 0, -- mm; 0 = unknown
    dn_inferred  boolean NOT NULL DEFAULT false,
    material     text NOT NULL DEFAULT '',
    role         text NOT NULL DEFAULT '',
    crossing     text NOT NULL DEFAULT '',
    status       text NOT NULL DEFAULT 'in_service'
                 CHECK (status IN ('in_service', 'abandoned', 'planned')),
    install_year integer,
    district     text NOT NULL DEFAULT '',
    grade        text NOT NULL DEFAULT '',
    from_node    integer,
    to_node      integer,
    length_m     double precision NOT NULL,
    geom         geometry(LineString, {{SRID}}) NOT NULL,
    z            double precision[],
    extra        jsonb
);
CREATE INDEX pipes_geom ON pipes USING gist (geom);
CREATE INDEX pipes_grade ON pipes (grade);
CREATE INDEX pipes_district ON pipes (district);

-- A tee: the junction node cuts pipe_seq at distance s from its start.
CREATE TABLE pipe_tees (
    pipe_seq integer NOT NULL,
    node_id  integer NOT NULL,
    s        double precision NOT NULL
);

-- Placed features: pipe_id is what the data said (may be empty), at_pipe
-- the pipe (seq) the feature sits on after placement (NULL = takes no part),
-- s its distance along that pipe.
CREATE TABLE valves (
    seq           integer NOT NULL UNIQUE,
    id            text PRIMARY KEY,
    pipe_id       text NOT NULL DEFAULT '',
    at_pipe       integer,
    s             double precision NOT NULL DEFAULT 0,
    dn            integer NOT NULL DEFAULT 0,
    normally_open boolean NOT NULL DEFAULT true,
    operable      boolean NOT NULL DEFAULT true,
    geom          geometry(Point, {{SRID}}) NOT NULL,
    z             double precision,
    extra         jsonb
);
CREATE INDEX valves_geom ON valves USING gist (geom);

CREATE TABLE sources (
    seq     integer NOT NULL UNIQUE,
    id      text PRIMARY KEY,
    type    text NOT NULL DEFAULT '',
    at_pipe integer,
    s       double precision NOT NULL DEFAULT 0,
    geom    geometry(Point, {{SRID}}) NOT NULL,
    z       double precision,
    extra   jsonb
);
CREATE INDEX sources_geom ON sources USING gist (geom);

CREATE TABLE hydrants (
    seq     integer NOT NULL UNIQUE,
    id      text PRIMARY KEY,
    pipe_id text NOT NULL DEFAULT '',
    at_pipe integer,
    s       double precision NOT NULL DEFAULT 0,
    geom    geometry(Point, {{SRID}}) NOT NULL,
    z       double precision,
    extra   jsonb
);
CREATE INDEX hydrants_geom ON hydrants USING gist (geom);

CREATE TABLE connections (
    seq     integer NOT NULL UNIQUE,
    id      text PRIMARY KEY,
    pipe_id text NOT NULL DEFAULT '',
    at_pipe integer,
    s       double precision NOT NULL DEFAULT 0,
    geom    geometry(Point, {{SRID}}) NOT NULL,
    z       double precision,
    extra   jsonb
);
CREATE INDEX connections_geom ON connections USING gist (geom);

CREATE TABLE customers (
    seq           integer NOT NULL UNIQUE,
    id            text PRIMARY KEY,
    connection_id text NOT NULL DEFAULT '',
    pipe_id       text NOT NULL DEFAULT '',
    at_conn       integer,
    at_pipe       integer,
    s             double precision NOT NULL DEFAULT 0,
    pipe_level    boolean NOT NULL DEFAULT false,
    name          text NOT NULL DEFAULT '',
    address       text NOT NULL DEFAULT '',
    phone         text NOT NULL DEFAULT '',
    category      text NOT NULL DEFAULT '',
    critical      boolean NOT NULL DEFAULT false,
    households    integer NOT NULL DEFAULT 1 CHECK (households >= 1),
    geom          geometry(Point, {{SRID}}),
    z             double precision,
    extra         jsonb
);
CREATE INDEX customers_geom ON customers USING gist (geom);
