/* tests/unit/server/test_auth.c - the authorization decision (server/auth.c), without a server.
 *
 * Invariants:
 *  1. Every refusal asserts its kind (401 ERR_UNAUTHORIZED or 403 ERR_FORBIDDEN), where
 *     ("Authorization"), and that the message does not contain the credential sent.
 *  2. Settings come from cfg_parse with flags, as lineaged serve gets them; no LINEAGED_* variable is
 *     set by or leaks into a test (setup unsets the ones auth reads).
 * Ownership: each test frees its auth and cfg. Threads: single-threaded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "cfg.h"
#include "log.h"

static const char *const ENV_VARS[] = {"LINEAGED_API_KEYS", "LINEAGED_API_KEYS_FILE", "LINEAGED_OPEN_READS",
                                       "LINEAGED_JWKS_FILE", "LINEAGED_INSECURE"};

static int clean_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ENV_VARS / sizeof ENV_VARS[0]; i++)
        unsetenv(ENV_VARS[i]);
    return 0;
}

/* An auth built from serve flags (NULL-terminated); fails the test if it cannot be built. */
static struct auth *auth_from(char **argv)
{
    struct cfg c;
    struct err e;
    bool help;
    int argc = 0;

    while (argv[argc] != NULL)
        argc++;
    if (cfg_parse(&c, CFG_SERVE, argc, argv, &help, &e) != 0)
        fail_msg("cfg: %s", e.msg);
    struct auth *a = auth_new(&c, &e);
    cfg_free(&c);
    if (a == NULL)
        fail_msg("auth_new: %s", e.msg);
    return a;
}

static void expect_ok(struct auth *a, enum auth_scope need, const char *header)
{
    struct err e;

    err_clear(&e);
    if (auth_check(a, need, header, &e) != 0)
        fail_msg("refused %s for scope %s: %s", header ? header : "(no header)", auth_scope_name(need),
                 e.msg);
}

/* Refused with kind; the credential (the header's last word) is not in the message. */
static void expect_refused(struct auth *a, enum auth_scope need, const char *header, enum err_kind kind)
{
    struct err e;

    err_clear(&e);
    if (auth_check(a, need, header, &e) == 0)
        fail_msg("accepted %s for scope %s", header ? header : "(no header)", auth_scope_name(need));
    assert_int_equal(e.kind, kind);
    assert_string_equal(e.where, "Authorization");
    const char *cred = header ? strrchr(header, ' ') : NULL;
    if (cred != NULL && strlen(cred + 1) >= 4 && strstr(e.msg, cred + 1) != NULL)
        fail_msg("message \"%s\" repeats the credential", e.msg);
}

/* Installs database keys: one per scope, whose texts are "read-key-0001" etc. */
static void set_scoped_db_keys(struct auth *a)
{
    static const char *const texts[] = {"read-key-0001", "write-key-0001", "admin-key-0001"};
    struct auth_key keys[3];

    for (size_t i = 0; i < 3; i++) {
        auth_key_hash(texts[i], strlen(texts[i]), keys[i].hash);
        keys[i].scope = (enum auth_scope)(AUTH_READ + i);
    }
    auth_set_db_keys(a, keys, 3, true);
}

static void test_auth_off_lets_everything_through(void **state)
{
    struct auth *a = auth_from((char *[]){NULL});

    (void)state;
    assert_false(auth_enabled(a));
    expect_ok(a, AUTH_ADMIN, NULL);
    expect_ok(a, AUTH_WRITE, "Bearer anything");
    auth_free(a);
}

static void test_bootstrap_keys_are_trimmed_and_admin(void **state)
{
    struct auth *a =
        auth_from((char *[]){"--api-keys", " first-key-0001 , second-key-0002,,\tthird-key-0003 ", NULL});

    (void)state;
    assert_true(auth_enabled(a));
    expect_ok(a, AUTH_ADMIN, "Bearer first-key-0001");
    expect_ok(a, AUTH_ADMIN, "Bearer second-key-0002");
    expect_ok(a, AUTH_READ, "Bearer third-key-0003");
    expect_refused(a, AUTH_READ, "Bearer  second-key-0002,", ERR_UNAUTHORIZED);
    expect_refused(a, AUTH_READ, "Bearer first-key-0001,second-key-0002", ERR_UNAUTHORIZED);
    expect_refused(a, AUTH_READ, "Bearer first-key-000", ERR_UNAUTHORIZED);
    expect_refused(a, AUTH_READ, "Bearer first-key-00011", ERR_UNAUTHORIZED);
    expect_refused(a, AUTH_READ, "Bearer FIRST-KEY-0001", ERR_UNAUTHORIZED);
    auth_free(a);
}

static void test_bearer_header_forms(void **state)
{
    struct auth *a = auth_from((char *[]){"--api-keys=first-key-0001", NULL});
    static const char *const bad[] = {NULL,
                                      "",
                                      "Bearer",
                                      "Bearer ",
                                      "Bearer\tx",
                                      "Basic Zmlyc3Q6a2V5",
                                      "first-key-0001",
                                      "Bearerfirst-key-0001",
                                      "Bearer first-key-0001 extra",
                                      "Token first-key-0001"};

    (void)state;
    expect_ok(a, AUTH_READ, "Bearer first-key-0001");
    expect_ok(a, AUTH_READ, "bearer first-key-0001");     /* the scheme is case-insensitive (RFC 7235) */
    expect_ok(a, AUTH_READ, "BEARER   first-key-0001  "); /* blanks around the credential */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_refused(a, AUTH_READ, bad[i], ERR_UNAUTHORIZED);
    auth_free(a);
}

static void test_scopes_are_ordered_read_write_admin(void **state)
{
    struct auth *a = auth_from((char *[]){NULL});

    (void)state;
    set_scoped_db_keys(a);
    assert_true(auth_enabled(a));
    expect_ok(a, AUTH_READ, "Bearer read-key-0001");
    expect_refused(a, AUTH_WRITE, "Bearer read-key-0001", ERR_FORBIDDEN);
    expect_refused(a, AUTH_ADMIN, "Bearer read-key-0001", ERR_FORBIDDEN);
    expect_ok(a, AUTH_READ, "Bearer write-key-0001");
    expect_ok(a, AUTH_WRITE, "Bearer write-key-0001");
    expect_refused(a, AUTH_ADMIN, "Bearer write-key-0001", ERR_FORBIDDEN);
    expect_ok(a, AUTH_READ, "Bearer admin-key-0001");
    expect_ok(a, AUTH_WRITE, "Bearer admin-key-0001");
    expect_ok(a, AUTH_ADMIN, "Bearer admin-key-0001");
    expect_refused(a, AUTH_READ, "Bearer other-key-0001", ERR_UNAUTHORIZED);
    expect_refused(a, AUTH_READ, NULL, ERR_UNAUTHORIZED);
    auth_free(a);
}

static void test_forbidden_message_names_both_scopes(void **state)
{
    struct auth *a = auth_from((char *[]){NULL});
    struct err e;

    (void)state;
    set_scoped_db_keys(a);
    assert_int_equal(auth_check(a, AUTH_ADMIN, "Bearer write-key-0001", &e), -1);
    assert_int_equal(e.kind, ERR_FORBIDDEN);
    assert_non_null(strstr(e.msg, "\"write\""));
    assert_non_null(strstr(e.msg, "\"admin\""));
    auth_free(a);
}

static void test_public_routes_never_need_credentials(void **state)
{
    struct auth *a = auth_from((char *[]){"--api-keys=first-key-0001", NULL});

    (void)state;
    expect_ok(a, AUTH_PUBLIC, NULL);
    expect_ok(a, AUTH_PUBLIC, "Bearer wrong");
    auth_free(a);
}

static void test_open_reads_open_reads_only(void **state)
{
    struct auth *a = auth_from((char *[]){"--open-reads", NULL});

    (void)state;
    set_scoped_db_keys(a);
    expect_ok(a, AUTH_READ, NULL);
    expect_ok(a, AUTH_READ, "Bearer wrong");
    expect_refused(a, AUTH_WRITE, NULL, ERR_UNAUTHORIZED);
    expect_refused(a, AUTH_ADMIN, "Bearer read-key-0001", ERR_FORBIDDEN);
    expect_ok(a, AUTH_WRITE, "Bearer write-key-0001");
    auth_free(a);
}

static void test_revoked_keys_keep_auth_on(void **state)
{
    struct auth *a = auth_from((char *[]){NULL});

    (void)state;
    set_scoped_db_keys(a);
    auth_set_db_keys(a, NULL, 0, true); /* all revoked: rows remain */
    assert_true(auth_enabled(a));
    expect_refused(a, AUTH_READ, "Bearer read-key-0001", ERR_UNAUTHORIZED);
    expect_refused(a, AUTH_READ, NULL, ERR_UNAUTHORIZED);
    auth_set_db_keys(a, NULL, 0, false); /* an empty table (rows deleted by hand) */
    assert_false(auth_enabled(a));
    auth_free(a);
}

static void test_listen_needs_loopback_auth_or_insecure(void **state)
{
    struct auth *off = auth_from((char *[]){NULL});
    struct auth *on = auth_from((char *[]){"--api-keys=first-key-0001", NULL});
    static const char *const loopback[] = {"127.0.0.1", "127.3.2.1", "::1", "localhost"};
    static const char *const open[] = {"0.0.0.0", "::", "192.0.2.7", ""};
    struct err e;

    (void)state;
    for (size_t i = 0; i < sizeof loopback / sizeof loopback[0]; i++)
        if (auth_check_listen(off, loopback[i], false, &e) != 0)
            fail_msg("refused %s: %s", loopback[i], e.msg);
    for (size_t i = 0; i < sizeof open / sizeof open[0]; i++) {
        if (auth_check_listen(off, open[i], false, &e) != -1)
            fail_msg("accepted \"%s\" without auth", open[i]);
        assert_int_equal(e.kind, ERR_INVALID);
        assert_non_null(strstr(e.msg, "--insecure"));
        assert_int_equal(auth_check_listen(off, open[i], true, &e), 0);
        assert_int_equal(auth_check_listen(on, open[i], false, &e), 0);
    }
    auth_free(off);
    auth_free(on);
}

static void test_keys_file_adds_bootstrap_keys(void **state)
{
    char path[] = "/tmp/lineaged-test-keys-XXXXXX";
    int fd = mkstemp(path);
    static const char text[] = "file-key-0001\n  file-key-0002  \r\n\n";

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, sizeof text - 1), (int)(sizeof text - 1));
    close(fd);
    char flag[sizeof path + 32];
    snprintf(flag, sizeof flag, "--api-keys-file=%s", path);
    struct auth *a = auth_from((char *[]){flag, "--api-keys=flag-key-0001", NULL});
    unlink(path);
    expect_ok(a, AUTH_ADMIN, "Bearer file-key-0001");
    expect_ok(a, AUTH_ADMIN, "Bearer file-key-0002");
    expect_ok(a, AUTH_ADMIN, "Bearer flag-key-0001");
    expect_refused(a, AUTH_READ, "Bearer file-key-0003", ERR_UNAUTHORIZED);
    auth_free(a);
}

static void test_unreadable_files_refused(void **state)
{
    static char *const cases[][3] = {
        {"--api-keys-file=/nonexistent/lineaged-keys", NULL, NULL},
        {"--jwks-file=/nonexistent/jwks.json", "--jwt-issuer=i", "--jwt-audience=a"},
    };
    struct cfg c;
    struct err e;
    bool help;

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int argc = cases[i][1] ? 3 : 1;
        assert_int_equal(cfg_parse(&c, CFG_SERVE, argc, (char **)cases[i], &help, &e), 0);
        assert_null(auth_new(&c, &e));
        assert_int_equal(e.kind, ERR_INVALID);
        assert_non_null(strstr(e.msg, "/nonexistent/"));
        cfg_free(&c);
    }
}

static void test_generated_keys_have_the_format_and_differ(void **state)
{
    char k1[AUTH_NEW_KEY_SIZE], k2[AUTH_NEW_KEY_SIZE];
    struct err e;

    (void)state;
    assert_int_equal(auth_key_generate(k1, sizeof k1, &e), 0);
    assert_int_equal(auth_key_generate(k2, sizeof k2, &e), 0);
    assert_int_equal(strlen(k1), 67);
    assert_memory_equal(k1, "lk_", 3);
    assert_int_equal(strspn(k1 + 3, "0123456789abcdef"), 64);
    assert_string_not_equal(k1, k2);
    assert_int_equal(auth_key_generate(k1, 10, &e), -1);
}

static void test_key_hash_is_sha256(void **state)
{
    unsigned char h[AUTH_HASH_LEN];
    static const unsigned char abc[AUTH_HASH_LEN] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};

    (void)state;
    auth_key_hash("abc", 3, h);
    assert_memory_equal(h, abc, AUTH_HASH_LEN);
}

static void test_scope_names_round_trip(void **state)
{
    enum auth_scope s;

    (void)state;
    for (enum auth_scope x = AUTH_READ; x <= AUTH_ADMIN; x++) {
        assert_true(auth_scope_parse(auth_scope_name(x), &s));
        assert_int_equal(s, x);
    }
    assert_string_equal(auth_scope_name(AUTH_PUBLIC), "none");
    assert_false(auth_scope_parse("none", &s));
    assert_false(auth_scope_parse("Admin", &s));
    assert_false(auth_scope_parse("", &s));
}

int main(void)
{
    log_set_level(LOG_ERROR); /* the short-key warnings of the fixtures are expected */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_auth_off_lets_everything_through, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_bootstrap_keys_are_trimmed_and_admin, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_bearer_header_forms, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_scopes_are_ordered_read_write_admin, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_forbidden_message_names_both_scopes, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_public_routes_never_need_credentials, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_open_reads_open_reads_only, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_revoked_keys_keep_auth_on, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_listen_needs_loopback_auth_or_insecure, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_keys_file_adds_bootstrap_keys, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_unreadable_files_refused, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_generated_keys_have_the_format_and_differ, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_key_hash_is_sha256, clean_env, clean_env),
        cmocka_unit_test_setup_teardown(test_scope_names_round_trip, clean_env, clean_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
