/* Two brokers share the bus by key (ATENDE_BROKER_INDEX/COUNT):
 *   - a publisher with both endpoints sends each message to the broker of
 *     its key (FNV-1a mod 2), and the row's shard says the same;
 *   - three workers, each connected to both brokers, get every message
 *     exactly once, each from the broker that owns its key;
 *   - a broker killed and restarted rebuilds only its own shard. */
#include "test_bus_wire.h"
#include "at_config.h"
#include "at_store.h"
#include "at_store_bus.h"

#include <signal.h>

#define N_MESSAGES 240
#define N_KEYS 31
#define N_WORKERS 3

static tb_broker_t s_brokers[2];
static char s_ids[N_MESSAGES][AT_ID_LEN];
static char s_keys[N_MESSAGES][AT_KEY_LEN];
static int s_seen[N_MESSAGES];

static int
s_find (const char *id)
{
  for (int i = 0; i < N_MESSAGES; i++)
    if (strcmp (s_ids[i], id) == 0)
      return i;
  return -1;
}

static void
s_start (int i, const char *conninfo, const char *log)
{
  static char idx[2][64];
  snprintf (idx[i], sizeof idx[i], "ATENDE_BROKER_INDEX=%d", i);
  const char *extra[] = {idx[i], "ATENDE_BROKER_COUNT=2", "ATENDE_HEARTBEAT_MS=200", NULL};
  tb_broker_start (&s_brokers[i], log, conninfo, extra);
  IT_CHECK (it_wait_until (tb_ready, &s_brokers[i], 15000), "broker %d not ready", i);
}

/* Workers [w][b]: worker w's DEALER to broker b. Takes up to `want`
 * messages, checking each comes from the broker of its key. */
static int
s_consume (void *sockets[N_WORKERS][2], at_store_t *store, int want, int timeout_ms)
{
  int got = 0;
  int64_t deadline = at_mono_ms () + timeout_ms;
  while (got < want && at_mono_ms () < deadline) {
    for (int w = 0; w < N_WORKERS; w++)
      for (int b = 0; b < 2; b++) {
        tb_heartbeat (sockets[w][b]);
        Atende__Bus__Command *cmd = tb_recv (sockets[w][b], 20);
        if (cmd && cmd->body_case == ATENDE__BUS__COMMAND__BODY_RECONNECT)
          tb_ready_cmd (sockets[w][b], AT_STAGE_INGEST, 16, "shard-worker");
        if (cmd == NULL || cmd->body_case != ATENDE__BUS__COMMAND__BODY_DELIVER) {
          if (cmd)
            atende__bus__command__free_unpacked (cmd, NULL);
          continue;
        }
        char *done[64];
        size_t n = 0;
        for (size_t i = 0; i < cmd->deliver->n_envelopes; i++) {
          Atende__Bus__Envelope *e = cmd->deliver->envelopes[i];
          int k = s_find (e->id);
          IT_CHECK (k >= 0, "unknown message %s", e->id);
          IT_CHECK (at_bus_shard_of (e->key, 2) == b, "key %s delivered by broker %d", e->key, b);
          IT_CHECK (s_seen[k]++ == 0, "message %s delivered twice", e->id);
          IT_CHECK (at_store_bus_done (store, e->id, e->attempt) == AT_OK, "done");
          done[n++] = e->id;
        }
        tb_settle (sockets[w][b], done, n);
        got += (int) n;
        atende__bus__command__free_unpacked (cmd, NULL);
      }
  }
  return got;
}

/* publish in batches that span both shards: each row in the shard of its
 * key, each broker publishing its own (per_shard: how many each owns) */
static void
s_check_published (const at_config_t *cfg, PGconn *db, int per_shard[2])
{
  at_publisher_t *pub = at_publisher_new (cfg);
  for (int i = 0; i < N_MESSAGES; i += 20) {
    at_msg_t *batch[20];
    for (int j = 0; j < 20; j++) {
      snprintf (s_keys[i + j], AT_KEY_LEN, "customer-%d", (i + j) % N_KEYS);
      batch[j] = at_msg_new (AT_STAGE_INGEST, AT_TYPE_INBOUND_MESSAGE, s_keys[i + j], NULL, "s", 1);
      at_strlcpy (s_ids[i + j], batch[j]->id, AT_ID_LEN);
    }
    tb_publish (pub, batch, 20);
    for (int j = 0; j < 20; j++)
      at_msg_destroy (&batch[j]);
  }
  at_publisher_destroy (&pub);
  long long rows = it_db_scalar (db, "SELECT count(*) FROM bus_message");
  IT_CHECK (rows == N_MESSAGES, "rows %lld", rows);
  for (int i = 0; i < N_MESSAGES; i++) {
    char sql[160];
    snprintf (sql, sizeof sql, "SELECT shard FROM bus_message WHERE id = '%.36s'", s_ids[i]);
    IT_CHECK (it_db_scalar (db, sql) == at_bus_shard_of (s_keys[i], 2), "row shard of %s", s_keys[i]);
    per_shard[at_bus_shard_of (s_keys[i], 2)]++;
  }
  IT_CHECK (per_shard[0] > 0 && per_shard[1] > 0, "keys did not spread: %d/%d", per_shard[0],
            per_shard[1]);
  for (int b = 0; b < 2; b++)
    IT_CHECK (tb_wait_metric (&s_brokers[b], "atende_bus_published_total{stage=\"ingest\"}",
                              per_shard[b], 5000) == per_shard[b], "broker %d published", b);
}

/* broker 1 dies before delivering; its replacement sweeps only shard 1:
 * the workers get every message once, each from the broker of its key
 * (they settle through *store_p, which the caller closes) */
static void
s_check_failover (const char *conninfo, PGconn *db, const int per_shard[2], at_store_t **store_p)
{
  it_stop (s_brokers[1].pid, SIGKILL, 5000);
  s_start (1, conninfo, "broker1b");

  void *sockets[N_WORKERS][2];
  for (int w = 0; w < N_WORKERS; w++)
    for (int b = 0; b < 2; b++) {
      sockets[w][b] = at_bus_dealer_new (s_brokers[b].endpoint, NULL);
      tb_ready_cmd (sockets[w][b], AT_STAGE_INGEST, 16, "shard-worker");
    }
  *store_p = at_store_new (conninfo, "test");
  int got = s_consume (sockets, *store_p, N_MESSAGES, 30000);
  printf ("shards: published=%d shard0=%d shard1=%d delivered=%d\n", N_MESSAGES, per_shard[0],
          per_shard[1], got);
  IT_CHECK (got == N_MESSAGES, "delivered %d of %d", got, N_MESSAGES);
  IT_CHECK (it_db_scalar (db, "SELECT count(*) FROM bus_message") == 0, "rows left");
  for (int w = 0; w < N_WORKERS; w++)
    for (int b = 0; b < 2; b++)
      at_bus_socket_close (&sockets[w][b]);
}

int
main (void)
{
  it_require_pg ();
  char conninfo[512];
  at_strlcpy (conninfo, it_db_create ("bus_shards", true), sizeof conninfo);
  PGconn *db = it_db_connect (conninfo);
  s_start (0, conninfo, "broker0");
  s_start (1, conninfo, "broker1");
  char endpoints[160];
  snprintf (endpoints, sizeof endpoints, "%s,%s", s_brokers[0].endpoint, s_brokers[1].endpoint);
  setenv ("ATENDE_BROKER_ENDPOINTS", endpoints, 1);
  setenv ("ATENDE_PUBLISH_TIMEOUT_MS", "3000", 1);
  at_config_t *cfg = at_config_from_env ();

  int per_shard[2] = {0, 0};
  s_check_published (cfg, db, per_shard);
  at_store_t *store = NULL;
  s_check_failover (conninfo, db, per_shard, &store);

  for (int b = 0; b < 2; b++)
    IT_CHECK (it_stop (s_brokers[b].pid, SIGTERM, 10000) == 0, "broker %d exit", b);
  at_store_destroy (&store);
  at_config_destroy (&cfg);
  PQfinish (db);
  printf ("test_bus_shards: ok\n");
  return 0;
}
