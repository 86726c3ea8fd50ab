/* api/lineage.h - the lineage read routes, answered from the in-memory graph:
 * GET /api/v1/lineage, /api/v1/column-lineage, /api/v1/runlineage/upstream, /api/v1/impact. */
#ifndef LINEAGED_API_LINEAGE_H
#define LINEAGED_API_LINEAGE_H

#include "http.h"

int api_get_lineage(struct req *r, struct reply *out, struct err *e);
int api_get_column_lineage(struct req *r, struct reply *out, struct err *e);
int api_get_run_lineage_upstream(struct req *r, struct reply *out, struct err *e);
int api_get_impact(struct req *r, struct reply *out, struct err *e);

#endif
