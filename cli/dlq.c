/* `atende dlq`: the dead letters (lib/store/at_store_dlq.h).
 *   atende dlq list [--stage S] [--limit N]       newest first, one line each
 *   atende dlq show <id>                          one, as JSON, with its history
 *   atende dlq replay <id>                        back to the bus at attempt 1
 *   atende dlq replay --stage S [--limit N|--all] a stage's oldest, one transaction
 * Exit codes: 0 done (or nothing to do: already replayed), 1 unknown id or
 * store failure, 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "at_store_dlq.h"
#include "at_json.h"
#include "at_log.h"

#define S_LIST_DEFAULT 50
#define S_REPLAY_DEFAULT 100
#define S_SHOW_CAP (256 * 1024)

static const char *s_usage =
  "usage: atende dlq list [--stage S] [--limit N]      (N: 1..1000, default 50)\n"
  "       atende dlq show <id>\n"
  "       atende dlq replay <id>\n"
  "       atende dlq replay --stage S [--limit N | --all] (default 100, --all: up to 100000)\n";

typedef struct {
  const char *stage;
  long limit;
  bool all;
  const char *id;
} s_args_t;

/* Parses argv[0..argc) after the verb; false (usage said) when wrong. */
static bool
s_args (int argc, char **argv, long max_limit, s_args_t *a)
{
  for (int i = 0; i < argc; i++) {
    if (strcmp (argv[i], "--stage") == 0 && i + 1 < argc)
      a->stage = argv[++i];
    else if (strcmp (argv[i], "--limit") == 0 && i + 1 < argc) {
      if (at_parse_long (argv[++i], 1, max_limit, &a->limit) != AT_OK) {
        fprintf (stderr, "atende dlq: --limit must be an integer in [1, %ld]\n", max_limit);
        return false;
      }
    }
    else if (strcmp (argv[i], "--all") == 0)
      a->all = true;
    else if (argv[i][0] != '-' && a->id == NULL)
      a->id = argv[i];
    else {
      fprintf (stderr, "atende dlq: unexpected argument '%.64s'\n%s", argv[i], s_usage);
      return false;
    }
  }
  if (a->stage && (*a->stage == '\0' || strlen (a->stage) >= AT_STAGE_LEN)) {
    fprintf (stderr, "atende dlq: --stage needs a stage name\n");
    return false;
  }
  return true;
}

static int
s_list (at_store_t *store, const s_args_t *a)
{
  at_dlq_entry_t *entries = NULL;
  size_t n = 0;
  if (at_dlq_list (store, a->stage, a->limit ? (int) a->limit : S_LIST_DEFAULT, &entries, &n)
      != AT_OK) {
    fprintf (stderr, "atende dlq: cannot read the dead letters: %s\n", at_store_last_error (store));
    return 1;
  }
  printf ("%-36s  %-7s  %7s  %-27s  %s\n", "id", "stage", "attempt", "dead_at", "reason");
  for (size_t i = 0; i < n; i++)
    printf ("%-36s  %-7s  %7u  %-27s  %.200s\n", entries[i].id, entries[i].stage,
            entries[i].attempt, entries[i].dead_at, entries[i].reason);
  printf ("%zu dead letter%s\n", n, n == 1 ? "" : "s");
  at_dlq_entries_free (&entries, n);
  return 0;
}

static int
s_not_dead (const char *id, at_dlq_where_t where, const char *verb)
{
  if (where == AT_DLQ_PENDING) {
    printf ("%s: %s is not a dead letter: it is pending on the bus (already replayed?); "
            "nothing changed\n", verb, id);
    return 0;
  }
  fprintf (stderr, "atende dlq %s: no dead letter %s (never dead-lettered, or replayed and "
           "done); nothing changed\n", verb, id);
  return 1;
}

static int
s_show (at_store_t *store, const char *id)
{
  at_dlq_entry_t entry;
  at_dlq_where_t where;
  int rc = at_dlq_get (store, id, &entry, &where);
  if (rc == AT_INVALID) {
    fprintf (stderr, "atende dlq show: '%.64s' is not a message id (a UUID)\n", id);
    return 2;
  }
  if (rc == AT_NOTFOUND)
    return s_not_dead (id, where, "show");
  if (rc != AT_OK) {
    fprintf (stderr, "atende dlq show: store failure: %s\n", at_store_last_error (store));
    return 1;
  }
  json_t *j = at_dlq_entry_json (&entry, true);
  char *text = at_json_dump (j, S_SHOW_CAP);
  printf ("%s\n", text ? text : "{\"error\":\"too large to show\"}");
  free (text);
  json_decref (j);
  at_dlq_entry_clear (&entry);
  return 0;
}

static int
s_replay (at_store_t *store, const at_config_t *cfg, const s_args_t *a)
{
  if ((a->id == NULL) == (a->stage == NULL)) {
    fprintf (stderr, "atende dlq replay: give an id or --stage S\n%s", s_usage);
    return 2;
  }
  if (a->stage) {
    long limit = a->all ? AT_DLQ_REPLAY_MAX : a->limit ? a->limit : S_REPLAY_DEFAULT;
    size_t moved = 0;
    if (at_dlq_replay_stage (store, a->stage, (int) limit, at_config_shards (cfg), &moved)
        != AT_OK) {
      fprintf (stderr, "atende dlq replay: failed, nothing changed: %s\n",
               at_store_last_error (store));
      return 1;
    }
    printf ("replayed %zu dead letter%s of stage %s\n", moved, moved == 1 ? "" : "s", a->stage);
    return 0;
  }
  at_dlq_where_t where;
  int rc = at_dlq_replay (store, a->id, at_config_shards (cfg), &where);
  if (rc == AT_INVALID) {
    fprintf (stderr, "atende dlq replay: '%.64s' is not a message id (a UUID)\n", a->id);
    return 2;
  }
  if (rc == AT_NOTFOUND)
    return s_not_dead (a->id, where, "replay");
  if (rc != AT_OK) {
    fprintf (stderr, "atende dlq replay: failed, nothing changed: %s\n",
             at_store_last_error (store));
    return 1;
  }
  printf ("replayed %s: pending again at attempt 1\n", a->id);
  return 0;
}

int
cli_dlq (const at_config_t *cfg, int argc, char **argv)
{
  if (argc < 1) {
    fputs (s_usage, stderr);
    return 2;
  }
  const char *verb = argv[0];
  s_args_t a = {0};
  bool list = strcmp (verb, "list") == 0, show = strcmp (verb, "show") == 0,
       replay = strcmp (verb, "replay") == 0;
  if (!list && !show && !replay) {
    fprintf (stderr, "atende dlq: unknown verb '%.32s'\n%s", verb, s_usage);
    return 2;
  }
  if (!s_args (argc - 1, argv + 1, replay ? AT_DLQ_REPLAY_MAX : AT_DLQ_LIST_MAX, &a))
    return 2;
  if ((list && a.id) || (show && (a.id == NULL || a.stage || a.limit || a.all))
      || (!replay && a.all)) {
    fputs (s_usage, stderr);
    return 2;
  }
  at_store_t *store = at_store_new (cfg->database_url, "dlq");
  if (store == NULL) {
    fprintf (stderr, "atende dlq: cannot reach the store\n");
    return 1;
  }
  int rc = list ? s_list (store, &a) : show ? s_show (store, a.id) : s_replay (store, cfg, &a);
  at_store_destroy (&store);
  return rc;
}
