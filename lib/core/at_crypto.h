/* at_crypto: HMAC, base64, Standard Webhooks signatures and signed tokens
 * (OpenSSL). Comparisons of secrets are constant time. */
#ifndef AT_CRYPTO_H
#define AT_CRYPTO_H

#include "at_common.h"

/* Random bytes from the OS CSPRNG; AT_ERROR if it fails. */
int at_random_bytes (void *buf, size_t len);

/* Base64 (standard alphabet, padded). Encode returns the length written
 * (without NUL) or AT_ERROR if cap is too small. Decode accepts padded input
 * and returns the decoded length or AT_INVALID. */
int at_base64_encode (const void *data, size_t len, char *out, size_t cap);
int at_base64_decode (const char *text, size_t text_len, uint8_t *out, size_t cap);
/* URL-safe, unpadded variant (tokens in links). */
int at_base64url_encode (const void *data, size_t len, char *out, size_t cap);
int at_base64url_decode (const char *text, size_t text_len, uint8_t *out, size_t cap);

void at_hmac_sha256 (const void *key, size_t key_len, const void *data, size_t data_len,
                     uint8_t out[32]);
bool at_ct_equal (const void *a, const void *b, size_t len);

/* Standard Webhooks (standardwebhooks.com): secret is "whsec_" + base64 key.
 * Signs "<id>.<timestamp>.<body>" with HMAC-SHA256; out gets "v1,<base64>".
 * AT_INVALID for a malformed secret. */
int at_webhook_sign (const char *secret, const char *msg_id, long long timestamp,
                     const void *body, size_t body_len, char *out, size_t cap);
/* Verifies a webhook-signature header (space-separated "v1,<sig>" entries,
 * any may match) and that timestamp is within tolerance_s of now (0: skip).
 * AT_OK, AT_INVALID (bad signature or secret) or AT_STALE (outside window). */
int at_webhook_verify (const char *secret, const char *msg_id, const char *timestamp,
                       const void *body, size_t body_len, const char *signature_header,
                       long tolerance_s);

/* Signed tokens for links: "<payload>.<base64url HMAC-SHA256(key, payload)>".
 * payload must be URL-safe ([A-Za-z0-9_-]). Verify returns AT_OK and copies
 * the payload, or AT_INVALID. */
int at_token_sign (const char *key, const char *payload, char *out, size_t cap);
int at_token_verify (const char *key, const char *token, char *payload_out, size_t cap);

#endif
