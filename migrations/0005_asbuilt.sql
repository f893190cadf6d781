-- As-built survey import: batches (upload → staged and validated → approved
-- → committed, or failed / rejected), the uploaded file, the network
-- history every committed change writes (the previous version of each row,
-- tagged with its batch), and the local coordinate systems an admin
-- registers.

CREATE TABLE asbuilt_batches (
    id              bigserial PRIMARY KEY,
    status          text NOT NULL DEFAULT 'received'
                    CHECK (status IN ('received', 'failed', 'invalid', 'ready', 'approved', 'rejected', 'committed')),
    project         text NOT NULL DEFAULT '',
    contractor      text NOT NULL DEFAULT '',
    survey_date     date,
    uploaded_by     text NOT NULL,
    uploaded_at     timestamptz NOT NULL DEFAULT now(),
    file            text NOT NULL DEFAULT '',
    format          text NOT NULL DEFAULT '',
    size_bytes      bigint NOT NULL DEFAULT 0,
    sha256          text NOT NULL DEFAULT '',
    options         jsonb NOT NULL DEFAULT '{}', -- crs, sheet, mapping as given
    source_crs      text NOT NULL DEFAULT '',    -- the CRS settled
    errors          integer NOT NULL DEFAULT 0,
    warnings        integer NOT NULL DEFAULT 0,
    issues          jsonb NOT NULL DEFAULT '[]',
    summary         jsonb NOT NULL DEFAULT '{}',
    changes         jsonb NOT NULL DEFAULT '[]',
    staged          bytea,                       -- the delivery as Network GeoJSON, storage CRS
    preview         bytea,                       -- GeoJSON for the map, lon/lat
    base_version    bigint,                      -- the network version validated against
    validated_at    timestamptz,
    approved_by     text,
    approved_at     timestamptz,
    acknowledged    boolean NOT NULL DEFAULT false, -- the warnings were acknowledged on approval
    rejected_by     text,
    rejected_at     timestamptz,
    reason          text NOT NULL DEFAULT '',
    committed_by    text,
    committed_at    timestamptz,
    version         bigint,                      -- the network version the commit made
    rollback_of     bigint REFERENCES asbuilt_batches (id),
    rolled_back_by  bigint REFERENCES asbuilt_batches (id),
    failure         text NOT NULL DEFAULT ''     -- why the batch failed, or the last commit attempt did
);
CREATE INDEX asbuilt_batches_status ON asbuilt_batches (status, id);

-- The file as uploaded, kept for revalidation and audit.
CREATE TABLE asbuilt_files (
    batch_id bigint PRIMARY KEY REFERENCES asbuilt_batches (id) ON DELETE CASCADE,
    content  bytea NOT NULL
);

-- Every committed change to the network: the row before (NULL for an
-- addition) and after (NULL for a removal), each a Network GeoJSON feature
-- in the storage CRS, tagged with the batch that made it.
CREATE TABLE network_history (
    id         bigserial PRIMARY KEY,
    batch_id   bigint REFERENCES asbuilt_batches (id),
    import_id  bigint,
    version    bigint NOT NULL,
    kind       text NOT NULL,
    feature_id text NOT NULL,
    action     text NOT NULL CHECK (action IN ('add', 'change', 'remove', 'split')),
    before     jsonb,
    after      jsonb,
    detail     jsonb,
    changed_at timestamptz NOT NULL DEFAULT now(),
    changed_by text NOT NULL DEFAULT ''
);
CREATE INDEX network_history_feature ON network_history (kind, feature_id, id);
CREATE INDEX network_history_batch ON network_history (batch_id);

-- Local coordinate systems (a PROJ definition), registered once by an admin
-- and named in uploads as local:NAME.
CREATE TABLE asbuilt_crs (
    name          text PRIMARY KEY,
    proj          text NOT NULL,
    description   text NOT NULL DEFAULT '',
    registered_by text NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now()
);

-- Optional: the deployment's area (storage CRS); surveys outside it are
-- implausible. Without it the stored network's extent is used.
CREATE TABLE asbuilt_area (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    minx double precision NOT NULL,
    miny double precision NOT NULL,
    maxx double precision NOT NULL,
    maxy double precision NOT NULL
);
