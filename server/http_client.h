/* server/http_client.h - a small blocking HTTP/1.1 client on libevent's evhttp, for subcommands that
 * talk to a running lineaged (publish-model).
 *
 * Invariants:
 *  1. Every request ends within the client's timeout (connect, each read and write), with a reply or
 *     an error: http_client_request never blocks longer and never hangs on an idle connection.
 *  2. At most HTTP_CLIENT_MAX_BODY bytes of a reply body are kept (the rest is read and dropped,
 *     `truncated` is set), so a huge or endless reply costs bounded memory.
 *  3. The API key goes only into the Authorization header; it is never logged or put in an error.
 * Ownership: struct http_client owns its event base and connection (http_client_free); reply bodies
 * are copied into the caller's arena. Threads: one thread per client. */
#ifndef LINEAGED_HTTP_CLIENT_H
#define LINEAGED_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "err.h"

enum { HTTP_CLIENT_MAX_BODY = 1 << 20, HTTP_CLIENT_MAX_HEADERS = 64 << 10 };

struct http_client;

struct http_client_reply {
    int status;
    const char *body; /* NUL-terminated, in the caller's arena */
    size_t len;
    bool truncated; /* the server sent more than HTTP_CLIENT_MAX_BODY bytes */
};

/* A client for the server at url ("http://host[:port][/prefix]"). api_key may be "" or NULL (no
 * Authorization header). Returns NULL with e set (ERR_BAD_INPUT) for a URL that is not http://host..,
 * or ERR_INTERNAL if libevent cannot start. Caller frees with http_client_free. */
struct http_client *http_client_new(const char *url, int timeout_s, const char *api_key, struct err *e);

void http_client_free(struct http_client *c);

/* Sends GET (body NULL) or POST (a JSON body) to the URL's prefix + path (path already
 * percent-encoded, starting with '/') and waits for the reply. Returns 0 with *out filled whatever the
 * status, or -1 with e set (ERR_UNAVAILABLE: cannot connect, timed out, connection lost). */
int http_client_request(struct http_client *c, struct arena *a, const char *path, const char *body,
                        size_t len, struct http_client_reply *out, struct err *e);

/* s percent-encoded as one path segment (every byte but A-Z a-z 0-9 - . _ ~), in arena a. */
char *http_client_escape(struct arena *a, const char *s);

#endif
