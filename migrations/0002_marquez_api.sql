-- 0002_marquez_api.sql - what the Marquez-compatible query API needs beyond the event-derived model:
-- user tags (the only model rows not derived from events) and two formatting helpers.
--
-- Design notes:
--  * Tags are edited through the Marquez API (PUT /tags, POST/DELETE .../tags/{tag}); they are not in
--    the event log, so a rebuild of the model from events keeps them (they reference rows by id).
--  * Tagging a dataset, field or job creates the tag if it does not exist (Marquez does the same).
--  * api_ts formats a timestamptz the way Marquez's Jackson mapper writes an Instant, always with six
--    fraction digits ("2022-07-12T16:22:11.080346Z"); api_java_ts the way Java's ZonedDateTime
--    toString() does ("2020-02-22T22:00Z"), which is how Marquez writes run args. Both are STABLE, as
--    to_char is, so that Postgres inlines them: an opaque function call per value costs ~25 us, which
--    on a page of 100 jobs with 10 runs each is most of the query time.

CREATE TABLE tags (
    name        text PRIMARY KEY,
    description text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE dataset_tags (
    dataset_id bigint      NOT NULL REFERENCES datasets (id),
    tag        text        NOT NULL REFERENCES tags (name),
    tagged_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dataset_id, tag)
);

-- Field tags are keyed by field name: dataset_fields has one row per (dataset, name).
CREATE TABLE dataset_field_tags (
    dataset_id bigint      NOT NULL REFERENCES datasets (id),
    field      text        NOT NULL,
    tag        text        NOT NULL REFERENCES tags (name),
    tagged_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dataset_id, field, tag)
);

CREATE TABLE job_tags (
    job_id    bigint      NOT NULL REFERENCES jobs (id),
    tag       text        NOT NULL REFERENCES tags (name),
    tagged_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, tag)
);

-- No new index on the ingest path's tables: every event updates its jobs and runs rows, and an index
-- on a column that changes (updated_at, state_time) would turn those updates from HOT into index
-- insertions. Reads use the existing runs_job (job_id, created_at DESC) for a job's latest runs.

CREATE FUNCTION api_ts(t timestamptz) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

-- Java's LocalTime.toString(): seconds only when not zero, then 3, 6 or 9 fraction digits as needed.
CREATE FUNCTION api_java_ts(t timestamptz) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI')
        || CASE
               WHEN extract(microseconds FROM t AT TIME ZONE 'UTC') = 0 THEN ''
               WHEN extract(microseconds FROM t AT TIME ZONE 'UTC')::bigint % 1000000 = 0
                   THEN to_char(t AT TIME ZONE 'UTC', ':SS')
               WHEN extract(microseconds FROM t AT TIME ZONE 'UTC')::bigint % 1000 = 0
                   THEN to_char(t AT TIME ZONE 'UTC', ':SS.MS')
               ELSE to_char(t AT TIME ZONE 'UTC', ':SS.US')
           END
        || 'Z'
$$;
