#include "tail.h"
int tail_run(const struct cfg *c) { (void)c; return 1; }
