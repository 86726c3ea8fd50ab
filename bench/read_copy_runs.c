/* bench/read_copy_runs.c - the read benchmark's jobs, runs and events, COPYed table by table (see
 * read_copy.h; datasets and versions are in read_copy.c).
 *
 * Invariants:
 *  1. A job's times come from its runs: created at its first run's start, updated at its last run's
 *     last event (latest_run_uuid, latest_run_time); a job without runs keeps graph_gen's times moved
 *     into the year of runs.
 *  2. An event body has Marquez's RunEvent keys (eventType, eventTime, run, job, inputs, outputs,
 *     producer, schemaURL); dataset facets are not repeated in it (they are in dataset_facets).
 * Ownership: nothing kept. Threads: single-threaded. */
#include "read_copy.h"

#include <string.h>

enum { NAME_MAX_LEN = 160, TAG_JOB_CREATED = 300, TAG_EVENT_HASH, TAG_RECEIVED, RECEIVE_DELAY_S = 3 };

static const char EVENT_SCHEMA_URL[] = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
static const char *const STATE_NAMES[] = {"COMPLETED", "FAILED", "ABORTED", "RUNNING"};
static const char *const END_EVENTS[] = {"COMPLETE", "FAIL", "ABORT", NULL};

/* ---- jobs ---- */

struct job_span {
    uint32_t created, updated; /* first run's start, last run's last event (or made-up times) */
    bool ran;
    uint8_t last_run[16];
};

static void job_span(const struct rgen *r, uint32_t j, struct job_span *s)
{
    uint32_t n = r->job_runs[j], start, end;
    enum rgen_state st;

    s->ran = n > 0;
    if (!s->ran) {
        s->created = s->updated = r->t0 + (uint32_t)(rgen_hash(r, TAG_JOB_CREATED, j, 0) % (r->now - r->t0));
        return;
    }
    rgen_run_times(r, j, 0, &s->created, &end, &st);
    rgen_run_times(r, j, n - 1, &start, &end, &st);
    s->updated = end != 0 ? end : start;
    rgen_run_uuid(r, j, n - 1, s->last_run);
}

int read_copy_jobs(struct pgcopy *b, const struct rgen *r, struct err *e)
{
    char name[NAME_MAX_LEN];
    uint8_t v[16];
    struct job_span s;
    int rc = pgcopy_begin(b,
                          "COPY jobs (id, namespace, name, simple_name, current_version, latest_run_uuid,"
                          " latest_run_time, is_hidden, created_at, updated_at, seq) FROM STDIN",
                          e);

    for (uint32_t j = 0; rc == 0 && j < r->g.n_jobs; j++) {
        job_span(r, j, &s);
        gen_job_name(j, name, sizeof name);
        rgen_job_version(r, j, v);
        pgcopy_u64(b, (uint64_t)j + 1);
        pgcopy_str(b, gen_job_ns(j));
        pgcopy_str(b, name);
        pgcopy_str(b, name);
        if (rgen_last_ended(r, j) != RGEN_NONE)
            pgcopy_uuid(b, v);
        else
            pgcopy_null(b);
        if (s.ran) {
            pgcopy_uuid(b, s.last_run);
            pgcopy_time(b, s.updated);
        } else {
            pgcopy_null(b);
            pgcopy_null(b);
        }
        pgcopy_str(b, read_copy_hidden(r, READ_COPY_TAG_HIDDEN_JOB, j) ? "t" : "f");
        pgcopy_time(b, s.created);
        pgcopy_time(b, s.updated);
        pgcopy_u64(b, 0);
        rc = pgcopy_row(b, e);
    }
    return rc == 0 ? pgcopy_end(b, e) : -1;
}

int read_copy_job_facets(struct pgcopy *b, const struct rgen *r, struct err *e)
{
    static struct read_json facet;
    struct job_span s;
    int rc = pgcopy_begin(b, "COPY job_facets (job_id, name, facet, event_time, seq) FROM STDIN", e);

    for (uint32_t j = 0; rc == 0 && j < r->g.n_jobs; j++) {
        job_span(r, j, &s);
        facet.len = 0;
        read_copy_json(&facet,
                       "{\"_producer\": \"%s\", \"_schemaURL\": \"%sJobTypeJobFacet.json\", \"processingType\":"
                       " \"BATCH\", \"integration\": \"AIRFLOW\", \"jobType\": \"TASK\"}",
                       READ_COPY_PRODUCER, READ_COPY_FACET_SCHEMA_URL);
        pgcopy_u64(b, (uint64_t)j + 1);
        pgcopy_str(b, "jobType");
        pgcopy_str(b, facet.text);
        pgcopy_time(b, s.updated);
        pgcopy_u64(b, 0);
        rc = pgcopy_row(b, e);
    }
    return rc == 0 ? pgcopy_end(b, e) : -1;
}

/* [{"namespace":..,"name":..},...] of job j's inputs or outputs, in job_io order. */
static void io_names_json(const struct rgen *r, uint32_t j, bool output, struct read_json *out)
{
    char name[NAME_MAX_LEN];
    bool first = true;

    read_copy_json(out, "[");
    for (uint32_t k = r->io_first[j]; k < r->io_first[j + 1]; k++) {
        const struct gen_io *io = &r->g.io[k];
        if (io->output != output)
            continue;
        rgen_dataset_name(r, io->dataset, name, sizeof name);
        read_copy_json(out, "%s{\"namespace\": \"%s\", \"name\": \"%s\"}", first ? "" : ", ",
                       rgen_dataset_ns(r, io->dataset), name);
        first = false;
    }
    read_copy_json(out, "]");
}

int read_copy_job_versions(struct pgcopy *b, const struct rgen *r, struct err *e)
{
    static struct read_json json;
    uint8_t v[16], run[16];
    uint32_t start, end, first_end;
    enum rgen_state st;
    int rc = pgcopy_begin(b,
                          "COPY job_versions (version, job_id, latest_run_uuid, inputs, outputs, created_at,"
                          " updated_at, seq) FROM STDIN",
                          e);

    for (uint32_t j = 0; rc == 0 && j < r->g.n_jobs; j++) {
        uint32_t last = rgen_last_ended(r, j);
        if (last == RGEN_NONE)
            continue;
        rgen_job_version(r, j, v);
        rgen_run_uuid(r, j, last, run);
        rgen_run_times(r, j, 0, &start, &first_end, &st);
        rgen_run_times(r, j, last, &start, &end, &st);
        pgcopy_uuid(b, v);
        pgcopy_u64(b, (uint64_t)j + 1);
        pgcopy_uuid(b, run);
        json.len = 0;
        io_names_json(r, j, false, &json);
        pgcopy_str(b, json.text);
        json.len = 0;
        io_names_json(r, j, true, &json);
        pgcopy_str(b, json.text);
        pgcopy_time(b, first_end != 0 ? first_end : end);
        pgcopy_time(b, end);
        pgcopy_u64(b, 0);
        rc = pgcopy_row(b, e);
    }
    return rc == 0 ? pgcopy_end(b, e) : -1;
}

int read_copy_job_io(struct pgcopy *b, const struct rgen *r, struct err *e)
{
    struct job_span s;
    int rc = pgcopy_begin(
        b, "COPY job_io (job_id, dataset_id, io_type, first_seen, last_seen, last_run_uuid, seq) FROM STDIN", e);

    for (uint32_t j = 0; rc == 0 && j < r->g.n_jobs; j++) {
        job_span(r, j, &s);
        for (uint32_t k = r->io_first[j]; rc == 0 && k < r->io_first[j + 1]; k++) {
            pgcopy_u64(b, (uint64_t)j + 1);
            pgcopy_u64(b, (uint64_t)r->g.io[k].dataset + 1);
            pgcopy_str(b, r->g.io[k].output ? "OUTPUT" : "INPUT");
            pgcopy_time(b, s.created);
            pgcopy_time(b, s.updated);
            if (s.ran)
                pgcopy_uuid(b, s.last_run);
            else
                pgcopy_null(b);
            pgcopy_u64(b, 0);
            rc = pgcopy_row(b, e);
        }
    }
    return rc == 0 ? pgcopy_end(b, e) : -1;
}

int read_copy_columns(struct pgcopy *b, const struct rgen *r, struct err *e)
{
    char out[64], in[64];
    int rc = pgcopy_begin(b,
                          "COPY column_lineage (output_dataset_id, output_field, input_dataset_id, input_field,"
                          " first_seen, last_seen, seq) FROM STDIN",
                          e);

    for (size_t i = 0; rc == 0 && i < r->g.n_col; i++) {
        const struct gen_col *c = &r->g.col[i];
        gen_field_name(c->out_field, out, sizeof out);
        gen_field_name(c->in_field, in, sizeof in);
        pgcopy_u64(b, (uint64_t)c->out_ds + 1);
        pgcopy_str(b, out);
        pgcopy_u64(b, (uint64_t)c->in_ds + 1);
        pgcopy_str(b, in);
        pgcopy_time(b, rgen_dataset_created(r, c->out_ds));
        pgcopy_time(b, r->now);
        pgcopy_u64(b, 0);
        rc = pgcopy_row(b, e);
    }
    return rc == 0 ? pgcopy_end(b, e) : -1;
}

/* ---- runs ---- */

/* The nominal period of a scheduled run: its hour or its day. */
static uint32_t nominal_period(const struct rgen *r, uint32_t job)
{
    enum rgen_class c = rgen_job_class(r, job);
    return c == RGEN_HOURLY ? 3600 : c == RGEN_DAILY ? 86400 : 0;
}

int read_copy_runs(struct pgcopy *b, const struct rgen *r, struct err *e)
{
    uint8_t run[16], v[16];
    int rc = pgcopy_begin(b,
                          "COPY runs (uuid, job_id, state, state_time, nominal_start_time, nominal_end_time,"
                          " started_at, ended_at, job_version, created_at, updated_at, seq) FROM STDIN",
                          e);

    for (size_t i = 0; rc == 0 && i < r->n_runs; i++) {
        const struct rgen_run *x = &r->runs[i];
        uint32_t period = nominal_period(r, x->job), last = x->end != 0 ? x->end : x->start;
        rgen_run_uuid(r, x->job, x->k, run);
        rgen_job_version(r, x->job, v);
        pgcopy_uuid(b, run);
        pgcopy_u64(b, (uint64_t)x->job + 1);
        pgcopy_str(b, STATE_NAMES[x->state]);
        pgcopy_time(b, last);
        if (period != 0) {
            pgcopy_time(b, x->start / period * period);
            pgcopy_time(b, x->start / period * period + period);
        } else {
            pgcopy_null(b);
            pgcopy_null(b);
        }
        pgcopy_time(b, x->start);
        if (x->end != 0)
            pgcopy_time(b, x->end);
        else
            pgcopy_null(b);
        if (x->state != RGEN_RUNNING)
            pgcopy_uuid(b, v);
        else
            pgcopy_null(b);
        pgcopy_time(b, x->start);
        pgcopy_time(b, last);
        pgcopy_u64(b, x->seq_end != 0 ? x->seq_end : x->seq_start);
        rc = pgcopy_row(b, e);
    }
    return rc == 0 ? pgcopy_end(b, e) : -1;
}

int read_copy_run_io(struct pgcopy *b, const struct rgen *r, struct err *e)
{
    uint8_t run[16], v[16];
    int rc = pgcopy_begin(b,
                          "COPY run_io (run_uuid, dataset_id, io_type, dataset_version, first_seen, last_seen,"
                          " seq) FROM STDIN",
                          e);

    for (size_t i = 0; rc == 0 && i < r->n_runs; i++) {
        const struct rgen_run *x = &r->runs[i];
        rgen_run_uuid(r, x->job, x->k, run);
        for (uint32_t k = r->io_first[x->job]; rc == 0 && k < r->io_first[x->job + 1]; k++) {
            const struct gen_io *io = &r->g.io[k];
            if (io->output)
                rgen_output_version(r, x->job, x->k, io->dataset, v);
            else
                rgen_read_version(r, io->dataset, x->start, v);
            pgcopy_uuid(b, run);
            pgcopy_u64(b, (uint64_t)io->dataset + 1);
            pgcopy_str(b, io->output ? "OUTPUT" : "INPUT");
            pgcopy_uuid(b, v);
            pgcopy_time(b, x->start);
            pgcopy_time(b, x->end != 0 ? x->end : x->start);
            pgcopy_u64(b, x->seq_end != 0 ? x->seq_end : x->seq_start);
            rc = pgcopy_row(b, e);
        }
    }
    return rc == 0 ? pgcopy_end(b, e) : -1;
}

/* nominalTime for scheduled runs, processing_engine for the others: one facet per run. */
int read_copy_run_facets(struct pgcopy *b, const struct rgen *r, struct err *e)
{
    static struct read_json facet;
    uint8_t run[16];
    char lo[32], hi[32];
    int rc = pgcopy_begin(b, "COPY run_facets (run_uuid, name, facet, event_time, seq) FROM STDIN", e);

    for (size_t i = 0; rc == 0 && i < r->n_runs; i++) {
        const struct rgen_run *x = &r->runs[i];
        uint32_t period = nominal_period(r, x->job);
        facet.len = 0;
        if (period != 0) {
            read_copy_iso(x->start / period * period, lo);
            read_copy_iso(x->start / period * period + period, hi);
            read_copy_json(&facet, "{\"_producer\": \"%s\", \"_schemaURL\": \"%sNominalTimeRunFacet.json\","
                                   " \"nominalStartTime\": \"%s\", \"nominalEndTime\": \"%s\"}",
                           READ_COPY_PRODUCER, READ_COPY_FACET_SCHEMA_URL, lo, hi);
        } else {
            read_copy_json(&facet, "{\"_producer\": \"%s\", \"_schemaURL\": \"%sProcessingEngineRunFacet.json\","
                                   " \"version\": \"2.10.3\", \"name\": \"Airflow\","
                                   " \"openlineageAdapterVersion\": \"1.14.0\"}",
                           READ_COPY_PRODUCER, READ_COPY_FACET_SCHEMA_URL);
        }
        rgen_run_uuid(r, x->job, x->k, run);
        pgcopy_uuid(b, run);
        pgcopy_str(b, period != 0 ? "nominalTime" : "processing_engine");
        pgcopy_str(b, facet.text);
        pgcopy_time(b, x->start);
        pgcopy_u64(b, x->seq_start);
        rc = pgcopy_row(b, e);
    }
    return rc == 0 ? pgcopy_end(b, e) : -1;
}

/* ---- events ---- */

static void event_body(const struct rgen *r, const struct rgen_run *x, const char *type, uint32_t t,
                       struct read_json *j)
{
    char when[32], run[37], name[NAME_MAX_LEN];
    uint8_t u[16];

    rgen_run_uuid(r, x->job, x->k, u);
    pgcopy_uuid_text(u, run);
    read_copy_iso(t, when);
    gen_job_name(x->job, name, sizeof name);
    j->len = 0;
    read_copy_json(j, "{\"eventType\": \"%s\", \"eventTime\": \"%s\", \"run\": {\"runId\": \"%s\"},"
                      " \"job\": {\"namespace\": \"%s\", \"name\": \"%s\"}, \"inputs\": ",
                   type, when, run, gen_job_ns(x->job), name);
    io_names_json(r, x->job, false, j);
    read_copy_json(j, ", \"outputs\": ");
    io_names_json(r, x->job, true, j);
    read_copy_json(j, ", \"producer\": \"%s\", \"schemaURL\": \"%s\"}", READ_COPY_PRODUCER, EVENT_SCHEMA_URL);
}

int read_copy_events(struct pgcopy *b, const struct rgen *r, struct err *e)
{
    static struct read_json body;
    char name[NAME_MAX_LEN];
    uint8_t run[16], hash[32];
    int rc = pgcopy_begin(b,
                          "COPY events (seq, hash, kind, event_type, event_time, producer, schema_url, run_uuid,"
                          " job_namespace, job_name, received_at, body) FROM STDIN",
                          e);

    for (size_t i = 0; rc == 0 && i < r->n_events; i++) {
        const struct rgen_event *ev = &r->events[i];
        const struct rgen_run *x = &r->runs[ev->ref >> 1];
        const char *type = (ev->ref & 1) ? END_EVENTS[x->state] : "START";
        for (int k = 0; k < 4; k++) {
            uint64_t h = rgen_hash(r, TAG_EVENT_HASH, i, (uint64_t)k);
            memcpy(hash + 8 * k, &h, 8);
        }
        rgen_run_uuid(r, x->job, x->k, run);
        gen_job_name(x->job, name, sizeof name);
        event_body(r, x, type, ev->time, &body);
        pgcopy_u64(b, i + 1);
        pgcopy_bytea(b, hash, sizeof hash);
        pgcopy_str(b, "RUN_EVENT");
        pgcopy_str(b, type);
        pgcopy_time(b, ev->time);
        pgcopy_str(b, READ_COPY_PRODUCER);
        pgcopy_str(b, EVENT_SCHEMA_URL);
        pgcopy_uuid(b, run);
        pgcopy_str(b, gen_job_ns(x->job));
        pgcopy_str(b, name);
        pgcopy_time(b, ev->time + (uint32_t)(rgen_hash(r, TAG_RECEIVED, i, 0) % RECEIVE_DELAY_S));
        pgcopy_str(b, body.text);
        rc = pgcopy_row(b, e);
    }
    return rc == 0 ? pgcopy_end(b, e) : -1;
}
