/* at_webhook: Standard Webhooks signing of outgoing messages. notify
 * delivers through lib/outbound/provider_http.c, which signs with
 * at_webhook_headers_build; the delivery records are in at_notification.h. */
#ifndef AT_WEBHOOK_H
#define AT_WEBHOOK_H

#include "at_common.h"

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

#endif
