-- Patrol planning: district settings, daily plans (routes and the pipes they
-- patrol), GPS tracks and what they covered, each pipe's last patrol, and
-- anomaly reports with photos. Days are calendar dates in the utility's
-- time zone (type date); instants are timestamptz.

-- Optional per-district settings; without a row a district starts from its
-- polygon's interior point and its managers are the names in
-- districts.manager (split on commas).
CREATE TABLE patrol_districts (
    district    text PRIMARY KEY,
    office      geometry(Point, {{SRID}}),
    managers    text[],
    mode        text,             -- walk | ebike | car (rules: speeds)
    capacity_km double precision, -- per manager per day; NULL = rules
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One manager's route for one day. Its walk is stored as legs in parallel
-- arrays: leg_pipe (pipe id, '' for a straight walk off the pipe network),
-- leg_from/leg_to (distances along the pipe; from > to when walked against
-- the pipe's direction; for an off-network leg, the x/y of its start — it
-- ends where the next leg starts, or at the route's start), leg_len
-- (metres) and leg_kind (one character per leg: P patrol, W walk along
-- pipes, O off the network).
CREATE TABLE patrol_routes (
    id              bigserial PRIMARY KEY,
    plan_date       date NOT NULL,
    district        text NOT NULL,
    idx             integer NOT NULL, -- 1..of within the district's day
    of              integer NOT NULL,
    manager         text NOT NULL DEFAULT '',
    network_version bigint NOT NULL,
    planned_at      timestamptz NOT NULL DEFAULT now(),
    start           geometry(Point, {{SRID}}) NOT NULL,
    start_source    text NOT NULL, -- office | given | district | pipes
    mode            text NOT NULL,
    speed_kmh       double precision NOT NULL,
    total_m         double precision NOT NULL,
    patrol_m        double precision NOT NULL,
    deadhead_m      double precision NOT NULL,
    offnet_m        double precision NOT NULL,
    lower_bound_m   double precision NOT NULL,
    minutes         double precision NOT NULL,
    capacity_m      double precision NOT NULL,
    over_capacity   boolean NOT NULL,
    pipes           integer NOT NULL,
    overdue         integer NOT NULL,
    leg_pipe        text[] NOT NULL,
    leg_from        double precision[] NOT NULL,
    leg_to          double precision[] NOT NULL,
    leg_len         double precision[] NOT NULL,
    leg_kind        text NOT NULL,
    UNIQUE (plan_date, district, idx)
);

-- The pipes on a day's plan: one row per pipe and day.
CREATE TABLE patrol_plan_pipes (
    plan_date  date NOT NULL,
    pipe_id    text NOT NULL,
    route_id   bigint NOT NULL REFERENCES patrol_routes (id) ON DELETE CASCADE,
    district   text NOT NULL,
    grade      text NOT NULL,
    every_days integer NOT NULL,
    due        date NOT NULL,    -- the day by which it had to be patrolled
    overdue    boolean NOT NULL, -- due before plan_date
    length_m   double precision NOT NULL,
    PRIMARY KEY (plan_date, pipe_id)
);
CREATE INDEX patrol_plan_pipes_route ON patrol_plan_pipes (route_id);
CREATE INDEX patrol_plan_pipes_due ON patrol_plan_pipes (due);

-- Uploaded GPS tracks (transformed into the storage CRS).
CREATE TABLE patrol_tracks (
    id          bigserial PRIMARY KEY,
    district    text NOT NULL,
    manager     text NOT NULL DEFAULT '',
    route_id    bigint REFERENCES patrol_routes (id) ON DELETE SET NULL,
    track_date  date NOT NULL, -- local date of its first point
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz NOT NULL,
    uploaded_at timestamptz NOT NULL DEFAULT now(),
    format      text NOT NULL,
    name        text NOT NULL DEFAULT '',
    points      integer NOT NULL,
    length_m    double precision NOT NULL,
    patrolled   integer NOT NULL, -- pipes counted as patrolled
    geom        geometry(LineString, {{SRID}}) NOT NULL
);
CREATE INDEX patrol_tracks_date ON patrol_tracks (track_date, district);
CREATE INDEX patrol_tracks_geom ON patrol_tracks USING gist (geom);

-- What a track covered: every pipe with any part within the buffer.
CREATE TABLE patrol_coverage (
    track_id  bigint NOT NULL REFERENCES patrol_tracks (id) ON DELETE CASCADE,
    pipe_id   text NOT NULL,
    covered_m double precision NOT NULL,
    fraction  real NOT NULL,
    patrolled boolean NOT NULL, -- fraction reached the rules' threshold
    at        timestamptz NOT NULL,
    PRIMARY KEY (track_id, pipe_id)
);
CREATE INDEX patrol_coverage_pipe ON patrol_coverage (pipe_id);

-- A pipe patrolled on a day (by any track).
CREATE TABLE patrol_pipe_days (
    pipe_id  text NOT NULL,
    day      date NOT NULL,
    first_at timestamptz NOT NULL,
    track_id bigint REFERENCES patrol_tracks (id) ON DELETE SET NULL,
    PRIMARY KEY (pipe_id, day)
);
CREATE INDEX patrol_pipe_days_day ON patrol_pipe_days (day);

-- Each pipe's patrol state: its last patrol, and for a pipe never
-- patrolled the day it first fell due (its first phase day once known).
CREATE TABLE patrol_pipe_state (
    pipe_id   text PRIMARY KEY,
    last_day  date,
    last_at   timestamptz,
    first_due date NOT NULL
);

CREATE TABLE patrol_anomalies (
    id          bigserial PRIMARY KEY,
    type        text NOT NULL CHECK (type IN ('lost', 'damaged', 'buried', 'chamber_collapsed', 'leak', 'other')),
    district    text NOT NULL DEFAULT '',
    manager     text NOT NULL DEFAULT '',
    pipe_id     text NOT NULL DEFAULT '', -- nearest in-service pipe, if any
    note        text NOT NULL DEFAULT '',
    geom        geometry(Point, {{SRID}}) NOT NULL,
    found_at    timestamptz NOT NULL,
    reported_at timestamptz NOT NULL,
    late        boolean NOT NULL, -- reported later than the rules allow
    repair_job  text NOT NULL DEFAULT ''
);
CREATE INDEX patrol_anomalies_found ON patrol_anomalies (found_at);
CREATE INDEX patrol_anomalies_geom ON patrol_anomalies USING gist (geom);

CREATE TABLE patrol_anomaly_photos (
    id           bigserial PRIMARY KEY,
    anomaly_id   bigint NOT NULL REFERENCES patrol_anomalies (id) ON DELETE CASCADE,
    content_type text NOT NULL,
    size         integer NOT NULL,
    data         bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX patrol_anomaly_photos_anomaly ON patrol_anomaly_photos (anomaly_id);
