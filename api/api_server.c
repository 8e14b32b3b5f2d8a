/* api_server: the HTTP server (libmicrohttpd) and the life of one request.
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
 * scale out with more api processes (the per-thread store and publisher are
 * api_thread.c).
 *
 * The top of the api's files: calls the router, the request's accessors,
 * the answers and metrics; nothing calls back into it. */
#include <arpa/inet.h>
#include <limits.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "api.h"
#include "api_internal.h"
#include "api_limit.h"
#include "api_metrics.h"
#include "api_router.h"
#include "at_buf.h"
#include "at_net.h"
#include "at_log.h"

#define S_CONNECTION_LIMIT 4096
#define S_CONNECTION_TIMEOUT_S 30
#define S_CSP "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none';" \
              " frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

/* Requests begun and not yet completed: SIGTERM waits for them. */
static atomic_int s_in_flight;

/* --- one request */

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

/* A request and, the server's own, its body as it arrives. */
typedef struct {
  api_request_t req;
  at_buf_t body;          /* capped at api_max_body_bytes */
} s_request_t;

/* ATENDE_API_TRUSTED_PROXIES, parsed once at start (s_trusted_parse). */
static at_cidr_t s_trusted[AT_LIST_MAX];
static size_t s_n_trusted;

static int
s_trusted_parse (const at_config_t *cfg)
{
  for (size_t i = 0; i < cfg->api_trusted_proxies.n; i++) {
    const char *range = cfg->api_trusted_proxies.items[i].value;
    if (at_cidr_parse (range, &s_trusted[i]) != AT_OK) {
      at_error ("api", "msg=\"ATENDE_API_TRUSTED_PROXIES: item %zu ('%s') is not an address"
                " range such as 10.0.0.0/8\"", i + 1, range);
      return AT_INVALID;
    }
  }
  s_n_trusted = cfg->api_trusted_proxies.n;
  return AT_OK;
}

/* The client's address as text ("" when unknown): the per-address limits,
 * the audit's and the key's last use. Behind a trusted proxy, the client it
 * names in X-Forwarded-For (lib/core/at_net.h). */
static void
s_peer (api_request_t *req, struct MHD_Connection *conn, char *out, size_t cap)
{
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info (conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  const struct sockaddr *sa = info ? info->client_addr : NULL;
  char socket_peer[AT_NET_ADDR_LEN] = "";
  out[0] = '\0';
  if (sa && sa->sa_family == AF_INET)
    inet_ntop (AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, socket_peer,
               sizeof socket_peer);
  else if (sa && sa->sa_family == AF_INET6)
    inet_ntop (AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, socket_peer,
               sizeof socket_peer);
  if (socket_peer[0] && s_n_trusted == 0)
    at_strlcpy (out, socket_peer, cap);   /* no proxy trusted: the header is never read */
  else if (socket_peer[0])
    at_net_client (socket_peer, api_header (req, "X-Forwarded-For"), s_trusted, s_n_trusted,
                   out, cap);
}

static s_request_t *
s_request_new (const at_config_t *cfg, struct MHD_Connection *conn, const char *method,
               const char *url)
{
  s_request_t *r = at_calloc (1, sizeof *r);
  api_request_t *req = &r->req;
  atomic_fetch_add (&s_in_flight, 1);
  at_buf_init (&r->body, (size_t) cfg->api_max_body_bytes);
  req->cfg = cfg;
  req->method = method;
  req->path = url;
  req->body = "";
  req->start_us = at_mono_us ();
  req->conn = conn;
  req->content_type = api_header (req, "Content-Type");
  req->query_since = api_query (req, "since");
  const char *rid = api_header (req, "X-Request-Id");
  if (rid && s_request_id_ok (rid))
    at_strlcpy (req->request_id, rid, sizeof req->request_id);
  else
    at_uuid_v7 (req->request_id);
  s_peer (req, conn, req->peer, sizeof req->peer);
  api_route_match (req);
  const char *length = api_header (req, "Content-Length");
  long declared = 0;
  if (length && at_parse_long (length, 0, LONG_MAX, &declared) == AT_OK
      && declared > cfg->api_max_body_bytes)
    req->body_too_large = true;
  return r;
}

static void
s_request_destroy (s_request_t **r_p)
{
  if (!*r_p)
    return;
  at_buf_free (&(*r_p)->body);
  free ((*r_p)->req.reply);
  free (*r_p);
  *r_p = NULL;
}

/* Appends a chunk of the body, or drops it (and the body so far) above the cap. */
static void
s_request_body (s_request_t *r, const char *data, size_t size)
{
  if (r->req.body_too_large)
    return;
  at_buf_put (&r->body, data, size);
  if (r->body.overflow) {
    r->req.body_too_large = true;
    at_buf_free (&r->body);
  }
}

/* Decides the answer: routing, the door (api_auth.c: may have answered
 * already, before the body), size and media type, then the handler. */
static void
s_dispatch (api_request_t *req)
{
  api_problem_t p;
  if (req->status)
    return;
  if (req->route_status == 404)
    api_problem (&p, 404, NULL, "no resource at this path");
  else if (req->route_status == 405)
    api_problem (&p, 405, NULL, "method %s is not allowed here", req->method);
  else if (req->body_too_large)
    api_problem (&p, 413, NULL, "the body exceeds %ld bytes", req->cfg->api_max_body_bytes);
  else if ((req->route->body == API_BODY_JSON
            || (req->route->body == API_BODY_JSON_OPTIONAL && req->body_len > 0))
           && !api_content_is (req, "application/json"))
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
s_answer (s_request_t *r, struct MHD_Connection *conn)
{
  char number[16];
  api_request_t *req = &r->req;
  req->body = r->body.data ? r->body.data : "";
  req->body_len = r->body.len;
  s_dispatch (req);
  api_limit_answered (req);     /* a refused credential: counted, maybe 429 */
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
  if (req->link[0])
    MHD_add_response_header (resp, "Link", req->link);
  if (req->set_cookie[0])
    MHD_add_response_header (resp, MHD_HTTP_HEADER_SET_COOKIE, req->set_cookie);
  if (req->etag[0])
    MHD_add_response_header (resp, MHD_HTTP_HEADER_ETAG, req->etag);
  if (req->cache_control)
    MHD_add_response_header (resp, MHD_HTTP_HEADER_CACHE_CONTROL, req->cache_control);
  /* Every answer, the inbox's page (api_web.c) and the JSON alike: no script
   * or style but the server's own files, no plugin, no framing, no sniffing. */
  MHD_add_response_header (resp, "Content-Security-Policy", S_CSP);
  MHD_add_response_header (resp, "X-Content-Type-Options", "nosniff");
  if (req->status == 401)
    MHD_add_response_header (resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"atende\"");
  enum MHD_Result rc = MHD_queue_response (conn, (unsigned int) req->status, resp);
  MHD_destroy_response (resp);
  return rc;
}

static enum MHD_Result
s_access (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size,
          void **con_cls)
{
  s_request_t *r = *con_cls;
  if (!r) {
    r = s_request_new (cls, conn, method, url);
    *con_cls = r;
    /* The address's limits, the door, the caller's limit (api_limit.h),
     * then a declared body over the cap: refused before the body is read. */
    if (!api_limit_before (&r->req)
        || (r->req.route && (!api_auth_admit (&r->req) || !api_limit_caller (&r->req)
                             || r->req.body_too_large)))
      return s_answer (r, conn);
    return MHD_YES;
  }
  if (r->req.status) {
    *upload_data_size = 0;   /* answered early: the rest of the body is dropped */
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    s_request_body (r, upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  return s_answer (r, conn);
}

/* The path, safe for a key=value log line; a route's secret segment (a
 * survey link's token is a credential) stays out of the log as "-". */
static void
s_log_path (const api_request_t *req, char *out, size_t cap)
{
  size_t o = 0;
  bool secret = req->route && req->route->path_secret;
  const char *path = secret ? req->route->pattern : req->path;
  for (; path && *path && o + 1 < cap; path++) {
    unsigned char c = (unsigned char) *path;
    if (secret && path[0] == '{' && path[1] == '}') {
      out[o++] = '-';
      path++;
    }
    else
      out[o++] = (c > 32 && c < 127 && c != '"' && c != '\\') ? (char) c : '?';
  }
  out[o] = '\0';
}

static void
s_completed (void *cls, struct MHD_Connection *conn, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
  s_request_t *r = *con_cls;
  char path[160];
  if (!r)
    return;
  const api_request_t *req = &r->req;
  double seconds = (double) (at_mono_us () - req->start_us) / 1e6;
  s_log_path (req, path, sizeof path);
  at_info ("api", "msg=request method=%s path=%s status=%d ms=%.3f actor=%s request_id=%s%s",
           req->method, path, req->status, seconds * 1000,
           req->caller.actor[0] ? req->caller.actor : "-", req->request_id,
           toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
  if (req->status)
    api_metrics_request (req->route ? req->route->name : "unmatched", req->status, seconds);
  s_request_destroy (&r);
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
      /* more from one address are closed as soon as accepted */
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int) cfg->api_conn_per_addr,
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
  if (s_trusted_parse (cfg) != AT_OK)
    return 2;
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
