#include "stats.h"
int stats_run(const struct cfg *c) { (void)c; return 1; }
