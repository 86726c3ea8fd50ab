/* server/ml_model_event.c - the OpenLineage RunEvent publish-model sends for a parsed model file.
 *
 * The event (one COMPLETE RunEvent):
 *   run      runId = a name-based UUID of the model version; executionParameters = the hyperparameters
 *   job      {model namespace, "publish_model.<model name>"}; jobType; sourceCodeLocation when known
 *   inputs   each table the features read, with the columns read in the input facet lineaged_columnsRead
 *            (not a schema facet: that would replace the table's own schema with these few columns)
 *   outputs  the model {model namespace, model name}: datasetType MODEL/REGISTERED, version (the
 *            file's hash), schema (one field per feature), columnLineage (feature <- columns, with the
 *            feature algorithm as the transformation, both the `transformations` list and the older
 *            transformationDescription/transformationType), documentation, ownership, tags, and the
 *            custom facet lineaged_mlModel (algorithm, target, service, server, mlStore)
 * Invariants:
 *  1. Keys are written in one fixed order and lists in the model's order (tables and columns sorted),
 *     so equal arguments give byte-equal text (ml_model.h invariant 3).
 *  2. Optional members are left out when the file has no value for them (never written as null).
 * Ownership: arena. Threads: no shared state. */
#include "ml_model.h"

#include <stdio.h>
#include <string.h>

#include "json.h"
#include "uuid.h"

static const char PRODUCER[] = "urn:lineaged:publish-model";
static const char SPEC[] = "https://openlineage.io/spec/";
static const char RUN_EVENT_SCHEMA[] = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
static const char CUSTOM_DATASET_FACET[] =
    "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetFacet";
static const char CUSTOM_INPUT_FACET[] =
    "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/InputDatasetFacet";
static const char RUN_ID_PREFIX[] = "urn:lineaged:publish-model:";
static const char JOB_PREFIX[] = "publish_model.";

/* Writes `"key": {"_producer": ..., "_schemaURL": ...` and leaves the facet object open. facet is the
 * spec's file name and version ("1-2-0/SchemaDatasetFacet"); NULL for a custom dataset facet. */
static void open_facet(yajl_gen g, const char *key, const char *facet)
{
    char url[200];
    const char *name = facet != NULL ? strchr(facet, '/') + 1 : NULL;

    if (facet != NULL)
        snprintf(url, sizeof url, "%sfacets/%s.json#/$defs/%s", SPEC, facet, name);
    json_gen_key(g, key);
    yajl_gen_map_open(g);
    json_gen_key(g, "_producer");
    json_gen_str(g, PRODUCER);
    json_gen_key(g, "_schemaURL");
    json_gen_str(g, facet != NULL ? url : CUSTOM_DATASET_FACET);
}

/* `"key": "value"` when value is not NULL. */
static void member(yajl_gen g, const char *key, const char *value)
{
    if (value == NULL)
        return;
    json_gen_key(g, key);
    json_gen_str(g, value);
}

static void write_run(yajl_gen g, const struct ml_model *m)
{
    char run_id[UUID_STR_MAX];

    ml_model_run_id(m, run_id);
    json_gen_key(g, "run");
    yajl_gen_map_open(g);
    member(g, "runId", run_id);
    if (m->n_params > 0) {
        json_gen_key(g, "facets");
        yajl_gen_map_open(g);
        open_facet(g, "executionParameters", "1-0-0/ExecutionParametersRunFacet");
        json_gen_key(g, "parameters");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < m->n_params; i++) {
            yajl_gen_map_open(g);
            member(g, "key", m->params[i].name);
            member(g, "value", m->params[i].value);
            member(g, "description", m->params[i].description);
            yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
        yajl_gen_map_close(g);
    }
    yajl_gen_map_close(g);
}

static void write_job(yajl_gen g, struct arena *a, const struct ml_model *m,
                      const struct ml_code_location *loc)
{
    json_gen_key(g, "job");
    yajl_gen_map_open(g);
    member(g, "namespace", m->ns);
    member(g, "name", arena_printf(a, "%s%s", JOB_PREFIX, m->name));
    json_gen_key(g, "facets");
    yajl_gen_map_open(g);
    open_facet(g, "jobType", "2-0-4/JobTypeJobFacet");
    member(g, "processingType", "BATCH");
    member(g, "integration", "LINEAGED");
    member(g, "jobType", "MODEL_PUBLISH");
    yajl_gen_map_close(g);
    if (loc != NULL && loc->type != NULL) {
        open_facet(g, "sourceCodeLocation", "1-1-0/SourceCodeLocationJobFacet");
        member(g, "type", loc->type);
        member(g, "url", loc->url);
        member(g, "repoUrl", loc->repo_url);
        member(g, "path", loc->path);
        member(g, "version", loc->version);
        yajl_gen_map_close(g);
    }
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
}

/* Each source table with the columns the features read, in an input facet of this run (lineaged_columnsRead):
 * never a schema facet, which would replace the table's own schema, as written by its producer, with the
 * few columns a model happens to use. */
static void write_inputs(yajl_gen g, const struct ml_model *m)
{
    json_gen_key(g, "inputs");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < m->n_tables; i++) {
        const struct ml_table *t = &m->tables[i];
        yajl_gen_map_open(g);
        member(g, "namespace", t->ns);
        member(g, "name", t->name);
        json_gen_key(g, "inputFacets");
        yajl_gen_map_open(g);
        json_gen_key(g, "lineaged_columnsRead");
        yajl_gen_map_open(g);
        member(g, "_producer", PRODUCER);
        member(g, "_schemaURL", CUSTOM_INPUT_FACET);
        json_gen_key(g, "fields");
        yajl_gen_array_open(g);
        for (size_t j = 0; j < t->n_columns; j++) {
            yajl_gen_map_open(g);
            member(g, "name", t->columns[j].name);
            member(g, "type", t->columns[j].data_type);
            yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
        yajl_gen_map_close(g);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
}

static void write_features_schema(yajl_gen g, const struct ml_model *m)
{
    open_facet(g, "schema", "1-2-0/SchemaDatasetFacet");
    json_gen_key(g, "fields");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < m->n_features; i++) {
        yajl_gen_map_open(g);
        member(g, "name", m->features[i].name);
        member(g, "type", m->features[i].data_type);
        member(g, "description", m->features[i].description);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
}

/* One input field of a feature; the algorithm (or its absence: identity) is its transformation. */
static void write_input_field(yajl_gen g, const struct ml_source *s, const char *algorithm)
{
    yajl_gen_map_open(g);
    member(g, "namespace", s->ns);
    member(g, "name", s->table);
    member(g, "field", s->column);
    json_gen_key(g, "transformations");
    yajl_gen_array_open(g);
    yajl_gen_map_open(g);
    member(g, "type", "DIRECT");
    member(g, "subtype", algorithm != NULL ? "TRANSFORMATION" : "IDENTITY");
    member(g, "description", algorithm);
    json_gen_key(g, "masking");
    yajl_gen_bool(g, 0);
    yajl_gen_map_close(g);
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
}

static void write_column_lineage(yajl_gen g, const struct ml_model *m)
{
    open_facet(g, "columnLineage", "1-2-0/ColumnLineageDatasetFacet");
    json_gen_key(g, "fields");
    yajl_gen_map_open(g);
    for (size_t i = 0; i < m->n_features; i++) {
        const struct ml_feature *f = &m->features[i];
        if (f->n_sources == 0)
            continue;
        json_gen_key(g, f->name);
        yajl_gen_map_open(g);
        json_gen_key(g, "inputFields");
        yajl_gen_array_open(g);
        for (size_t j = 0; j < f->n_sources; j++)
            write_input_field(g, &f->sources[j], f->algorithm);
        yajl_gen_array_close(g);
        member(g, "transformationDescription", f->algorithm);
        member(g, "transformationType", f->algorithm != NULL ? "TRANSFORMATION" : "IDENTITY");
        yajl_gen_map_close(g);
    }
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
}

static void write_tag(yajl_gen g, const struct ml_tag *t, const char *field)
{
    yajl_gen_map_open(g);
    member(g, "key", t->key);
    member(g, "value", t->value);
    member(g, "source", t->source);
    member(g, "field", field);
    yajl_gen_map_close(g);
}

/* documentation, ownership and tags (model tags, then each feature's with its field). */
static void write_descriptive(yajl_gen g, const struct ml_model *m)
{
    size_t n_tags = m->n_tags;

    if (m->description != NULL) {
        open_facet(g, "documentation", "1-1-0/DocumentationDatasetFacet");
        member(g, "description", m->description);
        yajl_gen_map_close(g);
    }
    if (m->n_owners > 0) {
        open_facet(g, "ownership", "1-0-1/OwnershipDatasetFacet");
        json_gen_key(g, "owners");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < m->n_owners; i++) {
            yajl_gen_map_open(g);
            member(g, "name", m->owners[i].name);
            yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
        yajl_gen_map_close(g);
    }
    for (size_t i = 0; i < m->n_features; i++)
        n_tags += m->features[i].n_tags;
    if (n_tags == 0)
        return;
    open_facet(g, "tags", "1-0-0/TagsDatasetFacet");
    json_gen_key(g, "tags");
    yajl_gen_array_open(g);
    for (size_t i = 0; i < m->n_tags; i++)
        write_tag(g, &m->tags[i], NULL);
    for (size_t i = 0; i < m->n_features; i++)
        for (size_t j = 0; j < m->features[i].n_tags; j++)
            write_tag(g, &m->features[i].tags[j], m->features[i].name);
    yajl_gen_array_close(g);
    yajl_gen_map_close(g);
}

static void write_model_facet(yajl_gen g, const struct ml_model *m)
{
    open_facet(g, "lineaged_mlModel", NULL);
    member(g, "algorithm", m->algorithm);
    member(g, "target", m->target);
    member(g, "service", m->service);
    member(g, "server", m->server);
    if (m->storage != NULL || m->image != NULL) {
        json_gen_key(g, "mlStore");
        yajl_gen_map_open(g);
        member(g, "storage", m->storage);
        member(g, "imageRepository", m->image);
        yajl_gen_map_close(g);
    }
    yajl_gen_map_close(g);
}

static void write_output(yajl_gen g, const struct ml_model *m)
{
    json_gen_key(g, "outputs");
    yajl_gen_array_open(g);
    yajl_gen_map_open(g);
    member(g, "namespace", m->ns);
    member(g, "name", m->name);
    json_gen_key(g, "facets");
    yajl_gen_map_open(g);
    open_facet(g, "datasetType", "1-0-1/DatasetTypeDatasetFacet");
    member(g, "datasetType", "MODEL");
    member(g, "subType", "REGISTERED");
    yajl_gen_map_close(g);
    open_facet(g, "version", "1-0-1/DatasetVersionDatasetFacet");
    member(g, "datasetVersion", m->version);
    yajl_gen_map_close(g);
    write_features_schema(g, m);
    write_column_lineage(g, m);
    write_descriptive(g, m);
    write_model_facet(g, m);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
    yajl_gen_array_close(g);
}

void ml_model_run_id(const struct ml_model *m, char out[37])
{
    struct uuid ns, id;
    char name[sizeof RUN_ID_PREFIX + ML_MODEL_VERSION_LEN];

    snprintf(name, sizeof name, "%s%s", RUN_ID_PREFIX, m->version);
    uuid_namespace_url(&ns);
    uuid_name_v3_ns(&ns, name, strlen(name), &id);
    uuid_to_string(&id, out);
}

char *ml_model_event(struct arena *a, const struct ml_model *m, const char *event_time,
                     const struct ml_code_location *loc, size_t *len_out)
{
    yajl_gen g = json_gen_new();

    yajl_gen_map_open(g);
    member(g, "eventType", "COMPLETE");
    member(g, "eventTime", event_time);
    member(g, "producer", PRODUCER);
    member(g, "schemaURL", RUN_EVENT_SCHEMA);
    write_run(g, m);
    write_job(g, a, m, loc);
    write_inputs(g, m);
    write_output(g, m);
    yajl_gen_map_close(g);
    return json_gen_finish(g, a, len_out);
}
