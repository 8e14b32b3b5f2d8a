/* brk: the broker. A single-threaded poll loop over one ROUTER socket that
 * publishers and workers talk to (proto/README.md), with PostgreSQL as the
 * only durable state. */
#ifndef BRK_H
#define BRK_H
#include "at_config.h"
/* Runs until SIGTERM/SIGINT; returns the process exit code. */
int brk_run (const at_config_t *cfg);
#endif
