/* server/h1_reply.c - the status line and headers of a reply.
 *
 * Invariants:
 *  1. Every reply says how long its body is (Content-Length), so a keep-alive client always knows
 *     where the next reply starts; 1xx, 204 and 304 carry no body and no Content-Length.
 *  2. Header values come from our own code (reply fields, request id): never from client bytes, so a
 *     reply cannot be split by a client.
 *  3. "Connection: close" is sent exactly when the connection closes after this reply.
 * Threads: loop thread. */
#include "h1_int.h"

#include <stdio.h>
#include <time.h>

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return status >= 500 ? "Internal Server Error" : "Error";
    }
}

/* RFC 9110 5.6.7 IMF-fixdate of now. */
static void http_date(char *out, size_t cap)
{
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    if (strftime(out, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
        out[0] = '\0';
}

/* No control characters (handlers percent-encode what they put in Location; this keeps it so). */
static bool printable(const char *v)
{
    for (; *v != '\0'; v++)
        if ((unsigned char)*v < 0x20 || *v == 0x7f)
            return false;
    return true;
}

static bool status_has_body(int status)
{
    return status >= 200 && status != 204 && status != 304;
}

int h1_reply_head(struct evbuffer *out, const struct h1_exchange *x, size_t body_len, bool no_body, bool close)
{
    const struct reply *r = &x->reply;
    char date[64];
    int rc = 0;

    http_date(date, sizeof date);
    rc |= evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nDate: %s\r\n", r->status, reason_phrase(r->status), date) < 0;
    if (status_has_body(r->status)) {
        if (r->body != NULL)
            rc |= evbuffer_add_printf(out, "Content-Type: %s\r\n",
                                      r->content_type ? r->content_type : "application/json") < 0;
        rc |= evbuffer_add_printf(out, "Content-Length: %zu\r\n", no_body && r->body == NULL ? 0 : body_len) < 0;
    }
    if (r->location != NULL && printable(r->location))
        rc |= evbuffer_add_printf(out, "Location: %s\r\n", r->location) < 0;
    if (r->retry_after_s > 0)
        rc |= evbuffer_add_printf(out, "Retry-After: %d\r\n", r->retry_after_s) < 0;
    if (r->content_encoding != NULL)
        rc |= evbuffer_add_printf(out, "Content-Encoding: %s\r\n", r->content_encoding) < 0;
    rc |= evbuffer_add_printf(out, "Vary: Accept-Encoding\r\nX-Request-Id: %s\r\n", x->req.request_id) < 0;
    if (close)
        rc |= evbuffer_add_printf(out, "Connection: close\r\n") < 0;
    else if (x->minor == 0)
        rc |= evbuffer_add_printf(out, "Connection: keep-alive\r\n") < 0;
    rc |= evbuffer_add(out, "\r\n", 2) != 0;
    return rc ? -1 : 0;
}
