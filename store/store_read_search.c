/* store/store_read_search.c - search, the event list and the stats series of the Marquez API.
 *
 * Invariants:
 *  1. Search really sorts (Marquez binds its sort as a value, so its ORDER BY is a no-op): by name,
 *     or newest first for updated_at; ties broken by name, namespace and type. A dataset is listed
 *     once, under its group's name, when that name or any of its symlinked names matches, or (in=)
 *     one of its fields, its description, tags, labels or owners; each result says where it matched.
 *  2. A stats time zone is checked against pg_timezone_names/abbrevs before any timestamp is
 *     converted with it, so an unknown zone is a 400, never a SQL error.
 *  3. WEEK buckets are local midnights of the zone, written with a "Z" suffix: Marquez reads them as
 *     timestamps without time zone in a UTC JVM, and the web UI expects exactly that.
 * Threads: one thread per struct store. */
#include "store_read_int.h"

#include <string.h>

/* Search ($1 q, $2 filter, $3 limit, $4 namespace, $5 before, $6 after; $7-$11 where to look: names,
 * fields, descriptions, tags, owners; the order is the statement's, by name or newest first).
 * Each place is a branch giving visible objects (a dataset's group row, a job that is no symlink) with
 * the text that matched, in the answer's order, cut to the first $3; the answer is the first $3 of all
 * branches, each object with its first place. That is exact (an object among the first $3 overall is
 * among the first $3 of every branch it is in) and lets each branch be either an indexed ILIKE (pg_trgm
 * GIN indexes, migrations/0008_ml_lineage.sql) over a few matches, or, for a broad term ("pay" while a
 * user types), a read of the rows in name order (datasets_name, jobs_name) that stops after $3 matches;
 * the planner picks by the term. A row branch tests the row's own columns, or its fields and tags with
 * EXISTS; alias and symlink names are found first and then joined to their group's row. */
/* clang-format off */
#define PAT "('%' || $1::text || '%')"
#define IF_DS " ($2::text IS NULL OR $2 = 'DATASET')"
#define IF_JOB " ($2::text IS NULL OR $2 = 'JOB')"
#define VISIBLE(alias)                                                                                       \
    " NOT g.is_hidden AND " alias " AND ($4::text IS NULL OR g.namespace = $4)"                              \
    " AND ($5::date IS NULL OR g.updated_at < ($5::date::timestamp AT TIME ZONE 'UTC'))"                     \
    " AND ($6::date IS NULL OR g.updated_at > ($6::date::timestamp AT TIME ZONE 'UTC'))"
#define DS_VISIBLE VISIBLE("g.alias_of IS NULL")
#define JOB_VISIBLE VISIBLE("g.symlink_target_id IS NULL")
#define DS_COLS "g.name, g.namespace, g.updated_at, g.dataset_type, g.sub_type"
#define JOB_COLS "g.name, g.namespace, g.updated_at, NULL::text, NULL::text"

/* A branch over the rows g of table: those where `match` holds, with `what` as the matched text. A
 * branch that may read rows in name order orders by the columns themselves; one whose match the
 * planner cannot estimate (lists, fields, tags: EXISTS and expressions) orders by an expression no index
 * has, so a term that matches nothing never reads every row in name order looking for $3 matches. */
#define ROWS(type, place, table, cols, visible, what, match, order)                                          \
    " UNION ALL (SELECT '" type "', g.id, " place ", " what ", " cols " FROM " table " g WHERE " match       \
    " AND" visible " ORDER BY " order " LIMIT $3::bigint)"
#define UNORDERED(order) "g.id IS NULL, " order

/* The first element of row g's list that matches (the list as one text when only a term spanning two
 * elements does), and the test: on the indexed text, whose statistics the planner has. */
#define LIST_WHAT(column)                                                                                    \
    "coalesce((SELECT min(e) FROM unnest(g." column ") AS e WHERE e ILIKE " PAT "),"                         \
    " lineaged_join(g." column "))"
#define LIST_MATCH(column) "g." column " IS NOT NULL AND lineaged_join(g." column ") ILIKE " PAT
#define FIELD_WHAT "(SELECT min(f.name) FROM dataset_fields f WHERE f.dataset_id = g.id AND f.name ILIKE " PAT ")"
#define FIELD_MATCH "EXISTS (SELECT 1 FROM dataset_fields f WHERE f.dataset_id = g.id AND f.name ILIKE " PAT ")"
#define TAG_WHAT(table, key)                                                                                 \
    "(SELECT min(t.tag) FROM " table " t WHERE t." key " = g.id AND t.tag ILIKE " PAT ")"
#define TAG_MATCH(table, key)                                                                                \
    "EXISTS (SELECT 1 FROM " table " t WHERE t." key " = g.id AND t.tag ILIKE " PAT ")"

/* Alias names: matches (id of the group's row, what), each group once, joined to its row g. */
#define ALIASES(type, table, cols, visible, matches, order)                                                  \
    " UNION ALL (SELECT '" type "', g.id, 1, x.what, " cols " FROM (SELECT DISTINCT ON (id) id, what"        \
    "  FROM (" matches ") y ORDER BY id, what) x JOIN " table " g ON g.id = x.id WHERE" visible              \
    " ORDER BY " order " LIMIT $3::bigint)"

#define DS_ROWS(place, on, what, match, order)                                                               \
    ROWS("DATASET", place, "datasets", DS_COLS, DS_VISIBLE, what, on " AND" IF_DS " AND " match, order)
#define JOB_ROWS(place, on, what, match, order)                                                              \
    ROWS("JOB", place, "jobs", JOB_COLS, JOB_VISIBLE, what, on " AND" IF_JOB " AND " match, order)

/* The name branches (Marquez's search, what the web UI sends per keystroke) and the other places. */
#define NAME_BRANCHES(order)                                                                                 \
    DS_ROWS("1", "$7::boolean", "g.name", "g.name ILIKE " PAT, order)                                         \
    ALIASES("DATASET", "datasets", DS_COLS, DS_VISIBLE,                                                       \
            "SELECT a.alias_of AS id, a.name AS what FROM datasets a WHERE $7 AND" IF_DS                      \
            " AND a.alias_of IS NOT NULL AND a.name ILIKE " PAT                                               \
            " UNION ALL SELECT coalesce(o.alias_of, o.id), s.name FROM dataset_symlinks s"                    \
            " JOIN datasets o ON o.id = s.dataset_id WHERE $7 AND" IF_DS " AND s.name ILIKE " PAT, order)     \
    JOB_ROWS("1", "$7", "g.name", "g.name ILIKE " PAT, order)                                                  \
    ALIASES("JOB", "jobs", JOB_COLS, JOB_VISIBLE,                                                             \
            "SELECT j.symlink_target_id AS id, j.name AS what FROM jobs j WHERE $7 AND" IF_JOB                \
            " AND j.symlink_target_id IS NOT NULL AND j.name ILIKE " PAT, order)
#define OTHER_BRANCHES(order)                                                                                \
    DS_ROWS("2", "$8::boolean", FIELD_WHAT, FIELD_MATCH, UNORDERED(order))                                    \
    DS_ROWS("3", "$9::boolean", "left(g.description, 200)", "g.description ILIKE " PAT, order)                \
    DS_ROWS("4", "$10::boolean", LIST_WHAT("labels"), LIST_MATCH("labels"), UNORDERED(order))                 \
    DS_ROWS("4", "$10", TAG_WHAT("dataset_tags", "dataset_id"), TAG_MATCH("dataset_tags", "dataset_id"),      \
            UNORDERED(order))                                                                                 \
    DS_ROWS("5", "$11::boolean", LIST_WHAT("owners"), LIST_MATCH("owners"), UNORDERED(order))                 \
    JOB_ROWS("3", "$9", "left(g.description, 200)", "g.description ILIKE " PAT, order)                        \
    JOB_ROWS("4", "$10", LIST_WHAT("labels"), LIST_MATCH("labels"), UNORDERED(order))                         \
    JOB_ROWS("4", "$10", TAG_WHAT("job_tags", "job_id"), TAG_MATCH("job_tags", "job_id"), UNORDERED(order))   \
    JOB_ROWS("5", "$11", LIST_WHAT("owners"), LIST_MATCH("owners"), UNORDERED(order))

/* branches: the UNION ALL branches. $8-$11 are typed in the first (empty) one: the name branches
 * alone do not use them. */
#define SEARCH_SQL(order, branches)                                                                          \
    "WITH m AS (SELECT NULL::text AS type, NULL::bigint AS id, NULL::int AS place, NULL::text AS what,"      \
    " NULL::text AS name, NULL::text AS namespace, NULL::timestamptz AS updated_at,"                         \
    " NULL::text AS dataset_type, NULL::text AS sub_type"                                                    \
    " WHERE $8::boolean AND $9::boolean AND $10::boolean AND $11::boolean AND false"                         \
    branches                                                                                                  \
    "), best AS (SELECT DISTINCT ON (type, id) * FROM m ORDER BY type, id, place, what),"                    \
    " page AS (SELECT g.*, row_number() OVER (ORDER BY " order ", g.type) AS o FROM best g"                  \
    "  ORDER BY o LIMIT $3::bigint)"                                                                          \
    " SELECT json_build_object('totalCount', count(*), 'results', coalesce(json_agg(json_build_object("      \
    "  'type', p.type, 'name', p.name, 'updatedAt', api_ts(p.updated_at), 'namespace', p.namespace,"         \
    "  'nodeId', lower(p.type) || ':' || p.namespace || ':' || p.name,"                                      \
    "  'datasetType', p.dataset_type, 'subType', p.sub_type,"                                                \
    "  'matchedIn', (ARRAY['name', 'fields', 'description', 'tags', 'owners'])[p.place], 'matched', p.what)"  \
    "  ORDER BY p.o), '[]'))"                                                                                 \
    " FROM page p"

#define BY_NAME "g.name, g.namespace"
#define BY_UPDATE "g.updated_at DESC, g.name, g.namespace"

/* Run with store_read_json_planned: planned for each call's term, since a cached plan would suit one
 * kind of term only. Names alone (the default) have statements of their own, which plan in a fraction
 * of the time. */
static const struct store_stmt SEARCH_NAMES_BY_NAME = {
    "read_search_names_name", SEARCH_SQL(BY_NAME, NAME_BRANCHES(BY_NAME)), 11};
static const struct store_stmt SEARCH_NAMES_BY_UPDATE = {
    "read_search_names_updated", SEARCH_SQL(BY_UPDATE, NAME_BRANCHES(BY_UPDATE)), 11};
static const struct store_stmt SEARCH_ALL_BY_NAME = {
    "read_search_all_name", SEARCH_SQL(BY_NAME, NAME_BRANCHES(BY_NAME) OTHER_BRANCHES(BY_NAME)), 11};
static const struct store_stmt SEARCH_ALL_BY_UPDATE = {
    "read_search_all_updated", SEARCH_SQL(BY_UPDATE, NAME_BRANCHES(BY_UPDATE) OTHER_BRANCHES(BY_UPDATE)), 11};
/* clang-format on */

/* A stored event with Marquez's top-level key order (LineageEvent fields), unknown keys last. */
#define EVENT_JSON                                                                                           \
    "(SELECT json_object_agg(x.key, x.value ORDER BY coalesce(array_position("                               \
    "  ARRAY['eventType', 'eventTime',"                                                                      \
    " 'run', 'job', 'inputs', 'outputs', 'producer', 'schemaURL']::text[], x.key), 99), x.key)"              \
    " FROM jsonb_each(p.body) x)"

/* Reads of events by event time also bound received_at by event_log_floor (migrations/0007), so that
 * only the partitions that can hold such events are read. */
#define EVENT_FLOOR(after) " AND received_at >= (SELECT event_log_floor(" after "))"

/* A page of RUN_EVENTs: event_page_start (migrations/0010_read_routes.sql) turns a deep offset into a time
 * bound and a remainder below one hour's events, from exact counters, so the page is read from the
 * index events_time near where it is; totalCount (every kind of event, as Marquez counts) comes from
 * the same counters (event_counts). */
#define EVENTS_SQL(direction, descending, bound)                                                             \
    "WITH ps AS (SELECT * FROM event_page_start($2::timestamptz, $1::timestamptz, " descending              \
    ", $4::bigint))"                                                                                         \
    " SELECT json_build_object("                                                                             \
    " 'events', coalesce((SELECT json_agg(" EVENT_JSON "  ORDER BY p.event_time " direction                  \
    ", p.seq " direction ")"                                                                                 \
    "  FROM (SELECT seq, event_time, body FROM events WHERE kind = 'RUN_EVENT'"                              \
    "   AND event_time < $1::timestamptz AND event_time >= $2::timestamptz AND " bound                       \
    EVENT_FLOOR("$2::timestamptz")                                                                           \
    "   ORDER BY event_time " direction ", seq " direction " LIMIT $3::bigint"                               \
    "   OFFSET (SELECT skip FROM ps)) p), '[]'),"                                                            \
    " 'totalCount', (SELECT coalesce(sum(n), 0)::bigint FROM event_counts($2::timestamptz, $1::timestamptz)))"

static const struct store_stmt EVENTS_ASC = {
    "read_events_asc", EVENTS_SQL("ASC", "false", "event_time >= (SELECT bound FROM ps)"), 4};
static const struct store_stmt EVENTS_DESC = {
    "read_events_desc", EVENTS_SQL("DESC", "true", "event_time < (SELECT bound FROM ps)"), 4};

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

/* Every bucket's counts at once from event_counts_series (exact counters, the partial hours at a bucket's
 * edges counted in events): a week of buckets no longer scans a week of events. */
static const struct store_stmt STATS_EVENTS = {
    "read_stats_events",
    STATS_BUCKETS
    ", bi AS (SELECT b.*, row_number() OVER (ORDER BY b.lo) AS i FROM b),"
    " c AS (SELECT x.i, x.event_type, x.n FROM event_counts_series("
    "  (SELECT array_agg(lo ORDER BY i) FROM bi), (SELECT array_agg(hi ORDER BY i) FROM bi)) x)"
    " SELECT EXISTS (SELECT 1 FROM z), coalesce((SELECT json_agg(json_build_object('startInterval', bi.l0,"
    "  'endInterval', bi.l1,"
    "  'fail', (SELECT coalesce(sum(c.n), 0) FROM c WHERE c.i = bi.i AND c.event_type = 'FAIL')::bigint,"
    "  'start', (SELECT coalesce(sum(c.n), 0) FROM c WHERE c.i = bi.i AND c.event_type = 'START')::bigint,"
    "  'complete', (SELECT coalesce(sum(c.n), 0) FROM c WHERE c.i = bi.i AND c.event_type = 'COMPLETE')::bigint,"
    "  'abort', (SELECT coalesce(sum(c.n), 0) FROM c WHERE c.i = bi.i AND c.event_type = 'ABORT')::bigint)"
    "  ORDER BY bi.lo) FROM bi), '[]')",
    2};

/* $3: which table; counts are cumulative (rows created before the end of each bucket), from the
 * counters of read_counts (created_before, migrations/0010_read_routes.sql). */
static const struct store_stmt STATS_COUNTS = {
    "read_stats_counts",
    STATS_BUCKETS
    " SELECT EXISTS (SELECT 1 FROM z), coalesce((SELECT json_agg(json_build_object('startInterval', b.l0,"
    "  'endInterval', b.l1, 'count', created_before($3, b.hi))"
    "  ORDER BY b.lo) FROM b), '[]')",
    3};

int store_read_search(struct store *s, struct arena *a, const struct store_search *q, const char **json_out,
                      struct err *e)
{
    const char *params[] = {q->q,
                            q->filter,
                            store_read_long(a, q->limit),
                            q->ns,
                            q->before,
                            q->after,
                            q->in & STORE_SEARCH_NAME ? "true" : "false",
                            q->in & STORE_SEARCH_FIELDS ? "true" : "false",
                            q->in & STORE_SEARCH_DESCRIPTION ? "true" : "false",
                            q->in & STORE_SEARCH_TAGS ? "true" : "false",
                            q->in & STORE_SEARCH_OWNERS ? "true" : "false"};
    bool newest = strcmp(q->sort, "updated_at") == 0, names = q->in == STORE_SEARCH_NAME;
    const struct store_stmt *st = names ? (newest ? &SEARCH_NAMES_BY_UPDATE : &SEARCH_NAMES_BY_NAME)
                                        : (newest ? &SEARCH_ALL_BY_UPDATE : &SEARCH_ALL_BY_NAME);
    return store_read_json_planned(s, a, st, params, json_out, e);
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
