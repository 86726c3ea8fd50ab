/* api/health.c - the liveness and readiness check operators and tests poll. */
#include "health.h"

#include <string.h>

#include "store.h"

int health_get(struct req *r, struct reply *out, struct err *e)
{
    static const char body[] = "{\"healthy\":true,\"database\":\"ok\"}";

    if (store_ping(r->store, e) != 0)
        return -1;
    http_reply_json(out, 200, body, strlen(body));
    return 0;
}
