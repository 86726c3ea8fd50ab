/* api/api_int.h - helpers the Marquez route files of api/ share: parameters as Marquez validates
 * them, resolving {namespace}/{dataset} and {namespace}/{job} path segments, and replies.
 *
 * Invariants:
 *  1. Parameter errors have Marquez's shapes: bean-validation failures are 400 {"errors":["query
 *     param limit must be greater than or equal to 0"]} (ERR_BAD_PARAM), unknown enum values 400
 *     {"code":400,"message":"query param X must be one of [A, B]"} (ERR_BAD_INPUT).
 *  2. Not-found messages are Marquez's: "Namespace 'x' not found.", "Dataset 'y' not found.", ...
 * Included only by the route files of api/. */
#ifndef LINEAGED_API_INT_H
#define LINEAGED_API_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "api.h"
#include "json.h"
#include "store_read.h"

enum { API_DEFAULT_LIMIT = 100, API_SEARCH_DEFAULT_LIMIT = 10 };

/* Decoded path segment i ("api" is 0), or "" past the end. */
const char *api_seg(const struct req *r, size_t i);

/* limit (default def_limit) and offset (default 0): Java ints with @Min(0), as in Marquez. */
int api_page(const struct req *r, long def_limit, long *limit, long *offset, struct err *e);

/* value of query parameter `name` matched case-insensitively against names[0..n) ('-' and '.' count
 * as '_', as Dropwizard's enum parameters); *out = its index. Returns 0, or -1 with e set
 * (ERR_BAD_INPUT "query param <name> must be one of [A, B]"). */
int api_enum(const char *name, const char *value, const char *const *names, size_t n, int *out,
             struct err *e);

/* The last value of query parameter `name` through api_enum; def when absent or empty. */
int api_param_enum(const struct req *r, const char *name, const char *const *names, size_t n, int def,
                   int *out, struct err *e);

/* Every value of the repeatable query parameter `name` matched through api_enum (with commas, each value
 * is also split on ','; an empty item between commas is refused, an empty value ignored), as a JSON
 * array of the names matched, each once, in the order of names[]; *json_out NULL when there is none.
 * Returns 0, or -1 with e set (api_enum's 400). */
int api_param_enum_list(struct req *r, const char *name, const char *const *names, size_t n, bool commas,
                        const char **json_out, struct err *e);

/* Fills e with "<what> '<name>' not found." (ERR_NOT_FOUND); returns -1. */
int api_not_found(struct err *e, const char *what, const char *name);

/* 200 with json (NUL-terminated, arena-owned); returns 0. */
int api_reply(struct reply *out, const char *json);

/* The dataset named by segments ns_i and name_i: *id set, or -1 with e set to Marquez's 404. */
int api_dataset_id(struct req *r, size_t ns_i, size_t name_i, const char **id, struct err *e);

/* The job named by segments ns_i and name_i. When the name is a symlink to another job, *out is a 301
 * to the same route with the target's namespace and name (Marquez's JobRedirectFilter) and *id is
 * NULL: the handler returns 0 at once. Otherwise *id is set, or -1 with e set to Marquez's 404. */
int api_job_id(struct req *r, struct reply *out, size_t ns_i, size_t name_i, const char **id, struct err *e);

/* The tag name in path segment i, if it fits --max-name-bytes (tags are index keys, as event names
 * are); else NULL with e set (ERR_INVALID, where "tag": "tag is N bytes long; the limit is M ..."). */
const char *api_tag_name(const struct req *r, size_t i, struct err *e);

/* The JSON body of a PUT as an object, or NULL for an empty body. -1 with e set (400) when the body
 * is not a JSON object. */
int api_body_object(struct req *r, const struct json_value **obj, struct err *e);

#endif
