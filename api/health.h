/* api/health.h - the health routes: Marquez's GET /healthcheck, and GET /healthz and GET /readyz for
 * orchestrators (liveness and readiness probes) and load balancers.
 *
 * /healthz never touches the database: 200 while the process can answer at all.
 * /readyz answers 200 only when every check passes, else 503; both bodies list every check:
 *   {"ready":false,"checks":{"database":{"ok":false,"error":"..."},"migrations":{"ok":..,"applied":N,
 *    "expected":M},"graph":{"ok":..},"followerLag":{"ok":..,"lag":N|null,"max":M}},
 *    "reasons":["database: ..."]}
 * Threads: worker threads; /healthz and /readyz may run with r->store NULL (no connection). */
#ifndef LINEAGED_HEALTH_H
#define LINEAGED_HEALTH_H

#include "http.h"

/* GET /healthcheck (Marquez): 200 when the database answers, 503 otherwise. */
int health_get(struct req *r, struct reply *out, struct err *e);

/* GET /healthz: 200 {"alive":true}. Never fails, never reads the database. */
int health_live(struct req *r, struct reply *out, struct err *e);

/* GET /readyz: database reachable, migrations of this binary applied, lineage graph loaded, graph
 * follower at most --ready-max-lag events behind the log (unchecked while unknown). Never fails: a
 * failed check is a 503 with the body above. */
int health_ready(struct req *r, struct reply *out, struct err *e);

#endif
