/* The api's rate limits and connection limit (api/api_limit.h), over real
 * HTTP on loopback, with small limits in the api's environment. Clients
 * speak from different loopback addresses (127.0.0.x) so each part has an
 * address of its own:
 *   per key (5/s, bursts of 5): a key's quick requests get 429 once its
 *     burst is spent, a problem document "rate-limited" with Retry-After
 *     >= 1, and nothing written; another key goes on; the key works again
 *     once a token is back
 *   per address (5/s, bursts of 5), requests without a credential: the
 *     same; the probes are never limited; a key from that address is not
 *     held by it
 *   refused credentials (3 a minute): after three 401s to wrong keys the
 *     address gets 429 on protected routes, a good key too (the guard holds
 *     for the address); the probes, and other addresses, go on
 *   /metrics counts each 429 by limit
 *   connections (a second api, 2 per address): a third open connection is
 *     closed by the server without an answer; once one closes, a new one is
 *     answered. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "it.h"
#include "at_proc.h"
#include "at_store_auth.h"

#define WAIT_MS 30000
#define S_BURST 5
#define S_FAILURES 3
#define S_ADDR_KEY "127.0.0.1"     /* the per-key part, and /metrics */
#define S_ADDR_ANON "127.0.0.2"    /* the per-address part */
#define S_ADDR_GUESS "127.0.0.3"   /* the refused credentials */
#define S_ADDR_PROXY "127.0.0.4"   /* a trusted proxy (ATENDE_API_TRUSTED_PROXIES) */
#define S_ADDR_NOT_PROXY "127.0.0.5"
#define S_UNKNOWN_KEY "atd_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static char s_api[64];
static const char *s_forwarded;   /* an X-Forwarded-For header for s_call, or NULL */
static PGconn *s_db;
static long s_seen_key, s_seen_addr, s_seen_auth;   /* 429s this test saw, by limit */

typedef struct {
  long status;
  long retry_after;
  char body[4096];
  size_t len;
} s_answer_t;

static size_t
s_on_body (char *data, size_t size, size_t n, void *arg)
{
  s_answer_t *a = arg;
  size_t len = size * n, room = sizeof a->body - 1 - a->len;
  memcpy (a->body + a->len, data, len < room ? len : room);
  a->len += len < room ? len : room;
  a->body[a->len] = '\0';
  return len;
}

static size_t
s_on_header (char *data, size_t size, size_t n, void *arg)
{
  s_answer_t *a = arg;
  size_t len = size * n;
  if (len > 12 && strncasecmp (data, "Retry-After:", 12) == 0)
    a->retry_after = strtol (data + 12, NULL, 10);
  return len;
}

/* Counts a 429 under the limit its problem names. */
static void
s_count_limited (const s_answer_t *a)
{
  if (a->status != 429)
    return;
  if (strstr (a->body, "ATENDE_API_RATE_PER_KEY"))
    s_seen_key++;
  else if (strstr (a->body, "ATENDE_API_RATE_PER_ADDR"))
    s_seen_addr++;
  else if (strstr (a->body, "ATENDE_API_AUTH_FAILURES_PER_ADDR"))
    s_seen_auth++;
  else
    it_fail (__FILE__, __LINE__, "429", "a 429 naming no limit: %s", a->body);
}

/* One request from local address `from` (a new connection each time), with
 * key as Bearer when not NULL. */
static s_answer_t
s_call (const char *from, const char *method, const char *path, const char *key,
        const char *body)
{
  char url[256], bearer[160];
  s_answer_t a = { .status = -1 };
  struct curl_slist *hdrs = NULL;
  snprintf (url, sizeof url, "%s%s", s_api, path);
  if (key) {
    snprintf (bearer, sizeof bearer, "Authorization: Bearer %s", key);
    hdrs = curl_slist_append (hdrs, bearer);
  }
  if (body)
    hdrs = curl_slist_append (hdrs, "Content-Type: application/json");
  char xff[160];
  if (s_forwarded) {
    snprintf (xff, sizeof xff, "X-Forwarded-For: %s", s_forwarded);
    hdrs = curl_slist_append (hdrs, xff);
  }
  CURL *c = curl_easy_init ();
  IT_CHECK (c != NULL, "curl_easy_init");
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt (c, CURLOPT_INTERFACE, from);
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_on_body);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, &a);
  curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, s_on_header);
  curl_easy_setopt (c, CURLOPT_HEADERDATA, &a);
  if (body)
    curl_easy_setopt (c, CURLOPT_POSTFIELDS, body);
  if (curl_easy_perform (c) == CURLE_OK)
    curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &a.status);
  curl_easy_cleanup (c);
  curl_slist_free_all (hdrs);
  s_count_limited (&a);
  return a;
}

/* A 429 as the README promises: a problem document, Retry-After >= 1. */
static void
s_expect_limited (const s_answer_t *a, const char *setting, const char *what)
{
  IT_CHECK (a->status == 429, "%s: %ld, want 429: %s", what, a->status, a->body);
  IT_CHECK (a->retry_after >= 1 && a->retry_after <= 60, "%s: Retry-After %ld", what,
            a->retry_after);
  json_t *doc = json_loads (a->body, 0, NULL);
  const char *type = json_string_value (json_object_get (doc, "type"));
  const char *detail = json_string_value (json_object_get (doc, "detail"));
  IT_CHECK (doc && json_integer_value (json_object_get (doc, "status")) == 429, "%s: %s", what,
            a->body);
  IT_CHECK (type && strstr (type, "/rate-limited"), "%s: type %s", what, type ? type : "-");
  IT_CHECK (detail && strstr (detail, setting), "%s: the detail does not name %s: %s", what,
            setting, a->body);
  json_decref (doc);
}

/* Quick requests until the first 429 (at most 200): the burst is served
 * first. Returns the 429. */
static s_answer_t
s_until_limited (const char *from, const char *method, const char *path, const char *key,
                 const char *what)
{
  s_answer_t a = { 0 };
  int served = 0;
  for (int i = 0; i < 200; i++) {
    a = s_call (from, method, path, key, NULL);
    if (a.status == 429)
      break;
    IT_CHECK (a.status > 0, "%s: request %d: no answer", what, i + 1);
    served++;
  }
  IT_CHECK (a.status == 429, "%s: 200 quick requests and no 429", what);
  IT_CHECK (served >= S_BURST, "%s: 429 after %d requests, the burst is %d", what, served,
            S_BURST);
  printf ("%s: 429 after %d requests (Retry-After %ld)\n", what, served, a.retry_after);
  return a;
}

static char *
s_key (at_store_t *store, const char *name, at_scopes_t scopes)
{
  at_auth_key_t key;
  IT_CHECK (at_store_key_create (store, name, scopes, 0, "it", &key) == AT_OK, "key %s", name);
  return strdup (key.text);
}

static const char *s_waiting_key;

static bool
s_key_works (void *arg)
{
  (void) arg;
  return s_call (S_ADDR_KEY, "GET", "/v1/tickets/999999", s_waiting_key, NULL).status == 404;
}

/* Per key: the burst, then 429; nothing written; another key goes on; the
 * key works again once a token is back. */
static void
s_per_key (const char *ticket_key, const char *other_key, const char *messages_key)
{
  s_answer_t a = s_until_limited (S_ADDR_KEY, "GET", "/v1/tickets/999999", ticket_key,
                                  "per key");
  s_expect_limited (&a, "ATENDE_API_RATE_PER_KEY", "per key");
  a = s_call (S_ADDR_KEY, "GET", "/v1/tickets/999999", other_key, NULL);
  IT_CHECK (a.status == 404, "another key is held by the first one's limit: %ld", a.status);
  /* a limited key's POST writes nothing */
  s_until_limited (S_ADDR_KEY, "GET", "/v1/messages/1", messages_key, "messages key");
  long long before = it_db_scalar (s_db, "SELECT count(*) FROM bus_message");
  a = s_call (S_ADDR_KEY, "POST", "/v1/messages", messages_key,
              "{\"channel\":\"email\",\"handle\":\"a@example.com\",\"text\":\"Oi\","
              "\"provider_message_id\":\"<limit-1@x>\"}");
  s_expect_limited (&a, "ATENDE_API_RATE_PER_KEY", "a limited key's POST");
  IT_CHECK (it_db_scalar (s_db, "SELECT count(*) FROM bus_message") == before,
            "a refused POST wrote a message");
  s_waiting_key = ticket_key;
  IT_CHECK (it_wait_until (s_key_works, NULL, WAIT_MS), "the key never worked again");
}

/* Per address, without a credential; the probes never limited; a key from
 * that address not held by it. */
static void
s_per_addr (const char *key)
{
  s_answer_t a = s_until_limited (S_ADDR_ANON, "GET", "/no/such/path", NULL, "per address");
  s_expect_limited (&a, "ATENDE_API_RATE_PER_ADDR", "per address");
  a = s_call (S_ADDR_ANON, "GET", "/v1/channels/whatsapp", NULL, NULL);
  s_expect_limited (&a, "ATENDE_API_RATE_PER_ADDR", "a public route, same address");
  for (int i = 0; i < 3 * S_BURST; i++) {
    IT_CHECK (s_call (S_ADDR_ANON, "GET", "/healthz", NULL, NULL).status == 200,
              "/healthz limited (request %d)", i + 1);
    IT_CHECK (s_call (S_ADDR_ANON, "GET", "/readyz", NULL, NULL).status != 429,
              "/readyz limited (request %d)", i + 1);
  }
  a = s_call (S_ADDR_ANON, "GET", "/v1/tickets/999999", key, NULL);
  IT_CHECK (a.status == 404, "a key is held by its address's anonymous limit: %ld %s", a.status,
            a.body);
}

/* S_FAILURES wrong keys: then 429 on protected routes for that address,
 * the good key too; probes and other addresses go on. */
static void
s_guessing (const char *good_key)
{
  const char *wrong[] = { S_UNKNOWN_KEY, "atd_nope", "not-a-key-at-all" };
  for (int i = 0; i < S_FAILURES; i++) {
    s_answer_t a = s_call (S_ADDR_GUESS, "GET", "/v1/tickets/999999", wrong[i], NULL);
    IT_CHECK (a.status == 401, "wrong key %d: %ld, want 401", i + 1, a.status);
  }
  s_answer_t a = s_call (S_ADDR_GUESS, "GET", "/v1/tickets/999999", good_key, NULL);
  s_expect_limited (&a, "ATENDE_API_AUTH_FAILURES_PER_ADDR", "a good key after the guesses");
  a = s_call (S_ADDR_GUESS, "GET", "/v1/tickets/999999", S_UNKNOWN_KEY, NULL);
  s_expect_limited (&a, "ATENDE_API_AUTH_FAILURES_PER_ADDR", "one more guess");
  a = s_call (S_ADDR_GUESS, "POST", "/v1/session", NULL,
              "{\"email\":\"ana@example.com\",\"password\":\"guess guess guess\"}");
  s_expect_limited (&a, "ATENDE_API_AUTH_FAILURES_PER_ADDR", "signing in after the guesses");
  IT_CHECK (s_call (S_ADDR_GUESS, "GET", "/healthz", NULL, NULL).status == 200,
            "/healthz limited after the guesses");
  a = s_call (S_ADDR_KEY, "GET", "/v1/tickets/999999", good_key, NULL);
  IT_CHECK (a.status == 404, "another address is held by the guesses: %ld", a.status);
}

/* Behind a trusted proxy (S_ADDR_PROXY in ATENDE_API_TRUSTED_PROXIES) the
 * guard counts the client the proxy names, not the proxy: one guessing
 * client is refused, another behind the same proxy is not; from an address
 * that is not a trusted proxy the header is not believed. */
static void
s_behind_proxy (const char *good_key)
{
  s_forwarded = "203.0.113.50, 198.51.100.7";   /* the left hop is the client's own word */
  for (int i = 0; i < S_FAILURES; i++)
    IT_CHECK (s_call (S_ADDR_PROXY, "GET", "/v1/tickets/999999", S_UNKNOWN_KEY, NULL).status
                  == 401, "wrong key %d through the proxy", i + 1);
  s_answer_t a = s_call (S_ADDR_PROXY, "GET", "/v1/tickets/999999", good_key, NULL);
  s_expect_limited (&a, "ATENDE_API_AUTH_FAILURES_PER_ADDR", "the guessing client, proxied");
  s_forwarded = "203.0.113.50";
  a = s_call (S_ADDR_PROXY, "GET", "/v1/tickets/999999", good_key, NULL);
  IT_CHECK (a.status == 404, "another client behind the proxy is held: %ld %s", a.status,
            a.body);
  s_forwarded = "198.51.100.7";
  a = s_call (S_ADDR_NOT_PROXY, "GET", "/v1/tickets/999999", good_key, NULL);
  IT_CHECK (a.status == 404, "X-Forwarded-For believed from an untrusted address: %ld",
            a.status);
  s_forwarded = NULL;
}

/* The value of a series on /metrics (-1 when absent). */
static long
s_series (const char *text, const char *series)
{
  const char *at = strstr (text, series);
  return at ? strtol (at + strlen (series), NULL, 10) : -1;
}

static void
s_metrics (const char *admin_key)
{
  char url[128], bearer[160], *text = NULL;
  snprintf (url, sizeof url, "%s/metrics", s_api);
  snprintf (bearer, sizeof bearer, "Authorization: Bearer %s", admin_key);
  const char *headers[] = { bearer, NULL };
  long status = it_http_ex ("GET", url, NULL, NULL, headers, false, &text, NULL);
  IT_CHECK (status == 200 && text, "metrics: %ld", status);
  long key = s_series (text, "atende_api_rate_limited_total{limit=\"key\"} ");
  long addr = s_series (text, "atende_api_rate_limited_total{limit=\"addr\"} ");
  long auth = s_series (text, "atende_api_rate_limited_total{limit=\"auth_failures\"} ");
  free (text);
  IT_CHECK (key == s_seen_key, "metrics: key %ld, the test saw %ld", key, s_seen_key);
  IT_CHECK (addr == s_seen_addr, "metrics: addr %ld, the test saw %ld", addr, s_seen_addr);
  IT_CHECK (auth == s_seen_auth, "metrics: auth_failures %ld, the test saw %ld", auth,
            s_seen_auth);
  printf ("metrics: rate limited key=%ld addr=%ld auth_failures=%ld\n", key, addr, auth);
}

/* --- the connection limit (a second api, ATENDE_API_CONN_PER_ADDR=2) */

static int s_conn_port;

static int
s_connect (void)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) s_conn_port) };
  inet_pton (AF_INET, "127.0.0.1", &sa.sin_addr);
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  IT_CHECK (fd >= 0, "socket");
  IT_CHECK (connect (fd, (struct sockaddr *) &sa, sizeof sa) == 0, "connect: %s",
            strerror (errno));
  return fd;
}

/* Sends GET /healthz on fd and reads until the answer's end or the
 * connection's: the bytes read into buf (0: closed without an answer, -1:
 * reset). */
static long
s_exchange (int fd, char *buf, size_t cap)
{
  static const char req[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  size_t got = 0;
  buf[0] = '\0';
  if (send (fd, req, sizeof req - 1, MSG_NOSIGNAL) < 0)
    return -1;
  int64_t deadline = at_mono_ms () + WAIT_MS;
  while (at_mono_ms () < deadline && got + 1 < cap) {
    struct pollfd p = { .fd = fd, .events = POLLIN };
    if (poll (&p, 1, 100) <= 0)
      continue;
    ssize_t n = recv (fd, buf + got, cap - 1 - got, 0);
    if (n <= 0)
      return n < 0 ? -1 : (long) got;
    got += (size_t) n;
    buf[got] = '\0';
    const char *end = strstr (buf, "\r\n\r\n");
    const char *length = strcasestr (buf, "\r\nContent-Length:");
    if (end && length && length < end
        && got >= (size_t) (end + 4 - buf) + strtoul (length + 17, NULL, 10))
      return (long) got;
  }
  IT_CHECK (false, "no answer and no close within %d ms: %s", WAIT_MS, buf);
  return -1;
}

static bool
s_new_connection_answered (void *arg)
{
  (void) arg;
  char buf[1024];
  int fd = s_connect ();
  long n = s_exchange (fd, buf, sizeof buf);
  close (fd);
  return n > 0 && strncmp (buf, "HTTP/1.1 200", 12) == 0;
}

/* A connection answered and kept open (tried again while the server still
 * counts the connections of the probes before it: they close as it goes). */
static int
s_held (void)
{
  char buf[1024];
  for (int64_t deadline = at_mono_ms () + WAIT_MS; at_mono_ms () < deadline;) {
    int fd = s_connect ();
    if (s_exchange (fd, buf, sizeof buf) > 0 && strncmp (buf, "HTTP/1.1 200", 12) == 0)
      return fd;
    close (fd);
    usleep (20 * 1000);
  }
  IT_CHECK (false, "no connection answered within %d ms", WAIT_MS);
  return -1;
}

/* Two kept-alive connections answered; a third closed without an answer;
 * one closed, and a new one is answered again. */
static void
s_connections (void)
{
  char buf[1024];
  int held[2];
  for (int i = 0; i < 2; i++)
    held[i] = s_held ();
  int third = s_connect ();   /* the kernel completes it; the server closes it */
  long n = s_exchange (third, buf, sizeof buf);
  IT_CHECK (n <= 0, "the third connection was answered: %s", buf);
  printf ("connections: the third was %s without an answer\n", n < 0 ? "reset" : "closed");
  close (third);
  for (int i = 0; i < 2; i++)   /* the two held are still served */
    IT_CHECK (s_exchange (held[i], buf, sizeof buf) > 0 && strncmp (buf, "HTTP/1.1 200", 12) == 0,
              "held connection %d after the refusal: %s", i + 1, buf);
  close (held[0]);
  IT_CHECK (it_wait_until (s_new_connection_answered, NULL, WAIT_MS),
            "a new connection is not answered after one closed");
  close (held[1]);
}

/* --- the processes */

static bool
s_up (void *arg)
{
  char url[128];
  snprintf (url, sizeof url, "http://127.0.0.1:%d/healthz", *(int *) arg);
  return it_http_ex ("GET", url, NULL, NULL, NULL, false, NULL, NULL) == 200;
}

static pid_t s_spawn_api (const char *name, const char *conninfo, int port,
                          const char *const *limits);

/* A range that is not one stops the api at its start, naming the setting. */
static void
s_bad_proxies (const char *conninfo)
{
  const char *env[] = { "ATENDE_API_TRUSTED_PROXIES=10.0.0.1/8", NULL };
  char db_env[600], port_env[64];
  snprintf (db_env, sizeof db_env, "ATENDE_DATABASE_URL=%s", conninfo);
  snprintf (port_env, sizeof port_env, "ATENDE_API_PORT=%d", it_free_port ());
  const char *full[] = { db_env, port_env, "ATENDE_API_ADDRESS=127.0.0.1", env[0], NULL };
  const char *args[] = { "api", NULL };
  pid_t pid = it_spawn_atende ("api-bad-proxies", args, full);
  int status = it_stop (pid, 0, WAIT_MS);   /* signal 0: it stops by itself */
  IT_CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 2,
            "an api with a bad ATENDE_API_TRUSTED_PROXIES did not stop with 2: %d", status);
}

static pid_t
s_spawn_api (const char *name, const char *conninfo, int port, const char *const *limits)
{
  static char db_env[600], port_env[4][64];   /* one per api this test starts */
  static int n;
  IT_CHECK (n < 4, "more apis than port_env holds");
  const char *env[16];
  size_t k = 0;
  snprintf (db_env, sizeof db_env, "ATENDE_DATABASE_URL=%s", conninfo);
  snprintf (port_env[n], sizeof port_env[n], "ATENDE_API_PORT=%d", port);
  env[k++] = db_env;
  env[k++] = port_env[n++];
  env[k++] = "ATENDE_API_ADDRESS=127.0.0.1";
  env[k++] = "ATENDE_BROKER_METRICS_PORT=0";
  for (size_t i = 0; limits[i] && k + 1 < sizeof env / sizeof env[0]; i++)
    env[k++] = limits[i];
  env[k] = NULL;
  const char *args[] = { "api", NULL };
  pid_t pid = it_spawn_atende (name, args, env);
  IT_CHECK (it_wait_until (s_up, &port, WAIT_MS), "%s did not come up", name);
  return pid;
}

int
main (void)
{
  it_require_pg ();
  char conninfo[512];
  snprintf (conninfo, sizeof conninfo, "%s", it_db_create ("api_limits", true));
  char *admin = strdup (it_api_key ());
  s_db = it_db_connect (conninfo);
  at_store_t *store = at_store_new (conninfo, "it");
  char *ticket_key = s_key (store, "tickets a", AT_SCOPE_TICKETS_READ);
  char *other_key = s_key (store, "tickets b", AT_SCOPE_TICKETS_READ);
  char *messages_key = s_key (store, "messages", AT_SCOPE_MESSAGES_WRITE);
  curl_global_init (CURL_GLOBAL_DEFAULT);
  int port = it_free_port ();
  snprintf (s_api, sizeof s_api, "http://127.0.0.1:%d", port);
  const char *rates[] = { "ATENDE_API_RATE_PER_KEY=5", "ATENDE_API_BURST_PER_KEY=5",
                          "ATENDE_API_RATE_PER_ADDR=5", "ATENDE_API_BURST_PER_ADDR=5",
                          "ATENDE_API_AUTH_FAILURES_PER_ADDR=3", "ATENDE_API_CONN_PER_ADDR=0",
                          NULL };
  pid_t api = s_spawn_api ("api", conninfo, port, rates);
  s_per_key (ticket_key, other_key, messages_key);
  s_per_addr (other_key);
  s_guessing (other_key);
  s_metrics (admin);

  s_conn_port = it_free_port ();
  const char *conns[] = { "ATENDE_API_CONN_PER_ADDR=2", NULL };
  pid_t api2 = s_spawn_api ("api-conn", conninfo, s_conn_port, conns);
  s_connections ();
  /* Behind a proxy the connection limit is off (README: it counts sockets,
   * and every socket comes from the proxy): with it on, a client's closed
   * connection the api has not reaped yet would refuse the next one. */
  int proxy_port = it_free_port ();
  const char *proxied[] = { "ATENDE_API_CONN_PER_ADDR=0", "ATENDE_API_AUTH_FAILURES_PER_ADDR=3",
                            "ATENDE_API_TRUSTED_PROXIES=127.0.0.4/32, 10.0.0.0/8", NULL };
  pid_t api3 = s_spawn_api ("api-proxied", conninfo, proxy_port, proxied);
  snprintf (s_api, sizeof s_api, "http://127.0.0.1:%d", proxy_port);
  s_behind_proxy (other_key);
  s_bad_proxies (conninfo);

  int status = at_proc_stop (api, SIGTERM, 10000);
  IT_CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0, "api exit %d", status);
  status = at_proc_stop (api2, SIGTERM, 10000);
  IT_CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0, "api-conn exit %d", status);
  status = at_proc_stop (api3, SIGTERM, 10000);
  IT_CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0, "api-proxied exit %d", status);
  free (ticket_key);
  free (other_key);
  free (messages_key);
  free (admin);
  at_store_destroy (&store);
  PQfinish (s_db);
  curl_global_cleanup ();
  printf ("ok\n");
  return 0;
}
