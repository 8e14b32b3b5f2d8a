/* The api's happy path against a real broker: a 202 means the message is
 * committed in PostgreSQL (checked at once, no waiting); GET /v1/messages/{id}
 * follows it from pending to processed once an ingest worker runs; the
 * ticket view shows it; agents' actions on the ticket are accepted; an api
 * whose database is unreachable is alive but not ready; SIGTERM exits 0. */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "it.h"
#include "at_proc.h"

#define WAIT_MS 30000

static char s_api[64];

static json_t *
s_call (const char *method, const char *path, const char *body, long want)
{
  char url[256], *resp = NULL;
  snprintf (url, sizeof url, "%s%s", s_api, path);
  long status = it_http (method, url, body ? "application/json" : NULL, body, &resp);
  IT_CHECK (status == want, "%s %s: %ld, want %ld: %s", method, path, status, want,
            resp ? resp : "");
  json_t *doc = json_loads (resp ? resp : "", 0, NULL);
  IT_CHECK (doc != NULL, "%s %s: not JSON: %s", method, path, resp ? resp : "");
  free (resp);
  return doc;
}

static const char *
s_str (json_t *obj, const char *field)
{
  const char *v = json_string_value (json_object_get (obj, field));
  return v ? v : "";
}

typedef struct {
  char id[64];
  long long ticket_id;
} s_msg_t;

static bool
s_processed (void *arg)
{
  s_msg_t *m = arg;
  char path[128];
  snprintf (path, sizeof path, "/v1/messages/%s", m->id);
  json_t *doc = s_call ("GET", path, NULL, 200);
  bool done = strcmp (s_str (doc, "state"), "processed") == 0;
  if (done)
    m->ticket_id = json_integer_value (json_object_get (doc, "ticket_id"));
  json_decref (doc);
  return done;
}

static bool
s_up (void *arg)
{
  char url[128];
  snprintf (url, sizeof url, "%s/healthz", (const char *) arg);
  return it_http ("GET", url, NULL, NULL, NULL) == 200;
}

/* An api on a database that does not exist: alive (200), not ready (503). */
static void
s_not_ready (const char *base_env[])
{
  char port_env[64], url[128], *resp = NULL;
  int port = it_free_port ();
  snprintf (port_env, sizeof port_env, "ATENDE_API_PORT=%d", port);
  snprintf (url, sizeof url, "http://127.0.0.1:%d", port);
  const char *args[] = { "api", NULL };
  const char *env[] = { port_env, base_env[1], base_env[2],
                        "ATENDE_DATABASE_URL=host=/nonexistent dbname=nothing connect_timeout=2",
                        NULL };
  pid_t api = it_spawn_atende ("api-noready", args, env);
  IT_CHECK (it_wait_until (s_up, url, WAIT_MS), "api without db did not come up");
  snprintf (url, sizeof url, "http://127.0.0.1:%d/readyz", port);
  IT_CHECK (it_http ("GET", url, NULL, NULL, &resp) == 503, "readyz without db");
  IT_CHECK (resp && strstr (resp, "\"status\":503"), "readyz problem: %s", resp);
  free (resp);
  snprintf (url, sizeof url, "http://127.0.0.1:%d/v1/tickets/1", port);
  IT_CHECK (it_http ("GET", url, NULL, NULL, NULL) == 503, "ticket without db");
  int status = at_proc_stop (api, SIGTERM, 10000);
  IT_CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0, "exit %d", status);
}

/* 202 only once committed: the row is there the moment we are told */
static void
s_check_committed (PGconn *db, s_msg_t *m)
{
  char sql[256], path[128];
  json_t *acc = s_call ("POST", "/v1/messages",
                        "{\"channel\":\"email\",\"handle\":\"Bia@Example.com\",\"name\":\"Bia\","
                        "\"text\":\"Quero trocar o tamanho do tênis\",\"provider_message_id\":\"<flow-1@x>\"}",
                        202);
  snprintf (m->id, sizeof m->id, "%s", s_str (acc, "id"));
  IT_CHECK (strcmp (s_str (acc, "status"), "accepted") == 0, "status accepted");
  json_decref (acc);
  snprintf (sql, sizeof sql, "SELECT count(*) FROM bus_message WHERE id = '%s' AND stage = 'ingest'"
            " AND key LIKE 'email:#%%' AND position ('bia' IN key) = 0", m->id);
  IT_CHECK (it_db_scalar (db, sql) == 1, "accepted message %s not in bus_message", m->id);
  snprintf (path, sizeof path, "/v1/messages/%s", m->id);
  json_t *st = s_call ("GET", path, NULL, 200);
  IT_CHECK (strcmp (s_str (st, "state"), "pending") == 0, "pending");
  json_decref (st);
}

/* an ingest worker takes it into a ticket */
static void
s_check_ticket (s_msg_t *m)
{
  char path[128];
  IT_CHECK (it_wait_until (s_processed, m, WAIT_MS), "message %s never processed", m->id);
  snprintf (path, sizeof path, "/v1/tickets/%lld", m->ticket_id);
  json_t *t = s_call ("GET", path, NULL, 200);
  json_t *msgs = json_object_get (t, "messages");
  IT_CHECK (json_integer_value (json_object_get (t, "id")) == m->ticket_id, "ticket id");
  IT_CHECK (strcmp (s_str (t, "channel"), "email") == 0 && strcmp (s_str (t, "status"), "open") == 0,
            "ticket channel/status");
  IT_CHECK (json_array_size (msgs) == 1, "one message");
  json_t *m0 = json_array_get (msgs, 0);
  IT_CHECK (strcmp (s_str (m0, "body"), "Quero trocar o tamanho do tênis") == 0
            && strcmp (s_str (m0, "direction"), "in") == 0
            && strcmp (s_str (m0, "author"), "customer") == 0
            && strlen (s_str (m0, "created_at")) == 27, "message view");
  IT_CHECK (json_is_null (json_object_get (t, "resolved_at")), "not resolved");
  IT_CHECK (json_is_null (json_object_get (t, "intent"))
            && json_is_null (json_object_get (t, "intent_confidence")),
            "not routed yet: intent and its confidence shown, null");
  json_decref (t);
}

/* agents' actions are accepted and on the bus for route */
static void
s_check_actions (PGconn *db, long long ticket_id)
{
  char sql[256], path[128];
  snprintf (path, sizeof path, "/v1/tickets/%lld/replies", ticket_id);
  json_decref (s_call ("POST", path, "{\"agent\":\"carla\",\"text\":\"Claro! Qual tamanho?\"}", 202));
  snprintf (path, sizeof path, "/v1/tickets/%lld/resolve", ticket_id);
  json_decref (s_call ("POST", path, NULL, 202));
  snprintf (sql, sizeof sql, "SELECT count(*) FROM bus_message WHERE stage = 'route'"
            " AND key = 'ticket:%lld' AND type IN ('ticket.reply', 'ticket.resolve')", ticket_id);
  IT_CHECK (it_db_scalar (db, sql) == 2, "reply and resolve on the bus");
  json_decref (s_call ("POST", "/v1/orders/FLOW-1/events",
                       "{\"status\":\"placed\",\"event_id\":\"e1\",\"customer\":{\"channel\":\"email\","
                       "\"handle\":\"bia@example.com\"}}", 202));
  IT_CHECK (it_db_scalar (db, "SELECT count(*) FROM bus_message WHERE stage = 'notify'"
                              " AND key = 'order:FLOW-1'") == 1, "order event on the bus");
}

int
main (void)
{
  it_require_pg ();
  char conninfo[512], db_env[600], bind_env[64], ep_env[64], port_env[64];
  snprintf (conninfo, sizeof conninfo, "%s", it_db_create ("api_flow", true));
  PGconn *db = it_db_connect (conninfo);
  int broker = it_free_port (), port = it_free_port ();
  snprintf (s_api, sizeof s_api, "http://127.0.0.1:%d", port);
  snprintf (db_env, sizeof db_env, "ATENDE_DATABASE_URL=%s", conninfo);
  snprintf (bind_env, sizeof bind_env, "ATENDE_BROKER_BIND=tcp://127.0.0.1:%d", broker);
  snprintf (ep_env, sizeof ep_env, "ATENDE_BROKER_ENDPOINTS=tcp://127.0.0.1:%d", broker);
  snprintf (port_env, sizeof port_env, "ATENDE_API_PORT=%d", port);
  const char *env[] = { db_env, "ATENDE_API_ADDRESS=127.0.0.1", "ATENDE_BROKER_METRICS_PORT=0",
                        bind_env, ep_env, port_env, NULL };
  const char *broker_args[] = { "broker", NULL }, *api_args[] = { "api", NULL };
  const char *ingest_args[] = { "worker", "ingest", NULL };
  pid_t brk = it_spawn_atende ("broker", broker_args, env);
  pid_t api = it_spawn_atende ("api", api_args, env);
  IT_CHECK (it_wait_until (s_up, s_api, WAIT_MS), "api did not come up");

  s_msg_t m = { "", 0 };
  s_check_committed (db, &m);
  pid_t ingest = it_spawn_atende ("ingest", ingest_args, env);
  s_check_ticket (&m);
  s_check_actions (db, m.ticket_id);
  s_not_ready (env);

  int status = at_proc_stop (api, SIGTERM, 10000);
  IT_CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0, "api exit %d", status);
  at_proc_stop (ingest, SIGTERM, 10000);
  at_proc_stop (brk, SIGTERM, 10000);
  PQfinish (db);
  printf ("ok\n");
  return 0;
}
