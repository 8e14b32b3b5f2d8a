/* at_webhook: delivery of outgoing messages to a provider as signed
 * Standard Webhooks POSTs (libcurl multi: concurrent, keep-alive reused
 * across batches), and the delivery records of notifications in the store
 * ("recorded before the call", "recorded after"; lib/store_notification.c). */
#ifndef AT_WEBHOOK_H
#define AT_WEBHOOK_H

#include "at_store.h"
#include "at_msg.h"

#define AT_WEBHOOK_ERROR_LEN 256
#define AT_WEBHOOK_HEADER_LEN 160

/* The signed headers of one delivery, each a whole "Name: value" line. */
typedef struct {
  char id[AT_WEBHOOK_HEADER_LEN];          /* webhook-id: <msg id> */
  char timestamp[AT_WEBHOOK_HEADER_LEN];   /* webhook-timestamp: <unix seconds> */
  char signature[AT_WEBHOOK_HEADER_LEN];   /* webhook-signature: v1,<base64> */
} at_webhook_headers_t;

/* Builds the headers; AT_INVALID for a malformed secret or an id that does
 * not fit (or holds CR/LF). */
int at_webhook_headers_build (const char *secret, const char *msg_id, long long timestamp,
                              const void *body, size_t body_len, at_webhook_headers_t *out);

/* True when secret is "whsec_" + base64 of at least 16 bytes. */
bool at_webhook_secret_valid (const char *secret);

/* What an answer means: AT_OK (2xx, delivered), AT_AGAIN (no answer,
 * 429, 5xx, anything else not 4xx: retry later), AT_INVALID (other 4xx:
 * permanent). http_status 0 means no answer (timeout, connection error). */
int at_webhook_classify (long http_status);

typedef struct {
  const char *id;              /* webhook-id, the idempotency key */
  const char *body;            /* JSON */
  size_t body_len;
  /* results */
  int outcome;                 /* at_webhook_classify, or AT_INVALID if not sent */
  long http_status;            /* 0: no answer */
  char error[AT_WEBHOOK_ERROR_LEN];
} at_webhook_request_t;

typedef struct at_webhook at_webhook_t;

/* A client for url; NULL (logged) when the secret is not valid. */
at_webhook_t *at_webhook_new (const char *url, const char *secret, long timeout_ms,
                              long concurrency);
void at_webhook_destroy (at_webhook_t **self_p);

/* POSTs the n requests, at most `concurrency` at once, and fills each one's
 * results. Returns AT_OK once every request has an outcome. */
int at_webhook_deliver (at_webhook_t *self, at_webhook_request_t *requests, size_t n);

/* --- delivery records (lib/store_notification.c) ------------------------ */

#define AT_NOTIFICATION_KIND_LEN 16
#define AT_NOTIFICATION_CHANNEL_LEN 16

/* A notification claimed for sending; strings are owned (free with
 * at_notification_job_clear). */
typedef struct {
  char id[AT_ID_LEN];
  char kind[AT_NOTIFICATION_KIND_LEN];
  char channel[AT_NOTIFICATION_CHANNEL_LEN];
  char *recipient;
  char *body;
  char *order_id;            /* NULL: none */
  int64_t ticket_id;         /* 0: none */
  int64_t created_us;
  int attempts;
} at_notification_job_t;

/* Recorded before the call: locks the notification; AT_NOTFOUND if there is
 * none, AT_CONFLICT if it is already delivered; otherwise marks it sending,
 * attempts + 1, sending_at now, and fills job. */
int at_store_notification_begin_send (at_store_t *store, const char *id,
                                      at_notification_job_t *job);
/* Recorded after: outcome AT_OK -> delivered; AT_AGAIN -> pending;
 * AT_INVALID -> failed; with http_status (0: NULL) and error ("": NULL). */
int at_store_notification_end_send (at_store_t *store, const char *id, int outcome,
                                    long http_status, const char *error);
void at_notification_job_clear (at_notification_job_t *job);

#endif
