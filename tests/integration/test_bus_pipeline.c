/* The broker's group commits in flight several at a time
 * (ATENDE_PUBLISH_GROUPS_IN_FLIGHT=4: libpq's pipeline mode, each group its
 * own transaction, committed in the order sent), under 8 publisher threads
 * that each publish one message to each of their 20 keys per Publish, each
 * Publish once the one before was confirmed (so groups are large enough to
 * go out behind one another):
 *   1. while the broker's commit connection is terminated three times under
 *      the load (the groups in flight then have an unknown outcome and their
 *      publishers retry): every confirmed message is exactly one row, and
 *      each key's rows are in the order they were published;
 *   2. with a constraint that refuses one key: the groups holding it are
 *      refused while later groups are already in flight; the publishes with
 *      it are rejected, every other message is one row, each key in order. */
#include "test_bus_wire.h"
#include "at_config.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#define N_THREADS 8
#define N_KEYS 20                 /* per thread, one message each per Publish */
#define N_ROUNDS 40               /* Publishes per thread */
#define N_PER_THREAD (N_KEYS * N_ROUNDS)
#define POISON_EVERY 7            /* phase 2: thread 0's every 7th Publish holds the key */

static at_config_t *s_cfg;
static int s_phase;
static atomic_long s_confirmed, s_rejected, s_wrongly_rejected;

static void *
s_publisher (void *arg)
{
  int t = (int) (intptr_t) arg;
  at_publisher_t *pub = at_publisher_new (s_cfg);
  IT_CHECK (pub != NULL, "publisher %d", t);
  for (int i = 0; i < N_ROUNDS; i++) {
    at_msg_t *batch[N_KEYS];
    bool poison = s_phase == 2 && t == 0 && i % POISON_EVERY == 0;
    for (int k = 0; k < N_KEYS; k++) {
      char key[32], body[32];
      if (poison && k == N_KEYS / 2)
        snprintf (key, sizeof key, "poison");
      else
        snprintf (key, sizeof key, "p%d-t%d-k%d", s_phase, t, k);
      snprintf (body, sizeof body, "%d", i);
      batch[k] = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, key, NULL, body,
                             strlen (body));
    }
    if (tb_publish_or_reject (pub, batch, N_KEYS, 60000))
      atomic_fetch_add (&s_confirmed, N_KEYS);
    else
      atomic_fetch_add (poison ? &s_rejected : &s_wrongly_rejected, 1);
    for (int k = 0; k < N_KEYS; k++)
      at_msg_destroy (&batch[k]);
  }
  at_publisher_destroy (&pub);
  return NULL;
}

/* Runs the publishers; the main thread calls during (NULL: none) meanwhile. */
static void
s_run (void (*during) (PGconn *), PGconn *db)
{
  pthread_t threads[N_THREADS];
  for (int t = 0; t < N_THREADS; t++) {
    int rc = pthread_create (&threads[t], NULL, s_publisher, (void *) (intptr_t) t);
    IT_CHECK (rc == 0, "thread %d: %s", t, strerror (rc));
  }
  if (during)
    during (db);
  for (int t = 0; t < N_THREADS; t++)
    pthread_join (threads[t], NULL);
}

/* Ends the broker's commit connection three times while publishes flow
 * (the broker reconnects; publishers of the groups in flight retry). */
static void
s_terminate_commits (PGconn *db)
{
  int hits = 0;
  for (int round = 0; round < 3; round++) {
    long long before = atomic_load (&s_confirmed);
    while (atomic_load (&s_confirmed) < before + 1000
           && atomic_load (&s_confirmed) < N_THREADS * N_PER_THREAD - 1000) {
      struct timespec ts = {0, 2 * 1000 * 1000};
      nanosleep (&ts, NULL);   /* until 1,000 more are confirmed: mid-load */
    }
    hits += (int) it_db_scalar (db, "SELECT count(*) FROM (SELECT pg_terminate_backend (pid)"
                                    " FROM pg_stat_activity WHERE datname = current_database ()"
                                    " AND pid <> pg_backend_pid ()"
                                    " AND query LIKE 'INSERT INTO bus_message%') t");
  }
  printf ("commit connection terminated %d times under load\n", hits);
}

/* Every key's rows in publish order (the payload counts up per key), none
 * twice; how many rows the phase wrote. */
static long long
s_check_order (PGconn *db, int phase)
{
  long long out_of_order = it_db_scalarf (db,
    "SELECT count(*) FROM (SELECT convert_from (payload, 'UTF8')::int AS n,"
    " lag (convert_from (payload, 'UTF8')::int) OVER (PARTITION BY key ORDER BY seq) AS prev"
    " FROM bus_message WHERE key LIKE 'p%d-%%') r WHERE n <= prev", phase);
  IT_CHECK (out_of_order == 0, "phase %d: %lld rows out of their key's order", phase,
            out_of_order);
  IT_CHECK (it_db_scalarf (db, "SELECT count(DISTINCT (key, payload)) - count(*) FROM bus_message"
                               " WHERE key LIKE 'p%d-%%'", phase) == 0,
            "phase %d: a message written twice", phase);
  return it_db_scalarf (db, "SELECT count(*) FROM bus_message WHERE key LIKE 'p%d-%%'", phase);
}

int
main (void)
{
  it_require_pg ();
  char conninfo[512];
  at_strlcpy (conninfo, it_db_create ("bus_pipeline", true), sizeof conninfo);
  PGconn *db = it_db_connect (conninfo);
  tb_broker_t broker = {0};
  const char *extra[] = {"ATENDE_PUBLISH_GROUPS_IN_FLIGHT=4", NULL};
  tb_broker_start (&broker, "broker", conninfo, extra);
  IT_CHECK (it_wait_until (tb_ready, &broker, 15000), "broker not ready (see broker.log)");
  setenv ("ATENDE_BROKER_ENDPOINTS", broker.endpoint, 1);
  setenv ("ATENDE_PUBLISH_TIMEOUT_MS", "2000", 1);
  s_cfg = at_config_from_env ();
  IT_CHECK (s_cfg != NULL, "config");

  /* 1. the commit connection lost under load */
  s_phase = 1;
  s_run (s_terminate_commits, db);
  long long rows = s_check_order (db, 1);
  IT_CHECK (atomic_load (&s_confirmed) == N_THREADS * N_PER_THREAD && rows == atomic_load (&s_confirmed),
            "phase 1: confirmed %ld, rows %lld, of %d", atomic_load (&s_confirmed), rows,
            N_THREADS * N_PER_THREAD);
  IT_CHECK (atomic_load (&s_wrongly_rejected) == 0, "phase 1: %ld publishes rejected",
            atomic_load (&s_wrongly_rejected));
  printf ("phase 1: %lld confirmed, %lld rows, each key in order\n",
          (long long) atomic_load (&s_confirmed), rows);

  /* 2. one key refused by the database */
  PGresult *res = PQexec (db, "ALTER TABLE bus_message ADD CONSTRAINT test_poison"
                              " CHECK (key <> 'poison') NOT VALID");
  IT_CHECK (PQresultStatus (res) == PGRES_COMMAND_OK, "constraint: %s", PQerrorMessage (db));
  PQclear (res);
  atomic_store (&s_confirmed, 0);
  s_phase = 2;
  s_run (NULL, db);
  rows = s_check_order (db, 2);
  long poison = (N_ROUNDS + POISON_EVERY - 1) / POISON_EVERY;
  IT_CHECK (atomic_load (&s_rejected) == poison && atomic_load (&s_wrongly_rejected) == 0,
            "phase 2: %ld poison publishes rejected of %ld, %ld others rejected",
            atomic_load (&s_rejected), poison, atomic_load (&s_wrongly_rejected));
  IT_CHECK (it_db_scalar (db, "SELECT count(*) FROM bus_message WHERE key = 'poison'") == 0,
            "phase 2: a refused message has a row");
  IT_CHECK (rows == N_THREADS * N_PER_THREAD - poison * N_KEYS
            && rows == atomic_load (&s_confirmed),
            "phase 2: confirmed %ld, rows %lld", atomic_load (&s_confirmed), rows);
  printf ("phase 2: %ld publishes refused, %lld messages confirmed and written, each key in"
          " order\n", poison, rows);

  IT_CHECK (it_stop (broker.pid, SIGTERM, 10000) == 0, "broker exit status");
  at_config_destroy (&s_cfg);
  PQfinish (db);
  printf ("test_bus_pipeline: ok\n");
  return 0;
}
