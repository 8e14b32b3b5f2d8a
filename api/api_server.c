/* api_server: the HTTP server (libmicrohttpd), the life of one request and
 * the per-thread store and publisher.
 *
 * Threading: MHD's internal epoll with a pool of cfg->api_threads threads.
 * Handlers block (a PostgreSQL query, a publish waiting for the broker's
 * confirm), and both a libpq connection and a ZeroMQ socket belong to one
 * thread. A fixed pool lets each thread keep one store and one publisher for
 * its whole life (thread-local, created on first use, reconnected when
 * broken), so connections to PostgreSQL and the brokers are bounded by
 * api_threads and never set up per request. Thread-per-connection would
 * open a database connection and a ZeroMQ socket per HTTP connection,
 * unbounded under load. In-flight requests are thus capped at api_threads:
 * scale out with more api processes. */
#include <arpa/inet.h>
#include <assert.h>
#include <limits.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "api.h"
#include "api_internal.h"
#include "at_log.h"

#define S_CONNECTION_LIMIT 4096
#define S_CONNECTION_TIMEOUT_S 30

typedef struct {
  at_store_t *store;
  at_publisher_t *publisher;
} s_thread_t;

/* Requests begun and not yet completed: SIGTERM waits for them. */
static atomic_int s_in_flight;

static pthread_key_t s_thread_key;
static pthread_once_t s_thread_once = PTHREAD_ONCE_INIT;

static void
s_thread_free (void *arg)
{
  s_thread_t *t = arg;
  at_publisher_destroy (&t->publisher);
  at_store_destroy (&t->store);
  free (t);
}

static void
s_thread_key_create (void)
{
  int rc = pthread_key_create (&s_thread_key, s_thread_free);
  assert (rc == 0);
  (void) rc;
}

static s_thread_t *
s_thread (void)
{
  pthread_once (&s_thread_once, s_thread_key_create);
  s_thread_t *t = pthread_getspecific (s_thread_key);
  if (!t) {
    t = at_calloc (1, sizeof *t);
    pthread_setspecific (s_thread_key, t);
  }
  return t;
}

static void
s_unavailable (api_request_t *req, int retry_after_s, const char *detail)
{
  api_problem_t p;
  api_problem (&p, 503, NULL, "%s", detail);
  api_reply_problem (req, &p);
  req->retry_after_s = retry_after_s < 1 ? 1 : retry_after_s;
}

at_store_t *
api_store (api_request_t *req)
{
  s_thread_t *t = s_thread ();
  if (t->store && !at_store_ok (t->store) && at_store_reconnect (t->store) != AT_OK)
    at_store_destroy (&t->store);
  if (!t->store)
    t->store = at_store_new (req->cfg->database_url, "api");
  if (!t->store)
    s_unavailable (req, 1, "the database cannot be reached");
  return t->store;
}

int
api_publish (api_request_t *req, at_msg_t *msg)
{
  s_thread_t *t = s_thread ();
  int retry_after_ms = 0;
  if (!t->publisher)
    t->publisher = at_publisher_new (req->cfg);
  if (!t->publisher) {
    s_unavailable (req, 1, "the bus cannot be reached");
    return AT_AGAIN;
  }
  int64_t start = at_mono_us ();
  int rc = at_publisher_send (t->publisher, &msg, 1, &retry_after_ms);
  if (rc == AT_OK) {
    api_metrics_publish ((double) (at_mono_us () - start) / 1e6);
    return AT_OK;
  }
  if (rc == AT_BUSY)
    s_unavailable (req, (retry_after_ms + 999) / 1000, "the pipeline is busy, retry later");
  else if (rc == AT_AGAIN)
    s_unavailable (req, 1, "the broker did not confirm in time, retry later");
  else {
    api_problem_t p;
    at_error ("api", "msg=\"broker refused a message\" rc=%d message_id=%s request_id=%s", rc,
              msg->id, req->request_id);
    api_problem (&p, 500, NULL, "the broker refused the message");
    api_reply_problem (req, &p);
  }
  return rc;
}

/* --- one request */

const char *
api_header (const api_request_t *req, const char *name)
{
  if (!req || !req->conn || !name)
    return NULL;
  return MHD_lookup_connection_value (req->conn, MHD_HEADER_KIND, name);
}

static bool
s_request_id_ok (const char *id)
{
  size_t n = 0;
  for (; id[n]; n++) {
    char c = id[n];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok || n >= API_REQUEST_ID_MAX)
      return false;
  }
  return n > 0;
}

static bool
s_is_json (const char *content_type)
{
  static const char json[] = "application/json";
  if (!content_type || strncasecmp (content_type, json, sizeof json - 1) != 0)
    return false;
  char next = content_type[sizeof json - 1];
  return next == '\0' || next == ';' || next == ' ';
}

static api_request_t *
s_request_new (const at_config_t *cfg, struct MHD_Connection *conn, const char *method,
               const char *url)
{
  api_request_t *req = at_calloc (1, sizeof *req);
  atomic_fetch_add (&s_in_flight, 1);
  req->cfg = cfg;
  req->method = method;
  req->path = url;
  req->start_us = at_mono_us ();
  req->conn = conn;
  req->content_type = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "Content-Type");
  req->query_since = MHD_lookup_connection_value (conn, MHD_GET_ARGUMENT_KIND, "since");
  const char *rid = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "X-Request-Id");
  if (rid && s_request_id_ok (rid))
    at_strlcpy (req->request_id, rid, sizeof req->request_id);
  else
    at_uuid_v7 (req->request_id);
  api_route_match (req);
  const char *length = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "Content-Length");
  long declared = 0;
  if (length && at_parse_long (length, 0, LONG_MAX, &declared) == AT_OK
      && declared > cfg->api_max_body_bytes)
    req->body_too_large = true;
  return req;
}

static void
s_request_destroy (api_request_t **req_p)
{
  if (!*req_p)
    return;
  free ((*req_p)->body);
  free ((*req_p)->reply);
  free (*req_p);
  *req_p = NULL;
}

/* Appends a chunk of the body, or drops it (and the body so far) above the cap. */
static void
s_request_body (api_request_t *req, const char *data, size_t size)
{
  size_t cap = (size_t) req->cfg->api_max_body_bytes;
  if (req->body_too_large)
    return;
  if (size > cap - req->body_len) {
    req->body_too_large = true;
    free (req->body);
    req->body = NULL;
    req->body_cap = 0;
    req->body_len = 0;
    return;
  }
  if (req->body_len + size + 1 > req->body_cap) {
    size_t grown = req->body_cap ? req->body_cap * 2 : 16 * 1024;
    while (grown < req->body_len + size + 1)
      grown *= 2;
    req->body_cap = grown < cap + 1 ? grown : cap + 1;
    char *body = realloc (req->body, req->body_cap);
    if (!body) {
      at_error ("api", "msg=\"out of memory\" bytes=%zu", req->body_cap);
      abort ();
    }
    req->body = body;
  }
  memcpy (req->body + req->body_len, data, size);
  req->body_len += size;
  req->body[req->body_len] = '\0';
}

/* Decides the answer: routing, size and media type first, then the handler. */
static void
s_dispatch (api_request_t *req)
{
  api_problem_t p;
  if (req->route_status == 404)
    api_problem (&p, 404, NULL, "no resource at this path");
  else if (req->route_status == 405)
    api_problem (&p, 405, NULL, "method %s is not allowed here", req->method);
  else if (req->body_too_large)
    api_problem (&p, 413, NULL, "the body exceeds %ld bytes", req->cfg->api_max_body_bytes);
  else if ((req->route->body == API_BODY_JSON
            || (req->route->body == API_BODY_JSON_OPTIONAL && req->body_len > 0))
           && !s_is_json (req->content_type))
    api_problem (&p, 415, NULL, "the body must be application/json");
  else {
    req->route->handler (req);
    if (!req->reply) {
      api_problem (&p, 500, NULL, "no answer");
      api_reply_problem (req, &p);
    }
    return;
  }
  api_reply_problem (req, &p);
}

static enum MHD_Result
s_answer (api_request_t *req, struct MHD_Connection *conn)
{
  char number[16];
  s_dispatch (req);
  size_t len = strlen (req->reply);
  struct MHD_Response *resp =
      MHD_create_response_from_buffer (len, req->reply, MHD_RESPMEM_MUST_FREE);
  if (!resp)
    return MHD_NO;
  req->reply = NULL;     /* MHD frees it */
  MHD_add_response_header (resp, MHD_HTTP_HEADER_CONTENT_TYPE, req->reply_type);
  MHD_add_response_header (resp, "X-Request-Id", req->request_id);
  if (req->retry_after_s > 0) {
    snprintf (number, sizeof number, "%d", req->retry_after_s);
    MHD_add_response_header (resp, MHD_HTTP_HEADER_RETRY_AFTER, number);
  }
  if (req->status == 405)
    MHD_add_response_header (resp, MHD_HTTP_HEADER_ALLOW, req->allow);
  if (req->location[0])
    MHD_add_response_header (resp, MHD_HTTP_HEADER_LOCATION, req->location);
  enum MHD_Result rc = MHD_queue_response (conn, (unsigned int) req->status, resp);
  MHD_destroy_response (resp);
  return rc;
}

static enum MHD_Result
s_access (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size,
          void **con_cls)
{
  api_request_t *req = *con_cls;
  if (!req) {
    req = s_request_new (cls, conn, method, url);
    *con_cls = req;
    /* A declared body over the cap is refused before it is read. */
    if (req->body_too_large && req->route)
      return s_answer (req, conn);
    return MHD_YES;
  }
  if (req->status) {
    *upload_data_size = 0;   /* answered early: the rest of the body is dropped */
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    s_request_body (req, upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  return s_answer (req, conn);
}

/* The path, safe for a key=value log line. */
static void
s_log_path (const char *path, char *out, size_t cap)
{
  size_t o = 0;
  for (; path && *path && o + 1 < cap; path++) {
    unsigned char c = (unsigned char) *path;
    out[o++] = (c > 32 && c < 127 && c != '"' && c != '\\') ? (char) c : '?';
  }
  out[o] = '\0';
}

static void
s_completed (void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
  api_request_t *req = *con_cls;
  char path[160];
  if (!req)
    return;
  double seconds = (double) (at_mono_us () - req->start_us) / 1e6;
  /* A survey link's token is a credential: it stays out of the log. */
  if (req->route && req->route->handler == api_surveys_post)
    at_strlcpy (path, "/v1/surveys/-", sizeof path);
  else
    s_log_path (req->path, path, sizeof path);
  at_info ("api", "msg=request method=%s path=%s status=%d ms=%.3f request_id=%s%s",
           req->method, path, req->status, seconds * 1000, req->request_id,
           toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
  if (req->status)
    api_metrics_request (api_route_index (req->route), req->status, seconds);
  s_request_destroy (&req);
  *con_cls = NULL;
  atomic_fetch_sub (&s_in_flight, 1);
}

static void
s_mhd_log (void *cls, const char *fmt, va_list ap)
{
  char line[256];
  vsnprintf (line, sizeof line, fmt, ap);
  for (char *c = line; *c; c++)
    if (*c == '"' || *c == '\n' || *c == '\\')
      *c = *c == '"' ? '\'' : ' ';
  at_warn ("api", "msg=\"%s\" source=microhttpd", line);
}

/* --- the server */

static int
s_address (const at_config_t *cfg, struct sockaddr_storage *sa, bool *ipv6)
{
  memset (sa, 0, sizeof *sa);
  struct sockaddr_in *in4 = (struct sockaddr_in *) sa;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) sa;
  *ipv6 = strchr (cfg->api_address, ':') != NULL;
  if (!*ipv6 && inet_pton (AF_INET, cfg->api_address, &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons ((uint16_t) cfg->api_port);
    return AT_OK;
  }
  if (*ipv6 && inet_pton (AF_INET6, cfg->api_address, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons ((uint16_t) cfg->api_port);
    return AT_OK;
  }
  at_error ("api", "msg=\"api_address is not an IP address\" address=%s", cfg->api_address);
  return AT_INVALID;
}

static struct MHD_Daemon *
s_start (const at_config_t *cfg)
{
  struct sockaddr_storage sa;
  bool ipv6 = false;
  if (s_address (cfg, &sa, &ipv6) != AT_OK)
    return NULL;
  unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
  if (ipv6)
    flags |= MHD_USE_IPv6;
  return MHD_start_daemon (
      flags, (uint16_t) cfg->api_port, NULL, NULL, s_access, (void *) cfg,
      MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, NULL,
      MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &sa,
      MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) cfg->api_threads,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned int) S_CONNECTION_LIMIT,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) S_CONNECTION_TIMEOUT_S,
      MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int) 1,
      MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL,
      MHD_OPTION_END);
}

static void
s_drain (long grace_ms)
{
  int64_t deadline = at_mono_ms () + grace_ms;
  struct timespec tick = { 0, 10 * 1000 * 1000 };
  while (atomic_load (&s_in_flight) > 0 && at_mono_ms () < deadline)
    nanosleep (&tick, NULL);
  if (atomic_load (&s_in_flight) > 0)
    at_warn ("api", "msg=\"drain grace over, closing requests\" in_flight=%d",
             atomic_load (&s_in_flight));
}

int
api_run (const at_config_t *cfg)
{
  sigset_t stop;
  int sig = 0;
  sigemptyset (&stop);
  sigaddset (&stop, SIGTERM);
  sigaddset (&stop, SIGINT);
  /* Blocked before MHD starts its threads, so they inherit the mask and the
   * signals wait for sigwait below. */
  pthread_sigmask (SIG_BLOCK, &stop, NULL);
  signal (SIGPIPE, SIG_IGN);
  api_metrics_init ();
  struct MHD_Daemon *daemon = s_start (cfg);
  if (!daemon) {
    at_error ("api", "msg=\"cannot listen\" address=%s port=%ld", cfg->api_address,
              cfg->api_port);
    return 1;
  }
  at_info ("api", "msg=listening address=%s port=%ld threads=%ld version=%s",
           cfg->api_address, cfg->api_port, cfg->api_threads, ATENDE_VERSION);
  while (sigwait (&stop, &sig) != 0)
    ;
  at_info ("api", "msg=\"stopping\" signal=%d", sig);
  /* Stop accepting, let the requests under way finish and their answers go
   * out (up to drain_grace_ms), then close what is left. */
  MHD_quiesce_daemon (daemon);
  s_drain (cfg->drain_grace_ms);
  MHD_stop_daemon (daemon);
  at_info ("api", "msg=stopped");
  return 0;
}
