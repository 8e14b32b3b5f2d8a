/* The failure history and the dead letters at the store level, on a fresh
 * database (no processes):
 *   - each retry appends {attempt, at, reason} to bus_message.errors, capped
 *     at the last 20; a stale retry (wrong attempt) changes nothing;
 *   - dead-lettering moves the message with its history plus the final
 *     failure, and reason;
 *   - at_dlq_list/get show it; a replay moves it back at attempt 1 with its
 *     history and its shard; a second replay changes nothing and says it is
 *     pending; an unknown id is AT_NOTFOUND/unknown, a bad one AT_INVALID;
 *   - a bulk replay of a stage honours its limit, in one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "it.h"
#include "at_store_dlq.h"
#include "at_msg.h"
#include "at_store.h"
#include "at_store_bus.h"
#include "at_zmq.h"

static at_msg_t *
s_msg (int i)
{
  char key[64];
  snprintf (key, sizeof key, "order:%d", i);
  static const uint8_t payload[] = {1, 2, 3};
  at_msg_t *m = at_msg_new (AT_STAGE_NOTIFY, "order.event", key, NULL, payload, sizeof payload);
  IT_CHECK (m != NULL, "message");
  return m;
}

static long long
s_q (PGconn *conn, const char *fmt, const char *id)
{
  char sql[512];
  snprintf (sql, sizeof sql, fmt, id);
  return it_db_scalar (conn, sql);
}

/* inserted with its shard filled */
static void
s_check_insert (at_store_t *store, PGconn *conn, at_msg_t **m_p)
{
  size_t inserted = 0;
  IT_CHECK (at_store_bus_insert_sharded (store, m_p, 1, 4, &inserted) == AT_OK && inserted == 1,
            "insert");
  IT_CHECK (s_q (conn, "SELECT shard FROM bus_message WHERE id = '%s'", (*m_p)->id)
            == at_bus_shard_of ((*m_p)->key, 4), "shard filled");
}

/* 25 failures: the history keeps the last 20; dead with it and its reason */
static void
s_check_history (at_store_t *store, PGconn *conn, const at_msg_t *m)
{
  for (uint32_t a = 1; a <= 25; a++) {
    char why[64];
    snprintf (why, sizeof why, "provider answered 503 (try %u)", a);
    IT_CHECK (at_store_bus_retry (store, m->id, a, 0, why) == AT_OK, "retry %u", a);
  }
  IT_CHECK (at_store_bus_retry (store, m->id, 3, 0, "late") == AT_STALE, "stale retry fenced");
  IT_CHECK (s_q (conn, "SELECT jsonb_array_length (errors) FROM bus_message WHERE id = '%s'",
                 m->id) == 20, "history capped at 20");
  IT_CHECK (s_q (conn, "SELECT (errors->0->>'attempt')::int * 100 + (errors->19->>'attempt')::int"
                 " FROM bus_message WHERE id = '%s'", m->id) == 625, "oldest 6, newest 25");
  IT_CHECK (at_store_bus_dead (store, m->id, 26, "gave up: provider down") == AT_OK, "dead");
  IT_CHECK (s_q (conn, "SELECT count(*) FROM bus_dead WHERE id = '%s' AND attempt = 26 AND"
                 " reason = 'gave up: provider down' AND jsonb_array_length (errors) = 20 AND"
                 " errors->19->>'reason' = reason", m->id) == 1, "dead with reason and history");
}

/* at_dlq_list and at_dlq_get show it; bad limits and ids are refused */
static void
s_check_list_get (at_store_t *store, const at_msg_t *m)
{
  at_dlq_entry_t *entries = NULL;
  size_t n = 0;
  IT_CHECK (at_dlq_list (store, "notify", 10, &entries, &n) == AT_OK && n == 1
            && strcmp (entries[0].id, m->id) == 0 && entries[0].attempt == 26, "list");
  at_dlq_entries_free (&entries, n);
  IT_CHECK (at_dlq_list (store, "route", 10, &entries, &n) == AT_OK && n == 0, "list other stage");
  at_dlq_entries_free (&entries, n);
  IT_CHECK (at_dlq_list (store, NULL, 0, &entries, &n) == AT_INVALID, "limit 0 refused");
  at_dlq_entry_t e;
  at_dlq_where_t where;
  IT_CHECK (at_dlq_get (store, m->id, &e, &where) == AT_OK && where == AT_DLQ_DEAD
            && strstr (e.errors, "try 25"), "get with history");
  at_dlq_entry_clear (&e);
  IT_CHECK (at_dlq_get (store, "x'; DROP TABLE bus_dead; --", &e, &where) == AT_INVALID, "bad id");
}

/* a replay moves it back at attempt 1 with its history and its shard; a
 * second changes nothing; once done it is unknown */
static void
s_check_replay (at_store_t *store, PGconn *conn, const at_msg_t *m)
{
  at_dlq_where_t where;
  IT_CHECK (at_dlq_replay (store, m->id, 4, &where) == AT_OK && where == AT_DLQ_PENDING, "replay");
  IT_CHECK (s_q (conn, "SELECT count(*) FROM bus_message WHERE id = '%s' AND attempt = 1 AND"
                 " replays = 1 AND jsonb_array_length (errors) = 20 AND not_before <= now ()",
                 m->id) == 1, "pending at attempt 1, history kept");
  IT_CHECK (s_q (conn, "SELECT shard FROM bus_message WHERE id = '%s'", m->id)
            == at_bus_shard_of (m->key, 4), "replayed into its shard");
  IT_CHECK (at_dlq_replay (store, m->id, 4, &where) == AT_NOTFOUND && where == AT_DLQ_PENDING,
            "second replay: nothing changed, pending");
  IT_CHECK (s_q (conn, "SELECT count(*) FROM bus_message WHERE id = '%s'", m->id) == 1,
            "one row");
  IT_CHECK (at_store_bus_done (store, m->id, 1) == AT_OK, "done");
  IT_CHECK (at_dlq_replay (store, m->id, 4, &where) == AT_NOTFOUND && where == AT_DLQ_UNKNOWN,
            "replay of a done message: unknown");
}

/* bulk: 5 dead, replay 3, then the rest */
static void
s_check_bulk (at_store_t *store, PGconn *conn)
{
  at_msg_t *ms[5];
  for (int i = 0; i < 5; i++) {
    ms[i] = s_msg (10 + i);
    IT_CHECK (at_store_bus_insert (store, &ms[i], 1, NULL) == AT_OK
              && at_store_bus_dead (store, ms[i]->id, 1, "bad") == AT_OK, "dead %d", i);
  }
  size_t moved = 0;
  IT_CHECK (at_dlq_replay_stage (store, "notify", 3, 1, &moved) == AT_OK && moved == 3, "bulk 3");
  IT_CHECK (at_dlq_replay_stage (store, "notify", AT_DLQ_REPLAY_MAX, 1, &moved) == AT_OK
            && moved == 2, "bulk rest");
  IT_CHECK (at_dlq_replay_stage (store, "notify", 10, 1, &moved) == AT_OK && moved == 0,
            "bulk again: nothing");
  IT_CHECK (at_dlq_replay_stage (store, "", 10, 1, &moved) == AT_INVALID, "no stage refused");
  IT_CHECK (it_db_scalar (conn, "SELECT count(*) FROM bus_dead") == 0
            && it_db_scalar (conn, "SELECT count(*) FROM bus_message WHERE attempt = 1") == 5,
            "all five pending");
  for (int i = 0; i < 5; i++)
    at_msg_destroy (&ms[i]);
}

int
main (void)
{
  it_require_pg ();
  const char *db = it_db_create ("dlq_store", true);
  PGconn *conn = it_db_connect (db);
  at_store_t *store = at_store_new (db, "test");
  IT_CHECK (store != NULL, "store");

  at_msg_t *m = s_msg (1);
  s_check_insert (store, conn, &m);
  s_check_history (store, conn, m);
  s_check_list_get (store, m);
  s_check_replay (store, conn, m);
  s_check_bulk (store, conn);

  at_msg_destroy (&m);
  at_store_destroy (&store);
  PQfinish (conn);
  printf ("dlq store: ok\n");
  return 0;
}
