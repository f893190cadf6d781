-- Repair jobs (service standard §3, §4) and planned shutoffs: the work
-- order, the shutoff plan attached when the job was opened, milestones as
-- recorded, valve failures on site, escalations of overdue milestones, and
-- the holiday calendars working days are counted by. Deadlines are never
-- stored: they are recomputed from these times and the rules.

CREATE TABLE repair_jobs (
    id                    bigserial PRIMARY KEY,
    kind                  text NOT NULL CHECK (kind IN ('emergency', 'planned')),
    status                text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed', 'cancelled')),
    ordered_at            timestamptz NOT NULL, -- the repair order; deadlines count from it
    created_at            timestamptz NOT NULL,
    created_by            text NOT NULL,
    -- The work order (§4).
    source                text NOT NULL DEFAULT '',
    address               text NOT NULL DEFAULT '',
    contact               text NOT NULL DEFAULT '',
    reporter              text NOT NULL DEFAULT '',
    content               text NOT NULL DEFAULT '',
    fault_category        text NOT NULL DEFAULT '',
    responsible_unit      text NOT NULL DEFAULT '',
    deadline              timestamptz,
    customer_contact_time text NOT NULL DEFAULT '',
    callback_at_night     boolean NOT NULL DEFAULT false,
    -- The leak (or the work site of a planned shutoff).
    pipe_id               text NOT NULL,
    leak_at               double precision NOT NULL,
    leak_dn               integer NOT NULL,
    district              text NOT NULL DEFAULT '',
    lon                   double precision,
    lat                   double precision,
    -- A planned shutoff's window, reason and the notice it needs.
    planned_start         timestamptz,
    planned_end           timestamptz,
    reason                text NOT NULL DEFAULT '',
    notice_lead_hours     integer NOT NULL DEFAULT 0,
    conflict_accepted     boolean NOT NULL DEFAULT false,
    -- The shutoff plan: as planned (jsonb), and what the job holds closed
    -- while holding (valves closed recorded, valves reopened not yet).
    network_version       bigint NOT NULL,
    plan                  json NOT NULL, -- as planned, kept verbatim
    valves                text[] NOT NULL DEFAULT '{}',
    customers             text[] NOT NULL DEFAULT '{}',
    n_customers           integer GENERATED ALWAYS AS (cardinality(customers)) STORED,
    households            bigint NOT NULL DEFAULT 0,
    failed_valves         text[] NOT NULL DEFAULT '{}',
    holding               boolean NOT NULL DEFAULT false,
    closed_at             timestamptz,
    cancel_reason         text NOT NULL DEFAULT '',
    CHECK (kind <> 'planned' OR (planned_start IS NOT NULL AND planned_end > planned_start))
);
CREATE INDEX repair_jobs_status ON repair_jobs (status, district);
CREATE INDEX repair_jobs_ordered ON repair_jobs (ordered_at);
CREATE INDEX repair_jobs_holding ON repair_jobs (id) WHERE holding;
CREATE INDEX repair_jobs_planned ON repair_jobs USING gist (tstzrange(planned_start, planned_end))
    WHERE kind = 'planned' AND status = 'open';

CREATE TABLE repair_milestones (
    job_id      bigint NOT NULL REFERENCES repair_jobs (id),
    milestone   text NOT NULL,
    at          timestamptz NOT NULL,  -- when it happened
    recorded_at timestamptz NOT NULL,  -- when it was recorded
    recorded_by text NOT NULL,
    note        text NOT NULL DEFAULT '',
    not_applicable boolean NOT NULL DEFAULT false,
    photo_url   text NOT NULL DEFAULT '', -- a photo stored elsewhere
    photo       bytea,                    -- or uploaded with the milestone
    photo_type  text NOT NULL DEFAULT '',
    PRIMARY KEY (job_id, milestone)
);

CREATE TABLE repair_valve_failures (
    job_id          bigint NOT NULL REFERENCES repair_jobs (id),
    valve           text NOT NULL,
    at              timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL,
    recorded_by     text NOT NULL,
    note            text NOT NULL DEFAULT '',
    extra_valves    text[] NOT NULL,
    extra_customers text[] NOT NULL,
    extra_households bigint NOT NULL,
    PRIMARY KEY (job_id, valve)
);

-- An overdue milestone, found by the scan: once per job and milestone.
-- delivery: 'none' (no webhook configured), 'pending', 'sent', 'failed'.
CREATE TABLE repair_escalations (
    id          bigserial PRIMARY KEY,
    job_id      bigint NOT NULL REFERENCES repair_jobs (id),
    milestone   text NOT NULL,
    due_at      timestamptz NOT NULL,
    detected_at timestamptz NOT NULL,
    delivery    text NOT NULL CHECK (delivery IN ('none', 'pending', 'sent', 'failed')),
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text NOT NULL DEFAULT '',
    sent_at     timestamptz,
    UNIQUE (job_id, milestone)
);
CREATE INDEX repair_escalations_pending ON repair_escalations (id) WHERE delivery = 'pending';

-- Holiday calendars loaded by the utility, one row a year; a year here
-- replaces the one shipped in the binary.
CREATE TABLE work_calendars (
    calendar  text NOT NULL,
    year      integer NOT NULL,
    doc       jsonb NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    loaded_by text NOT NULL DEFAULT '',
    PRIMARY KEY (calendar, year)
);
