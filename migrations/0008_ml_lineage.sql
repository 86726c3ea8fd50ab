-- 0008_ml_lineage.sql - dataset kinds, owners and labels kept with their rows, and the indexes that let
-- search look beyond names (fields, descriptions, tags, owners) and the ML routes find a name without
-- its namespace.
--
-- Design notes:
--  * A dataset's kind (dataset_type, sub_type), owners and labels are functions of its facets, as the
--    store keeps them (latest per facet name, merged across symlinked names): a trigger on
--    dataset_facets (job_facets for jobs) recomputes them from the row's summary facets whenever one of
--    those changes, so they follow the facets whatever the arrival order, and when symlinks merge two
--    rows (dataset_merge_rows moves the facets, the trigger fires for both rows).
--  * Kind: the datasetType facet (datasetType, subType; trimmed, upper case); else Feast's dataset
--    facets: feast_featureView FEATURE_VIEW, feast_featureService FEATURE_SERVICE, feast_onlineStore
--    ONLINE_STORE, feast_savedDataset SAVED_DATASET, feast_entity ENTITY, feast_dataSource
--    DATA_SOURCE (in that order when several are present). NULL when nothing says.
--  * Owners: ownership.owners[].name, and the `owner` of Feast's featureView, featureService and
--    entity facets. Labels: each tags-facet entry as `key` and `key:value`, and each entry of a Feast
--    facet's `tags` object the same way. Each value is cut to 200 characters and each list to 100
--    values, so they always fit an index entry.
--  * The rows are written only when a value changes (IS DISTINCT FROM), so an event repeating the same
--    facets costs one trigger call and no write.
--  * Search (store/store_read_search.c) matches `ILIKE '%q%'`; pg_trgm's GIN indexes answer that
--    without reading every row. pg_trgm ships with Debian's postgresql-15 and is a trusted extension:
--    the database owner (or any role with CREATE on the database) can create it; a superuser is not
--    needed. Where neither is possible, this migration stops with a message saying what to run.

DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported OR undefined_object THEN
    RAISE EXCEPTION 'lineaged needs the pg_trgm extension (search indexes) and could not create it: %', SQLERRM
        USING HINT = 'As a database owner or superuser, run CREATE EXTENSION pg_trgm; in this database '
                     '(on managed Postgres: RDS, Cloud SQL and Azure allow it), or GRANT CREATE ON DATABASE '
                     'to lineaged''s role, then start lineaged again.';
END $$;

ALTER TABLE datasets ADD COLUMN dataset_type text, ADD COLUMN sub_type text, ADD COLUMN owners text[],
    ADD COLUMN labels text[];
ALTER TABLE jobs ADD COLUMN owners text[], ADD COLUMN labels text[];

-- The facets the summaries read; the triggers fire for these names only.
CREATE FUNCTION lineaged_summary_facet(name text) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT name IN ('datasetType', 'ownership', 'tags', 'feast_featureView', 'feast_featureService',
                    'feast_onlineStore', 'feast_savedDataset', 'feast_entity', 'feast_dataSource')
$$;

-- A string member of a JSON object, trimmed and cut to 200 characters, or NULL when absent or empty.
CREATE FUNCTION lineaged_member(o jsonb, key text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(o -> key) = 'string' THEN nullif(left(btrim(o ->> key), 200), '') END
$$;

-- (dataset_type, sub_type) from an object {facet name: facet} (design note 2).
CREATE FUNCTION lineaged_kind(f jsonb, OUT dataset_type text, OUT sub_type text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(upper(t), CASE WHEN f ? 'feast_featureView' THEN 'FEATURE_VIEW'
                                   WHEN f ? 'feast_featureService' THEN 'FEATURE_SERVICE'
                                   WHEN f ? 'feast_onlineStore' THEN 'ONLINE_STORE'
                                   WHEN f ? 'feast_savedDataset' THEN 'SAVED_DATASET'
                                   WHEN f ? 'feast_entity' THEN 'ENTITY'
                                   WHEN f ? 'feast_dataSource' THEN 'DATA_SOURCE' END),
           CASE WHEN t IS NOT NULL THEN upper(s) END
    FROM (SELECT lineaged_member(f -> 'datasetType', 'datasetType') AS t,
                 lineaged_member(f -> 'datasetType', 'subType') AS s) x
$$;

-- Owners from {facet name: facet} (design note 3), sorted, distinct; NULL when none.
CREATE FUNCTION lineaged_owners(f jsonb) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT nullif(array(SELECT DISTINCT o FROM (
        SELECT lineaged_member(e, 'name') AS o
        FROM jsonb_array_elements(CASE WHEN jsonb_typeof(f #> '{ownership,owners}') = 'array'
                                       THEN f #> '{ownership,owners}' ELSE '[]' END) AS e
        UNION ALL SELECT lineaged_member(f -> k, 'owner')
        FROM unnest(ARRAY['feast_featureView', 'feast_featureService', 'feast_entity']) AS k) x
        WHERE o IS NOT NULL ORDER BY o LIMIT 100), '{}')
$$;

-- Labels from {facet name: facet} (design note 3), sorted, distinct; NULL when none.
CREATE FUNCTION lineaged_labels(f jsonb) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT nullif(array(SELECT DISTINCT l FROM (
        SELECT one.l FROM (
            SELECT lineaged_member(e, 'key') AS k, lineaged_member(e, 'value') AS v
            FROM jsonb_array_elements(CASE WHEN jsonb_typeof(f #> '{tags,tags}') = 'array'
                                           THEN f #> '{tags,tags}' ELSE '[]' END) AS e
            UNION ALL
            SELECT nullif(left(btrim(t.key), 200), ''),
                   CASE WHEN jsonb_typeof(t.value) = 'string' THEN nullif(left(btrim(t.value #>> '{}'), 200), '') END
            FROM jsonb_each(f) AS x, jsonb_each(CASE WHEN jsonb_typeof(x.value -> 'tags') = 'object'
                                                     THEN x.value -> 'tags' ELSE '{}' END) AS t
            WHERE x.key LIKE 'feast\_%') AS kv,
        LATERAL (VALUES (kv.k), (left(kv.k || ':' || kv.v, 200))) AS one(l)
        WHERE kv.k IS NOT NULL AND one.l IS NOT NULL) AS y
        ORDER BY l LIMIT 100), '{}')
$$;

-- A label or owner list as one text, for the trigram indexes (array_to_string is only STABLE in general;
-- for text[] it does not depend on any setting).
CREATE FUNCTION lineaged_join(a text[]) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_to_string(a, E'\n')
$$;

-- Recomputes the summary of dataset row $1 (parameters by number: a named one would lose to a column).
CREATE FUNCTION dataset_summary_refresh(bigint) RETURNS void LANGUAGE sql AS $$
    UPDATE datasets d SET dataset_type = (k).dataset_type, sub_type = (k).sub_type, owners = o, labels = l
    FROM (SELECT lineaged_kind(f.j) AS k, lineaged_owners(f.j) AS o, lineaged_labels(f.j) AS l
          FROM (SELECT coalesce(jsonb_object_agg(name, facet) FILTER (WHERE facet IS NOT NULL), '{}') AS j
                FROM dataset_facets WHERE dataset_id = $1 AND lineaged_summary_facet(name)) f) s
    WHERE d.id = $1 AND (d.dataset_type, d.sub_type, d.owners, d.labels)
        IS DISTINCT FROM ((s.k).dataset_type, (s.k).sub_type, s.o, s.l)
$$;

CREATE FUNCTION job_summary_refresh(bigint) RETURNS void LANGUAGE sql AS $$
    UPDATE jobs j SET owners = o, labels = l
    FROM (SELECT lineaged_owners(f.j) AS o, lineaged_labels(f.j) AS l
          FROM (SELECT coalesce(jsonb_object_agg(name, facet) FILTER (WHERE facet IS NOT NULL), '{}') AS j
                FROM job_facets WHERE job_id = $1 AND lineaged_summary_facet(name)) f) s
    WHERE j.id = $1 AND (j.owners, j.labels) IS DISTINCT FROM (s.o, s.l)
$$;

CREATE FUNCTION dataset_facets_summarise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM dataset_summary_refresh(OLD.dataset_id);
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.dataset_id <> OLD.dataset_id) THEN
        PERFORM dataset_summary_refresh(NEW.dataset_id);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION job_facets_summarise() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM job_summary_refresh(OLD.job_id);
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.job_id <> OLD.job_id) THEN
        PERFORM job_summary_refresh(NEW.job_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER dataset_facets_summary_write AFTER INSERT OR UPDATE ON dataset_facets
    FOR EACH ROW WHEN (lineaged_summary_facet(NEW.name)) EXECUTE FUNCTION dataset_facets_summarise();
CREATE TRIGGER dataset_facets_summary_delete AFTER DELETE ON dataset_facets
    FOR EACH ROW WHEN (lineaged_summary_facet(OLD.name)) EXECUTE FUNCTION dataset_facets_summarise();
CREATE TRIGGER job_facets_summary_write AFTER INSERT OR UPDATE ON job_facets
    FOR EACH ROW WHEN (lineaged_summary_facet(NEW.name)) EXECUTE FUNCTION job_facets_summarise();
CREATE TRIGGER job_facets_summary_delete AFTER DELETE ON job_facets
    FOR EACH ROW WHEN (lineaged_summary_facet(OLD.name)) EXECUTE FUNCTION job_facets_summarise();

-- The rows that exist already.
SELECT dataset_summary_refresh(id) FROM (SELECT DISTINCT dataset_id AS id FROM dataset_facets
                                         WHERE lineaged_summary_facet(name)) x;
SELECT job_summary_refresh(id) FROM (SELECT DISTINCT job_id AS id FROM job_facets
                                     WHERE lineaged_summary_facet(name)) x;

-- Listing by kind, owner and label (GET /api/v1/datasets?types=&owner=&tag=).
CREATE INDEX datasets_kind ON datasets (dataset_type, sub_type) WHERE dataset_type IS NOT NULL;
CREATE INDEX datasets_owners ON datasets USING gin (owners) WHERE owners IS NOT NULL;
CREATE INDEX datasets_labels ON datasets USING gin (labels) WHERE labels IS NOT NULL;
CREATE INDEX dataset_tags_tag ON dataset_tags (tag);

-- GET /api/v1/runs lists runs newest first (their first event). created_at changes only when an earlier
-- event of the run arrives late, so updates of a run's state stay HOT.
CREATE INDEX runs_created ON runs (created_at DESC, uuid);
CREATE INDEX job_tags_tag ON job_tags (tag);

-- Names without their namespace (name=, job=), and search's name order: a broad term reads the first
-- rows in name order rather than every match.
CREATE INDEX datasets_name ON datasets (name, namespace);
CREATE INDEX jobs_name ON jobs (name, namespace);

-- Search: substrings of names (own, alias and symlink names), fields, descriptions, labels, owners.
-- Own names and alias names are searched apart (store_read_search.c), hence two indexes each.
-- The operator class is named with pg_trgm's own schema (public, or wherever an operator installed it),
-- so the indexes are made the same when the search_path holds only lineaged's schema (lineaged replay
-- migrates a scratch schema).
DO $$
DECLARE
    ops text := (SELECT format('%I.gin_trgm_ops', n.nspname) FROM pg_extension e
                 JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm');
BEGIN
    EXECUTE format('CREATE INDEX datasets_name_trgm ON datasets USING gin (name %s) WHERE alias_of IS NULL', ops);
    EXECUTE format('CREATE INDEX datasets_alias_name_trgm ON datasets USING gin (name %s) '
                   'WHERE alias_of IS NOT NULL', ops);
    EXECUTE format('CREATE INDEX datasets_description_trgm ON datasets USING gin (description %s) '
                   'WHERE description IS NOT NULL', ops);
    EXECUTE format('CREATE INDEX datasets_owners_trgm ON datasets USING gin (lineaged_join(owners) %s) '
                   'WHERE owners IS NOT NULL', ops);
    EXECUTE format('CREATE INDEX datasets_labels_trgm ON datasets USING gin (lineaged_join(labels) %s) '
                   'WHERE labels IS NOT NULL', ops);
    EXECUTE format('CREATE INDEX dataset_symlinks_name_trgm ON dataset_symlinks USING gin (name %s)', ops);
    EXECUTE format('CREATE INDEX dataset_fields_name_trgm ON dataset_fields USING gin (name %s)', ops);
    EXECUTE format('CREATE INDEX jobs_name_trgm ON jobs USING gin (name %s) WHERE symlink_target_id IS NULL', ops);
    EXECUTE format('CREATE INDEX jobs_alias_name_trgm ON jobs USING gin (name %s) '
                   'WHERE symlink_target_id IS NOT NULL', ops);
    EXECUTE format('CREATE INDEX jobs_description_trgm ON jobs USING gin (description %s) '
                   'WHERE description IS NOT NULL', ops);
    EXECUTE format('CREATE INDEX jobs_owners_trgm ON jobs USING gin (lineaged_join(owners) %s) '
                   'WHERE owners IS NOT NULL', ops);
    EXECUTE format('CREATE INDEX jobs_labels_trgm ON jobs USING gin (lineaged_join(labels) %s) '
                   'WHERE labels IS NOT NULL', ops);
    EXECUTE format('CREATE INDEX tags_name_trgm ON tags USING gin (name %s)', ops);
END $$;

-- Symlinked names, dataSource.uri joins included, are one dataset whatever the arrival order: an event
-- that names an alias row after its group settled updates that row (datasets_upsert goes by name), and
-- its group's row takes from it what a merge takes (dataset_merge_rows): the earliest creation, the
-- latest touch, and the description, lifecycle state and source of the later event. (Migration 0005's
-- version took the touch only, so the group showed the creation time and description of whichever
-- names came first.)
CREATE OR REPLACE FUNCTION dataset_aliases_settle(names jsonb) RETURNS integer LANGUAGE plpgsql AS $$
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
    UPDATE datasets c SET created_at = n.created_at, updated_at = n.updated_at, seq = n.seq, is_hidden = false,
        description = n.description, lifecycle_state = n.lifecycle_state, source_name = n.source_name
    FROM (SELECT g.id, least(g.created_at, t.created_at) AS created_at, greatest(g.updated_at, t.updated_at) AS updated_at,
                 greatest(g.seq, t.seq) AS seq,
                 CASE WHEN t.updated_at > g.updated_at THEN coalesce(t.description, g.description)
                      ELSE coalesce(g.description, t.description) END AS description,
                 CASE WHEN t.updated_at > g.updated_at THEN coalesce(t.lifecycle_state, g.lifecycle_state)
                      ELSE coalesce(g.lifecycle_state, t.lifecycle_state) END AS lifecycle_state,
                 CASE WHEN t.source_name IS NOT NULL AND (g.source_name = 'default' OR t.updated_at > g.updated_at)
                      THEN t.source_name ELSE g.source_name END AS source_name
          FROM (SELECT a.alias_of AS id, min(a.created_at) AS created_at, max(a.updated_at) AS updated_at,
                       max(a.seq) AS seq,
                       (array_agg(a.description ORDER BY a.updated_at DESC)
                        FILTER (WHERE a.description IS NOT NULL))[1] AS description,
                       (array_agg(a.lifecycle_state ORDER BY a.updated_at DESC)
                        FILTER (WHERE a.lifecycle_state IS NOT NULL))[1] AS lifecycle_state,
                       (array_agg(a.source_name ORDER BY a.updated_at DESC)
                        FILTER (WHERE a.source_name <> 'default'))[1] AS source_name
                FROM (SELECT DISTINCT namespace, name FROM jsonb_to_recordset(names) AS x(namespace text, name text)) x
                JOIN datasets a ON a.namespace = x.namespace AND a.name = x.name
                WHERE a.alias_of IS NOT NULL GROUP BY a.alias_of) t
          JOIN datasets g ON g.id = t.id) n
    WHERE c.id = n.id
      AND (c.created_at, c.updated_at, c.seq, c.is_hidden, c.description, c.lifecycle_state, c.source_name)
          IS DISTINCT FROM (n.created_at, n.updated_at, n.seq, false, n.description, n.lifecycle_state, n.source_name);
    RETURN settled;
END $$;
