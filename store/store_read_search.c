/* store/store_read_search.c - search, the event list and the stats series of the Marquez API.
 *
 * Invariants:
 *  1. Search really sorts (Marquez binds its sort as a value, so its ORDER BY is a no-op): by name,
 *     or newest first for updated_at; ties broken by name, namespace and type. A dataset is listed
 *     once, under its group's name, when that name or any of its symlinked names matches.
 *  2. A stats time zone is checked against pg_timezone_names/abbrevs before any timestamp is
 *     converted with it, so an unknown zone is a 400, never a SQL error.
 *  3. WEEK buckets are local midnights of the zone, written with a "Z" suffix: Marquez reads them as
 *     timestamps without time zone in a UTC JVM, and the web UI expects exactly that.
 * Threads: one thread per struct store. */
#include "store_read_int.h"

static const struct store_stmt SEARCH = {
    "read_search",
    "WITH hits AS ("
    " SELECT 'DATASET' AS type, d.name, d.updated_at, d.namespace FROM datasets d"
    "  WHERE NOT d.is_hidden AND d.alias_of IS NULL AND ($2::text IS NULL OR $2 = 'DATASET')"
    "   AND (d.name ILIKE ('%' || $1::text || '%')"
    "    OR d.id IN (SELECT a.alias_of FROM datasets a WHERE a.alias_of IS NOT NULL"
    "     AND a.name ILIKE ('%' || $1::text || '%'))"
    "    OR d.id IN (SELECT coalesce(o.alias_of, o.id) FROM dataset_symlinks s JOIN datasets o ON o.id = s.dataset_id"
    "     WHERE s.name ILIKE ('%' || $1::text || '%')))"
    "   AND ($5::text IS NULL OR d.namespace = $5)"
    "   AND ($6::date IS NULL OR d.updated_at < ($6::date::timestamp AT TIME ZONE 'UTC'))"
    "   AND ($7::date IS NULL OR d.updated_at > ($7::date::timestamp AT TIME ZONE 'UTC'))"
    " UNION ALL"
    " SELECT 'JOB', j.name, j.updated_at, j.namespace FROM jobs j"
    "  WHERE NOT j.is_hidden AND j.symlink_target_id IS NULL AND ($2::text IS NULL OR $2 = 'JOB')"
    "   AND (j.name ILIKE ('%' || $1::text || '%') OR EXISTS (SELECT 1 FROM jobs a"
    "    WHERE a.symlink_target_id = j.id AND a.name ILIKE ('%' || $1::text || '%')))"
    "   AND ($5::text IS NULL OR j.namespace = $5)"
    "   AND ($6::date IS NULL OR j.updated_at < ($6::date::timestamp AT TIME ZONE 'UTC'))"
    "   AND ($7::date IS NULL OR j.updated_at > ($7::date::timestamp AT TIME ZONE 'UTC'))"
    "), page AS (SELECT h.*, row_number() OVER (ORDER BY"
    "  CASE WHEN $3 = 'updated_at' THEN h.updated_at END DESC, h.name, h.namespace, h.type) AS o"
    "  FROM hits h ORDER BY o LIMIT $4::bigint)"
    " SELECT json_build_object('totalCount', count(*), 'results', coalesce(json_agg(json_build_object("
    "  'type', p.type, 'name', p.name, 'updatedAt', api_ts(p.updated_at), 'namespace', p.namespace,"
    "  'nodeId', lower(p.type) || ':' || p.namespace || ':' || p.name) ORDER BY p.o), '[]'))"
    " FROM page p",
    7};

/* A stored event with Marquez's top-level key order (LineageEvent fields), unknown keys last. */
#define EVENT_JSON                                                                                           \
    "(SELECT json_object_agg(x.key, x.value ORDER BY coalesce(array_position("                               \
    "  ARRAY['eventType', 'eventTime',"                                                                      \
    " 'run', 'job', 'inputs', 'outputs', 'producer', 'schemaURL']::text[], x.key), 99), x.key)"              \
    " FROM jsonb_each(p.body) x)"

/* Reads of events by event time also bound received_at by event_log_floor (migrations/0007), so that
 * only the partitions that can hold such events are read. */
#define EVENT_FLOOR(after) " AND received_at >= (SELECT event_log_floor(" after "))"

#define EVENTS_SQL(direction)                                                                                \
    "SELECT json_build_object("                                                                              \
    " 'events', coalesce((SELECT json_agg(" EVENT_JSON "  ORDER BY p.event_time " direction                  \
    ", p.seq " direction ")"                                                                                 \
    "  FROM (SELECT seq, event_time, body FROM events WHERE kind = 'RUN_EVENT'"                              \
    "   AND event_time < $1::timestamptz AND event_time >= $2::timestamptz" EVENT_FLOOR("$2::timestamptz")   \
    "   ORDER BY event_time " direction ", seq " direction " LIMIT $3::bigint OFFSET $4::bigint) p), '[]')," \
    " 'totalCount', (SELECT count(*) FROM events WHERE event_time < $1::timestamptz"                         \
    "  AND event_time >= $2::timestamptz" EVENT_FLOOR("$2::timestamptz") "))"

static const struct store_stmt EVENTS_ASC = {"read_events_asc", EVENTS_SQL("ASC"), 4};
static const struct store_stmt EVENTS_DESC = {"read_events_desc", EVENTS_SQL("DESC"), 4};

/* Buckets for $1 = week, $2 = time zone (checked first: z is empty for an unknown zone). */
#define STATS_BUCKETS                                                                                        \
    "WITH z AS (SELECT $2::text AS tz WHERE NOT $1::boolean"                                                 \
    "  OR EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $2)"                                          \
    "  OR EXISTS (SELECT 1 FROM pg_timezone_abbrevs WHERE abbrev = $2)),"                                    \
    " b AS (SELECT s AS lo, s + interval '1 hour' AS hi, api_ts(s) AS l0,"                                   \
    "  api_ts(s + interval '1 hour') AS l1"                                                                  \
    "  FROM z, generate_series(date_trunc('hour', now() - interval '23 hours'), date_trunc('hour', now()),"  \
    "   interval '1 hour') AS s WHERE NOT $1::boolean"                                                       \
    "  UNION ALL SELECT l AT TIME ZONE z.tz, (l + interval '1 day') AT TIME ZONE z.tz,"                      \
    "   to_char(l, 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"                                                    \
    "   to_char(l + interval '1 day', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"                                  \
    "  FROM z, generate_series(date_trunc('day', now() AT TIME ZONE z.tz) - interval '6 days',"              \
    "   date_trunc('day', now() AT TIME ZONE z.tz), interval '1 day') AS l WHERE $1::boolean)"

static const struct store_stmt STATS_EVENTS = {
    "read_stats_events",
    STATS_BUCKETS
    " SELECT EXISTS (SELECT 1 FROM z), coalesce((SELECT json_agg(json_build_object('startInterval', b.l0,"
    "  'endInterval', b.l1, 'fail', c.fail, 'start', c.start, 'complete', c.complete, 'abort', c.abort)"
    "  ORDER BY b.lo) FROM b CROSS JOIN LATERAL ("
    "   SELECT count(*) FILTER (WHERE e.event_type = 'FAIL') AS fail,"
    "   count(*) FILTER (WHERE e.event_type = 'START') AS start,"
    "   count(*) FILTER (WHERE e.event_type = 'COMPLETE') AS complete,"
    "   count(*) FILTER (WHERE e.event_type = 'ABORT') AS abort"
    "   FROM events e WHERE e.event_time >= b.lo AND e.event_time < b.hi" EVENT_FLOOR("(SELECT min(lo) FROM b)")
    ") c), '[]')",
    2};

/* $3: which table; counts are cumulative (rows created before the end of each bucket). */
static const struct store_stmt STATS_COUNTS = {
    "read_stats_counts",
    STATS_BUCKETS
    ","
    " c AS MATERIALIZED (SELECT created_at FROM jobs WHERE $3 = 'jobs'"
    "  UNION ALL SELECT created_at FROM datasets WHERE $3 = 'datasets' AND alias_of IS NULL"
    "  UNION ALL SELECT created_at FROM sources WHERE $3 = 'sources')"
    " SELECT EXISTS (SELECT 1 FROM z), coalesce((SELECT json_agg(json_build_object('startInterval', b.l0,"
    "  'endInterval', b.l1, 'count', (SELECT count(*) FROM c WHERE c.created_at < b.hi))"
    "  ORDER BY b.lo) FROM b), '[]')",
    3};

int store_read_search(struct store *s, struct arena *a, const struct store_search *q, const char **json_out,
                      struct err *e)
{
    const char *params[] = {q->q,  q->filter, q->sort, store_read_long(a, q->limit),
                            q->ns, q->before, q->after};
    return store_read_json(s, a, &SEARCH, params, json_out, e);
}

int store_read_events(struct store *s, struct arena *a, const char *before, const char *after, bool ascending,
                      long limit, long offset, const char **json_out, struct err *e)
{
    const char *params[] = {before, after, store_read_long(a, limit), store_read_long(a, offset)};
    return store_read_json(s, a, ascending ? &EVENTS_ASC : &EVENTS_DESC, params, json_out, e);
}

int store_read_stats(struct store *s, struct arena *a, enum store_stats_kind kind, bool week, const char *tz,
                     const char **json_out, struct err *e)
{
    static const char *const TABLES[] = {"events", "jobs", "datasets", "sources"};
    const char *params[] = {week ? "true" : "false", week ? tz : "UTC", TABLES[kind]};
    const char *cols[2];

    if (store_read_row(s, a, kind == STORE_STATS_EVENTS ? &STATS_EVENTS : &STATS_COUNTS, params, cols, 2, 2u,
                       NULL, e) != 0)
        return -1;
    if (cols[0] == NULL || cols[0][0] != 't')
        return err_set(e, ERR_BAD_INPUT, "timezone", "unknown time zone \"%s\"", tz ? tz : "");
    *json_out = cols[1];
    return 0;
}
