/* The shared worker loop, end to end with real processes: a broker, a fresh
 * database, `atende worker ingest`.
 *   - hundreds of inbound messages published through the bus are each applied
 *     once: bus_message for ingest empties, one ticket_message row each, one
 *     produced route message each;
 *   - a message whose payload does not decode ends in bus_dead with a reason;
 *   - SIGTERM'd in the middle of a backlog, the worker exits 0 on its own, and
 *     a new worker finishes the rest: nothing lost, nothing applied twice;
 *   - an unknown stage is refused with exit code 2. */
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

#define FIRST_BATCH 300
#define SECOND_BATCH 400
#define WAIT_MS 60000

static char s_db[512];
static char s_endpoint[64];
static const char *const s_worker_args[] = {"worker", "ingest", NULL};

static at_msg_t *
s_inbound (int i)
{
  char handle[64], text[160], provider_id[64], key[96];
  snprintf (handle, sizeof handle, "cliente%d@example.com.br", i);
  snprintf (text, sizeof text, "Oi, cadê meu pedido %d? Comprei faz uma semana.", 1000 + i);
  snprintf (provider_id, sizeof provider_id, "worker-loop-%d", i);
  snprintf (key, sizeof key, "email:%s", handle);
  Atende__InboundMessage in = ATENDE__INBOUND_MESSAGE__INIT;
  in.channel = "email";
  in.handle = handle;
  in.name = "Cliente Teste";
  in.text = text;
  in.provider_message_id = provider_id;
  in.received_us = at_now_us ();
  in.subject = "Meu pedido";
  in.language = "pt";
  size_t len = atende__inbound_message__get_packed_size (&in);
  uint8_t *buf = malloc (len ? len : 1);
  atende__inbound_message__pack (&in, buf);
  at_msg_t *msg = at_msg_new (AT_STAGE_INGEST, AT_TYPE_INBOUND_MESSAGE, key, NULL, buf, len);
  free (buf);
  IT_CHECK (msg != NULL, "at_msg_new %d", i);
  return msg;
}

/* Publishes msgs in slices, retrying while the broker starts or is busy. */
static void
s_publish (at_publisher_t *pub, at_msg_t **msgs, size_t n)
{
  for (size_t done = 0; done < n;) {
    size_t slice = n - done < 50 ? n - done : 50;
    int retry_after = 0, tries = 0, rc;
    while ((rc = at_publisher_send (pub, msgs + done, slice, &retry_after)) == AT_AGAIN
           || rc == AT_BUSY) {
      IT_CHECK (++tries < 60, "publish keeps failing rc=%d", rc);
      struct timespec ts = {0, 100 * 1000 * 1000};
      nanosleep (&ts, NULL);
    }
    IT_CHECK (rc == AT_OK, "publish rc=%d", rc);
    done += slice;
  }
}

typedef struct {
  PGconn *conn;
  const char *sql;
  long long want;
} s_equals_t;

static bool
s_equals (void *arg)
{
  s_equals_t *q = arg;
  return it_db_scalar (q->conn, q->sql) == q->want;
}

static void
s_wait_equals (PGconn *conn, const char *sql, long long want)
{
  s_equals_t q = {conn, sql, want};
  if (!it_wait_until (s_equals, &q, WAIT_MS))
    IT_CHECK (false, "%s: want %lld, have %lld", sql, want, it_db_scalar (conn, sql));
}

static pid_t
s_spawn (const char *name, const char *const *args)
{
  char env_db[600], env_bind[96], env_eps[96];
  snprintf (env_db, sizeof env_db, "ATENDE_DATABASE_URL=%s", s_db);
  snprintf (env_bind, sizeof env_bind, "ATENDE_BROKER_BIND=%s", s_endpoint);
  snprintf (env_eps, sizeof env_eps, "ATENDE_BROKER_ENDPOINTS=%s", s_endpoint);
  const char *env[] = {env_db, env_bind, env_eps, "ATENDE_BROKER_METRICS_PORT=0",
                       "ATENDE_HEARTBEAT_MS=200", "ATENDE_DRAIN_GRACE_MS=5000",
                       "ATENDE_WORKER_BATCH=32", "ATENDE_WORKER_CREDIT=64",
                       "ATENDE_BROKER_SWEEP_MS=100", "ATENDE_LOG_LEVEL=debug", NULL};
  return it_spawn_atende (name, args, env);
}

/* Waits for a child to exit on its own after sig; fails if it had to be
 * killed. Returns its exit code. */
static int
s_exit_code (pid_t pid, int sig)
{
  int status = it_stop (pid, sig, 20000);
  IT_CHECK (status != -1 && WIFEXITED (status), "process %d did not exit by itself (status %d)",
            (int) pid, status);
  return WEXITSTATUS (status);
}

/* What the steps share: the database, a publisher, the messages (the
 * inbound backlog, one that does not decode), the worker of the moment. */
typedef struct {
  PGconn *conn;
  at_publisher_t *pub;
  at_msg_t *msgs[FIRST_BATCH + SECOND_BATCH + 1];
  at_msg_t *bad;
  pid_t worker;
} s_loop_t;

/* An unknown stage is refused before anything starts. */
static void
s_check_unknown_stage (void)
{
  const char *bad_args[] = {"worker", "ingest,nosuch", NULL};
  IT_CHECK (s_exit_code (s_spawn ("worker_bad_stage", bad_args), 0) == 2,
            "unknown stage: exit code 2");
}

/* 1. A backlog of inbound messages plus one that does not decode. */
static void
s_check_applied (s_loop_t *l)
{
  for (int i = 0; i < FIRST_BATCH + SECOND_BATCH; i++)
    l->msgs[i] = s_inbound (i);
  static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0x01, 'n', 'o', 't', ' ', 'p', 'b'};
  l->bad = at_msg_new (AT_STAGE_INGEST, AT_TYPE_INBOUND_MESSAGE, "email:bad@example.com",
                       NULL, garbage, sizeof garbage);
  IT_CHECK (l->bad != NULL, "bad message");
  s_publish (l->pub, l->msgs, FIRST_BATCH);
  s_publish (l->pub, &l->bad, 1);
  IT_CHECK (it_db_scalar (l->conn, "SELECT count(*) FROM bus_message WHERE stage = 'ingest'")
                == FIRST_BATCH + 1, "every confirmed publish is a row");

  l->worker = s_spawn ("worker_ingest_1", s_worker_args);
  s_wait_equals (l->conn, "SELECT count(*) FROM bus_message WHERE stage = 'ingest'", 0);
  IT_CHECK (it_db_scalar (l->conn, "SELECT count(*) FROM ticket_message WHERE direction = 'in'")
                == FIRST_BATCH, "one ticket_message per inbound message");
  IT_CHECK (it_db_scalar (l->conn, "SELECT count(*) FROM bus_message WHERE stage = 'route'")
                == FIRST_BATCH, "one produced route message per inbound message");
  char sql[256];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM bus_dead WHERE id = '%s' AND "
            "length(reason) > 0 AND stage = 'ingest'", l->bad->id);
  IT_CHECK (it_db_scalar (l->conn, sql) == 1, "undecodable payload dead-lettered with a reason");
  IT_CHECK (it_db_scalar (l->conn, "SELECT count(*) FROM bus_dead") == 1, "nothing else is dead");
}

/* 2. SIGTERM in the middle of a backlog: exit 0 by itself; a new worker
 *    finishes the rest; every message applied exactly once. */
static void
s_check_sigterm_resume (s_loop_t *l)
{
  s_publish (l->pub, l->msgs + FIRST_BATCH, SECOND_BATCH);
  it_wait_scalar (l->conn, "SELECT count(*) FROM ticket_message WHERE direction = 'in'",
                  FIRST_BATCH + 1, WAIT_MS);
  IT_CHECK (s_exit_code (l->worker, SIGTERM) == 0, "SIGTERM'd worker exits 0");
  l->worker = s_spawn ("worker_ingest_2", s_worker_args);
  s_wait_equals (l->conn, "SELECT count(*) FROM bus_message WHERE stage = 'ingest'", 0);
  IT_CHECK (it_db_scalar (l->conn, "SELECT count(*) FROM ticket_message WHERE direction = 'in'")
                == FIRST_BATCH + SECOND_BATCH, "no inbound message lost or applied twice");
  IT_CHECK (it_db_scalar (l->conn, "SELECT count(*) FROM bus_message WHERE stage = 'route'")
                == FIRST_BATCH + SECOND_BATCH, "no produced message lost or doubled");
  IT_CHECK (it_db_scalar (l->conn, "SELECT count(*) FROM bus_dead") == 1, "still one dead");
}

int
main (void)
{
  it_require_pg ();
  at_strlcpy (s_db, it_db_create ("worker_loop", true), sizeof s_db);
  snprintf (s_endpoint, sizeof s_endpoint, "tcp://127.0.0.1:%d", it_free_port ());
  s_loop_t l = {.conn = it_db_connect (s_db)};
  s_check_unknown_stage ();

  const char *broker_args[] = {"broker", NULL};
  pid_t broker = s_spawn ("broker", broker_args);

  setenv ("ATENDE_BROKER_ENDPOINTS", s_endpoint, 1);
  setenv ("ATENDE_PUBLISH_TIMEOUT_MS", "2000", 1);
  at_config_t *cfg = at_config_from_env ();
  IT_CHECK (cfg != NULL, "config");
  l.pub = at_publisher_new (cfg);
  IT_CHECK (l.pub != NULL, "publisher");

  s_check_applied (&l);
  s_check_sigterm_resume (&l);

  IT_CHECK (s_exit_code (l.worker, SIGTERM) == 0, "idle worker exits 0 on SIGTERM");
  it_stop (broker, SIGTERM, 10000);
  for (int i = 0; i < FIRST_BATCH + SECOND_BATCH; i++)
    at_msg_destroy (&l.msgs[i]);
  at_msg_destroy (&l.bad);
  at_publisher_destroy (&l.pub);
  at_config_destroy (&cfg);
  PQfinish (l.conn);
  printf ("worker loop: ok\n");
  return 0;
}
