/* bench/loadgen.c - closed-loop HTTP load over libevent's evhttp client.
 *
 * Request life cycle, per connection (slot):
 *   idle --slot_send [evhttp_make_request]--> in flight --slot_on_answer--> idle (sends the next)
 * libevent calls slot_on_error (transport failure) just before slot_on_answer(NULL), resets the
 * socket, and reconnects on the next request.
 * Invariants:
 *  1. A slot's index/sent_ns describe its one in-flight request; done <= next <= count.
 *  2. The loop breaks exactly when done == count, or at once when the phase turns fatal.
 *  3. A request leaves in as few writes as the socket accepts, with TCP_NODELAY set: with libevent's
 *     16 KiB default write size, Nagle and the server's delayed ACK added ~40 ms to every body over
 *     16 KiB (measured on a 39 KiB event: p50 48.7 ms before, 5.5 ms after), which timed the client.
 * Ownership: libevent frees each request after slot_on_answer returns; bodies are referenced, never
 * copied. Threads: single-threaded. */
#include "loadgen.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "util.h"

enum {
    LOADGEN_TIMEOUT_S = 120,
    LOADGEN_DEFAULT_PORT = 80,
    LOADGEN_HOST_MAX = 256,
    LOADGEN_HOST_HEADER = LOADGEN_HOST_MAX + 16, /* ":" and a port */
    LOADGEN_KEY_MAX = 64,
    LOADGEN_MAX_WRITE = 64 * 1024 * 1024, /* libevent's default of 16 KiB splits bodies (see invariant 3) */
};

struct slot {
    struct loadgen_phase *phase;
    struct evhttp_connection *evcon;
    size_t index;
    uint64_t sent_ns;
    int transport_error; /* enum evhttp_request_error + 1; 0 = none */
};

struct loadgen {
    struct event_base *base;
    char host[LOADGEN_HOST_MAX];
    char host_header[LOADGEN_HOST_HEADER];
    struct slot *slots;
    size_t nslots;
};

static void slot_send(struct slot *s);

/* Names a transport failure (transport = enum evhttp_request_error + 1), or NULL if libevent gave none. */
static const char *transport_error_name(int transport)
{
    switch (transport - 1) {
    case EVREQ_HTTP_TIMEOUT:
        return "timed out";
    case EVREQ_HTTP_EOF:
        return "connection closed by the server";
    case EVREQ_HTTP_INVALID_HEADER:
        return "invalid response header";
    case EVREQ_HTTP_BUFFER_ERROR:
        return "socket or buffer error";
    case EVREQ_HTTP_DATA_TOO_LONG:
        return "response too long";
    default:
        return NULL;
    }
}

/* Writes "HTTP <status>: <body>" (truncated, control characters as spaces), or why there was no answer. */
static void answer_text(struct evhttp_request *req, int status, int transport, int saved_errno, char *out)
{
    if (req == NULL || status == 0) {
        const char *why = transport_error_name(transport);
        if (why != NULL)
            snprintf(out, LOADGEN_ERR_TEXT, "no HTTP answer: %s", why);
        else
            snprintf(out, LOADGEN_ERR_TEXT, "no HTTP answer: connection failed (%s)", strerror(saved_errno));
        return;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    int head = snprintf(out, LOADGEN_ERR_TEXT, "HTTP %d: ", status);
    size_t room = LOADGEN_ERR_TEXT - 1 - (size_t)head;
    ev_ssize_t got = evbuffer_copyout(in, out + head, len < room ? len : room);
    size_t end = (size_t)head + (got > 0 ? (size_t)got : 0);
    for (size_t i = (size_t)head; i < end; i++)
        if ((unsigned char)out[i] < ' ')
            out[i] = ' ';
    out[end] = '\0';
}

static size_t skip_ws(const char *s, size_t len, size_t i)
{
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* True if the answer's body holds "<key>": 0 (the first occurrence of the quoted key decides). */
static bool answer_has_zero(struct evhttp_request *req, const char *key)
{
    char quoted[LOADGEN_KEY_MAX];
    int qlen = snprintf(quoted, sizeof quoted, "\"%s\"", key);
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    const char *s = len == 0 ? NULL : (const char *)evbuffer_pullup(in, -1);
    const char *k = s == NULL || qlen >= (int)sizeof quoted ? NULL : memmem(s, len, quoted, (size_t)qlen);
    if (k == NULL)
        return false;
    size_t i = skip_ws(s, len, (size_t)(k - s) + (size_t)qlen);
    if (i >= len || s[i] != ':')
        return false;
    i = skip_ws(s, len, i + 1);
    return i < len && s[i] == '0' && (i + 1 == len || s[i + 1] < '0' || s[i + 1] > '9');
}

static void phase_abort(struct loadgen_phase *ph, const char *what)
{
    util_msg("%s", what);
    ph->fatal = true;
    if (event_base_loopbreak(ph->lg->base) != 0)
        abort(); /* fails only for a NULL base */
}

static void slot_on_error(enum evhttp_request_error error, void *arg)
{
    struct slot *s = arg;
    s->transport_error = (int)error + 1;
}

static void slot_on_answer(struct evhttp_request *req, void *arg)
{
    int saved_errno = errno; /* libevent restores the socket error before a failed request's callback */
    struct slot *s = arg;
    struct loadgen_phase *ph = s->phase;
    size_t i = s->index;
    ph->latency_ns[i] = util_now_ns() - s->sent_ns;
    ph->status[i] = req == NULL ? 0 : evhttp_request_get_response_code(req);
    bool ok = ph->status[i] == ph->expect_status &&
              (ph->expect_zero == NULL || answer_has_zero(req, ph->expect_zero));
    if (!ok) {
        char text[LOADGEN_ERR_TEXT];
        answer_text(req, ph->status[i], s->transport_error, saved_errno, text);
        if (ph->errors++ == 0)
            memcpy(ph->first_error, text, sizeof text);
        if (ph->labels != NULL)
            util_msg("%s: %s", ph->labels[i], text);
    }
    s->transport_error = 0;
    if (++ph->done == ph->count) {
        if (event_base_loopbreak(ph->lg->base) != 0)
            abort();
        return;
    }
    slot_send(s);
}

/* Sets TCP_NODELAY on the slot's socket, if it has one yet. Done on every send because libevent
 * opens a new socket after a reset; a setsockopt costs far less than a request. */
static int slot_nodelay(struct slot *s)
{
    int one = 1;
    evutil_socket_t fd = bufferevent_getfd(evhttp_connection_get_bufferevent(s->evcon));
    return fd < 0 ? 0 : setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Sends the phase's next request on s, if any is left. Failure makes the phase fatal. */
static void slot_send(struct slot *s)
{
    struct loadgen_phase *ph = s->phase;
    if (ph->fatal || ph->next >= ph->count)
        return;
    size_t i = ph->next++;
    struct evhttp_request *req = evhttp_request_new(slot_on_answer, s);
    if (req == NULL) {
        phase_abort(ph, "evhttp_request_new failed");
        return;
    }
    evhttp_request_set_error_cb(req, slot_on_error);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    bool get = ph->bodies == NULL;
    if (evhttp_add_header(h, "Host", ph->lg->host_header) != 0 ||
        (!get && (evhttp_add_header(h, "Content-Type", "application/json") != 0 ||
                  evbuffer_add_reference(evhttp_request_get_output_buffer(req), ph->bodies[i].data,
                                         ph->bodies[i].len, NULL, NULL) != 0))) {
        evhttp_request_free(req);
        phase_abort(ph, "cannot build an HTTP request");
        return;
    }
    s->index = i;
    s->sent_ns = util_now_ns();
    /* On failure libevent has already freed req or keeps it on no queue; the phase ends either way. */
    if (evhttp_make_request(s->evcon, req, get ? EVHTTP_REQ_GET : EVHTTP_REQ_POST, ph->path) != 0) {
        phase_abort(ph, "evhttp_make_request failed");
        return;
    }
    if (slot_nodelay(s) != 0)
        phase_abort(ph, "cannot set TCP_NODELAY on an HTTP connection");
}

int loadgen_run(struct loadgen *lg, struct loadgen_phase *ph, double *secs)
{
    ph->lg = lg;
    ph->next = ph->done = ph->errors = 0;
    ph->fatal = false;
    ph->first_error[0] = '\0';
    ph->status = util_xcalloc(ph->count, sizeof *ph->status);
    ph->latency_ns = util_xcalloc(ph->count, sizeof *ph->latency_ns);
    uint64_t t0 = util_now_ns();
    for (size_t c = 0; c < lg->nslots; c++) {
        lg->slots[c].phase = ph;
        slot_send(&lg->slots[c]);
    }
    if (!ph->fatal && ph->count > 0 && event_base_dispatch(lg->base) == -1)
        phase_abort(ph, "the event loop failed");
    *secs = (double)(util_now_ns() - t0) / 1e9;
    if (!ph->fatal && ph->done != ph->count)
        phase_abort(ph, "the event loop ended before every request was answered");
    return ph->fatal ? -1 : 0;
}

void loadgen_phase_free(struct loadgen_phase *ph)
{
    free(ph->status);
    free(ph->latency_ns);
    ph->status = NULL;
    ph->latency_ns = NULL;
}

/* Parses "http://HOST[:PORT][/]" into lg->host and lg->host_header; -1 after printing why. */
static int loadgen_parse_url(struct loadgen *lg, const char *url, int *port)
{
    struct evhttp_uri *uri = evhttp_uri_parse(url);
    const char *scheme = uri == NULL ? NULL : evhttp_uri_get_scheme(uri);
    const char *host = uri == NULL ? NULL : evhttp_uri_get_host(uri);
    const char *path = uri == NULL ? NULL : evhttp_uri_get_path(uri);
    int rc = -1;
    if (scheme == NULL || strcmp(scheme, "http") != 0 || host == NULL || host[0] == '\0' ||
        strlen(host) >= sizeof lg->host || (path != NULL && path[0] != '\0' && strcmp(path, "/") != 0)) {
        util_msg("--url must look like http://HOST:PORT, not \"%s\"", url);
        goto out;
    }
    *port = evhttp_uri_get_port(uri) < 0 ? LOADGEN_DEFAULT_PORT : evhttp_uri_get_port(uri);
    memcpy(lg->host, host, strlen(host) + 1);
    if (snprintf(lg->host_header, sizeof lg->host_header, "%s:%d", lg->host, *port) >=
        (int)sizeof lg->host_header)
        abort(); /* cannot happen: host is shorter than LOADGEN_HOST_MAX */
    rc = 0;
out:
    if (uri != NULL)
        evhttp_uri_free(uri);
    return rc;
}

struct loadgen *loadgen_new(const char *url, size_t nconns)
{
    struct loadgen *lg = util_xcalloc(1, sizeof *lg);
    int port = 0;
    lg->slots = util_xcalloc(nconns, sizeof *lg->slots);
    if (loadgen_parse_url(lg, url, &port) != 0)
        goto fail;
    lg->base = event_base_new();
    if (lg->base == NULL) {
        util_msg("cannot create the event loop");
        goto fail;
    }
    for (lg->nslots = 0; lg->nslots < nconns; lg->nslots++) {
        struct evhttp_connection *evcon =
            evhttp_connection_base_new(lg->base, NULL, lg->host, (unsigned short)port);
        if (evcon == NULL) {
            util_msg("cannot create an HTTP connection to %s", lg->host_header);
            goto fail;
        }
        evhttp_connection_set_timeout(evcon, LOADGEN_TIMEOUT_S);
        lg->slots[lg->nslots].evcon = evcon;
        if (bufferevent_set_max_single_write(evhttp_connection_get_bufferevent(evcon), LOADGEN_MAX_WRITE) !=
            0) {
            util_msg("cannot raise the write size of an HTTP connection");
            goto fail;
        }
    }
    return lg;
fail:
    loadgen_free(lg);
    return NULL;
}

void loadgen_free(struct loadgen *lg)
{
    if (lg == NULL)
        return;
    for (size_t c = 0; c < lg->nslots; c++)
        evhttp_connection_free(lg->slots[c].evcon);
    free(lg->slots);
    if (lg->base != NULL)
        event_base_free(lg->base);
    free(lg);
}

int loadgen_probe_fixtures(struct loadgen *lg, const char *path, struct fixture *fx, size_t *nfx, size_t *rejected)
{
    size_t n = *nfx;
    struct fixture_body *b = fixture_bodies_single(fx, n, n);
    const char **labels = util_xcalloc(n, sizeof *labels);
    bool *keep = util_xcalloc(n, sizeof *keep);
    for (size_t i = 0; i < n; i++)
        labels[i] = fx[i].name;
    struct loadgen_phase ph = {.path = path,
                               .bodies = b,
                               .count = n,
                               .expect_status = LOADGEN_STATUS_CREATED,
                               .labels = labels};
    double secs;
    int rc = loadgen_run(lg, &ph, &secs);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        keep[i] = ph.status[i] == LOADGEN_STATUS_CREATED;
        if (!keep[i] && (ph.status[i] < 400 || ph.status[i] >= 500)) {
            util_msg("probe: the server failed on fixture \"%s\"", fx[i].name);
            rc = -1;
        }
    }
    if (rc == 0) {
        fixture_keep(fx, nfx, keep);
        *rejected = n - *nfx;
    }
    if (rc == 0 && *nfx == 0) {
        util_msg("the server rejected every fixture");
        rc = -1;
    }
    loadgen_phase_free(&ph);
    free(keep);
    free(labels);
    fixture_bodies_free(b, n);
    return rc;
}
