/* Graceful drain under load (contract point 9): a worker SIGTERM'd while a
 * backlog of thousands of messages streams to it
 *   - exits 0 by itself;
 *   - loses none of its leases: the broker expired and redelivered nothing
 *     (atende_bus_redelivered_total stays 0), so no message was bumped to
 *     a new attempt because of the drain;
 *   - and everything is accounted for: a second worker finishes the rest,
 *     each message applied or dead-lettered exactly once.
 * Also: the worker's /healthz, /readyz and /metrics (ATENDE_WORKER_METRICS_PORT),
 * and a bad ATENDE_STAGE_MAX_ATTEMPTS refused with exit code 2. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include "it.h"
#include "at_publisher.h"
#include "at_common.h"
#include "at_config.h"
#include "at_msg.h"
#include "domain.pb-c.h"

#define TOTAL 3000
#define WAIT_MS 90000

static char s_db[512];
static char s_endpoint[64];
static char s_env_db[600], s_env_bind[96], s_env_eps[96], s_env_metrics[64];
static const char *const s_worker_args[] = {"worker", "ingest", NULL};

static const char *const *
s_env (const char *extra)
{
  static const char *env[16];
  snprintf (s_env_db, sizeof s_env_db, "ATENDE_DATABASE_URL=%s", s_db);
  snprintf (s_env_bind, sizeof s_env_bind, "ATENDE_BROKER_BIND=%s", s_endpoint);
  snprintf (s_env_eps, sizeof s_env_eps, "ATENDE_BROKER_ENDPOINTS=%s", s_endpoint);
  const char *list[] = {s_env_db, s_env_bind, s_env_eps, "ATENDE_HEARTBEAT_MS=200",
                        "ATENDE_DRAIN_GRACE_MS=8000", "ATENDE_WORKER_BATCH=16",
                        "ATENDE_WORKER_CREDIT=64", "ATENDE_BROKER_SWEEP_MS=100",
                        "ATENDE_RETRY_BASE_MS=10", "ATENDE_RETRY_MAX_MS=50",
                        extra, NULL};
  memcpy (env, list, sizeof list);
  return env;
}

static at_msg_t *
s_inbound (int i)
{
  char handle[64], key[96], provider_id[64];
  snprintf (handle, sizeof handle, "dreno%d@example.com.br", i);
  snprintf (key, sizeof key, "email:%s", handle);
  snprintf (provider_id, sizeof provider_id, "drain-%d", i);
  Atende__InboundMessage in = ATENDE__INBOUND_MESSAGE__INIT;
  in.channel = "email";
  in.handle = handle;
  in.name = "Cliente";
  in.text = "Quando chega meu pedido?";
  in.provider_message_id = provider_id;
  in.received_us = at_now_us ();
  in.subject = "Pedido";
  in.language = "pt";
  uint8_t buf[512];
  size_t len = atende__inbound_message__get_packed_size (&in);
  IT_CHECK (len <= sizeof buf, "inbound size");
  atende__inbound_message__pack (&in, buf);
  at_msg_t *msg = at_msg_new (AT_STAGE_INGEST, AT_TYPE_INBOUND_MESSAGE, key, NULL, buf, len);
  IT_CHECK (msg != NULL, "message %d", i);
  return msg;
}

static void
s_publish (at_publisher_t *pub, at_msg_t **msgs, size_t n)
{
  for (size_t done = 0; done < n;) {
    size_t slice = n - done < 100 ? n - done : 100;
    int retry_after = 0, tries = 0, rc;
    while ((rc = at_publisher_send (pub, msgs + done, slice, &retry_after)) == AT_AGAIN
           || rc == AT_BUSY) {
      IT_CHECK (++tries < 100, "publish keeps failing rc=%d", rc);
      struct timespec ts = {0, 100 * 1000 * 1000};
      nanosleep (&ts, NULL);
    }
    IT_CHECK (rc == AT_OK, "publish rc=%d", rc);
    done += slice;
  }
}

/* A sample of a Prometheus text body ("name{labels} value"), -1 if absent. */
static long long
s_sample (const char *url, const char *series)
{
  char *body = NULL;
  long long value = -1;
  if (it_http ("GET", url, NULL, NULL, &body) == 200 && body) {
    const char *p = strstr (body, series);
    if (p)
      value = strtoll (p + strlen (series), NULL, 10);
  }
  free (body);
  return value;
}

typedef struct {
  const char *url, *series;
  long long want;
} s_metric_t;

static bool
s_metric_is (void *arg)
{
  s_metric_t *m = arg;
  return s_sample (m->url, m->series) == m->want;
}

static bool
s_http_ok (void *arg)
{
  return it_http ("GET", arg, NULL, NULL, NULL) == 200;
}

/* What the steps share: the database, the broker's /metrics, the worker
 * of the moment and its metrics port, what it settled before SIGTERM. */
typedef struct {
  PGconn *conn;
  char broker_metrics[96];
  int worker_port;
  pid_t worker;
  long long settled;
} s_drain_t;

/* A bad ATENDE_STAGE_MAX_ATTEMPTS is refused with exit code 2. */
static void
s_check_bad_setting (void)
{
  pid_t bad = it_spawn_atende ("worker_bad", s_worker_args,
                               s_env ("ATENDE_STAGE_MAX_ATTEMPTS=ingest=0"));
  int status = it_stop (bad, 0, 20000);
  IT_CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 2, "bad stage_max_attempts: exit 2");
}

/* 1. a worker with its metrics endpoint takes the backlog */
static void
s_check_takes_backlog (s_drain_t *d)
{
  char metrics_env[64], worker_url[96];
  at_strlcpy (metrics_env, s_env_metrics, sizeof metrics_env);
  d->worker = it_spawn_atende ("worker_1", s_worker_args, s_env (metrics_env));
  snprintf (worker_url, sizeof worker_url, "http://127.0.0.1:%d/readyz", d->worker_port);
  IT_CHECK (it_wait_until (s_http_ok, worker_url, 20000), "worker becomes ready");
  snprintf (worker_url, sizeof worker_url, "http://127.0.0.1:%d/healthz", d->worker_port);
  IT_CHECK (it_http ("GET", worker_url, NULL, NULL, NULL) == 200, "healthz");
  snprintf (worker_url, sizeof worker_url, "http://127.0.0.1:%d/metrics", d->worker_port);
  d->settled = it_wait_scalar (d->conn, "SELECT 3000 - count(*) FROM bus_message"
                               " WHERE stage = 'ingest'", 200, WAIT_MS);
  IT_CHECK (d->settled >= 200, "the worker works: %lld settled", d->settled);
  IT_CHECK (s_sample (worker_url, "\natende_up ") == 1, "atende_up");
  IT_CHECK (s_sample (worker_url, "atende_worker_batch_seconds_count{stage=\"ingest\"} ") > 0,
            "batches counted");
}

/* 2. SIGTERM in the middle: exit 0, no lease lost */
static void
s_check_sigterm (s_drain_t *d)
{
  int status = it_stop (d->worker, SIGTERM, 20000);
  IT_CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0, "drained worker exits 0 (%d)",
            status);
  s_metric_t gone = {d->broker_metrics, "\natende_broker_workers ", 0};
  IT_CHECK (it_wait_until (s_metric_is, &gone, 20000), "broker saw the worker go");
  long long redelivered = s_sample (d->broker_metrics,
                                    "atende_bus_redelivered_total{stage=\"ingest\"} ");
  long long pending = it_db_scalar (d->conn, "SELECT count(*) FROM bus_message WHERE stage = 'ingest'");
  printf ("drain: settled before SIGTERM >= %lld, pending after exit %lld, redelivered %lld\n",
          d->settled, pending, redelivered);
  IT_CHECK (redelivered == 0, "no lease expired because of the drain: %lld", redelivered);
  IT_CHECK (pending > 0, "SIGTERM came in the middle of the backlog");
}

/* 3. a second worker finishes: every message once */
static void
s_check_finished (s_drain_t *d)
{
  d->worker = it_spawn_atende ("worker_2", s_worker_args, s_env ("ATENDE_LOG_LEVEL=info"));
  long long rest = it_wait_scalar (d->conn, "SELECT 3000 - count(*) FROM bus_message"
                                   " WHERE stage = 'ingest'", TOTAL, WAIT_MS);
  IT_CHECK (rest == TOTAL, "backlog done: %lld", rest);
  long long applied = it_db_scalar (d->conn, "SELECT count(DISTINCT bus_message_id) FROM"
                                    " ticket_message WHERE direction = 'in'");
  long long rows = it_db_scalar (d->conn, "SELECT count(*) FROM ticket_message WHERE direction = 'in'");
  long long dead = it_db_scalar (d->conn, "SELECT count(*) FROM bus_dead");
  printf ("drain: applied %lld, dead %lld, rows %lld of %d\n", applied, dead, rows, TOTAL);
  IT_CHECK (applied == rows, "nothing applied twice");
  IT_CHECK (applied + dead == TOTAL, "nothing lost: %lld + %lld", applied, dead);
  IT_CHECK (s_sample (d->broker_metrics, "atende_bus_redelivered_total{stage=\"ingest\"} ") == 0,
            "still nothing redelivered");
}

int
main (void)
{
  it_require_pg ();
  at_strlcpy (s_db, it_db_create ("worker_drain", true), sizeof s_db);
  snprintf (s_endpoint, sizeof s_endpoint, "tcp://127.0.0.1:%d", it_free_port ());
  s_drain_t d = {.conn = it_db_connect (s_db)};
  s_check_bad_setting ();

  int broker_port = it_free_port ();
  d.worker_port = it_free_port ();
  char env_broker[64];
  snprintf (env_broker, sizeof env_broker, "ATENDE_BROKER_METRICS_PORT=%d", broker_port);
  snprintf (d.broker_metrics, sizeof d.broker_metrics, "http://127.0.0.1:%d/metrics", broker_port);
  snprintf (s_env_metrics, sizeof s_env_metrics, "ATENDE_WORKER_METRICS_PORT=%d", d.worker_port);
  const char *broker_args[] = {"broker", NULL};
  pid_t broker = it_spawn_atende ("broker", broker_args, s_env (env_broker));

  setenv ("ATENDE_BROKER_ENDPOINTS", s_endpoint, 1);
  at_config_t *cfg = at_config_from_env ();
  at_publisher_t *pub = at_publisher_new (cfg);
  IT_CHECK (pub != NULL, "publisher");
  static at_msg_t *msgs[TOTAL];
  for (int i = 0; i < TOTAL; i++)
    msgs[i] = s_inbound (i);
  s_publish (pub, msgs, TOTAL);

  s_check_takes_backlog (&d);
  s_check_sigterm (&d);
  s_check_finished (&d);

  it_stop (d.worker, SIGTERM, 20000);
  it_stop (broker, SIGTERM, 10000);
  for (int i = 0; i < TOTAL; i++)
    at_msg_destroy (&msgs[i]);
  at_publisher_destroy (&pub);
  at_config_destroy (&cfg);
  PQfinish (d.conn);
  printf ("worker drain: ok\n");
  return 0;
}
