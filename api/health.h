/* api/health.h - GET /healthcheck: 200 when the database answers, 503 otherwise. */
#ifndef LINEAGED_HEALTH_H
#define LINEAGED_HEALTH_H

#include "http.h"

int health_get(struct req *r, struct reply *out, struct err *e);

#endif
