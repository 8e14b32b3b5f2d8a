/* `atende migrate`: applies the numbered migrations, retrying while the
 * database comes up (a Kubernetes Job starts with the database). */
#include "cli.h"
#include "at_log.h"
#include "at_store.h"

#include <unistd.h>

int
cli_migrate (const at_config_t *cfg, int wait_s)
{
  at_store_t *store = NULL;
  for (int waited = 0; (store = at_store_new (cfg->database_url, "migrate")) == NULL; waited++) {
    if (waited >= wait_s)
      return 1;
    sleep (1);
  }
  int applied = 0;
  int rc = at_store_migrate (store, &applied);
  at_store_destroy (&store);
  if (rc != AT_OK)
    return 1;
  at_info ("migrate", "msg=\"schema up to date\" applied=%d", applied);
  return 0;
}
