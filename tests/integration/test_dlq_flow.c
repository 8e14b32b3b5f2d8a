/* The dead letters end to end, with a broker, `atende worker ingest`, the
 * api and the `atende dlq` command on a fresh database:
 *   - a message whose payload does not decode is dead-lettered by the worker
 *     with its reason and a history of one failure;
 *   - `atende dlq list|show` and GET /v1/dlq, /v1/dlq/{id} show it; unknown
 *     ids are 404 problems, bad limits 400;
 *   - replayed twice (CLI, then CLI and API again) while no worker runs: the
 *     first moves it back at attempt 1 keeping its history, the others change
 *     nothing and say so; with a worker it is delivered exactly once more
 *     (history grows by one, replays = 1);
 *   - a good message that died earlier, replayed through the API, is applied
 *     once (one ticket_message), and a second replay is 404;
 *   - `atende dlq replay --stage ingest --all` moves every dead ingest
 *     message in one go. */
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

#define WAIT_MS 60000

static char s_db[512];
static char s_endpoint[64];
static char s_env_db[600], s_env_bind[96], s_env_eps[96];
static int s_cli_runs;

static const char *const *
s_env (void)
{
  static const char *env[16];
  snprintf (s_env_db, sizeof s_env_db, "ATENDE_DATABASE_URL=%s", s_db);
  snprintf (s_env_bind, sizeof s_env_bind, "ATENDE_BROKER_BIND=%s", s_endpoint);
  snprintf (s_env_eps, sizeof s_env_eps, "ATENDE_BROKER_ENDPOINTS=%s", s_endpoint);
  const char *list[] = {s_env_db, s_env_bind, s_env_eps, "ATENDE_BROKER_METRICS_PORT=0",
                        "ATENDE_HEARTBEAT_MS=200", "ATENDE_DRAIN_GRACE_MS=5000",
                        "ATENDE_BROKER_SWEEP_MS=100", "ATENDE_STAGE_MAX_ATTEMPTS=ingest=3",
                        "ATENDE_RETRY_BASE_MS=10", NULL};
  memcpy (env, list, sizeof list);
  return env;
}

/* Runs `atende dlq <args>` to completion; returns its exit code and its
 * output (stdout and stderr, malloc'd) in *out. */
static int
s_cli (char **out, const char *a1, const char *a2, const char *a3, const char *a4)
{
  char name[32], path[64];
  snprintf (name, sizeof name, "cli_%d", ++s_cli_runs);
  snprintf (path, sizeof path, "%s.log", name);
  const char *args[] = {"dlq", a1, a2, a3, a4, NULL};
  pid_t pid = it_spawn_atende (name, args, s_env ());
  int status = it_stop (pid, 0, 20000);
  IT_CHECK (status != -1 && WIFEXITED (status), "atende dlq %s did not exit", a1);
  FILE *f = fopen (path, "r");
  IT_CHECK (f != NULL, "cli log %s", path);
  char *text = calloc (1, 65536);
  size_t n = fread (text, 1, 65535, f);
  text[n] = '\0';
  fclose (f);
  *out = text;
  return WEXITSTATUS (status);
}

static at_msg_t *
s_inbound (const char *who)
{
  char handle[64], key[96], provider_id[64];
  snprintf (handle, sizeof handle, "%s@example.com.br", who);
  snprintf (key, sizeof key, "email:%s", handle);
  snprintf (provider_id, sizeof provider_id, "dlq-%s", who);
  Atende__InboundMessage in = ATENDE__INBOUND_MESSAGE__INIT;
  in.channel = "email";
  in.handle = handle;
  in.name = "Cliente";
  in.text = "Oi, meu pedido ainda não chegou.";
  in.provider_message_id = provider_id;
  in.received_us = at_now_us ();
  in.subject = "Pedido";
  in.language = "pt";
  uint8_t buf[512];
  size_t len = atende__inbound_message__get_packed_size (&in);
  IT_CHECK (len <= sizeof buf, "inbound size");
  atende__inbound_message__pack (&in, buf);
  return at_msg_new (AT_STAGE_INGEST, AT_TYPE_INBOUND_MESSAGE, key, NULL, buf, len);
}

static at_msg_t *
s_garbage (int i)
{
  static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0x01, 'n', 'o', 't', ' ', 'p', 'b'};
  char key[64];
  snprintf (key, sizeof key, "email:bad%d@example.com", i);
  return at_msg_new (AT_STAGE_INGEST, AT_TYPE_INBOUND_MESSAGE, key, NULL, garbage, sizeof garbage);
}

static void
s_publish (at_publisher_t *pub, at_msg_t **msgs, size_t n)
{
  int retry_after = 0, tries = 0, rc;
  while ((rc = at_publisher_send (pub, msgs, n, &retry_after)) == AT_AGAIN || rc == AT_BUSY) {
    IT_CHECK (++tries < 60, "publish keeps failing rc=%d", rc);
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep (&ts, NULL);
  }
  IT_CHECK (rc == AT_OK, "publish rc=%d", rc);
}

static long long
s_q (PGconn *conn, const char *fmt, const char *id)
{
  char sql[512];
  snprintf (sql, sizeof sql, fmt, id);
  return it_db_scalar (conn, sql);
}

static void
s_wait_q (PGconn *conn, const char *fmt, const char *id, long long want)
{
  char sql[512];
  snprintf (sql, sizeof sql, fmt, id);
  long long have = it_wait_scalar (conn, sql, want, WAIT_MS);
  IT_CHECK (have == want, "%s: want %lld, have %lld", sql, want, have);
}

/* The CLI and the API show the dead letter `id`. */
static void
s_check_views (const char *api, const char *id)
{
  char *out = NULL;
  IT_CHECK (s_cli (&out, "list", NULL, NULL, NULL) == 0 && strstr (out, id), "list: %s", out);
  free (out);
  IT_CHECK (s_cli (&out, "list", "--stage", "route", NULL) == 0 && !strstr (out, id)
            && strstr (out, "0 dead letters"), "list --stage route: %s", out);
  free (out);
  IT_CHECK (s_cli (&out, "show", id, NULL, NULL) == 0 && strstr (out, "\"errors\":[{")
            && strstr (out, "not an InboundMessage"), "show: %s", out);
  free (out);
  IT_CHECK (s_cli (&out, "show", "not-a-uuid", NULL, NULL) == 2, "show bad id: %s", out);
  free (out);
  IT_CHECK (s_cli (&out, "list", "--limit", "0", NULL) == 2, "list --limit 0: %s", out);
  free (out);

  char url[256];
  char *body = NULL;
  snprintf (url, sizeof url, "%s/v1/dlq?stage=ingest&limit=10", api);
  IT_CHECK (it_http ("GET", url, NULL, NULL, &body) == 200 && strstr (body, id)
            && strstr (body, "\"count\":1"), "GET /v1/dlq: %s", body);
  free (body);
  snprintf (url, sizeof url, "%s/v1/dlq?limit=0", api);
  IT_CHECK (it_http ("GET", url, NULL, NULL, &body) == 400 && strstr (body, "limit"),
            "GET /v1/dlq?limit=0: %s", body);
  free (body);
  snprintf (url, sizeof url, "%s/v1/dlq/%s", api, id);
  IT_CHECK (it_http ("GET", url, NULL, NULL, &body) == 200 && strstr (body, "\"errors\":[{"),
            "GET /v1/dlq/{id}: %s", body);
  free (body);
  snprintf (url, sizeof url, "%s/v1/dlq/01890000-0000-7000-8000-000000000000", api);
  IT_CHECK (it_http ("GET", url, NULL, NULL, &body) == 404 && strstr (body, "status"),
            "GET unknown: %s", body);
  free (body);
  snprintf (url, sizeof url, "%s/v1/dlq/nope/replay", api);
  IT_CHECK (it_http ("POST", url, NULL, NULL, &body) == 404, "POST bad id: %s", body);
  free (body);
}

/* Replays `id` while no worker runs: once moves it, again changes nothing. */
static void
s_replay_twice (PGconn *conn, const char *api, const char *id)
{
  char *out = NULL;
  IT_CHECK (s_cli (&out, "replay", id, NULL, NULL) == 0 && strstr (out, "replayed"),
            "replay: %s", out);
  free (out);
  IT_CHECK (s_q (conn, "SELECT count(*) FROM bus_message WHERE id = '%s' AND attempt = 1"
                 " AND jsonb_array_length (errors) = 1 AND replays = 1", id) == 1,
            "replayed at attempt 1 with its history");
  IT_CHECK (s_q (conn, "SELECT count(*) FROM bus_dead WHERE id = '%s'", id) == 0, "left bus_dead");
  IT_CHECK (s_cli (&out, "replay", id, NULL, NULL) == 0 && strstr (out, "nothing changed"),
            "second replay: %s", out);
  free (out);
  char url[256], *body = NULL;
  snprintf (url, sizeof url, "%s/v1/dlq/%s/replay", api, id);
  IT_CHECK (it_http ("POST", url, NULL, NULL, &body) == 409, "API replay of pending: %s", body);
  free (body);
  IT_CHECK (s_q (conn, "SELECT count(*) FROM bus_message WHERE id = '%s' AND attempt = 1", id)
            == 1, "still one pending row");
}

static pid_t
s_worker (const char *name)
{
  const char *args[] = {"worker", "ingest", NULL};
  return it_spawn_atende (name, args, s_env ());
}

/* What the steps share: the database, the api, a publisher, the ingest
 * worker of the moment, the message it dead-letters (steps 1 to 3). */
typedef struct {
  PGconn *conn;
  const char *api;
  at_publisher_t *pub;
  pid_t worker;
  at_msg_t *bad;
} s_flow_t;

/* 1. dead-lettered by a real worker, with reason and history */
static void
s_check_dead_lettered (s_flow_t *f)
{
  f->bad = s_garbage (0);
  s_publish (f->pub, &f->bad, 1);
  f->worker = s_worker ("worker_1");
  s_wait_q (f->conn, "SELECT count(*) FROM bus_dead WHERE id = '%s'", f->bad->id, 1);
  IT_CHECK (s_q (f->conn, "SELECT count(*) FROM bus_dead WHERE id = '%s' AND attempt = 1 AND"
                 " jsonb_array_length (errors) = 1 AND errors->0->>'reason' = reason AND"
                 " (errors->0->>'attempt')::int = 1 AND length (reason) > 0", f->bad->id) == 1,
            "dead with its reason and a history of one failure");
}

/* Gives the api up to 5 s to answer /healthz. */
static void
s_wait_api (const char *api)
{
  char url[256];
  snprintf (url, sizeof url, "%s/healthz", api);
  for (int i = 0; i < 250 && it_http ("GET", url, NULL, NULL, NULL) != 200; i++) {
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep (&ts, NULL);
  }
}

/* 3. replay twice with no worker; then one more delivery */
static void
s_check_replayed (s_flow_t *f)
{
  IT_CHECK (WIFEXITED (it_stop (f->worker, SIGTERM, 20000)), "worker stops");
  s_replay_twice (f->conn, f->api, f->bad->id);
  f->worker = s_worker ("worker_2");
  s_wait_q (f->conn, "SELECT count(*) FROM bus_dead WHERE id = '%s'", f->bad->id, 1);
  IT_CHECK (s_q (f->conn, "SELECT count(*) FROM bus_dead WHERE id = '%s' AND"
                 " jsonb_array_length (errors) = 2 AND replays = 1", f->bad->id) == 1,
            "delivered exactly once more after the replays");
}

/* 4. a good message that died earlier: replayed through the API, applied once */
static void
s_check_api_replay (const s_flow_t *f)
{
  char url[256], *body = NULL;
  at_msg_t *good = s_inbound ("replayed");
  IT_CHECK (good != NULL, "good message");
  const char *values[6] = {good->id, good->key, good->type, good->trace_id,
                           (const char *) good->payload, "earlier failure"};
  int lengths[6] = {0, 0, 0, 0, (int) good->payload_len, 0};
  int formats[6] = {0, 0, 0, 0, 1, 0};
  PGresult *res = PQexecParams (f->conn,
      "INSERT INTO bus_dead (id, stage, key, type, attempt, created_at, trace_id, payload,"
      " reason, errors) VALUES ($1::uuid, 'ingest', $2, $3, 3, now (), $4, $5, $6,"
      " '[{\"attempt\":3,\"at\":\"2026-11-22T00:00:00Z\",\"reason\":\"earlier failure\"}]')",
      6, NULL, values, lengths, formats, 0);
  IT_CHECK (PQresultStatus (res) == PGRES_COMMAND_OK, "insert dead: %s", PQerrorMessage (f->conn));
  PQclear (res);
  snprintf (url, sizeof url, "%s/v1/dlq/%s/replay", f->api, good->id);
  IT_CHECK (it_http ("POST", url, NULL, NULL, &body) == 200 && strstr (body, "pending"),
            "API replay: %s", body);
  free (body);
  s_wait_q (f->conn, "SELECT count(*) FROM ticket_message WHERE bus_message_id = '%s'", good->id, 1);
  s_wait_q (f->conn, "SELECT count(*) FROM bus_message WHERE id = '%s'", good->id, 0);
  IT_CHECK (it_http ("POST", url, NULL, NULL, &body) == 404, "replay of done: %s", body);
  free (body);
  IT_CHECK (s_q (f->conn, "SELECT count(*) FROM ticket_message WHERE bus_message_id = '%s'",
                 good->id) == 1, "applied exactly once");
  at_msg_destroy (&good);
}

/* 5. bulk replay of a stage */
static void
s_check_bulk_replay (const s_flow_t *f)
{
  IT_CHECK (WIFEXITED (it_stop (f->worker, SIGTERM, 20000)), "worker stops");
  at_msg_t *more[3] = {s_garbage (1), s_garbage (2), s_garbage (3)};
  s_publish (f->pub, more, 3);
  PGresult *res = PQexec (f->conn, "WITH d AS (DELETE FROM bus_message WHERE stage = 'ingest'"
                          " RETURNING *) INSERT INTO bus_dead (id, stage, key, type, attempt,"
                          " created_at, trace_id, payload, reason) SELECT id, stage, key, type,"
                          " attempt, created_at, trace_id, payload, 'test' FROM d");
  PQclear (res);
  char *out = NULL;
  IT_CHECK (s_cli (&out, "replay", "--stage", "ingest", "--all") == 0
            && strstr (out, "replayed 4 dead letters"), "bulk replay: %s", out);
  free (out);
  IT_CHECK (it_db_scalar (f->conn, "SELECT count(*) FROM bus_dead") == 0
            && it_db_scalar (f->conn, "SELECT count(*) FROM bus_message WHERE stage = 'ingest'"
                             " AND attempt = 1") == 4, "all four pending again");
  for (int i = 0; i < 3; i++)
    at_msg_destroy (&more[i]);
}

int
main (void)
{
  it_require_pg ();
  at_strlcpy (s_db, it_db_create ("dlq_flow", true), sizeof s_db);
  snprintf (s_endpoint, sizeof s_endpoint, "tcp://127.0.0.1:%d", it_free_port ());
  s_flow_t f = {.conn = it_db_connect (s_db)};
  const char *broker_args[] = {"broker", NULL};
  pid_t broker = it_spawn_atende ("broker", broker_args, s_env ());
  int port = it_free_port ();
  char env_port[64], api[64];
  snprintf (env_port, sizeof env_port, "--api-port=%d", port);
  snprintf (api, sizeof api, "http://127.0.0.1:%d", port);
  f.api = api;
  const char *api_args[] = {"api", env_port, "--api-address=127.0.0.1", NULL};
  pid_t api_pid = it_spawn_atende ("api", api_args, s_env ());

  setenv ("ATENDE_BROKER_ENDPOINTS", s_endpoint, 1);
  at_config_t *cfg = at_config_from_env ();
  f.pub = at_publisher_new (cfg);
  IT_CHECK (f.pub != NULL, "publisher");

  s_check_dead_lettered (&f);
  /* 2. list and show */
  s_wait_api (api);
  s_check_views (api, f.bad->id);
  s_check_replayed (&f);
  s_check_api_replay (&f);
  s_check_bulk_replay (&f);

  at_msg_destroy (&f.bad);
  at_publisher_destroy (&f.pub);
  at_config_destroy (&cfg);
  it_stop (api_pid, SIGTERM, 10000);
  it_stop (broker, SIGTERM, 10000);
  PQfinish (f.conn);
  printf ("dlq flow: ok\n");
  return 0;
}
