/* tests/unit/collector/test_decode_dataset.c - what collector/decode_dataset.c makes of a dataset: the
 * column-lineage edges it keeps (only from the event's inputs, never a new dataset), transformation
 * descriptions, versions the producer names (the `version` facet), and the symlink that joins datasets
 * with equal dataSource.uri when the URI names data (decode_dataset.c invariant 5).
 *
 * Invariants: events are written inline, so each test shows the JSON it is about; tests go through
 * collector/decode.h and common/event.h only. Ownership: each test owns one arena. Threads: one. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "arena.h"
#include "decode.h"
#include "err.h"
#include "event.h"
#include "json.h"

enum { MAX_DEPTH = 64 };

static int setup(void **state)
{
    *state = arena_new();
    return 0;
}

static int teardown(void **state)
{
    arena_free(*state);
    return 0;
}

static void decode_ok(struct arena *a, const char *json, struct ol_event *ev)
{
    struct decode_violations viol = {0};
    struct err e;
    const struct json_value *v = json_parse(a, json, strlen(json), MAX_DEPTH, &e);

    if (v == NULL)
        fail_msg("does not parse: %s", e.msg);
    if (decode_event(a, v, NULL, NULL, ev, &viol) != 0)
        fail_msg("rejected (%zu violations), first: %s", viol.n, viol.n ? viol.msgs[0] : "(none)");
}

static const struct ol_dataset *find_ds(const struct ol_event *ev, const char *ns, const char *name)
{
    for (size_t i = 0; i < ev->n_datasets; i++)
        if (strcmp(ev->datasets[i].namespace, ns) == 0 && strcmp(ev->datasets[i].name, name) == 0)
            return &ev->datasets[i];
    fail_msg("dataset %s %s not decoded", ns, name);
    return NULL;
}

static void test_column_lineage_transformation_description_from_transformations(void **state)
{
    struct ol_event ev;

    decode_ok(
        *state,
        "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\",\"run\":{\"runId\":\"r\"},"
        "\"job\":{\"namespace\":\"n\",\"name\":\"j\"},\"inputs\":[{\"namespace\":\"n\",\"name\":\"raw\"}],"
        "\"outputs\":[{\"namespace\":\"n\",\"name\":\"feat\",\"facets\":{\"columnLineage\":{\"fields\":{"
        "\"age_bucket\":{\"inputFields\":[{\"namespace\":\"n\",\"name\":\"raw\",\"field\":\"age\","
        "\"transformations\":[{\"type\":\"DIRECT\",\"description\":\"bucketing by decade\"}]}]},"
        "\"pc1\":{\"transformationDescription\":\"PCA\",\"inputFields\":[{\"namespace\":\"n\","
        "\"name\":\"raw\",\"field\":\"x\",\"transformations\":[{\"type\":\"DIRECT\",\"subtype\":"
        "\"TRANSFORMATION\",\"description\":\"ignored: the legacy member wins\"}]}]}}}}}]}",
        &ev);
    const struct ol_dataset *o = find_ds(&ev, "n", "feat");
    assert_int_equal(o->n_columns, 2);
    for (size_t k = 0; k < 2; k++) {
        const struct ol_column_edge *c = &o->columns[k];
        bool bucket = strcmp(c->output_field, "age_bucket") == 0;
        assert_string_equal(c->transformation_description, bucket ? "bucketing by decade" : "PCA");
        assert_string_equal(c->transformation_type, bucket ? "DIRECT" : "TRANSFORMATION");
    }
}

/* Names of the output fields (in order) of the column edges of dataset (ns, name), joined by ','. */
static const char *column_keys(struct arena *a, const struct ol_event *ev, const char *ns, const char *name)
{
    const struct ol_dataset *d = find_ds(ev, ns, name);
    char *out = arena_strdup(a, "");

    for (size_t k = 0; d != NULL && k < d->n_columns; k++)
        out = arena_printf(a, "%s%s%s<-%s.%s", out, k ? "," : "",
                           d->columns[k].output_field ? d->columns[k].output_field : "*",
                           d->columns[k].input_name, d->columns[k].input_field);
    return out;
}

static void test_column_lineage_keeps_only_fields_of_the_events_inputs(void **state)
{
    struct ol_event ev;

    decode_ok(*state,
              "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\",\"run\":{\"runId\":\"r\"},"
              "\"job\":{\"namespace\":\"n\",\"name\":\"j\"},\"inputs\":[{\"namespace\":\"n\",\"name\":\"i\"},"
              "{\"namespace\":\"n\",\"name\":\"s\",\"facets\":{\"schema\":{\"fields\":[{\"name\":\"id\"}]},"
              "\"columnLineage\":{\"fields\":{\"id\":{\"inputFields\":[{\"namespace\":\"n\",\"name\":\"i\","
              "\"field\":\"q\"}]}}}}}],"
              "\"outputs\":[{\"namespace\":\"n\",\"name\":\"o\",\"facets\":{\"columnLineage\":{\"fields\":{"
              "\"a\":{\"inputFields\":[{\"namespace\":\"n\",\"name\":\"i\",\"field\":\"a\"},"
              "{\"namespace\":\"db\",\"name\":\"hidden\",\"field\":\"x\"}]},"
              "\"b\":{\"inputFields\":[{\"namespace\":\"n\",\"name\":\"o\",\"field\":\"a\"},"
              "{\"namespace\":\"n\",\"name\":\"s\",\"field\":\"id\"},{\"namespace\":\"n\",\"name\":\"s\","
              "\"field\":\"nope\"}]}},"
              "\"dataset\":[{\"namespace\":\"db\",\"name\":\"hidden\",\"field\":\"y\"},"
              "{\"namespace\":\"n\",\"name\":\"i\",\"field\":\"k\"}]}}},"
              "{\"namespace\":\"n\",\"name\":\"p\",\"facets\":{\"schema\":{\"fields\":[{\"name\":\"kept\"}]},"
              "\"columnLineage\":{\"fields\":{\"kept\":{\"inputFields\":[{\"namespace\":\"n\",\"name\":\"i\","
              "\"field\":\"z\"}]},"
              "\"gone\":{\"inputFields\":[{\"namespace\":\"n\",\"name\":\"i\",\"field\":\"z\"}]}}}}}]}",
              &ev);
    assert_int_equal(ev.n_datasets, 4); /* no dataset for db:hidden */
    for (size_t i = 0; i < ev.n_datasets; i++)
        assert_string_not_equal(ev.datasets[i].name, "hidden");
    /* not an input (db:hidden, the output o itself), not in the input's schema (s.nope): dropped */
    assert_string_equal(column_keys(*state, &ev, "n", "o"), "a<-i.a,b<-s.id,*<-i.k");
    /* an output field missing from the output's schema: dropped */
    assert_string_equal(column_keys(*state, &ev, "n", "p"), "kept<-i.z");
    /* column lineage on an input: Marquez reads it on outputs only */
    assert_string_equal(column_keys(*state, &ev, "n", "s"), "");
}

static void test_dataset_event_has_no_column_edges(void **state)
{
    struct ol_event ev;

    decode_ok(*state,
              "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\",\"schemaURL\":\"https://x\","
              "\"dataset\":{\"namespace\":\"n\",\"name\":\"v\",\"facets\":{\"columnLineage\":{\"fields\":{"
              "\"a\":{\"inputFields\":[{\"namespace\":\"n\",\"name\":\"t\",\"field\":\"a\"}]}}}}}}",
              &ev);
    assert_int_equal(ev.kind, OL_DATASET_EVENT);
    assert_int_equal(ev.n_datasets, 1);
    assert_int_equal(ev.datasets[0].n_columns, 0);
    assert_int_equal(ev.datasets[0].n_facets, 1); /* the facet itself is kept */
}

/* A RunEvent of run `run` with `inputs` and `outputs` (JSON array members) as text, in the arena. */
static const char *run_event(struct arena *a, const char *run, const char *inputs, const char *outputs)
{
    return arena_printf(
        a,
        "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\",\"run\":{\"runId\":\"%s\"},"
        "\"job\":{\"namespace\":\"n\",\"name\":\"j\"},\"inputs\":[%s],\"outputs\":[%s]}",
        run, inputs, outputs);
}

static void test_named_version_is_the_same_for_its_writer_and_readers(void **state)
{
    struct arena *a = *state;
    struct ol_event w, r1, r2, r3;
    const char *named =
        "{\"namespace\":\"s3://d\",\"name\":\"t\",\"facets\":{\"version\":{\"datasetVersion\":"
        "\"5f363e0e\"}}}";

    decode_ok(a, run_event(a, "writer", "", named), &w);
    decode_ok(a, run_event(a, "reader1", named, ""), &r1); /* dataset facet on the input */
    decode_ok(
        a,
        run_event(
            a, "reader2",
            "{\"namespace\":\"s3://d\",\"name\":\"t\",\"inputFacets\":{\"version\":"
            "{\"datasetVersion\":\"5f363e0e\"}},\"facets\":{\"version\":{\"datasetVersion\":\"other\"}}}",
            ""),
        &r2); /* the input facet wins: it is what this run read */
    decode_ok(a, run_event(a, "reader3", "{\"namespace\":\"s3://d\",\"name\":\"t\"}", ""), &r3);
    assert_string_equal(w.datasets[0].producer_version, "5f363e0e");
    assert_string_equal(r2.datasets[0].producer_version, "5f363e0e");
    assert_string_equal(w.datasets[0].version, r1.datasets[0].version);
    assert_string_equal(w.datasets[0].version, r2.datasets[0].version);
    assert_null(r3.datasets[0].producer_version);
    assert_string_not_equal(r3.datasets[0].version, w.datasets[0].version); /* Marquez's, per run */
}

static void test_named_version_may_be_a_number_and_not_an_object(void **state)
{
    struct arena *a = *state;
    struct ol_event ev;

    decode_ok(a,
              run_event(a, "r", "",
                        "{\"namespace\":\"d\",\"name\":\"delta\",\"outputFacets\":{\"version\":"
                        "{\"datasetVersion\":17}}},{\"namespace\":\"d\",\"name\":\"x\",\"facets\":"
                        "{\"version\":{\"datasetVersion\":{\"v\":1}}}},{\"namespace\":\"d\",\"name\":"
                        "\"y\",\"facets\":{\"version\":{\"_deleted\":true}}}"),
              &ev);
    assert_string_equal(find_ds(&ev, "d", "delta")->producer_version, "17");
    assert_null(find_ds(&ev, "d", "x")->producer_version);
    assert_null(find_ds(&ev, "d", "y")->producer_version);
}

/* An event with one output (ns, name) carrying dataSource.uri and, when extra is not empty, more facets. */
static void decode_with_uri(struct arena *a, const char *ns, const char *name, const char *uri,
                            const char *extra, struct ol_event *ev)
{
    const char *json = arena_printf(
        a,
        "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\",\"run\":{\"runId\":\"r\"},"
        "\"job\":{\"namespace\":\"n\",\"name\":\"j\"},\"outputs\":[{\"namespace\":\"%s\",\"name\":\"%s\","
        "\"facets\":{\"dataSource\":{\"name\":\"src\",\"uri\":\"%s\"}%s}}]}",
        ns, name, uri, extra);
    decode_ok(a, json, ev);
}

static void test_feast_data_source_joins_by_its_uri(void **state)
{
    struct ol_event ev;

    decode_with_uri(*state, "credit", "customer_source", "s3://lake/raw/customers.parquet",
                    ",\"feast_dataSource\":{\"name\":\"customer_source\",\"source_type\":\"FileSource\"}",
                    &ev);
    const struct ol_dataset *o = find_ds(&ev, "credit", "customer_source");
    assert_int_equal(o->n_symlinks, 1);
    assert_string_equal(o->symlinks[0].namespace, "dataSource.uri");
    assert_string_equal(o->symlinks[0].name, "s3://lake/raw/customers.parquet");
}

static void test_dataset_named_in_its_uri_joins_by_it(void **state)
{
    struct ol_event ev;

    decode_with_uri(*state, "raw_data", "customers", "s3://lake/raw/customers.parquet", "", &ev);
    const struct ol_dataset *o = find_ds(&ev, "raw_data", "customers");
    assert_int_equal(o->n_symlinks, 1);
    assert_string_equal(o->symlinks[0].name, "s3://lake/raw/customers.parquet");
}

/* What Spark, dbt and Hive send: the database or bucket, shared by every table in it. */
static void test_uri_of_a_source_joins_nothing(void **state)
{
    static const char *const cases[][3] = {
        {"file", "/tmp/cll_test/tbl1", "file"},
        {"postgres://postgres:5432", "postgres.public.orders", "postgres://postgres:5432"},
        {"hdfs://m", "/user/hive/warehouse/t1", "hdfs://m"},
        {"bigquery", "bigquery", "bigquery"},                     /* the namespace itself */
        {"s3://lake", "cust", "s3://lake/raw/customers.parquet"}, /* a part of a word is no name */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ol_event ev;
        decode_with_uri(*state, cases[i][0], cases[i][1], cases[i][2], "", &ev);
        assert_int_equal(find_ds(&ev, cases[i][0], cases[i][1])->n_symlinks, 0);
    }
}

/* The join comes after the dataset's own symlinks, which stay as sent. */
static void test_uri_join_keeps_the_symlinks_facet(void **state)
{
    struct ol_event ev;

    decode_with_uri(
        *state, "feast", "online_store_fv", "redis://feast/fv",
        ",\"feast_onlineStore\":{\"feature_view\":\"fv\",\"store_type\":\"redis\"},"
        "\"symlinks\":{\"identifiers\":[{\"namespace\":\"redis\",\"name\":\"fv\",\"type\":\"TABLE\"}]}",
        &ev);
    const struct ol_dataset *o = find_ds(&ev, "feast", "online_store_fv");
    assert_int_equal(o->n_symlinks, 2);
    assert_string_equal(o->symlinks[0].name, "fv");
    assert_string_equal(o->symlinks[1].namespace, "dataSource.uri");
    assert_string_equal(o->symlinks[1].name, "redis://feast/fv");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_column_lineage_keeps_only_fields_of_the_events_inputs, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dataset_event_has_no_column_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_column_lineage_transformation_description_from_transformations,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_named_version_is_the_same_for_its_writer_and_readers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_feast_data_source_joins_by_its_uri, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dataset_named_in_its_uri_joins_by_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uri_of_a_source_joins_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uri_join_keeps_the_symlinks_facet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_named_version_may_be_a_number_and_not_an_object, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
