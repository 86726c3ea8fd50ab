-- 0010_read_routes.sql - what Marquez's read routes need at 1 M datasets, 100,000 jobs and 10 M runs:
-- indexes that answer each list's ORDER BY ... LIMIT/OFFSET in index order, each job's latest run
-- state beside the job, and exact counters for the totals and series the routes print.
--
-- Design notes (README "Read routes at scale" has the profile these answer):
--  * jobs.latest_run_state is the state of the run jobs.latest_run_uuid names (NULL: no run), so the
--    lastRunStates filter and its count need no join with runs. The write path refreshes it once per
--    transaction for the jobs its events touched (read_routes_upkeep, called last by
--    store/store_event.c); a run's state changes only through its own events, whose job is in that
--    transaction.
--  * read_counts holds exact counts as delta rows: every change adds rows (+n, -n) in the
--    transaction that makes it, so a reader's snapshot sees counts that match the rows it sees;
--    readers sum the rows of a key. A writer merges the rows of a key it touches once it has more
--    than 4 of them, taking only rows no other transaction holds (SKIP LOCKED), so
--    writers never wait for each other here. Counters:
--      jobs             visible jobs (not hidden, not a symlink) by namespace (k) and latest run
--                       state (s, '' for none)                       - /jobs totalCount
--      jobs_total       every job                                    - /stats/jobs
--      jobs_created     every job by the UTC hour of created_at (t)  - /stats/jobs
--      datasets         visible datasets (not hidden, not an alias) by namespace (k)
--      datasets_total   datasets that are not aliases; datasets_created: by hour of created_at
--      events           events by kind (k), event type (s, '' for none), UTC hour of event_time
--                       (t) and UTC day of received_at (r)           - /events/lineage, /stats
--      events_day       the same by UTC day of event_time (t)
--    Jobs and datasets are counted by statement-level triggers (every statement that changes them,
--    edits and alias merges included, is counted in its own transaction); events by
--    read_routes_upkeep, from the chunk's new events rows. Retention drops whole days of received_at
--    (oldest first), so a reader skips the event rows of days below event_log_dropped's highest
--    bound: the counts stay exact without rewriting counters when partitions go.
--  * An hour or a day that a requested range only partly covers is counted in events itself,
--    through events_time (event_time, seq) INCLUDE (kind, event_type), replacing events_event_time.
--  * Bulk loads that bypass triggers (session_replication_role = replica) call
--    read_routes_rebuild() afterwards; this migration calls it for the rows that exist.

ALTER TABLE jobs ADD COLUMN latest_run_state text;

-- Lists in index order: a page and any offset are read from the index (index-only for the skipped
-- entries). Each replaces a sort of every candidate row.
CREATE INDEX jobs_list ON jobs (updated_at DESC, namespace, name) INCLUDE (latest_run_state, id)
    WHERE NOT is_hidden AND symlink_target_id IS NULL;
CREATE INDEX jobs_namespace_list ON jobs (namespace, updated_at DESC, name) INCLUDE (latest_run_state, id)
    WHERE NOT is_hidden AND symlink_target_id IS NULL;
CREATE INDEX jobs_created ON jobs (created_at);
CREATE INDEX datasets_list ON datasets (namespace, name) INCLUDE (id) WHERE NOT is_hidden AND alias_of IS NULL;
CREATE INDEX datasets_created ON datasets (created_at) WHERE alias_of IS NULL;
CREATE INDEX runs_job_started ON runs (job_id, started_at DESC NULLS LAST, created_at DESC, uuid);
DROP INDEX dataset_versions_dataset;
CREATE INDEX dataset_versions_list ON dataset_versions (dataset_id, created_at DESC, version);
DROP INDEX events_event_time;
CREATE INDEX events_time ON events (event_time, seq) INCLUDE (kind, event_type);

CREATE TABLE read_counts (
    counter text        NOT NULL,
    k       text        NOT NULL DEFAULT '',
    s       text        NOT NULL DEFAULT '',
    t       timestamptz NOT NULL DEFAULT '-infinity',
    r       timestamptz NOT NULL DEFAULT '-infinity',
    n       bigint      NOT NULL
);
-- One index for both kinds of lookup: by key (t is '-infinity' for the counters without time) and by
-- time range (events).
CREATE INDEX read_counts_lookup ON read_counts (counter, t, k, s, r) INCLUDE (n);

CREATE TYPE read_counts_key AS (counter text, k text, s text, t timestamptz, r timestamptz);

-- Merges the rows of each given key that has more than 4 of them into one, skipping rows another
-- transaction holds (they are merged by a later call).
CREATE FUNCTION read_counts_merge(keys read_counts_key[]) RETURNS void LANGUAGE sql AS $$
    WITH busy AS (SELECT c.counter, c.k, c.s, c.t, c.r FROM read_counts c
                  JOIN (SELECT DISTINCT * FROM unnest(keys)) x
                    ON c.counter = x.counter AND c.k = x.k AND c.s = x.s AND c.t = x.t AND c.r = x.r
                  GROUP BY 1, 2, 3, 4, 5 HAVING count(*) > 4),
    gone AS (DELETE FROM read_counts c WHERE c.ctid IN (
                 SELECT c2.ctid FROM read_counts c2 JOIN busy b
                   ON c2.counter = b.counter AND c2.k = b.k AND c2.s = b.s AND c2.t = b.t AND c2.r = b.r
                 FOR UPDATE OF c2 SKIP LOCKED)
             RETURNING c.counter, c.k, c.s, c.t, c.r, c.n)
    INSERT INTO read_counts (counter, k, s, t, r, n)
    SELECT counter, k, s, t, r, sum(n) FROM gone GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0
$$;

-- The counter keys a jobs row and a datasets row count under (their columns as arguments: transition
-- tables' rows are records).
CREATE FUNCTION read_counts_job_keys(namespace text, latest_run_state text, is_hidden boolean,
                                     symlink_target_id bigint, created_at timestamptz)
RETURNS SETOF read_counts_key LANGUAGE sql STABLE AS $$
    SELECT 'jobs', namespace, coalesce(latest_run_state, ''), '-infinity'::timestamptz, '-infinity'::timestamptz
    WHERE NOT is_hidden AND symlink_target_id IS NULL
    UNION ALL SELECT 'jobs_total', '', '', '-infinity', '-infinity'
    UNION ALL SELECT 'jobs_created', '', '', date_trunc('hour', created_at, 'UTC'), '-infinity'
$$;

CREATE FUNCTION read_counts_dataset_keys(namespace text, is_hidden boolean, alias_of bigint, created_at timestamptz)
RETURNS SETOF read_counts_key LANGUAGE sql STABLE AS $$
    SELECT 'datasets', namespace, '', '-infinity'::timestamptz, '-infinity'::timestamptz
    WHERE NOT is_hidden AND alias_of IS NULL
    UNION ALL SELECT 'datasets_total', '', '', '-infinity', '-infinity' WHERE alias_of IS NULL
    UNION ALL SELECT 'datasets_created', '', '', date_trunc('hour', created_at, 'UTC'), '-infinity'
    WHERE alias_of IS NULL
$$;

-- Adds the net deltas of (key, +1/-1) rows, then merges the keys that have many rows.
CREATE FUNCTION read_counts_add(deltas jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    keys read_counts_key[];
BEGIN
    WITH d AS (SELECT x.counter, x.k, x.s, x.t, x.r, sum(x.n) AS n
               FROM jsonb_to_recordset(deltas) AS x(counter text, k text, s text, t timestamptz, r timestamptz, n bigint)
               GROUP BY 1, 2, 3, 4, 5 HAVING sum(x.n) <> 0),
    ins AS (INSERT INTO read_counts (counter, k, s, t, r, n) SELECT * FROM d RETURNING counter, k, s, t, r)
    SELECT array_agg(ROW(counter, k, s, t, r)::read_counts_key) INTO keys FROM ins;
    IF keys IS NOT NULL THEN
        PERFORM read_counts_merge(keys);
    END IF;
END $$;

-- Statement-level triggers: the keys of the rows after the statement count +1, before it -1; an
-- UPDATE adds deltas only for rows whose counted columns changed (an upsert rewrites every row it
-- touches).
CREATE FUNCTION read_counts_jobs_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM read_counts_add((SELECT jsonb_agg(to_jsonb(kk) || '{"n": 1}') FROM new_rows j,
            read_counts_job_keys(j.namespace, j.latest_run_state, j.is_hidden, j.symlink_target_id, j.created_at) kk));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM read_counts_add((SELECT jsonb_agg(to_jsonb(kk) || '{"n": -1}') FROM old_rows j,
            read_counts_job_keys(j.namespace, j.latest_run_state, j.is_hidden, j.symlink_target_id, j.created_at) kk));
    ELSE
        PERFORM read_counts_add((
            WITH ch AS (SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                        WHERE (n.namespace, n.latest_run_state, n.is_hidden, n.symlink_target_id, n.created_at)
                              IS DISTINCT FROM (o.namespace, o.latest_run_state, o.is_hidden, o.symlink_target_id,
                                                o.created_at)),
            v AS (SELECT 1 AS sign, j.* FROM new_rows j WHERE j.id IN (SELECT id FROM ch)
                  UNION ALL SELECT -1, j.* FROM old_rows j WHERE j.id IN (SELECT id FROM ch))
            SELECT jsonb_agg(to_jsonb(kk) || jsonb_build_object('n', v.sign)) FROM v,
                read_counts_job_keys(v.namespace, v.latest_run_state, v.is_hidden, v.symlink_target_id, v.created_at) kk));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION read_counts_datasets_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM read_counts_add((SELECT jsonb_agg(to_jsonb(kk) || '{"n": 1}') FROM new_rows d,
            read_counts_dataset_keys(d.namespace, d.is_hidden, d.alias_of, d.created_at) kk));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM read_counts_add((SELECT jsonb_agg(to_jsonb(kk) || '{"n": -1}') FROM old_rows d,
            read_counts_dataset_keys(d.namespace, d.is_hidden, d.alias_of, d.created_at) kk));
    ELSE
        PERFORM read_counts_add((
            WITH ch AS (SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                        WHERE (n.namespace, n.is_hidden, n.alias_of, n.created_at)
                              IS DISTINCT FROM (o.namespace, o.is_hidden, o.alias_of, o.created_at)),
            v AS (SELECT 1 AS sign, d.* FROM new_rows d WHERE d.id IN (SELECT id FROM ch)
                  UNION ALL SELECT -1, d.* FROM old_rows d WHERE d.id IN (SELECT id FROM ch))
            SELECT jsonb_agg(to_jsonb(kk) || jsonb_build_object('n', v.sign)) FROM v,
                read_counts_dataset_keys(v.namespace, v.is_hidden, v.alias_of, v.created_at) kk));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER read_counts_jobs_inserted AFTER INSERT ON jobs REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION read_counts_jobs_changed();
CREATE TRIGGER read_counts_jobs_updated AFTER UPDATE ON jobs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION read_counts_jobs_changed();
CREATE TRIGGER read_counts_jobs_deleted AFTER DELETE ON jobs REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION read_counts_jobs_changed();
CREATE TRIGGER read_counts_datasets_inserted AFTER INSERT ON datasets REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION read_counts_datasets_changed();
CREATE TRIGGER read_counts_datasets_updated AFTER UPDATE ON datasets
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION read_counts_datasets_changed();
CREATE TRIGGER read_counts_datasets_deleted AFTER DELETE ON datasets REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION read_counts_datasets_changed();

-- The counter keys of an events row.
CREATE FUNCTION read_counts_event_keys(kind text, event_type text, event_time timestamptz, received_at timestamptz)
RETURNS SETOF read_counts_key LANGUAGE sql STABLE AS $$
    SELECT 'events', kind, coalesce(event_type, ''), date_trunc('hour', event_time, 'UTC'),
           date_trunc('day', received_at, 'UTC')
    UNION ALL SELECT 'events_day', kind, coalesce(event_type, ''), date_trunc('day', event_time, 'UTC'),
           date_trunc('day', received_at, 'UTC')
$$;

-- Called once per write transaction, last (store/store_event.c): p_seqs are the seqs of its new
-- events (received now()), p_jobs the jobs of its run events.
CREATE FUNCTION read_routes_upkeep(p_seqs bigint[], p_jobs bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE jobs j SET latest_run_state = x.state
    FROM (SELECT j2.id, (SELECT r.state FROM runs r WHERE r.uuid = j2.latest_run_uuid) AS state
          FROM jobs j2 WHERE j2.id = ANY (p_jobs)) x
    WHERE j.id = x.id AND j.latest_run_state IS DISTINCT FROM x.state;
    PERFORM read_counts_add((SELECT jsonb_agg(to_jsonb(kk) || '{"n": 1}')
                             FROM events e, read_counts_event_keys(e.kind, e.event_type, e.event_time, e.received_at) kk
                             WHERE e.seq = ANY (p_seqs) AND e.received_at = now()));
END $$;

-- Recomputes latest_run_state and every counter from the tables (after a bulk load, and below).
CREATE FUNCTION read_routes_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE jobs j SET latest_run_state = r.state FROM runs r
    WHERE r.uuid = j.latest_run_uuid AND j.latest_run_state IS DISTINCT FROM r.state;
    DELETE FROM read_counts;
    INSERT INTO read_counts (counter, k, s, t, r, n)
    SELECT kk.counter, kk.k, kk.s, kk.t, kk.r, count(*)
    FROM jobs j, read_counts_job_keys(j.namespace, j.latest_run_state, j.is_hidden, j.symlink_target_id, j.created_at) kk
    GROUP BY 1, 2, 3, 4, 5
    UNION ALL
    SELECT kk.counter, kk.k, kk.s, kk.t, kk.r, count(*)
    FROM datasets d, read_counts_dataset_keys(d.namespace, d.is_hidden, d.alias_of, d.created_at) kk
    GROUP BY 1, 2, 3, 4, 5
    UNION ALL
    SELECT kk.counter, kk.k, kk.s, kk.t, kk.r, count(*)
    FROM events e, read_counts_event_keys(e.kind, e.event_type, e.event_time, e.received_at) kk GROUP BY 1, 2, 3, 4, 5;
END $$;

-- Event counts ------------------------------------------------------------------------------------------

-- The received_at below which the log holds nothing any more: retention drops whole UTC days, oldest
-- first (migrations/0007), so counter rows of days below it count dropped events and are skipped.
CREATE FUNCTION event_counts_floor() RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT coalesce(max(upper_bound), '-infinity') FROM event_log_dropped
$$;

-- The received_at ranges that can hold events with lo <= event_time <= hi: [lower, upper) among the
-- partitions whose event times are recorded (event_partition_times: closed partitions, contiguous from
-- the oldest), and everything from open_from on (the newer ones). A reader adds
-- "(received_at >= lower AND received_at < upper) OR received_at >= open_from" and Postgres reads only
-- those partitions; nothing is ever received into a recorded partition again, so nothing is missed.
CREATE FUNCTION event_log_window(lo timestamptz, hi timestamptz,
                                 OUT lower timestamptz, OUT upper timestamptz, OUT open_from timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT coalesce(min(coalesce(t.lower_bound, '-infinity')) FILTER (WHERE t.max_event_time >= lo
                    AND t.min_event_time <= hi), '-infinity'),
           coalesce(max(t.upper_bound) FILTER (WHERE t.max_event_time >= lo AND t.min_event_time <= hi), '-infinity'),
           coalesce(max(t.upper_bound), '-infinity')
    FROM event_partition_times t
$$;

-- Events by kind and type with lo <= event_time < hi, exactly: whole UTC days and hours from the
-- counters, the parts of an hour at either edge from events itself (events_time). A part that is
-- empty is not looked up (its condition is false before the scan).
CREATE FUNCTION event_counts(lo timestamptz, hi timestamptz)
RETURNS TABLE (kind text, event_type text, n bigint) LANGUAGE plpgsql STABLE AS $$
DECLARE
    fl timestamptz := event_counts_floor();
    h1 timestamptz; h2 timestamptz; d1 timestamptz; d2 timestamptz;
BEGIN
    IF NOT (lo < hi) THEN
        RETURN;
    END IF;
    h1 := date_trunc('hour', lo, 'UTC');
    h1 := CASE WHEN h1 = lo THEN h1 ELSE h1 + interval '1 hour' END;
    h2 := date_trunc('hour', hi, 'UTC');
    IF NOT (h1 < h2) THEN -- no whole hour: [lo, hi) is counted
        h1 := hi;
        h2 := hi;
    END IF;
    d1 := date_trunc('day', h1, 'UTC');
    d1 := CASE WHEN d1 = h1 THEN d1 ELSE d1 + interval '1 day' END;
    d2 := date_trunc('day', h2, 'UTC');
    IF NOT (d1 < d2) THEN
        d1 := h2;
        d2 := h2;
    END IF;
    RETURN QUERY SELECT x.kind, x.event_type, sum(x.n)::bigint FROM (
        SELECT e.kind, coalesce(e.event_type, '') AS event_type, 1::bigint AS n FROM events e
        WHERE lo < h1 AND e.event_time >= lo AND e.event_time < h1 AND e.received_at >= (SELECT event_log_floor(lo))
        UNION ALL SELECT e.kind, coalesce(e.event_type, ''), 1 FROM events e
        WHERE h2 < hi AND e.event_time >= h2 AND e.event_time < hi AND e.received_at >= (SELECT event_log_floor(h2))
        UNION ALL SELECT c.k, c.s, c.n FROM read_counts c
        WHERE h1 < d1 AND c.counter = 'events' AND c.t >= h1 AND c.t < d1 AND c.r >= fl
        UNION ALL SELECT c.k, c.s, c.n FROM read_counts c
        WHERE d2 < h2 AND c.counter = 'events' AND c.t >= d2 AND c.t < h2 AND c.r >= fl
        UNION ALL SELECT c.k, c.s, c.n FROM read_counts c
        WHERE d1 < d2 AND c.counter = 'events_day' AND c.t >= d1 AND c.t < d2 AND c.r >= fl) x
    GROUP BY 1, 2;
END $$;

-- The same for a series of short ranges at once (the stats' buckets, at most a day each): events by
-- type (every kind) of each range i (1-based), from the hour counters and the uncounted edges.
CREATE FUNCTION event_counts_series(los timestamptz[], his timestamptz[])
RETURNS TABLE (i bigint, event_type text, n bigint) LANGUAGE sql STABLE AS $$
    WITH b AS (SELECT x.i, x.lo, x.hi, h.h1, h.h2 FROM unnest(los, his) WITH ORDINALITY AS x(lo, hi, i)
               CROSS JOIN LATERAL (SELECT CASE WHEN date_trunc('hour', x.lo, 'UTC') = x.lo THEN x.lo
                                          ELSE date_trunc('hour', x.lo, 'UTC') + interval '1 hour' END AS h1,
                                          date_trunc('hour', x.hi, 'UTC') AS h2) h
               WHERE x.lo < x.hi),
    parts AS (SELECT b.i, b.lo AS a, b.hi AS c FROM b WHERE NOT (b.h1 < b.h2)
              UNION ALL SELECT b.i, b.lo, b.h1 FROM b WHERE b.h1 < b.h2 AND b.lo < b.h1
              UNION ALL SELECT b.i, b.h2, b.hi FROM b WHERE b.h1 < b.h2 AND b.h2 < b.hi)
    SELECT y.i, y.event_type, sum(y.n)::bigint FROM (
        SELECT b.i, c.s AS event_type, c.n FROM b JOIN read_counts c ON c.counter = 'events' AND c.t >= b.h1
            AND c.t < b.h2 AND c.r >= event_counts_floor()
        UNION ALL SELECT p.i, coalesce(e.event_type, ''), 1 FROM parts p CROSS JOIN LATERAL (
            SELECT e.event_type FROM events e WHERE e.event_time >= p.a AND e.event_time < p.c
            AND e.received_at >= event_log_floor(p.a)) e) y
    GROUP BY 1, 2
$$;

-- Passes the buckets of one RUN_EVENT counter (events: hours, events_day: days) that lie in [a, b),
-- counted from b downwards (descending) or from a upwards, as long as they fit in budget events:
-- reached is the bucket boundary where that stops (the far end when every bucket fits), passed the
-- events passed, done whether every bucket of [a, b) fitted.
CREATE FUNCTION event_page_pass(p_counter text, width interval, a timestamptz, b timestamptz, descending boolean,
                                budget bigint, OUT reached timestamptz, OUT passed bigint, OUT done boolean)
LANGUAGE sql STABLE AS $$
    WITH buckets AS (SELECT c.t, sum(c.n) AS n FROM read_counts c
                     WHERE c.counter = p_counter AND c.k = 'RUN_EVENT' AND c.t >= a AND c.t + width <= b
                       AND c.r >= event_counts_floor()
                     GROUP BY c.t),
    cum AS (SELECT CASE WHEN descending THEN t ELSE t + width END AS edge,
                   sum(n) OVER (ORDER BY CASE WHEN descending THEN -extract(epoch FROM t) ELSE extract(epoch FROM t) END)
                   AS total
            FROM buckets),
    fit AS (SELECT edge, total FROM cum WHERE total <= budget ORDER BY total DESC, edge LIMIT 1),
    whole AS (SELECT coalesce(sum(n), 0) AS n FROM buckets)
    SELECT CASE WHEN whole.n <= budget THEN CASE WHEN descending THEN a ELSE b END
                ELSE coalesce(fit.edge, CASE WHEN descending THEN b ELSE a END) END,
           CASE WHEN whole.n <= budget THEN whole.n ELSE coalesce(fit.total, 0) END,
           whole.n <= budget
    FROM whole LEFT JOIN fit ON true
$$;

-- Where the page at p_offset of the RUN_EVENTs with lo <= event_time < hi, by event_time (then seq),
-- starts: every such event on the far side of bound (at or above it descending, below it ascending)
-- is before the page, and skip of the others are too. bound is the boundary nearest the page that the
-- counters reach, contiguously from the starting edge: the part of an hour at the edge (counted), the
-- hours up to a day boundary, whole days, then the hours of the next day; so the page is read from the
-- index with skip below one hour's events. Small offsets: no counting (bound = the edge).
CREATE FUNCTION event_page_start(lo timestamptz, hi timestamptz, descending boolean, p_offset bigint,
                                 OUT bound timestamptz, OUT skip bigint) LANGUAGE plpgsql STABLE AS $$
DECLARE
    hlo timestamptz; hhi timestamptz; -- the whole hours of [lo, hi)
    dlo timestamptz; dhi timestamptz; -- the whole days of [hlo, hhi)
    edge timestamptz;
    c bigint;
    p record;
BEGIN
    bound := CASE WHEN descending THEN hi ELSE lo END;
    skip := p_offset;
    IF p_offset < 1000 OR NOT (lo < hi) THEN
        RETURN;
    END IF;
    hlo := date_trunc('hour', lo, 'UTC');
    hlo := CASE WHEN hlo = lo THEN hlo ELSE hlo + interval '1 hour' END;
    hhi := date_trunc('hour', hi, 'UTC');
    IF NOT (hlo < hhi) THEN
        RETURN;
    END IF;
    dlo := date_trunc('day', hlo, 'UTC');
    dlo := CASE WHEN dlo = hlo THEN dlo ELSE dlo + interval '1 day' END;
    dhi := greatest(date_trunc('day', hhi, 'UTC'), dlo);
    edge := CASE WHEN descending THEN hhi ELSE hlo END;
    SELECT coalesce(sum(x.n), 0) INTO c FROM event_counts(least(edge, bound), greatest(edge, bound)) x
    WHERE x.kind = 'RUN_EVENT';
    IF c > skip THEN
        RETURN;
    END IF;
    skip := skip - c;
    bound := edge;
    -- hours to the first day boundary, whole days, then the hours of the next day
    IF descending THEN
        p := event_page_pass('events', interval '1 hour', greatest(dhi, hlo), bound, true, skip);
    ELSE
        p := event_page_pass('events', interval '1 hour', bound, least(dlo, hhi), false, skip);
    END IF;
    skip := skip - p.passed;
    bound := p.reached;
    IF NOT p.done THEN
        RETURN;
    END IF;
    IF dlo < dhi THEN
        p := event_page_pass('events_day', interval '1 day', dlo, dhi, descending, skip);
        skip := skip - p.passed;
        bound := p.reached;
    END IF;
    IF descending THEN
        p := event_page_pass('events', interval '1 hour', greatest(bound - interval '1 day', hlo), bound, true, skip);
    ELSE
        p := event_page_pass('events', interval '1 hour', bound, least(bound + interval '1 day', hhi), false, skip);
    END IF;
    skip := skip - p.passed;
    bound := p.reached;
END $$;

-- How many jobs, datasets (not aliases) or sources were created before hi (the stats' cumulative series):
-- the total, less the counted hours from hi's on, plus the part of hi's hour before it (counted).
CREATE FUNCTION created_before(p_what text, hi timestamptz) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT CASE p_what
        WHEN 'sources' THEN (SELECT count(*) FROM sources WHERE created_at < hi)
        WHEN 'jobs' THEN (SELECT coalesce(sum(n), 0) FROM read_counts WHERE counter = 'jobs_total')
            - (SELECT coalesce(sum(n), 0) FROM read_counts WHERE counter = 'jobs_created'
               AND t >= date_trunc('hour', hi, 'UTC'))
            + (SELECT count(*) FROM jobs WHERE created_at >= date_trunc('hour', hi, 'UTC') AND created_at < hi)
        WHEN 'datasets' THEN (SELECT coalesce(sum(n), 0) FROM read_counts WHERE counter = 'datasets_total')
            - (SELECT coalesce(sum(n), 0) FROM read_counts WHERE counter = 'datasets_created'
               AND t >= date_trunc('hour', hi, 'UTC'))
            + (SELECT count(*) FROM datasets WHERE created_at >= date_trunc('hour', hi, 'UTC') AND created_at < hi
               AND alias_of IS NULL)
    END::bigint
$$;

SELECT read_routes_rebuild();
