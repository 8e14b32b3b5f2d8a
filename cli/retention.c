/* `atende retention run [--limit N]`: erases the texts (bodies, attachments)
 * of messages of tickets resolved more than ATENDE_RETENTION_DAYS days ago
 * (lib/store/at_store_privacy.h), N messages a transaction (default 1000)
 * until none is left, one audit row (actor "cli") a transaction. The manual
 * command: the daily run is a scheduled message on the bus that the survey
 * workers handle and start (workers/survey/retention.c).
 * `atende retention schedule`: starts that schedule now when none is
 * pending (what every survey worker does at its start), e.g. after an
 * operator deleted or dead-lettered it. 0 days: retention is off and
 * neither does anything. Exit codes: 0 done, 1 store failure, 2 usage. */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "at_log.h"
#include "at_store_privacy.h"

#define S_LIMIT_DEFAULT 1000
#define S_LIMIT_MAX 100000

static const char *s_usage =
  "usage: atende retention run [--limit N]   (N messages a transaction: 1..100000, default 1000)\n"
  "       atende retention schedule          (start the daily run on the bus if none is pending)\n";

static int
s_run (const at_config_t *cfg, long limit)
{
  if (cfg->retention_days == 0) {
    at_info ("retention", "msg=\"retention off (ATENDE_RETENTION_DAYS=0): nothing erased\"");
    return 0;
  }
  at_store_t *store = at_store_new (cfg->database_url, "retention");
  if (!store) {
    fprintf (stderr, "atende retention: the database cannot be reached\n");
    return 1;
  }
  long total = 0, erased = 0;
  int rc = AT_OK;
  do {
    rc = at_store_retention_erase (store, cfg->retention_days, limit, "cli", &erased);
    total += erased;
  } while (rc == AT_OK && erased == limit);
  at_store_destroy (&store);
  if (rc != AT_OK) {
    fprintf (stderr, "atende retention: store failure after %ld messages\n", total);
    return 1;
  }
  at_info ("retention", "msg=\"retention run\" days=%ld messages_erased=%ld",
           cfg->retention_days, total);
  printf ("erased the texts of %ld messages of tickets resolved more than %ld days ago\n", total,
          cfg->retention_days);
  return 0;
}

static int
s_schedule (const at_config_t *cfg)
{
  bool started = false;
  if (cfg->retention_days == 0) {
    printf ("retention is off (ATENDE_RETENTION_DAYS=0): no schedule\n");
    return 0;
  }
  at_store_t *store = at_store_new (cfg->database_url, "retention");
  if (!store) {
    fprintf (stderr, "atende retention: the database cannot be reached\n");
    return 1;
  }
  int rc = at_store_retention_start (store, cfg->retention_interval_s, at_config_shards (cfg),
                                     &started);
  at_store_destroy (&store);
  if (rc != AT_OK) {
    fprintf (stderr, "atende retention: store failure, no schedule started\n");
    return 1;
  }
  printf ("%s\n", started ? "retention schedule started: the first run is due now"
                          : "a retention run is already pending: nothing to do");
  return 0;
}

int
cli_retention (const at_config_t *cfg, int argc, char **argv)
{
  long limit = S_LIMIT_DEFAULT;
  if (argc == 1 && strcmp (argv[0], "schedule") == 0)
    return s_schedule (cfg);
  if (argc < 1 || strcmp (argv[0], "run") != 0) {
    fputs (s_usage, stderr);
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    if (strcmp (argv[i], "--limit") == 0 && i + 1 < argc
        && at_parse_long (argv[i + 1], 1, S_LIMIT_MAX, &limit) == AT_OK)
      i++;
    else {
      fprintf (stderr, "atende retention: unexpected argument '%.64s'\n%s", argv[i], s_usage);
      return 2;
    }
  }
  return s_run (cfg, limit);
}
