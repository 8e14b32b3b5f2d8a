/* at_webhook: Standard Webhooks signing of outgoing messages, and a simple
 * client POSTing them (libcurl multi: concurrent, keep-alive reused across
 * batches). notify delivers through lib/provider_http.c, which signs with
 * at_webhook_headers_build; the delivery records are in at_notification.h. */
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

#endif
