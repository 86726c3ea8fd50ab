-- 0001_init.sql - the event log and the Marquez-shaped model derived from it.
--
-- Design notes:
--  * events is the source of truth: append-only, one row per distinct event (hash = SHA-256 of the
--    event's canonical JSON), written in the same transaction as the model rows it produced.
--    seq orders events for readers; xid (the writing transaction) lets a second collector follow the
--    log safely: rows with xid < pg_snapshot_xmin(pg_current_snapshot()) can no longer change.
--  * Model rows carry event times (created_at = first event time that mentioned the row), so history
--    queries ("as of") and order-insensitive merges use the producer's clock, not ours.
--  * Edges (job_io, run_io, column_lineage) are cumulative: first_seen/last_seen bound the event
--    times that asserted them and seq is the last event that touched them (graph reload by seq).
--  * Facets are kept once per (entity, key): a later eventTime replaces the value, an earlier one is
--    ignored, and {"_deleted": true} leaves a tombstone (facet NULL) so a late older event cannot
--    bring the facet back.

CREATE TABLE events (
    seq          bigserial PRIMARY KEY,
    xid          xid8        NOT NULL DEFAULT pg_current_xact_id(),
    hash         bytea       NOT NULL UNIQUE,
    kind         text        NOT NULL CHECK (kind IN ('RUN_EVENT', 'DATASET_EVENT', 'JOB_EVENT')),
    event_type   text,                       -- START, COMPLETE, ... as sent (upper case); NULL if absent
    event_time   timestamptz NOT NULL,
    producer     text        NOT NULL,
    schema_url   text,
    run_uuid     uuid,
    job_namespace text,
    job_name     text,
    received_at  timestamptz NOT NULL DEFAULT now(),
    body         jsonb       NOT NULL
);
CREATE INDEX events_event_time ON events (event_time);
CREATE INDEX events_run ON events (run_uuid) WHERE run_uuid IS NOT NULL;
CREATE INDEX events_job ON events (job_namespace, job_name);
CREATE INDEX events_xid ON events (xid);

CREATE TABLE namespaces (
    name         text PRIMARY KEY,
    owner_name   text        NOT NULL DEFAULT 'anonymous',
    description  text,
    is_hidden    boolean     NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
INSERT INTO namespaces (name, owner_name, description, created_at, updated_at)
VALUES ('default', 'anonymous',
        'The default global namespace for dataset, job, and run metadata not belonging to a user-specified namespace.',
        now(), now());

CREATE TABLE sources (
    name           text PRIMARY KEY,
    type           text        NOT NULL DEFAULT 'POSTGRESQL',
    connection_url text        NOT NULL DEFAULT '',
    description    text,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);

CREATE TABLE datasets (
    id              bigserial PRIMARY KEY,
    namespace       text        NOT NULL REFERENCES namespaces (name),
    name            text        NOT NULL,
    type            text        NOT NULL DEFAULT 'DB_TABLE',
    physical_name   text        NOT NULL,
    source_name     text        NOT NULL REFERENCES sources (name),
    description     text,
    current_version uuid,
    lifecycle_state text,
    is_hidden       boolean     NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    seq             bigint      NOT NULL,
    UNIQUE (namespace, name)
);

-- Other names of the same data (facets.symlinks.identifiers); the graph merges them into one node.
CREATE TABLE dataset_symlinks (
    dataset_id  bigint NOT NULL REFERENCES datasets (id),
    namespace   text   NOT NULL,
    name        text   NOT NULL,
    type        text,
    created_at  timestamptz NOT NULL,
    seq         bigint NOT NULL,
    PRIMARY KEY (dataset_id, namespace, name)
);
CREATE INDEX dataset_symlinks_alias ON dataset_symlinks (namespace, name);

-- Columns ever seen, latest type and description by event time.
CREATE TABLE dataset_fields (
    dataset_id  bigint NOT NULL REFERENCES datasets (id),
    name        text   NOT NULL,
    type        text,
    description text,
    ordinal     int    NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (dataset_id, name)
);

CREATE TABLE dataset_versions (
    version         uuid PRIMARY KEY,
    dataset_id      bigint      NOT NULL REFERENCES datasets (id),
    run_uuid        uuid,
    fields          jsonb       NOT NULL DEFAULT '[]',
    schema_version  uuid,
    lifecycle_state text,
    created_at      timestamptz NOT NULL,
    seq             bigint      NOT NULL
);
CREATE INDEX dataset_versions_dataset ON dataset_versions (dataset_id, created_at);

CREATE TABLE jobs (
    id              bigserial PRIMARY KEY,
    namespace       text        NOT NULL REFERENCES namespaces (name),
    name            text        NOT NULL,  -- fully qualified: parent.child for child jobs
    simple_name     text        NOT NULL,
    parent_job_id   bigint REFERENCES jobs (id),
    type            text        NOT NULL DEFAULT 'BATCH',
    description     text,
    location        text,
    current_version uuid,
    latest_run_uuid uuid,
    latest_run_time timestamptz,
    symlink_target_id bigint REFERENCES jobs (id),
    is_hidden       boolean     NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    seq             bigint      NOT NULL,
    UNIQUE (namespace, name)
);

CREATE TABLE job_versions (
    version         uuid PRIMARY KEY,
    job_id          bigint      NOT NULL REFERENCES jobs (id),
    location        text,
    latest_run_uuid uuid,
    inputs          jsonb       NOT NULL DEFAULT '[]',  -- [{namespace,name}] sorted
    outputs         jsonb       NOT NULL DEFAULT '[]',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    seq             bigint      NOT NULL
);
CREATE INDEX job_versions_job ON job_versions (job_id, created_at);

CREATE TABLE runs (
    uuid               uuid PRIMARY KEY,
    job_id             bigint      NOT NULL REFERENCES jobs (id),
    parent_run_uuid    uuid,
    state              text        NOT NULL,  -- NEW, RUNNING, COMPLETED, FAILED, ABORTED
    state_time         timestamptz NOT NULL,  -- event time of the event that set state
    nominal_start_time timestamptz,
    nominal_end_time   timestamptz,
    started_at         timestamptz,
    ended_at           timestamptz,
    job_version        uuid,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    seq                bigint      NOT NULL
);
CREATE INDEX runs_job ON runs (job_id, created_at DESC);
CREATE INDEX runs_parent ON runs (parent_run_uuid) WHERE parent_run_uuid IS NOT NULL;

-- Every state an event reported, append-only (a duplicate event adds nothing: events are deduplicated).
CREATE TABLE run_states (
    run_uuid        uuid        NOT NULL REFERENCES runs (uuid),
    event_type      text,
    state           text        NOT NULL,
    transitioned_at timestamptz NOT NULL,
    seq             bigint      NOT NULL
);
CREATE INDEX run_states_run ON run_states (run_uuid, transitioned_at);

-- Datasets a run read or wrote, accumulated over all its events.
CREATE TABLE run_io (
    run_uuid        uuid        NOT NULL REFERENCES runs (uuid),
    dataset_id      bigint      NOT NULL REFERENCES datasets (id),
    io_type         text        NOT NULL CHECK (io_type IN ('INPUT', 'OUTPUT')),
    dataset_version uuid,
    first_seen      timestamptz NOT NULL,
    last_seen       timestamptz NOT NULL,
    seq             bigint      NOT NULL,
    PRIMARY KEY (run_uuid, io_type, dataset_id)
);
CREATE INDEX run_io_dataset ON run_io (dataset_id);

-- Cumulative job <-> dataset edges (from runs and from JobEvents): the lineage graph's edges.
CREATE TABLE job_io (
    job_id        bigint      NOT NULL REFERENCES jobs (id),
    dataset_id    bigint      NOT NULL REFERENCES datasets (id),
    io_type       text        NOT NULL CHECK (io_type IN ('INPUT', 'OUTPUT')),
    first_seen    timestamptz NOT NULL,
    last_seen     timestamptz NOT NULL,
    last_run_uuid uuid,
    seq           bigint      NOT NULL,
    PRIMARY KEY (job_id, io_type, dataset_id)
);
CREATE INDEX job_io_dataset ON job_io (dataset_id);
CREATE INDEX job_io_seq ON job_io (seq);

-- Field-level lineage. output_field NULL = the input column affects the whole output dataset
-- (columnLineage.dataset[]).
CREATE TABLE column_lineage (
    output_dataset_id bigint NOT NULL REFERENCES datasets (id),
    output_field      text,
    input_dataset_id  bigint NOT NULL REFERENCES datasets (id),
    input_field       text   NOT NULL,
    transformation_description text,
    transformation_type        text,
    transformations   jsonb,
    first_seen        timestamptz NOT NULL,
    last_seen         timestamptz NOT NULL,
    last_run_uuid     uuid,
    seq               bigint NOT NULL,
    UNIQUE NULLS NOT DISTINCT (output_dataset_id, output_field, input_dataset_id, input_field)
);
CREATE INDEX column_lineage_input ON column_lineage (input_dataset_id, input_field);

CREATE TABLE run_facets (
    run_uuid   uuid        NOT NULL REFERENCES runs (uuid),
    name       text        NOT NULL,
    facet      jsonb,
    event_time timestamptz NOT NULL,
    seq        bigint      NOT NULL,
    PRIMARY KEY (run_uuid, name)
);

CREATE TABLE job_facets (
    job_id     bigint      NOT NULL REFERENCES jobs (id),
    name       text        NOT NULL,
    facet      jsonb,                 -- NULL: deleted by {"_deleted": true}
    event_time timestamptz NOT NULL,
    seq        bigint      NOT NULL,
    PRIMARY KEY (job_id, name)
);

CREATE TABLE dataset_facets (
    dataset_id bigint      NOT NULL REFERENCES datasets (id),
    name       text        NOT NULL,
    facet      jsonb,                 -- NULL: deleted by {"_deleted": true}
    event_time timestamptz NOT NULL,
    seq        bigint      NOT NULL,
    PRIMARY KEY (dataset_id, name)
);

-- inputFacets / outputFacets: scoped to one run and one dataset.
CREATE TABLE run_io_facets (
    run_uuid   uuid        NOT NULL REFERENCES runs (uuid),
    dataset_id bigint      NOT NULL REFERENCES datasets (id),
    io_type    text        NOT NULL CHECK (io_type IN ('INPUT', 'OUTPUT')),
    name       text        NOT NULL,
    facet      jsonb       NOT NULL,
    event_time timestamptz NOT NULL,
    seq        bigint      NOT NULL,
    PRIMARY KEY (run_uuid, io_type, dataset_id, name)
);

-- Run state merge, order-insensitive (the state diagram; see store/store_runs.c):
--
--     (none) --any event--> RUNNING | COMPLETED | FAILED | ABORTED
--     RUNNING --START/RUNNING/OTHER--> RUNNING       (state_time = latest)
--     RUNNING --COMPLETE/FAIL/ABORT--> terminal
--     terminal --START/RUNNING/OTHER--> unchanged    (a late or retried event never regresses it)
--     terminal --terminal, later eventTime--> the later terminal state (a rerun of the same runId)
--     terminal --terminal, earlier eventTime--> unchanged
CREATE FUNCTION run_state_merge(old_state text, old_time timestamptz, new_state text, new_time timestamptz)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN old_state IS NULL THEN new_state
        WHEN new_state IN ('RUNNING', 'NEW') THEN
            CASE WHEN old_state = 'NEW' THEN new_state ELSE old_state END
        WHEN old_state IN ('RUNNING', 'NEW') THEN new_state
        WHEN new_time >= old_time THEN new_state
        ELSE old_state
    END
$$;

-- Java's UUID.nameUUIDFromBytes: MD5, version 3, IETF variant (Marquez's version ids).
CREATE FUNCTION uuid_v3_md5(name text) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(set_byte(set_byte(h, 6, (get_byte(h, 6) & 15) | 48), 8, (get_byte(h, 8) & 63) | 128),
                  'hex')::uuid
    FROM (SELECT decode(md5(convert_to(name, 'UTF8')), 'hex') AS h) AS d
$$;
