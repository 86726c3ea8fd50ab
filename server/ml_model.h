/* server/ml_model.h - an ML model's metadata file (OpenMetadata MlModel YAML plus a `services:` map) and
 * the one OpenLineage RunEvent that `lineaged publish-model` sends for it.
 *
 * Two pure steps, no I/O (server/publish_model.c does the file and the network):
 *   ml_model_parse   YAML text -> struct ml_model, every field checked, or the first problem with its line
 *   ml_model_event   struct ml_model + event time + code location -> the event's JSON text
 * Invariants:
 *  1. ml_model_parse either fills the whole model or fails: there is no partial model to publish.
 *  2. model->version is the SHA-256 (hex) of the normalised document: maps with keys sorted, scalars as
 *     their values, null members dropped. Comments, quoting, layout and key order do not change it.
 *  3. ml_model_event is a function of its arguments only: equal arguments give byte-equal JSON.
 *  4. Every table a feature reads has a namespace from `services:` and a name database.schema.table;
 *     a column listed twice for one table has one dataType.
 * Ownership: everything lives in the caller's arena. Threads: no shared state. */
#ifndef LINEAGED_ML_MODEL_H
#define LINEAGED_ML_MODEL_H

#include <stddef.h>

#include "arena.h"
#include "err.h"

enum { ML_MODEL_VERSION_LEN = 64 };

/* One column a feature is computed from: featureSources[] of a feature. */
struct ml_source {
    const char *column;      /* featureSources[].name */
    const char *data_type;   /* integer, number, string, array, date, timestamp, object or boolean */
    const char *description; /* NULL if none */
    const char *fqn;         /* service.database.schema.table as written */
    const char *ns;          /* OpenLineage namespace: services[service] */
    const char *table;       /* OpenLineage dataset name: database.schema.table */
    int line;                /* where the source starts in the file */
};

/* A column of an input table: the union of the feature sources that name it. */
struct ml_column {
    const char *name;
    const char *data_type; /* NULL if no source gave one */
};

/* An input table: every table some feature reads, with the columns read. */
struct ml_table {
    const char *ns;
    const char *name;
    const char *fqn;           /* as first written */
    int line;                  /* the first source naming it */
    struct ml_column *columns; /* sorted by name */
    size_t n_columns;
};

/* A tag (OpenMetadata tagFQN "Classification.Tag", or a plain string). */
struct ml_tag {
    const char *key;    /* the part before the last dot, or the whole tag */
    const char *value;  /* the part after the last dot, or "true" */
    const char *source; /* NULL if none */
};

struct ml_feature {
    const char *name;
    const char *data_type;   /* numerical or categorical */
    const char *description; /* NULL if none */
    const char *algorithm;   /* featureAlgorithm; NULL if none */
    struct ml_source *sources;
    size_t n_sources;
    struct ml_tag *tags;
    size_t n_tags;
    int line;
};

struct ml_param {
    const char *name;
    const char *value; /* NULL if none */
    const char *description;
};

struct ml_owner {
    const char *name; /* "type:name" when the file gives a type (user:jdoe, team:ml), else the name */
};

struct ml_model {
    const char *service; /* serviceName (or OpenMetadata's `service`) */
    const char *ns;      /* the model's namespace: services[service] if mapped, else service */
    const char *name;
    const char *description; /* NULL if none */
    const char *algorithm;
    const char *target;  /* NULL if none */
    const char *storage; /* mlStore.storage; NULL if none */
    const char *image;   /* mlStore.imageRepository; NULL if none */
    const char *server;  /* serving endpoint; NULL if none */
    struct ml_feature *features;
    size_t n_features;
    struct ml_param *params;
    size_t n_params;
    struct ml_owner *owners;
    size_t n_owners;
    struct ml_tag *tags;
    size_t n_tags;
    struct ml_table *tables; /* sorted by (namespace, name) */
    size_t n_tables;
    char version[ML_MODEL_VERSION_LEN + 1];
};

/* Where the model's code lives, from the CI environment (see ml_code_location_from_env). All NULL
 * (type NULL) when the environment names no repository. */
struct ml_code_location {
    const char *type; /* "git" */
    const char *url;  /* a browsable URL of the file, or the repository URL */
    const char *repo_url;
    const char *path;    /* the file's path in the repository; NULL if unknown */
    const char *version; /* the commit */
};

/* Parses the YAML text[0..len). Returns 0 and fills *m (in arena a), or -1 with e set (ERR_INVALID):
 * e->msg starts with "line N: " and names the field (`mlFeatures[1].dataType`) and the problem. */
int ml_model_parse(struct arena *a, const char *text, size_t len, struct ml_model *m, struct err *e);

/* The code location from CI variables, read through get (getenv, or a fake in tests), in this order:
 * GitHub Actions (GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_SHA), GitLab CI (CI_PROJECT_URL,
 * CI_COMMIT_SHA), then Jenkins-style GIT_URL and GIT_COMMIT. file is the model file as given on the
 * command line: a relative path is taken as its path in the repository. Cannot fail. */
void ml_code_location_from_env(struct arena *a, const char *(*get)(const char *name), const char *file,
                               struct ml_code_location *out);

/* The run id publish-model uses for a model version: a name-based UUID of the version hash, so the
 * same file always gives the same run. out has room for 37 bytes. */
void ml_model_run_id(const struct ml_model *m, char out[37]);

/* The event's JSON (one COMPLETE RunEvent, no whitespace), NUL-terminated in arena a; *len_out its
 * length. event_time is an ISO-8601 UTC time; loc may be NULL. Cannot fail. */
char *ml_model_event(struct arena *a, const struct ml_model *m, const char *event_time,
                     const struct ml_code_location *loc, size_t *len_out);

#endif
