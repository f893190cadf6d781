-- Who may do what: users with a role (district managers bound to districts),
-- sign-in sessions, API tokens for machines, repair crews assigned to jobs,
-- the audit log of every state change, and a history of scheduled job runs.
-- Secrets are never stored: passwords as argon2id hashes, session ids and
-- API tokens as SHA-256 digests (they are 256-bit random values).

CREATE TABLE users (
    id                  bigserial PRIMARY KEY,
    name                text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$'),
    display_name        text NOT NULL DEFAULT '' CHECK (length(display_name) <= 200),
    role                text NOT NULL CHECK (role IN ('admin', 'gis', 'dispatcher', 'district_manager', 'crew', 'viewer')),
    districts           text[] NOT NULL DEFAULT '{}',
    password_hash       text NOT NULL DEFAULT '', -- '' = no password sign-in (a machine account)
    disabled            boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz,
    last_login_at       timestamptz,
    CHECK (role <> 'district_manager' OR cardinality(districts) > 0)
);

-- A browser sign-in. The cookie holds the id; the row holds its digest.
CREATE TABLE sessions (
    id_hash      bytea PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL, -- slides with use, up to max_until
    max_until    timestamptz NOT NULL, -- absolute end
    remote       text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- A machine's bearer token; it acts as its user (role and districts).
CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label        text NOT NULL DEFAULT '' CHECK (length(label) <= 200),
    hash         bytea NOT NULL UNIQUE,
    prefix       text NOT NULL, -- the first characters, to recognise it
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text NOT NULL DEFAULT '',
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Crew members assigned to a repair job: they record its milestones.
CREATE TABLE repair_job_crew (
    job_id      bigint NOT NULL REFERENCES repair_jobs (id) ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    assigned_by text NOT NULL DEFAULT '',
    PRIMARY KEY (job_id, user_id)
);
CREATE INDEX repair_job_crew_user ON repair_job_crew (user_id);

-- Every state change and every export of contact data: who, when, what,
-- from where. Rows are only ever inserted.
CREATE TABLE audit_log (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    actor      text NOT NULL,            -- user name, or '' when nobody signed in
    role       text NOT NULL DEFAULT '',
    via        text NOT NULL DEFAULT '', -- session | token | cli | open | anonymous
    action     text NOT NULL,            -- "POST /api/repair/jobs/{id}/cancel", "login", "user.add", …
    target     jsonb NOT NULL DEFAULT '{}', -- route variables, query, created resource
    status     integer NOT NULL DEFAULT 0,  -- HTTP status (0 outside HTTP)
    outcome    text NOT NULL DEFAULT 'ok' CHECK (outcome IN ('ok', 'rejected', 'denied', 'error')),
    remote     text NOT NULL DEFAULT '',
    request_id text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, at);
CREATE INDEX audit_log_action ON audit_log (action, at);

-- Every start and end of a scheduled job run (job_runs keeps one row per
-- slot, rewritten on a retry): the history proves a slot ran once, and the
-- per-replica counters of /metrics come from it.
CREATE TABLE job_run_log (
    id       bigserial PRIMARY KEY,
    job      text NOT NULL,
    slot     text NOT NULL,
    replica  text NOT NULL,
    status   text NOT NULL, -- running (a start), done, failed
    error    text NOT NULL DEFAULT '',
    at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    seconds  double precision -- for done and failed: since the start
);
CREATE INDEX job_run_log_slot ON job_run_log (job, slot);
CREATE INDEX job_run_log_replica ON job_run_log (replica, job, status);

CREATE FUNCTION job_runs_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status OR NEW.started_at IS DISTINCT FROM OLD.started_at THEN
        INSERT INTO job_run_log (job, slot, replica, status, error, seconds)
        VALUES (NEW.job, NEW.slot, NEW.replica, NEW.status, left(NEW.error, 500),
                CASE WHEN NEW.status = 'running' THEN NULL
                     ELSE extract(epoch FROM coalesce(NEW.finished_at, clock_timestamp()) - NEW.started_at) END);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER job_runs_log AFTER INSERT OR UPDATE ON job_runs
    FOR EACH ROW EXECUTE FUNCTION job_runs_log();
