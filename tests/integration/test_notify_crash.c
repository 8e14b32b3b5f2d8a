/* SIGKILL of the notify worker in the middle of its batches: how many
 * customers would receive a message twice? The provider is the WhatsApp
 * Cloud API (played by the fake), which documents no idempotency key, so
 * every call the dead worker made whose answer it had not recorded is sent
 * again by the next worker. The fake counts, by idempotency key (the
 * notification id), messages accepted twice; none may be lost.
 *
 * notify records each delivery within ~20 ms of its answer (not only at the
 * end of a batch), so what is sent again is bounded by the calls in flight
 * or just answered when the worker died: at most the sender's concurrency
 * plus what was answered in the last flush interval. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "it.h"
#include "at_publisher.h"
#include "at_config.h"
#include "at_store_notification.h"
#include "../fakes/fakes.h"
#include "../fakes/fake_http.c"

#define S_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define S_COUNT 400
#define S_CONCURRENCY 16
#define WAIT_MS 60000

static char s_db[512], s_endpoint[64];
static fake_http_t *s_http;
static const char *const s_worker_args[] = {"worker", "notify", NULL};

static pid_t
s_spawn (const char *name, const char *const *args, int http_port)
{
  char e[4][640];
  snprintf (e[0], sizeof e[0], "ATENDE_DATABASE_URL=%s", s_db);
  snprintf (e[1], sizeof e[1], "ATENDE_BROKER_BIND=%s", s_endpoint);
  snprintf (e[2], sizeof e[2], "ATENDE_BROKER_ENDPOINTS=%s", s_endpoint);
  snprintf (e[3], sizeof e[3], "ATENDE_WHATSAPP_API_URL=http://127.0.0.1:%d/graph", http_port);
  const char *env[] = {
    e[0], e[1], e[2], e[3], "ATENDE_BROKER_METRICS_PORT=0", "ATENDE_WEBHOOK_SECRET=" S_SECRET,
    "ATENDE_PROVIDER_ROUTES=*=whatsapp", "ATENDE_WHATSAPP_PHONE_NUMBER_ID=1234567890",
    "ATENDE_WHATSAPP_TOKEN=EAAtoken", "ATENDE_WHATSAPP_TEMPLATES=*=order_update",
    "ATENDE_WEBHOOK_CONCURRENCY=16", "ATENDE_WORKER_BATCH=64", "ATENDE_HEARTBEAT_MS=100",
    "ATENDE_RETRY_BASE_MS=50", "ATENDE_BROKER_SWEEP_MS=50", "ATENDE_LOG_LEVEL=info", NULL};
  return it_spawn_atende (name, args, env);
}

static bool
s_some_sent (void *arg)
{
  return fake_http_count (s_http) >= *(int *) arg;
}

/* S_COUNT customers, each with a WhatsApp identity and a notification. */
static void
s_seed (PGconn *conn)
{
  PQclear (PQexec (conn, "INSERT INTO customer (id, name) SELECT g, 'C' || g"
                         " FROM generate_series (1, 400) g"));
  PQclear (PQexec (conn, "INSERT INTO identity (customer_id, kind, value) SELECT g, 'whatsapp',"
                         " (5511900000000 + g)::text FROM generate_series (1, 400) g"));
  PQclear (PQexec (conn, "INSERT INTO notification (id, customer_id, kind, channel, recipient,"
                         " body) SELECT gen_random_uuid (), g, 'order_status', 'whatsapp',"
                         " (5511900000000 + g)::text, 'Seu pedido saiu' FROM generate_series"
                         " (1, 400) g"));
  IT_CHECK (it_db_scalar (conn, "SELECT count(*) FROM notification") == S_COUNT, "notifications");
}

/* One notification.send per notification, in one publish. */
static void
s_publish_all (PGconn *conn, at_publisher_t *pub)
{
  PGresult *ids = PQexec (conn, "SELECT id FROM notification ORDER BY id");
  at_msg_t *msgs[S_COUNT];
  for (int i = 0; i < S_COUNT; i++)
    msgs[i] = at_notification_send_msg (PQgetvalue (ids, i, 0), NULL);
  PQclear (ids);
  int retry = 0, rc = AT_AGAIN;
  for (int i = 0; i < 20 && rc != AT_OK; i++)
    rc = at_publisher_send (pub, msgs, S_COUNT, &retry);
  IT_CHECK (rc == AT_OK, "published");
  for (int i = 0; i < S_COUNT; i++)
    at_msg_destroy (&msgs[i]);
}

/* SIGKILL once a third is sent; the next worker delivers the rest: none
 * lost, doubles bounded by what was in flight (*worker: the one running). */
static void
s_check_sigkill (PGconn *conn, int http_port, pid_t *worker)
{
  int want = S_COUNT / 3;
  IT_CHECK (it_wait_until (s_some_sent, &want, WAIT_MS), "a third sent before the kill");
  it_stop (*worker, SIGKILL, 1000);
  int at_kill = fake_http_count (s_http);
  long long delivered_at_kill = it_db_scalar (conn, "SELECT count(*) FROM notification WHERE"
                                                    " status = 'delivered'");
  long long sending_at_kill = it_db_scalar (conn, "SELECT count(*) FROM notification WHERE"
                                                  " status = 'sending'");
  *worker = s_spawn ("worker_notify_2", s_worker_args, http_port);
  long long delivered = it_wait_scalar (conn, "SELECT count(*) FROM notification WHERE status"
                                              " = 'delivered'", S_COUNT, WAIT_MS);
  int twice = fake_http_accepted_twice (s_http), distinct = fake_http_accepted_distinct (s_http);
  printf ("notify SIGKILL: %d notifications, %d provider calls before the kill (%lld recorded"
          " delivered, %lld sending), %d calls in all; customers reached %d, lost %d,"
          " received twice %d\n", S_COUNT, at_kill, delivered_at_kill, sending_at_kill,
          fake_http_count (s_http), distinct, S_COUNT - distinct, twice);
  IT_CHECK (delivered == S_COUNT, "all delivered after the restart: %lld", delivered);
  IT_CHECK (distinct == S_COUNT, "no customer lost: %d", distinct);
  IT_CHECK (twice <= S_CONCURRENCY * 2, "doubles bounded by what was in flight: %d", twice);
}

int
main (void)
{
  it_require_pg ();
  at_strlcpy (s_db, it_db_create ("notify_crash", true), sizeof s_db);
  snprintf (s_endpoint, sizeof s_endpoint, "tcp://127.0.0.1:%d", it_free_port ());
  int http_port = it_free_port ();
  s_http = fake_http_start (http_port);
  IT_CHECK (s_http != NULL, "fake");
  fake_http_default (s_http, 200, 15);   /* each call takes 15 ms */
  PGconn *conn = it_db_connect (s_db);
  s_seed (conn);

  const char *broker_args[] = {"broker", NULL};
  pid_t broker = s_spawn ("broker", broker_args, http_port);
  pid_t worker = s_spawn ("worker_notify_1", s_worker_args, http_port);
  setenv ("ATENDE_BROKER_ENDPOINTS", s_endpoint, 1);
  setenv ("ATENDE_PUBLISH_TIMEOUT_MS", "5000", 1);
  at_config_t *cfg = at_config_from_env ();
  at_publisher_t *pub = cfg ? at_publisher_new (cfg) : NULL;
  IT_CHECK (pub != NULL, "publisher");

  s_publish_all (conn, pub);
  s_check_sigkill (conn, http_port, &worker);

  it_stop (worker, SIGTERM, 10000);
  it_stop (broker, SIGTERM, 10000);
  at_publisher_destroy (&pub);
  at_config_destroy (&cfg);
  PQfinish (conn);
  fake_http_stop (&s_http);
  return 0;
}
