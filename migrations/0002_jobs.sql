-- Scheduled job runs: one row per job and slot (e.g. "patrol.plan" and
-- "2026-11-26"), so a slot runs once however many replicas fire it.
CREATE TABLE job_runs (
    job         text NOT NULL,
    slot        text NOT NULL,
    replica     text NOT NULL DEFAULT '',
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
    error       text NOT NULL DEFAULT '',
    PRIMARY KEY (job, slot)
);
