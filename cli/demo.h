/* demo: the sales-peak scenario. Starts broker, workers and api as child
 * processes of this binary plus a local receiver standing in for the
 * providers, plays a seeded scenario against the api, prints progress and a
 * summary, and stops everything (also on Ctrl-C). The database must exist. */
#ifndef DEMO_H
#define DEMO_H
#include "at_config.h"
int demo_run (const at_config_t *cfg, int argc, char **argv);
#endif
