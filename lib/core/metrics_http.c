/* at_metrics_http: a process's /metrics, /healthz and /readyz, served by
 * libmicrohttpd from its own thread (at_metrics.h). One thread serves every
 * connection, so collect and ready are never called at the same time. */
#include "at_metrics.h"
#include "at_common.h"
#include "at_log.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#define S_CONNECTIONS 64
#define S_TIMEOUT_S 10

struct at_metrics_http {
  struct MHD_Daemon *daemon;
  at_metrics_t *metrics;
  at_metrics_hooks_t hooks;
};

/* Queues body (owned) with status; frees it when it cannot. */
static enum MHD_Result
s_reply (struct MHD_Connection *conn, unsigned status, const char *type, char *body)
{
  struct MHD_Response *resp
      = MHD_create_response_from_buffer (strlen (body), body, MHD_RESPMEM_MUST_FREE);
  if (resp == NULL) {
    free (body);
    return MHD_NO;
  }
  MHD_add_response_header (resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  enum MHD_Result rc = MHD_queue_response (conn, status, resp);
  MHD_destroy_response (resp);
  return rc;
}

static enum MHD_Result
s_handle (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
  (void) version;
  (void) upload_data;
  (void) upload_data_size;
  (void) req_cls;
  at_metrics_http_t *self = cls;
  if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0)
    return s_reply (conn, 405, "text/plain", at_strdup ("method not allowed\n"));
  if (strcmp (url, "/metrics") == 0) {
    if (self->hooks.collect)
      self->hooks.collect (self->hooks.arg, self->metrics);
    return s_reply (conn, 200, "text/plain; version=0.0.4", at_metrics_render (self->metrics));
  }
  if (strcmp (url, "/healthz") == 0)
    return s_reply (conn, 200, "text/plain", at_strdup ("ok\n"));
  if (strcmp (url, "/readyz") == 0) {
    bool ready = self->hooks.ready == NULL || self->hooks.ready (self->hooks.arg);
    return ready ? s_reply (conn, 200, "text/plain", at_strdup ("ready\n"))
                 : s_reply (conn, 503, "text/plain", at_strdup ("not ready\n"));
  }
  return s_reply (conn, 404, "text/plain", at_strdup ("not found\n"));
}

at_metrics_http_t *
at_metrics_http_new (int port, at_metrics_t *metrics, const at_metrics_hooks_t *hooks,
                     const char *component)
{
  const char *comp = component ? component : "metrics";
  if (port <= 0 || port > 65535 || metrics == NULL) {
    at_error (comp, "msg=\"cannot serve metrics\" port=%d", port);
    return NULL;
  }
  at_metrics_http_t *self = at_calloc (1, sizeof *self);
  self->metrics = metrics;
  if (hooks)
    self->hooks = *hooks;
  self->daemon = MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
                                   (uint16_t) port, NULL, NULL, s_handle, self,
                                   MHD_OPTION_CONNECTION_LIMIT, (unsigned int) S_CONNECTIONS,
                                   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) S_TIMEOUT_S,
                                   MHD_OPTION_END);
  if (self->daemon == NULL) {
    at_error (comp, "msg=\"cannot serve metrics\" port=%d", port);
    free (self);
    return NULL;
  }
  return self;
}

void
at_metrics_http_destroy (at_metrics_http_t **self_p)
{
  if (self_p == NULL || *self_p == NULL)
    return;
  at_metrics_http_t *self = *self_p;
  MHD_stop_daemon (self->daemon);
  free (self);
  *self_p = NULL;
}
