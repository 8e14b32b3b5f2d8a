/* The bus SQL (lib/store/at_store_bus.h) against a real database: batch insert
 * and its idempotence, done / retry / dead-letter / bump fenced by attempt,
 * the sweep's id scan honouring not_before and key order, and fetch. */
#include "it.h"
#include "at_store.h"
#include "at_store_bus.h"
#include "at_zmq.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static PGconn *s_db;
static const uint8_t s_payload[] = {0, 1, 2, 0, 255};

static long long
s_count (const char *fmt, const char *id)
{
  char sql[512];
  snprintf (sql, sizeof sql, fmt, id);
  return it_db_scalar (s_db, sql);
}

typedef struct {
  char ids[16][AT_ID_LEN];
  bool stops[16];
  size_t n;
  at_msg_t *msgs[16];
  size_t n_msgs;
} s_seen_t;

static void
s_on_id (const char *id, const char *key, bool stops, void *arg)
{
  (void) key;
  s_seen_t *seen = arg;
  if (seen->n < 16) {
    seen->stops[seen->n] = stops;
    at_strlcpy (seen->ids[seen->n++], id, AT_ID_LEN);
  }
}

static void
s_on_msg (at_msg_t **msg_p, void *arg)
{
  s_seen_t *seen = arg;
  if (seen->n_msgs < 16) {
    seen->msgs[seen->n_msgs++] = *msg_p;
    *msg_p = NULL;
  }
}

/* The sweep's runs: one key's rows come in insertion order from its head;
 * a row waiting for a retry stops the run, and so does the run's length. */
static void
s_case_runs (at_store_t *store)
{
  at_msg_t *k[6];
  for (int i = 0; i < 6; i++)
    k[i] = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_NOTIFICATION_SEND, "run-key", NULL, "r", 1);
  k[1]->not_before_us = at_now_us () + 3600LL * 1000000;   /* a delayed publish: no place yet */
  size_t inserted = 0;
  for (int i = 0; i < 6; i++)   /* one by one: seq follows i */
    IT_CHECK (at_store_bus_insert (store, &k[i], 1, &inserted) == AT_OK && inserted == 1, "insert");
  /* k[4] waits for a retry */
  IT_CHECK (at_store_bus_retry (store, k[4]->id, 1, 3600 * 1000, "later") == AT_OK, "retry");
  s_seen_t seen = {0};
  IT_CHECK (at_store_bus_ready_ids (store, AT_STAGE_ROUTE, 0, 10, 10, s_on_id, &seen) == AT_OK,
            "runs");
  const at_msg_t *want[] = {k[0], k[2], k[3], k[4]};
  IT_CHECK (seen.n == 4, "the run: %zu rows", seen.n);
  for (size_t i = 0; i < 4; i++)
    IT_CHECK (strcmp (seen.ids[i], want[i]->id) == 0 && seen.stops[i] == (i == 3),
              "row %zu of the run in order, only the retry stops it", i);
  memset (&seen, 0, sizeof seen);
  IT_CHECK (at_store_bus_ready_ids (store, AT_STAGE_ROUTE, 0, 10, 2, s_on_id, &seen) == AT_OK,
            "short runs");
  IT_CHECK (seen.n == 3 && !seen.stops[0] && !seen.stops[1] && seen.stops[2]
            && strcmp (seen.ids[2], k[3]->id) == 0, "a run of 2 and the row it stops at");
  /* fetch answers in the order asked */
  const char *ids[] = {k[3]->id, k[0]->id, k[2]->id};
  memset (&seen, 0, sizeof seen);
  IT_CHECK (at_store_bus_fetch (store, ids, 3, s_on_msg, &seen) == AT_OK && seen.n_msgs == 3,
            "fetch");
  for (size_t i = 0; i < 3; i++) {
    IT_CHECK (strcmp (seen.msgs[i]->id, ids[i]) == 0, "fetched in the order asked");
    at_msg_destroy (&seen.msgs[i]);
  }
  for (int i = 0; i < 6; i++)
    at_msg_destroy (&k[i]);
}

/* insert a batch, with binary payloads (NUL bytes included) */
static void
s_case_insert (at_store_t *store, at_msg_t *m[4])
{
  for (int i = 0; i < 4; i++) {
    char key[16];
    snprintf (key, sizeof key, "k%d", i);
    m[i] = at_msg_new (AT_STAGE_NOTIFY, AT_TYPE_NOTIFICATION_SEND, key, NULL, s_payload,
                       sizeof s_payload);
  }
  m[3]->not_before_us = at_now_us () + 3600LL * 1000000;   /* an hour from now */
  size_t inserted = 0;
  IT_CHECK (at_store_bus_insert (store, m, 4, &inserted) == AT_OK && inserted == 4, "insert 4");
  IT_CHECK (at_store_bus_insert (store, m, 4, &inserted) == AT_OK && inserted == 0,
            "a repeated insert must be harmless, inserted %zu", inserted);
  IT_CHECK (s_count ("SELECT count(*) FROM bus_message WHERE id = '%s' AND payload = '\\x00010200ff'",
                     m[0]->id) == 1, "payload stored byte for byte");
}

/* the sweep sees the three due messages, not the future one */
static void
s_case_due (at_store_t *store, at_msg_t *m[4])
{
  s_seen_t seen = {0};
  IT_CHECK (at_store_bus_ready_ids (store, AT_STAGE_NOTIFY, 0, 10, 1, s_on_id, &seen) == AT_OK, "ready");
  IT_CHECK (seen.n == 3, "due messages: %zu", seen.n);
  for (size_t i = 0; i < seen.n; i++)
    IT_CHECK (strcmp (seen.ids[i], m[3]->id) != 0, "a message not due was listed");
  const char *ids[] = {m[0]->id, m[1]->id};
  IT_CHECK (at_store_bus_fetch (store, ids, 2, s_on_msg, &seen) == AT_OK && seen.n_msgs == 2, "fetch");
  for (size_t i = 0; i < seen.n_msgs; i++) {
    IT_CHECK (seen.msgs[i]->payload_len == sizeof s_payload
              && memcmp (seen.msgs[i]->payload, s_payload, sizeof s_payload) == 0,
              "payload round trip");
    IT_CHECK (seen.msgs[i]->attempt == 1, "attempt 1");
    IT_CHECK (strcmp (seen.msgs[i]->trace_id, m[0]->trace_id) == 0
              || strcmp (seen.msgs[i]->trace_id, m[1]->trace_id) == 0, "trace id kept");
    at_msg_destroy (&seen.msgs[i]);
  }
}

/* done, fenced by attempt */
static void
s_case_done (at_store_t *store, const at_msg_t *m)
{
  IT_CHECK (at_store_bus_done (store, m->id, 2) == AT_STALE, "done at a wrong attempt");
  IT_CHECK (at_store_bus_done (store, m->id, 1) == AT_OK, "done");
  IT_CHECK (at_store_bus_done (store, m->id, 1) == AT_STALE, "done twice");
}

/* retry: attempt + 1, later, with the reason; the old attempt is fenced */
static void
s_case_retry (at_store_t *store, const at_msg_t *m)
{
  IT_CHECK (at_store_bus_retry (store, m->id, 1, 60000, "provider said 503") == AT_OK, "retry");
  IT_CHECK (s_count ("SELECT count(*) FROM bus_message WHERE id = '%s' AND attempt = 2"
                     " AND not_before > now () + interval '50 seconds'"
                     " AND last_error = 'provider said 503'", m->id) == 1, "retry row");
  IT_CHECK (at_store_bus_retry (store, m->id, 1, 0, NULL) == AT_STALE, "retry at old attempt");
  IT_CHECK (at_store_bus_done (store, m->id, 1) == AT_STALE, "done at old attempt");
}

/* lease bump */
static void
s_case_bump (at_store_t *store, const at_msg_t *m)
{
  IT_CHECK (at_store_bus_bump (store, m->id, 1) == AT_OK, "bump");
  IT_CHECK (at_store_bus_bump (store, m->id, 1) == AT_STALE, "bump at old attempt");
}

/* dead letter: the row moves with its reason, in one statement */
static void
s_case_dead (at_store_t *store, at_msg_t **m_p)
{
  const at_msg_t *m = *m_p;
  IT_CHECK (at_store_bus_dead (store, m->id, 1, "late") == AT_STALE, "dead at old attempt");
  IT_CHECK (at_store_bus_dead (store, m->id, 2, "template missing") == AT_OK, "dead");
  IT_CHECK (s_count ("SELECT count(*) FROM bus_message WHERE id = '%s'", m->id) == 0, "moved");
  IT_CHECK (s_count ("SELECT count(*) FROM bus_dead WHERE id = '%s' AND attempt = 2"
                     " AND reason = 'template missing' AND payload = '\\x00010200ff'", m->id) == 1,
            "dead row");
  /* replayed and dead again: the dead row is refreshed, not lost */
  size_t inserted = 0;
  IT_CHECK (at_store_bus_insert (store, m_p, 1, &inserted) == AT_OK && inserted == 1, "replay");
  IT_CHECK (at_store_bus_dead (store, m->id, 1, "again") == AT_OK, "dead again");
  IT_CHECK (s_count ("SELECT count(*) FROM bus_dead WHERE id = '%s' AND reason = 'again'", m->id)
            == 1, "dead row refreshed");
}

/* inside a transaction that rolls back, nothing stays */
static void
s_case_rollback (at_store_t *store, const at_msg_t *m)
{
  IT_CHECK (at_store_begin (store) == AT_OK, "begin");
  IT_CHECK (at_store_bus_done (store, m->id, 2) == AT_OK, "done in tx");
  IT_CHECK (at_store_rollback (store) == AT_OK, "rollback");
  IT_CHECK (s_count ("SELECT count(*) FROM bus_message WHERE id = '%s'", m->id) == 1,
            "rolled back");
}

/* A message whose key is not UTF-8. */
static at_msg_t *
s_not_utf8 (void)
{
  at_msg_t *bad = at_msg_new (AT_STAGE_NOTIFY, AT_TYPE_NOTIFICATION_SEND, "k", NULL, "x", 1);
  at_strlcpy (bad->key, "\xff\xfe not utf-8", sizeof bad->key);
  return bad;
}

/* bad values are refused whole */
static void
s_case_refused (at_store_t *store, at_msg_t *good, at_msg_t *bad)
{
  at_msg_t *pair[] = {good, bad};
  long long before = it_db_scalar (s_db, "SELECT count(*) FROM bus_message");
  IT_CHECK (at_store_bus_insert (store, pair, 2, NULL) == AT_INVALID, "invalid UTF-8 refused");
  IT_CHECK (it_db_scalar (s_db, "SELECT count(*) FROM bus_message") == before, "nothing half written");
  IT_CHECK (at_store_bus_done (store, "not-a-uuid", 1) == AT_INVALID, "bad id");
}

/* the depth of each stage */
static void
s_case_stats (at_store_t *store)
{
  at_store_bus_stat_t stats[8];
  size_t n_stats = 0;
  IT_CHECK (at_store_bus_stats (store, 0, 1, 10000, stats, 8, &n_stats) == AT_OK && n_stats == 4,
            "stats");
  for (size_t i = 0; i < n_stats; i++) {
    IT_CHECK (stats[i].depth == (strcmp (stats[i].stage, AT_STAGE_NOTIFY) == 0 ? 2 : 0),
              "stats depth %s %lld", stats[i].stage, (long long) stats[i].depth);
    long long delayed = it_db_scalarf (s_db, "SELECT count(*) FROM bus_message WHERE stage = '%s'"
                                       " AND shard = 0 AND not_before > now ()", stats[i].stage);
    IT_CHECK (stats[i].delayed == delayed, "stats delayed %s %lld, want %lld", stats[i].stage,
              (long long) stats[i].delayed, delayed);
  }
  /* at the cap, the count stops there (the planner's estimate may only raise it) */
  IT_CHECK (at_store_bus_stats (store, 0, 1, 1, stats, 8, &n_stats) == AT_OK, "capped stats");
  for (size_t i = 0; i < n_stats; i++)
    if (strcmp (stats[i].stage, AT_STAGE_NOTIFY) == 0)
      IT_CHECK (stats[i].depth >= 1, "capped depth %lld", (long long) stats[i].depth);
}

/* the broker's publish fills the shard of each key; each shard sweeps its
 * own (publishes sh[0..2]; sh[3..5] are for the asynchronous case) */
static void
s_case_shards (at_store_t *store, at_msg_t *sh[6])
{
  for (int i = 0; i < 6; i++) {
    char key[16];
    snprintf (key, sizeof key, "shard-%d", i);
    sh[i] = at_msg_new (AT_STAGE_SURVEY, AT_TYPE_TICKET_RESOLVED, key, NULL, "s", 1);
  }
  IT_CHECK (at_store_bus_publish (store, sh, 3, 3) == AT_OK, "publish sharded");
  for (int i = 0; i < 3; i++)
    IT_CHECK (s_count ("SELECT shard FROM bus_message WHERE id = '%s'", sh[i]->id)
                  == at_bus_shard_of (sh[i]->key, 3), "shard of %s", sh[i]->key);
  size_t swept = 0;
  for (int shard = 0; shard < 3; shard++) {
    s_seen_t per = {0};
    IT_CHECK (at_store_bus_ready_ids (store, AT_STAGE_SURVEY, shard, 10, 1, s_on_id, &per) == AT_OK,
              "ready by shard");
    swept += per.n;
  }
  IT_CHECK (swept == 3, "each row swept by exactly one shard: %zu", swept);
}

/* Flushes and polls an asynchronous publish until its COMMIT answers or
 * deadline passes; true once answered, with its rc and why. */
static bool
s_publish_wait (at_store_t *async, int64_t deadline, int *rc, char *why, size_t why_cap)
{
  bool done = false;
  while (!done && at_mono_ms () < deadline) {
    at_store_bus_publish_flush (async);
    struct pollfd pfd = {PQsocket (at_store_conn (async)), POLLIN, 0};
    poll (&pfd, 1, 100);
    done = at_store_bus_publish_poll (async, rc, why, why_cap);
  }
  return done;
}

/* asynchronous publish: send, flush, poll until the COMMIT answers */
static void
s_case_async (const char *conninfo, at_msg_t *sh[6], at_msg_t *bad)
{
  at_store_t *async = at_store_new (conninfo, "test-async");
  IT_CHECK (at_store_bus_publish_send (async, sh + 3, 3, 1) == AT_OK, "async send");
  int async_rc = AT_NOTFOUND;
  char why[128];
  int64_t deadline = at_mono_ms () + 10000;
  bool done = s_publish_wait (async, deadline, &async_rc, why, sizeof why);
  IT_CHECK (done && async_rc == AT_OK, "async publish rc=%d %s", async_rc, why);
  IT_CHECK (s_count ("SELECT count(*) FROM bus_message WHERE id = '%s'", sh[5]->id) == 1,
            "async row committed");
  /* refused whole, asynchronously too */
  at_msg_t *bad_pair[] = {sh[0], bad};
  IT_CHECK (at_store_bus_publish_send (async, bad_pair, 2, 1) == AT_OK, "async send bad");
  async_rc = AT_NOTFOUND;
  done = s_publish_wait (async, deadline, &async_rc, why, sizeof why);
  IT_CHECK (done && async_rc == AT_INVALID, "async bad rc=%d why=%s", async_rc, why);
  at_store_destroy (&async);
}

int
main (void)
{
  it_require_pg ();
  const char *conninfo = it_db_create ("bus_store", true);
  s_db = it_db_connect (conninfo);
  at_store_t *store = at_store_new (conninfo, "test");
  IT_CHECK (store != NULL, "store");

  at_msg_t *m[4], *sh[6];
  s_case_insert (store, m);
  s_case_due (store, m);
  s_case_done (store, m[0]);
  s_case_retry (store, m[1]);
  s_case_bump (store, m[2]);
  s_case_dead (store, &m[2]);
  s_case_rollback (store, m[1]);
  at_msg_t *bad = s_not_utf8 ();
  s_case_refused (store, m[0], bad);
  s_case_stats (store);
  s_case_shards (store, sh);
  s_case_async (conninfo, sh, bad);

  for (int i = 0; i < 6; i++)
    at_msg_destroy (&sh[i]);
  at_msg_destroy (&bad);
  for (int i = 0; i < 4; i++)
    at_msg_destroy (&m[i]);
  s_case_runs (store);
  at_store_destroy (&store);
  PQfinish (s_db);
  printf ("test_bus_store: ok\n");
  return 0;
}
