/* tests/unit/server/test_ml_code_location.c - the model file's code location from CI variables
 * (server/ml_code_location.c), read through a fake environment.
 *
 * Invariants: no test reads the real environment; each sets the fake's variables it needs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "arena.h"
#include "ml_model.h"

/* name=value pairs the fake getenv answers from; NULL-terminated. */
static const char *const *fake_vars;

static const char *fake_get(const char *name)
{
    for (size_t i = 0; fake_vars[i] != NULL; i += 2)
        if (strcmp(fake_vars[i], name) == 0)
            return fake_vars[i + 1];
    return NULL;
}

static struct ml_code_location locate(struct arena *a, const char *const *vars, const char *file)
{
    struct ml_code_location loc;
    fake_vars = vars;
    ml_code_location_from_env(a, fake_get, file, &loc);
    return loc;
}

static const char *const GITHUB[] = {"GITHUB_SERVER_URL",
                                     "https://github.com",
                                     "GITHUB_REPOSITORY",
                                     "acme/ml",
                                     "GITHUB_SHA",
                                     "0123abc",
                                     "GITHUB_WORKSPACE",
                                     "/home/runner/work/ml/ml",
                                     "CI_PROJECT_URL",
                                     "https://gitlab.com/acme/ml",
                                     "CI_COMMIT_SHA",
                                     "fff",
                                     NULL};

static void test_github_actions(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    struct ml_code_location l = locate(a, GITHUB, "./models/churn model.yaml");

    assert_string_equal(l.type, "git");
    assert_string_equal(l.repo_url, "https://github.com/acme/ml.git");
    assert_string_equal(l.version, "0123abc");
    assert_string_equal(l.path, "models/churn model.yaml");
    assert_string_equal(l.url, "https://github.com/acme/ml/blob/0123abc/models/churn%20model.yaml");
    l = locate(a, GITHUB, "/home/runner/work/ml/ml/models/m.yaml");
    assert_string_equal(l.path, "models/m.yaml");
    l = locate(a, GITHUB, "/elsewhere/m.yaml");
    assert_null(l.path);
    assert_string_equal(l.url, "https://github.com/acme/ml/tree/0123abc");
    l = locate(a, GITHUB, "../other/m.yaml");
    assert_null(l.path);
    arena_free(a);
}

static void test_gitlab_ci(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    static const char *const vars[] = {"CI_PROJECT_URL",
                                       "https://gitlab.example.com/acme/ml/",
                                       "CI_COMMIT_SHA",
                                       "beef",
                                       "GITHUB_SHA",
                                       "",
                                       NULL};
    struct ml_code_location l = locate(a, vars, "m.yaml");

    assert_string_equal(l.repo_url, "https://gitlab.example.com/acme/ml.git");
    assert_string_equal(l.url, "https://gitlab.example.com/acme/ml/-/blob/beef/m.yaml");
    assert_string_equal(l.version, "beef");
    arena_free(a);
}

static void test_plain_git_variables(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    static const char *const vars[] = {"GIT_URL", "git@example.com:acme/ml.git", "GIT_COMMIT", "cafe", NULL};
    struct ml_code_location l = locate(a, vars, "models/m.yaml");

    assert_string_equal(l.type, "git");
    assert_string_equal(l.url, "git@example.com:acme/ml.git");
    assert_string_equal(l.repo_url, "git@example.com:acme/ml.git");
    assert_string_equal(l.path, "models/m.yaml");
    assert_string_equal(l.version, "cafe");
    arena_free(a);
}

static void test_no_ci_no_location(void **state)
{
    (void)state;
    struct arena *a = arena_new();
    static const char *const none[] = {NULL};
    static const char *const partial[] = {"GITHUB_SERVER_URL",
                                          "https://github.com",
                                          "GITHUB_REPOSITORY",
                                          "acme/ml",
                                          "GIT_URL",
                                          "https://x/y.git",
                                          NULL};

    assert_null(locate(a, none, "m.yaml").type);
    assert_null(locate(a, partial, "m.yaml").type); /* no commit anywhere */
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_github_actions),
        cmocka_unit_test(test_gitlab_ci),
        cmocka_unit_test(test_plain_git_variables),
        cmocka_unit_test(test_no_ci_no_location),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
