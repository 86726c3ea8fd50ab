/* common/event.h - one OpenLineage event, decoded and validated, as the store writes it.
 *
 * collector/decode.c builds it from JSON; store/store_*.c write it. Everything derived from the
 * event (run UUID, job full name, dataset versions, canonical body) is computed once, at decode time;
 * the idempotency hash by ol_event_hash, the step after decoding.
 * Invariants:
 *  1. Every pointer is into the request arena; the struct dies with the request.
 *  2. Required strings (producer, job names, dataset names) are non-NULL and non-empty.
 *  3. datasets[] holds inputs, then outputs (RunEvent, JobEvent), or the one dataset (DatasetEvent);
 *     column-lineage edges exist only on outputs and come from fields of those inputs.
 *  4. Facet names within one list are unique (the last occurrence in the JSON wins). */
#ifndef LINEAGED_EVENT_H
#define LINEAGED_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ol_kind { OL_RUN_EVENT, OL_DATASET_EVENT, OL_JOB_EVENT };

enum ol_io { OL_IO_INPUT, OL_IO_OUTPUT, OL_IO_STATIC };

/* Marquez run states (RUNNING covers START, RUNNING, OTHER and a missing eventType). */
enum run_state { RUN_STATE_RUNNING, RUN_STATE_COMPLETED, RUN_STATE_FAILED, RUN_STATE_ABORTED };

struct json_value;

struct ol_facet {
    const char *name;
    const struct json_value *value; /* the facet as parsed (request arena); NULL when deleted */
    bool deleted;                   /* {"_deleted": true} */
};

struct ol_field {
    const char *name;
    const char *type;        /* may be NULL */
    const char *description; /* may be NULL */
};

struct ol_symlink {
    const char *namespace;
    const char *name;
    const char *type; /* may be NULL */
};

/* One input column feeding one output column (output_field NULL: the whole output dataset). */
struct ol_column_edge {
    const char *output_field;
    const char *input_namespace;
    const char *input_name;
    const char *input_field;
    const char *transformation_description; /* may be NULL */
    const char *transformation_type;        /* may be NULL */
    const struct json_value *transformations; /* the transformations array, or NULL */
};

struct ol_dataset {
    enum ol_io io;
    const char *namespace;
    const char *name;
    const char *source_name; /* dataSource.name, else "default" */
    const char *source_uri;  /* dataSource.uri, else "" */
    const char *description; /* documentation.description, or NULL */
    const char *lifecycle_state;
    bool has_schema;
    struct ol_field *fields;
    size_t n_fields;
    struct ol_symlink *symlinks;
    size_t n_symlinks;
    struct ol_facet *facets;
    size_t n_facets;
    struct ol_facet *io_facets; /* inputFacets or outputFacets */
    size_t n_io_facets;
    struct ol_column_edge *columns;
    size_t n_columns;
    const char *producer_version; /* the version the producer named (version facet), or NULL */
    char version[37]; /* dataset version UUID for this appearance ("" if none) */
};

struct ol_event {
    enum ol_kind kind;
    const char *event_type; /* upper case as sent, NULL if absent */
    enum run_state state;
    int64_t event_time;     /* microseconds since the epoch, UTC */
    const char *producer;
    const char *schema_url; /* may be NULL for RunEvents */

    char run_uuid[37];      /* "" unless RunEvent */
    const char *job_namespace;
    const char *job_name;   /* fully qualified (parent prefix applied) */
    const char *job_simple_name;
    const char *job_type;   /* BATCH or STREAM */
    const char *job_description;
    const char *job_location;

    bool has_parent;
    bool parent_job_self;   /* the parent facet names this very job: no parent job link */
    char parent_run_uuid[37];
    const char *parent_job_namespace;
    const char *parent_job_name;

    bool has_nominal_start, has_nominal_end;
    int64_t nominal_start, nominal_end;

    struct ol_facet *run_facets;
    size_t n_run_facets;
    struct ol_facet *job_facets;
    size_t n_job_facets;
    struct ol_dataset *datasets;
    size_t n_datasets;

    const char *body;        /* canonical JSON of the whole event */
    size_t body_len;
    unsigned char hash[32];  /* SHA-256 of body: the idempotency key (ol_event_hash) */
};

struct err;

/* Names for logs and SQL ("RUN_EVENT", "COMPLETED", ...). */
const char *ol_kind_name(enum ol_kind k);
const char *run_state_name(enum run_state s);
bool run_state_is_terminal(enum run_state s);

/* Sets ev->hash to the SHA-256 of ev->body. Returns 0, or -1 with e set (ERR_INTERNAL) when libcrypto
 * cannot hash: the event then has no identity and must not be stored. */
int ol_event_hash(struct ol_event *ev, struct err *e);

#endif
