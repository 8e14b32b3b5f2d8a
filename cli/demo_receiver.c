/* demo_receiver: the providers' stand-in (see demo_receiver.h). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <assert.h>
#include <czmq.h>
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "demo_receiver.h"
#include "at_crypto.h"
#include "at_log.h"

#define S_BODY_MAX (64 * 1024)        /* larger requests are answered 413 */
#define S_DELIVERIES_MAX 20000        /* deliveries kept for demo_receiver_find */
#define S_SURVEYS_MAX 200000          /* survey links kept */
#define S_IDS_MAX 1000000             /* distinct webhook-ids remembered */
#define S_TOLERANCE_S 300

/* what notify sends to customers, then what it sends to the store (store.request) */
static const char *s_kinds[] = { "reply", "auto_reply", "order_status", "survey",
                                 "return_request", "cancel_request" };
#define S_KINDS 6

typedef struct {
  char link[DEMO_RECEIVER_LINK_MAX];
  int64_t ticket_id;
} s_survey_t;

struct demo_receiver {
  struct MHD_Daemon *daemon;
  char *secret;
  int port;
  char url[64];
  pthread_mutex_t lock;
  zhashx_t *ids;                      /* webhook-ids seen */
  long kind_count[S_KINDS + 1];       /* last slot: other kinds */
  long bad_signatures, duplicates, malformed, requests;
  demo_delivery_t *deliveries;        /* ring of the last S_DELIVERIES_MAX */
  size_t deliveries_n, deliveries_cap, deliveries_seen;
  s_survey_t *surveys;
  size_t surveys_n, surveys_cap, surveys_taken;
};

typedef struct {
  char *body;
  size_t len;
  bool too_big;
} s_request_t;

static int
s_kind_index (const char *kind)
{
  for (int i = 0; i < S_KINDS; i++)
    if (kind && strcmp (kind, s_kinds[i]) == 0)
      return i;
  return S_KINDS;
}

static enum MHD_Result
s_reply (struct MHD_Connection *conn, unsigned status)
{
  struct MHD_Response *r = MHD_create_response_from_buffer (0, "", MHD_RESPMEM_PERSISTENT);
  enum MHD_Result ret = MHD_queue_response (conn, status, r);
  MHD_destroy_response (r);
  return ret;
}

static void
s_copy_field (const json_t *doc, const char *field, char *out, size_t cap)
{
  const char *v = json_string_value (json_object_get (doc, field));
  at_strlcpy (out, v ? v : "", cap);
}

/* The first http(s) URL in text into out. */
static bool
s_find_link (const char *text, char *out, size_t cap)
{
  const char *p = strstr (text, "http://");
  if (!p)
    p = strstr (text, "https://");
  if (!p)
    return false;
  size_t n = strcspn (p, " \t\r\n\"'<>");
  while (n > 0 && strchr (".,;)", p[n - 1]))
    n--;   /* a link ending a sentence */
  if (n == 0 || n >= cap)
    return false;
  memcpy (out, p, n);
  out[n] = '\0';
  return true;
}

/* Records a delivery; lock held. */
static void
s_record (demo_receiver_t *self, const demo_delivery_t *d)
{
  self->kind_count[s_kind_index (d->kind)]++;
  if (self->deliveries_n < S_DELIVERIES_MAX) {
    if (self->deliveries_n == self->deliveries_cap) {
      self->deliveries_cap = self->deliveries_cap ? self->deliveries_cap * 2 : 256;
      self->deliveries = realloc (self->deliveries, self->deliveries_cap * sizeof *d);
      assert (self->deliveries);
    }
    self->deliveries[self->deliveries_n++] = *d;
  }
  else   /* keep the newest: overwrite round-robin */
    self->deliveries[self->deliveries_seen % S_DELIVERIES_MAX] = *d;
  self->deliveries_seen++;
  char link[DEMO_RECEIVER_LINK_MAX];
  if (strcmp (d->kind, "survey") == 0 && s_find_link (d->text, link, sizeof link)
      && self->surveys_n < S_SURVEYS_MAX) {
    if (self->surveys_n == self->surveys_cap) {
      self->surveys_cap = self->surveys_cap ? self->surveys_cap * 2 : 256;
      self->surveys = realloc (self->surveys, self->surveys_cap * sizeof (s_survey_t));
      assert (self->surveys);
    }
    at_strlcpy (self->surveys[self->surveys_n].link, link, DEMO_RECEIVER_LINK_MAX);
    self->surveys[self->surveys_n].ticket_id = d->ticket_id;
    self->surveys_n++;
  }
}

/* Verifies and records one complete request; returns the HTTP status. */
static unsigned
s_handle (demo_receiver_t *self, struct MHD_Connection *conn, const s_request_t *req)
{
  const char *id = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "webhook-id");
  const char *ts = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "webhook-timestamp");
  const char *sig = MHD_lookup_connection_value (conn, MHD_HEADER_KIND, "webhook-signature");
  if (!id || !ts || !sig || strlen (id) >= sizeof ((demo_delivery_t *) 0)->id) {
    pthread_mutex_lock (&self->lock);
    self->malformed++;
    pthread_mutex_unlock (&self->lock);
    return MHD_HTTP_BAD_REQUEST;
  }
  if (at_webhook_verify (self->secret, id, ts, req->body, req->len, sig, S_TOLERANCE_S) != AT_OK) {
    at_warn ("receiver", "msg=\"bad webhook signature\" webhook_id=%s", id);
    pthread_mutex_lock (&self->lock);
    self->bad_signatures++;
    pthread_mutex_unlock (&self->lock);
    return MHD_HTTP_UNAUTHORIZED;
  }
  json_t *doc = json_loadb (req->body ? req->body : "", req->len, 0, NULL);
  if (!json_is_object (doc)) {
    json_decref (doc);
    pthread_mutex_lock (&self->lock);
    self->malformed++;
    pthread_mutex_unlock (&self->lock);
    return MHD_HTTP_BAD_REQUEST;
  }
  demo_delivery_t *d = calloc (1, sizeof *d);
  assert (d);
  at_strlcpy (d->id, id, sizeof d->id);
  s_copy_field (doc, "kind", d->kind, sizeof d->kind);
  s_copy_field (doc, "channel", d->channel, sizeof d->channel);
  s_copy_field (doc, "to", d->to, sizeof d->to);
  s_copy_field (doc, "order_id", d->order_id, sizeof d->order_id);
  s_copy_field (doc, "text", d->text, sizeof d->text);
  json_t *tid = json_object_get (doc, "ticket_id");
  if (json_is_integer (tid))
    d->ticket_id = json_integer_value (tid);
  else if (json_is_string (tid))
    d->ticket_id = strtoll (json_string_value (tid), NULL, 10);
  json_decref (doc);

  pthread_mutex_lock (&self->lock);
  if (zhashx_lookup (self->ids, id))
    self->duplicates++;
  else {
    if (zhashx_size (self->ids) < S_IDS_MAX)
      zhashx_insert (self->ids, id, (void *) 1);
    s_record (self, d);
  }
  pthread_mutex_unlock (&self->lock);
  free (d);
  return MHD_HTTP_OK;
}

static enum MHD_Result
s_on_request (void *cls, struct MHD_Connection *conn, const char *url, const char *method,
              const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
  demo_receiver_t *self = cls;
  s_request_t *req = *con_cls;
  if (!req) {
    req = calloc (1, sizeof *req);
    if (!req)
      return MHD_NO;
    *con_cls = req;
    pthread_mutex_lock (&self->lock);
    self->requests++;
    pthread_mutex_unlock (&self->lock);
    return MHD_YES;
  }
  if (*upload_size > 0) {
    if (!req->too_big && req->len + *upload_size <= S_BODY_MAX) {
      char *grown = realloc (req->body, req->len + *upload_size + 1);
      if (!grown)
        return MHD_NO;
      req->body = grown;
      memcpy (req->body + req->len, upload_data, *upload_size);
      req->len += *upload_size;
      req->body[req->len] = '\0';
    }
    else
      req->too_big = true;
    *upload_size = 0;
    return MHD_YES;
  }
  if (strcmp (method, "POST") != 0)
    return s_reply (conn, MHD_HTTP_METHOD_NOT_ALLOWED);
  if (strcmp (url, "/hooks") != 0)
    return s_reply (conn, MHD_HTTP_NOT_FOUND);
  if (req->too_big)
    return s_reply (conn, MHD_HTTP_CONTENT_TOO_LARGE);
  return s_reply (conn, s_handle (self, conn, req));
}

static void
s_on_completed (void *cls, struct MHD_Connection *conn, void **con_cls,
                enum MHD_RequestTerminationCode toe)
{
  s_request_t *req = *con_cls;
  if (req) {
    free (req->body);
    free (req);
    *con_cls = NULL;
  }
}

demo_receiver_t *
demo_receiver_new (const char *secret, int port)
{
  uint8_t probe[64];
  if (!secret || at_webhook_sign (secret, "probe", 0, "", 0, (char *) probe, sizeof probe) != AT_OK) {
    at_error ("receiver", "msg=\"webhook secret is not a whsec_ secret\"");
    return NULL;
  }
  demo_receiver_t *self = at_calloc (1, sizeof *self);
  self->secret = at_strdup (secret);
  pthread_mutex_init (&self->lock, NULL);
  self->ids = zhashx_new ();
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  self->daemon = MHD_start_daemon (
      MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, s_on_request, self,
      MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
      MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) 2,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 1000,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 30,
      MHD_OPTION_NOTIFY_COMPLETED, s_on_completed, NULL,
      MHD_OPTION_END);
  if (!self->daemon) {
    at_error ("receiver", "msg=\"cannot listen\" port=%d", port);
    demo_receiver_destroy (&self);
    return NULL;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_BIND_PORT);
  self->port = info ? info->port : port;
  snprintf (self->url, sizeof self->url, "http://127.0.0.1:%d/hooks", self->port);
  return self;
}

void
demo_receiver_destroy (demo_receiver_t **self_p)
{
  if (!self_p || !*self_p)
    return;
  demo_receiver_t *self = *self_p;
  if (self->daemon)
    MHD_stop_daemon (self->daemon);
  zhashx_destroy (&self->ids);
  pthread_mutex_destroy (&self->lock);
  free (self->deliveries);
  free (self->surveys);
  free (self->secret);
  free (self);
  *self_p = NULL;
}

int
demo_receiver_port (demo_receiver_t *self)
{
  return self->port;
}

const char *
demo_receiver_url (demo_receiver_t *self)
{
  return self->url;
}

long
demo_receiver_count (demo_receiver_t *self, const char *kind)
{
  long n = 0;
  pthread_mutex_lock (&self->lock);
  if (kind)
    n = self->kind_count[s_kind_index (kind)];
  else
    for (int i = 0; i <= S_KINDS; i++)
      n += self->kind_count[i];
  pthread_mutex_unlock (&self->lock);
  return n;
}

#define S_GETTER(field) \
  long demo_receiver_##field (demo_receiver_t *self) \
  { \
    pthread_mutex_lock (&self->lock); \
    long n = self->field; \
    pthread_mutex_unlock (&self->lock); \
    return n; \
  }
S_GETTER (bad_signatures)
S_GETTER (duplicates)
S_GETTER (malformed)
S_GETTER (requests)

int
demo_receiver_find (demo_receiver_t *self, const char *kind, int64_t ticket_id,
                    demo_delivery_t *out)
{
  int rc = AT_NOTFOUND;
  pthread_mutex_lock (&self->lock);
  for (size_t i = self->deliveries_n; i-- > 0;) {
    const demo_delivery_t *d = &self->deliveries[i];
    if ((!kind || strcmp (d->kind, kind) == 0) && (ticket_id == 0 || d->ticket_id == ticket_id)) {
      *out = *d;
      rc = AT_OK;
      break;
    }
  }
  pthread_mutex_unlock (&self->lock);
  return rc;
}

int
demo_receiver_take_survey (demo_receiver_t *self, char *link_out, size_t cap,
                           int64_t *ticket_id_out)
{
  int rc = AT_NOTFOUND;
  pthread_mutex_lock (&self->lock);
  if (self->surveys_taken < self->surveys_n) {
    s_survey_t *s = &self->surveys[self->surveys_taken++];
    at_strlcpy (link_out, s->link, cap);
    if (ticket_id_out)
      *ticket_id_out = s->ticket_id;
    rc = AT_OK;
  }
  pthread_mutex_unlock (&self->lock);
  return rc;
}
