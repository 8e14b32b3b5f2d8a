/* The api refuses bad input with the right 4xx problem document naming the
 * field, writes nothing when it does, answers 503 + Retry-After when no
 * broker confirms, and serves /healthz, /readyz and /metrics. Runs the real
 * `atende api` against a fresh database, over real HTTP, with no broker. */
#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include "it.h"
#include "at_crypto.h"
#include "at_proc.h"

#define SECRET "api-test-survey-secret"
#define BODY_MAX 1024

typedef struct {
  long status;
  char content_type[128];
  char retry_after[32];
  char *body;
  size_t len;
} reply_t;

static char s_base[64];

static size_t
s_on_header (char *line, size_t size, size_t n, void *arg)
{
  reply_t *r = arg;
  size_t len = size * n;
  char text[256];
  if (len >= sizeof text)
    return len;
  memcpy (text, line, len);
  text[len] = '\0';
  text[strcspn (text, "\r\n")] = '\0';
  if (strncasecmp (text, "Content-Type: ", 14) == 0)
    at_strlcpy (r->content_type, text + 14, sizeof r->content_type);
  if (strncasecmp (text, "Retry-After: ", 13) == 0)
    at_strlcpy (r->retry_after, text + 13, sizeof r->retry_after);
  return len;
}

static size_t
s_on_body (char *data, size_t size, size_t n, void *arg)
{
  reply_t *r = arg;
  size_t len = size * n;
  if (r->len + len > 1024 * 1024)
    return 0;
  r->body = realloc (r->body, r->len + len + 1);
  memcpy (r->body + r->len, data, len);
  r->len += len;
  r->body[r->len] = '\0';
  return len;
}

/* One request; the reply's status, Content-Type, Retry-After and body. */
static reply_t
s_http (const char *method, const char *path, const char *content_type, const char *body)
{
  reply_t r = { .status = -1 };
  char url[512], ct[160];
  snprintf (url, sizeof url, "%s%s", s_base, path);
  CURL *c = curl_easy_init ();
  IT_CHECK (c != NULL, "curl_easy_init");
  struct curl_slist *hdrs = curl_slist_append (NULL, "Expect:");
  hdrs = curl_slist_append (hdrs, it_auth_header ());
  if (content_type) {
    snprintf (ct, sizeof ct, "Content-Type: %s", content_type);
    hdrs = curl_slist_append (hdrs, ct);
  }
  else if (body)
    hdrs = curl_slist_append (hdrs, "Content-Type:");
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, s_on_header);
  curl_easy_setopt (c, CURLOPT_HEADERDATA, &r);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_on_body);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, &r);
  if (body) {
    curl_easy_setopt (c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE, (long) strlen (body));
  }
  if (curl_easy_perform (c) == CURLE_OK)
    curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all (hdrs);
  curl_easy_cleanup (c);
  return r;
}

/* Expects a problem document with this status naming this field (NULL: none). */
static void
s_problem (const char *method, const char *path, const char *ct, const char *body, long status,
           const char *field)
{
  reply_t r = s_http (method, path, ct, body);
  IT_CHECK (r.status == status, "%s %s body=%.80s: status %ld, want %ld (%s)", method, path,
            body ? body : "", r.status, status, r.body ? r.body : "");
  IT_CHECK (strcmp (r.content_type, "application/problem+json") == 0,
            "%s %s: Content-Type %s", method, path, r.content_type);
  json_error_t err;
  json_t *doc = json_loads (r.body ? r.body : "", 0, &err);
  IT_CHECK (doc && json_is_object (doc), "%s %s: problem is not JSON: %s", method, path, r.body);
  IT_CHECK (json_integer_value (json_object_get (doc, "status")) == status,
            "%s %s: problem status: %s", method, path, r.body);
  IT_CHECK (json_is_string (json_object_get (doc, "title"))
            && json_is_string (json_object_get (doc, "type")), "problem fields: %s", r.body);
  const char *got = json_string_value (json_object_get (doc, "field"));
  if (field)
    IT_CHECK (got && strcmp (got, field) == 0, "%s %s body=%.80s: field %s, want %s (%s)",
              method, path, body ? body : "", got ? got : "null", field, r.body);
  else
    IT_CHECK (got == NULL, "%s %s: field %s, want none", method, path, got);
  json_decref (doc);
  free (r.body);
}

static void
s_sql (PGconn *db, const char *sql)
{
  PGresult *res = PQexec (db, sql);
  IT_CHECK (PQresultStatus (res) == PGRES_COMMAND_OK, "%s: %s", sql, PQerrorMessage (db));
  PQclear (res);
}

static bool
s_healthy (void *arg)
{
  reply_t r = s_http ("GET", "/healthz", NULL, NULL);
  free (r.body);
  return r.status == 200;
}

static void
s_bad_messages (void)
{
  const char *J = "application/json", *P = "/v1/messages";
  s_problem ("POST", P, "text/plain",
             "{\"channel\":\"email\",\"handle\":\"a@b.com\",\"text\":\"oi\",\"provider_message_id\":\"1\"}",
             415, NULL);
  s_problem ("POST", P, NULL, "{}", 415, NULL);
  s_problem ("POST", P, J, "not json", 400, NULL);
  s_problem ("POST", P, J, "[1,2]", 400, NULL);
  s_problem ("POST", P, J, "{\"channel\":\"email\",\"channel\":\"sms\"}", 400, NULL);
  s_problem ("POST", P, J, "{\"handle\":\"a@b.com\",\"text\":\"oi\",\"provider_message_id\":\"1\"}",
             400, "channel");
  s_problem ("POST", P, J, "{\"channel\":5,\"handle\":\"a@b.com\",\"text\":\"oi\",\"provider_message_id\":\"1\"}",
             400, "channel");
  s_problem ("POST", P, J, "{\"channel\":\"fax\",\"handle\":\"a@b.com\",\"text\":\"oi\",\"provider_message_id\":\"1\"}",
             422, "channel");
  s_problem ("POST", P, J, "{\"channel\":\"email\",\"handle\":\"no-at-sign\",\"text\":\"oi\",\"provider_message_id\":\"1\"}",
             422, "handle");
  s_problem ("POST", P, J, "{\"channel\":\"email\",\"handle\":\"a@b.com\",\"provider_message_id\":\"1\"}",
             400, "text");
  s_problem ("POST", P, J, "{\"channel\":\"email\",\"handle\":\"a@b.com\",\"text\":\"\",\"provider_message_id\":\"1\"}",
             422, "text");
  s_problem ("POST", P, J, "{\"channel\":\"email\",\"handle\":\"a@b.com\",\"text\":[\"oi\"],\"provider_message_id\":\"1\"}",
             400, "text");
  s_problem ("POST", P, J, "{\"channel\":\"email\",\"handle\":\"a@b.com\",\"text\":\"oi\"}",
             400, "provider_message_id");
  char body[BODY_MAX], id[300];
  memset (id, 'x', 299);
  id[299] = '\0';
  snprintf (body, sizeof body, "{\"channel\":\"email\",\"handle\":\"a@b.com\",\"text\":\"oi\","
            "\"provider_message_id\":\"%s\"}", id);
  s_problem ("POST", P, J, body, 422, "provider_message_id");
  /* a body over ATENDE_API_MAX_BODY_BYTES */
  char big[BODY_MAX * 3];
  memset (big, ' ', sizeof big - 3);
  big[0] = '{';
  big[sizeof big - 3] = '}';
  big[sizeof big - 2] = '\0';
  s_problem ("POST", P, J, big, 413, NULL);
  s_problem ("GET", "/v1/messages/not-a-uuid", NULL, NULL, 404, NULL);
  s_problem ("GET", "/v1/messages/0190e1f2-0000-7000-8000-000000000000", NULL, NULL, 404, NULL);
}

static void
s_bad_orders (void)
{
  const char *J = "application/json", *P = "/v1/orders/PED-1/events";
  const char *customer = "\"customer\":{\"channel\":\"whatsapp\",\"handle\":\"+5511999990000\"}";
  char body[512];
  snprintf (body, sizeof body, "{\"status\":\"teleported\",%s}", customer);
  s_problem ("POST", P, J, body, 422, "status");
  s_problem ("POST", P, J, "{\"status\":\"shipped\"}", 400, "customer");
  s_problem ("POST", P, J, "{\"status\":\"shipped\",\"customer\":\"ana\"}", 400, "customer");
  s_problem ("POST", P, J, "{\"status\":\"shipped\",\"customer\":{\"channel\":\"fax\",\"handle\":\"1\"}}",
             422, "customer.channel");
  s_problem ("POST", P, J, "{\"status\":\"shipped\",\"customer\":{\"channel\":\"email\"}}",
             400, "customer.handle");
  snprintf (body, sizeof body, "{\"status\":\"shipped\",\"occurred_at\":\"yesterday\",%s}", customer);
  s_problem ("POST", P, J, body, 422, "occurred_at");
  snprintf (body, sizeof body, "{\"status\":\"shipped\",\"expected_delivery\":\"2026-02-30\",%s}",
            customer);
  s_problem ("POST", P, J, body, 422, "expected_delivery");
  snprintf (body, sizeof body, "{\"status\":7,%s}", customer);
  s_problem ("POST", P, J, body, 400, "status");
}

static void
s_bad_tickets (void)
{
  const char *J = "application/json";
  s_problem ("GET", "/v1/tickets/999", NULL, NULL, 404, NULL);
  s_problem ("GET", "/v1/tickets/abc", NULL, NULL, 404, NULL);
  s_problem ("POST", "/v1/tickets/999/replies", J, "{\"agent\":\"ana\",\"text\":\"Olá!\"}", 404, NULL);
  s_problem ("POST", "/v1/tickets/999/replies", J, "{\"agent\":\"ana\"}", 400, "text");
  s_problem ("POST", "/v1/tickets/999/resolve", NULL, NULL, 404, NULL);
  /* the body's agent is ignored (the caller is the agent): no 400 for it */
  s_problem ("POST", "/v1/tickets/999/resolve", J, "{\"agent\":12}", 404, NULL);
}

/* Two csat surveys written straight into the store; the second answered. */
static void
s_bad_surveys (PGconn *db)
{
  const char *J = "application/json";
  const char *open_id = "0190e1f2-0000-7000-8000-0000000000a1";
  const char *done_id = "0190e1f2-0000-7000-8000-0000000000a2";
  const char *unknown_id = "0190e1f2-0000-7000-8000-0000000000a3";
  char sql[512], token[256], path[320];
  snprintf (sql, sizeof sql,
            "WITH c AS (INSERT INTO customer (name) VALUES ('Ana') RETURNING id)"
            " INSERT INTO survey (id, kind, customer_id) SELECT '%s'::uuid, 'csat', id FROM c"
            " UNION ALL SELECT '%s'::uuid, 'csat', id FROM c", open_id, done_id);
  s_sql (db, sql);
  snprintf (sql, sizeof sql, "INSERT INTO survey_answer (survey_id, score) VALUES ('%s', 5)", done_id);
  s_sql (db, sql);
  IT_CHECK (it_db_scalar (db, "SELECT count(*) FROM survey") == 2, "survey fixture");

  s_problem ("POST", "/v1/surveys/not-a-token", J, "{\"score\":5}", 404, NULL);
  IT_CHECK (at_token_sign ("another-secret", open_id, token, sizeof token) >= 0, "sign");
  snprintf (path, sizeof path, "/v1/surveys/%s", token);
  s_problem ("POST", path, J, "{\"score\":5}", 404, NULL);
  IT_CHECK (at_token_sign (SECRET, unknown_id, token, sizeof token) >= 0, "sign");
  snprintf (path, sizeof path, "/v1/surveys/%s", token);
  s_problem ("POST", path, J, "{\"score\":5}", 404, NULL);
  IT_CHECK (at_token_sign (SECRET, done_id, token, sizeof token) >= 0, "sign");
  snprintf (path, sizeof path, "/v1/surveys/%s", token);
  s_problem ("POST", path, J, "{\"score\":5}", 409, NULL);
  IT_CHECK (at_token_sign (SECRET, open_id, token, sizeof token) >= 0, "sign");
  snprintf (path, sizeof path, "/v1/surveys/%s", token);
  s_problem ("POST", path, J, "{\"score\":9}", 422, "score");
  s_problem ("POST", path, J, "{\"score\":0}", 422, "score");
  s_problem ("POST", path, J, "{\"score\":\"five\"}", 400, "score");
  s_problem ("POST", path, J, "{\"comment\":\"bom\"}", 400, "score");
  /* a valid answer, with no broker: 503 and nothing recorded */
  reply_t r = s_http ("POST", path, J, "{\"score\":4,\"comment\":\"bom\"}");
  IT_CHECK (r.status == 503 && r.retry_after[0], "survey answer without broker: %ld", r.status);
  free (r.body);
  IT_CHECK (it_db_scalar (db, "SELECT count(*) FROM survey_answer") == 1, "answer written");
}

static void
s_other_routes (void)
{
  s_problem ("GET", "/v1/nope", NULL, NULL, 404, NULL);
  s_problem ("GET", "/index.html", NULL, NULL, 404, NULL);   /* "/" is the inbox page */
  s_problem ("DELETE", "/v1/messages", NULL, NULL, 405, NULL);
  s_problem ("GET", "/v1/kpis?since=last-week", NULL, NULL, 400, "since");

  /* the one csat answer the survey fixture wrote, and nothing else */
  reply_t r = s_http ("GET", "/v1/kpis?since=2020-01-01T00:00:00Z", NULL, NULL);
  IT_CHECK (r.status == 200, "kpis: %ld %s", r.status, r.body);
  json_t *k = json_loads (r.body, 0, NULL);
  json_t *csat = json_object_get (k, "csat");
  IT_CHECK (json_integer_value (json_object_get (json_object_get (k, "tickets"), "opened")) == 0
            && json_integer_value (json_object_get (csat, "responses")) == 1
            && json_real_value (json_object_get (csat, "average")) == 5.0
            && json_is_null (json_object_get (json_object_get (k, "first_response_seconds"), "p50")),
            "kpis: %s", r.body);
  json_decref (k);
  free (r.body);
  r = s_http ("GET", "/v1/kpis?since=2100-01-01T00:00:00%2B03:00", NULL, NULL);
  k = json_loads (r.body, 0, NULL);
  csat = json_object_get (k, "csat");
  IT_CHECK (r.status == 200 && json_integer_value (json_object_get (csat, "responses")) == 0
            && json_is_null (json_object_get (csat, "average")), "kpis later: %s", r.body);
  json_decref (k);
  free (r.body);

  r = s_http ("GET", "/healthz", NULL, NULL);
  IT_CHECK (r.status == 200 && strstr (r.body, "\"ok\""), "healthz: %s", r.body);
  free (r.body);
  r = s_http ("GET", "/readyz", NULL, NULL);
  IT_CHECK (r.status == 200, "readyz: %ld %s", r.status, r.body);
  free (r.body);
}

static void
s_no_broker (void)
{
  reply_t r = s_http ("POST", "/v1/messages", "application/json; charset=utf-8",
                      "{\"channel\":\"email\",\"handle\":\"Ana@Example.com\",\"text\":\"Onde está meu pedido?\","
                      "\"provider_message_id\":\"m-1\",\"name\":\"Ana\"}");
  IT_CHECK (r.status == 503, "valid message without broker: %ld %s", r.status, r.body);
  IT_CHECK (strcmp (r.content_type, "application/problem+json") == 0, "503 type %s", r.content_type);
  IT_CHECK (strtol (r.retry_after, NULL, 10) >= 1, "Retry-After: '%s'", r.retry_after);
  free (r.body);
  r = s_http ("POST", "/v1/orders/PED-1/events", "application/json",
              "{\"status\":\"shipped\",\"occurred_at\":\"2026-11-22T18:00:00-03:00\","
              "\"expected_delivery\":\"2026-11-25\",\"customer\":{\"channel\":\"sms\",\"handle\":\"11 99999-0000\"}}");
  IT_CHECK (r.status == 503 && strtol (r.retry_after, NULL, 10) >= 1, "order without broker: %ld", r.status);
  free (r.body);
}

static void
s_metrics (void)
{
  reply_t r = s_http ("GET", "/metrics", NULL, NULL);
  IT_CHECK (r.status == 200 && strncmp (r.content_type, "text/plain", 10) == 0, "metrics");
  IT_CHECK (strstr (r.body, "atende_up 1"), "atende_up: %s", r.body);
  IT_CHECK (strstr (r.body, "atende_build_info{version=\""), "build_info");
  IT_CHECK (strstr (r.body, "atende_http_requests_total{route=\"messages\",code=\"422\"}"),
            "requests_total: %s", r.body);
  IT_CHECK (strstr (r.body, "atende_http_request_duration_seconds_bucket{route=\"messages\","),
            "duration histogram");
  IT_CHECK (strstr (r.body, "atende_publish_confirm_seconds_count"), "publish histogram");
  free (r.body);
}

int
main (void)
{
  it_require_pg ();
  char conninfo[512], port_env[64], db_env[600], broker_env[96];
  snprintf (conninfo, sizeof conninfo, "%s", it_db_create ("api_badinput", true));
  PGconn *db = it_db_connect (conninfo);
  int port = it_free_port (), nobody = it_free_port ();
  snprintf (s_base, sizeof s_base, "http://127.0.0.1:%d", port);
  snprintf (port_env, sizeof port_env, "ATENDE_API_PORT=%d", port);
  snprintf (db_env, sizeof db_env, "ATENDE_DATABASE_URL=%s", conninfo);
  snprintf (broker_env, sizeof broker_env, "ATENDE_BROKER_ENDPOINTS=tcp://127.0.0.1:%d", nobody);
  const char *args[] = { "api", NULL };
  const char *env[] = { port_env, db_env, broker_env, "ATENDE_API_ADDRESS=127.0.0.1",
                        "ATENDE_PUBLISH_TIMEOUT_MS=200", "ATENDE_API_THREADS=2",
                        "ATENDE_API_MAX_BODY_BYTES=1024", "ATENDE_SURVEY_SECRET=" SECRET, NULL };
  pid_t api = it_spawn_atende ("api", args, env);
  IT_CHECK (api > 0, "spawn api");
  IT_CHECK (it_wait_until (s_healthy, NULL, 20000), "api did not come up");

  s_bad_messages ();
  s_bad_orders ();
  s_bad_tickets ();
  s_bad_surveys (db);
  s_other_routes ();
  s_no_broker ();
  s_metrics ();

  IT_CHECK (it_db_scalar (db, "SELECT count(*) FROM bus_message") == 0, "bus_message written");
  IT_CHECK (it_db_scalar (db, "SELECT count(*) FROM ticket") == 0, "ticket written");
  IT_CHECK (it_db_scalar (db, "SELECT count(*) FROM orders") == 0, "order written");

  int status = at_proc_stop (api, SIGTERM, 10000);
  IT_CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0, "api exit status %d", status);
  PQfinish (db);
  printf ("ok\n");
  return 0;
}
