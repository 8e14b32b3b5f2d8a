/* lib/webhook.c against a real HTTP server on loopback playing the provider:
 * it verifies every Standard Webhooks signature, records each request and
 * answers 200, 500 or 400 depending on the notification id. The batch's
 * outcomes must follow the answers, and a second batch must reuse the
 * connections of the first (keep-alive). */
#include <microhttpd.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include "it.h"
#include "at_webhook.h"
#include "at_crypto.h"

#define S_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define S_MAX_REQUESTS 32
#define S_BODY_MAX 4096

typedef struct {
  char url[64], method[8], content_type[64], id[64], timestamp[32], body[S_BODY_MAX];
  int verified;                 /* at_webhook_verify's answer */
  int answered;                 /* status sent back */
} s_request_t;

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static s_request_t s_requests[S_MAX_REQUESTS];
static int s_nrequests;
static int s_connections;

typedef struct { char body[S_BODY_MAX]; size_t len; bool overflow; } s_upload_t;

static int
s_status_for (const char *id)
{
  if (strncmp (id, "bad-", 4) == 0)
    return 400;
  if (strncmp (id, "busy-", 5) == 0)
    return 500;
  return 200;
}

static void
s_on_connection (void *cls, struct MHD_Connection *c, void **socket_context,
                 enum MHD_ConnectionNotificationCode code)
{
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    pthread_mutex_lock (&s_lock);
    s_connections++;
    pthread_mutex_unlock (&s_lock);
  }
}

static enum MHD_Result
s_answer (struct MHD_Connection *c, int status)
{
  const char *text = status == 200 ? "{\"ok\":true}" : "{\"error\":\"no\"}";
  struct MHD_Response *r = MHD_create_response_from_buffer (strlen (text), (void *) text,
                                                            MHD_RESPMEM_PERSISTENT);
  enum MHD_Result ret = MHD_queue_response (c, (unsigned) status, r);
  MHD_destroy_response (r);
  return ret;
}

static void
s_record (struct MHD_Connection *c, const char *url, const char *method, s_upload_t *up,
          int status)
{
  const char *h_id = MHD_lookup_connection_value (c, MHD_HEADER_KIND, "webhook-id");
  const char *h_ts = MHD_lookup_connection_value (c, MHD_HEADER_KIND, "webhook-timestamp");
  const char *h_sig = MHD_lookup_connection_value (c, MHD_HEADER_KIND, "webhook-signature");
  const char *h_ct = MHD_lookup_connection_value (c, MHD_HEADER_KIND, "Content-Type");
  pthread_mutex_lock (&s_lock);
  if (s_nrequests < S_MAX_REQUESTS) {
    s_request_t *r = &s_requests[s_nrequests++];
    snprintf (r->url, sizeof r->url, "%s", url);
    snprintf (r->method, sizeof r->method, "%s", method);
    snprintf (r->content_type, sizeof r->content_type, "%s", h_ct ? h_ct : "");
    snprintf (r->id, sizeof r->id, "%s", h_id ? h_id : "");
    snprintf (r->timestamp, sizeof r->timestamp, "%s", h_ts ? h_ts : "");
    memcpy (r->body, up->body, up->len);
    r->body[up->len] = 0;
    r->verified = h_id && h_ts && h_sig
                    ? at_webhook_verify (S_SECRET, h_id, h_ts, up->body, up->len, h_sig, 300)
                    : AT_INVALID;
    r->answered = status;
  }
  pthread_mutex_unlock (&s_lock);
}

static enum MHD_Result
s_handler (void *cls, struct MHD_Connection *c, const char *url, const char *method,
           const char *version, const char *data, size_t *size, void **con_cls)
{
  s_upload_t *up = *con_cls;
  if (!up) {
    *con_cls = calloc (1, sizeof (s_upload_t));
    return MHD_YES;
  }
  if (*size > 0) {
    if (up->len + *size < S_BODY_MAX) {
      memcpy (up->body + up->len, data, *size);
      up->len += *size;
    } else
      up->overflow = true;
    *size = 0;
    return MHD_YES;
  }
  const char *id = MHD_lookup_connection_value (c, MHD_HEADER_KIND, "webhook-id");
  int status = up->overflow ? 413 : s_status_for (id ? id : "");
  s_record (c, url, method, up, status);
  return s_answer (c, status);
}

static void
s_completed (void *cls, struct MHD_Connection *c, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
  free (*con_cls);
  *con_cls = NULL;
}

static const s_request_t *
s_find (const char *id)
{
  for (int i = 0; i < s_nrequests; i++)
    if (strcmp (s_requests[i].id, id) == 0)
      return &s_requests[i];
  return NULL;
}

static char *
s_body_for (const char *id, const char *text)
{
  json_t *o = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:n, s:s}", "id", id, "type",
                         "message.send", "kind", "reply", "channel", "whatsapp", "to",
                         "+5511999990000", "text", text, "ticket_id", (json_int_t) 42,
                         "order_id", "created_at", "2026-11-22T18:00:00.000000Z");
  char *s = json_dumps (o, JSON_COMPACT);
  json_decref (o);
  return s;
}

static void
s_check_batch (at_webhook_t *client, const char *const *ids, const int *want_outcome,
               const long *want_status, size_t n)
{
  at_webhook_request_t reqs[8];
  char *bodies[8];
  IT_CHECK (n <= 8, "batch too big");
  for (size_t i = 0; i < n; i++) {
    bodies[i] = s_body_for (ids[i], "Olá! Seu pedido A-1 foi enviado.");
    reqs[i] = (at_webhook_request_t) {.id = ids[i], .body = bodies[i],
                                      .body_len = strlen (bodies[i])};
  }
  IT_CHECK (at_webhook_deliver (client, reqs, n) == AT_OK, "deliver failed");
  pthread_mutex_lock (&s_lock);
  for (size_t i = 0; i < n; i++) {
    IT_CHECK (reqs[i].outcome == want_outcome[i], "%s: outcome %d, want %d (%s)", ids[i],
              reqs[i].outcome, want_outcome[i], reqs[i].error);
    IT_CHECK (reqs[i].http_status == want_status[i], "%s: status %ld", ids[i],
              reqs[i].http_status);
    if (want_outcome[i] != AT_OK)
      IT_CHECK (strstr (reqs[i].error, "HTTP") != NULL, "%s: error \"%s\"", ids[i],
                reqs[i].error);
    const s_request_t *r = s_find (ids[i]);
    IT_CHECK (r != NULL, "%s never reached the provider", ids[i]);
    IT_CHECK (strcmp (r->url, "/hooks/atende") == 0, "url %s", r->url);
    IT_CHECK (strcmp (r->method, "POST") == 0, "method %s", r->method);
    IT_CHECK (strcmp (r->content_type, "application/json") == 0, "type %s", r->content_type);
    IT_CHECK (r->verified == AT_OK, "%s: signature does not verify (%d)", ids[i], r->verified);
    IT_CHECK (strcmp (r->body, bodies[i]) == 0, "%s: body %s", ids[i], r->body);
    IT_CHECK (r->answered == want_status[i], "answered %d", r->answered);
    free (bodies[i]);
  }
  pthread_mutex_unlock (&s_lock);
}

int
main (void)
{
  int port = it_free_port ();
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) port)};
  inet_pton (AF_INET, "127.0.0.1", &addr.sin_addr);
  struct MHD_Daemon *d = MHD_start_daemon (
    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t) port, NULL, NULL,
    s_handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
    MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL,
    MHD_OPTION_NOTIFY_CONNECTION, s_on_connection, NULL, MHD_OPTION_END);
  IT_CHECK (d != NULL, "provider server did not start on port %d", port);

  char url[128];
  snprintf (url, sizeof url, "http://127.0.0.1:%d/hooks/atende", port);
  at_webhook_t *client = at_webhook_new (url, S_SECRET, 5000, 4);
  IT_CHECK (client != NULL, "client not created");

  const char *ids1[] = {"ok-1", "busy-1", "bad-1", "ok-2"};
  const int out1[] = {AT_OK, AT_AGAIN, AT_INVALID, AT_OK};
  const long st1[] = {200, 500, 400, 200};
  s_check_batch (client, ids1, out1, st1, 4);
  pthread_mutex_lock (&s_lock);
  int after_first = s_connections;
  pthread_mutex_unlock (&s_lock);
  IT_CHECK (after_first >= 1 && after_first <= 4, "connections %d", after_first);

  const char *ids2[] = {"ok-3", "ok-4", "bad-2"};
  const int out2[] = {AT_OK, AT_OK, AT_INVALID};
  const long st2[] = {200, 200, 400};
  s_check_batch (client, ids2, out2, st2, 3);
  pthread_mutex_lock (&s_lock);
  int after_second = s_connections;
  IT_CHECK (s_nrequests == 7, "provider saw %d requests", s_nrequests);
  pthread_mutex_unlock (&s_lock);
  IT_CHECK (after_second == after_first, "keep-alive: %d connections after the second batch,"
            " %d after the first", after_second, after_first);
  at_webhook_destroy (&client);

  /* nobody listening: retryable, no status */
  MHD_stop_daemon (d);
  client = at_webhook_new (url, S_SECRET, 2000, 2);
  char *body = s_body_for ("down-1", "x");
  at_webhook_request_t down = {.id = "down-1", .body = body, .body_len = strlen (body)};
  IT_CHECK (at_webhook_deliver (client, &down, 1) == AT_OK, "deliver failed");
  IT_CHECK (down.outcome == AT_AGAIN && down.http_status == 0, "down: %d %ld", down.outcome,
            down.http_status);
  IT_CHECK (down.error[0] != 0, "down: no error text");
  free (body);
  at_webhook_destroy (&client);
  printf ("test_notify_webhook: ok\n");
  return 0;
}
