/* server/keys_cli.c - `lineaged keys create|list|revoke` (see keys_cli.h). */
#include "keys_cli.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "cfg.h"
#include "database.h"
#include "store.h"
#include "store_keys.h"

#define LOG_MODULE "keys"
#include "log.h"

enum { KEYS_NAME_MAX = 200, KEYS_EXIT_FAIL = 1, KEYS_EXIT_USAGE = 2 };

static const char KEYS_USAGE[] =
    "usage: lineaged keys <create|list|revoke> [options]\n"
    "\n"
    "  create --name NAME --scope read|write|admin   print a new key on stdout (shown only this once)\n"
    "  list                                          every key: id, name, scope, created, revoked\n"
    "  revoke --name NAME | --id ID                  revoke a key (servers drop it within "
    "--keys-refresh-ms)\n"
    "\n"
    "Scopes: read; write (ingest, and read); admin (edits, deletes, everything). Keys are stored as SHA-256\n"
    "hashes in the database of --database-url, or of the private Postgres in --data-dir (also while a\n"
    "lineaged serve runs there). Run 'lineaged keys <command> --help' for every option.\n";

/* A name is 1 to KEYS_NAME_MAX bytes without control characters. */
static bool name_valid(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > KEYS_NAME_MAX)
        return false;
    for (const char *p = name; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

static int keys_create(const struct cfg *c, struct store *s)
{
    char key[AUTH_NEW_KEY_SIZE];
    unsigned char hash[AUTH_HASH_LEN];
    int64_t id;
    struct err e;

    if (auth_key_generate(key, sizeof key, &e) != 0) {
        log_error("%s", e.msg);
        return KEYS_EXIT_FAIL;
    }
    auth_key_hash(key, strlen(key), hash);
    if (store_keys_create(s, c->key_name, c->key_scope, hash, &id, &e) != 0) {
        OPENSSL_cleanse(key, sizeof key);
        log_error("cannot create the key: %s", e.msg);
        return KEYS_EXIT_FAIL;
    }
    printf("%s\n", key);
    fflush(stdout);
    OPENSSL_cleanse(key, sizeof key);
    log_info(
        "created API key id=%lld name=\"%s\" scope=%s; it was printed once, on stdout, and is stored only as "
        "a hash",
        (long long)id, c->key_name, c->key_scope);
    return 0;
}

static int keys_list(const struct cfg *c, struct store *s)
{
    struct arena *a = arena_new();
    struct store_key *keys;
    size_t n;
    struct err e;

    (void)c;
    if (store_keys_list(s, a, false, &keys, &n, NULL, &e) != 0) {
        log_error("cannot list the keys: %s", e.msg);
        arena_free(a);
        return KEYS_EXIT_FAIL;
    }
    printf("id\tname\tscope\tcreated\trevoked\n");
    for (size_t i = 0; i < n; i++)
        printf("%lld\t%s\t%s\t%s\t%s\n", (long long)keys[i].id, keys[i].name, keys[i].scope,
               keys[i].created_at, keys[i].revoked_at ? keys[i].revoked_at : "-");
    fflush(stdout);
    arena_free(a);
    return 0;
}

static int keys_revoke(const struct cfg *c, struct store *s)
{
    int64_t id;
    struct err e;

    if (store_keys_revoke(s, c->key_id, c->key_name, &id, &e) != 0) {
        log_error("cannot revoke: %s", e.msg);
        return KEYS_EXIT_FAIL;
    }
    printf("revoked key %lld\n", (long long)id);
    fflush(stdout);
    log_info("revoked API key id=%lld; running servers refuse it within their --keys-refresh-ms",
             (long long)id);
    return 0;
}

struct keys_verb {
    const char *name;
    int (*run)(const struct cfg *c, struct store *s);
};

static const struct keys_verb VERBS[] = {
    {"create", keys_create},
    {"list", keys_list},
    {"revoke", keys_revoke},
};

/* The options each verb needs; NULL if fine, else what is wrong. */
static const char *usage_problem(const struct keys_verb *v, const struct cfg *c)
{
    enum auth_scope scope;

    if (v->run == keys_create && !name_valid(c->key_name))
        return "create needs --name: 1 to 200 characters, no control characters";
    if (v->run == keys_create && !auth_scope_parse(c->key_scope, &scope))
        return "create needs --scope read, write or admin";
    if (v->run == keys_revoke && (c->key_id > 0) == (c->key_name[0] != '\0'))
        return "revoke needs exactly one of --name and --id";
    if (v->run == keys_list && (c->key_id > 0 || c->key_name[0] != '\0' || c->key_scope[0] != '\0'))
        return "list takes no --name, --scope or --id";
    return NULL;
}

/* Opens the database (shared with a running serve), migrates, runs the verb. */
static int run_verb(const struct keys_verb *v, const struct cfg *c)
{
    struct database db;
    struct store *s = NULL;
    struct err e;
    int rc = KEYS_EXIT_FAIL;

    if (database_open(c, PGEMBED_SHARE, &db) != 0)
        return KEYS_EXIT_FAIL;
    if (database_migrate(&db) == 0 && (s = store_connect(db.conninfo, &e)) == NULL)
        log_error("%s: %s", e.msg, e.detail);
    if (s != NULL)
        rc = v->run(c, s);
    store_free(s);
    database_close(&db);
    return rc;
}

static const struct keys_verb *find_verb(const char *name)
{
    for (size_t i = 0; i < sizeof VERBS / sizeof VERBS[0]; i++)
        if (strcmp(name, VERBS[i].name) == 0)
            return &VERBS[i];
    return NULL;
}

int keys_cli_main(int argc, char **argv)
{
    const struct keys_verb *v = argc > 0 ? find_verb(argv[0]) : NULL;
    struct cfg c;
    struct err e;
    bool help;
    enum log_level level;
    int rc = KEYS_EXIT_USAGE;

    if (argc > 0 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        fputs(KEYS_USAGE, stdout);
        return 0;
    }
    if (v == NULL) {
        fprintf(stderr, "lineaged keys: %s\n\n%s", argc > 0 ? "unknown command" : "missing command",
                KEYS_USAGE);
        return KEYS_EXIT_USAGE;
    }
    if (cfg_parse(&c, CFG_KEYS, argc - 1, argv + 1, &help, &e) != 0) {
        fprintf(stderr, "lineaged keys %s: %s\n", v->name, e.msg);
    } else if (help) {
        printf("usage: lineaged keys %s [options]\n\noptions:\n", v->name);
        cfg_print_help(stdout, CFG_KEYS);
        rc = 0;
    } else if (!log_parse_level(c.log_level, &level)) {
        fprintf(stderr, "lineaged keys: --log-level \"%s\" must be debug, info, warn or error\n",
                c.log_level);
    } else if (usage_problem(v, &c) != NULL) {
        fprintf(stderr, "lineaged keys %s: %s\n", v->name, usage_problem(v, &c));
    } else {
        log_set_level(level);
        rc = run_verb(v, &c);
    }
    cfg_free(&c);
    return rc;
}
