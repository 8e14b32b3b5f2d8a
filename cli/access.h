/* access: what `atende keys` and `atende users` share (cli/access.c): their
 * flags, and the change and its audit row in one transaction. */
#ifndef CLI_ACCESS_H
#define CLI_ACCESS_H

#include <jansson.h>
#include "at_config.h"
#include "at_store.h"

#define CLI_ACTOR "cli"   /* the audit rows' actor */

/* One flag of a verb: "--name"; value gets its argument (or the flag's own
 * name, for a flag without one). */
typedef struct {
  const char *name;
  bool takes_value;
  const char **value;
} cli_flag_t;

/* Parses argv[0..argc) (after the verb) against flags; one positional
 * argument goes to *positional when it is not NULL. A flag twice, a flag
 * without its value, an unknown flag or a surplus argument: says which on
 * stderr (prefixed by cmd, e.g. "atende keys create") and returns false. */
bool cli_flags_parse (const char *cmd, int argc, char **argv, const cli_flag_t *flags,
                      size_t n_flags, const char **positional);

/* Connects and begins a transaction; NULL (said on stderr) when it cannot. */
at_store_t *cli_access_begin (const at_config_t *cfg, const char *cmd);
/* Appends the audit row (actor cli; *detail_p taken, may be NULL) and
 * commits; on failure rolls back, says so on stderr and returns 1. 0 done. */
int cli_access_commit (at_store_t *store, const char *cmd, const char *action,
                       const char *target, json_t **detail_p);
/* Rolls back and closes; returns rc. */
int cli_access_abort (at_store_t **store_p, int rc);

#endif
