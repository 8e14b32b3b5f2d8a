/* HMAC, base64, Standard Webhooks signatures and signed link tokens. */
#include "at_crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_KEY_MAX 256

int
at_random_bytes (void *buf, size_t len)
{
  return RAND_bytes (buf, (int) len) == 1 ? AT_OK : AT_ERROR;
}

int
at_base64_encode (const void *data, size_t len, char *out, size_t cap)
{
  size_t need = 4 * ((len + 2) / 3) + 1;
  if (cap < need)
    return AT_ERROR;
  return EVP_EncodeBlock ((unsigned char *) out, data, (int) len);
}

int
at_base64_decode (const char *text, size_t text_len, uint8_t *out, size_t cap)
{
  if (text_len == 0)
    return 0;
  if (text_len % 4 != 0 || cap < 3 * (text_len / 4))
    return AT_INVALID;
  for (size_t i = 0; i < text_len; i++) {
    char c = text[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
              || c == '+' || c == '/' || (c == '=' && i >= text_len - 2);
    if (!ok)
      return AT_INVALID;
  }
  int n = EVP_DecodeBlock (out, (const unsigned char *) text, (int) text_len);
  if (n < 0)
    return AT_INVALID;
  if (text[text_len - 1] == '=')
    n--;   /* EVP_DecodeBlock counts padding as zero bytes */
  if (text[text_len - 2] == '=')
    n--;
  return n;
}

int
at_base64url_encode (const void *data, size_t len, char *out, size_t cap)
{
  int n = at_base64_encode (data, len, out, cap);
  if (n < 0)
    return n;
  while (n > 0 && out[n - 1] == '=')
    out[--n] = '\0';
  for (int i = 0; i < n; i++)
    out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
  return n;
}

int
at_base64url_decode (const char *text, size_t text_len, uint8_t *out, size_t cap)
{
  if (text_len > 4096 || text_len % 4 == 1)
    return AT_INVALID;
  char buf[4100];
  size_t n = 0;
  for (size_t i = 0; i < text_len; i++) {
    char c = text[i];
    if (c == '+' || c == '/' || c == '=')
      return AT_INVALID;
    buf[n++] = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  while (n % 4 != 0)
    buf[n++] = '=';
  return at_base64_decode (buf, n, out, cap);
}

void
at_hmac_sha256 (const void *key, size_t key_len, const void *data, size_t data_len,
                uint8_t out[32])
{
  unsigned int len = 32;
  HMAC (EVP_sha256 (), key, (int) key_len, data, data_len, out, &len);
}

bool
at_ct_equal (const void *a, const void *b, size_t len)
{
  return CRYPTO_memcmp (a, b, len) == 0;
}

/* "whsec_<base64>" -> key bytes */
static int
s_webhook_key (const char *secret, uint8_t *key, size_t cap)
{
  const char *b64 = secret;
  if (strncmp (secret, "whsec_", 6) == 0)
    b64 = secret + 6;
  int n = at_base64_decode (b64, strlen (b64), key, cap);
  return n <= 0 ? AT_INVALID : n;
}

static int
s_webhook_mac (const char *secret, const char *msg_id, const char *timestamp, const void *body,
               size_t body_len, uint8_t mac[32])
{
  uint8_t key[S_KEY_MAX];
  int key_len = s_webhook_key (secret, key, sizeof key);
  if (key_len < 0)
    return AT_INVALID;
  /* HMAC over "<id>.<timestamp>.<body>", streamed so the body is not copied */
  EVP_MAC *evp = EVP_MAC_fetch (NULL, "HMAC", NULL);
  EVP_MAC_CTX *ctx = evp ? EVP_MAC_CTX_new (evp) : NULL;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string ("digest", "SHA256", 0),
                         OSSL_PARAM_construct_end ()};
  size_t out_len = 0;
  int ok = ctx && EVP_MAC_init (ctx, key, (size_t) key_len, params)
           && EVP_MAC_update (ctx, (const unsigned char *) msg_id, strlen (msg_id))
           && EVP_MAC_update (ctx, (const unsigned char *) ".", 1)
           && EVP_MAC_update (ctx, (const unsigned char *) timestamp, strlen (timestamp))
           && EVP_MAC_update (ctx, (const unsigned char *) ".", 1)
           && EVP_MAC_update (ctx, body, body_len) && EVP_MAC_final (ctx, mac, &out_len, 32);
  EVP_MAC_CTX_free (ctx);
  EVP_MAC_free (evp);
  OPENSSL_cleanse (key, sizeof key);
  return ok && out_len == 32 ? AT_OK : AT_ERROR;
}

int
at_webhook_sign (const char *secret, const char *msg_id, long long timestamp, const void *body,
                 size_t body_len, char *out, size_t cap)
{
  char ts[24];
  uint8_t mac[32];
  snprintf (ts, sizeof ts, "%lld", timestamp);
  int rc = s_webhook_mac (secret, msg_id, ts, body, body_len, mac);
  if (rc != AT_OK)
    return rc;
  if (cap < 4 + 45)
    return AT_ERROR;
  memcpy (out, "v1,", 3);
  return at_base64_encode (mac, sizeof mac, out + 3, cap - 3) < 0 ? AT_ERROR : AT_OK;
}

int
at_webhook_verify (const char *secret, const char *msg_id, const char *timestamp,
                   const void *body, size_t body_len, const char *header, long tolerance_s)
{
  long ts;
  if (!secret || !msg_id || !timestamp || !header
      || at_parse_long (timestamp, 0, 1L << 40, &ts) != AT_OK)
    return AT_INVALID;
  if (tolerance_s > 0 && labs ((long) time (NULL) - ts) > tolerance_s)
    return AT_STALE;
  uint8_t mac[32];
  if (s_webhook_mac (secret, msg_id, timestamp, body, body_len, mac) != AT_OK)
    return AT_INVALID;
  char expected[64];
  at_base64_encode (mac, sizeof mac, expected, sizeof expected);
  size_t exp_len = strlen (expected);
  /* the header holds space-separated "v1,<sig>" entries; any may match */
  for (const char *p = header; *p;) {
    while (*p == ' ')
      p++;
    const char *end = strchr (p, ' ');
    size_t len = end ? (size_t) (end - p) : strlen (p);
    if (len == exp_len + 3 && strncmp (p, "v1,", 3) == 0 && at_ct_equal (p + 3, expected, exp_len))
      return AT_OK;
    p += len;
  }
  return AT_INVALID;
}

static bool
s_url_safe (const char *s)
{
  if (*s == '\0')
    return false;
  for (; *s; s++)
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')
          || *s == '-' || *s == '_'))
      return false;
  return true;
}

int
at_token_sign (const char *key, const char *payload, char *out, size_t cap)
{
  if (!key || !*key || !s_url_safe (payload))
    return AT_INVALID;
  uint8_t mac[32];
  char sig[64];
  at_hmac_sha256 (key, strlen (key), payload, strlen (payload), mac);
  at_base64url_encode (mac, sizeof mac, sig, sizeof sig);
  int n = snprintf (out, cap, "%s.%s", payload, sig);
  return n < 0 || (size_t) n >= cap ? AT_ERROR : AT_OK;
}

int
at_token_verify (const char *key, const char *token, char *payload_out, size_t cap)
{
  if (!key || !*key || !token || strlen (token) > 512)
    return AT_INVALID;
  const char *dot = strrchr (token, '.');
  if (dot == NULL || (size_t) (dot - token) >= cap)
    return AT_INVALID;
  char payload[513];
  memcpy (payload, token, (size_t) (dot - token));
  payload[dot - token] = '\0';
  if (!s_url_safe (payload))
    return AT_INVALID;
  uint8_t mac[32], given[48];
  at_hmac_sha256 (key, strlen (key), payload, strlen (payload), mac);
  int n = at_base64url_decode (dot + 1, strlen (dot + 1), given, sizeof given);
  if (n != 32 || !at_ct_equal (mac, given, 32))
    return AT_INVALID;
  at_strlcpy (payload_out, payload, cap);
  return AT_OK;
}
