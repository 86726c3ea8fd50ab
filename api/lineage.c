/* api/lineage.c - lineage routes (work in progress: answered once the graph module lands). */
#include "lineage.h"

int api_get_lineage(struct req *r, struct reply *out, struct err *e)
{
    (void)r;
    (void)out;
    return err_set(e, ERR_UNAVAILABLE, NULL, "lineage queries are not available yet");
}

int api_get_column_lineage(struct req *r, struct reply *out, struct err *e)
{
    return api_get_lineage(r, out, e);
}

int api_get_impact(struct req *r, struct reply *out, struct err *e)
{
    return api_get_lineage(r, out, e);
}
