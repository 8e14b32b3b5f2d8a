/* api_credential: the credentials' text in request headers, taken apart:
 * "Authorization: Bearer <key>" (RFC 6750) and one cookie of "Cookie:"
 * (RFC 6265). Pure functions of outside input (fuzzed by
 * tests/fuzz/fuzz_auth_header.c); checking what they found is api_auth.c's.
 * Calls no other file of the api. */
#include <string.h>
#include <strings.h>
#include "api_internal.h"

static bool
s_space (char c)
{
  return c == ' ' || c == '\t';
}

/* RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static bool
s_token68 (const char *s, size_t n)
{
  size_t i = 0;
  for (; i < n; i++) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
              || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
    if (!ok)
      break;
  }
  if (i == 0)
    return false;
  while (i < n && s[i] == '=')
    i++;
  return i == n;
}

int
api_credential_bearer (const char *header, char *out, size_t cap)
{
  if (cap)
    out[0] = '\0';
  if (!header || strncasecmp (header, "Bearer", 6) != 0 || !s_space (header[6]))
    return AT_INVALID;
  const char *s = header + 7;
  while (s_space (*s))
    s++;
  size_t n = strlen (s);
  while (n > 0 && s_space (s[n - 1]))
    n--;
  if (n == 0 || n >= cap || n > API_CREDENTIAL_MAX || !s_token68 (s, n))
    return AT_INVALID;
  memcpy (out, s, n);
  out[n] = '\0';
  return AT_OK;
}

/* RFC 6265 cookie-octet, and '=' (a base64 value may end with it). */
static bool
s_cookie_octets (const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char) s[i];
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == ',' || c == ';' || c == '\\')
      return false;
  }
  return true;
}

/* The value of one "name=value" pair [s, end), trimmed; false when it is
 * not that name. */
static bool
s_pair (const char *s, const char *end, const char *name, const char **value, size_t *len)
{
  size_t nlen = strlen (name);
  while (s < end && s_space (*s))
    s++;
  while (end > s && s_space (end[-1]))
    end--;
  if ((size_t) (end - s) <= nlen || strncmp (s, name, nlen) != 0 || s[nlen] != '=')
    return false;
  *value = s + nlen + 1;
  *len = (size_t) (end - *value);
  return true;
}

int
api_credential_cookie (const char *header, const char *name, char *out, size_t cap)
{
  const char *value = NULL;
  size_t len = 0, found = 0;
  if (cap)
    out[0] = '\0';
  if (!header || !name || !*name)
    return AT_NOTFOUND;
  for (const char *s = header; *s;) {
    const char *end = strchr (s, ';');
    if (!end)
      end = s + strlen (s);
    const char *v;
    size_t n;
    if (s_pair (s, end, name, &v, &n)) {
      value = v;
      len = n;
      found++;
    }
    s = *end ? end + 1 : end;
  }
  if (found == 0)
    return AT_NOTFOUND;
  /* twice is ambiguous (a cookie planted for another path or domain): refused */
  if (found > 1 || len == 0 || len >= cap || len > API_CREDENTIAL_MAX
      || !s_cookie_octets (value, len))
    return AT_INVALID;
  memcpy (out, value, len);
  out[len] = '\0';
  return AT_OK;
}
