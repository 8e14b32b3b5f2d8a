/* at_sender: runs a batch's provider calls concurrently with libcurl's multi
 * interface. The easy handles live as long as the sender, and the multi's
 * connection cache keeps connections (HTTP keep-alive, SMTP sessions) open
 * from one batch to the next. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include "at_provider.h"
#include "at_webhook.h"
#include "at_log.h"

#define S_COMP "provider"
#define S_URL_MAX 1024
#define S_TICK_MS 200

typedef struct {
  CURL *easy;
  at_provider_call_t *call;          /* NULL: free */
  struct curl_slist *headers, *rcpt;
  char *payload;                     /* request body or mail */
  size_t payload_len, payload_off;
  char answer[AT_PROVIDER_ANSWER_MAX + 1];
  size_t answer_len;
  char retry_after[64];
  char curl_error[CURL_ERROR_SIZE];
} s_slot_t;

struct at_sender {
  CURLM *multi;
  size_t concurrency;
  s_slot_t *slots;
  long connects;
};

at_sender_t *
at_sender_new (long concurrency)
{
  if (concurrency < 1 || curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return NULL;
  at_sender_t *self = at_calloc (1, sizeof *self);
  self->concurrency = (size_t) concurrency;
  self->multi = curl_multi_init ();
  self->slots = at_calloc (self->concurrency, sizeof *self->slots);
  bool ok = self->multi != NULL;
  for (size_t i = 0; ok && i < self->concurrency; i++)
    ok = (self->slots[i].easy = curl_easy_init ()) != NULL;
  if (ok) {
    curl_multi_setopt (self->multi, CURLMOPT_MAXCONNECTS, concurrency * 2);
    curl_multi_setopt (self->multi, CURLMOPT_MAX_HOST_CONNECTIONS, concurrency);
  } else {
    at_error (S_COMP, "msg=\"curl handles could not be created\"");
    at_sender_destroy (&self);
  }
  return self;
}

static void
s_slot_reset (at_sender_t *self, s_slot_t *slot)
{
  if (slot->call)
    curl_multi_remove_handle (self->multi, slot->easy);
  curl_slist_free_all (slot->headers);
  curl_slist_free_all (slot->rcpt);
  free (slot->payload);
  slot->headers = slot->rcpt = NULL;
  slot->payload = NULL;
  slot->call = NULL;
}

void
at_sender_destroy (at_sender_t **self_p)
{
  if (!self_p || !*self_p)
    return;
  at_sender_t *self = *self_p;
  for (size_t i = 0; self->slots && i < self->concurrency; i++) {
    s_slot_reset (self, &self->slots[i]);
    if (self->slots[i].easy)
      curl_easy_cleanup (self->slots[i].easy);
  }
  if (self->multi)
    curl_multi_cleanup (self->multi);
  free (self->slots);
  free (self);
  curl_global_cleanup ();
  *self_p = NULL;
}

long
at_sender_connects (const at_sender_t *self)
{
  return self->connects;
}

static size_t
s_on_answer (char *data, size_t size, size_t nmemb, void *arg)
{
  s_slot_t *slot = arg;
  size_t len = size * nmemb;
  size_t room = AT_PROVIDER_ANSWER_MAX - slot->answer_len;
  size_t take = len < room ? len : room;
  memcpy (slot->answer + slot->answer_len, data, take);
  slot->answer_len += take;
  slot->answer[slot->answer_len] = 0;
  return len;
}

static size_t
s_on_header (char *data, size_t size, size_t nmemb, void *arg)
{
  s_slot_t *slot = arg;
  size_t len = size * nmemb;
  if (len > 12 && strncasecmp (data, "Retry-After:", 12) == 0) {
    size_t n = len - 12 < sizeof slot->retry_after - 1 ? len - 12 : sizeof slot->retry_after - 1;
    memcpy (slot->retry_after, data + 12, n);
    slot->retry_after[n] = 0;
    slot->retry_after[strcspn (slot->retry_after, "\r\n")] = 0;
  }
  return len;
}

static size_t
s_on_read (char *buf, size_t size, size_t nmemb, void *arg)
{
  s_slot_t *slot = arg;
  size_t room = size * nmemb, left = slot->payload_len - slot->payload_off;
  size_t take = left < room ? left : room;
  memcpy (buf, slot->payload + slot->payload_off, take);
  slot->payload_off += take;
  return take;
}

static struct curl_slist *
s_header (struct curl_slist *list, const char *name, const char *value)
{
  char line[600];
  snprintf (line, sizeof line, "%s: %s", name, value);
  return curl_slist_append (list, line);
}

/* URL, headers and body of an HTTP provider's request. AT_INVALID: the
 * message cannot be written for this provider (permanent). */
static int
s_http_request (s_slot_t *slot, at_provider_t *p, at_provider_msg_t *m, char *url)
{
  const at_provider_conf_t *c = at_provider_conf (p);
  struct curl_slist *h = curl_slist_append (NULL, "Expect:");
  CURL *e = slot->easy;
  switch (at_provider_kind (p)) {
  case AT_PROVIDER_WHATSAPP: {
    snprintf (url, S_URL_MAX, "%s/%s/%s/messages", c->url, c->api_version, c->account);
    char auth[512];
    snprintf (auth, sizeof auth, "Bearer %s", c->token);
    h = s_header (h, "Authorization", auth);
    h = curl_slist_append (h, "Content-Type: application/json");
    slot->payload = at_provider_whatsapp_body (m);
    break;
  }
  case AT_PROVIDER_TWILIO:
    snprintf (url, S_URL_MAX, "%s/2010-04-01/Accounts/%s/Messages.json", c->url, c->account);
    h = curl_slist_append (h, "Content-Type: application/x-www-form-urlencoded");
    curl_easy_setopt (e, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
    curl_easy_setopt (e, CURLOPT_USERNAME, c->account);
    curl_easy_setopt (e, CURLOPT_PASSWORD, c->token);
    slot->payload = at_provider_twilio_body (m, c->from, c->status_callback);
    break;
  case AT_PROVIDER_WEBHOOK:
  default: {
    at_strlcpy (url, c->url, S_URL_MAX);
    slot->payload = at_provider_webhook_body (m);
    at_webhook_headers_t wh;
    if (slot->payload
        && at_webhook_headers_build (c->secret, m->id, (long long) (at_now_us () / 1000000),
                                     slot->payload, strlen (slot->payload), &wh) == AT_OK) {
      h = curl_slist_append (h, "Content-Type: application/json");
      h = curl_slist_append (h, wh.id);
      h = curl_slist_append (h, wh.timestamp);
      h = curl_slist_append (h, wh.signature);
    } else {
      free (slot->payload);
      slot->payload = NULL;
    }
  }
  }
  /* The notification id as an idempotency key for any provider that reads
   * one (the generic webhook has webhook-id; Meta and Twilio document none). */
  h = s_header (h, "Idempotency-Key", m->id);
  slot->headers = h;
  if (!slot->payload)
    return AT_INVALID;
  slot->payload_len = strlen (slot->payload);
  curl_easy_setopt (e, CURLOPT_POST, 1L);
  curl_easy_setopt (e, CURLOPT_POSTFIELDS, slot->payload);
  curl_easy_setopt (e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) slot->payload_len);
  curl_easy_setopt (e, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt (e, CURLOPT_HEADERFUNCTION, s_on_header);
  curl_easy_setopt (e, CURLOPT_HEADERDATA, slot);
  curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "http,https");
  return AT_OK;
}

static int
s_smtp_request (s_slot_t *slot, at_provider_t *p, at_provider_msg_t *m, char *url)
{
  const at_provider_conf_t *c = at_provider_conf (p);
  CURL *e = slot->easy;
  char addr[300];
  slot->payload = at_provider_smtp_message (m, c->from, c->message_id_domain, at_now_us ());
  if (!slot->payload)
    return AT_INVALID;
  slot->payload_len = strlen (slot->payload);
  at_strlcpy (url, c->url, S_URL_MAX);
  snprintf (addr, sizeof addr, "<%s>", m->to);
  slot->rcpt = curl_slist_append (NULL, addr);
  snprintf (addr, sizeof addr, "<%s>", c->from);
  curl_easy_setopt (e, CURLOPT_MAIL_FROM, addr);
  curl_easy_setopt (e, CURLOPT_MAIL_RCPT, slot->rcpt);
  curl_easy_setopt (e, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt (e, CURLOPT_READFUNCTION, s_on_read);
  curl_easy_setopt (e, CURLOPT_READDATA, slot);
  curl_easy_setopt (e, CURLOPT_INFILESIZE_LARGE, (curl_off_t) slot->payload_len);
  long tls = strcmp (c->tls, "none") == 0 ? (long) CURLUSESSL_NONE
             : strcmp (c->tls, "try") == 0 ? (long) CURLUSESSL_TRY : (long) CURLUSESSL_ALL;
  curl_easy_setopt (e, CURLOPT_USE_SSL, tls);
  if (c->account && *c->account) {
    curl_easy_setopt (e, CURLOPT_USERNAME, c->account);
    curl_easy_setopt (e, CURLOPT_PASSWORD, c->token);
  }
  curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  return AT_OK;
}

static int
s_slot_start (at_sender_t *self, s_slot_t *slot, at_provider_call_t *call)
{
  at_provider_msg_t *m = call->msg;
  const at_provider_conf_t *c = at_provider_conf (call->provider);
  char url[S_URL_MAX];
  m->status = 0;
  m->retry_after_ms = -1;
  m->error[0] = 0;
  m->provider_message_id[0] = 0;
  slot->answer_len = 0;
  slot->answer[0] = slot->retry_after[0] = slot->curl_error[0] = 0;
  slot->payload_off = 0;
  slot->call = NULL;
  CURL *e = slot->easy;
  curl_easy_reset (e);
  int rc = at_provider_kind (call->provider) == AT_PROVIDER_SMTP
               ? s_smtp_request (slot, call->provider, m, url)
               : s_http_request (slot, call->provider, m, url);
  if (rc != AT_OK) {
    s_slot_reset (self, slot);
    m->outcome = AT_INVALID;
    at_strlcpy (m->error, "message cannot be written for this provider", sizeof m->error);
    return rc;
  }
  curl_easy_setopt (e, CURLOPT_URL, url);
  curl_easy_setopt (e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
  curl_easy_setopt (e, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms);
  curl_easy_setopt (e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (e, CURLOPT_USERAGENT, "atende-notify/" ATENDE_VERSION);
  curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, s_on_answer);
  curl_easy_setopt (e, CURLOPT_WRITEDATA, slot);
  curl_easy_setopt (e, CURLOPT_ERRORBUFFER, slot->curl_error);
  curl_easy_setopt (e, CURLOPT_PRIVATE, slot);
  if (curl_multi_add_handle (self->multi, e) != CURLM_OK) {
    s_slot_reset (self, slot);
    m->outcome = AT_AGAIN;
    at_strlcpy (m->error, "curl_multi_add_handle failed", sizeof m->error);
    return AT_ERROR;
  }
  slot->call = call;
  return AT_OK;
}

static void
s_slot_finish (at_sender_t *self, s_slot_t *slot, CURLcode result)
{
  at_provider_msg_t *m = slot->call->msg;
  at_provider_t *p = slot->call->provider;
  long status = 0, connects = 0;
  curl_easy_getinfo (slot->easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo (slot->easy, CURLINFO_NUM_CONNECTS, &connects);
  self->connects += connects;
  m->status = status;
  m->retry_after_ms = at_provider_retry_after_ms (slot->retry_after[0] ? slot->retry_after
                                                                       : NULL,
                                                  at_now_us () / 1000000);
  if (at_provider_kind (p) == AT_PROVIDER_SMTP) {
    m->outcome = result == CURLE_OK ? AT_OK : status >= 400 ? at_provider_classify_smtp (status)
                                                             : AT_AGAIN;
    if (m->outcome == AT_OK)
      snprintf (m->provider_message_id, sizeof m->provider_message_id, "<atende.%s@%.80s>",
                m->id, at_provider_conf (p)->message_id_domain);
  } else if (result != CURLE_OK) {
    m->outcome = AT_AGAIN;
    m->status = 0;
  } else if (at_provider_kind (p) == AT_PROVIDER_WHATSAPP)
    at_provider_whatsapp_answer (m, status, slot->answer, slot->answer_len);
  else if (at_provider_kind (p) == AT_PROVIDER_TWILIO)
    at_provider_twilio_answer (m, status, slot->answer, slot->answer_len);
  else
    at_provider_webhook_answer (m, status, slot->answer, slot->answer_len);
  if (result != CURLE_OK && m->outcome != AT_OK)
  {
    at_strlcpy (m->error, slot->curl_error[0] ? slot->curl_error : curl_easy_strerror (result),
                sizeof m->error);
    size_t used = strlen (m->error);
    if (status && used + 2 < sizeof m->error) {
      at_strlcpy (m->error + used, ": ", sizeof m->error - used);
      at_strlcpy (m->error + used + 2, slot->answer, sizeof m->error - used - 2);
    }
  }
  at_debug (S_COMP, "msg=\"call done\" provider=%s notification_id=%s status=%ld outcome=%d",
            at_provider_name (p), m->id, status, m->outcome);
  s_slot_reset (self, slot);
}

static s_slot_t *
s_slot_free (at_sender_t *self)
{
  for (size_t i = 0; i < self->concurrency; i++)
    if (!self->slots[i].call)
      return &self->slots[i];
  return NULL;
}

static void
s_fail_all (at_sender_t *self, at_provider_call_t *calls, size_t next, size_t n)
{
  for (size_t i = 0; i < self->concurrency; i++) {
    if (!self->slots[i].call)
      continue;
    self->slots[i].call->msg->outcome = AT_AGAIN;
    at_strlcpy (self->slots[i].call->msg->error, "curl multi failed", AT_PROVIDER_ERROR_LEN);
    s_slot_reset (self, &self->slots[i]);
  }
  for (; next < n; next++) {
    calls[next].msg->outcome = AT_AGAIN;
    at_strlcpy (calls[next].msg->error, "curl multi failed", AT_PROVIDER_ERROR_LEN);
  }
}

int
at_sender_run (at_sender_t *self, at_provider_call_t *calls, size_t n,
               const at_sender_hooks_t *hooks)
{
  static const at_sender_hooks_t none = {0};
  if (!hooks)
    hooks = &none;
  long tick_ms = hooks->tick_ms > 0 ? hooks->tick_ms : S_TICK_MS;
  size_t next = 0, active = 0;
  int64_t last_tick = at_mono_ms ();
  while (next < n || active > 0) {
    s_slot_t *slot;
    while (next < n && (slot = s_slot_free (self)) != NULL)
      if (s_slot_start (self, slot, &calls[next++]) == AT_OK)
        active++;
    int running = 0;
    CURLMcode mc = curl_multi_perform (self->multi, &running);
    CURLMsg *info;
    int left;
    while ((info = curl_multi_info_read (self->multi, &left)) != NULL) {
      if (info->msg != CURLMSG_DONE)
        continue;
      s_slot_t *done = NULL;
      curl_easy_getinfo (info->easy_handle, CURLINFO_PRIVATE, (char **) &done);
      at_provider_call_t *call = done->call;
      s_slot_finish (self, done, info->data.result);
      active--;
      if (hooks->done)
        hooks->done (call, hooks->arg);
    }
    if (mc == CURLM_OK && running > 0)
      mc = curl_multi_poll (self->multi, NULL, 0, (int) tick_ms, NULL);
    if (hooks->tick && at_mono_ms () - last_tick >= tick_ms) {
      hooks->tick (hooks->arg);
      last_tick = at_mono_ms ();
    }
    if (mc != CURLM_OK) {
      at_error (S_COMP, "msg=\"curl multi failed\" error=\"%s\"", curl_multi_strerror (mc));
      s_fail_all (self, calls, next, n);
      return AT_ERROR;
    }
  }
  return AT_OK;
}
