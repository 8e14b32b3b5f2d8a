/* Fuzz: the credentials' headers as the api takes them apart
 * (api/api_credential.c): the input as an Authorization header
 * (api_credential_bearer) and as a Cookie header (api_credential_cookie,
 * looking for atende_session). What comes out is a NUL-terminated token of
 * at most API_CREDENTIAL_MAX bytes, found in the input, in its alphabet
 * (RFC 6750 b64token / RFC 6265 cookie octets); a refusal leaves "" behind.
 * A token that parses is then offered to at_auth_key_parse, as the door
 * does. Small output buffers check the caps. */
#include <stdlib.h>
#include <string.h>
#include "api_internal.h"

static void
s_check (int rc, const char *text, const char *out, size_t cap, const char *alphabet)
{
  size_t n = strnlen (out, cap);
  if (n == cap)
    abort ();                         /* not terminated */
  if (rc != AT_OK) {
    if (n != 0)
      abort ();
    return;
  }
  if (n == 0 || n > API_CREDENTIAL_MAX || !strstr (text, out) || strspn (out, alphabet) != n)
    abort ();
}

static void
s_header (const char *text, size_t cap)
{
  static const char b64token[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=";
  char *out = malloc (cap);
  int rc = api_credential_bearer (text, out, cap);
  s_check (rc, text, out, cap, b64token);
  if (rc == AT_OK) {
    at_auth_key_parts_t parts;
    (void) at_auth_key_parse (out, strlen (out), &parts);
  }
  rc = api_credential_cookie (text, "atende_session", out, cap);
  if (rc != AT_OK && rc != AT_NOTFOUND && rc != AT_INVALID)
    abort ();
  char octets[128];
  size_t k = 0;
  for (int c = 0x21; c < 0x7f; c++)
    if (c != '"' && c != ',' && c != ';' && c != '\\')
      octets[k++] = (char) c;
  octets[k] = '\0';
  s_check (rc, text, out, cap, octets);
  free (out);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = malloc (size + 1);
  memcpy (text, data, size);
  text[size] = '\0';                  /* a header is a C string to the api (MHD's) */
  s_header (text, API_CREDENTIAL_MAX + 1);
  s_header (text, 8);
  s_header (text, 1);
  free (text);
  return 0;
}
