/* Providers' webhook signatures: Meta, Twilio, Mailgun (see at_channel_sig.h). */
#include "at_channel_sig.h"
#include "at_crypto.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char s_hexdigits[] = "0123456789abcdef";

static void
s_hex (const uint8_t *bytes, size_t len, char *out)
{
  for (size_t i = 0; i < len; i++) {
    out[2 * i] = s_hexdigits[bytes[i] >> 4];
    out[2 * i + 1] = s_hexdigits[bytes[i] & 15];
  }
  out[2 * len] = '\0';
}

/* Decodes exactly 2*len hex digits (either case); false otherwise. */
static bool
s_unhex (const char *text, uint8_t *out, size_t len)
{
  if (!text || strlen (text) != 2 * len)
    return false;
  for (size_t i = 0; i < 2 * len; i++) {
    char c = text[i];
    int v = c >= '0' && c <= '9' ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (v < 0)
      return false;
    if (i % 2 == 0)
      out[i / 2] = (uint8_t) (v << 4);
    else
      out[i / 2] |= (uint8_t) v;
  }
  return true;
}

/* --- secrets per account */

int
at_sig_secret_lookup (const at_list_t *secrets, const char *account, char *out, size_t cap)
{
  if (cap)
    out[0] = '\0';
  const char *secret = secrets ? at_list_lookup (secrets, account) : NULL;
  if (secret == NULL || cap == 0 || strlen (secret) >= cap)
    return AT_NOTFOUND;
  at_strlcpy (out, secret, cap);
  return AT_OK;
}

/* --- Meta */

int
at_sig_meta_sign (const char *app_secret, const void *body, size_t len, char *out, size_t cap)
{
  uint8_t mac[32];
  if (cap < 7 + 64 + 1)
    return AT_ERROR;
  at_hmac_sha256 (app_secret, strlen (app_secret), body, len, mac);
  memcpy (out, "sha256=", 7);
  s_hex (mac, sizeof mac, out + 7);
  return AT_OK;
}

int
at_sig_meta_verify (const char *app_secret, const void *body, size_t len, const char *header)
{
  uint8_t want[32], got[32];
  if (!app_secret || !app_secret[0] || !header || strncasecmp (header, "sha256=", 7) != 0
      || !s_unhex (header + 7, got, sizeof got))
    return AT_INVALID;
  at_hmac_sha256 (app_secret, strlen (app_secret), body, len, want);
  return at_ct_equal (want, got, sizeof want) ? AT_OK : AT_INVALID;
}

/* --- Twilio */

typedef struct {
  EVP_MAC *mac;
  EVP_MAC_CTX *ctx;
} s_hmac_t;

static bool
s_hmac_begin (s_hmac_t *h, const char *digest, const char *key)
{
  OSSL_PARAM params[] = {
    OSSL_PARAM_construct_utf8_string (OSSL_MAC_PARAM_DIGEST, (char *) digest, 0),
    OSSL_PARAM_construct_end (),
  };
  h->mac = EVP_MAC_fetch (NULL, "HMAC", NULL);
  h->ctx = h->mac ? EVP_MAC_CTX_new (h->mac) : NULL;
  return h->ctx && EVP_MAC_init (h->ctx, (const unsigned char *) key, strlen (key), params);
}

static bool
s_hmac_update (s_hmac_t *h, const void *data, size_t len)
{
  return EVP_MAC_update (h->ctx, data, len) == 1;
}

static bool
s_hmac_end (s_hmac_t *h, uint8_t *out, size_t cap, size_t *len)
{
  bool ok = h->ctx && EVP_MAC_final (h->ctx, out, len, cap) == 1;
  EVP_MAC_CTX_free (h->ctx);
  EVP_MAC_free (h->mac);
  h->ctx = NULL;
  h->mac = NULL;
  return ok;
}

/* base64 HMAC-SHA1 of url + sorted params (params may be NULL). */
static int
s_twilio_mac (const char *token, const char *url, const at_form_t *params, char *out,
              size_t cap)
{
  s_hmac_t h = { 0 };
  uint8_t mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  const at_form_field_t **sorted = params ? at_form_sorted (params) : NULL;
  bool ok = s_hmac_begin (&h, "SHA1", token) && s_hmac_update (&h, url, strlen (url));
  for (size_t i = 0; ok && i < at_form_count (params); i++)
    ok = s_hmac_update (&h, sorted[i]->name, strlen (sorted[i]->name))
         && s_hmac_update (&h, sorted[i]->value, sorted[i]->value_len);
  ok = s_hmac_end (&h, mac, sizeof mac, &mac_len) && ok;
  free (sorted);
  if (!ok || at_base64_encode (mac, mac_len, out, cap) < 0)
    return AT_ERROR;
  return AT_OK;
}

int
at_sig_twilio_sign (const char *auth_token, const char *url, const at_form_t *params,
                    char *out, size_t cap)
{
  return s_twilio_mac (auth_token, url, params, out, cap);
}

/* The other spelling of url's default port: "https://h/p" <-> "https://h:443/p".
 * False when url has another port or no scheme we know. */
static bool
s_port_variant (const char *url, char *out, size_t cap)
{
  const char *port = NULL;
  size_t scheme_len;
  if (strncasecmp (url, "https://", 8) == 0)
    port = ":443", scheme_len = 8;
  else if (strncasecmp (url, "http://", 7) == 0)
    port = ":80", scheme_len = 7;
  else
    return false;
  const char *host = url + scheme_len;
  size_t auth_len = strcspn (host, "/?#");
  const char *colon = NULL;
  for (size_t i = 0; i < auth_len; i++)
    if (host[i] == ':')
      colon = host + i;
    else if (host[i] == ']')
      colon = NULL;   /* an IPv6 literal's colons are not a port */
  const char *rest = host + auth_len;
  int n;
  if (!colon)
    n = snprintf (out, cap, "%.*s%s%s", (int) (rest - url), url, port, rest);
  else if ((size_t) (rest - colon) == strlen (port) && memcmp (colon, port, strlen (port)) == 0)
    n = snprintf (out, cap, "%.*s%s", (int) (colon - url), url, rest);
  else
    return false;
  return n > 0 && (size_t) n < cap;
}

static int
s_twilio_check (const char *token, const char *url, const at_form_t *params,
                const char *header)
{
  char want[64], variant[AT_SIG_URL_MAX + 8];
  size_t header_len = header ? strlen (header) : 0;
  if (!token || !token[0] || !url || strlen (url) > AT_SIG_URL_MAX || header_len == 0
      || header_len >= sizeof want)
    return AT_INVALID;
  if (s_twilio_mac (token, url, params, want, sizeof want) == AT_OK
      && strlen (want) == header_len && at_ct_equal (want, header, header_len))
    return AT_OK;
  if (s_port_variant (url, variant, sizeof variant)
      && s_twilio_mac (token, variant, params, want, sizeof want) == AT_OK
      && strlen (want) == header_len && at_ct_equal (want, header, header_len))
    return AT_OK;
  return AT_INVALID;
}

int
at_sig_twilio_verify (const char *auth_token, const char *url, const at_form_t *params,
                      const char *header)
{
  return s_twilio_check (auth_token, url, params, header);
}

void
at_sig_sha256_hex (const void *data, size_t len, char out[65])
{
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256 (data, len, digest);
  s_hex (digest, sizeof digest, out);
}

/* The value of the bodySHA256 query parameter of url (64 hex digits). */
static bool
s_body_sha_param (const char *url, char out[65])
{
  const char *q = strchr (url, '?');
  while (q) {
    q++;
    if (strncmp (q, "bodySHA256=", 11) == 0) {
      size_t n = strcspn (q + 11, "&#");
      if (n != 64)
        return false;
      memcpy (out, q + 11, 64);
      out[64] = '\0';
      return true;
    }
    q = strchr (q, '&');
  }
  return false;
}

int
at_sig_twilio_verify_body (const char *auth_token, const char *url, const void *body,
                           size_t len, const char *header)
{
  char want[65], got[65];
  if (!url || !s_body_sha_param (url, got))
    return AT_INVALID;
  for (char *c = got; *c; c++)
    if (*c >= 'A' && *c <= 'F')
      *c = (char) (*c - 'A' + 'a');
  at_sig_sha256_hex (body, len, want);
  if (!at_ct_equal (want, got, 64))
    return AT_INVALID;
  return s_twilio_check (auth_token, url, NULL, header);
}

/* --- Mailgun */

int
at_sig_mailgun_sign (const char *signing_key, const char *timestamp, const char *token,
                     char out[65])
{
  s_hmac_t h = { 0 };
  uint8_t mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  bool ok = s_hmac_begin (&h, "SHA256", signing_key)
            && s_hmac_update (&h, timestamp, strlen (timestamp))
            && s_hmac_update (&h, token, strlen (token));
  ok = s_hmac_end (&h, mac, sizeof mac, &mac_len) && ok && mac_len == 32;
  if (!ok)
    return AT_ERROR;
  s_hex (mac, 32, out);
  return AT_OK;
}

int
at_sig_mailgun_verify (const char *signing_key, const char *timestamp, const char *token,
                       const char *signature, long long now_s, long window_s)
{
  uint8_t got[32], want_bytes[32];
  char want[65];
  long ts = 0;
  if (!signing_key || !signing_key[0] || !timestamp || !token || !token[0]
      || strlen (token) > 256 || !s_unhex (signature, got, sizeof got)
      || at_parse_long (timestamp, 0, 99999999999L, &ts) != AT_OK)
    return AT_INVALID;
  if (at_sig_mailgun_sign (signing_key, timestamp, token, want) != AT_OK
      || !s_unhex (want, want_bytes, sizeof want_bytes)
      || !at_ct_equal (want_bytes, got, sizeof got))
    return AT_INVALID;
  long long skew = now_s - (long long) ts;
  if (window_s > 0 && (skew > window_s || skew < -window_s))
    return AT_STALE;
  return AT_OK;
}
