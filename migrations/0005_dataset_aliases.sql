-- 0005_dataset_aliases.sql - dataset names joined by symlinks are one dataset, whatever the order in
-- which the names and the symlinks arrived.
--
-- Design notes:
--  * dataset_symlinks keeps every declaration by the row that made it (dataset_id = the dataset whose
--    event carried the symlinks facet). Names joined by declarations form a group; a group with a
--    declaring ("primary") name is one dataset, whose row is the one of the group's smallest primary
--    (namespace, name) in byte order. The graph picks the same name (graph/merge.c), so the two agree
--    after any arrival order.
--  * Every other row of the group is an alias row: alias_of names the group's row. An alias row keeps
--    its name (look-ups by it resolve) and nothing else: its fields, versions, facets, tags, edges and
--    column lineage are moved to the group's row when it becomes an alias (dataset_merge_rows), and
--    writes resolve names through dataset_names, so new facts land on the group's row.
--  * dataset_aliases_settle runs once per write transaction, after the chunk's datasets and symlinks
--    are stored. It looks only at the chunk's names and stops at once when none is out of place
--    (a few index probes per name), so writes without symlinks pay almost nothing.

ALTER TABLE datasets ADD COLUMN alias_of bigint REFERENCES datasets (id);
CREATE INDEX datasets_alias_of ON datasets (alias_of) WHERE alias_of IS NOT NULL;

-- Each dataset name (ref_namespace, ref_name) with the row it stands for: its own, or its group's.
CREATE VIEW dataset_names AS
    SELECT a.namespace AS ref_namespace, a.name AS ref_name, d.*
    FROM datasets a JOIN datasets d ON d.id = coalesce(a.alias_of, a.id);

-- Moves everything of dataset row l to row w, merging where both have a row for the same key (the
-- later event time wins, first/last seen widen), and merges l's attributes into w's. Leaves l's own
-- row and its symlink declarations.
CREATE FUNCTION dataset_merge_rows(l bigint, w bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE datasets d SET
        created_at = least(d.created_at, x.created_at),
        updated_at = greatest(d.updated_at, x.updated_at),
        seq = greatest(d.seq, x.seq),
        is_hidden = d.is_hidden AND x.is_hidden,
        description = CASE WHEN x.updated_at > d.updated_at THEN coalesce(x.description, d.description)
                           ELSE coalesce(d.description, x.description) END,
        lifecycle_state = CASE WHEN x.updated_at > d.updated_at THEN coalesce(x.lifecycle_state, d.lifecycle_state)
                               ELSE coalesce(d.lifecycle_state, x.lifecycle_state) END,
        source_name = CASE WHEN d.source_name = 'default' OR (x.source_name <> 'default' AND x.updated_at > d.updated_at)
                           THEN x.source_name ELSE d.source_name END,
        current_version = (SELECT v.version FROM dataset_versions v
                           WHERE v.version IN (d.current_version, x.current_version)
                           ORDER BY v.created_at DESC, v.version LIMIT 1)
    FROM datasets x WHERE d.id = w AND x.id = l;

    UPDATE dataset_versions SET dataset_id = w WHERE dataset_id = l;

    WITH m AS (DELETE FROM dataset_fields WHERE dataset_id = l RETURNING *)
    INSERT INTO dataset_fields AS f (dataset_id, name, type, description, ordinal, updated_at)
    SELECT w, name, type, description, ordinal, updated_at FROM m
    ON CONFLICT (dataset_id, name) DO UPDATE SET type = EXCLUDED.type, description = EXCLUDED.description,
        ordinal = EXCLUDED.ordinal, updated_at = EXCLUDED.updated_at
    WHERE f.updated_at < EXCLUDED.updated_at;

    WITH m AS (DELETE FROM dataset_facets WHERE dataset_id = l RETURNING *)
    INSERT INTO dataset_facets AS f (dataset_id, name, facet, event_time, seq)
    SELECT w, name, facet, event_time, seq FROM m
    ON CONFLICT (dataset_id, name) DO UPDATE SET facet = EXCLUDED.facet, event_time = EXCLUDED.event_time,
        seq = EXCLUDED.seq
    WHERE f.event_time < EXCLUDED.event_time;

    WITH m AS (DELETE FROM dataset_tags WHERE dataset_id = l RETURNING *)
    INSERT INTO dataset_tags (dataset_id, tag, tagged_at) SELECT w, tag, tagged_at FROM m ON CONFLICT DO NOTHING;

    WITH m AS (DELETE FROM dataset_field_tags WHERE dataset_id = l RETURNING *)
    INSERT INTO dataset_field_tags (dataset_id, field, tag, tagged_at)
    SELECT w, field, tag, tagged_at FROM m ON CONFLICT DO NOTHING;

    WITH m AS (DELETE FROM run_io WHERE dataset_id = l RETURNING *)
    INSERT INTO run_io AS ri (run_uuid, dataset_id, io_type, dataset_version, first_seen, last_seen, seq)
    SELECT run_uuid, w, io_type, dataset_version, first_seen, last_seen, seq FROM m
    ON CONFLICT (run_uuid, io_type, dataset_id) DO UPDATE SET
        first_seen = least(ri.first_seen, EXCLUDED.first_seen),
        last_seen = greatest(ri.last_seen, EXCLUDED.last_seen),
        dataset_version = CASE WHEN EXCLUDED.last_seen > ri.last_seen THEN EXCLUDED.dataset_version
                               ELSE ri.dataset_version END,
        seq = greatest(ri.seq, EXCLUDED.seq);

    WITH m AS (DELETE FROM job_io WHERE dataset_id = l RETURNING *)
    INSERT INTO job_io AS ji (job_id, dataset_id, io_type, first_seen, last_seen, last_run_uuid, seq)
    SELECT job_id, w, io_type, first_seen, last_seen, last_run_uuid, seq FROM m
    ON CONFLICT (job_id, io_type, dataset_id) DO UPDATE SET
        first_seen = least(ji.first_seen, EXCLUDED.first_seen),
        last_seen = greatest(ji.last_seen, EXCLUDED.last_seen),
        last_run_uuid = CASE WHEN EXCLUDED.last_seen > ji.last_seen THEN coalesce(EXCLUDED.last_run_uuid,
            ji.last_run_uuid) ELSE ji.last_run_uuid END,
        seq = greatest(ji.seq, EXCLUDED.seq);

    WITH m AS (DELETE FROM run_io_facets WHERE dataset_id = l RETURNING *)
    INSERT INTO run_io_facets AS f (run_uuid, dataset_id, io_type, name, facet, event_time, seq)
    SELECT run_uuid, w, io_type, name, facet, event_time, seq FROM m
    ON CONFLICT (run_uuid, io_type, dataset_id, name) DO UPDATE SET facet = EXCLUDED.facet,
        event_time = EXCLUDED.event_time, seq = EXCLUDED.seq
    WHERE f.event_time < EXCLUDED.event_time;

    -- Column edges of l on either side; two of them may become one, and a field feeding itself
    -- (l.f -> w.f) is dropped, as the graph drops it.
    WITH m AS (DELETE FROM column_lineage WHERE output_dataset_id = l OR input_dataset_id = l RETURNING *),
    g AS (SELECT CASE WHEN output_dataset_id = l THEN w ELSE output_dataset_id END AS o, output_field,
                 CASE WHEN input_dataset_id = l THEN w ELSE input_dataset_id END AS i, input_field,
                 (array_agg(transformation_description ORDER BY last_seen DESC))[1] AS td,
                 (array_agg(transformation_type ORDER BY last_seen DESC))[1] AS tt,
                 (array_agg(transformations ORDER BY last_seen DESC))[1] AS tr,
                 min(first_seen) AS fs, max(last_seen) AS ls,
                 (array_agg(last_run_uuid ORDER BY last_seen DESC) FILTER (WHERE last_run_uuid IS NOT NULL))[1] AS lr,
                 max(seq) AS sq
          FROM m GROUP BY 1, 2, 3, 4)
    INSERT INTO column_lineage AS c (output_dataset_id, output_field, input_dataset_id, input_field,
        transformation_description, transformation_type, transformations, first_seen, last_seen, last_run_uuid, seq)
    SELECT o, output_field, i, input_field, td, tt, tr, fs, ls, lr, sq FROM g
    WHERE NOT (o = i AND output_field IS NOT DISTINCT FROM input_field)
    ON CONFLICT (output_dataset_id, output_field, input_dataset_id, input_field) DO UPDATE SET
        transformation_description = CASE WHEN EXCLUDED.last_seen > c.last_seen
            THEN EXCLUDED.transformation_description ELSE c.transformation_description END,
        transformation_type = CASE WHEN EXCLUDED.last_seen > c.last_seen
            THEN EXCLUDED.transformation_type ELSE c.transformation_type END,
        transformations = CASE WHEN EXCLUDED.last_seen > c.last_seen
            THEN EXCLUDED.transformations ELSE c.transformations END,
        first_seen = least(c.first_seen, EXCLUDED.first_seen),
        last_seen = greatest(c.last_seen, EXCLUDED.last_seen),
        last_run_uuid = CASE WHEN EXCLUDED.last_seen > c.last_seen THEN coalesce(EXCLUDED.last_run_uuid,
            c.last_run_uuid) ELSE c.last_run_uuid END,
        seq = greatest(c.seq, EXCLUDED.seq);
END $$;

-- Whether row r is out of place in its group: a name it declared, or a name that declared r's name,
-- or a row that declared one of the same names, belongs to another group; or r is a primary name
-- smaller than its group's row's name.
CREATE FUNCTION dataset_alias_unsettled(r datasets) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM dataset_symlinks s JOIN datasets o ON o.id = s.dataset_id
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
                               OR (r.namespace = c.namespace AND r.name < c.name COLLATE "C"))))
$$;

-- Puts the group of row `seed` in place: every row joined to it by declarations (and by aliases
-- already made) becomes an alias of the row of the group's smallest primary name, whose data it
-- receives. Returns the group's row ids.
CREATE FUNCTION dataset_group_settle(seed bigint) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    members bigint[];
    canon bigint;
    m bigint;
BEGIN
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
    SELECT array_agg(id ORDER BY id) INTO members FROM grp;

    SELECT d.id INTO canon FROM datasets d
    WHERE d.id = ANY (members) AND EXISTS (SELECT 1 FROM dataset_symlinks s WHERE s.dataset_id = d.id)
    ORDER BY d.namespace COLLATE "C", d.name COLLATE "C" LIMIT 1;
    IF canon IS NULL THEN
        RETURN members; -- no declaration: every row stands alone
    END IF;
    UPDATE datasets SET alias_of = NULL WHERE id = canon AND alias_of IS NOT NULL;
    FOR m IN SELECT id FROM datasets WHERE id = ANY (members) AND id <> canon AND alias_of IS NULL ORDER BY id LOOP
        PERFORM dataset_merge_rows(m, canon);
    END LOOP;
    UPDATE datasets SET alias_of = canon WHERE id = ANY (members) AND id <> canon AND alias_of IS DISTINCT FROM canon;
    RETURN members;
END $$;

-- The chunk's dataset names (a JSON array of objects with namespace and name): settles every group
-- one of them put out of place, then lets each group's row take the latest touch of its alias rows
-- named in the chunk (updated_at, seq, un-hiding). Returns how many groups were settled.
CREATE FUNCTION dataset_aliases_settle(names jsonb) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    done bigint[] := '{}';
    seed bigint;
    settled integer := 0;
BEGIN
    FOR seed IN
        SELECT r.id FROM (SELECT DISTINCT namespace, name FROM jsonb_to_recordset(names) AS x(namespace text, name text)) x
        JOIN datasets r ON r.namespace = x.namespace AND r.name = x.name
        WHERE dataset_alias_unsettled(r) ORDER BY r.id
    LOOP
        CONTINUE WHEN seed = ANY (done);
        done := done || dataset_group_settle(seed);
        settled := settled + 1;
    END LOOP;
    UPDATE datasets c SET updated_at = greatest(c.updated_at, t.updated_at), seq = greatest(c.seq, t.seq),
        is_hidden = false
    FROM (SELECT a.alias_of AS id, max(a.updated_at) AS updated_at, max(a.seq) AS seq
          FROM (SELECT DISTINCT namespace, name FROM jsonb_to_recordset(names) AS x(namespace text, name text)) x
          JOIN datasets a ON a.namespace = x.namespace AND a.name = x.name
          WHERE a.alias_of IS NOT NULL GROUP BY a.alias_of) t
    WHERE c.id = t.id AND (c.updated_at < t.updated_at OR c.seq < t.seq OR c.is_hidden);
    RETURN settled;
END $$;
