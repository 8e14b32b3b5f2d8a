/* it: support for integration tests (tests/support/it.h). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "it.h"
#include "at_common.h"
#include "at_proc.h"
#include "at_store_auth.h"

#define S_CHILDREN_MAX 64
#define S_HTTP_BODY_MAX (8u << 20)
#define S_CONNINFO_MAX 1024

static pid_t s_children[S_CHILDREN_MAX];
static char s_api_key[AT_AUTH_KEY_LEN + 1];   /* it_api_key () */
static bool s_atexit_done;

static void
s_kill_children (void)
{
  for (int i = 0; i < S_CHILDREN_MAX; i++)
    if (s_children[i] > 0) {
      at_proc_stop (s_children[i], SIGTERM, 3000);
      s_children[i] = 0;
    }
}

static void
s_track (pid_t pid)
{
  if (!s_atexit_done) {
    atexit (s_kill_children);
    s_atexit_done = true;
  }
  for (int i = 0; i < S_CHILDREN_MAX; i++)
    if (s_children[i] == 0) {
      s_children[i] = pid;
      return;
    }
  kill (pid, SIGKILL);
  it_fail (__FILE__, __LINE__, "slots", "more than %d children", S_CHILDREN_MAX);
}

void
it_fail (const char *file, int line, const char *expr, const char *fmt, ...)
{
  va_list ap;
  fprintf (stderr, "FAIL %s:%d: %s: ", file, line, expr);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
  fflush (stderr);
  exit (1);
}

/* The watchdog: a test still running IT_WATCHDOG_S seconds after it began
 * (ctest kills it at 300 s without a word, and a hang leaves no trace) prints
 * every thread's stack (gdb, when installed) and fails, so that a flake that
 * hangs says where. ATENDE_TEST_WATCHDOG_S overrides (0: none). */
#define IT_WATCHDOG_S 240

static void
s_stacks (pid_t pid)
{
  char cmd[256];
  snprintf (cmd, sizeof cmd,
            "command -v gdb >/dev/null && timeout 20 gdb -p %d -batch -nx -q"
            " -ex 'thread apply all bt' 1>&2 2>/dev/null", (int) pid);
  if (system (cmd) != 0)
    fprintf (stderr, "WATCHDOG: no stacks of %d (gdb missing or not allowed)\n", (int) pid);
}

static void *
s_watchdog (void *arg)
{
  long seconds = (long) (intptr_t) arg;
  struct timespec ts = {(time_t) seconds, 0};
  while (nanosleep (&ts, &ts) != 0 && errno == EINTR)
    continue;
  fprintf (stderr, "WATCHDOG: test still running after %ld s; its threads:\n", seconds);
  fflush (stdout);
  fflush (stderr);
  s_stacks (getpid ());
  for (int i = 0; i < S_CHILDREN_MAX; i++)
    if (s_children[i] > 0) {
      fprintf (stderr, "WATCHDOG: child %d (see its log):\n", (int) s_children[i]);
      s_stacks (s_children[i]);
    }
  it_fail (__FILE__, __LINE__, "watchdog", "still running after %ld s (stacks above)", seconds);
}

static void
s_watchdog_start (void)
{
  const char *env = getenv ("ATENDE_TEST_WATCHDOG_S");
  long seconds = env && *env ? strtol (env, NULL, 10) : IT_WATCHDOG_S;
  if (seconds <= 0)
    return;
  (void) prctl (PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);   /* gdb is our child */
  pthread_t thread;
  if (pthread_create (&thread, NULL, s_watchdog, (void *) (intptr_t) seconds) == 0)
    pthread_detach (thread);
}

void
it_require_pg (void)
{
  setvbuf (stdout, NULL, _IOLBF, 0);   /* figures show even when ctest kills the test */
  const char *pg = getenv ("ATENDE_TEST_PG");
  const char *bin = getenv ("ATENDE_BIN");
  if (!pg || !*pg || !bin || !*bin) {
    fprintf (stderr, "SKIP: ATENDE_TEST_PG and ATENDE_BIN are not set (run through ctest)\n");
    exit (77);
  }
  PGconn *conn = PQconnectdb (pg);
  bool ok = PQstatus (conn) == CONNECTION_OK;
  if (!ok)
    fprintf (stderr, "SKIP: test cluster not reachable: %s", PQerrorMessage (conn));
  PQfinish (conn);
  if (!ok)
    exit (77);
  if (!s_atexit_done) {
    atexit (s_kill_children);
    s_atexit_done = true;
  }
  s_watchdog_start ();
}

/* The maintenance conninfo with dbname replaced by name. */
static void
s_conninfo_for (const char *name, char *out, size_t cap)
{
  const char *pg = getenv ("ATENDE_TEST_PG");
  IT_CHECK (pg != NULL, "ATENDE_TEST_PG not set");
  char *err = NULL;
  PQconninfoOption *opts = PQconninfoParse (pg, &err);
  IT_CHECK (opts != NULL, "bad ATENDE_TEST_PG: %s", err ? err : "?");
  size_t n = 0;
  out[0] = '\0';
  for (PQconninfoOption *o = opts; o->keyword; o++) {
    if (!o->val || strcmp (o->keyword, "dbname") == 0)
      continue;
    n += snprintf (out + n, n < cap ? cap - n : 0, "%s=%s ", o->keyword, o->val);
  }
  n += snprintf (out + n, n < cap ? cap - n : 0, "dbname=%s", name);
  IT_CHECK (n < cap, "conninfo too long");
  PQconninfoFree (opts);
}

static int
s_run_wait (const char *name, char *const argv[], char *const env[])
{
  char log[256];
  snprintf (log, sizeof log, "%s.log", name);
  pid_t pid = at_proc_spawn (argv, env, log);
  if (pid < 0)
    return -1;
  int status = 0;
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
}

static void
s_quiet_notice (void *arg, const char *message)
{
}

/* The test's admin key on a freshly migrated database (it_api_key). */
static void
s_make_key (const char *conninfo)
{
  at_auth_key_t key;
  at_store_t *store = at_store_new (conninfo, "it");
  IT_CHECK (store != NULL, "store on %s", conninfo);
  int rc = at_store_key_create (store, "integration tests", AT_SCOPE_ADMIN, 0, "it", &key);
  IT_CHECK (rc == AT_OK, "test key not created: %d", rc);
  at_strlcpy (s_api_key, key.text, sizeof s_api_key);
  at_store_destroy (&store);
}

const char *
it_api_key (void)
{
  return s_api_key;
}

const char *
it_auth_header (void)
{
  static char line[AT_AUTH_KEY_LEN + 32];
  snprintf (line, sizeof line, "Authorization: Bearer %s", s_api_key);
  return line;
}

const char *
it_db_create (const char *name, bool migrate)
{
  static char conninfo[S_CONNINFO_MAX];
  for (const char *p = name; *p; p++)
    IT_CHECK ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_',
              "database name '%s' must be [a-z0-9_]", name);
  PGconn *conn = it_db_connect (getenv ("ATENDE_TEST_PG"));
  PQsetNoticeProcessor (conn, s_quiet_notice, NULL);   /* "does not exist, skipping" */
  char sql[256];
  snprintf (sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
  PGresult *r = PQexec (conn, sql);
  IT_CHECK (PQresultStatus (r) == PGRES_COMMAND_OK, "%s: %s", sql, PQerrorMessage (conn));
  PQclear (r);
  snprintf (sql, sizeof sql, "CREATE DATABASE %s", name);
  r = PQexec (conn, sql);
  IT_CHECK (PQresultStatus (r) == PGRES_COMMAND_OK, "%s: %s", sql, PQerrorMessage (conn));
  PQclear (r);
  PQfinish (conn);
  s_conninfo_for (name, conninfo, sizeof conninfo);
  if (migrate) {
    char env_url[S_CONNINFO_MAX + 32];
    snprintf (env_url, sizeof env_url, "ATENDE_DATABASE_URL=%s", conninfo);
    char *argv[] = { (char *) getenv ("ATENDE_BIN"), "migrate", NULL };
    char *env[] = { env_url, NULL };
    char logname[128];
    snprintf (logname, sizeof logname, "%s-migrate", name);
    int rc = s_run_wait (logname, argv, env);
    IT_CHECK (rc == 0, "atende migrate on %s exited %d (see %s.log)", name, rc, logname);
    s_make_key (conninfo);
  }
  return conninfo;
}

PGconn *
it_db_connect (const char *conninfo)
{
  IT_CHECK (conninfo != NULL, "no conninfo");
  PGconn *conn = PQconnectdb (conninfo);
  IT_CHECK (PQstatus (conn) == CONNECTION_OK, "connect %s: %s", conninfo, PQerrorMessage (conn));
  return conn;
}

long long
it_db_scalar (PGconn *conn, const char *sql)
{
  PGresult *r = PQexec (conn, sql);
  IT_CHECK (PQresultStatus (r) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage (conn));
  long long v = -1;
  if (PQntuples (r) > 0 && !PQgetisnull (r, 0, 0))
    v = strtoll (PQgetvalue (r, 0, 0), NULL, 10);
  PQclear (r);
  return v;
}

long long
it_db_scalarf (PGconn *conn, const char *fmt, ...)
{
  char sql[2048];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (sql, sizeof sql, fmt, ap);
  va_end (ap);
  return it_db_scalar (conn, sql);
}

char *
it_db_text (PGconn *conn, const char *sql)
{
  PGresult *r = PQexec (conn, sql);
  IT_CHECK (PQresultStatus (r) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage (conn));
  char *v = NULL;
  if (PQntuples (r) > 0 && !PQgetisnull (r, 0, 0))
    v = at_strdup (PQgetvalue (r, 0, 0));
  PQclear (r);
  return v;
}


pid_t
it_spawn_atende (const char *name, const char *const *args, const char *const *env)
{
  const char *bin = getenv ("ATENDE_BIN");
  IT_CHECK (bin != NULL, "ATENDE_BIN not set");
  char *argv[32];
  size_t n = 0;
  argv[n++] = (char *) bin;
  for (size_t i = 0; args && args[i]; i++) {
    IT_CHECK (n < AT_ARRAY_LEN (argv) - 1, "too many args");
    argv[n++] = (char *) args[i];
  }
  argv[n] = NULL;
  char log[256];
  snprintf (log, sizeof log, "%s.log", name);
  pid_t pid = at_proc_spawn (argv, (char *const *) env, log);
  IT_CHECK (pid > 0, "spawn %s %s", bin, args && args[0] ? args[0] : "");
  s_track (pid);
  return pid;
}

int
it_stop (pid_t pid, int sig, int timeout_ms)
{
  for (int i = 0; i < S_CHILDREN_MAX; i++)
    if (s_children[i] == pid)
      s_children[i] = 0;
  return at_proc_stop (pid, sig, timeout_ms);
}

bool
it_wait_until (bool (*cond) (void *arg), void *arg, int timeout_ms)
{
  int64_t deadline = at_mono_ms () + timeout_ms;
  struct timespec tick = { 0, 20 * 1000 * 1000 };
  for (;;) {
    if (cond (arg))
      return true;
    if (at_mono_ms () >= deadline)
      return false;
    nanosleep (&tick, NULL);
  }
}

long long
it_wait_scalar (PGconn *conn, const char *sql, long long want, int timeout_ms)
{
  int64_t deadline = at_mono_ms () + timeout_ms;
  struct timespec tick = { 0, 20 * 1000 * 1000 };
  long long v;
  for (;;) {
    v = it_db_scalar (conn, sql);
    if (v >= want || at_mono_ms () >= deadline)
      return v;
    nanosleep (&tick, NULL);
  }
}

typedef struct {
  char *data;
  size_t len;
  bool too_big;
} s_body_t;

static size_t
s_on_body (char *ptr, size_t size, size_t nmemb, void *user)
{
  s_body_t *b = user;
  size_t n = size * nmemb;
  if (b->len + n > S_HTTP_BODY_MAX) {
    b->too_big = true;
    return 0;
  }
  char *grown = realloc (b->data, b->len + n + 1);
  if (!grown)
    return 0;
  b->data = grown;
  memcpy (b->data + b->len, ptr, n);
  b->len += n;
  b->data[b->len] = '\0';
  return n;
}

/* The request's headers: content type, extra ones, the key unless !auth. */
static struct curl_slist *
s_headers (const char *content_type, const char *const *headers, bool auth)
{
  struct curl_slist *hdrs = NULL;
  char ct[256];
  if (content_type) {
    snprintf (ct, sizeof ct, "Content-Type: %s", content_type);
    hdrs = curl_slist_append (hdrs, ct);
  }
  hdrs = curl_slist_append (hdrs, "Expect:");
  if (auth && s_api_key[0])
    hdrs = curl_slist_append (hdrs, it_auth_header ());
  for (size_t i = 0; headers && headers[i]; i++)
    hdrs = curl_slist_append (hdrs, headers[i]);
  return hdrs;
}

long
it_http_ex (const char *method, const char *url, const char *content_type, const char *body,
            const char *const *headers, bool auth, char **body_out, char **headers_out)
{
  static bool s_curl_ready;
  if (!s_curl_ready) {
    curl_global_init (CURL_GLOBAL_DEFAULT);
    s_curl_ready = true;
  }
  if (body_out)
    *body_out = NULL;
  if (headers_out)
    *headers_out = NULL;
  CURL *c = curl_easy_init ();
  IT_CHECK (c != NULL, "curl_easy_init");
  struct curl_slist *hdrs = s_headers (content_type, headers, auth);
  s_body_t b = { 0 }, h = { 0 };
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_on_body);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, s_on_body);
  curl_easy_setopt (c, CURLOPT_HEADERDATA, &h);
  if (body) {
    curl_easy_setopt (c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE, (long) strlen (body));
  }
  long status = -1;
  if (curl_easy_perform (c) == CURLE_OK)
    curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all (hdrs);
  curl_easy_cleanup (c);
  if (body_out)
    *body_out = b.data;
  else
    free (b.data);
  if (headers_out)
    *headers_out = h.data;
  else
    free (h.data);
  return status;
}

long
it_http (const char *method, const char *url, const char *content_type,
         const char *body, char **body_out)
{
  return it_http_ex (method, url, content_type, body, NULL, true, body_out, NULL);
}

json_t *
it_api_call (const char *api, const char *method, const char *path, const char *body, long want)
{
  char url[1024], *resp = NULL;
  snprintf (url, sizeof url, "%s%s", api, path);
  long st = it_http (method, url, body ? "application/json" : NULL, body, &resp);
  IT_CHECK (st == want, "%s %s: %ld, want %ld: %.600s", method, path, st, want,
            resp ? resp : "");
  json_t *doc = json_loads (resp ? resp : "", JSON_DECODE_ANY, NULL);
  free (resp);
  return doc ? doc : json_object ();
}

void
it_sign_in (const char *api, const char *email, const char *role, const char *password,
            char who[2][256])
{
  char body[768], url[1024], *resp = NULL, *headers = NULL;
  snprintf (body, sizeof body, "{\"email\":\"%s\",\"name\":\"Pessoa\",\"role\":\"%s\","
            "\"password\":\"%s\"}", email, role, password);
  json_decref (it_api_call (api, "POST", "/v1/users", body, 201));
  snprintf (body, sizeof body, "{\"email\":\"%s\",\"password\":\"%s\"}", email, password);
  snprintf (url, sizeof url, "%s/v1/session", api);
  const char *none[] = {NULL};
  long st = it_http_ex ("POST", url, "application/json", body, none, false, &resp, &headers);
  json_t *doc = json_loads (resp ? resp : "", 0, NULL);
  const char *set = headers ? strcasestr (headers, "Set-Cookie: atende_session=") : NULL;
  const char *csrf = json_string_value (json_object_get (doc, "csrf_token"));
  IT_CHECK (st == 200 && set && csrf, "%s signs in: %ld", email, st);
  set += strlen ("Set-Cookie: ");
  snprintf (who[0], 256, "Cookie: %.*s", (int) strcspn (set, ";\r\n"), set);
  snprintf (who[1], 256, "X-CSRF-Token: %s", csrf);
  json_decref (doc);
  free (resp);
  free (headers);
}

int
it_free_port (void)
{
  int port = at_proc_free_port ();
  IT_CHECK (port > 0, "no free loopback port");
  return port;
}

void
it_stack_init (it_stack_t *st, const char *db_name, const char *const *extra)
{
  memset (st, 0, sizeof *st);
  at_strlcpy (st->conninfo, it_db_create (db_name, true), sizeof st->conninfo);
  int broker = it_free_port (), port = it_free_port ();
  snprintf (st->api, sizeof st->api, "http://127.0.0.1:%d", port);
  snprintf (st->text_[0], sizeof st->text_[0], "ATENDE_DATABASE_URL=%s", st->conninfo);
  snprintf (st->text_[1], sizeof st->text_[1], "ATENDE_BROKER_BIND=tcp://127.0.0.1:%d", broker);
  snprintf (st->text_[2], sizeof st->text_[2], "ATENDE_BROKER_ENDPOINTS=tcp://127.0.0.1:%d",
            broker);
  snprintf (st->text_[3], sizeof st->text_[3], "ATENDE_API_PORT=%d", port);
  size_t n = 0;
  for (int i = 0; i < 4; i++)
    st->env[n++] = st->text_[i];
  st->env[n++] = "ATENDE_API_ADDRESS=127.0.0.1";
  st->env[n++] = "ATENDE_BROKER_METRICS_PORT=0";
  for (size_t i = 0; extra && extra[i]; i++) {
    IT_CHECK (n + 1 < AT_ARRAY_LEN (st->env), "too many settings for the stack");
    st->env[n++] = extra[i];
  }
  st->env[n] = NULL;
}

pid_t
it_stack_spawn (const it_stack_t *st, const char *name, const char *const *args)
{
  return it_spawn_atende (name, args, st->env);
}

static bool
s_stack_up (void *arg)
{
  const it_stack_t *st = arg;
  char url[128];
  snprintf (url, sizeof url, "%s/healthz", st->api);
  return it_http_ex ("GET", url, NULL, NULL, NULL, false, NULL, NULL) == 200;
}

bool
it_stack_api_up (const it_stack_t *st, int timeout_ms)
{
  return it_wait_until (s_stack_up, (void *) st, timeout_ms);
}

it_stack_pids_t
it_stack_start (const it_stack_t *st, const char *stages, int timeout_ms)
{
  it_stack_pids_t pids = {0};
  pids.broker = it_stack_spawn (st, "broker", (const char *[]) {"broker", NULL});
  pids.api = it_stack_spawn (st, "api", (const char *[]) {"api", NULL});
  if (stages)
    pids.workers = it_stack_spawn (st, "workers", (const char *[]) {"worker", stages, NULL});
  IT_CHECK (it_stack_api_up (st, timeout_ms), "api did not come up (see api.log)");
  return pids;
}

int
it_stack_stop (it_stack_pids_t *pids)
{
  if (pids->workers)
    it_stop (pids->workers, SIGTERM, 10000);
  int status = it_stop (pids->api, SIGTERM, 10000);
  it_stop (pids->broker, SIGTERM, 10000);
  memset (pids, 0, sizeof *pids);
  return status;
}

void
it_message_send (const char *api, PGconn *db, const char *channel, const char *handle,
                 const char *name, const char *text, const char *provider_id, int timeout_ms)
{
  json_t *body = json_pack ("{s:s, s:s, s:s, s:s, s:s}", "channel", channel, "handle", handle,
                            "name", name, "text", text, "provider_message_id", provider_id);
  char *text_body = json_dumps (body, JSON_COMPACT), url[256], *resp = NULL;
  json_decref (body);
  snprintf (url, sizeof url, "%s/v1/messages", api);
  long status = it_http ("POST", url, "application/json", text_body, &resp);
  IT_CHECK (status == 202, "POST /v1/messages: %ld, want 202: %.300s", status, resp ? resp : "");
  free (resp);
  free (text_body);
  char sql[512];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM ticket_message WHERE provider_message_id = '%s'",
            provider_id);
  IT_CHECK (it_wait_scalar (db, sql, 1, timeout_ms) == 1, "%s not recorded", provider_id);
}
