/* bench/read_copy.c - the read benchmark's rows, COPYed table by table (see read_copy.h).
 *
 * Invariants:
 *  1. JSON values (fields, facets, event bodies) are built here from names that contain no character
 *     JSON or COPY would need to escape other than through pgcopy_str.
 *  2. A run's rows (runs, run_io, run_facets, its output versions, its events) come from the same
 *     read_gen functions, so they agree with one another: run_io's versions exist in dataset_versions,
 *     every run's events carry its seq numbers.
 * Ownership: nothing kept. Threads: single-threaded. */
#include "read_copy.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum { NAME_MAX_LEN = 160, HIDDEN_PER_MILLE = 1, TAG_SCHEMA_VERSION = 200 };

const char READ_COPY_PRODUCER[] = "https://github.com/apache/airflow/tree/providers-openlineage/1.14.0";
const char READ_COPY_FACET_SCHEMA_URL[] = "https://openlineage.io/spec/facets/1-0-1/";
static const char *const FIELD_TYPES[] = {"BIGINT", "TIMESTAMP", "TIMESTAMP", "BIGINT", "BIGINT",
                                          "DECIMAL(18,2)", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR"};

void read_copy_json(struct read_json *j, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(j->text + j->len, sizeof j->text - j->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof j->text - j->len)
        gen_die("a generated JSON value is longer than %d bytes", READ_COPY_JSON_MAX);
    j->len += (size_t)n;
}

void read_copy_iso(uint32_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *field_type(unsigned k)
{
    return FIELD_TYPES[k % (sizeof FIELD_TYPES / sizeof FIELD_TYPES[0])];
}

/* [{"name":..,"type":..,"description":null},...]: the fields of d as dataset_versions stores them. */
static void fields_json(const struct rgen *r, uint32_t d, struct read_json *j)
{
    char f[64];
    unsigned n = rgen_dataset_fields(r, d);

    j->len = 0;
    read_copy_json(j, "[");
    for (unsigned k = 0; k < n; k++) {
        gen_field_name(k, f, sizeof f);
        read_copy_json(j, "%s{\"name\": \"%s\", \"type\": \"%s\", \"description\": null}", k ? ", " : "", f, field_type(k));
    }
    read_copy_json(j, "]");
}

bool read_copy_hidden(const struct rgen *r, uint64_t tag, uint32_t id)
{
    return rgen_hash(r, tag, id, 0) % 1000 < HIDDEN_PER_MILLE;
}

/* ---- namespaces, sources, datasets ---- */

int read_copy_parents(struct pgcopy *b, const struct rgen *r, struct err *e)
{
    static const char NS[] = "INSERT INTO namespaces (name, created_at, updated_at)"
                             " VALUES ($1, to_timestamp($2::bigint), to_timestamp($2::bigint))"
                             " ON CONFLICT (name) DO NOTHING";
    static const char SRC[] = "INSERT INTO sources (name, connection_url, created_at, updated_at)"
                              " VALUES ($1, $1, to_timestamp($2::bigint), to_timestamp($2::bigint))"
                              " ON CONFLICT (name) DO NOTHING";
    char t[24];
    int rc = 0;

    snprintf(t, sizeof t, "%u", (unsigned)(r->t0 - 2 * 86400));
    for (uint32_t d = 0; d < r->n_ds && rc == 0; d += d < r->g.n_ds ? 1 : 997) { /* every namespace */
        const char *p[] = {rgen_dataset_ns(r, d), t};
        rc = pgcopy_exec(b->conn, NS, 2, p, e) != 0 || pgcopy_exec(b->conn, SRC, 2, p, e) != 0 ? -1 : 0;
    }
    for (uint32_t j = 0; j < 3 && j < r->g.n_jobs && rc == 0; j++) {
        const char *p[] = {gen_job_ns(j), t};
        rc = pgcopy_exec(b->conn, NS, 2, p, e);
    }
    return rc;
}

/* When d was last written: its current version's time, or its creation. */
static uint32_t dataset_updated(const struct rgen *r, uint32_t d, uint8_t version[16])
{
    uint32_t t;
    rgen_current_version(r, d, version, &t);
    return t;
}

int read_copy_datasets(struct pgcopy *b, const struct rgen *r, struct err *e)
{
    char name[NAME_MAX_LEN];
    uint8_t v[16];
    int rc = pgcopy_begin(b,
                          "COPY datasets (id, namespace, name, physical_name, source_name, current_version,"
                          " is_hidden, created_at, updated_at, seq) FROM STDIN",
                          e);

    for (uint32_t d = 0; rc == 0 && d < r->n_ds; d++) {
        uint32_t updated = dataset_updated(r, d, v);
        rgen_dataset_name(r, d, name, sizeof name);
        pgcopy_u64(b, (uint64_t)d + 1);
        pgcopy_str(b, rgen_dataset_ns(r, d));
        pgcopy_str(b, name);
        pgcopy_str(b, name);
        pgcopy_str(b, rgen_dataset_ns(r, d));
        pgcopy_uuid(b, v);
        pgcopy_str(b, read_copy_hidden(r, READ_COPY_TAG_HIDDEN_DATASET, d) ? "t" : "f");
        pgcopy_time(b, rgen_dataset_created(r, d));
        pgcopy_time(b, updated);
        pgcopy_u64(b, 0);
        rc = pgcopy_row(b, e);
    }
    return rc == 0 ? pgcopy_end(b, e) : -1;
}

int read_copy_fields(struct pgcopy *b, const struct rgen *r, struct err *e)
{
    char f[64];
    int rc = pgcopy_begin(b, "COPY dataset_fields (dataset_id, name, type, ordinal, updated_at) FROM STDIN", e);

    for (uint32_t d = 0; rc == 0 && d < r->n_ds; d++) {
        uint32_t created = rgen_dataset_created(r, d);
        for (unsigned k = 0; rc == 0 && k < rgen_dataset_fields(r, d); k++) {
            gen_field_name(k, f, sizeof f);
            pgcopy_u64(b, (uint64_t)d + 1);
            pgcopy_str(b, f);
            pgcopy_str(b, field_type(k));
            pgcopy_u64(b, k + 1);
            pgcopy_time(b, created);
            rc = pgcopy_row(b, e);
        }
    }
    return rc == 0 ? pgcopy_end(b, e) : -1;
}

static int facet_row(struct pgcopy *b, uint64_t id, const char *name, const char *json, uint32_t t,
                     struct err *e)
{
    pgcopy_u64(b, id);
    pgcopy_str(b, name);
    pgcopy_str(b, json);
    pgcopy_time(b, t);
    pgcopy_u64(b, 0);
    return pgcopy_row(b, e);
}

/* schema (the fields) and dataSource, as an OpenLineage producer sends them. */
int read_copy_dataset_facets(struct pgcopy *b, const struct rgen *r, struct err *e)
{
    static struct read_json fields, facet;
    int rc = pgcopy_begin(b, "COPY dataset_facets (dataset_id, name, facet, event_time, seq) FROM STDIN", e);

    for (uint32_t d = 0; rc == 0 && d < r->n_ds; d++) {
        uint32_t t = rgen_dataset_created(r, d);
        fields_json(r, d, &fields);
        facet.len = 0;
        read_copy_json(&facet, "{\"_producer\": \"%s\", \"_schemaURL\": \"%sSchemaDatasetFacet.json\", \"fields\": %.*s}",
               READ_COPY_PRODUCER, READ_COPY_FACET_SCHEMA_URL, (int)fields.len, fields.text);
        rc = facet_row(b, (uint64_t)d + 1, "schema", facet.text, t, e);
        facet.len = 0;
        read_copy_json(&facet, "{\"_producer\": \"%s\", \"_schemaURL\": \"%sDatasourceDatasetFacet.json\", \"name\": \"%s\","
                       " \"uri\": \"%s\"}", READ_COPY_PRODUCER, READ_COPY_FACET_SCHEMA_URL, rgen_dataset_ns(r, d), rgen_dataset_ns(r, d));
        if (rc == 0)
            rc = facet_row(b, (uint64_t)d + 1, "dataSource", facet.text, t, e);
    }
    return rc == 0 ? pgcopy_end(b, e) : -1;
}

static int version_row(struct pgcopy *b, const struct rgen *r, const uint8_t v[16], uint32_t d,
                       const uint8_t *run, uint32_t t, uint32_t seq, struct err *e)
{
    static struct read_json fields;
    uint8_t schema[16];

    fields_json(r, d, &fields);
    uint64_t h = rgen_hash(r, TAG_SCHEMA_VERSION, d, 1);
    memcpy(schema, &h, 8);
    memcpy(schema + 8, v, 8);
    pgcopy_uuid(b, v);
    pgcopy_u64(b, (uint64_t)d + 1);
    if (run != NULL)
        pgcopy_uuid(b, run);
    else
        pgcopy_null(b);
    pgcopy_str(b, fields.text);
    pgcopy_uuid(b, schema);
    pgcopy_time(b, t);
    pgcopy_u64(b, seq);
    return pgcopy_row(b, e);
}

/* Every dataset's first version, then each run's outputs, in run order. */
int read_copy_versions(struct pgcopy *b, const struct rgen *r, struct err *e)
{
    uint8_t v[16], run[16];
    int rc = pgcopy_begin(b,
                          "COPY dataset_versions (version, dataset_id, run_uuid, fields, schema_version,"
                          " created_at, seq) FROM STDIN",
                          e);

    for (uint32_t d = 0; rc == 0 && d < r->n_ds; d++) {
        rgen_first_version(r, d, v);
        rc = version_row(b, r, v, d, NULL, rgen_dataset_created(r, d), 0, e);
    }
    for (size_t i = 0; rc == 0 && i < r->n_runs; i++) {
        const struct rgen_run *x = &r->runs[i];
        rgen_run_uuid(r, x->job, x->k, run);
        for (uint32_t k = r->io_first[x->job]; rc == 0 && k < r->io_first[x->job + 1]; k++) {
            const struct gen_io *io = &r->g.io[k];
            if (!io->output)
                continue;
            rgen_output_version(r, x->job, x->k, io->dataset, v);
            rc = version_row(b, r, v, io->dataset, run, x->start, x->seq_start, e);
        }
    }
    return rc == 0 ? pgcopy_end(b, e) : -1;
}
