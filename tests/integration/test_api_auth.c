/* The api's doors, walked from the route table (api_routes): every route
 * declares a need; the public ones are exactly the providers' webhooks, the
 * survey links, the probes and signing in; every other route answers 401
 * (a problem document with WWW-Authenticate) without a credential and 403
 * naming the scope to a key without it, and writes nothing either way. A
 * revoked key is refused once the key cache's time is over
 * (ATENDE_API_KEY_CACHE_MS, low here); an expired key at once. People sign
 * in (the cookie's flags, the CSRF token), a cookie without the CSRF header
 * changes nothing, an agent's reply is recorded under the signed-in person
 * whatever the body says, and signing out closes the door again. The
 * refusals show on /metrics by reason. */
#define _GNU_SOURCE
#include <ctype.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include "it.h"
#include "api_router.h"
#include "at_proc.h"
#include "at_store_auth.h"
#include "domain.pb-c.h"

#define WAIT_MS 30000
#define S_CACHE_MS 300
#define S_PASSWORD "correct horse battery staple"

static char s_api[64];
static PGconn *s_db;
static at_store_t *s_store;

/* The routes open to anyone, on purpose (README "Who may call what"). */
static const char *const s_public[] = {
  "POST /v1/surveys/{}", "GET /healthz", "GET /readyz", "POST /v1/webhooks/shopify",
  "GET /v1/channels/whatsapp", "POST /v1/channels/whatsapp", "GET /v1/channels/messenger",
  "POST /v1/channels/messenger", "GET /v1/channels/instagram", "POST /v1/channels/instagram",
  "POST /v1/channels/twilio", "POST /v1/channels/mailgun", "POST /v1/channels/chat",
  "POST /v1/channels/form", "POST /v1/channels/email", "POST /v1/session",
  "POST /v1/channels/twilio/voice", "POST /v1/channels/phone",
  "GET /", "GET /app/*",     /* the inbox's page: static files, no data (api_web.c) */
};

typedef struct {
  long status;
  char *body;
  char *headers;
} s_answer_t;

static s_answer_t
s_call (const char *method, const char *path, const char *body, const char *const *headers,
        bool auth)
{
  char url[512];
  s_answer_t a = { 0 };
  snprintf (url, sizeof url, "%s%s", s_api, path);
  a.status = it_http_ex (method, url, body ? "application/json" : NULL, body, headers, auth,
                         &a.body, &a.headers);
  return a;
}

static void
s_free (s_answer_t *a)
{
  free (a->body);
  free (a->headers);
}

/* A header of the answer (case-insensitive name), as "Name: value" text. */
static bool
s_has_header (const s_answer_t *a, const char *name, const char *value_part)
{
  for (const char *line = a->headers; line && *line;) {
    const char *end = strstr (line, "\r\n");
    size_t len = end ? (size_t) (end - line) : strlen (line);
    size_t n = strlen (name);
    if (len > n && strncasecmp (line, name, n) == 0 && line[n] == ':') {
      char text[512];
      snprintf (text, sizeof text, "%.*s", (int) len, line);
      if (!value_part || strstr (text, value_part))
        return true;
    }
    line = end ? end + 2 : line + len;
  }
  return false;
}

static void
s_expect_problem (const s_answer_t *a, long status, const char *what)
{
  IT_CHECK (a->status == status, "%s: %ld, want %ld: %s", what, a->status, status,
            a->body ? a->body : "");
  IT_CHECK (s_has_header (a, "Content-Type", "application/problem+json"), "%s: not a problem",
            what);
  json_t *doc = json_loads (a->body ? a->body : "", 0, NULL);
  IT_CHECK (doc && json_integer_value (json_object_get (doc, "status")) == status,
            "%s: problem status: %s", what, a->body ? a->body : "");
  json_decref (doc);
  if (status == 401)
    IT_CHECK (s_has_header (a, "WWW-Authenticate", "Bearer"), "%s: no WWW-Authenticate", what);
}

/* Rows of every table a request could write. */
static long long
s_rows (void)
{
  return it_db_scalar (s_db,
      "SELECT (SELECT count(*) FROM bus_message) + (SELECT count(*) FROM bus_dead)"
      " + (SELECT count(*) FROM ticket) + (SELECT count(*) FROM ticket_message)"
      " + (SELECT count(*) FROM customer) + (SELECT count(*) FROM identity)"
      " + (SELECT count(*) FROM message_template) + (SELECT count(*) FROM survey_answer)"
      " + (SELECT count(*) FROM user_session) + (SELECT count(*) FROM audit_log)");
}

/* A concrete path for a pattern: each {} becomes a plausible segment. */
static void
s_path (const char *pattern, char *out, size_t cap)
{
  size_t o = 0;
  bool templates = strncmp (pattern, "/v1/templates/", 14) == 0;
  int seg = 0;
  for (const char *p = pattern; *p && o + 8 < cap; p++) {
    if (p[0] == '{' && p[1] == '}') {
      const char *v = templates ? (seg++ ? "en" : "placed") : "1";
      o += (size_t) snprintf (out + o, cap - o, "%s", v);
      p++;
    }
    else
      out[o++] = *p;
  }
  out[o] = '\0';
}

static char *
s_key (const char *name, at_scopes_t scopes)
{
  at_auth_key_t key;
  IT_CHECK (at_store_key_create (s_store, name, scopes, 0, "it", &key) == AT_OK, "key %s", name);
  return strdup (key.text);
}

static bool
s_is_public (const api_route_t *r)
{
  char name[128];
  snprintf (name, sizeof name, "%s %s", r->method, r->pattern);
  for (size_t i = 0; i < sizeof s_public / sizeof s_public[0]; i++)
    if (strcmp (s_public[i], name) == 0)
      return true;
  return false;
}

/* One protected route: no credential 401, a key without its scope 403. */
static void
s_walk_route (const api_route_t *r, const char *messages_key, const char *kpis_key)
{
  char path[256], what[300], bearer[128];
  const char *body = strcmp (r->method, "GET") && strcmp (r->method, "DELETE")
                         ? "{\"text\":\"x\",\"body\":\"x\",\"into\":2}" : NULL;
  s_path (r->pattern, path, sizeof path);
  snprintf (what, sizeof what, "%s %s without credentials", r->method, path);
  s_answer_t a = s_call (r->method, path, body, NULL, false);
  s_expect_problem (&a, 401, what);
  s_free (&a);
  if (r->scope == API_SIGNED_IN)
    return;   /* any valid credential will do: there is no wrong scope */
  snprintf (bearer, sizeof bearer, "Authorization: Bearer %s",
            r->scope == AT_SCOPE_MESSAGES_WRITE ? kpis_key : messages_key);
  const char *headers[] = { bearer, NULL };
  snprintf (what, sizeof what, "%s %s with a key of another scope", r->method, path);
  a = s_call (r->method, path, body, headers, false);
  s_expect_problem (&a, 403, what);
  char scope[64];
  (void) at_auth_scopes_format (r->scope, scope, sizeof scope);
  IT_CHECK (a.body && strstr (a.body, scope), "%s: the 403 does not name %s: %s", what, scope,
            a.body ? a.body : "");
  s_free (&a);
}

static void
s_walk (void)
{
  size_t n = 0, publics = 0;
  const api_route_t *routes = api_routes (&n);
  char *messages_key = s_key ("messages only", AT_SCOPE_MESSAGES_WRITE);
  char *kpis_key = s_key ("kpis only", AT_SCOPE_KPIS_READ);
  long long before = s_rows ();
  for (size_t i = 0; i < n; i++) {
    const api_route_t *r = &routes[i];
    IT_CHECK (r->scope != 0, "%s %s declares no need", r->method, r->pattern);
    IT_CHECK ((r->scope == API_PUBLIC) == s_is_public (r), "%s %s: public is %s, want %s",
              r->method, r->pattern, r->scope == API_PUBLIC ? "yes" : "no",
              s_is_public (r) ? "yes" : "no");
    if (r->scope == API_PUBLIC)
      publics++;
    else
      s_walk_route (r, messages_key, kpis_key);
  }
  IT_CHECK (publics == sizeof s_public / sizeof s_public[0], "%zu public routes", publics);
  IT_CHECK (s_rows () == before, "refused requests wrote rows (%lld -> %lld)", before, s_rows ());
  free (messages_key);
  free (kpis_key);
}

static long
s_status_with (const char *key, const char *path)
{
  char bearer[128];
  snprintf (bearer, sizeof bearer, "Authorization: Bearer %s", key);
  const char *headers[] = { bearer, NULL };
  s_answer_t a = s_call ("GET", path, NULL, headers, false);
  long status = a.status;
  s_free (&a);
  return status;
}

static const char *s_revoked;

static bool
s_refused_now (void *arg)
{
  return s_status_with (s_revoked, "/v1/tickets/999999") == 401;
}

/* Revoked: refused once the cache's time is over. Expired, malformed,
 * unknown: refused at once. */
static void
s_dead_keys (void)
{
  char *key = s_key ("to revoke", AT_SCOPE_TICKETS_READ);
  IT_CHECK (s_status_with (key, "/v1/tickets/999999") == 404, "live key admitted");
  char id[AT_AUTH_KEY_ID_LEN + 1];
  snprintf (id, sizeof id, "%.*s", AT_AUTH_KEY_ID_LEN, key + 4);
  IT_CHECK (at_store_key_revoke (s_store, id) == AT_OK, "revoke");
  s_revoked = key;
  IT_CHECK (it_wait_until (s_refused_now, NULL, S_CACHE_MS * 10), "revoked key still admitted");
  free (key);
  key = s_key ("to expire", AT_SCOPE_TICKETS_READ);
  snprintf (id, sizeof id, "%.*s", AT_AUTH_KEY_ID_LEN, key + 4);
  char sql[160];
  snprintf (sql, sizeof sql, "UPDATE api_key SET expires_at = now () - interval '1 second'"
                             " WHERE id = '%s' RETURNING 1", id);
  IT_CHECK (it_db_scalar (s_db, sql) == 1, "expire the key");
  IT_CHECK (s_status_with (key, "/v1/tickets/999999") == 401, "expired key admitted");
  key[20] = key[20] == 'A' ? 'B' : 'A';   /* the secret changed: wrong */
  IT_CHECK (s_status_with (key, "/v1/tickets/999999") == 401, "wrong secret admitted");
  IT_CHECK (s_status_with ("atd_nope", "/v1/tickets/999999") == 401, "malformed admitted");
  free (key);
}

typedef struct {
  char cookie[160];     /* "Cookie: atende_session=..." */
  char csrf[128];       /* "X-CSRF-Token: ..." */
} s_person_t;

/* Signs in: the cookie's flags (no Secure on a loopback host, Secure on
 * another), the CSRF token in the body. */
static void
s_sign_in (s_person_t *who)
{
  const char *wrong = "{\"email\":\"ana@example.com\",\"password\":\"not the password\"}";
  s_answer_t a = s_call ("POST", "/v1/session", wrong, NULL, false);
  s_expect_problem (&a, 401, "wrong password");
  s_free (&a);
  const char *right = "{\"email\":\"Ana@Example.com\",\"password\":\"" S_PASSWORD "\"}";
  const char *far[] = { "Host: atende.example.com", NULL };
  a = s_call ("POST", "/v1/session", right, far, false);
  IT_CHECK (a.status == 200 && s_has_header (&a, "Set-Cookie", "; Secure"),
            "sign-in from afar: %ld, cookie must be Secure", a.status);
  s_free (&a);
  a = s_call ("POST", "/v1/session", right, NULL, false);
  IT_CHECK (a.status == 200, "sign-in: %ld %s", a.status, a.body ? a.body : "");
  IT_CHECK (s_has_header (&a, "Set-Cookie", "atende_session=")
                && s_has_header (&a, "Set-Cookie", "HttpOnly")
                && s_has_header (&a, "Set-Cookie", "SameSite=Strict")
                && s_has_header (&a, "Set-Cookie", "Path=/")
                && !s_has_header (&a, "Set-Cookie", "Secure"),
            "cookie flags: %s", a.headers);
  const char *set = strcasestr (a.headers, "Set-Cookie: atende_session=");
  IT_CHECK (set != NULL, "cookie");
  set += strlen ("Set-Cookie: ");
  snprintf (who->cookie, sizeof who->cookie, "Cookie: %.*s", (int) strcspn (set, ";\r\n"), set);
  json_t *doc = json_loads (a.body, 0, NULL);
  const char *csrf = json_string_value (json_object_get (doc, "csrf_token"));
  IT_CHECK (csrf && strcmp (json_string_value (json_object_get (doc, "name")), "Ana Lima") == 0,
            "sign-in body: %s", a.body);
  snprintf (who->csrf, sizeof who->csrf, "X-CSRF-Token: %s", csrf);
  json_decref (doc);
  s_free (&a);
  IT_CHECK (it_db_scalar (s_db, "SELECT count(*) FROM audit_log WHERE action = 'session.create'")
                == 2 && it_db_scalar (s_db, "SELECT count(*) FROM audit_log"
                                            " WHERE action = 'session.refused'") == 1,
            "sign-in audit rows");
}

/* The agent of the AgentReply published as bus message id. */
static char *
s_published_agent (const char *id)
{
  char sql[200];
  snprintf (sql, sizeof sql, "SELECT encode (payload, 'hex') FROM bus_message WHERE id = '%s'", id);
  char *hex = it_db_text (s_db, sql);
  IT_CHECK (hex != NULL, "bus message %s", id);
  size_t n = strlen (hex) / 2;
  uint8_t *bytes = malloc (n + 1);
  for (size_t i = 0; i < n; i++)
    sscanf (hex + 2 * i, "%2hhx", &bytes[i]);
  Atende__AgentReply *pb = atende__agent_reply__unpack (NULL, n, bytes);
  IT_CHECK (pb != NULL, "not an AgentReply");
  char *agent = strdup (pb->agent);
  atende__agent_reply__free_unpacked (pb, NULL);
  free (bytes);
  free (hex);
  return agent;
}

/* The person's cookie: who am I; a reply without the CSRF header refused,
 * with it accepted and recorded under the person. */
static void
s_reply_as (const s_person_t *who, long long ticket)
{
  char path[64];
  const char *only_cookie[] = { who->cookie, NULL }, *both[] = { who->cookie, who->csrf, NULL };
  s_answer_t a = s_call ("GET", "/v1/session", NULL, only_cookie, false);
  IT_CHECK (a.status == 200 && strstr (a.body, "\"email\":\"ana@example.com\"")
                && strstr (a.body, "\"role\":\"agent\"") && strstr (a.body, "tickets:write"),
            "who am I: %ld %s", a.status, a.body ? a.body : "");
  s_free (&a);
  snprintf (path, sizeof path, "/v1/tickets/%lld/replies", ticket);
  const char *body = "{\"agent\":\"someone-else\",\"text\":\"Já enviamos!\"}";
  long long before = s_rows ();
  a = s_call ("POST", path, body, only_cookie, false);
  s_expect_problem (&a, 403, "reply with a cookie and no CSRF header");
  IT_CHECK (strstr (a.body, "X-CSRF-Token"), "the 403 names the header: %s", a.body);
  s_free (&a);
  IT_CHECK (s_rows () == before, "a refused reply wrote rows");
  a = s_call ("POST", path, body, both, false);
  IT_CHECK (a.status == 202, "reply with the CSRF header: %ld %s", a.status, a.body ? a.body : "");
  json_t *doc = json_loads (a.body, 0, NULL);
  char *agent = s_published_agent (json_string_value (json_object_get (doc, "id")));
  IT_CHECK (strcmp (agent, "Ana Lima") == 0, "reply recorded under '%s'", agent);
  free (agent);
  json_decref (doc);
  s_free (&a);
}

static void
s_sign_out (const s_person_t *who)
{
  const char *only_cookie[] = { who->cookie, NULL }, *both[] = { who->cookie, who->csrf, NULL };
  s_answer_t a = s_call ("DELETE", "/v1/session", NULL, only_cookie, false);
  s_expect_problem (&a, 403, "sign-out without the CSRF header");
  s_free (&a);
  a = s_call ("DELETE", "/v1/session", NULL, both, false);
  IT_CHECK (a.status == 204 && s_has_header (&a, "Set-Cookie", "Max-Age=0"), "sign-out: %ld",
            a.status);
  s_free (&a);
  a = s_call ("GET", "/v1/session", NULL, only_cookie, false);
  s_expect_problem (&a, 401, "the cookie after sign-out");
  s_free (&a);
  a = s_call ("GET", "/v1/tickets/1", NULL, only_cookie, false);
  s_expect_problem (&a, 401, "a ticket after sign-out");
  s_free (&a);
  IT_CHECK (it_db_scalar (s_db, "SELECT count(*) FROM audit_log WHERE action = 'session.delete'"
                                " AND actor LIKE 'user:%'") == 1, "sign-out audit row");
}

/* A ticket to answer: a message through ingest (the test's admin key). */
static long long
s_ticket (void)
{
  char *resp = NULL, url[128];
  snprintf (url, sizeof url, "%s/v1/messages", s_api);
  long st = it_http ("POST", url, "application/json",
                     "{\"channel\":\"email\",\"handle\":\"bia@example.com\",\"text\":\"Oi\","
                     "\"provider_message_id\":\"<auth-1@x>\"}", &resp);
  IT_CHECK (st == 202, "message: %ld %s", st, resp ? resp : "");
  free (resp);
  IT_CHECK (it_wait_scalar (s_db, "SELECT count(*) FROM ticket", 1, WAIT_MS) == 1, "no ticket");
  return it_db_scalar (s_db, "SELECT max(id) FROM ticket");
}

static void
s_metrics (void)
{
  char *resp = NULL, url[128];
  snprintf (url, sizeof url, "%s/metrics", s_api);
  IT_CHECK (it_http ("GET", url, NULL, NULL, &resp) == 200 && resp, "metrics");
  const char *want[] = { "atende_api_auth_refused_total{reason=\"missing\"}",
                         "atende_api_auth_refused_total{reason=\"scope\"}",
                         "atende_api_auth_refused_total{reason=\"revoked\"}",
                         "atende_api_auth_refused_total{reason=\"expired\"}",
                         "atende_api_auth_refused_total{reason=\"csrf\"}",
                         "atende_api_auth_refused_total{reason=\"sign_in\"}" };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    IT_CHECK (strstr (resp, want[i]), "metrics lack %s", want[i]);
  free (resp);
}

int
main (void)
{
  it_require_pg ();
  char cache_env[64];
  snprintf (cache_env, sizeof cache_env, "ATENDE_API_KEY_CACHE_MS=%d", S_CACHE_MS);
  it_stack_t st;
  it_stack_init (&st, "api_auth", (const char *[]) {cache_env, NULL});
  s_db = it_db_connect (st.conninfo);
  s_store = at_store_new (st.conninfo, "it");
  at_user_fields_t ana = { .email = "ana@example.com", .name = "Ana Lima", .role = AT_ROLE_AGENT };
  int64_t uid = 0;
  IT_CHECK (at_store_user_create (s_store, &ana, S_PASSWORD, &uid) == AT_OK, "user");
  at_strlcpy (s_api, st.api, sizeof s_api);
  it_stack_pids_t pids = it_stack_start (&st, "ingest", WAIT_MS);

  long long ticket = s_ticket ();
  s_walk ();
  s_dead_keys ();
  s_person_t who;
  s_sign_in (&who);
  s_reply_as (&who, ticket);
  s_sign_out (&who);
  s_metrics ();

  int status = it_stack_stop (&pids);
  IT_CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0, "api exit %d", status);
  at_store_destroy (&s_store);
  PQfinish (s_db);
  printf ("ok\n");
  return 0;
}
