/* bench/fixture.c - loads OpenLineage fixtures and generates distinct event bodies from them.
 *
 * A tiny JSON scanner (no parser, no allocation) walks the top-level object to the "run" member and
 * that object to its "runId" member, so a parent facet's run.runId or a "runId" inside a string is
 * never mistaken for the event's own.
 * Invariants:
 *  1. The scanner never reads past len; every scan_* returns 0 (or false) on malformed input.
 *  2. body_write() writes exactly body_len() bytes.
 * Ownership: see fixture.h. Threads: no shared state (libuuid's generator is thread-safe). */
#include "fixture.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uuid/uuid.h>

#include "util.h"

enum {
    FIXTURE_MAX_BYTES = 16 * 1024 * 1024,
    FIXTURE_PATH_MAX = 4096,
    FIXTURE_UUID_TEXT = 37, /* 36 characters and the NUL */
};

static const char FIXTURE_SUFFIX[] = ".json";

static size_t scan_ws(const char *s, size_t len, size_t i)
{
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* s[i] must be '"'; returns the index after the closing quote, or 0 if the string is unterminated. */
static size_t scan_string(const char *s, size_t len, size_t i)
{
    for (i++; i < len; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return 0;
}

/* Skips one JSON value starting at s[i]; returns the index after it, or 0 if malformed. */
static size_t scan_value(const char *s, size_t len, size_t i)
{
    if (i >= len)
        return 0;
    if (s[i] == '"')
        return scan_string(s, len, i);
    if (s[i] != '{' && s[i] != '[') {
        while (i < len && strchr(",}] \t\r\n", s[i]) == NULL)
            i++;
        return i;
    }
    size_t depth = 0;
    while (i < len) {
        if (s[i] == '"') {
            i = scan_string(s, len, i);
            if (i == 0)
                return 0;
            continue;
        }
        if (s[i] == '{' || s[i] == '[')
            depth++;
        else if ((s[i] == '}' || s[i] == ']') && --depth == 0)
            return i + 1;
        i++;
    }
    return 0;
}

/* Finds member key (compared raw, unescaped) of the object at s[i]; sets *val to its value's index. */
static bool scan_member(const char *s, size_t len, size_t i, const char *key, size_t *val)
{
    size_t klen = strlen(key);
    if (i >= len || s[i] != '{')
        return false;
    i = scan_ws(s, len, i + 1);
    while (i < len && s[i] == '"') {
        size_t kend = scan_string(s, len, i);
        if (kend == 0)
            return false;
        bool match = kend - i - 2 == klen && memcmp(s + i + 1, key, klen) == 0;
        i = scan_ws(s, len, kend);
        if (i >= len || s[i] != ':')
            return false;
        i = scan_ws(s, len, i + 1);
        if (match) {
            *val = i;
            return true;
        }
        i = scan_value(s, len, i);
        if (i == 0)
            return false;
        i = scan_ws(s, len, i);
        if (i < len && s[i] == ',')
            i = scan_ws(s, len, i + 1);
    }
    return false;
}

/* Fills the runId span of fx; false unless fx->text is one object with a string run.runId. */
static bool fixture_locate_run_id(struct fixture *fx)
{
    const char *s = fx->text;
    size_t start = scan_ws(s, fx->len, 0);
    size_t end = scan_value(s, fx->len, start);
    size_t run, id, id_end;
    if (start >= fx->len || s[start] != '{' || end == 0 || scan_ws(s, fx->len, end) != fx->len)
        return false;
    if (!scan_member(s, fx->len, start, "run", &run) || !scan_member(s, fx->len, run, "runId", &id))
        return false;
    if (s[id] != '"' || (id_end = scan_string(s, fx->len, id)) == 0)
        return false;
    fx->id_start = id;
    fx->id_end = id_end;
    return true;
}

/* Reads the regular file at path; returns a NUL-terminated copy (caller frees), or NULL after
 * printing why. */
static char *fixture_read(const char *path, size_t *len)
{
    char *buf = NULL;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > FIXTURE_MAX_BYTES) {
        util_msg("cannot read fixture \"%s\": %s", path, fd < 0 ? strerror(errno) : "not a small file");
        goto out;
    }
    buf = util_xmalloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r <= 0) {
            util_msg("cannot read fixture \"%s\": %s", path, r < 0 ? strerror(errno) : "short read");
            free(buf);
            buf = NULL;
            goto out;
        }
        got += (size_t)r;
    }
    buf[got] = '\0';
    *len = got;
out:
    if (fd >= 0 && close(fd) != 0)
        util_msg("close \"%s\": %s", path, strerror(errno));
    return buf;
}

static int fixture_name_filter(const struct dirent *d)
{
    size_t n = strlen(d->d_name), suffix = sizeof FIXTURE_SUFFIX - 1;
    return n > suffix && strcmp(d->d_name + n - suffix, FIXTURE_SUFFIX) == 0;
}

/* Reads dir/name into *f; returns 1 if usable, 0 if skipped (f left empty), -1 on a read error. */
static int fixture_load_one(const char *dir, const char *name, struct fixture *f)
{
    char path[FIXTURE_PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
        util_msg("fixture path too long: \"%s/%s\"", dir, name);
        return -1;
    }
    f->text = fixture_read(path, &f->len);
    if (f->text == NULL)
        return -1;
    if (!fixture_locate_run_id(f)) {
        free(f->text);
        f->text = NULL;
        return 0;
    }
    f->name = strdup(name);
    if (f->name == NULL) {
        util_msg("out of memory");
        abort();
    }
    return 1;
}

int fixture_load_dir(const char *dir, struct fixture **out, size_t *count)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, fixture_name_filter, alphasort);
    if (n < 0) {
        util_msg("cannot list fixtures in \"%s\": %s", dir, strerror(errno));
        return -1;
    }
    struct fixture *fx = util_xcalloc((size_t)n, sizeof *fx);
    size_t used = 0;
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (rc == 0) {
            rc = fixture_load_one(dir, names[i]->d_name, &fx[used]);
            used += rc == 1;
            rc = rc < 0 ? -1 : 0;
        }
        free(names[i]);
    }
    free(names);
    if (rc == 0 && used == 0) {
        util_msg("no fixture in \"%s\" is a single JSON object with a run.runId", dir);
        rc = -1;
    }
    if (rc != 0) {
        fixture_free_all(fx, used);
        return -1;
    }
    util_msg("%zu fixtures from %s (%zu skipped: arrays, fragments or no run.runId)", used, dir,
             (size_t)n - used);
    *out = fx;
    *count = used;
    return 0;
}

void fixture_keep(struct fixture *fx, size_t *count, const bool *keep)
{
    size_t kept = 0;
    for (size_t i = 0; i < *count; i++) {
        if (keep[i]) {
            fx[kept++] = fx[i];
        } else {
            free(fx[i].name);
            free(fx[i].text);
        }
    }
    *count = kept;
}

void fixture_free_all(struct fixture *fx, size_t count)
{
    for (size_t i = 0; fx != NULL && i < count; i++) {
        free(fx[i].name);
        free(fx[i].text);
    }
    free(fx);
}

static size_t body_len(const struct fixture *fx)
{
    return fx->len - (fx->id_end - fx->id_start) + (FIXTURE_UUID_TEXT - 1) + 2; /* UUID and its quotes */
}

/* Writes fx with a fresh random runId at dst (body_len(fx) bytes); returns the bytes written. */
static size_t body_write(const struct fixture *fx, char *dst)
{
    uuid_t id;
    char text[FIXTURE_UUID_TEXT];
    uuid_generate_random(id);
    uuid_unparse_lower(id, text);
    char *p = dst;
    memcpy(p, fx->text, fx->id_start);
    p += fx->id_start;
    *p++ = '"';
    memcpy(p, text, FIXTURE_UUID_TEXT - 1);
    p += FIXTURE_UUID_TEXT - 1;
    *p++ = '"';
    memcpy(p, fx->text + fx->id_end, fx->len - fx->id_end);
    p += fx->len - fx->id_end;
    return (size_t)(p - dst);
}

struct fixture_body *fixture_bodies_single(const struct fixture *fx, size_t nfx, size_t n)
{
    struct fixture_body *b = util_xcalloc(n, sizeof *b);
    for (size_t i = 0; i < n; i++) {
        b[i].data = util_xmalloc(body_len(&fx[i % nfx]));
        b[i].len = body_write(&fx[i % nfx], b[i].data);
    }
    return b;
}

struct fixture_body *fixture_bodies_batches(const struct fixture *fx, size_t nfx, size_t n, size_t per,
                                            size_t *nbatches)
{
    size_t nb = (n + per - 1) / per;
    struct fixture_body *b = util_xcalloc(nb, sizeof *b);
    for (size_t j = 0; j < nb; j++) {
        size_t first = j * per, last = first + per < n ? first + per : n;
        size_t cap = 2 + (last - first); /* brackets and commas */
        for (size_t i = first; i < last; i++)
            cap += body_len(&fx[i % nfx]);
        char *p = b[j].data = util_xmalloc(cap);
        *p++ = '[';
        for (size_t i = first; i < last; i++) {
            if (i > first)
                *p++ = ',';
            p += body_write(&fx[i % nfx], p);
        }
        *p++ = ']';
        b[j].len = (size_t)(p - b[j].data);
    }
    *nbatches = nb;
    return b;
}

void fixture_bodies_free(struct fixture_body *b, size_t n)
{
    for (size_t i = 0; b != NULL && i < n; i++)
        free(b[i].data);
    free(b);
}
