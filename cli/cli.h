/* cli: subcommands that live in the command-line program itself. */
#ifndef CLI_H
#define CLI_H
#include "at_config.h"
/* Applies migrations; waits up to wait_s seconds for the database. Exit code. */
int cli_migrate (const at_config_t *cfg, int wait_s);
/* `atende dlq list|show|replay ...` (argv[0] is the verb). Exit code. */
int cli_dlq (const at_config_t *cfg, int argc, char **argv);
/* `atende keys create|list|revoke ...` (argv[0] is the verb). Exit code. */
int cli_keys (const at_config_t *cfg, int argc, char **argv);
/* `atende users create|list|disable ...` (argv[0] is the verb). Exit code. */
int cli_users (const at_config_t *cfg, int argc, char **argv);
/* `atende retention run [--limit N]` (argv[0] is the verb). Exit code. */
int cli_retention (const at_config_t *cfg, int argc, char **argv);
#endif
