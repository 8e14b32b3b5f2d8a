/* What `atende keys` and `atende users` share: flags, and every change
 * written with its audit row in one transaction (cli/access.h). */
#include <stdio.h>
#include <string.h>
#include "access.h"
#include "at_store_auth.h"

static const cli_flag_t *
s_flag (const cli_flag_t *flags, size_t n, const char *arg)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (flags[i].name, arg) == 0)
      return &flags[i];
  return NULL;
}

bool
cli_flags_parse (const char *cmd, int argc, char **argv, const cli_flag_t *flags,
                 size_t n_flags, const char **positional)
{
  for (int i = 0; i < argc; i++) {
    const cli_flag_t *f = s_flag (flags, n_flags, argv[i]);
    if (f && *f->value) {
      fprintf (stderr, "%s: %s is given twice\n", cmd, f->name);
      return false;
    }
    if (f && f->takes_value
        && (i + 1 >= argc || argv[i + 1][0] == '\0' || strncmp (argv[i + 1], "--", 2) == 0)) {
      fprintf (stderr, "%s: %s needs a value\n", cmd, f->name);
      return false;
    }
    if (f) {
      *f->value = f->takes_value ? argv[++i] : f->name;
      continue;
    }
    if (argv[i][0] != '-' && positional && *positional == NULL) {
      *positional = argv[i];
      continue;
    }
    fprintf (stderr, "%s: unexpected argument '%.64s'\n", cmd, argv[i]);
    return false;
  }
  return true;
}

at_store_t *
cli_access_begin (const at_config_t *cfg, const char *cmd)
{
  at_store_t *store = at_store_new (cfg->database_url, "cli");
  if (store == NULL) {
    fprintf (stderr, "%s: cannot reach the store; nothing written\n", cmd);
    return NULL;
  }
  if (at_store_begin (store) != AT_OK) {
    fprintf (stderr, "%s: cannot begin a transaction: %s\n", cmd, at_store_last_error (store));
    at_store_destroy (&store);
  }
  return store;
}

int
cli_access_commit (at_store_t *store, const char *cmd, const char *action, const char *target,
                   json_t **detail_p)
{
  json_t *detail = detail_p ? *detail_p : NULL;
  if (detail_p)
    *detail_p = NULL;
  int rc = at_store_audit (store, CLI_ACTOR, action, target, detail, NULL);
  json_decref (detail);
  if (rc == AT_OK)
    rc = at_store_commit (store);
  if (rc != AT_OK) {
    fprintf (stderr, "%s: cannot write the change and its audit row, nothing written: %s\n",
             cmd, at_store_last_error (store));
    at_store_rollback (store);
    return 1;
  }
  return 0;
}

int
cli_access_abort (at_store_t **store_p, int rc)
{
  if (store_p && *store_p) {
    at_store_rollback (*store_p);
    at_store_destroy (store_p);
  }
  return rc;
}
