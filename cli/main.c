/* atende: one executable, one subcommand per role. */
#include "api.h"
#include "at_common.h"
#include "at_channel.h"
#include "at_config.h"
#include "brk.h"
#include "cli.h"
#include "demo.h"
#include "wrk.h"

#include <stdio.h>
#include <string.h>

static const char *s_usage =
  "atende " ATENDE_VERSION " - customer-service backbone for online stores\n"
  "\n"
  "usage: atende <command> [settings flags] [arguments]\n"
  "\n"
  "commands:\n"
  "  broker                 run a broker (dispatch, leases, redelivery)\n"
  "  worker <stages>        run workers: ingest, route, notify, survey, a comma list, or all\n"
  "  api                    run the HTTP/JSON api\n"
  "  migrate [--wait S]     apply database migrations (waits up to S seconds for the database)\n"
  "  dlq list|show|replay   the dead letters: list [--stage S] [--limit N], show <id>,\n"
  "                         replay <id> | --stage S [--limit N | --all]\n"
  "  keys create|list|revoke|curve\n"
  "                         API keys: create --name N --scopes S1,S2 [--expires-days N]\n"
  "                         (prints the key, once), list, revoke <id>\n"
  "  keys curve [broker | publisher | worker:STAGE]\n"
  "                         a new CURVE key pair for the bus, as settings lines\n"
  "  users create|list|disable\n"
  "                         people: create --email E --name N --role agent|lead|admin\n"
  "                         [--languages pt-BR,en] [--teams a,b] (the password on stdin),\n"
  "                         list, disable <id|email>\n"
  "  retention run          erase texts of tickets resolved ATENDE_RETENTION_DAYS ago\n"
  "  demo [options]         run the sales-peak demo against a database (see atende demo --help)\n"
  "  version                print the version\n"
  "\n"
  "every command accepts --help and --print-config; settings come from the\n"
  "environment and from flags (flags win). Run `atende --help` for the table.\n";

static bool
s_has (int argc, char **argv, const char *flag)
{
  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], flag) == 0)
      return true;
  return false;
}

static int
s_dispatch (const at_config_t *cfg, int argc, char **argv)
{
  const char *cmd = argv[1];
  if (strcmp (cmd, "broker") == 0)
    return brk_run (cfg);
  if (strcmp (cmd, "api") == 0)
    return api_run (cfg);
  if (strcmp (cmd, "worker") == 0) {
    if (argc < 3) {
      fprintf (stderr, "atende worker: which stages? ingest, route, notify, survey or all\n");
      return 2;
    }
    return wrk_run (cfg, argv[2]);
  }
  if (strcmp (cmd, "migrate") == 0) {
    long wait_s = 0;
    if (argc >= 4 && strcmp (argv[2], "--wait") == 0
        && at_parse_long (argv[3], 0, 3600, &wait_s) != AT_OK) {
      fprintf (stderr, "atende migrate: --wait takes seconds (0..3600)\n");
      return 2;
    }
    return cli_migrate (cfg, (int) wait_s);
  }
  if (strcmp (cmd, "dlq") == 0)
    return cli_dlq (cfg, argc - 2, argv + 2);
  if (strcmp (cmd, "keys") == 0)
    return cli_keys (cfg, argc - 2, argv + 2);
  if (strcmp (cmd, "users") == 0)
    return cli_users (cfg, argc - 2, argv + 2);
  if (strcmp (cmd, "retention") == 0)
    return cli_retention (cfg, argc - 2, argv + 2);
  if (strcmp (cmd, "demo") == 0)
    return demo_run (cfg, argc - 1, argv + 1);
  if (strcmp (cmd, "version") == 0) {
    printf ("atende %s\n", ATENDE_VERSION);
    return 0;
  }
  fprintf (stderr, "atende: unknown command '%s'\n\n%s", cmd, s_usage);
  return 2;
}

int
main (int argc, char **argv)
{
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0) {
    fputs (s_usage, argc < 2 ? stderr : stdout);
    if (argc >= 2)
      at_config_print_help (stdout);
    return argc < 2 ? 2 : 0;
  }
  at_config_t *cfg = at_config_new (&argc, argv);
  if (cfg == NULL)
    return 2;
  if (at_channel_set_default_country (cfg->default_phone_country) != AT_OK) {
    fprintf (stderr, "atende: ATENDE_DEFAULT_PHONE_COUNTRY must be a country calling code (55, 1, 351)\n");
    at_config_destroy (&cfg);
    return 2;
  }
  int rc = 0;
  if (s_has (argc, argv, "--print-config"))
    at_config_print (cfg, stdout);
  else if (s_has (argc, argv, "--help") && strcmp (argv[1], "demo") != 0) {
    fputs (s_usage, stdout);
    at_config_print_help (stdout);
  }
  else
    rc = s_dispatch (cfg, argc, argv);
  at_config_destroy (&cfg);
  return rc;
}
