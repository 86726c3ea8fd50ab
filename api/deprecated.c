/* api/deprecated.c - Marquez's pre-OpenLineage write routes: PUT sources/datasets/jobs, POST runs and
 * POST runs/{id}/{start,complete,fail,abort}. Marquez marks them deprecated; lineaged derives its
 * whole model from the OpenLineage event log, so a write outside it would be lost on a rebuild and
 * invisible to a second collector. They answer 410 Gone, naming the route that replaces them.
 * Invariants: nothing here touches the store. */
#include "api_int.h"

int api_gone(struct req *r, struct reply *out, struct err *e)
{
    (void)r;
    (void)out;
    return err_set(e, ERR_GONE, NULL,
                   "This Marquez API route is deprecated and not supported by lineaged: send OpenLineage "
                   "events to POST /api/v1/lineage instead (see https://openlineage.io)");
}
