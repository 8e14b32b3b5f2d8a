/* The agents' inbox, as a person uses it: the stack (PostgreSQL, broker,
 * api, ingest, route, notify) with a team, a lead who takes tickets, online, and
 * two customers' tickets assigned to her, one of them saying
 * <script>alert(1)</script>. First the api the page stands on, over HTTP
 * with her session: the lists (views, filters, bad arguments, the ETag and
 * 304), notes (CSRF, never sent to the customer), snooze, the page's files
 * (types, the Content-Security-Policy, nosniff, no path outside web/). Then
 * Debian's chromium, headless, driven by tests/browser/inbox.test.js over
 * the DevTools protocol: sign in, the queue, the ticket (the script shown
 * as text), a note, a reply, resolve by keyboard, the ticket leaves the
 * list, the KPI moves, no console error; screenshots under screenshots/ of
 * this test's run directory. The database then shows what she did, and
 * erasing the customer erases her note too. */
#define _GNU_SOURCE
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "it.h"
#include "at_proc.h"

#define WAIT_MS 60000
#define BROWSER_MS 240000
#define S_PASSWORD "correct horse battery staple"
#define S_EMAIL "ana@shop.example"
#define S_SCRIPT "<script>alert(1)</script><img src=x onerror=\\\"window.__xss=1\\\">"

static it_stack_t s_st;
static PGconn *s_db;
static char s_cookie[200], s_csrf[160];

typedef struct {
  long status;
  char *body, *headers;
} s_answer_t;

static s_answer_t
s_call (const char *method, const char *path, const char *body, const char *const *headers,
        bool key)
{
  char url[512];
  s_answer_t a = { 0 };
  snprintf (url, sizeof url, "%s%s", s_st.api, path);
  a.status = it_http_ex (method, url, body ? "application/json" : NULL, body, headers, key,
                         &a.body, &a.headers);
  return a;
}

static void
s_free (s_answer_t *a)
{
  free (a->body);
  free (a->headers);
}

/* A request that must answer want; its JSON (an empty object when none). */
static json_t *
s_want (const char *method, const char *path, const char *body, const char *const *headers,
        bool key, long want)
{
  s_answer_t a = s_call (method, path, body, headers, key);
  IT_CHECK (a.status == want, "%s %s: %ld, want %ld: %.400s", method, path, a.status, want,
            a.body ? a.body : "");
  json_t *doc = json_loads (a.body ? a.body : "", JSON_DECODE_ANY, NULL);
  s_free (&a);
  return doc ? doc : json_object ();
}

/* The value of header name in the answer's header lines ("" when absent). */
static void
s_header (const s_answer_t *a, const char *name, char *out, size_t cap)
{
  out[0] = '\0';
  size_t n = strlen (name);
  for (const char *line = a->headers; line && *line;) {
    size_t len = strcspn (line, "\r\n");
    if (len > n + 1 && strncasecmp (line, name, n) == 0 && line[n] == ':')
      snprintf (out, cap, "%.*s", (int) (len - n - 2), line + n + 2);
    line += len;
    line += strspn (line, "\r\n");
  }
}

/* Customer handle's chat message; its ticket once ingest made it. */
static long long
s_ticket (const char *handle, const char *name, const char *text)
{
  char body[1024], sql[256];
  snprintf (body, sizeof body, "{\"channel\":\"chat\",\"handle\":\"%s\",\"name\":\"%s\","
            "\"text\":\"%s\",\"provider_message_id\":\"%s\"}", handle, name, text, handle);
  json_decref (s_want ("POST", "/v1/messages", body, NULL, true, 202));
  snprintf (sql, sizeof sql, "SELECT coalesce (max (ticket_id), 0) FROM ticket_message"
            " WHERE provider_message_id = '%s'", handle);
  long long id = it_wait_scalar (s_db, sql, 1, WAIT_MS);
  IT_CHECK (id > 0, "the ticket of %s", handle);
  return id;
}

/* The desk: a default team, the lead Ana in it (leads take tickets and
 * read KPIs), online, and a rule that escalates a ticket about an exchange
 * (the other ticket). Her user id. */
static long long
s_setup (void)
{
  json_decref (s_want ("POST", "/v1/teams", "{\"name\":\"support\",\"default\":true}", NULL,
                       true, 201));
  json_decref (s_want ("POST", "/v1/rules", "{\"name\":\"exchange watch\",\"event\":"
                       "\"message_in\",\"conditions\":[{\"field\":\"text\",\"op\":"
                       "\"contains\",\"value\":\"trocar\"}],\"actions\":[{\"type\":"
                       "\"escalate\"}]}", NULL, true, 201));
  json_t *u = s_want ("POST", "/v1/users", "{\"email\":\"" S_EMAIL "\",\"name\":\"Ana Lima\","
                      "\"role\":\"lead\",\"password\":\"" S_PASSWORD "\"}", NULL, true, 201);
  long long ana = json_integer_value (json_object_get (u, "id"));
  json_decref (u);
  char path[64];
  snprintf (path, sizeof path, "/v1/agents/%lld", ana);
  json_decref (s_want ("PUT", path, "{\"teams\":[\"support\"],\"languages\":[\"pt-BR\",\"en\"],"
                       "\"capacity\":{\"limit\":5}}", NULL, true, 200));
  snprintf (path, sizeof path, "/v1/agents/%lld/presence", ana);
  json_decref (s_want ("PUT", path, "{\"presence\":\"online\"}", NULL, true, 200));
  return ana;
}

static void
s_sign_in (void)
{
  s_answer_t a = s_call ("POST", "/v1/session", "{\"email\":\"" S_EMAIL "\",\"password\":\""
                         S_PASSWORD "\"}", NULL, false);
  IT_CHECK (a.status == 200, "sign-in: %ld %s", a.status, a.body ? a.body : "");
  char set[256];
  s_header (&a, "Set-Cookie", set, sizeof set);
  snprintf (s_cookie, sizeof s_cookie, "Cookie: %.*s", (int) strcspn (set, ";"), set);
  json_t *doc = json_loads (a.body, 0, NULL);
  const char *csrf = json_string_value (json_object_get (doc, "csrf_token"));
  IT_CHECK (csrf != NULL, "a CSRF token: %s", a.body);
  snprintf (s_csrf, sizeof s_csrf, "X-CSRF-Token: %s", csrf);
  json_decref (doc);
  s_free (&a);
}

/* ids of a list's items as " 3 5 " text. */
static void
s_ids (json_t *doc, char *out, size_t cap)
{
  size_t o = 0, i;
  json_t *item;
  out[o++] = ' ';
  json_array_foreach (json_object_get (doc, "items"), i, item)
    o += (size_t) snprintf (out + o, cap - o, "%lld ",
                            (long long) json_integer_value (json_object_get (item, "id")));
  out[o < cap ? o : cap - 1] = '\0';
}

static void
s_list_has (const char *query, long long id, bool want)
{
  char path[256], ids[1024], needle[32];
  const char *as_ana[] = { s_cookie, NULL };
  snprintf (path, sizeof path, "/v1/tickets?%s", query);
  json_t *doc = s_want ("GET", path, NULL, as_ana, false, 200);
  s_ids (doc, ids, sizeof ids);
  snprintf (needle, sizeof needle, " %lld ", id);
  IT_CHECK ((strstr (ids, needle) != NULL) == want, "%s: ticket %lld %s, items:%s", query, id,
            want ? "missing" : "listed", ids);
  json_decref (doc);
}

/* The lists: views, filters, the ETag and 304, bad arguments. */
static void
s_check_lists (long long xss, long long other)
{
  const char *as_ana[] = { s_cookie, NULL };
  s_list_has ("view=mine", xss, true);
  s_list_has ("view=mine", other, true);
  s_list_has ("view=team", xss, true);
  s_list_has ("view=unassigned", xss, false);
  s_list_has ("view=mine&channel=email", xss, false);
  s_list_has ("view=mine&channel=chat&status=open", xss, true);
  s_list_has ("view=mine&status=resolved", xss, false);
  s_list_has ("view=breaching&within=10080", xss, true);
  s_answer_t a = s_call ("GET", "/v1/tickets?view=mine", NULL, as_ana, false);
  char etag[64], inm[96];
  s_header (&a, "ETag", etag, sizeof etag);
  IT_CHECK (a.status == 200 && etag[0] == '"', "an ETag: %s", a.headers);
  s_free (&a);
  snprintf (inm, sizeof inm, "If-None-Match: %s", etag);
  const char *again[] = { s_cookie, inm, NULL };
  a = s_call ("GET", "/v1/tickets?view=mine", NULL, again, false);
  IT_CHECK (a.status == 304 && (!a.body || !a.body[0]), "304 on the same ETag: %ld", a.status);
  s_free (&a);
  char path[64];                          /* the ticket the page keeps open: the same */
  snprintf (path, sizeof path, "/v1/tickets/%lld", xss);
  a = s_call ("GET", path, NULL, as_ana, false);
  s_header (&a, "ETag", etag, sizeof etag);
  IT_CHECK (a.status == 200 && etag[0] == '"', "the ticket's ETag: %s", a.headers);
  s_free (&a);
  snprintf (inm, sizeof inm, "If-None-Match: %s", etag);
  a = s_call ("GET", path, NULL, again, false);
  IT_CHECK (a.status == 304, "304 on the ticket's ETag: %ld", a.status);
  s_free (&a);
  json_decref (s_want ("GET", "/v1/tickets?view=nope", NULL, as_ana, false, 400));
  json_decref (s_want ("GET", "/v1/tickets?view=mine&limit=0", NULL, as_ana, false, 400));
  json_decref (s_want ("GET", "/v1/tickets?view=mine&status=closed", NULL, as_ana, false, 400));
  json_decref (s_want ("GET", "/v1/tickets?view=mine&channel=a%27b", NULL, as_ana, false, 400));
  json_decref (s_want ("GET", "/v1/tickets?view=mine", NULL, NULL, true, 422));  /* a key */
  json_decref (s_want ("GET", "/v1/tickets?view=unassigned", NULL, NULL, true, 200));
  json_decref (s_want ("GET", "/v1/tickets?view=mine", NULL, NULL, false, 401));
}

/* Beside the ticket, after it reached Ana (so neither answers it by
 * itself): an order of the customer, late, an article that matches and a
 * saved reply. */
static void
s_beside (long long xss)
{
  char body[768], sql[256];
  char *expected = it_db_text (s_db, "SELECT (current_date + 3)::text");
  snprintf (body, sizeof body, "{\"status\":\"shipped\",\"event_id\":\"inbox-o1\","
            "\"customer\":{\"channel\":\"chat\",\"handle\":\"inbox-xss\"},"
            "\"expected_delivery\":\"%s\",\"tracking_url\":\"https://track.example/BR123\"}",
            expected);
  free (expected);
  json_decref (s_want ("POST", "/v1/orders/PED-4471/events", body, NULL, true, 202));
  snprintf (sql, sizeof sql, "SELECT count(*) FROM orders o JOIN ticket t ON t.customer_id ="
            " o.customer_id WHERE o.id = 'PED-4471' AND t.id = %lld", xss);
  IT_CHECK (it_wait_scalar (s_db, sql, 1, WAIT_MS) == 1, "the order is the customer's");
  json_decref (s_want ("POST", "/v1/kb/articles", "{\"locale\":\"pt-BR\",\"title\":\"Meu"
                       " pedido não chegou\",\"body\":\"Confira o rastreio do seu pedido: o"
                       " prazo conta a partir do envio.\",\"tags\":[\"entrega\"],"
                       "\"status\":\"published\"}", NULL, true, 201));
  json_decref (s_want ("POST", "/v1/saved-replies", "{\"locale\":\"pt-BR\",\"title\":"
                       "\"Pedido a caminho\",\"intent\":\"order_status\",\"body\":\"Olá,"
                       " {first_name}! O pedido {order_id} está a caminho.[ Rastreio:"
                       " {tracking_url}]\"}", NULL, true, 201));
}

/* Notes (CSRF, never on the customer's channel) and snooze. */
static void
s_check_notes_snooze (long long xss, long long other)
{
  char path[64], q[64];
  const char *cookie_only[] = { s_cookie, NULL }, *both[] = { s_cookie, s_csrf, NULL };
  snprintf (path, sizeof path, "/v1/tickets/%lld/notes", other);
  json_decref (s_want ("POST", path, "{\"text\":\"x\"}", cookie_only, false, 403));
  json_decref (s_want ("POST", path, "{\"text\":\"\"}", both, false, 422));
  json_decref (s_want ("POST", path, "{\"text\":\"ligar amanhã <b>cedo</b>\"}", both, false, 201));
  json_decref (s_want ("POST", "/v1/tickets/999999/notes", "{\"text\":\"x\"}", both, false, 404));
  snprintf (path, sizeof path, "/v1/tickets/%lld", other);
  json_t *t = s_want ("GET", path, NULL, cookie_only, false, 200);
  json_t *note = json_array_get (json_object_get (t, "notes"), 0);
  IT_CHECK (note && strcmp (json_string_value (json_object_get (note, "author")), "Ana Lima") == 0,
            "the ticket shows its note under Ana");
  json_decref (t);
  IT_CHECK (it_db_scalarf (s_db, "SELECT count(*) FROM ticket_message WHERE body LIKE '%%cedo%%'")
            == 0 && it_db_scalar (s_db, "SELECT count(*) FROM audit_log WHERE action ="
                                        " 'ticket.note'") == 1, "a note is no message, audited");
  snprintf (path, sizeof path, "/v1/tickets/%lld/snooze", other);
  json_decref (s_want ("POST", path, "{\"until\":\"tomorrow\"}", both, false, 422));
  json_decref (s_want ("POST", path, "{\"until\":\"2999-01-01T00:00:00Z\"}", both, false, 200));
  snprintf (q, sizeof q, "view=mine");
  s_list_has (q, other, false);
  s_list_has (q, xss, true);
  json_decref (s_want ("POST", path, "{\"until\":\"2000-01-01T00:00:00Z\"}", both, false, 200));
  s_list_has (q, other, true);
}

/* The page's files: types, headers, nothing outside web/. */
static void
s_check_files (void)
{
  static const char *const refused[] = {
    "/app/%2e%2e/CMakeLists.txt", "/app/..%2fCMakeLists.txt", "/app/.hidden.js",
    "/app/nope.js", "/app/app.exe", "/app//app.js", "/app/",
    "/app/%2Fetc%2Fpasswd.txt", "/app/..%5cCMakeLists.txt",
  };
  s_answer_t a = s_call ("GET", "/", NULL, NULL, false);
  char type[96], csp[256], nosniff[32];
  s_header (&a, "Content-Type", type, sizeof type);
  s_header (&a, "Content-Security-Policy", csp, sizeof csp);
  s_header (&a, "X-Content-Type-Options", nosniff, sizeof nosniff);
  IT_CHECK (a.status == 200 && strstr (type, "text/html") && strstr (a.body, "/app/app.js")
            && strstr (csp, "script-src 'self'") && strstr (csp, "object-src 'none'")
            && strstr (csp, "frame-ancestors 'none'") && !strstr (csp, "unsafe-inline")
            && strcmp (nosniff, "nosniff") == 0, "GET /: %ld %s | %s", a.status, type, csp);
  IT_CHECK (a.body && !strstr (a.body, "<script>") && !strstr (a.body, "style="),
            "no inline script or style");
  s_free (&a);
  a = s_call ("GET", "/app/app.js", NULL, NULL, false);
  s_header (&a, "Content-Type", type, sizeof type);
  IT_CHECK (a.status == 200 && strstr (type, "text/javascript"), "app.js: %ld %s", a.status, type);
  s_free (&a);
  /* a NUL ends the decoded path (MHD): app.js as itself, never as the name after it */
  a = s_call ("GET", "/app/app.js%00.css", NULL, NULL, false);
  s_header (&a, "Content-Type", type, sizeof type);
  IT_CHECK (a.status == 404 || strstr (type, "text/javascript"), "app.js%%00.css: %s", type);
  s_free (&a);
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    a = s_call ("GET", refused[i], NULL, NULL, false);
    IT_CHECK (a.status == 404, "GET %s: %ld, want 404", refused[i], a.status);
    s_free (&a);
  }
}

/* Runs the browser test; its exit status. */
static int
s_browser (long long xss)
{
  char url[96], ticket[64], shots[600], cwd[400];
  IT_CHECK (getcwd (cwd, sizeof cwd) != NULL, "cwd");
  snprintf (shots, sizeof shots, "ATENDE_SHOTS=%s/screenshots", cwd);
  mkdir (shots + strlen ("ATENDE_SHOTS="), 0755);
  snprintf (url, sizeof url, "ATENDE_URL=%s", s_st.api);
  snprintf (ticket, sizeof ticket, "ATENDE_TICKET=%lld", xss);
  const char *script = getenv ("ATENDE_BROWSER_TEST");
  IT_CHECK (script != NULL, "ATENDE_BROWSER_TEST (the path of inbox.test.js) is not set");
  char *argv[] = { "/usr/bin/env", "node", (char *) script, NULL };
  char *env[] = { url, ticket, shots, "ATENDE_EMAIL=" S_EMAIL, "ATENDE_PASSWORD=" S_PASSWORD,
                  NULL };
  unlink ("browser.log");
  pid_t pid = at_proc_spawn (argv, env, "browser.log");
  IT_CHECK (pid > 0, "spawn node");
  int status = -1;
  for (int waited = 0; waited < BROWSER_MS; waited += 50) {
    if (waitpid (pid, &status, WNOHANG) == pid)
      break;
    struct timespec tick = { 0, 50 * 1000 * 1000 };
    nanosleep (&tick, NULL);
  }
  if (status == -1)
    status = at_proc_stop (pid, SIGTERM, 5000);
  FILE *log = fopen ("browser.log", "r");
  char line[1024];
  while (log && fgets (line, sizeof line, log))
    printf ("browser: %s", line);
  if (log)
    fclose (log);
  IT_CHECK (!(WIFEXITED (status) && WEXITSTATUS (status) == 127),
            "node is not installed (Debian: apt-get install nodejs; ./atende.sh deps)");
  return status;
}

int
main (void)
{
  it_require_pg ();
  char hooks[96];      /* notify's deliveries go nowhere (a free port): not what is tested */
  snprintf (hooks, sizeof hooks, "ATENDE_WEBHOOK_URL=http://127.0.0.1:%d/hooks", it_free_port ());
  it_stack_init (&s_st, "inbox_browser", (const char *const[]) {
      "ATENDE_API_RATE_PER_ADDR=0", "ATENDE_API_AUTH_FAILURES_PER_ADDR=0", hooks,
      "ATENDE_WEBHOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", NULL });
  s_db = it_db_connect (s_st.conninfo);
  it_stack_pids_t pids = it_stack_start (&s_st, "ingest,route,notify", WAIT_MS);
  long long ana = s_setup ();
  long long xss = s_ticket ("inbox-xss", "Bia <b>Souza</b>", "Meu pedido não chegou " S_SCRIPT);
  long long other = s_ticket ("inbox-other", "Caio", "Quero trocar o tamanho da camisa");
  char sql[160];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM desk_ticket WHERE assignee = %lld"
            " AND ticket_id IN (%lld, %lld)", ana, xss, other);
  IT_CHECK (it_wait_scalar (s_db, sql, 2, WAIT_MS) == 2, "both tickets assigned to Ana");
  s_beside (xss);
  s_sign_in ();
  s_check_lists (xss, other);
  s_check_notes_snooze (xss, other);
  s_check_files ();
  int status = s_browser (xss);
  IT_CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0,
            "the browser test failed (status %d): see browser: lines above", status);
  IT_CHECK (it_db_scalarf (s_db, "SELECT count(*) FROM ticket WHERE id = %lld AND status ="
                           " 'resolved'", xss) == 1, "the ticket resolved in the browser");
  IT_CHECK (it_db_scalarf (s_db, "SELECT count(*) FROM ticket_message WHERE ticket_id = %lld"
                           " AND author = 'agent' AND agent = 'Ana Lima'", xss) == 1,
            "her reply recorded under her name");
  IT_CHECK (it_db_scalarf (s_db, "SELECT count(*) FROM ticket_note WHERE ticket_id = %lld",
                           xss) == 1, "her note stored");
  /* the notes go with the customer's other words when they are erased */
  char path[64];
  snprintf (path, sizeof path, "/v1/customers/%lld/erase",
            it_db_scalarf (s_db, "SELECT customer_id FROM ticket WHERE id = %lld", xss));
  json_t *erased = s_want ("POST", path, NULL, NULL, true, 200);
  IT_CHECK (json_integer_value (json_object_get (json_object_get (erased, "erased"),
                                                 "ticket_note")) == 1, "one note erased");
  json_decref (erased);
  IT_CHECK (it_db_scalarf (s_db, "SELECT count(*) FROM ticket_note WHERE ticket_id = %lld"
                           " AND body = '[erased]'", xss) == 1, "the note's text erased");
  it_stack_stop (&pids);
  PQfinish (s_db);
  printf ("ok: the inbox in a browser\n");
  return 0;
}
