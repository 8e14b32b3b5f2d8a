/* fake_http: a provider on 127.0.0.1 (see fakes.h). */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "fakes.h"

#define FAKE_SCRIPTS_MAX 64
#define FAKE_DETAIL_MAX 1024          /* requests kept in full */
#define FAKE_KEYS_MAX (1 << 18)       /* accepted idempotency keys kept */

typedef struct {
  char path_part[64];
  int status, hang_ms, times;
  char retry_after[64];
} fake_script_t;

struct fake_http {
  struct MHD_Daemon *daemon;
  int port;
  pthread_mutex_t lock;
  fake_script_t scripts[FAKE_SCRIPTS_MAX];
  int nscripts;
  int default_status, default_hang_ms;
  fake_request_t *detail;             /* FAKE_DETAIL_MAX */
  int count;                          /* all requests */
  unsigned long long epoch;           /* start time in ms: message ids unique across runs */
  char fixed_id[64];                  /* "": unique ids; else every WhatsApp answer's id */
  char (*keys)[40];                   /* FAKE_KEYS_MAX accepted keys */
  void (*on_request) (const char *path, const char *body, size_t len, void *arg);
  void *on_request_arg;
  int nkeys;
  int connections;
};

typedef struct {
  char body[FAKE_BODY_MAX];
  size_t len;
} fake_upload_t;

static long long
fake_now_us (void)
{
  struct timeval tv;
  gettimeofday (&tv, NULL);
  return (long long) tv.tv_sec * 1000000 + tv.tv_usec;
}

static void
fake_copy (char *out, size_t cap, const char *in)
{
  snprintf (out, cap, "%s", in ? in : "");
}

/* The answer for a request: the first matching script, else the default. */
static void
fake_pick (fake_http_t *self, const char *path, int *status, int *hang_ms, char *retry_after,
           size_t cap)
{
  *status = self->default_status;
  *hang_ms = self->default_hang_ms;
  retry_after[0] = 0;
  for (int i = 0; i < self->nscripts; i++) {
    fake_script_t *s = &self->scripts[i];
    if (s->times <= 0 || !strstr (path, s->path_part))
      continue;
    s->times--;
    *status = s->status;
    *hang_ms = s->hang_ms;
    fake_copy (retry_after, cap, s->retry_after);
    return;
  }
}

static const char *
fake_kind (const char *path)
{
  return strstr (path, "Messages.json") ? "twilio" : strstr (path, "/messages") ? "wa" : "hook";
}

/* What a provider answers; its message ids are unique across runs, as a
 * real provider's are (epoch: the fake's start time in ms). */
static char *
fake_body (const char *path, int status, unsigned long long epoch, const char *fixed_id, int seq)
{
  char *out = malloc (512);
  bool ok = status >= 200 && status < 300;
  const char *kind = fake_kind (path);
  if (strcmp (kind, "wa") == 0 && ok && fixed_id[0])
    snprintf (out, 512, "{\"messaging_product\":\"whatsapp\",\"contacts\":[{\"wa_id\":\"x\"}],"
              "\"messages\":[{\"id\":\"%s\"}]}", fixed_id);
  else if (strcmp (kind, "wa") == 0 && ok)
    snprintf (out, 512, "{\"messaging_product\":\"whatsapp\",\"contacts\":[{\"wa_id\":\"x\"}],"
              "\"messages\":[{\"id\":\"wamid.fake%llx.%d\"}]}", epoch, seq);
  else if (strcmp (kind, "wa") == 0)
    snprintf (out, 512, "{\"error\":{\"message\":\"(#131026) Message undeliverable\","
              "\"type\":\"OAuthException\",\"code\":%d,\"fbtrace_id\":\"f\"}}",
              status == 429 ? 130429 : 131026);
  else if (strcmp (kind, "twilio") == 0 && ok)
    snprintf (out, 512, "{\"sid\":\"SM%016llx%016x\",\"status\":\"queued\"}", epoch,
              (unsigned) seq);
  else if (strcmp (kind, "twilio") == 0)
    snprintf (out, 512, "{\"code\":%d,\"message\":\"The 'To' number is not valid.\","
              "\"status\":400}", status == 429 ? 20429 : 21211);
  else
    snprintf (out, 512, ok ? "{\"ok\":true}" : "{\"error\":\"no\"}");
  return out;
}

static int
fake_record (fake_http_t *self, struct MHD_Connection *c, const char *method, const char *url,
             const fake_upload_t *up)
{
  int seq = self->count++;
  if (seq >= FAKE_DETAIL_MAX)
    return seq;
  fake_request_t *r = &self->detail[seq];
  memset (r, 0, sizeof *r);
  fake_copy (r->method, sizeof r->method, method);
  fake_copy (r->path, sizeof r->path, url);
  fake_copy (r->authorization, sizeof r->authorization,
             MHD_lookup_connection_value (c, MHD_HEADER_KIND, "Authorization"));
  fake_copy (r->content_type, sizeof r->content_type,
             MHD_lookup_connection_value (c, MHD_HEADER_KIND, "Content-Type"));
  fake_copy (r->idempotency_key, sizeof r->idempotency_key,
             MHD_lookup_connection_value (c, MHD_HEADER_KIND, "Idempotency-Key"));
  fake_copy (r->webhook_id, sizeof r->webhook_id,
             MHD_lookup_connection_value (c, MHD_HEADER_KIND, "webhook-id"));
  fake_copy (r->webhook_signature, sizeof r->webhook_signature,
             MHD_lookup_connection_value (c, MHD_HEADER_KIND, "webhook-signature"));
  memcpy (r->body, up->body, up->len);
  r->body_len = up->len;
  r->at_us = fake_now_us ();
  return seq;
}

static enum MHD_Result
fake_handler (void *cls, struct MHD_Connection *c, const char *url, const char *method,
              const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
  fake_http_t *self = cls;
  fake_upload_t *up = *con_cls;
  if (!up) {
    *con_cls = calloc (1, sizeof *up);
    return *con_cls ? MHD_YES : MHD_NO;
  }
  if (*upload_size > 0) {
    size_t room = FAKE_BODY_MAX - 1 - up->len, take = *upload_size < room ? *upload_size : room;
    memcpy (up->body + up->len, upload, take);
    up->len += take;
    *upload_size = 0;
    return MHD_YES;
  }
  int status, hang_ms;
  char retry_after[64];
  pthread_mutex_lock (&self->lock);
  fake_pick (self, url, &status, &hang_ms, retry_after, sizeof retry_after);
  int seq = fake_record (self, c, method, url, up);
  if (self->on_request)
    self->on_request (url, up->body, up->len, self->on_request_arg);
  const char *key = MHD_lookup_connection_value (c, MHD_HEADER_KIND, "Idempotency-Key");
  if (status >= 200 && status < 300 && key && self->nkeys < FAKE_KEYS_MAX) {
    fake_copy (self->keys[self->nkeys++], sizeof self->keys[0], key);
  }
  if (seq < FAKE_DETAIL_MAX)
    self->detail[seq].answered = status;
  pthread_mutex_unlock (&self->lock);
  if (hang_ms > 0)
    usleep ((useconds_t) hang_ms * 1000);
  if (status == 0)
    return MHD_NO;   /* hang up without an answer */
  if (strstr (url, "Messages.json") && status == 200)
    status = 201;
  char fixed_id[sizeof self->fixed_id];
  pthread_mutex_lock (&self->lock);
  memcpy (fixed_id, self->fixed_id, sizeof fixed_id);
  pthread_mutex_unlock (&self->lock);
  char *text = fake_body (url, status, self->epoch, fixed_id, seq + 1);
  struct MHD_Response *r = MHD_create_response_from_buffer (strlen (text), text,
                                                            MHD_RESPMEM_MUST_FREE);
  MHD_add_response_header (r, "Content-Type", "application/json");
  if (retry_after[0])
    MHD_add_response_header (r, "Retry-After", retry_after);
  enum MHD_Result ret = MHD_queue_response (c, (unsigned) status, r);
  MHD_destroy_response (r);
  return ret;
}

static void
fake_completed (void *cls, struct MHD_Connection *c, void **con_cls,
                enum MHD_RequestTerminationCode toe)
{
  free (*con_cls);
  *con_cls = NULL;
}

static void
fake_on_connection (void *cls, struct MHD_Connection *c, void **socket_context,
                    enum MHD_ConnectionNotificationCode code)
{
  fake_http_t *self = cls;
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    pthread_mutex_lock (&self->lock);
    self->connections++;
    pthread_mutex_unlock (&self->lock);
  }
}

void
fake_http_fixed_message_id (fake_http_t *self, const char *id)
{
  pthread_mutex_lock (&self->lock);
  snprintf (self->fixed_id, sizeof self->fixed_id, "%s", id ? id : "");
  pthread_mutex_unlock (&self->lock);
}

fake_http_t *
fake_http_start (int port)
{
  fake_http_t *self = calloc (1, sizeof *self);
  pthread_mutex_init (&self->lock, NULL);
  self->port = port;
  self->default_status = 200;
  struct timespec now;
  clock_gettime (CLOCK_REALTIME, &now);
  self->epoch = (unsigned long long) now.tv_sec * 1000ULL
                + (unsigned long long) now.tv_nsec / 1000000ULL;
  self->detail = calloc (FAKE_DETAIL_MAX, sizeof *self->detail);
  self->keys = calloc (FAKE_KEYS_MAX, sizeof *self->keys);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) port)};
  inet_pton (AF_INET, "127.0.0.1", &addr.sin_addr);
  self->daemon = MHD_start_daemon (
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, (uint16_t) port, NULL,
      NULL, fake_handler, self, MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
      MHD_OPTION_NOTIFY_COMPLETED, fake_completed, NULL, MHD_OPTION_NOTIFY_CONNECTION,
      fake_on_connection, self, MHD_OPTION_CONNECTION_TIMEOUT, 30U, MHD_OPTION_END);
  if (!self->daemon) {
    fake_http_stop (&self);
    return NULL;
  }
  return self;
}

void
fake_http_stop (fake_http_t **self_p)
{
  if (!self_p || !*self_p)
    return;
  fake_http_t *self = *self_p;
  if (self->daemon)
    MHD_stop_daemon (self->daemon);
  free (self->detail);
  free (self->keys);
  pthread_mutex_destroy (&self->lock);
  free (self);
  *self_p = NULL;
}

int
fake_http_port (const fake_http_t *self)
{
  return self->port;
}

void
fake_http_script (fake_http_t *self, const char *path_part, int status, const char *retry_after,
                  int hang_ms, int times)
{
  pthread_mutex_lock (&self->lock);
  if (self->nscripts < FAKE_SCRIPTS_MAX) {
    fake_script_t *s = &self->scripts[self->nscripts++];
    fake_copy (s->path_part, sizeof s->path_part, path_part);
    fake_copy (s->retry_after, sizeof s->retry_after, retry_after);
    s->status = status;
    s->hang_ms = hang_ms;
    s->times = times;
  }
  pthread_mutex_unlock (&self->lock);
}

void
fake_http_default (fake_http_t *self, int status, int hang_ms)
{
  pthread_mutex_lock (&self->lock);
  self->default_status = status;
  self->default_hang_ms = hang_ms;
  pthread_mutex_unlock (&self->lock);
}

int
fake_http_count (fake_http_t *self)
{
  pthread_mutex_lock (&self->lock);
  int n = self->count;
  pthread_mutex_unlock (&self->lock);
  return n;
}

bool
fake_http_get (fake_http_t *self, int i, fake_request_t *out)
{
  pthread_mutex_lock (&self->lock);
  bool ok = i >= 0 && i < self->count && i < FAKE_DETAIL_MAX;
  if (ok)
    *out = self->detail[i];
  pthread_mutex_unlock (&self->lock);
  return ok;
}

int
fake_http_accepted (fake_http_t *self, const char *path_part)
{
  int n = 0;
  pthread_mutex_lock (&self->lock);
  for (int i = 0; i < self->count && i < FAKE_DETAIL_MAX; i++)
    if (self->detail[i].answered >= 200 && self->detail[i].answered < 300
        && strstr (self->detail[i].path, path_part))
      n++;
  pthread_mutex_unlock (&self->lock);
  return n;
}

static int
fake_key_cmp (const void *a, const void *b)
{
  return strcmp (a, b);
}

/* Counts over the sorted accepted keys: distinct ones and those seen twice+. */
static void
fake_key_counts (fake_http_t *self, int *distinct, int *twice)
{
  pthread_mutex_lock (&self->lock);
  int n = self->nkeys;
  char (*sorted)[40] = malloc ((size_t) (n ? n : 1) * sizeof *sorted);
  memcpy (sorted, self->keys, (size_t) n * sizeof *sorted);
  pthread_mutex_unlock (&self->lock);
  qsort (sorted, (size_t) n, sizeof *sorted, fake_key_cmp);
  *distinct = *twice = 0;
  for (int i = 0; i < n; i++) {
    bool same_as_prev = i > 0 && strcmp (sorted[i], sorted[i - 1]) == 0;
    if (!same_as_prev)
      (*distinct)++;
    else if (i < 2 || strcmp (sorted[i - 1], sorted[i - 2]) != 0)
      (*twice)++;
  }
  free (sorted);
}

int
fake_http_accepted_twice (fake_http_t *self)
{
  int distinct, twice;
  fake_key_counts (self, &distinct, &twice);
  return twice;
}

int
fake_http_accepted_distinct (fake_http_t *self)
{
  int distinct, twice;
  fake_key_counts (self, &distinct, &twice);
  return distinct;
}

int
fake_http_connections (fake_http_t *self)
{
  pthread_mutex_lock (&self->lock);
  int n = self->connections;
  pthread_mutex_unlock (&self->lock);
  return n;
}

void
fake_http_dump (fake_http_t *self)
{
  pthread_mutex_lock (&self->lock);
  for (int i = 0; i < self->count && i < FAKE_DETAIL_MAX; i++)
    fprintf (stderr, "fake got #%d: %s %s answered=%d key=%s auth=%.40s body=%.300s\n", i,
             self->detail[i].method, self->detail[i].path, self->detail[i].answered,
             self->detail[i].idempotency_key, self->detail[i].authorization,
             self->detail[i].body);
  pthread_mutex_unlock (&self->lock);
}

void
fake_http_on_request (fake_http_t *self,
                      void (*cb) (const char *path, const char *body, size_t len, void *arg),
                      void *arg)
{
  pthread_mutex_lock (&self->lock);
  self->on_request = cb;
  self->on_request_arg = arg;
  pthread_mutex_unlock (&self->lock);
}
