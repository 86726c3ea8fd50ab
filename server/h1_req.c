/* server/h1_req.c - a parsed request head (h1.h) into the struct req handlers see (common/http.h).
 *
 * Invariants: every string of the req is in its arena (the head's already are); the path is kept raw
 * and split on '/' before its segments are percent-decoded (http_split_path), so "%2F" stays inside one
 * segment; the method names the route table knows map to enum http_method, every other to HTTP_OTHER
 * (405 or 404 from the table). Threads: loop thread (and the fuzz target). */
#include "h1_int.h"

#include <string.h>

#include "reply_gzip.h"

static enum http_method method_of(const char *m)
{
    static const struct {
        const char *name;
        enum http_method method;
    } known[] = {{"GET", HTTP_GET}, {"POST", HTTP_POST}, {"PUT", HTTP_PUT}, {"DELETE", HTTP_DELETE},
                 {"HEAD", HTTP_HEAD}};

    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(m, known[i].name) == 0)
            return known[i].method;
    return HTTP_OTHER;
}

int h1_req_from_head(struct req *r, const struct h1_head *h, struct err *e)
{
    r->method = method_of(h->method);
    r->path = h->path;
    if (http_split_path(r->arena, r->path, &r->segments, &r->n_segments, e) != 0)
        return -1;
    if (http_parse_query(r->arena, h->query, &r->params, &r->n_params, e) != 0)
        return -1;
    r->n_headers = h->n_fields;
    r->headers = arena_alloc(r->arena, (h->n_fields + 1) * sizeof *r->headers);
    for (size_t i = 0; i < h->n_fields; i++)
        r->headers[i] = (struct http_param){h->fields[i].name, h->fields[i].value};
    r->content_type = http_header(r, "Content-Type");
    r->content_encoding = http_header(r, "Content-Encoding");
    r->accepts_gzip = reply_gzip_accepted(http_header(r, "Accept-Encoding"));
    r->body = "";
    r->body_len = 0;
    return 0;
}
