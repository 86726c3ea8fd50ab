-- 0007_event_log_partitions.sql - the event log becomes range-partitioned by ingestion time
-- (received_at), so that retention drops whole partitions instead of deleting rows.
--
-- Design notes:
--  * A unique index on a partitioned table must contain the partition key, so "one row per distinct
--    event" can no longer be a UNIQUE (hash) on events. The idempotency key moves to event_hashes
--    (hash -> seq, received_at), unpartitioned, written in the same statement as the events row
--    (store/store_event.c: the events row is inserted only when the hash row was). Its rows outlive
--    retention on purpose: the model keeps what dropped events derived, so an old event sent again
--    must still be recognised as a duplicate and change nothing. It costs ~100 bytes per event
--    against ~10 KB for the event itself.
--  * seq keeps its sequence (events_seq_seq, now owned by the new parent) and its meaning; the primary
--    key is (seq, received_at), which still serves lookups and ordering by seq. xid keeps its meaning
--    too (the writing transaction), so the graph follower's window query is unchanged; it now reads
--    one small index per partition.
--  * The existing table is not copied: it is renamed and attached as the first partition,
--    events_legacy, holding everything received before the day after the migration (UTC). Its
--    indexes are kept and matched to the parent's, only the primary key is built again.
--  * Partitions after that are created ahead of time by event_partitions_create (at start-up and on
--    a schedule, server/maintain.c), contiguous from the last upper bound. events_default catches a
--    row no partition covers (maintenance stopped for days, clock jumps), so an insert never fails;
--    when its range is created later, the rows move into it in the same transaction.
--  * event_partitions_drop drops partitions whose upper bound is older than the retention: whole
--    tables, never row deletes, and nothing else (the model tables do not refer to events). Each
--    drop is recorded in event_log_dropped, so `lineaged replay` can tell that the log is no longer
--    the whole history.
--  * Reads by event time (the event list, the stats) cannot be pruned by the partition key alone:
--    an event's time and its arrival are independent (late events, skewed clocks). So the upkeep
--    records the event times each closed partition holds (event_partition_times: partitions whose
--    upper bound is a day old, when nothing writes into them any more), and event_log_floor(t) gives
--    the lowest received_at an event with event_time >= t can have; readers add
--    "received_at >= (SELECT event_log_floor(t))" and Postgres skips the other partitions at run time.
--    Partitions newer than the recorded ones are always read, and a partition missing from the record
--    can only be newer, so the floor never hides an event.
--  * Lock order, the same as readers and writers take (parent, then partition): creation takes SHARE
--    UPDATE EXCLUSIVE on events (inserts and reads go on) and ACCESS EXCLUSIVE on events_default
--    while it moves rows out and attaches; dropping takes ACCESS EXCLUSIVE on events for the drop
--    only. Both give up after lock_timeout rather than queue everyone behind them; an advisory lock
--    keyed by the table lets one collector at a time do it.

CREATE TABLE event_hashes (
    hash        bytea       PRIMARY KEY,
    seq         bigint      NOT NULL,
    received_at timestamptz NOT NULL  -- with seq: finds the event's row in its partition
);

CREATE TABLE event_log_dropped (
    partition_name text        NOT NULL,
    lower_bound    timestamptz,          -- NULL: the partition had no lower bound (events_legacy)
    upper_bound    timestamptz NOT NULL,
    dropped_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE event_partition_times (
    partition_name text        PRIMARY KEY,
    lower_bound    timestamptz,          -- NULL: no lower bound (events_legacy)
    upper_bound    timestamptz NOT NULL,
    min_event_time timestamptz,          -- both NULL: the partition is empty
    max_event_time timestamptz
);

-- The lowest received_at an event with event_time >= p_after can have: the lower bound of the oldest
-- recorded partition holding such an event, else the end of the recorded partitions (newer ones are
-- always read); -infinity when nothing is recorded.
CREATE FUNCTION event_log_floor(p_after timestamptz) RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN NOT EXISTS (SELECT 1 FROM event_partition_times) THEN '-infinity'::timestamptz
        WHEN EXISTS (SELECT 1 FROM event_partition_times t WHERE t.lower_bound IS NULL
                     AND t.max_event_time >= p_after) THEN '-infinity'::timestamptz
        ELSE least((SELECT min(t.lower_bound) FROM event_partition_times t WHERE t.max_event_time >= p_after),
                   (SELECT max(t.upper_bound) FROM event_partition_times t))
    END
$$;

LOCK TABLE events IN ACCESS EXCLUSIVE MODE;
ALTER TABLE events RENAME TO events_legacy;
ALTER TABLE events_legacy RENAME CONSTRAINT events_pkey TO events_legacy_pkey;
ALTER INDEX events_event_time RENAME TO events_legacy_event_time;
ALTER INDEX events_run RENAME TO events_legacy_run;
ALTER INDEX events_job RENAME TO events_legacy_job;
ALTER INDEX events_xid RENAME TO events_legacy_xid;

INSERT INTO event_hashes (hash, seq, received_at) SELECT hash, seq, received_at FROM events_legacy;
ALTER TABLE events_legacy DROP CONSTRAINT events_hash_key;
ALTER TABLE events_legacy DROP CONSTRAINT events_legacy_pkey;
ALTER TABLE events_legacy ALTER COLUMN seq DROP DEFAULT;

CREATE TABLE events (
    seq           bigint      NOT NULL DEFAULT nextval('events_seq_seq'),
    xid           xid8        NOT NULL DEFAULT pg_current_xact_id(),
    hash          bytea       NOT NULL,
    kind          text        NOT NULL
        CONSTRAINT events_kind_check CHECK (kind IN ('RUN_EVENT', 'DATASET_EVENT', 'JOB_EVENT')),
    event_type    text,
    event_time    timestamptz NOT NULL,
    producer      text        NOT NULL,
    schema_url    text,
    run_uuid      uuid,
    job_namespace text,
    job_name      text,
    received_at   timestamptz NOT NULL DEFAULT now(),
    body          jsonb       COMPRESSION lz4 NOT NULL,
    PRIMARY KEY (seq, received_at)
) PARTITION BY RANGE (received_at);
ALTER SEQUENCE events_seq_seq OWNED BY events.seq;
CREATE INDEX events_event_time ON events (event_time);
CREATE INDEX events_run ON events (run_uuid) WHERE run_uuid IS NOT NULL;
CREATE INDEX events_job ON events (job_namespace, job_name);
CREATE INDEX events_xid ON events (xid);

ALTER TABLE events ATTACH PARTITION events_legacy
    FOR VALUES FROM (MINVALUE) TO ((date_trunc('day', now() AT TIME ZONE 'UTC') + interval '1 day') AT TIME ZONE 'UTC');
CREATE TABLE events_default PARTITION OF events DEFAULT;

-- The partitions of events (in the caller's search_path) with their bounds; NULL bounds: MINVALUE, or
-- both NULL for events_default. The bounds are read back from the catalog's own text, in UTC.
CREATE FUNCTION event_partitions()
RETURNS TABLE (partition_name text, lower_bound timestamptz, upper_bound timestamptz)
LANGUAGE sql STABLE SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' AS $$
    SELECT c.relname::text,
           substring(b.bound FROM 'FROM \(''([^'']*)''\)')::timestamptz,
           substring(b.bound FROM 'TO \(''([^'']*)''\)')::timestamptz
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    CROSS JOIN LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS bound) b
    WHERE i.inhparent = 'events'::regclass
$$;

-- Creates one partition [p_lo, p_hi) named events_pYYYYMMDD, moving into it the rows of
-- events_default it covers. The caller holds the locks (event_partitions_create). Returns the rows
-- moved.
CREATE FUNCTION event_partition_add(p_schema text, p_lo timestamptz, p_hi timestamptz)
RETURNS bigint LANGUAGE plpgsql SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' AS $$
DECLARE
    v_name text := 'events_p' || to_char(p_lo, 'YYYYMMDD');
    v_moved bigint;
BEGIN
    EXECUTE format('CREATE TABLE %I.%I (LIKE %I.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS'
                   ' INCLUDING STORAGE INCLUDING COMPRESSION)', p_schema, v_name, p_schema);
    -- The range as a constraint lets ATTACH skip scanning the new table.
    EXECUTE format('ALTER TABLE %I.%I ADD CONSTRAINT %I CHECK (received_at >= %L AND received_at < %L)',
                   p_schema, v_name, v_name || '_range', p_lo, p_hi);
    EXECUTE format('WITH moved AS (DELETE FROM %I.events_default WHERE received_at >= $1 AND received_at < $2'
                   ' RETURNING *) INSERT INTO %I.%I SELECT * FROM moved', p_schema, p_schema, v_name)
        USING p_lo, p_hi;
    GET DIAGNOSTICS v_moved = ROW_COUNT;
    EXECUTE format('ALTER TABLE %I.events ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
                   p_schema, p_schema, v_name, p_lo, p_hi);
    RETURN v_moved;
END
$$;

-- Records the event times of every partition closed for a day (upper bound a day old) and not yet
-- recorded, oldest first, so that the record has no holes below its newest entry. The caller holds
-- the maintenance lock.
CREATE FUNCTION event_partitions_note_times(p_schema text)
RETURNS void LANGUAGE plpgsql SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' AS $$
DECLARE
    v_part record;
    v_min timestamptz;
    v_max timestamptz;
BEGIN
    FOR v_part IN SELECT p.* FROM event_partitions() p
                  WHERE p.upper_bound <= now() - interval '1 day'
                    AND NOT EXISTS (SELECT 1 FROM event_partition_times t WHERE t.partition_name = p.partition_name)
                  ORDER BY p.upper_bound LOOP
        EXECUTE format('SELECT min(event_time), max(event_time) FROM %I.%I', p_schema, v_part.partition_name)
            INTO v_min, v_max;
        INSERT INTO event_partition_times VALUES (v_part.partition_name, v_part.lower_bound, v_part.upper_bound,
                                                  v_min, v_max);
    END LOOP;
END
$$;

-- Makes sure partitions cover received_at up to the start of today (UTC) + p_ahead_days, each
-- p_width_days wide, contiguous from the highest existing upper bound; a gap before today (nothing
-- ran for a while) becomes one partition ending today. Returns one row per partition created (and
-- the rows moved into it from events_default). Does nothing when another session holds the
-- maintenance lock.
CREATE FUNCTION event_partitions_create(p_width_days int, p_ahead_days int)
RETURNS TABLE (created text, moved_rows bigint)
LANGUAGE plpgsql SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET lock_timeout = '5s' AS $$
DECLARE
    v_table oid := 'events'::regclass;
    v_schema text := (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                      WHERE c.oid = 'events'::regclass);
    v_today timestamptz := date_trunc('day', now());
    v_lo timestamptz;
    v_hi timestamptz;
    v_locked boolean := false;
BEGIN
    IF p_width_days < 1 OR p_ahead_days < 0 THEN
        RAISE EXCEPTION 'partition width must be at least 1 day and look-ahead at least 0 days';
    END IF;
    IF NOT pg_try_advisory_xact_lock(7308604, v_table::int) THEN
        RETURN;
    END IF;
    SELECT coalesce(max(p.upper_bound), v_today) INTO v_lo FROM event_partitions() p;
    WHILE v_lo < v_today + p_ahead_days * interval '1 day' LOOP
        v_hi := CASE WHEN v_lo < v_today THEN v_today ELSE v_lo + p_width_days * interval '1 day' END;
        IF NOT v_locked THEN
            EXECUTE format('LOCK TABLE %I.events IN SHARE UPDATE EXCLUSIVE MODE', v_schema);
            EXECUTE format('LOCK TABLE %I.events_default IN ACCESS EXCLUSIVE MODE', v_schema);
            v_locked := true;
        END IF;
        created := 'events_p' || to_char(v_lo, 'YYYYMMDD');
        moved_rows := event_partition_add(v_schema, v_lo, v_hi);
        RETURN NEXT;
        v_lo := v_hi;
    END LOOP;
    PERFORM event_partitions_note_times(v_schema);
END
$$;

-- Drops every partition (events_default excepted) whose upper bound is at least p_keep_days old,
-- recording each in event_log_dropped. p_keep_days <= 0: nothing (retention off). Returns the names.
CREATE FUNCTION event_partitions_drop(p_keep_days int)
RETURNS TABLE (dropped text)
LANGUAGE plpgsql SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET lock_timeout = '5s' AS $$
DECLARE
    v_table oid := 'events'::regclass;
    v_schema text := (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                      WHERE c.oid = 'events'::regclass);
    v_part record;
    v_locked boolean := false;
BEGIN
    IF p_keep_days <= 0 OR NOT pg_try_advisory_xact_lock(7308604, v_table::int) THEN
        RETURN;
    END IF;
    FOR v_part IN SELECT * FROM event_partitions() p
                  WHERE p.upper_bound <= now() - p_keep_days * interval '1 day' ORDER BY p.upper_bound LOOP
        IF NOT v_locked THEN
            EXECUTE format('LOCK TABLE %I.events IN ACCESS EXCLUSIVE MODE', v_schema);
            v_locked := true;
        END IF;
        EXECUTE format('DROP TABLE %I.%I', v_schema, v_part.partition_name);
        DELETE FROM event_partition_times t WHERE t.partition_name = v_part.partition_name;
        INSERT INTO event_log_dropped (partition_name, lower_bound, upper_bound)
        VALUES (v_part.partition_name, v_part.lower_bound, v_part.upper_bound);
        dropped := v_part.partition_name;
        RETURN NEXT;
    END LOOP;
END
$$;
