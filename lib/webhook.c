/* at_webhook: signed Standard Webhooks deliveries with libcurl's multi
 * interface. The easy handles live as long as the client, so connections
 * stay open (keep-alive) from one batch to the next. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include "at_webhook.h"
#include "at_crypto.h"
#include "at_log.h"

#define S_COMP "webhook"
#define S_ANSWER_MAX 200      /* bytes of a provider's answer kept for last_error */

typedef struct {
  CURL *easy;
  struct curl_slist *headers;
  at_webhook_request_t *request;
  char answer[S_ANSWER_MAX + 1];
  size_t answer_len;
  char curl_error[CURL_ERROR_SIZE];
} s_slot_t;

struct at_webhook {
  char *url;
  char *secret;
  long timeout_ms;
  size_t concurrency;
  CURLM *multi;
  s_slot_t *slots;
};

bool
at_webhook_secret_valid (const char *secret)
{
  uint8_t key[160];
  if (!secret || strncmp (secret, "whsec_", 6) != 0)
    return false;
  size_t len = strlen (secret + 6);
  if (len == 0 || len > 200)
    return false;
  int n = at_base64_decode (secret + 6, len, key, sizeof key);
  return n >= 16;
}

int
at_webhook_headers_build (const char *secret, const char *msg_id, long long timestamp,
                          const void *body, size_t body_len, at_webhook_headers_t *out)
{
  char signature[128];
  if (!msg_id || !*msg_id || strpbrk (msg_id, "\r\n") || strlen (msg_id) > 100)
    return AT_INVALID;
  int rc = at_webhook_sign (secret, msg_id, timestamp, body, body_len, signature,
                            sizeof signature);
  if (rc != AT_OK)
    return AT_INVALID;
  snprintf (out->id, sizeof out->id, "webhook-id: %s", msg_id);
  snprintf (out->timestamp, sizeof out->timestamp, "webhook-timestamp: %lld", timestamp);
  int n = snprintf (out->signature, sizeof out->signature, "webhook-signature: %s", signature);
  return n > 0 && (size_t) n < sizeof out->signature ? AT_OK : AT_INVALID;
}

int
at_webhook_classify (long http_status)
{
  if (http_status >= 200 && http_status < 300)
    return AT_OK;
  if (http_status == 408 || http_status == 429)
    return AT_AGAIN;
  if (http_status >= 400 && http_status < 500)
    return AT_INVALID;
  return AT_AGAIN;   /* no answer, 5xx, or an unexpected 1xx/3xx */
}

at_webhook_t *
at_webhook_new (const char *url, const char *secret, long timeout_ms, long concurrency)
{
  if (!at_webhook_secret_valid (secret)) {
    at_error (S_COMP, "msg=\"webhook secret is not a whsec_ secret (whsec_ + base64 of >= 16"
                      " bytes)\" setting=ATENDE_WEBHOOK_SECRET");
    return NULL;
  }
  if (!url || !*url || concurrency < 1) {
    at_error (S_COMP, "msg=\"webhook url or concurrency not set\"");
    return NULL;
  }
  if (curl_global_init (CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    at_error (S_COMP, "msg=\"curl_global_init failed\"");
    return NULL;
  }
  at_webhook_t *self = at_calloc (1, sizeof *self);
  self->url = at_strdup (url);
  self->secret = at_strdup (secret);
  self->timeout_ms = timeout_ms > 0 ? timeout_ms : 10000;
  self->concurrency = (size_t) concurrency;
  self->multi = curl_multi_init ();
  self->slots = at_calloc (self->concurrency, sizeof *self->slots);
  bool ok = self->multi != NULL;
  for (size_t i = 0; ok && i < self->concurrency; i++)
    ok = (self->slots[i].easy = curl_easy_init ()) != NULL;
  if (ok) {
    curl_multi_setopt (self->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, concurrency);
    curl_multi_setopt (self->multi, CURLMOPT_MAXCONNECTS, concurrency);
  }
  if (!ok) {
    at_error (S_COMP, "msg=\"curl handles could not be created\"");
    at_webhook_destroy (&self);
  }
  return self;
}

void
at_webhook_destroy (at_webhook_t **self_p)
{
  if (!self_p || !*self_p)
    return;
  at_webhook_t *self = *self_p;
  for (size_t i = 0; self->slots && i < self->concurrency; i++) {
    if (self->slots[i].request && self->multi)
      curl_multi_remove_handle (self->multi, self->slots[i].easy);
    if (self->slots[i].easy)
      curl_easy_cleanup (self->slots[i].easy);
    curl_slist_free_all (self->slots[i].headers);
  }
  if (self->multi)
    curl_multi_cleanup (self->multi);
  free (self->slots);
  if (self->secret)
    memset (self->secret, 0, strlen (self->secret));
  free (self->secret);
  free (self->url);
  free (self);
  curl_global_cleanup ();
  *self_p = NULL;
}

/* Keeps the first bytes of the answer (for last_error), discards the rest. */
static size_t
s_on_answer (char *data, size_t size, size_t nmemb, void *arg)
{
  s_slot_t *slot = arg;
  size_t len = size * nmemb;
  size_t room = S_ANSWER_MAX - slot->answer_len;
  size_t take = len < room ? len : room;
  for (size_t i = 0; i < take; i++) {
    unsigned char c = (unsigned char) data[i];
    slot->answer[slot->answer_len++] = c >= 0x20 && c < 0x7f ? (char) c : ' ';
  }
  slot->answer[slot->answer_len] = 0;
  return len;
}

static int
s_slot_start (at_webhook_t *self, s_slot_t *slot, at_webhook_request_t *req)
{
  at_webhook_headers_t h;
  req->http_status = 0;
  req->error[0] = 0;
  if (at_webhook_headers_build (self->secret, req->id, (long long) time (NULL), req->body,
                                req->body_len, &h) != AT_OK) {
    req->outcome = AT_INVALID;
    at_strlcpy (req->error, "notification id cannot be signed", sizeof req->error);
    return AT_INVALID;
  }
  struct curl_slist *list = NULL;
  const char *lines[] = {"Content-Type: application/json", "Expect:", h.id, h.timestamp,
                         h.signature};
  for (size_t i = 0; i < AT_ARRAY_LEN (lines); i++)
    list = curl_slist_append (list, lines[i]);
  CURL *e = slot->easy;
  curl_easy_reset (e);
  curl_easy_setopt (e, CURLOPT_URL, self->url);
  curl_easy_setopt (e, CURLOPT_POST, 1L);
  curl_easy_setopt (e, CURLOPT_POSTFIELDS, req->body);
  curl_easy_setopt (e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_len);
  curl_easy_setopt (e, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt (e, CURLOPT_TIMEOUT_MS, self->timeout_ms);
  curl_easy_setopt (e, CURLOPT_CONNECTTIMEOUT_MS, self->timeout_ms);
  curl_easy_setopt (e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (e, CURLOPT_USERAGENT, "atende-notify/" ATENDE_VERSION);
  curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, s_on_answer);
  curl_easy_setopt (e, CURLOPT_WRITEDATA, slot);
  curl_easy_setopt (e, CURLOPT_ERRORBUFFER, slot->curl_error);
  curl_easy_setopt (e, CURLOPT_PRIVATE, slot);
  curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "http,https");
  slot->headers = list;
  slot->request = req;
  slot->answer[0] = 0;
  slot->answer_len = 0;
  slot->curl_error[0] = 0;
  if (curl_multi_add_handle (self->multi, e) != CURLM_OK) {
    curl_slist_free_all (list);
    slot->headers = NULL;
    slot->request = NULL;
    req->outcome = AT_AGAIN;
    at_strlcpy (req->error, "curl_multi_add_handle failed", sizeof req->error);
    return AT_ERROR;
  }
  return AT_OK;
}

static void
s_slot_finish (at_webhook_t *self, s_slot_t *slot, CURLcode result)
{
  at_webhook_request_t *req = slot->request;
  long status = 0;
  if (result == CURLE_OK)
    curl_easy_getinfo (slot->easy, CURLINFO_RESPONSE_CODE, &status);
  req->http_status = status;
  req->outcome = at_webhook_classify (status);
  if (result != CURLE_OK)
    snprintf (req->error, sizeof req->error, "%s",
              slot->curl_error[0] ? slot->curl_error : curl_easy_strerror (result));
  else if (req->outcome != AT_OK)
    snprintf (req->error, sizeof req->error, "HTTP %ld: %s", status, slot->answer);
  at_debug (S_COMP, "msg=\"delivered\" id=%s http_status=%ld outcome=%d", req->id, status,
            req->outcome);
  curl_multi_remove_handle (self->multi, slot->easy);
  curl_slist_free_all (slot->headers);
  slot->headers = NULL;
  slot->request = NULL;
}

static s_slot_t *
s_slot_free (at_webhook_t *self)
{
  for (size_t i = 0; i < self->concurrency; i++)
    if (!self->slots[i].request)
      return &self->slots[i];
  return NULL;
}

int
at_webhook_deliver (at_webhook_t *self, at_webhook_request_t *requests, size_t n)
{
  size_t next = 0, active = 0;
  while (next < n || active > 0) {
    s_slot_t *slot;
    while (next < n && (slot = s_slot_free (self)) != NULL) {
      if (s_slot_start (self, slot, &requests[next++]) == AT_OK)
        active++;
    }
    int running = 0;
    CURLMcode mc = curl_multi_perform (self->multi, &running);
    CURLMsg *info;
    int left;
    while ((info = curl_multi_info_read (self->multi, &left)) != NULL) {
      if (info->msg != CURLMSG_DONE)
        continue;
      s_slot_t *done = NULL;
      curl_easy_getinfo (info->easy_handle, CURLINFO_PRIVATE, (char **) &done);
      s_slot_finish (self, done, info->data.result);
      active--;
    }
    if (mc == CURLM_OK && running > 0)
      mc = curl_multi_poll (self->multi, NULL, 0, 1000, NULL);
    if (mc != CURLM_OK) {
      at_error (S_COMP, "msg=\"curl multi failed\" error=\"%s\"", curl_multi_strerror (mc));
      for (size_t i = 0; i < self->concurrency; i++) {
        if (!self->slots[i].request)
          continue;
        self->slots[i].request->outcome = AT_AGAIN;
        at_strlcpy (self->slots[i].request->error, "curl multi failed", AT_WEBHOOK_ERROR_LEN);
        curl_multi_remove_handle (self->multi, self->slots[i].easy);
        curl_slist_free_all (self->slots[i].headers);
        self->slots[i].headers = NULL;
        self->slots[i].request = NULL;
      }
      for (; next < n; next++) {
        requests[next].outcome = AT_AGAIN;
        at_strlcpy (requests[next].error, "curl multi failed", AT_WEBHOOK_ERROR_LEN);
      }
      return AT_ERROR;
    }
  }
  return AT_OK;
}
