-- 0009_order_independent_model.sql - the model becomes a function of the SET of stored events: the same
-- events give the same rows whatever their arrival order, however they were grouped into transactions
-- (group commit, arrays, --batch-chunk) and whichever collector wrote them.
--
-- Design notes:
--  * "Later" is the order of event times; where two values compete at one event time, the rule picks
--    by the values themselves (a total order), never by arrival. A value that is "the latest
--    non-null one" keeps the time of the event that gave it (description_at, location_at, ...), so an
--    older event arriving late can neither win nor be lost (a newer event without a value says
--    nothing about it).
--  * seq columns stay arrival bookkeeping: the log position of the last (or, where a row is never
--    rewritten, the first) event that touched the row. Two logs of one event set number events
--    differently; `lineaged replay --compare-with` leaves seq out, and no read depends on it.
--  * Dataset versions: a version is WRITTEN (readable) at written_at: the version a run left behind
--    for an output (that of its latest event naming it: run_io) when the run completes
--    (runs.completed_at, the earliest COMPLETE: Marquez promotes a run's outputs at COMPLETE), a
--    DatasetEvent's or a streaming job's output at that event's time (event_written_at). A dataset's
--    current version is its newest written one by (written_at, version); before any write, its
--    first-read version.
--  * An input that names no version reads the newest version written before the input's time
--    (run_io.first_seen: the run's earliest event naming it; strictly before, so a run never reads
--    what it writes itself), else the dataset's first-read version: one per dataset (first_read, a
--    UUID derived from the dataset's name), the data as it was before any write we know of, with the
--    schema of the earliest read that sent one. It exists once any input names the dataset without a
--    version (so its existence and contents grow monotonically with the event set). An input that
--    names its version (pinned) reads it.
--  * Re-linking is bounded: when a version's written_at changes (a late COMPLETE, a late
--    DatasetEvent), the reads that read it look again, and if it is now the newest version at its
--    time, the reads between that time and the dataset's next write read it: index ranges of reads
--    (run_io_reads), visited only when their answer can change. A chunk's own reads are looked up one
--    by one. A symlink that joins two names re-links the joined dataset's reads once.
--  * A run's job version (Marquez's UUIDv3 of namespace, name, inputs, outputs, location) is computed
--    from all of the run's inputs and outputs whenever the run is terminal (or an event of it said its
--    job streams), so a late event that adds an input changes it; a job version no run has any more
--    is deleted. A job's current version is the version of its newest run (by first event) that has
--    one.
--  * Existing rows get the new columns filled as well as the old rows allow (attribute times from
--    updated_at, completion times from run_states); rows derived before this migration are not
--    re-derived: `lineaged replay` shows where they differ from what the log derives now.

-- Attribute times ------------------------------------------------------------------------------------
ALTER TABLE datasets ADD COLUMN description_at timestamptz, ADD COLUMN lifecycle_at timestamptz,
    ADD COLUMN source_at timestamptz;
UPDATE datasets SET description_at = CASE WHEN description IS NOT NULL THEN updated_at END,
    lifecycle_at = CASE WHEN lifecycle_state IS NOT NULL THEN updated_at END,
    source_at = CASE WHEN source_name <> 'default' THEN updated_at END
WHERE description IS NOT NULL OR lifecycle_state IS NOT NULL OR source_name <> 'default';

-- type_at is NULL while the job was only ever named as a parent (no event of its own).
ALTER TABLE jobs ADD COLUMN type_at timestamptz, ADD COLUMN description_at timestamptz,
    ADD COLUMN location_at timestamptz, ADD COLUMN parent_at timestamptz;
UPDATE jobs SET type_at = updated_at, description_at = CASE WHEN description IS NOT NULL THEN updated_at END,
    location_at = CASE WHEN location IS NOT NULL THEN updated_at END,
    parent_at = CASE WHEN parent_job_id IS NOT NULL THEN updated_at END;

-- completed_at: the earliest COMPLETE event of the run; job_location: the job's location as the run's
-- latest event that sent one gave it (it is part of the run's job version).
-- streaming: an event of the run said its job streams (jobType processingType STREAMING).
ALTER TABLE runs ADD COLUMN parent_at timestamptz, ADD COLUMN nominal_at timestamptz,
    ADD COLUMN completed_at timestamptz, ADD COLUMN job_location text, ADD COLUMN job_location_at timestamptz,
    ADD COLUMN streaming boolean NOT NULL DEFAULT false;
UPDATE runs r SET streaming = true FROM jobs j WHERE j.id = r.job_id AND j.type = 'STREAM';
UPDATE runs r SET completed_at = c.t FROM (SELECT run_uuid, min(transitioned_at) AS t FROM run_states
    WHERE state = 'COMPLETED' GROUP BY run_uuid) c WHERE r.uuid = c.run_uuid;
UPDATE runs r SET job_location = v.location, job_location_at = r.state_time
FROM job_versions v WHERE v.version = r.job_version AND v.location IS NOT NULL;
UPDATE runs SET parent_at = CASE WHEN parent_run_uuid IS NOT NULL THEN updated_at END,
    nominal_at = CASE WHEN nominal_start_time IS NOT NULL OR nominal_end_time IS NOT NULL THEN updated_at END
WHERE parent_run_uuid IS NOT NULL OR nominal_start_time IS NOT NULL OR nominal_end_time IS NOT NULL;

-- pinned: the version was named by the producer; version_at: the time of the event whose version the
-- row keeps (outputs and pinned inputs; an unpinned input's version follows the rule above).
ALTER TABLE run_io ADD COLUMN pinned boolean NOT NULL DEFAULT false, ADD COLUMN version_at timestamptz;
UPDATE run_io io SET pinned = true FROM dataset_versions v
WHERE v.version = io.dataset_version AND v.producer_version IS NOT NULL;
UPDATE run_io SET version_at = last_seen WHERE io_type = 'OUTPUT' OR pinned;

ALTER TABLE job_io ADD COLUMN last_run_at timestamptz;
UPDATE job_io SET last_run_at = last_seen WHERE last_run_uuid IS NOT NULL;
ALTER TABLE column_lineage ADD COLUMN last_run_at timestamptz;
UPDATE column_lineage SET last_run_at = last_seen WHERE last_run_uuid IS NOT NULL;

ALTER TABLE dataset_versions ADD COLUMN written_at timestamptz, ADD COLUMN event_written_at timestamptz,
    ADD COLUMN first_read boolean NOT NULL DEFAULT false;
UPDATE dataset_versions v SET event_written_at = v.created_at
WHERE v.run_uuid IS NULL AND v.producer_version IS NULL
  AND NOT EXISTS (SELECT 1 FROM run_io io WHERE io.dataset_version = v.version AND io.io_type = 'INPUT');
UPDATE dataset_versions v SET written_at = least(v.event_written_at, r.completed_at)
FROM (SELECT v2.version, (SELECT ru.completed_at FROM runs ru JOIN run_io io ON io.run_uuid = ru.uuid
                          AND io.io_type = 'OUTPUT' AND io.dataset_id = v2.dataset_id
                          WHERE ru.uuid = v2.run_uuid AND io.dataset_version = v2.version) AS completed_at
      FROM dataset_versions v2) r
WHERE r.version = v.version AND least(v.event_written_at, r.completed_at) IS NOT NULL;

-- The newest written version before a time, per dataset; a run's own versions; the reads of a dataset
-- by time; the runs of a job version; a job's newest run that has a job version.
CREATE INDEX dataset_versions_written ON dataset_versions (dataset_id, written_at DESC, version DESC)
    WHERE written_at IS NOT NULL;
CREATE INDEX dataset_versions_run ON dataset_versions (run_uuid) WHERE run_uuid IS NOT NULL;
CREATE INDEX run_io_reads ON run_io (dataset_id, first_seen) WHERE io_type = 'INPUT';
CREATE INDEX runs_job_version ON runs (job_version) WHERE job_version IS NOT NULL;
CREATE INDEX runs_job_versioned ON runs (job_id, created_at DESC, uuid DESC) WHERE job_version IS NOT NULL;

-- Run states ------------------------------------------------------------------------------------------
-- Whether a run event's state replaces the run's: the later in (class, event time, rank), where the
-- class is NEW (a parent run only its children named) < RUNNING < terminal, so a terminal state never
-- goes back to RUNNING, and the rank decides between terminal states reported at one time
-- (COMPLETED < ABORTED < FAILED). Replaces run_state_merge (0001), which let the later arrival win a tie.
CREATE FUNCTION run_state_wins(new_state text, new_time timestamptz, old_state text, old_time timestamptz)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT old_state IS NULL
        OR (CASE new_state WHEN 'NEW' THEN 0 WHEN 'RUNNING' THEN 1 ELSE 2 END, new_time,
            CASE new_state WHEN 'COMPLETED' THEN 1 WHEN 'ABORTED' THEN 2 WHEN 'FAILED' THEN 3 ELSE 0 END)
         > (CASE old_state WHEN 'NEW' THEN 0 WHEN 'RUNNING' THEN 1 ELSE 2 END, old_time,
            CASE old_state WHEN 'COMPLETED' THEN 1 WHEN 'ABORTED' THEN 2 WHEN 'FAILED' THEN 3 ELSE 0 END)
$$;
DROP FUNCTION run_state_merge(text, timestamptz, text, timestamptz);

-- Dataset versions ------------------------------------------------------------------------------------
-- uuid_v3_md5 (0001), the same value in plpgsql: as a sql function with a FROM it was not inlined, and
-- every statement calling it (the datasets upsert, through first_read_version below; every run's job
-- version) planned its body again; this costs a few microseconds a call instead of tens.
CREATE OR REPLACE FUNCTION uuid_v3_md5(name text) RETURNS uuid LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    h bytea := decode(md5(convert_to(name, 'UTF8')), 'hex');
BEGIN
    RETURN encode(set_byte(set_byte(h, 6, (get_byte(h, 6) & 15) | 48), 8, (get_byte(h, 8) & 63) | 128), 'hex')::uuid;
END $$;

-- The UUID the dataset row's first-read version has (or would have): computed once per row, since an
-- MD5 in SQL costs tens of microseconds and every unnamed read needs it. dataset_names carries it too.
ALTER TABLE datasets ADD COLUMN first_read_version uuid
    GENERATED ALWAYS AS (uuid_v3_md5('lineaged:first-read:' || namespace || ':' || name)) STORED;
CREATE OR REPLACE VIEW dataset_names AS
    SELECT a.namespace AS ref_namespace, a.name AS ref_name, d.*
    FROM datasets a JOIN datasets d ON d.id = coalesce(a.alias_of, a.id);

-- The version the unpinned input edge `r` (a run_io row) read (design notes): the newest version of its
-- dataset written before its time, else the dataset's first-read version. A view, so that statements
-- join it (one plan) instead of calling a function per row.
CREATE VIEW run_io_read_versions AS
    SELECT r.ctid AS row_id, r.run_uuid, r.dataset_id, r.first_seen, r.pinned, r.dataset_version AS linked,
           coalesce(w.version, f.version) AS version
    FROM run_io r
    JOIN datasets x ON x.id = r.dataset_id
    LEFT JOIN dataset_versions f ON f.version = x.first_read_version
    LEFT JOIN LATERAL (SELECT v.version FROM dataset_versions v
                       WHERE v.dataset_id = r.dataset_id AND v.written_at < r.first_seen
                       ORDER BY v.written_at DESC, v.version DESC LIMIT 1) w ON true
    WHERE r.io_type = 'INPUT';

-- (The helpers called from the write path's statements are plpgsql, not sql: a sql function whose body
-- has subqueries is not inlined, and is planned again in every statement that calls it, which cost
-- more than the rest of a small transaction's settle step; plpgsql keeps its plans per session.)
CREATE FUNCTION dataset_current_version(d bigint) RETURNS uuid LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN coalesce(
        (SELECT v.version FROM dataset_versions v WHERE v.dataset_id = d AND v.written_at IS NOT NULL
         ORDER BY v.written_at DESC, v.version DESC LIMIT 1),
        (SELECT f.version FROM datasets x JOIN dataset_versions f ON f.version = x.first_read_version
         WHERE x.id = d));
END $$;

-- The unpinned reads of dataset d whose time is in (lo, hi] (hi NULL: no bound) that read version `reading`
-- (NULL: any) read again by the rule.
CREATE FUNCTION dataset_reads_relink(d bigint, lo timestamptz, hi timestamptz, reading uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE run_io io SET dataset_version = n.version
    FROM run_io_read_versions n
    WHERE n.dataset_id = d AND NOT n.pinned AND (lo IS NULL OR n.first_seen > lo)
      AND (hi IS NULL OR n.first_seen <= hi) AND (reading IS NULL OR n.linked = reading)
      AND io.ctid = n.row_id AND n.linked IS DISTINCT FROM n.version;
END $$;

-- Version v of dataset d was written at old_w and is now written at new_w (either NULL: not written).
-- The reads that read v (between old_w and the next write) look again, unless v only moved earlier past
-- no other write (they still read it); if v is now the newest version written at new_w, the reads between
-- new_w and the next write after it read v. Bounded: an index range of reads, looked at only when their
-- answer can change.
CREATE FUNCTION dataset_write_moved(d bigint, v uuid, old_w timestamptz, new_w timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF old_w IS NOT NULL AND (new_w IS NULL OR new_w > old_w
            OR EXISTS (SELECT 1 FROM dataset_versions x WHERE x.dataset_id = d AND x.written_at >= new_w
                       AND x.written_at <= old_w AND x.version <> v)) THEN
        PERFORM dataset_reads_relink(d, old_w, (SELECT min(x.written_at) FROM dataset_versions x
                                                WHERE x.dataset_id = d AND x.written_at > old_w), v);
    END IF;
    IF new_w IS NOT NULL AND v = (SELECT x.version FROM dataset_versions x WHERE x.dataset_id = d
                                  AND x.written_at = new_w ORDER BY x.version DESC LIMIT 1) THEN
        UPDATE run_io SET dataset_version = v
        WHERE dataset_id = d AND io_type = 'INPUT' AND NOT pinned AND first_seen > new_w
          AND first_seen <= coalesce((SELECT min(x.written_at) FROM dataset_versions x
                                      WHERE x.dataset_id = d AND x.written_at > new_w), 'infinity')
          AND dataset_version IS DISTINCT FROM v;
    END IF;
END $$;

-- After a chunk's versions and edges are stored: rows = the chunk's dataset appearances (namespace,
-- name, version, run_uuid, io, producer), runs = the run UUIDs of its RunEvents. Recomputes written_at of
-- every version the chunk touched or its runs created, moves the reads each change affects, looks up
-- the chunk's own reads, and sets the current version of every dataset involved.
CREATE FUNCTION dataset_versions_settle(rows jsonb, runs jsonb) RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    versions uuid[];
    touched bigint[];
    rewritten bigint[] := '{}';
    c record;
BEGIN
    -- (the arrays are joined through unnest, so that every plan, generic ones too, looks rows up by key)
    SELECT array_agg(DISTINCT x.version), array_agg(DISTINCT x.dataset_id) INTO versions, touched FROM (
        SELECT CASE WHEN r.io = 'INPUT' AND r.producer IS NULL THEN d.first_read_version ELSE r.version END
               AS version, d.id AS dataset_id
        FROM jsonb_to_recordset(rows) AS r(namespace text, name text, version uuid, io text, producer text)
        JOIN dataset_names d ON d.ref_namespace = r.namespace AND d.ref_name = r.name
        UNION ALL
        SELECT v.version, v.dataset_id FROM jsonb_array_elements_text(runs) AS x(run)
        JOIN dataset_versions v ON v.run_uuid = x.run::uuid) x;
    -- datasets not among the chunk's (a COMPLETE without outputs) are locked now, in id order
    PERFORM 1 FROM datasets WHERE id = ANY (touched) ORDER BY id FOR UPDATE;
    -- the datasets are locked: the versions' rows cannot change between reading and writing them
    -- when each became readable: a DatasetEvent's or a streaming job's write (event_written_at), or its
    -- creator run's completion if that run's output edge to the dataset keeps it (the version of its
    -- latest event naming the dataset: what it left behind)
    FOR c IN SELECT v.version, v.dataset_id, v.written_at AS old_w, least(v.event_written_at, w.completed_at) AS new_w
             FROM unnest(versions) AS u(version) JOIN dataset_versions v ON v.version = u.version
             LEFT JOIN LATERAL (SELECT r.completed_at FROM runs r JOIN run_io io ON io.run_uuid = r.uuid
                                AND io.io_type = 'OUTPUT' AND io.dataset_id = v.dataset_id
                                WHERE r.uuid = v.run_uuid AND io.dataset_version = v.version) w ON true
             ORDER BY v.dataset_id, v.version
    LOOP
        CONTINUE WHEN c.old_w IS NOT DISTINCT FROM c.new_w;
        rewritten := rewritten || c.dataset_id;
        UPDATE dataset_versions SET written_at = c.new_w WHERE version = c.version;
        PERFORM dataset_write_moved(c.dataset_id, c.version, c.old_w, c.new_w);
    END LOOP;
    -- the chunk's reads, each by its primary key (io_type is joined to a value, not a constant, so that the
    -- planner cannot take the partial index of a dataset's reads, run_io_reads, for a key lookup)
    UPDATE run_io io SET dataset_version = n.version
    FROM (SELECT DISTINCT x.run_uuid, d.id, x.io FROM jsonb_to_recordset(rows) AS x(namespace text,
          name text, run_uuid uuid, io text) JOIN dataset_names d ON d.ref_namespace = x.namespace
          AND d.ref_name = x.name WHERE x.io = 'INPUT' AND x.run_uuid IS NOT NULL) k
    JOIN run_io r ON r.run_uuid = k.run_uuid AND r.io_type = k.io AND r.dataset_id = k.id
    JOIN run_io_read_versions n ON n.row_id = r.ctid
    WHERE NOT n.pinned AND io.ctid = n.row_id AND n.linked IS DISTINCT FROM n.version;
    -- a current version changes only with a written time, or when a dataset without one is first read
    UPDATE datasets d SET current_version = n.v
    FROM (SELECT x.id, dataset_current_version(x.id) AS v FROM unnest(touched) AS t(id)
          JOIN datasets x ON x.id = t.id WHERE x.id = ANY (rewritten) OR x.current_version IS NULL) n
    WHERE d.id = n.id AND d.alias_of IS NULL AND d.current_version IS DISTINCT FROM n.v;
END $$;

-- Job versions ----------------------------------------------------------------------------------------
-- The aggregates of job version v over the runs that have it (its seq: their latest event's), or its
-- deletion when none has.
CREATE FUNCTION job_version_refresh(v uuid) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM runs WHERE job_version = v) THEN
        DELETE FROM job_versions WHERE version = v;
        RETURN;
    END IF;
    UPDATE job_versions j SET created_at = a.c, updated_at = a.u, latest_run_uuid = a.l, seq = a.s
    FROM (SELECT min(created_at) AS c, max(updated_at) AS u,
                 (array_agg(uuid ORDER BY updated_at DESC, uuid DESC))[1] AS l, max(seq) AS s
          FROM runs WHERE job_version = v) a
    WHERE j.version = v
      AND (j.created_at, j.updated_at, j.latest_run_uuid, j.seq) IS DISTINCT FROM (a.c, a.u, a.l, a.s);
END $$;

-- The job version of run p (NULL while it has none) from all its inputs and outputs: Marquez's UUIDv3 of
-- "namespace:job:<inputs ns:name...>:<outputs ns:name...>[:location]:".
CREATE FUNCTION run_job_version(p uuid) RETURNS TABLE (version uuid, inputs jsonb, outputs jsonb)
LANGUAGE sql STABLE AS $$
    WITH r AS (SELECT ru.uuid, ru.job_location, j.namespace, j.name FROM runs ru JOIN jobs j ON j.id = ru.job_id
               WHERE ru.uuid = p AND ru.state <> 'NEW' AND (ru.state IN ('COMPLETED', 'FAILED', 'ABORTED') OR ru.streaming)),
    io AS (SELECT ri.io_type, d.namespace, d.name FROM run_io ri JOIN datasets d ON d.id = ri.dataset_id
           WHERE ri.run_uuid = p),
    parts AS (SELECT
        coalesce((SELECT string_agg(namespace || ':' || name, ':' ORDER BY namespace COLLATE "C", name COLLATE "C")
                  FROM io WHERE io_type = 'INPUT'), '') AS ins,
        coalesce((SELECT string_agg(namespace || ':' || name, ':' ORDER BY namespace COLLATE "C", name COLLATE "C")
                  FROM io WHERE io_type = 'OUTPUT'), '') AS outs,
        coalesce((SELECT jsonb_agg(jsonb_build_object('namespace', namespace, 'name', name)
                  ORDER BY namespace COLLATE "C", name COLLATE "C") FROM io WHERE io_type = 'INPUT'), '[]') AS in_json,
        coalesce((SELECT jsonb_agg(jsonb_build_object('namespace', namespace, 'name', name)
                  ORDER BY namespace COLLATE "C", name COLLATE "C") FROM io WHERE io_type = 'OUTPUT'), '[]') AS out_json)
    SELECT uuid_v3_md5(concat_ws(':', r.namespace, r.name, parts.ins, parts.outs, r.job_location, '')),
           parts.in_json, parts.out_json
    FROM r, parts
$$;

-- After a chunk's runs and edges are stored: runs = the run UUIDs of its RunEvents (a JSON array). Gives
-- each run its job version, folds the run's times and seq into it, drops versions no run has any more,
-- and sets the current version of each job involved.
CREATE FUNCTION job_versions_settle(runs jsonb) RETURNS void LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    r record;
    nv record;
    jobs_touched bigint[] := '{}';
BEGIN
    FOR r IN SELECT ru.uuid, ru.job_id, ru.job_version AS old_version, ru.job_location, ru.created_at,
                    ru.updated_at, ru.seq
             FROM (SELECT DISTINCT x.run::uuid AS uuid FROM jsonb_array_elements_text(runs) AS x(run)) k
             JOIN runs ru ON ru.uuid = k.uuid
             -- a run without a version that cannot have one yet changes nothing (both conditions last)
             WHERE ru.job_version IS NOT NULL OR ru.streaming OR ru.state IN ('COMPLETED', 'FAILED', 'ABORTED')
             ORDER BY ru.uuid
    LOOP
        jobs_touched := jobs_touched || r.job_id;
        SELECT * INTO nv FROM run_job_version(r.uuid);
        IF nv.version IS NOT NULL THEN
            INSERT INTO job_versions AS j (version, job_id, location, latest_run_uuid, inputs, outputs,
                created_at, updated_at, seq)
            VALUES (nv.version, r.job_id, r.job_location, r.uuid, nv.inputs, nv.outputs, r.created_at, r.updated_at,
                    r.seq)
            ON CONFLICT (version) DO UPDATE SET created_at = least(j.created_at, EXCLUDED.created_at),
                updated_at = greatest(j.updated_at, EXCLUDED.updated_at),
                latest_run_uuid = CASE WHEN (EXCLUDED.updated_at, EXCLUDED.latest_run_uuid)
                    > (j.updated_at, j.latest_run_uuid) THEN EXCLUDED.latest_run_uuid ELSE j.latest_run_uuid END,
                seq = greatest(j.seq, EXCLUDED.seq)
            WHERE EXCLUDED.created_at < j.created_at OR EXCLUDED.updated_at > j.updated_at
               OR (EXCLUDED.updated_at = j.updated_at AND EXCLUDED.latest_run_uuid > j.latest_run_uuid)
               OR EXCLUDED.seq > j.seq;
        END IF;
        IF nv.version IS DISTINCT FROM r.old_version THEN
            UPDATE runs SET job_version = nv.version WHERE uuid = r.uuid;
            IF r.old_version IS NOT NULL THEN
                PERFORM job_version_refresh(r.old_version);
            END IF;
        END IF;
    END LOOP;
    UPDATE jobs j SET current_version = n.v
    FROM (SELECT x.id, (SELECT ru.job_version FROM runs ru WHERE ru.job_id = x.id AND ru.job_version IS NOT NULL
                        ORDER BY ru.created_at DESC, ru.uuid DESC LIMIT 1) AS v
          FROM (SELECT DISTINCT unnest(jobs_touched) AS id) x) n
    WHERE j.id = n.id AND j.current_version IS DISTINCT FROM n.v;
END $$;

-- Dataset aliases (0005), with the rules above ------------------------------------------------------
-- dataset_alias_unsettled (0005), the same test in plpgsql (see dataset_current_version): every chunk
-- asks it of each of its dataset names.
CREATE OR REPLACE FUNCTION dataset_alias_unsettled(r datasets) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM dataset_symlinks s JOIN datasets o ON o.id = s.dataset_id
                       WHERE s.namespace = r.namespace AND s.name = r.name
                         AND coalesce(o.alias_of, o.id) <> coalesce(r.alias_of, r.id))
            OR EXISTS (SELECT 1 FROM dataset_symlinks s
                       LEFT JOIN datasets n ON n.namespace = s.namespace AND n.name = s.name
                       WHERE s.dataset_id = r.id
                         AND (coalesce(n.alias_of, n.id) <> coalesce(r.alias_of, r.id)
                              OR EXISTS (SELECT 1 FROM dataset_symlinks s2 JOIN datasets o2 ON o2.id = s2.dataset_id
                                         WHERE s2.namespace = s.namespace AND s2.name = s.name
                                           AND coalesce(o2.alias_of, o2.id) <> coalesce(r.alias_of, r.id))))
            OR (r.alias_of IS NOT NULL
                AND EXISTS (SELECT 1 FROM dataset_symlinks s WHERE s.dataset_id = r.id)
                AND EXISTS (SELECT 1 FROM datasets c WHERE c.id = r.alias_of
                              AND (r.namespace < c.namespace COLLATE "C"
                                   OR (r.namespace = c.namespace AND r.name < c.name COLLATE "C"))));
END $$;

-- Merges the attributes of dataset row l (as the events naming it gave them) into row w's, by the rules
-- of the write path, which are the same whatever the grouping (the latest value by its time, then the
-- greater; times widen).
CREATE FUNCTION dataset_merge_attributes(l bigint, w bigint) RETURNS void LANGUAGE sql AS $$
    UPDATE datasets d SET
        created_at = least(d.created_at, x.created_at),
        updated_at = greatest(d.updated_at, x.updated_at),
        seq = greatest(d.seq, x.seq),
        is_hidden = d.is_hidden AND x.is_hidden,
        description = CASE WHEN x.description_at IS NOT NULL AND (d.description_at IS NULL
            OR (x.description_at, x.description) > (d.description_at, d.description)) THEN x.description ELSE d.description END,
        description_at = CASE WHEN x.description_at IS NOT NULL AND (d.description_at IS NULL
            OR (x.description_at, x.description) > (d.description_at, d.description)) THEN x.description_at ELSE d.description_at END,
        lifecycle_state = CASE WHEN x.lifecycle_at IS NOT NULL AND (d.lifecycle_at IS NULL
            OR (x.lifecycle_at, x.lifecycle_state) > (d.lifecycle_at, d.lifecycle_state)) THEN x.lifecycle_state ELSE d.lifecycle_state END,
        lifecycle_at = CASE WHEN x.lifecycle_at IS NOT NULL AND (d.lifecycle_at IS NULL
            OR (x.lifecycle_at, x.lifecycle_state) > (d.lifecycle_at, d.lifecycle_state)) THEN x.lifecycle_at ELSE d.lifecycle_at END,
        source_name = CASE WHEN x.source_at IS NOT NULL AND (d.source_at IS NULL
            OR (x.source_at, x.source_name) > (d.source_at, d.source_name)) THEN x.source_name ELSE d.source_name END,
        source_at = CASE WHEN x.source_at IS NOT NULL AND (d.source_at IS NULL
            OR (x.source_at, x.source_name) > (d.source_at, d.source_name)) THEN x.source_at ELSE d.source_at END
    FROM datasets x WHERE d.id = w AND x.id = l
$$;

-- Moves everything of dataset row l to row w, merging where both have a row for the same key by the
-- same rules as the write path; leaves l's own row (its name, its attributes as its own events gave
-- them, no current version) and its symlink declarations.
CREATE OR REPLACE FUNCTION dataset_merge_rows(l bigint, w bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dataset_merge_attributes(l, w);
    UPDATE datasets SET current_version = NULL WHERE id = l AND current_version IS NOT NULL;

    UPDATE dataset_versions SET dataset_id = w WHERE dataset_id = l;

    WITH m AS (DELETE FROM dataset_fields WHERE dataset_id = l RETURNING *)
    INSERT INTO dataset_fields AS f (dataset_id, name, type, description, ordinal, updated_at)
    SELECT w, name, type, description, ordinal, updated_at FROM m
    ON CONFLICT (dataset_id, name) DO UPDATE SET type = EXCLUDED.type, description = EXCLUDED.description,
        ordinal = EXCLUDED.ordinal, updated_at = EXCLUDED.updated_at
    WHERE (f.updated_at, coalesce(f.type, ''), coalesce(f.description, ''), f.ordinal)
        < (EXCLUDED.updated_at, coalesce(EXCLUDED.type, ''), coalesce(EXCLUDED.description, ''), EXCLUDED.ordinal);

    WITH m AS (DELETE FROM dataset_facets WHERE dataset_id = l RETURNING *)
    INSERT INTO dataset_facets AS f (dataset_id, name, facet, event_time, seq)
    SELECT w, name, facet, event_time, seq FROM m
    ON CONFLICT (dataset_id, name) DO UPDATE SET facet = EXCLUDED.facet, event_time = EXCLUDED.event_time,
        seq = EXCLUDED.seq
    WHERE (f.event_time, f.facet IS NULL, coalesce(f.facet, 'null'), -f.seq)
        < (EXCLUDED.event_time, EXCLUDED.facet IS NULL, coalesce(EXCLUDED.facet, 'null'), -EXCLUDED.seq);

    WITH m AS (DELETE FROM dataset_tags WHERE dataset_id = l RETURNING *)
    INSERT INTO dataset_tags (dataset_id, tag, tagged_at) SELECT w, tag, tagged_at FROM m ON CONFLICT DO NOTHING;

    WITH m AS (DELETE FROM dataset_field_tags WHERE dataset_id = l RETURNING *)
    INSERT INTO dataset_field_tags (dataset_id, field, tag, tagged_at)
    SELECT w, field, tag, tagged_at FROM m ON CONFLICT DO NOTHING;

    -- an unpinned input's version is set again by dataset_group_settle
    WITH m AS (DELETE FROM run_io WHERE dataset_id = l RETURNING *)
    INSERT INTO run_io AS ri (run_uuid, dataset_id, io_type, dataset_version, pinned, version_at, first_seen,
        last_seen, seq)
    SELECT run_uuid, w, io_type, dataset_version, pinned, version_at, first_seen, last_seen, seq FROM m
    ON CONFLICT (run_uuid, io_type, dataset_id) DO UPDATE SET
        first_seen = least(ri.first_seen, EXCLUDED.first_seen),
        last_seen = greatest(ri.last_seen, EXCLUDED.last_seen),
        dataset_version = CASE WHEN (EXCLUDED.pinned, coalesce(EXCLUDED.version_at, '-infinity'), EXCLUDED.dataset_version)
            > (ri.pinned, coalesce(ri.version_at, '-infinity'), ri.dataset_version) THEN EXCLUDED.dataset_version
            ELSE ri.dataset_version END,
        version_at = CASE WHEN (EXCLUDED.pinned, coalesce(EXCLUDED.version_at, '-infinity'), EXCLUDED.dataset_version)
            > (ri.pinned, coalesce(ri.version_at, '-infinity'), ri.dataset_version) THEN EXCLUDED.version_at
            ELSE ri.version_at END,
        pinned = ri.pinned OR EXCLUDED.pinned,
        seq = greatest(ri.seq, EXCLUDED.seq);

    WITH m AS (DELETE FROM job_io WHERE dataset_id = l RETURNING *)
    INSERT INTO job_io AS ji (job_id, dataset_id, io_type, first_seen, last_seen, last_run_uuid, last_run_at, seq)
    SELECT job_id, w, io_type, first_seen, last_seen, last_run_uuid, last_run_at, seq FROM m
    ON CONFLICT (job_id, io_type, dataset_id) DO UPDATE SET
        first_seen = least(ji.first_seen, EXCLUDED.first_seen),
        last_seen = greatest(ji.last_seen, EXCLUDED.last_seen),
        last_run_uuid = CASE WHEN EXCLUDED.last_run_at IS NOT NULL AND (ji.last_run_at IS NULL
            OR (EXCLUDED.last_run_at, EXCLUDED.last_run_uuid) > (ji.last_run_at, ji.last_run_uuid))
            THEN EXCLUDED.last_run_uuid ELSE ji.last_run_uuid END,
        last_run_at = CASE WHEN EXCLUDED.last_run_at IS NOT NULL AND (ji.last_run_at IS NULL
            OR (EXCLUDED.last_run_at, EXCLUDED.last_run_uuid) > (ji.last_run_at, ji.last_run_uuid))
            THEN EXCLUDED.last_run_at ELSE ji.last_run_at END,
        seq = greatest(ji.seq, EXCLUDED.seq);

    WITH m AS (DELETE FROM run_io_facets WHERE dataset_id = l RETURNING *)
    INSERT INTO run_io_facets AS f (run_uuid, dataset_id, io_type, name, facet, event_time, seq)
    SELECT run_uuid, w, io_type, name, facet, event_time, seq FROM m
    ON CONFLICT (run_uuid, io_type, dataset_id, name) DO UPDATE SET facet = EXCLUDED.facet,
        event_time = EXCLUDED.event_time, seq = EXCLUDED.seq
    WHERE (f.event_time, f.facet, -f.seq) < (EXCLUDED.event_time, EXCLUDED.facet, -EXCLUDED.seq);

    -- Column edges of l on either side; two of them may become one, and a field feeding itself
    -- (l.f -> w.f) is dropped, as the graph drops it.
    WITH m AS (DELETE FROM column_lineage WHERE output_dataset_id = l OR input_dataset_id = l RETURNING *),
    g AS (SELECT CASE WHEN output_dataset_id = l THEN w ELSE output_dataset_id END AS o, output_field,
                 CASE WHEN input_dataset_id = l THEN w ELSE input_dataset_id END AS i, input_field,
                 (array_agg(transformation_description ORDER BY last_seen DESC, coalesce(transformation_description, '') DESC,
                    coalesce(transformation_type, '') DESC, coalesce(transformations, 'null') DESC))[1] AS td,
                 (array_agg(transformation_type ORDER BY last_seen DESC, coalesce(transformation_description, '') DESC,
                    coalesce(transformation_type, '') DESC, coalesce(transformations, 'null') DESC))[1] AS tt,
                 (array_agg(transformations ORDER BY last_seen DESC, coalesce(transformation_description, '') DESC,
                    coalesce(transformation_type, '') DESC, coalesce(transformations, 'null') DESC))[1] AS tr,
                 min(first_seen) AS fs, max(last_seen) AS ls,
                 (array_agg(last_run_uuid ORDER BY last_run_at DESC, last_run_uuid DESC)
                    FILTER (WHERE last_run_uuid IS NOT NULL))[1] AS lr,
                 max(last_run_at) AS lra, max(seq) AS sq
          FROM m GROUP BY 1, 2, 3, 4)
    INSERT INTO column_lineage AS c (output_dataset_id, output_field, input_dataset_id, input_field,
        transformation_description, transformation_type, transformations, first_seen, last_seen, last_run_uuid,
        last_run_at, seq)
    SELECT o, output_field, i, input_field, td, tt, tr, fs, ls, lr, lra, sq FROM g
    WHERE NOT (o = i AND output_field IS NOT DISTINCT FROM input_field)
    ON CONFLICT (output_dataset_id, output_field, input_dataset_id, input_field) DO UPDATE SET
        transformation_description = CASE WHEN column_lineage_later(EXCLUDED.last_seen,
            EXCLUDED.transformation_description, EXCLUDED.transformation_type, EXCLUDED.transformations,
            c.last_seen, c.transformation_description, c.transformation_type, c.transformations)
            THEN EXCLUDED.transformation_description ELSE c.transformation_description END,
        transformation_type = CASE WHEN column_lineage_later(EXCLUDED.last_seen,
            EXCLUDED.transformation_description, EXCLUDED.transformation_type, EXCLUDED.transformations,
            c.last_seen, c.transformation_description, c.transformation_type, c.transformations)
            THEN EXCLUDED.transformation_type ELSE c.transformation_type END,
        transformations = CASE WHEN column_lineage_later(EXCLUDED.last_seen,
            EXCLUDED.transformation_description, EXCLUDED.transformation_type, EXCLUDED.transformations,
            c.last_seen, c.transformation_description, c.transformation_type, c.transformations)
            THEN EXCLUDED.transformations ELSE c.transformations END,
        first_seen = least(c.first_seen, EXCLUDED.first_seen),
        last_seen = greatest(c.last_seen, EXCLUDED.last_seen),
        last_run_uuid = CASE WHEN EXCLUDED.last_run_at IS NOT NULL AND (c.last_run_at IS NULL
            OR (EXCLUDED.last_run_at, EXCLUDED.last_run_uuid) > (c.last_run_at, c.last_run_uuid))
            THEN EXCLUDED.last_run_uuid ELSE c.last_run_uuid END,
        last_run_at = CASE WHEN EXCLUDED.last_run_at IS NOT NULL AND (c.last_run_at IS NULL
            OR (EXCLUDED.last_run_at, EXCLUDED.last_run_uuid) > (c.last_run_at, c.last_run_uuid))
            THEN EXCLUDED.last_run_at ELSE c.last_run_at END,
        seq = greatest(c.seq, EXCLUDED.seq);
END $$;

-- The rows joined to row `seed` by symlink declarations and by aliases already made (0005's walk).
CREATE FUNCTION dataset_group_members(seed bigint) RETURNS bigint[] LANGUAGE sql STABLE AS $$
    WITH RECURSIVE grp(id) AS (
        SELECT seed
        UNION
        SELECT x.id FROM grp g JOIN datasets r ON r.id = g.id,
        LATERAL (SELECT n.id FROM dataset_symlinks s JOIN datasets n ON n.namespace = s.namespace AND n.name = s.name
                 WHERE s.dataset_id = r.id
                 UNION ALL SELECT s.dataset_id FROM dataset_symlinks s WHERE s.namespace = r.namespace AND s.name = r.name
                 UNION ALL SELECT s2.dataset_id FROM dataset_symlinks s
                           JOIN dataset_symlinks s2 ON s2.namespace = s.namespace AND s2.name = s.name
                           WHERE s.dataset_id = r.id
                 UNION ALL SELECT r.alias_of WHERE r.alias_of IS NOT NULL
                 UNION ALL SELECT a.id FROM datasets a WHERE a.alias_of = r.id) AS x(id)
    )
    SELECT array_agg(id ORDER BY id) FROM grp
$$;

-- Puts the group of row `seed` in place (0005), then settles what the join changed: the group's
-- first-read versions become the one named after the group's row, the group's unpinned reads are
-- linked again, its current version is set again, and the runs whose edges moved get their job
-- versions again (the dataset names in them changed). Every member's row is locked first, in id order,
-- and the group looked at again until no transaction that held one of them added members: two
-- transactions declaring symlinks into one group, or writing an alias's edges, meet on a row lock, and
-- the second sees what the first committed.
CREATE OR REPLACE FUNCTION dataset_group_settle(seed bigint) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    members bigint[] := dataset_group_members(seed);
    again bigint[];
    canon bigint;
    m bigint;
    moved jsonb;
BEGIN
    LOOP
        PERFORM 1 FROM datasets WHERE id = ANY (members) ORDER BY id FOR UPDATE;
        again := dataset_group_members(seed);
        EXIT WHEN again <@ members;
        members := again;
    END LOOP;

    SELECT d.id INTO canon FROM datasets d
    WHERE d.id = ANY (members) AND EXISTS (SELECT 1 FROM dataset_symlinks s WHERE s.dataset_id = d.id)
    ORDER BY d.namespace COLLATE "C", d.name COLLATE "C" LIMIT 1;
    IF canon IS NULL THEN
        RETURN members; -- no declaration: every row stands alone
    END IF;
    SELECT coalesce(jsonb_agg(DISTINCT io.run_uuid), '[]') INTO moved
    FROM run_io io JOIN datasets d ON d.id = io.dataset_id
    WHERE d.id = ANY (members) AND d.id <> canon AND d.alias_of IS NULL;
    UPDATE datasets SET alias_of = NULL WHERE id = canon AND alias_of IS NOT NULL;
    FOR m IN SELECT id FROM datasets WHERE id = ANY (members) AND id <> canon AND alias_of IS NULL ORDER BY id LOOP
        PERFORM dataset_merge_rows(m, canon);
    END LOOP;
    UPDATE datasets SET alias_of = canon WHERE id = ANY (members) AND id <> canon AND alias_of IS DISTINCT FROM canon;
    PERFORM dataset_first_read_settle(canon);
    PERFORM dataset_reads_relink(canon, NULL, NULL, NULL);
    UPDATE datasets SET current_version = dataset_current_version(canon)
    WHERE id = canon AND current_version IS DISTINCT FROM dataset_current_version(canon);
    PERFORM job_versions_settle(moved);
    RETURN members;
END $$;

-- Makes the first-read versions on dataset row d one: the one named after d, with the earliest schema
-- of them all; every edge that read another reads it.
CREATE FUNCTION dataset_first_read_settle(d bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    target uuid := (SELECT first_read_version FROM datasets WHERE id = d);
    others uuid[];
    best record;
BEGIN
    SELECT array_agg(version) INTO others FROM dataset_versions
    WHERE dataset_id = d AND first_read AND version <> target;
    IF others IS NULL THEN
        RETURN;
    END IF;
    SELECT o.fields, o.lifecycle_state, o.created_at, (SELECT min(seq) FROM dataset_versions
        WHERE version = ANY (others || target)) AS seq INTO best
    FROM dataset_versions o WHERE o.version = ANY (others || target)
    ORDER BY o.fields = '[]', o.created_at, o.fields, coalesce(o.lifecycle_state, '') LIMIT 1;
    INSERT INTO dataset_versions (version, dataset_id, fields, lifecycle_state, created_at, seq, first_read)
    VALUES (target, d, best.fields, best.lifecycle_state, best.created_at, best.seq, true)
    ON CONFLICT (version) DO UPDATE SET fields = EXCLUDED.fields, lifecycle_state = EXCLUDED.lifecycle_state,
        created_at = EXCLUDED.created_at, seq = EXCLUDED.seq;
    UPDATE run_io SET dataset_version = target WHERE dataset_id = d AND dataset_version = ANY (others);
    DELETE FROM dataset_versions WHERE version = ANY (others);
END $$;

-- Whether a column edge's transformation (a_*) replaces another's (b_*): the later last_seen, then the
-- greater values. Defined before the functions that use it run (plpgsql resolves names at run time).
CREATE FUNCTION column_lineage_later(a_seen timestamptz, a_desc text, a_type text, a_tr jsonb,
                                     b_seen timestamptz, b_desc text, b_type text, b_tr jsonb)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (a_seen, coalesce(a_desc, ''), coalesce(a_type, ''), coalesce(a_tr, 'null'))
         > (b_seen, coalesce(b_desc, ''), coalesce(b_type, ''), coalesce(b_tr, 'null'))
$$;

-- The chunk's dataset names (a JSON array of objects with namespace and name): settles every group
-- one of them put out of place (0005), then merges the attributes of the alias rows named in the chunk
-- into their group's row, so that an event naming an alias after the join counts as it would before.
CREATE OR REPLACE FUNCTION dataset_aliases_settle(names jsonb) RETURNS integer LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    done bigint[] := '{}';
    seed bigint;
    a record;
    settled integer := 0;
BEGIN
    FOR seed IN
        SELECT r.id FROM (SELECT DISTINCT namespace, name FROM jsonb_to_recordset(names) AS x(namespace text, name text)) x
        JOIN datasets r ON r.namespace = x.namespace AND r.name = x.name
        -- (only a row that a symlink names or that declared one can be out of place: the test's cheap part)
        WHERE CASE WHEN EXISTS (SELECT 1 FROM dataset_symlinks s WHERE s.dataset_id = r.id)
                     OR EXISTS (SELECT 1 FROM dataset_symlinks s WHERE s.namespace = r.namespace AND s.name = r.name)
                   THEN dataset_alias_unsettled(r) ELSE false END
        ORDER BY r.id
    LOOP
        CONTINUE WHEN seed = ANY (done);
        done := done || dataset_group_settle(seed);
        settled := settled + 1;
    END LOOP;
    FOR a IN
        SELECT DISTINCT r.id, r.alias_of FROM (SELECT DISTINCT namespace, name FROM jsonb_to_recordset(names)
            AS x(namespace text, name text)) x
        JOIN datasets r ON r.namespace = x.namespace AND r.name = x.name
        WHERE r.alias_of IS NOT NULL ORDER BY r.alias_of, r.id
    LOOP
        PERFORM dataset_merge_attributes(a.id, a.alias_of);
    END LOOP;
    RETURN settled;
END $$;
