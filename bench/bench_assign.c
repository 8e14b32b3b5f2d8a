/* bench_assign: desk assignments per second against PostgreSQL, with the
 * store functions route's desk.assign round uses (at_store_desk.h): a page
 * of the queue locked with SKIP LOCKED, the least-loaded eligible agent
 * with their load row locked, the assignment checked against the limit and
 * written, one transaction per round of --batch tickets. Starts from
 * --agents agents online (limit --limit, chat 1, email 0.3) and --tickets
 * tickets waiting. Phase "fill": rounds until every agent is full or the
 * queue is empty. Phase "steady": --cycles times, --batch held tickets are
 * resolved (released, one transaction) and a round gives out as many.
 * Prints figures, never asserts a time.
 *
 *   bench_assign --db CONNINFO [--agents 1000] [--tickets 100000] [--limit 3]
 *                [--batch 50] [--cycles 200] */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "at_list.h"
#include "at_store.h"
#include "at_store_desk.h"

#define S_WEIGHTS "chat=1,whatsapp=1,sms=1,email=0.3,form=0.3,*=1"

typedef struct {
  at_store_t *store;
  char weights[AT_DESK_WEIGHTS_JSON_MAX];
  long batch;
  int64_t *held;                   /* tickets given out and not resolved yet */
  size_t n_held, cap_held;
} s_bench_t;

/* One round as route runs it: AT_OK with *given tickets given out. */
static int
s_round (s_bench_t *b, int64_t team, long *given)
{
  at_desk_ticket_t page[AT_DESK_PAGE_MAX];
  size_t n = 0, cap = (size_t) b->batch * 4 < AT_DESK_PAGE_MAX ? (size_t) b->batch * 4
                                                                : AT_DESK_PAGE_MAX;
  *given = 0;
  int rc = at_store_begin (b->store);
  if (rc == AT_OK)
    rc = at_store_desk_queue_page (b->store, team, cap, page, &n);
  for (size_t i = 0; rc == AT_OK && i < n && *given < b->batch; i++) {
    at_desk_pick_t q = {.team_id = team, .ticket_id = page[i].ticket_id,
                        .language = page[i].language, .skills = page[i].needs_skills,
                        .weights_json = b->weights};
    int64_t agent = 0, assignment = 0;
    rc = at_store_desk_pick (b->store, &q, &agent);
    if (rc == AT_NOTFOUND) {
      rc = AT_OK;
      continue;
    }
    at_desk_assign_t a = {.ticket_id = page[i].ticket_id, .agent_id = agent, .team_id = team,
                          .how = "auto", .weights_json = b->weights};
    if (rc == AT_OK)
      rc = at_store_desk_assign (b->store, &a, &assignment);
    if (rc == AT_OK && b->n_held < b->cap_held) {
      b->held[b->n_held++] = page[i].ticket_id;
      (*given)++;
    }
  }
  if (rc == AT_OK)
    return at_store_commit (b->store);
  (void) at_store_rollback (b->store);
  return rc;
}

/* Resolves the batch oldest held tickets (their agents' load down). */
static int
s_release (s_bench_t *b)
{
  size_t n = (size_t) b->batch < b->n_held ? (size_t) b->batch : b->n_held;
  int64_t agent;
  int rc = at_store_begin (b->store);
  for (size_t i = 0; rc == AT_OK && i < n; i++)
    rc = at_store_desk_release (b->store, b->held[i], "resolved", "done", &agent);
  rc = rc == AT_OK ? at_store_commit (b->store) : (at_store_rollback (b->store), rc);
  memmove (b->held, b->held + n, (b->n_held - n) * sizeof *b->held);
  b->n_held -= n;
  return rc;
}

static double
s_now_s (void)
{
  return (double) at_mono_us () / 1e6;
}

/* cycles of a release and a round: the tickets given out (-1: failed),
 * *busy_s the time spent in rounds. */
static long
s_steady (s_bench_t *b, int64_t team, long cycles, double *busy_s)
{
  long steady = 0, given = 0;
  for (long c = 0; c < cycles && b->n_held > 0; c++) {
    if (s_release (b) != AT_OK)
      return -1;
    double t1 = s_now_s ();
    if (s_round (b, team, &given) != AT_OK)
      return -1;
    *busy_s += s_now_s () - t1;
    steady += given;
  }
  return steady;
}

int
main (int argc, char **argv)
{
  bench_print_cmdline (argc, argv);
  const char *db = bench_flag_str (argc, argv, "--db", NULL);
  long agents = bench_flag_long (argc, argv, "--agents", 1000, 1, 1000000);
  long tickets = bench_flag_long (argc, argv, "--tickets", 100000, 1, 100000000);
  long limit = bench_flag_long (argc, argv, "--limit", 3, 1, 1000);
  long cycles = bench_flag_long (argc, argv, "--cycles", 200, 0, 1000000);
  s_bench_t b = {.batch = bench_flag_long (argc, argv, "--batch", 50, 1, AT_DESK_PAGE_MAX / 4)};
  at_list_t weights = {0};
  char why[160];
  if (!db || at_list_parse (&weights, S_WEIGHTS, AT_LIST_PAIRS, why, sizeof why) != AT_OK
      || at_store_desk_weights_json (&weights, b.weights, sizeof b.weights, why, sizeof why)
             != AT_OK) {
    fprintf (stderr, "usage: bench_assign --db CONNINFO [--agents N] [--tickets N] [--limit N]"
             " [--batch N] [--cycles N]\n");
    return 2;
  }
  b.store = at_store_new (db, "bench");
  if (!b.store || at_store_migrate (b.store, NULL) != AT_OK) {
    fprintf (stderr, "bench_assign: no usable database at %s\n", db);
    return 1;
  }
  int64_t team = 0;
  double t0 = s_now_s ();
  if (at_store_desk_bench_seed (b.store, agents, limit, tickets) != AT_OK
      || at_store_desk_default_team (b.store, "bench", &team) != AT_OK) {
    fprintf (stderr, "bench_assign: seeding failed (a database that was used before?)\n");
    return 1;
  }
  printf ("seeded %ld agents, %ld waiting tickets in %.1f s\n", agents, tickets, s_now_s () - t0);
  b.cap_held = (size_t) agents * (size_t) limit * 4 + 1;
  b.held = at_calloc (b.cap_held, sizeof *b.held);
  long given = 0, total = 0, rounds = 0;
  t0 = s_now_s ();
  do {
    if (s_round (&b, team, &given) != AT_OK)
      return 1;
    total += given;
    rounds++;
  } while (given > 0);
  double fill_s = s_now_s () - t0;
  printf ("fill: %ld assignments in %ld rounds, %.2f s: %.0f assignments/s\n", total, rounds,
          fill_s, total / fill_s);
  double busy = 0;
  long steady = s_steady (&b, team, cycles, &busy);
  if (steady < 0)
    return 1;
  printf ("steady: %ld assignments after releases, %.2f s in rounds: %.0f assignments/s\n",
          steady, busy, busy > 0 ? steady / busy : 0.0);
  printf ("RESULT assign_fill_s=%.0f assign_steady_s=%.0f agents=%ld waiting=%ld\n",
          total / fill_s, busy > 0 ? steady / busy : 0.0, agents, tickets);
  free (b.held);
  at_list_clear (&weights);
  at_store_destroy (&b.store);
  return 0;
}
