/* Channels and the normalisation of customers' handles on them. */
#include "at_channel.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

typedef struct {
  const char *channel;
  const char *kind;
} s_channel_t;

static const s_channel_t s_channels[] = {
  {"email", "email"},     {"form", "email"},          {"whatsapp", "whatsapp"},
  {"sms", "phone"},       {"chat", "chat"},           {"messenger", "messenger"},
  {"instagram", "instagram"}, {"phone", "phone"},   /* phone: call events (at_call.h) */
};

/* The country calling code given to national numbers: set once at start
 * from ATENDE_DEFAULT_PHONE_COUNTRY (at_channel_set_default_country), before
 * any thread reads it; "55" (Brazil) until then. */
static char s_default_country[4] = "55";

int
at_channel_set_default_country (const char *code)
{
  size_t n = code ? strlen (code) : 0;
  if (n > 0 && code[0] == '+') {
    code++;
    n--;
  }
  if (n < 1 || n > 3 || code[0] == '0' || strspn (code, "0123456789") != n)
    return AT_INVALID;
  memcpy (s_default_country, code, n + 1);
  return AT_OK;
}

const char *
at_channel_default_country (void)
{
  return s_default_country;
}

static const s_channel_t *
s_find (const char *channel)
{
  for (size_t i = 0; channel && i < AT_ARRAY_LEN (s_channels); i++)
    if (strcmp (channel, s_channels[i].channel) == 0)
      return &s_channels[i];
  return NULL;
}

bool
at_channel_known (const char *channel)
{
  return s_find (channel) != NULL;
}

const char *
at_channel_identity_kind (const char *channel)
{
  const s_channel_t *c = s_find (channel);
  return c ? c->kind : NULL;
}

static int
s_email (const char *in, char *out, size_t cap)
{
  size_t n = strlen (in);
  if (n < 3 || n >= cap || n > 254)
    return AT_INVALID;
  int at = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char) in[i];
    if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == ',' || c == ';')
      return AT_INVALID;
    at += c == '@';
    out[i] = (char) tolower (c);
  }
  out[n] = '\0';
  const char *sign = strchr (out, '@');
  if (at != 1 || sign == out || sign[1] == '\0' || strchr (sign, '.') == NULL)
    return AT_INVALID;
  return AT_OK;
}

/* "+55 (11) 98765-4321", "11987654321", "5511987654321" -> "+5511987654321" */
static int
s_phone (const char *in, bool plus_prefix, char *out, size_t cap)
{
  char digits[20];
  size_t n = 0;
  bool international = false;
  for (const char *p = in; *p; p++) {
    if (isdigit ((unsigned char) *p)) {
      if (n >= 15)
        return AT_INVALID;
      digits[n++] = *p;
    }
    else if (*p == '+' && n == 0)
      international = true;
    else if (!strchr (" ()-.", *p))
      return AT_INVALID;
  }
  digits[n] = '\0';
  if (n < 8)
    return AT_INVALID;
  const char *cc = "";
  /* a national number (DDD + subscriber) gets the default country; a WhatsApp
   * wa_id (no '+' wanted) is always international, as Meta sends it */
  if (!international && plus_prefix && n <= 11)
    cc = s_default_country;
  size_t need = (plus_prefix ? 1 : 0) + strlen (cc) + n + 1;
  if (need > cap || strlen (cc) + n > 15)
    return AT_INVALID;
  snprintf (out, cap, "%s%s%s", plus_prefix ? "+" : "", cc, digits);
  return AT_OK;
}

static int
s_opaque (const char *in, char *out, size_t cap)
{
  while (*in == ' ' || *in == '\t')
    in++;
  size_t n = strlen (in);
  while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
    n--;
  if (n == 0 || n >= cap || n > AT_HANDLE_MAX)
    return AT_INVALID;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char) in[i] < ' ' || in[i] == 0x7f)
      return AT_INVALID;
  memcpy (out, in, n);
  out[n] = '\0';
  return AT_OK;
}

int
at_channel_normalize_handle (const char *channel, const char *handle, char *out, size_t cap)
{
  const s_channel_t *c = s_find (channel);
  if (c == NULL || handle == NULL)
    return AT_INVALID;
  if (strcmp (c->kind, "email") == 0)
    return s_email (handle, out, cap);
  if (strcmp (c->kind, "phone") == 0)
    return s_phone (handle, true, out, cap);
  if (strcmp (c->kind, "whatsapp") == 0)   /* wa_id: the number's digits, no '+' */
    return s_phone (handle, false, out, cap);
  return s_opaque (handle, out, cap);
}

const char *
at_channel_phone_twin (const char *kind, const char *value, char *out, size_t cap,
                       const char **other_kind_out)
{
  if (!kind || !value || !out || cap == 0)
    return NULL;
  if (strcmp (kind, "whatsapp") == 0 && value[0] != '+') {
    *other_kind_out = "phone";
    return s_phone (value, false, out + 1, cap - 1) == AT_OK && cap > 1
               ? (out[0] = '+', out) : NULL;
  }
  if (strcmp (kind, "phone") == 0 && value[0] == '+') {
    *other_kind_out = "whatsapp";
    return s_phone (value, false, out, cap) == AT_OK ? out : NULL;
  }
  return NULL;
}
