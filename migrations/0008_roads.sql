-- The road network managers walk between due pipes (patrol deadheading),
-- imported whole by `waterline import --roads` (an OSM extract, a
-- shapefile, GeoJSON lines). Each row is one line as imported (an OSM way,
-- a feature's LineString); the walkable graph is noded in memory by the
-- planner (patrol/route.NewRoads): at shared vertices and at crossings of
-- roads on the same layer (bridges and tunnels cross without meeting).

CREATE TABLE roads (
    id        bigserial PRIMARY KEY,
    source_id text NOT NULL DEFAULT '',    -- the feature's id in the file (OSM: the way id)
    name      text NOT NULL DEFAULT '',
    highway   text NOT NULL DEFAULT '',    -- class (OSM highway=*), '' when the file has none
    layer     smallint NOT NULL DEFAULT 0, -- OSM layer (bridge 1, tunnel -1 when not given)
    geom      geometry(LineString, {{SRID}}) NOT NULL
);
CREATE INDEX roads_geom ON roads USING gist (geom);

-- One row: the road network's version, bumped by every committed road
-- import and announced on the waterline_roads channel. It is separate from
-- network_version: a road import does not change the pipes, so it must not
-- reload the pipe graph or invalidate tiles; planners compare it at each
-- plan and reload the road graph when it moved.
CREATE TABLE roads_version (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    version    bigint NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO roads_version (version) VALUES (0);

-- Each committed road import.
CREATE TABLE road_imports (
    id          bigserial PRIMARY KEY,
    file        text NOT NULL,
    format      text NOT NULL,
    source_crs  text NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    version     bigint NOT NULL,
    roads       integer NOT NULL,
    length_km   double precision NOT NULL,
    counts      jsonb NOT NULL -- what was kept and skipped, by class
);

-- Patrol routes deadheading on roads: the road legs (leg_kind 'R', whose
-- leg_from/leg_to hold the x/y of their start like 'O' legs) have their
-- geometry here, one LineString per 'R' leg in order: the road graph may
-- be replaced later, the stored route keeps the way it was planned.
ALTER TABLE patrol_routes ADD COLUMN road_m double precision NOT NULL DEFAULT 0;
ALTER TABLE patrol_routes ADD COLUMN leg_roads geometry(MultiLineString, {{SRID}});
