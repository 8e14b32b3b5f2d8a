/* The admin's doors over real HTTP to a real api (broker and ingest beside
 * it): an admin makes a key through the api, the key opens a route of its
 * scope and gets 403 on another, the listing never shows a secret, a
 * revoked key gets 401 (key cache 0 here); accounts are made, listed and
 * disabled, and a disabled person cannot sign in; a lead's and an agent's
 * sessions get 403 on these routes; bad input (an unknown scope, a missing
 * field, a bad role) is a problem naming the field and writes nothing; an
 * agent's reply through the api leaves a ticket.reply audit row under the
 * caller; and GET /v1/audit reads the rows of all this newest first,
 * filtered by action, in pages with its cursor. */
#define _GNU_SOURCE
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include "it.h"
#include "at_auth.h"

#define WAIT_MS 30000
#define S_PASSWORD "correct horse battery staple"

static char s_api[64];
static PGconn *s_db;

#define s_q(...) it_db_scalarf (s_db, __VA_ARGS__)

typedef struct {
  long status;
  json_t *doc;       /* the body parsed, or NULL */
  char *body;
  char *headers;
} s_answer_t;

/* A request with the test's admin key (auth) or with headers only. */
static s_answer_t
s_call (const char *method, const char *path, const char *body, const char *const *headers,
        bool auth)
{
  char url[512];
  s_answer_t a = { 0 };
  snprintf (url, sizeof url, "%s%s", s_api, path);
  a.status = it_http_ex (method, url, body ? "application/json" : NULL, body, headers, auth,
                         &a.body, &a.headers);
  a.doc = json_loads (a.body ? a.body : "", JSON_DECODE_ANY, NULL);
  return a;
}

static void
s_free (s_answer_t *a)
{
  json_decref (a->doc);
  free (a->body);
  free (a->headers);
}

/* A request with the admin key that must answer want; the answer's JSON. */
static json_t *
s_admin (const char *method, const char *path, const char *body, long want)
{
  s_answer_t a = s_call (method, path, body, NULL, true);
  IT_CHECK (a.status == want, "%s %s: %ld, want %ld: %.400s", method, path, a.status, want,
            a.body ? a.body : "");
  json_t *doc = a.doc ? json_incref (a.doc) : json_object ();
  s_free (&a);
  return doc;
}

/* A request with a key or cookie (header) that must answer want. */
static void
s_with (const char *header, const char *method, const char *path, long want)
{
  const char *headers[] = { header, NULL };
  s_answer_t a = s_call (method, path, NULL, headers, false);
  IT_CHECK (a.status == want, "%s %s as %.40s: %ld, want %ld: %.300s", method, path, header,
            a.status, want, a.body ? a.body : "");
  s_free (&a);
}

/* Rows of the tables these doors write. */
static long long
s_rows (void)
{
  return s_q ("SELECT (SELECT count(*) FROM api_key) + (SELECT count(*) FROM app_user)"
              " + (SELECT count(*) FROM audit_log)");
}

/* A 4xx problem naming field (and, when given, the text in its detail); nothing written. */
static void
s_refused (const char *path, const char *body, long status, const char *field, const char *text)
{
  long long before = s_rows ();
  s_answer_t a = s_call ("POST", path, body, NULL, true);
  IT_CHECK (a.status == status, "%s %s: %ld, want %ld: %s", path, body, a.status, status,
            a.body ? a.body : "");
  const char *named = json_string_value (json_object_get (a.doc, "field"));
  IT_CHECK (named && strcmp (named, field) == 0, "%s: the problem names '%s', want '%s': %s",
            body, named ? named : "(none)", field, a.body);
  IT_CHECK (!text || strstr (a.body, text), "%s: the detail lacks %s: %s", body, text, a.body);
  IT_CHECK (!strstr (a.body, S_PASSWORD), "a problem quotes the password");
  s_free (&a);
  IT_CHECK (s_rows () == before, "refused %s wrote rows", body);
}

static void
s_bad_input (void)
{
  s_refused ("/v1/keys", "{\"name\":\"shop\",\"scopes\":[\"orders:write\",\"tickets:nuke\"]}", 422,
             "scopes", "tickets:nuke");
  s_refused ("/v1/keys", "{\"scopes\":[\"admin\"]}", 400, "name", NULL);
  s_refused ("/v1/keys", "{\"name\":\"shop\"}", 400, "scopes", NULL);
  s_refused ("/v1/keys", "{\"name\":\"shop\",\"scopes\":[\"admin\"],\"expires_days\":0}", 422,
             "expires_days", NULL);
  s_refused ("/v1/users", "{\"email\":\"x@loja.com.br\",\"name\":\"X\",\"role\":\"boss\","
             "\"password\":\"" S_PASSWORD "\"}", 422, "role", "boss");
  s_refused ("/v1/users", "{\"email\":\"x@loja.com.br\",\"name\":\"X\",\"role\":\"agent\"}", 400,
             "password", NULL);
  s_refused ("/v1/users", "{\"email\":\"x@loja.com.br\",\"name\":\"X\",\"role\":\"agent\","
             "\"password\":\"tiny-pw\"}", 422, "password", NULL);
  s_refused ("/v1/users", "{\"email\":\"not-an-email\",\"name\":\"X\",\"role\":\"agent\","
             "\"password\":\"" S_PASSWORD "\"}", 422, "email", NULL);
  s_refused ("/v1/users", "{\"email\":\"x@loja.com.br\",\"name\":\"X\",\"role\":\"agent\","
             "\"password\":\"" S_PASSWORD "\",\"languages\":[\"pt-BR\",\"klingon\"]}", 422,
             "languages", NULL);
}

/* A key made through the api: it opens its scope's route, not another; the
 * listing shows it without its secret; revoked, it gets 401 at once. */
static void
s_keys (void)
{
  json_t *made = s_admin ("POST", "/v1/keys", "{\"name\":\"leitor de tickets\","
                          "\"scopes\":[\"tickets:read\"],\"expires_days\":30}", 201);
  const char *text = json_string_value (json_object_get (made, "key"));
  const char *id = json_string_value (json_object_get (made, "id"));
  IT_CHECK (text && id && strlen (text) == AT_AUTH_KEY_LEN && strncmp (text + 4, id, 12) == 0,
            "the new key: %s", json_dumps (made, 0));
  IT_CHECK (json_string_value (json_object_get (made, "expires_at"))
                && strcmp (json_string_value (json_array_get (json_object_get (made, "scopes"),
                                                              0)), "tickets:read") == 0,
            "expiry and scopes of the new key");
  char bearer[128], path[64];
  snprintf (bearer, sizeof bearer, "Authorization: Bearer %s", text);
  s_with (bearer, "GET", "/v1/tickets/999999", 404);
  s_with (bearer, "GET", "/v1/kpis", 403);
  s_with (bearer, "GET", "/v1/keys", 403);
  s_answer_t list = s_call ("GET", "/v1/keys", NULL, NULL, true);
  IT_CHECK (list.status == 200 && strstr (list.body, id) && strstr (list.body, "leitor de tickets")
                && !strstr (list.body, text + 17) && !strstr (list.body, "atd_")
                && !strstr (list.body, "hash"),
            "the listing: %s", list.body);
  s_free (&list);
  snprintf (path, sizeof path, "/v1/keys/%s", id);
  json_decref (s_admin ("DELETE", path, NULL, 204));
  s_with (bearer, "GET", "/v1/tickets/999999", 401);
  json_decref (s_admin ("DELETE", path, NULL, 409));
  json_decref (s_admin ("DELETE", "/v1/keys/aaaaaaaaaaaa", NULL, 404));
  IT_CHECK (s_q ("SELECT count(*) FROM audit_log WHERE action = 'key.create' AND target ="
                 " 'key:%s' AND actor = 'key:%.12s' AND detail->>'name' = 'leitor de tickets'",
                 id, it_api_key () + 4) == 1, "the key.create audit row");
  IT_CHECK (s_q ("SELECT count(*) FROM api_key WHERE id = '%s' AND created_by = 'key:%.12s'",
                 id, it_api_key () + 4) == 1, "the key's maker");
  json_decref (made);
}

/* Signs in: the cookie header into cookie, or the status when refused. */
static long
s_sign_in (const char *email, char *cookie, size_t cap)
{
  char body[256];
  snprintf (body, sizeof body, "{\"email\":\"%s\",\"password\":\"" S_PASSWORD "\"}", email);
  s_answer_t a = s_call ("POST", "/v1/session", body, NULL, false);
  long status = a.status;
  const char *set = a.headers ? strcasestr (a.headers, "Set-Cookie: atende_session=") : NULL;
  if (status == 200 && set) {
    set += strlen ("Set-Cookie: ");
    snprintf (cookie, cap, "Cookie: %.*s", (int) strcspn (set, ";\r\n"), set);
  }
  s_free (&a);
  return status;
}

static long long
s_user (const char *email, const char *role, long want)
{
  char body[512];
  snprintf (body, sizeof body, "{\"email\":\"%s\",\"name\":\"Pessoa %s\",\"role\":\"%s\","
            "\"password\":\"" S_PASSWORD "\",\"languages\":[\"pt-BR\",\"en\"],"
            "\"teams\":[\"vendas\"]}", email, role, role);
  json_t *doc = s_admin ("POST", "/v1/users", body, want);
  long long id = json_integer_value (json_object_get (doc, "id"));
  char *text = json_dumps (doc, 0);
  IT_CHECK (want != 201 || (id > 0 && !strstr (text, "password") && !strstr (text, "argon")
                            && strstr (text, "\"teams\": [\"vendas\"]")),
            "the new account: %s", text);
  free (text);
  json_decref (doc);
  return id;
}

/* Accounts: made, listed, a lead's and an agent's sessions refused here,
 * disabled, and then the agent cannot sign in. */
static void
s_users (void)
{
  char lead_cookie[200] = "", agent_cookie[200] = "", path[64];
  long long lead = s_user ("Lia@Loja.com.br", "lead", 201);
  long long agent = s_user ("beto@loja.com.br", "agent", 201);
  s_user ("lia@loja.com.br", "agent", 409);
  s_answer_t list = s_call ("GET", "/v1/users", NULL, NULL, true);
  IT_CHECK (list.status == 200 && strstr (list.body, "lia@loja.com.br")
                && strstr (list.body, "beto@loja.com.br") && !strstr (list.body, "argon")
                && json_array_size (json_object_get (list.doc, "items")) == 2,
            "the accounts: %s", list.body);
  s_free (&list);
  IT_CHECK (s_sign_in ("lia@loja.com.br", lead_cookie, sizeof lead_cookie) == 200, "lead in");
  IT_CHECK (s_sign_in ("beto@loja.com.br", agent_cookie, sizeof agent_cookie) == 200, "agent in");
  const char *routes[][2] = { {"GET", "/v1/keys"}, {"GET", "/v1/users"}, {"GET", "/v1/audit"} };
  for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
    s_with (lead_cookie, routes[i][0], routes[i][1], 403);
    s_with (agent_cookie, routes[i][0], routes[i][1], 403);
  }
  snprintf (path, sizeof path, "/v1/users/%lld/disable", agent);
  json_t *doc = s_admin ("POST", path, NULL, 200);
  IT_CHECK (strcmp (json_string_value (json_object_get (doc, "status")), "disabled") == 0,
            "disable answer");
  json_decref (doc);
  json_decref (s_admin ("POST", path, NULL, 409));
  json_decref (s_admin ("POST", "/v1/users/999999/disable", NULL, 404));
  IT_CHECK (s_sign_in ("beto@loja.com.br", agent_cookie, sizeof agent_cookie) == 401,
            "a disabled account signed in");
  s_with (agent_cookie, "GET", "/v1/session", 401);
  IT_CHECK (s_q ("SELECT count(*) FROM audit_log WHERE action = 'user.disable' AND target ="
                 " 'user:%lld'", agent) == 1 && lead > 0, "the user.disable audit row");
}

/* A ticket (a message through ingest), then a reply with the admin key:
 * a ticket.reply audit row under the caller. */
static void
s_reply (void)
{
  json_decref (s_admin ("POST", "/v1/messages", "{\"channel\":\"email\",\"handle\":"
                        "\"bia@example.com\",\"text\":\"Oi\",\"provider_message_id\":"
                        "\"<admin-1@x>\"}", 202));
  IT_CHECK (it_wait_scalar (s_db, "SELECT count(*) FROM ticket", 1, WAIT_MS) == 1, "no ticket");
  long long ticket = s_q ("SELECT max(id) FROM ticket");
  char path[64];
  snprintf (path, sizeof path, "/v1/tickets/%lld/replies", ticket);
  json_decref (s_admin ("POST", path, "{\"text\":\"Já vamos ver\"}", 202));
  IT_CHECK (s_q ("SELECT count(*) FROM audit_log WHERE action = 'ticket.reply' AND target ="
                 " 'ticket:%lld' AND actor = 'key:%.12s' AND addr = '127.0.0.1'", ticket,
                 it_api_key () + 4) == 1, "the ticket.reply audit row");
}

/* The ids of one page of /v1/audit (query), checked newest first; next into *next. */
static size_t
s_page (const char *query, long long *ids, size_t cap, long long *next)
{
  char path[256];
  snprintf (path, sizeof path, "/v1/audit%s", query);
  json_t *doc = s_admin ("GET", path, NULL, 200);
  json_t *items = json_object_get (doc, "items"), *item;
  size_t i, n = 0;
  json_array_foreach (items, i, item) {
    IT_CHECK (n < cap, "page too long");
    ids[n] = json_integer_value (json_object_get (item, "id"));
    IT_CHECK (n == 0 || ids[n] < ids[n - 1], "not newest first: %lld after %lld", ids[n],
              ids[n - 1]);
    IT_CHECK (json_string_value (json_object_get (item, "at"))
                  && json_is_object (json_object_get (item, "detail")), "an audit item");
    n++;
  }
  json_t *cursor = json_object_get (doc, "next");
  *next = json_is_integer (cursor) ? json_integer_value (cursor) : 0;
  IT_CHECK (cursor && (json_is_null (cursor) || json_is_integer (cursor)), "next");
  json_decref (doc);
  return n;
}

static bool
s_field_is (const s_answer_t *a, const char *field)
{
  const char *named = json_string_value (json_object_get (a->doc, "field"));
  return named && strcmp (named, field) == 0;
}

static void
s_audit (void)
{
  long long ids[1000], next = 0, last = 0;
  long long total = s_q ("SELECT count(*) FROM audit_log");
  size_t n = s_page ("", ids, 1000, &next);
  IT_CHECK ((long long) n == total && next == 0 && ids[0] == s_q ("SELECT max(id) FROM audit_log"),
            "all %lld rows in one page (%zu)", total, n);
  n = s_page ("?action=user.create", ids, 1000, &next);
  IT_CHECK (n == 2 && s_q ("SELECT count(*) FROM audit_log WHERE action = 'user.create' AND id"
                           " IN (%lld, %lld)", ids[0], ids[1]) == 2, "filtered by action: %zu", n);
  size_t seen = 0;
  char query[96] = "?limit=3";
  do {
    n = s_page (query, ids, 1000, &next);
    IT_CHECK (n <= 3 && (seen == 0 || ids[0] < last), "page of %zu after %lld", n, last);
    seen += n;
    last = n ? ids[n - 1] : last;
    IT_CHECK (next == 0 || next == last, "the cursor is the page's last id");
    snprintf (query, sizeof query, "?limit=3&before=%lld", next);
  } while (next != 0);
  IT_CHECK ((long long) seen == total, "pages hold %zu rows of %lld", seen, total);
  n = s_page ("?since=2999-01-01T00:00:00Z", ids, 1000, &next);
  IT_CHECK (n == 0 && next == 0, "since the future");
  n = s_page ("?until=2999-01-01T00:00:00Z&action=key.revoke", ids, 1000, &next);
  IT_CHECK (n == 1, "until and action: %zu", n);
  s_answer_t a = s_call ("GET", "/v1/audit?limit=0", NULL, NULL, true);
  IT_CHECK (a.status == 400 && s_field_is (&a, "limit"), "limit=0: %s", a.body);
  s_free (&a);
  a = s_call ("GET", "/v1/audit?since=yesterday", NULL, NULL, true);
  IT_CHECK (a.status == 400 && s_field_is (&a, "since"), "since: %s", a.body);
  s_free (&a);
}

int
main (void)
{
  it_require_pg ();
  it_stack_t st;
  it_stack_init (&st, "api_admin", (const char *[]) {"ATENDE_API_KEY_CACHE_MS=0", NULL});
  s_db = it_db_connect (st.conninfo);
  at_strlcpy (s_api, st.api, sizeof s_api);
  it_stack_pids_t pids = it_stack_start (&st, "ingest", WAIT_MS);

  s_bad_input ();
  s_keys ();
  s_users ();
  s_reply ();
  s_audit ();

  int status = it_stack_stop (&pids);
  IT_CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0, "api exit %d", status);
  PQfinish (s_db);
  printf ("api admin: keys, accounts, doors, audit: ok\n");
  return 0;
}
