/* tests/unit/collector/test_decode.c - OpenLineage event decoding and validation (collector/decode.c,
 * collector/decode_dataset.c) through collector/decode.h and common/event.h.
 *
 * Invariants:
 *  1. Every COMPLETE OpenLineage fixture and every Marquez fixture decodes; the fixtures are read
 *     from LINEAGED_SHARED_DIR with stdio, never copied into this file.
 *  2. Violation texts are compared exactly: they are what a client reads in the 422 body.
 *  3. Small events are written inline, so each test shows the JSON it is about.
 * Ownership: each test owns one arena (setup/teardown); the fixture walk uses one arena per file.
 * Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yajl/yajl_gen.h>

#include "arena.h"
#include "decode.h"
#include "err.h"
#include "event.h"
#include "json.h"
#include "uuid.h"

enum { MAX_DEPTH = 64 };

#define EVENTS_DIR LINEAGED_SHARED_DIR "/openlineage/events"
#define MARQUEZ_DIR LINEAGED_SHARED_DIR "/anchors/marquez/fixtures"

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

/* Reads a whole file into the arena (NUL-terminated). */
static char *read_file(struct arena *a, const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");

    if (f == NULL)
        fail_msg("cannot open %s", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *buf = arena_alloc(a, (size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static const struct json_value *parse_text(struct arena *a, const char *text, size_t len, int depth)
{
    struct err e;

    err_clear(&e);
    const struct json_value *v = json_parse(a, text, len, depth, &e);
    if (v == NULL)
        fail_msg("fixture does not parse: %s", e.msg);
    return v;
}

/* decode_event, then the pipeline's next step (ol_event_hash) for a valid event, as ingest does. */
static int decode_hashed(struct arena *a, const struct json_value *v, const char *prefix, struct ol_event *ev,
                         struct decode_violations *viol)
{
    struct err e;

    if (decode_event(a, v, prefix, NULL, ev, viol) != 0)
        return -1;
    if (ol_event_hash(ev, &e) != 0)
        fail_msg("ol_event_hash: %s", e.msg);
    return 0;
}

/* Decodes JSON text; returns decode_event's result, with violations in *viol. */
static int decode_text(struct arena *a, const char *json, const char *prefix, struct ol_event *ev,
                       struct decode_violations *viol)
{
    memset(viol, 0, sizeof *viol);
    return decode_hashed(a, parse_text(a, json, strlen(json), MAX_DEPTH), prefix, ev, viol);
}

static void decode_ok(struct arena *a, const char *json, struct ol_event *ev)
{
    struct decode_violations viol;

    if (decode_text(a, json, NULL, ev, &viol) != 0)
        fail_msg("rejected (%zu violations), first: %s", viol.n, viol.n ? viol.msgs[0] : "(none)");
    assert_int_equal(viol.n, 0);
}

static void decode_fixture(struct arena *a, const char *path, struct ol_event *ev)
{
    size_t len;
    const char *text = read_file(a, path, &len);
    struct decode_violations viol;

    memset(&viol, 0, sizeof viol);
    if (decode_hashed(a, parse_text(a, text, len, MAX_DEPTH), NULL, ev, &viol) != 0)
        fail_msg("%s rejected (%zu violations), first: %s", path, viol.n, viol.n ? viol.msgs[0] : "(none)");
}

/* Expects rejection with exactly the listed messages, in order (NULL-terminated list). */
static void assert_violations(struct arena *a, const char *json, const char *prefix, const char *const *want)
{
    struct ol_event ev;
    struct decode_violations viol;
    size_t n = 0;

    assert_int_equal(decode_text(a, json, prefix, &ev, &viol), -1);
    while (want[n] != NULL)
        n++;
    for (size_t i = 0; i < viol.n && i < n; i++)
        assert_string_equal(viol.msgs[i], want[i]);
    if (viol.n != n)
        fail_msg("%zu violations, want %zu; first: %s", viol.n, n, viol.n ? viol.msgs[0] : "(none)");
}

static const struct ol_dataset *find_ds(const struct ol_event *ev, const char *ns, const char *name)
{
    for (size_t i = 0; i < ev->n_datasets; i++)
        if (strcmp(ev->datasets[i].namespace, ns) == 0 && strcmp(ev->datasets[i].name, name) == 0)
            return &ev->datasets[i];
    fail_msg("dataset %s %s not decoded", ns, name);
    return NULL;
}

static const struct ol_facet *find_facet(const struct ol_facet *fs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(fs[i].name, name) == 0)
            return &fs[i];
    fail_msg("facet %s not decoded", name);
    return NULL;
}

static bool is_uuid(const char *s)
{
    struct uuid u;
    return uuid_from_string(s, &u);
}

/* Checks what decode.h promises for every accepted event. */
static void assert_event_complete(const char *what, const struct ol_event *ev)
{
    static const unsigned char zero[32];

    if (ev->producer == NULL || ev->producer[0] == '\0')
        fail_msg("%s: no producer", what);
    if (ev->body == NULL || ev->body_len == 0 || strcmp(ev->body, "null") == 0)
        fail_msg("%s: no canonical body", what);
    if (memcmp(ev->hash, zero, sizeof zero) == 0)
        fail_msg("%s: zero hash", what);
    if (ev->kind == OL_RUN_EVENT && !is_uuid(ev->run_uuid))
        fail_msg("%s: run_uuid \"%s\"", what, ev->run_uuid);
    if (ev->kind != OL_DATASET_EVENT) {
        if (ev->job_name == NULL || ev->job_name[0] == '\0' || ev->job_namespace == NULL)
            fail_msg("%s: no job name", what);
        if (ev->job_type == NULL)
            fail_msg("%s: no job type", what);
    } else if (ev->n_datasets != 1 || ev->datasets[0].io != OL_IO_STATIC) {
        fail_msg("%s: DatasetEvent with %zu datasets", what, ev->n_datasets);
    }
    if (ev->has_parent && !is_uuid(ev->parent_run_uuid))
        fail_msg("%s: parent_run_uuid \"%s\"", what, ev->parent_run_uuid);
    for (size_t i = 0; i < ev->n_datasets; i++) {
        const struct ol_dataset *d = &ev->datasets[i];
        if (d->namespace == NULL || d->name == NULL || d->namespace[0] == '\0' || d->name[0] == '\0')
            fail_msg("%s: dataset %zu has no name", what, i);
        if (d->source_name == NULL || d->source_uri == NULL)
            fail_msg("%s: dataset %s has no source", what, d->name);
        if (!is_uuid(d->version))
            fail_msg("%s: dataset %s version \"%s\"", what, d->name, d->version);
    }
}

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* The fixture files that are not COMPLETE events (see openlineage/README.md). */
static bool skipped_fixture(const char *name)
{
    static const char *const skip[] = {"proxy__invalid_", "spark__serde_", "flink__",
                                       "dbt__",           "hive__",        "spec__facet_fragment_"};

    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (has_prefix(name, skip[i]))
            return true;
    return false;
}

/* Decodes every .json file under dir (recursively, unless `flat`) that is not skipped; returns the count. */
static size_t decode_tree(const char *dir, bool flat)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t count = 0;
    char path[4096];

    if (d == NULL)
        fail_msg("cannot open %s", dir);
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        assert_int_equal(stat(path, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            if (!flat)
                count += decode_tree(path, flat);
            continue;
        }
        if (flat && (skipped_fixture(de->d_name) || strstr(de->d_name, ".json") == NULL))
            continue;
        struct arena *a = arena_new();
        struct ol_event ev;
        decode_fixture(a, path, &ev);
        assert_event_complete(path, &ev);
        arena_free(a);
        count++;
    }
    closedir(d);
    return count;
}

static void test_every_complete_openlineage_fixture_decodes(void **state)
{
    (void)state;
    /* 39 files, of which 11 are partial, fragments or invalid on purpose. */
    assert_true(decode_tree(EVENTS_DIR, true) >= 28);
}

static void test_every_marquez_fixture_decodes(void **state)
{
    (void)state;
    assert_true(decode_tree(MARQUEZ_DIR, false) >= 20);
}

static void test_kind_run_event_when_run_present(void **state)
{
    struct ol_event ev;

    decode_fixture(*state, EVENTS_DIR "/pyclient__run_event_start.json", &ev);
    assert_int_equal(ev.kind, OL_RUN_EVENT);
    assert_string_equal(ol_kind_name(ev.kind), "RUN_EVENT");
}

static void test_kind_job_event_when_only_job_present(void **state)
{
    struct ol_event ev;

    decode_fixture(*state, EVENTS_DIR "/pyclient__job_event.json", &ev);
    assert_int_equal(ev.kind, OL_JOB_EVENT);
    assert_string_equal(ev.run_uuid, "");
    assert_int_equal(ev.n_datasets, 2);
    assert_int_equal(ev.datasets[0].io, OL_IO_INPUT);
    assert_int_equal(ev.datasets[1].io, OL_IO_OUTPUT);
    decode_fixture(*state, MARQUEZ_DIR "/open_lineage/event_job_event.json", &ev);
    assert_int_equal(ev.kind, OL_JOB_EVENT);
}

static void test_kind_dataset_event_when_only_dataset_present(void **state)
{
    struct ol_event ev;

    decode_fixture(*state, EVENTS_DIR "/pyclient__dataset_event.json", &ev);
    assert_int_equal(ev.kind, OL_DATASET_EVENT);
    assert_int_equal(ev.n_datasets, 1);
    assert_int_equal(ev.datasets[0].io, OL_IO_STATIC);
    decode_fixture(*state, MARQUEZ_DIR "/open_lineage/event_dataset_event.json", &ev);
    assert_int_equal(ev.kind, OL_DATASET_EVENT);
    assert_string_equal(ev.datasets[0].name, "my-dataset-name");
    assert_int_equal(ev.datasets[0].n_fields, 1);
}

static void test_kind_run_event_wins_over_dataset_key(void **state)
{
    struct ol_event ev;

    decode_fixture(*state, EVENTS_DIR "/spec__example_full_event.json", &ev);
    assert_int_equal(ev.kind, OL_RUN_EVENT);
    assert_string_equal(ev.run_uuid, "f69a6e9b-9bac-3c9a-9cf6-eacb70ecc9a9");
    assert_string_equal(ev.job_name, "dbt");
    assert_int_equal(ev.n_datasets, 0); /* the stray "dataset" is not an input or output */
}

static void test_event_without_run_job_or_dataset_is_rejected(void **state)
{
    struct ol_event ev;
    struct decode_violations viol;

    assert_int_equal(
        decode_text(*state, "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\"}", NULL, &ev, &viol),
        -1);
    assert_int_equal(viol.n, 1);
    assert_non_null(strstr(viol.msgs[0], "RunEvent"));
    assert_int_equal(decode_text(*state, "[1]", "[0]", &ev, &viol), -1);
    assert_int_equal(viol.n, 1);
    assert_string_equal(viol.msgs[0], "[0] event must be a JSON object");
}

static void test_missing_run_id_is_exact_violation(void **state)
{
    size_t len;
    const char *text = read_file(*state, EVENTS_DIR "/proxy__invalid_event_no_run_id.json", &len);

    assert_violations(*state, text, NULL, (const char *const[]){"run.runId must not be null", NULL});
}

static void test_parent_facet_without_run_id_is_exact_violation(void **state)
{
    size_t len;
    const char *text = read_file(*state, EVENTS_DIR "/proxy__invalid_event_run_facet.json", &len);

    assert_violations(*state, text, NULL,
                      (const char *const[]){"run.facets.parent.run.runId must not be null", NULL});
}

static void test_violations_carry_array_prefix(void **state)
{
    size_t len;
    const char *text = read_file(*state, EVENTS_DIR "/proxy__invalid_event_no_run_id.json", &len);

    assert_violations(*state, text, "[3]", (const char *const[]){"[3].run.runId must not be null", NULL});
}

static void test_all_violations_listed_in_document_order(void **state)
{
    assert_violations(*state,
                      "{\"run\":{\"runId\":\"d41d8cd9-8f00-3204-a980-0998ecf8427e\"},"
                      "\"job\":{\"namespace\":\"n\",\"name\":\"j\"}}",
                      NULL,
                      (const char *const[]){"eventTime must not be null", "producer must not be null", NULL});
    assert_violations(*state,
                      "{\"eventTime\":\"yesterday\",\"producer\":5,\"run\":{},\"job\":{\"namespace\":\" \"},"
                      "\"inputs\":[{\"namespace\":\"n\"}]}",
                      "[1]",
                      (const char *const[]){"[1].eventTime \"yesterday\" is not an ISO-8601 date-time",
                                            "[1].producer must be a string", "[1].run.runId must not be null",
                                            "[1].job.namespace must not be blank",
                                            "[1].job.name must not be null",
                                            "[1].inputs[0].name must not be null", NULL});
}

static void test_dataset_and_job_events_need_schema_url(void **state)
{
    assert_violations(*state,
                      "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\","
                      "\"dataset\":{\"namespace\":\"n\",\"name\":\"d\"}}",
                      NULL, (const char *const[]){"schemaURL must not be null", NULL});
    assert_violations(*state,
                      "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\","
                      "\"job\":{\"namespace\":\"n\",\"name\":\"j\"}}",
                      NULL, (const char *const[]){"schemaURL must not be null", NULL});
}

static void test_non_uuid_run_id_maps_to_name_based_uuid(void **state)
{
    struct ol_event ev;

    decode_fixture(*state, EVENTS_DIR "/compat__simple_run_event_nonuuid_runid.json", &ev);
    assert_string_equal(ev.run_uuid, "0acf093b-3c88-3560-8dc6-22a33921d360");
}

static void test_uuid_run_id_kept_lower_case(void **state)
{
    struct ol_event ev;

    decode_ok(*state,
              "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\",\"run\":{\"runId\":"
              "\"D41D8CD9-8F00-3204-A980-0998ECF8427E\"},\"job\":{\"namespace\":\"n\",\"name\":\"j\"}}",
              &ev);
    assert_string_equal(ev.run_uuid, "d41d8cd9-8f00-3204-a980-0998ecf8427e");
}

/* A minimal RunEvent with the given eventType member ("" for none). */
static void decode_with_type(struct arena *a, const char *type_member, struct ol_event *ev)
{
    decode_ok(a,
              arena_printf(
                  a,
                  "{%s\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\",\"run\":{\"runId\":"
                  "\"d41d8cd9-8f00-3204-a980-0998ecf8427e\"},\"job\":{\"namespace\":\"n\",\"name\":\"j\"}}",
                  type_member),
              ev);
}

static void test_event_type_is_case_insensitive(void **state)
{
    struct ol_event ev;

    decode_with_type(*state, "\"eventType\":\"complete\",", &ev);
    assert_string_equal(ev.event_type, "COMPLETE");
    assert_int_equal(ev.state, RUN_STATE_COMPLETED);
    assert_string_equal(run_state_name(ev.state), "COMPLETED");
    assert_true(run_state_is_terminal(ev.state));
    decode_with_type(*state, "\"eventType\":\"Fail\",", &ev);
    assert_int_equal(ev.state, RUN_STATE_FAILED);
    decode_with_type(*state, "\"eventType\":\"aBoRt\",", &ev);
    assert_string_equal(ev.event_type, "ABORT");
    assert_int_equal(ev.state, RUN_STATE_ABORTED);
}

static void test_start_running_and_other_are_running(void **state)
{
    static const char *const types[] = {"START", "RUNNING", "OTHER", "start"};
    struct ol_event ev;

    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        decode_with_type(*state, arena_printf(*state, "\"eventType\":\"%s\",", types[i]), &ev);
        assert_int_equal(ev.state, RUN_STATE_RUNNING);
        assert_false(run_state_is_terminal(ev.state));
    }
}

static void test_missing_event_type_is_running_with_null_type(void **state)
{
    struct ol_event ev;

    decode_with_type(*state, "", &ev);
    assert_null(ev.event_type);
    assert_int_equal(ev.state, RUN_STATE_RUNNING);
    decode_with_type(*state, "\"eventType\":null,", &ev);
    assert_null(ev.event_type);
    assert_int_equal(ev.state, RUN_STATE_RUNNING);
}

static void test_non_string_event_type_is_violation(void **state)
{
    assert_violations(*state,
                      "{\"eventType\":1,\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\",\"run\":{"
                      "\"runId\":\"r\"},\"job\":{\"namespace\":\"n\",\"name\":\"j\"}}",
                      NULL, (const char *const[]){"eventType must be a string", NULL});
}

/* A RunEvent of job (ns, name) whose parent facet names job (pns, pname). */
static void decode_child(struct arena *a, const char *pns, const char *pname, const char *ns,
                         const char *name, struct ol_event *ev)
{
    decode_ok(
        a,
        arena_printf(a,
                     "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\",\"run\":{\"runId\":"
                     "\"d41d8cd9-8f00-3204-a980-0998ecf8427e\",\"facets\":{\"parent\":{\"run\":{\"runId\":"
                     "\"6ba7b811-9dad-11d1-80b4-00c04fd430c8\"},\"job\":{\"namespace\":\"%s\",\"name\":"
                     "\"%s\"}}}},\"job\":{\"namespace\":\"%s\",\"name\":\"%s\"}}",
                     pns, pname, ns, name),
        ev);
}

static void test_child_job_already_prefixed_keeps_name(void **state)
{
    struct ol_event ev;

    decode_child(*state, "n", "dag", "n", "dag.task", &ev);
    assert_true(ev.has_parent);
    assert_string_equal(ev.job_name, "dag.task");
    assert_string_equal(ev.job_simple_name, "task");
    assert_string_equal(ev.parent_job_name, "dag");
    assert_string_equal(ev.parent_job_namespace, "n");
    assert_string_equal(ev.parent_run_uuid, "6ba7b811-9dad-11d1-80b4-00c04fd430c8");
}

static void test_child_job_gets_parent_prefix(void **state)
{
    struct ol_event ev;

    decode_child(*state, "n", "dag", "n", "task", &ev);
    assert_string_equal(ev.job_name, "dag.task");
    assert_string_equal(ev.job_simple_name, "task");
}

static void test_child_job_prefix_needs_dot_boundary(void **state)
{
    struct ol_event ev;

    decode_child(*state, "n", "dag", "n", "dagger", &ev);
    assert_string_equal(ev.job_name, "dag.dagger");
    assert_string_equal(ev.job_simple_name, "dagger");
}

static void test_job_without_parent_keeps_name(void **state)
{
    struct ol_event ev;

    decode_fixture(*state, EVENTS_DIR "/airflow__dag_BQ_start.json", &ev);
    assert_false(ev.has_parent);
    assert_string_equal(ev.job_name, "BQ");
    assert_string_equal(ev.job_simple_name, "BQ");
}

static void test_airflow_task_named_under_its_dag(void **state)
{
    struct ol_event ev;

    decode_fixture(*state, EVENTS_DIR "/airflow__task_BQ.upload_start.json", &ev);
    assert_true(ev.has_parent);
    assert_string_equal(ev.parent_job_name, "BQ");
    assert_string_equal(ev.job_name, "BQ.upload");
    assert_string_equal(ev.job_simple_name, "upload");
    assert_string_equal(ev.parent_run_uuid, "01936893-9751-7a91-a2a0-a51101a3970c");
}

static void test_parent_naming_the_job_itself_is_not_a_hierarchy(void **state)
{
    struct ol_event ev;

    /* This fixture's parent facet names the event's own job ("myjob.mytask"). */
    decode_fixture(*state, EVENTS_DIR "/pyclient__example_full_event.json", &ev);
    assert_true(ev.has_parent);
    assert_true(ev.parent_job_self);
    assert_string_equal(ev.job_name, "myjob.mytask");
    assert_string_equal(ev.parent_run_uuid, "3f5e83fa-3480-44ff-99c5-ff943904e5e8");
    /* Same name in another namespace is a real parent. */
    decode_child(*state, "other", "j", "n", "j", &ev);
    assert_false(ev.parent_job_self);
    assert_string_equal(ev.job_name, "j.j");
}

static void test_deleted_facets_on_job_and_dataset_marked_deleted(void **state)
{
    struct ol_event ev;

    decode_ok(
        *state,
        "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\",\"run\":{\"runId\":\"r\",\"facets\":{"
        "\"custom\":{\"_deleted\":true}}},\"job\":{\"namespace\":\"n\",\"name\":\"j\",\"facets\":{"
        "\"documentation\":{\"_deleted\":true},\"sql\":{\"query\":\"select 1\",\"_deleted\":false}}},"
        "\"outputs\":[{\"namespace\":\"n\",\"name\":\"t\",\"facets\":{\"schema\":{\"_deleted\":true},"
        "\"ownership\":{\"owners\":[]}},\"outputFacets\":{\"outputStatistics\":{\"_deleted\":true}}}]}",
        &ev);
    const struct ol_facet *f = find_facet(ev.job_facets, ev.n_job_facets, "documentation");
    assert_true(f->deleted);
    assert_null(f->value);
    assert_null(ev.job_description);
    f = find_facet(ev.job_facets, ev.n_job_facets, "sql");
    assert_false(f->deleted);
    assert_non_null(f->value);
    const struct ol_dataset *d = find_ds(&ev, "n", "t");
    f = find_facet(d->facets, d->n_facets, "schema");
    assert_true(f->deleted);
    assert_null(f->value);
    assert_false(d->has_schema);
    assert_false(find_facet(d->facets, d->n_facets, "ownership")->deleted);
    /* Run facets and output facets are not deletable: _deleted is an ordinary member there. */
    f = find_facet(ev.run_facets, ev.n_run_facets, "custom");
    assert_false(f->deleted);
    assert_non_null(f->value);
    assert_true(json_is_true(json_get(f->value, "_deleted")));
    f = find_facet(d->io_facets, d->n_io_facets, "outputStatistics");
    assert_false(f->deleted);
    assert_non_null(f->value);
}

static void test_facet_names_unique_last_wins_and_null_skipped(void **state)
{
    struct ol_event ev;

    decode_ok(
        *state,
        "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\",\"run\":{\"runId\":\"r\",\"facets\":{"
        "\"a\":{\"v\":1},\"b\":null,\"a\":{\"v\":2}}},\"job\":{\"namespace\":\"n\",\"name\":\"j\"}}",
        &ev);
    assert_int_equal(ev.n_run_facets, 1);
    assert_string_equal(ev.run_facets[0].name, "a");
    assert_string_equal(json_get(ev.run_facets[0].value, "v")->u.str.text, "2");
}

/* Writes v with every object's members in reverse order, pretty-printed (yajl_gen). */
static void write_reversed(yajl_gen g, const struct json_value *v)
{
    switch (v->type) {
    case JSON_OBJECT:
        yajl_gen_map_open(g);
        for (size_t i = v->u.object.n; i > 0; i--) {
            yajl_gen_string(g, (const unsigned char *)v->u.object.keys[i - 1], v->u.object.key_lens[i - 1]);
            write_reversed(g, v->u.object.values[i - 1]);
        }
        yajl_gen_map_close(g);
        break;
    case JSON_ARRAY:
        yajl_gen_array_open(g);
        for (size_t i = 0; i < v->u.array.n; i++)
            write_reversed(g, v->u.array.items[i]);
        yajl_gen_array_close(g);
        break;
    default:
        json_write_canonical(g, v);
        break;
    }
}

static void test_reordered_members_give_same_body_and_hash(void **state)
{
    struct arena *a = *state;
    size_t len, rlen;
    const char *text = read_file(a, EVENTS_DIR "/spark__cll_05_ctas_start_columnLineage.json", &len);
    const struct json_value *v = parse_text(a, text, len, MAX_DEPTH);
    yajl_gen g = json_gen_new();
    struct ol_event x, y;
    struct decode_violations viol = {0};

    yajl_gen_config(g, yajl_gen_beautify, 1);
    write_reversed(g, v);
    const char *reversed = json_gen_finish(g, a, &rlen);
    assert_string_not_equal(reversed, text);
    assert_int_equal(decode_hashed(a, v, NULL, &x, &viol), 0);
    assert_int_equal(decode_hashed(a, parse_text(a, reversed, rlen, MAX_DEPTH), NULL, &y, &viol), 0);
    assert_int_equal(x.body_len, y.body_len);
    assert_memory_equal(x.body, y.body, x.body_len);
    assert_memory_equal(x.hash, y.hash, sizeof x.hash);
    assert_string_equal(x.run_uuid, y.run_uuid);
    assert_string_equal(x.datasets[2].version, y.datasets[2].version);
}

static void test_different_events_give_different_hashes(void **state)
{
    struct ol_event x, y;

    decode_with_type(*state, "\"eventType\":\"START\",", &x);
    decode_with_type(*state, "\"eventType\":\"COMPLETE\",", &y);
    assert_memory_not_equal(x.hash, y.hash, sizeof x.hash);
}

/* Events nested deeper than 127 levels are accepted when --max-json-depth allows it (up to 10000);
 * their bodies are the idempotency key, so two different deep events must not share one. */
static void test_deeply_nested_events_keep_distinct_bodies_and_hashes(void **state)
{
    struct arena *a = *state;
    struct ol_event ev[2];
    const int depth = JSON_MAX_DEPTH - 6; /* the event's own nesting adds 5 levels */

    for (int k = 0; k < 2; k++) {
        char *open = arena_alloc(a, (size_t)depth + 1), *close = arena_alloc(a, (size_t)depth + 1);
        memset(open, '[', (size_t)depth);
        memset(close, ']', (size_t)depth);
        open[depth] = close[depth] = '\0';
        const char *json = arena_printf(a,
                                        "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\",\"run\":{"
                                        "\"runId\":\"r\",\"facets\":{\"deep\":{\"x\":%s%d%s}}},\"job\":{"
                                        "\"namespace\":\"n\",\"name\":\"j\"}}",
                                        open, k, close);
        struct decode_violations viol = {0};
        assert_int_equal(decode_hashed(a, parse_text(a, json, strlen(json), 1000), NULL, &ev[k], &viol), 0);
        if (strcmp(ev[k].body, "null") == 0)
            fail_msg("event %d: canonical body is \"null\"", k);
    }
    assert_memory_not_equal(ev[0].hash, ev[1].hash, sizeof ev[0].hash);
}

static void test_schema_fields_decoded(void **state)
{
    struct ol_event ev;

    decode_fixture(*state, EVENTS_DIR "/spark__cll_05_ctas_start_columnLineage.json", &ev);
    const struct ol_dataset *d = find_ds(&ev, "file", "/tmp/cll_test/tbl1");
    assert_int_equal(d->io, OL_IO_OUTPUT);
    assert_true(d->has_schema);
    assert_int_equal(d->n_fields, 3);
    assert_string_equal(d->fields[0].name, "ident");
    assert_string_equal(d->fields[0].type, "integer");
    assert_null(d->fields[0].description);
    assert_string_equal(d->fields[1].name, "trans");
    assert_string_equal(d->fields[1].type, "string");
    assert_string_equal(d->fields[2].name, "agg");
    assert_string_equal(d->fields[2].type, "long");
    assert_string_equal(d->lifecycle_state, "CREATE");
}

static void test_schema_field_description_and_missing_type(void **state)
{
    struct ol_event ev;

    decode_ok(*state,
              "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\",\"schemaURL\":\"s\",\"dataset\":{"
              "\"namespace\":\"n\",\"name\":\"d\",\"facets\":{\"schema\":{\"fields\":[{\"name\":\"a\","
              "\"description\":\"the a\"},{\"name\":\"b\",\"type\":\"INT\"}]},\"documentation\":{"
              "\"description\":\"doc\"}}}}",
              &ev);
    const struct ol_dataset *d = &ev.datasets[0];
    assert_int_equal(d->n_fields, 2);
    assert_null(d->fields[0].type);
    assert_string_equal(d->fields[0].description, "the a");
    assert_string_equal(d->fields[1].type, "INT");
    assert_string_equal(d->description, "doc");
}

static void test_schema_field_without_name_is_violation(void **state)
{
    assert_violations(*state,
                      "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\",\"run\":{\"runId\":\"r\"},"
                      "\"job\":{\"namespace\":\"n\",\"name\":\"j\"},\"inputs\":[{\"namespace\":\"n\","
                      "\"name\":\"i\",\"facets\":{\"schema\":{\"fields\":[{\"type\":\"INT\"}]}}}]}",
                      NULL,
                      (const char *const[]){"inputs[0].facets.schema.fields[0].name must not be null", NULL});
}

static void test_symlinks_decoded(void **state)
{
    struct ol_event ev;

    decode_fixture(*state, EVENTS_DIR "/spark__cll_05_ctas_start_columnLineage.json", &ev);
    const struct ol_dataset *d = find_ds(&ev, "file", "/tmp/cll_test/tbl1");
    assert_int_equal(d->n_symlinks, 1);
    assert_string_equal(d->symlinks[0].namespace, "file:/tmp/cll_test");
    assert_string_equal(d->symlinks[0].name, "default.tbl1");
    assert_string_equal(d->symlinks[0].type, "TABLE");
}

static void test_data_source_decoded_with_defaults(void **state)
{
    struct ol_event ev;

    decode_fixture(*state, EVENTS_DIR "/spark__cll_05_ctas_start_columnLineage.json", &ev);
    const struct ol_dataset *d = find_ds(&ev, "file", "/tmp/cll_test/tbl1");
    assert_string_equal(d->source_name, "file");
    assert_string_equal(d->source_uri, "file");
    decode_fixture(*state, EVENTS_DIR "/compat__simple_run_event_nonuuid_runid.json", &ev);
    d = find_ds(&ev, "bigquery", "test.table.input");
    assert_string_equal(d->source_name, "default");
    assert_string_equal(d->source_uri, "");
    assert_false(d->has_schema);
    assert_null(d->lifecycle_state);
}

static void test_column_lineage_edges_decoded(void **state)
{
    struct ol_event ev;

    decode_fixture(*state, EVENTS_DIR "/spark__cll_05_ctas_start_columnLineage.json", &ev);
    const struct ol_dataset *d = find_ds(&ev, "file", "/tmp/cll_test/tbl1");
    /* ident: 3 inputs, trans: 3, agg: 4. */
    assert_int_equal(d->n_columns, 10);
    const struct ol_column_edge *agg_c = NULL;
    for (size_t i = 0; i < d->n_columns; i++) {
        const struct ol_column_edge *c = &d->columns[i];
        assert_string_equal(c->input_namespace, "file");
        assert_non_null(c->output_field);
        if (strcmp(c->output_field, "agg") == 0 && strcmp(c->input_field, "c") == 0)
            agg_c = c;
    }
    assert_non_null(agg_c);
    assert_string_equal(agg_c->input_name, "/tmp/cll_test/cll_source2");
    assert_non_null(agg_c->transformations);
    assert_int_equal(agg_c->transformations->u.array.n, 1);
    const struct json_value *t = agg_c->transformations->u.array.items[0];
    assert_string_equal(json_get_string(t, "type"), "DIRECT");
    assert_string_equal(json_get_string(t, "subtype"), "AGGREGATION");
    /* no legacy members: the type comes from the first transformation, its empty description does not */
    assert_null(agg_c->transformation_description);
    assert_string_equal(agg_c->transformation_type, "AGGREGATION");
    assert_int_equal(ev.n_datasets, 3);
}

static void test_column_lineage_legacy_transformation_fields(void **state)
{
    struct ol_event ev;

    decode_fixture(*state, EVENTS_DIR "/airflow__task_BQ.upload_complete_columnLineage.json", &ev);
    bool seen = false;
    for (size_t i = 0; i < ev.n_datasets; i++) {
        for (size_t k = 0; k < ev.datasets[i].n_columns; k++) {
            const struct ol_column_edge *c = &ev.datasets[i].columns[k];
            assert_string_equal(c->transformation_description, "identical");
            assert_string_equal(c->transformation_type, "IDENTITY");
            seen = true;
        }
    }
    assert_true(seen);
}

static void test_column_lineage_dataset_level_edges(void **state)
{
    struct ol_event ev;

    decode_ok(
        *state,
        "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\",\"run\":{\"runId\":\"r\"},"
        "\"job\":{\"namespace\":\"n\",\"name\":\"j\"},\"inputs\":[{\"namespace\":\"n\",\"name\":\"i\"}],"
        "\"outputs\":[{\"namespace\":\"n\",\"name\":\"o\",\"facets\":{\"columnLineage\":{\"fields\":{},"
        "\"dataset\":[{\"namespace\":\"n\",\"name\":\"i\",\"field\":\"k\",\"transformations\":[{"
        "\"type\":\"INDIRECT\",\"subtype\":\"FILTER\"}]}]}}}]}",
        &ev);
    const struct ol_dataset *o = find_ds(&ev, "n", "o");
    assert_int_equal(o->n_columns, 1);
    assert_null(o->columns[0].output_field);
    assert_string_equal(o->columns[0].input_field, "k");
}

static void test_column_lineage_input_without_field_is_violation(void **state)
{
    assert_violations(
        *state,
        "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\",\"run\":{\"runId\":\"r\"},"
        "\"job\":{\"namespace\":\"n\",\"name\":\"j\"},\"outputs\":[{\"namespace\":\"n\",\"name\":\"o\","
        "\"facets\":{\"columnLineage\":{\"fields\":{\"a\":{\"inputFields\":[{\"namespace\":\"n\","
        "\"name\":\"i\"}]}}}}}]}",
        NULL,
        (const char *const[]){
            "outputs[0].facets.columnLineage.fields.a.inputFields[0].field must not be null", NULL});
}

/* A RunEvent with run id `run`, one input and one output, both with a schema. */
static void decode_io_run(struct arena *a, const char *run, struct ol_event *ev)
{
    decode_ok(
        a,
        arena_printf(a,
                     "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\",\"run\":{\"runId\":\"%s\"},"
                     "\"job\":{\"namespace\":\"n\",\"name\":\"j\"},\"inputs\":[{\"namespace\":\"n\",\"name\":"
                     "\"in\",\"facets\":{\"schema\":{\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}}}],"
                     "\"outputs\":[{\"namespace\":\"n\",\"name\":\"out\",\"facets\":{\"schema\":{\"fields\":"
                     "[{\"name\":\"a\",\"type\":\"int\"}]}}}]}",
                     run),
        ev);
}

static void test_output_version_differs_between_runs(void **state)
{
    struct ol_event x, y, x2;

    decode_io_run(*state, "d41d8cd9-8f00-3204-a980-0998ecf8427e", &x);
    decode_io_run(*state, "6ba7b811-9dad-11d1-80b4-00c04fd430c8", &y);
    decode_io_run(*state, "d41d8cd9-8f00-3204-a980-0998ecf8427e", &x2);
    const struct ol_dataset *ox = find_ds(&x, "n", "out"), *oy = find_ds(&y, "n", "out");
    assert_true(is_uuid(ox->version));
    assert_string_not_equal(ox->version, oy->version);
    assert_string_equal(ox->version, find_ds(&x2, "n", "out")->version); /* deterministic */
}

/* Commit 3d176ad ("Match Marquez's dataset version formula") hashes the run id for inputs too, as
 * Marquez's Utils.newDatasetVersionFor does; the store decides whether an input's version is used. */
static void test_input_version_also_includes_run(void **state)
{
    struct ol_event x, y, x2;

    decode_io_run(*state, "d41d8cd9-8f00-3204-a980-0998ecf8427e", &x);
    decode_io_run(*state, "6ba7b811-9dad-11d1-80b4-00c04fd430c8", &y);
    decode_io_run(*state, "d41d8cd9-8f00-3204-a980-0998ecf8427e", &x2);
    assert_string_not_equal(find_ds(&x, "n", "in")->version, find_ds(&y, "n", "in")->version);
    assert_string_equal(find_ds(&x, "n", "in")->version, find_ds(&x2, "n", "in")->version);
}

static void test_version_follows_documented_formula(void **state)
{
    struct arena *a = *state;
    struct ol_event ev;
    struct uuid u;
    char want[UUID_STR_MAX];

    /* "namespace:source:name:physicalName:<fields>:<lifecycleState>[:runId]", fields sorted by
     * (name, TYPE upper-cased, description), duplicates once, null parts skipped. */
    decode_ok(
        a,
        "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\",\"run\":{\"runId\":"
        "\"d41d8cd9-8f00-3204-a980-0998ecf8427e\"},\"job\":{\"namespace\":\"n\",\"name\":\"j\"},"
        "\"outputs\":[{\"namespace\":\"ns\",\"name\":\"t\",\"facets\":{\"dataSource\":{\"name\":\"src\","
        "\"uri\":\"u\"},\"lifecycleStateChange\":{\"lifecycleStateChange\":\"CREATE\"},\"schema\":{"
        "\"fields\":[{\"name\":\"b\",\"type\":\"int\"},{\"name\":\"a\",\"type\":\"string\","
        "\"description\":\"d\"},{\"name\":\"b\",\"type\":\"INT\"}]}}}]}",
        &ev);
    const char *s = "ns:src:t:t:a:STRING:d:b:INT:CREATE:d41d8cd9-8f00-3204-a980-0998ecf8427e";
    uuid_name_v3(s, strlen(s), &u);
    uuid_to_string(&u, want);
    assert_string_equal(ev.datasets[0].version, want);

    decode_ok(a,
              "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\",\"schemaURL\":\"s\",\"dataset\":{"
              "\"namespace\":\"ns\",\"name\":\"t\"}}",
              &ev);
    s = "ns:default:t:t::";
    uuid_name_v3(s, strlen(s), &u);
    uuid_to_string(&u, want);
    assert_string_equal(ev.datasets[0].version, want);
}

static void test_version_changes_with_schema(void **state)
{
    struct arena *a = *state;
    struct ol_event x, y;
    const char *fmt =
        "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\",\"schemaURL\":\"s\",\"dataset\":"
        "{\"namespace\":\"n\",\"name\":\"d\",\"facets\":{\"schema\":{\"fields\":[%s]}}}}";

    decode_ok(a, arena_printf(a, fmt, "{\"name\":\"a\",\"type\":\"int\"}"), &x);
    decode_ok(a, arena_printf(a, fmt, "{\"name\":\"a\",\"type\":\"bigint\"}"), &y);
    assert_string_not_equal(x.datasets[0].version, y.datasets[0].version);
    /* Field order and type case do not matter. */
    decode_ok(a, arena_printf(a, fmt, "{\"name\":\"b\"},{\"name\":\"a\",\"type\":\"INT\"}"), &x);
    decode_ok(a, arena_printf(a, fmt, "{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"b\"}"), &y);
    assert_string_equal(x.datasets[0].version, y.datasets[0].version);
}

static void test_nominal_time_and_job_facets_read(void **state)
{
    struct ol_event ev;

    decode_ok(
        *state,
        "{\"eventTime\":\"2024-01-01T00:00:00Z\",\"producer\":\"p\",\"run\":{\"runId\":\"r\",\"facets\":{"
        "\"nominalTime\":{\"nominalStartTime\":\"2020-01-01\",\"nominalEndTime\":"
        "\"2020-01-01T01:00:00Z\"}}},\"job\":{\"namespace\":\"n\",\"name\":\"j\",\"facets\":{"
        "\"jobType\":{\"processingType\":\"STREAMING\"},\"documentation\":{\"description\":\"d\"},"
        "\"sourceCodeLocation\":{\"url\":\"http://x\"}}}}",
        &ev);
    assert_true(ev.has_nominal_start);
    assert_int_equal(ev.nominal_start, 1577836800000000LL);
    assert_true(ev.has_nominal_end);
    assert_int_equal(ev.nominal_end, 1577840400000000LL);
    assert_string_equal(ev.job_type, "STREAM");
    assert_string_equal(ev.job_description, "d");
    assert_string_equal(ev.job_location, "http://x");
    assert_int_equal(ev.event_time, 1704067200000000LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_complete_openlineage_fixture_decodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_marquez_fixture_decodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kind_run_event_when_run_present, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kind_job_event_when_only_job_present, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kind_dataset_event_when_only_dataset_present, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kind_run_event_wins_over_dataset_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_without_run_job_or_dataset_is_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_run_id_is_exact_violation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parent_facet_without_run_id_is_exact_violation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_violations_carry_array_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_violations_listed_in_document_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dataset_and_job_events_need_schema_url, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_uuid_run_id_maps_to_name_based_uuid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uuid_run_id_kept_lower_case, setup, teardown),
        cmocka_unit_test_setup_teardown(test_event_type_is_case_insensitive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_running_and_other_are_running, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_event_type_is_running_with_null_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_string_event_type_is_violation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_child_job_already_prefixed_keeps_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_child_job_gets_parent_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_child_job_prefix_needs_dot_boundary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_job_without_parent_keeps_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_airflow_task_named_under_its_dag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parent_naming_the_job_itself_is_not_a_hierarchy, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_deleted_facets_on_job_and_dataset_marked_deleted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_facet_names_unique_last_wins_and_null_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reordered_members_give_same_body_and_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_different_events_give_different_hashes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deeply_nested_events_keep_distinct_bodies_and_hashes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_schema_fields_decoded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_field_description_and_missing_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_field_without_name_is_violation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlinks_decoded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_source_decoded_with_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_column_lineage_edges_decoded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_column_lineage_legacy_transformation_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_column_lineage_dataset_level_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_column_lineage_input_without_field_is_violation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_output_version_differs_between_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_version_also_includes_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_follows_documented_formula, setup, teardown),
        cmocka_unit_test_setup_teardown(test_version_changes_with_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nominal_time_and_job_facets_read, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
