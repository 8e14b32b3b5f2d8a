/* at_webhook: the headers of a signed Standard Webhooks delivery. The
 * delivery itself is lib/outbound/provider_http.c (libcurl multi, keep-alive). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "at_webhook.h"
#include "at_crypto.h"

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
