/* atende-fake-provider: the compose file's stand-in for messaging providers.
 * A tiny HTTP server (libmicrohttpd) that accepts what notify POSTs as a
 * Standard Webhooks request, verifies its signature when ATENDE_WEBHOOK_SECRET
 * is set (401 otherwise), and counts deliveries once per webhook-id.
 *   POST <any path>   200 {"accepted":true} | 401 bad signature | 400 malformed
 *   GET  /healthz     200 ok
 *   GET  /stats       200 {"requests":..,"delivered":..,"duplicates":..,
 *                          "bad_signatures":..,"malformed":..}
 * Settings (environment): FAKE_PROVIDER_PORT (default 8099),
 * ATENDE_WEBHOOK_SECRET ("whsec_" + base64; empty: signatures not checked),
 * FAKE_PROVIDER_FAIL_EVERY (N > 0: every Nth POST answers 503 + Retry-After: 1,
 * to exercise retries). Listens on all addresses: it runs in its own container.
 * Not part of the runtime image (see deploy/docker/Dockerfile). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_BODY_MAX (1024 * 1024)
#define S_IDS 65536                 /* distinct webhook-ids remembered */
#define S_ID_MAX 128
#define S_KEY_MAX 256

typedef struct {
  char *data;
  size_t len;
  int too_large;
} s_body_t;

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static char (*s_ids)[S_ID_MAX];     /* open addressing table of seen ids */
static unsigned char s_key[S_KEY_MAX];
static int s_key_len = -1;          /* -1: no secret, signatures not checked */
static long s_fail_every;
static long s_requests, s_delivered, s_duplicates, s_bad_signatures, s_malformed, s_posts;
static volatile sig_atomic_t s_stop;

static void
s_on_signal (int sig)
{
  (void) sig;
  s_stop = 1;
}

static long
s_env_long (const char *name, long def, long lo, long hi)
{
  const char *v = getenv (name);
  if (v == NULL || *v == '\0')
    return def;
  char *end = NULL;
  errno = 0;
  long n = strtol (v, &end, 10);
  if (errno != 0 || *end != '\0' || n < lo || n > hi) {
    fprintf (stderr, "level=error component=fake-provider msg=\"bad %s\" value=\"%s\"\n", name, v);
    exit (2);
  }
  return n;
}

/* Standard Webhooks key: "whsec_" + base64. */
static int
s_key_load (const char *secret)
{
  if (secret == NULL || *secret == '\0')
    return 0;
  const char *b64 = strncmp (secret, "whsec_", 6) == 0 ? secret + 6 : secret;
  size_t n = strlen (b64);
  if (n == 0 || n % 4 != 0 || n / 4 * 3 > sizeof s_key)
    return -1;
  int len = EVP_DecodeBlock (s_key, (const unsigned char *) b64, (int) n);
  if (len < 0)
    return -1;
  while (n > 0 && b64[n - 1] == '=') {
    len--;
    n--;
  }
  s_key_len = len;
  return 0;
}

/* true when one of the space-separated "v1,<base64>" signatures matches. */
static int
s_signature_ok (const char *id, const char *ts, const s_body_t *body, const char *header)
{
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  char prefix[2 * S_ID_MAX];
  int n = snprintf (prefix, sizeof prefix, "%s.%s.", id, ts);
  if (n < 0 || (size_t) n >= sizeof prefix)
    return 0;
  EVP_MAC *hmac = EVP_MAC_fetch (NULL, "HMAC", NULL);
  EVP_MAC_CTX *ctx = hmac ? EVP_MAC_CTX_new (hmac) : NULL;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string ("digest", (char *) "SHA256", 0),
                         OSSL_PARAM_construct_end ()};
  size_t out_len = 0;
  int ok = ctx && EVP_MAC_init (ctx, s_key, (size_t) s_key_len, params)
           && EVP_MAC_update (ctx, (const unsigned char *) prefix, (size_t) n)
           && EVP_MAC_update (ctx, (const unsigned char *) body->data, body->len)
           && EVP_MAC_final (ctx, mac, &out_len, sizeof mac);
  EVP_MAC_CTX_free (ctx);
  EVP_MAC_free (hmac);
  if (!ok)
    return 0;
  mac_len = (unsigned int) out_len;
  char expect[4 * EVP_MAX_MD_SIZE];
  EVP_EncodeBlock ((unsigned char *) expect, mac, (int) mac_len);
  size_t expect_len = strlen (expect);
  for (const char *p = header; p && *p;) {
    while (*p == ' ')
      p++;
    const char *end = strchr (p, ' ');
    size_t len = end ? (size_t) (end - p) : strlen (p);
    if (len == expect_len + 3 && strncmp (p, "v1,", 3) == 0
        && CRYPTO_memcmp (p + 3, expect, expect_len) == 0)
      return 1;
    p = end;
  }
  return 0;
}

/* Remembers id; 1 when it was new, 0 when seen (or the table is full). */
static int
s_id_first_time (const char *id)
{
  uint32_t h = 2166136261u;
  for (const char *c = id; *c; c++)
    h = (h ^ (unsigned char) *c) * 16777619u;
  for (size_t i = 0; i < S_IDS; i++) {
    char *slot = s_ids[(h + i) % S_IDS];
    if (slot[0] == '\0') {
      snprintf (slot, S_ID_MAX, "%s", id);
      return 1;
    }
    if (strcmp (slot, id) == 0)
      return 0;
  }
  return 0;
}

static enum MHD_Result
s_answer (struct MHD_Connection *conn, unsigned status, const char *type, char *text,
          int retry_after)
{
  struct MHD_Response *r
      = MHD_create_response_from_buffer (strlen (text), text, MHD_RESPMEM_MUST_FREE);
  if (r == NULL) {
    free (text);
    return MHD_NO;
  }
  MHD_add_response_header (r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  if (retry_after)
    MHD_add_response_header (r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
  enum MHD_Result rc = MHD_queue_response (conn, status, r);
  MHD_destroy_response (r);
  return rc;
}

static enum MHD_Result
s_json (struct MHD_Connection *conn, unsigned status, json_t *obj, int retry_after)
{
  char *text = obj ? json_dumps (obj, JSON_COMPACT) : NULL;
  json_decref (obj);
  if (text == NULL)
    return MHD_NO;
  return s_answer (conn, status, "application/json", text, retry_after);
}

static enum MHD_Result
s_stats (struct MHD_Connection *conn)
{
  pthread_mutex_lock (&s_lock);
  json_t *obj = json_pack ("{s:I,s:I,s:I,s:I,s:I}", "requests", (json_int_t) s_requests,
                           "delivered", (json_int_t) s_delivered, "duplicates",
                           (json_int_t) s_duplicates, "bad_signatures",
                           (json_int_t) s_bad_signatures, "malformed", (json_int_t) s_malformed);
  pthread_mutex_unlock (&s_lock);
  return s_json (conn, 200, obj, 0);
}

/* A complete POST: verify, count, answer. */
static enum MHD_Result
s_post (struct MHD_Connection *conn, const s_body_t *body)
{
  const char *id = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "webhook-id");
  const char *ts = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "webhook-timestamp");
  const char *sig = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "webhook-signature");
  unsigned status = 200;
  const char *problem = NULL;
  pthread_mutex_lock (&s_lock);
  s_requests++;
  s_posts++;
  if (body->too_large || id == NULL || ts == NULL || strlen (id) >= S_ID_MAX - 1
      || strlen (ts) > 20) {
    s_malformed++;
    status = 400;
    problem = body->too_large ? "body too large" : "webhook-id and webhook-timestamp required";
  }
  else if (s_fail_every > 0 && s_posts % s_fail_every == 0) {
    status = 503;
    problem = "injected failure";
  }
  else if (s_key_len >= 0 && (sig == NULL || !s_signature_ok (id, ts, body, sig))) {
    s_bad_signatures++;
    status = 401;
    problem = "signature does not verify";
  }
  else if (s_id_first_time (id))
    s_delivered++;
  else
    s_duplicates++;
  pthread_mutex_unlock (&s_lock);
  if (status != 200)
    return s_json (conn, status, json_pack ("{s:s}", "error", problem), status == 503);
  return s_json (conn, 200, json_pack ("{s:b}", "accepted", 1), 0);
}

static enum MHD_Result
s_on_request (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
              const char *version, const char *upload, size_t *upload_size, void **req_cls)
{
  (void) cls;
  (void) version;
  if (strcmp (method, "POST") != 0) {
    if (strcmp (method, "GET") != 0)
      return s_answer (conn, 405, "text/plain", strdup ("method not allowed\n"), 0);
    if (strcmp (url, "/healthz") == 0)
      return s_answer (conn, 200, "text/plain", strdup ("ok\n"), 0);
    if (strcmp (url, "/stats") == 0)
      return s_stats (conn);
    return s_answer (conn, 404, "text/plain", strdup ("not found\n"), 0);
  }
  s_body_t *body = *req_cls;
  if (body == NULL) {
    body = calloc (1, sizeof *body);
    if (body == NULL)
      return MHD_NO;
    *req_cls = body;
    return MHD_YES;
  }
  if (*upload_size > 0) {
    if (body->len + *upload_size > S_BODY_MAX)
      body->too_large = 1;
    else {
      char *grown = realloc (body->data, body->len + *upload_size + 1);
      if (grown == NULL)
        return MHD_NO;
      body->data = grown;
      memcpy (body->data + body->len, upload, *upload_size);
      body->len += *upload_size;
      body->data[body->len] = '\0';
    }
    *upload_size = 0;
    return MHD_YES;
  }
  return s_post (conn, body);
}

static void
s_on_completed (void *cls, struct MHD_Connection *conn, void **req_cls,
                enum MHD_RequestTerminationCode toe)
{
  (void) cls;
  (void) conn;
  (void) toe;
  s_body_t *body = *req_cls;
  if (body) {
    free (body->data);
    free (body);
    *req_cls = NULL;
  }
}

int
main (void)
{
  long port = s_env_long ("FAKE_PROVIDER_PORT", 8099, 1, 65535);
  s_fail_every = s_env_long ("FAKE_PROVIDER_FAIL_EVERY", 0, 0, 1000000);
  if (s_key_load (getenv ("ATENDE_WEBHOOK_SECRET")) != 0) {
    fprintf (stderr, "level=error component=fake-provider msg=\"ATENDE_WEBHOOK_SECRET is not "
                     "whsec_ + base64\"\n");
    return 2;
  }
  s_ids = calloc (S_IDS, sizeof *s_ids);
  if (s_ids == NULL)
    return 1;
  struct sigaction sa = {0};
  sa.sa_handler = s_on_signal;
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGINT, &sa, NULL);
  struct MHD_Daemon *d = MHD_start_daemon (
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t) port, NULL, NULL,
      s_on_request, NULL, MHD_OPTION_NOTIFY_COMPLETED, s_on_completed, NULL,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned) 256, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 30,
      MHD_OPTION_END);
  if (d == NULL) {
    fprintf (stderr, "level=error component=fake-provider msg=\"cannot listen\" port=%ld\n", port);
    free (s_ids);
    return 1;
  }
  fprintf (stderr, "level=info component=fake-provider msg=listening port=%ld signed=%s\n", port,
           s_key_len >= 0 ? "yes" : "no");
  while (!s_stop)
    pause ();
  MHD_stop_daemon (d);
  fprintf (stderr, "level=info component=fake-provider msg=stopped requests=%ld delivered=%ld "
                   "duplicates=%ld bad_signatures=%ld\n", s_requests, s_delivered, s_duplicates,
           s_bad_signatures);
  free (s_ids);
  return 0;
}
