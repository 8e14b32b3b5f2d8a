/* Message templates: checking before save and rendering (pure functions). */
#include <stdio.h>
#include <string.h>
#include "at_template.h"
#include "at_order.h"
#include "at_text.h"

static const char *const s_vars[] = {
  "first_name", "order_id", "tracking_url", "expected_date", "new_expected_date"
};

static const char *const s_months_en[] = {
  "January", "February", "March", "April", "May", "June", "July", "August", "September",
  "October", "November", "December"
};

bool
at_template_event_known (const char *event)
{
  return at_order_status_customer_facing (event);
}

bool
at_template_locale_known (const char *locale)
{
  return locale && (strcmp (locale, "pt-BR") == 0 || strcmp (locale, "en") == 0
                    || strcmp (locale, "es") == 0);
}

/* Index of placeholder name[0..len) in s_vars, -1 if unknown. */
static int
s_var_index (const char *name, size_t len)
{
  for (size_t i = 0; i < AT_ARRAY_LEN (s_vars); i++)
    if (strlen (s_vars[i]) == len && strncmp (name, s_vars[i], len) == 0)
      return (int) i;
  return -1;
}

static int
s_fail (char *reason, size_t cap, const char *text)
{
  if (cap > 0)
    at_strlcpy (reason, text, cap);
  return AT_INVALID;
}

int
at_template_check (const char *body, char unknown_var[AT_TEMPLATE_VAR_MAX], char *reason,
                   size_t reason_cap)
{
  unknown_var[0] = 0;
  if (reason_cap > 0)
    reason[0] = 0;
  size_t len = body ? strlen (body) : 0;
  if (len == 0)
    return s_fail (reason, reason_cap, "the template is empty");
  if (len > AT_TEMPLATE_BODY_MAX)
    return s_fail (reason, reason_cap, "the template is longer than 2000 bytes");
  if (!at_text_valid_utf8 (body, len))
    return s_fail (reason, reason_cap, "the template is not valid UTF-8");
  bool in_section = false;
  const char *structural = NULL;
  for (const char *p = body; *p; p++) {
    if (*p == '[') {
      if (in_section && !structural)
        structural = "brackets [ ] cannot be nested";
      in_section = true;
    } else if (*p == ']') {
      if (!in_section && !structural)
        structural = "a ] closes no [";
      in_section = false;
    } else if (*p == '{') {
      const char *end = strchr (p + 1, '}');
      if (!end) {
        if (!structural)
          structural = "a { is not closed by }";
        break;
      }
      size_t n = (size_t) (end - p - 1);
      if (s_var_index (p + 1, n) < 0) {
        size_t keep = n < AT_TEMPLATE_VAR_MAX - 1 ? n : AT_TEMPLATE_VAR_MAX - 1;
        while (keep > 0 && keep < n && ((unsigned char) p[1 + keep] & 0xc0) == 0x80)
          keep--;                                /* cut on a character boundary */
        memcpy (unknown_var, p + 1, keep);
        unknown_var[keep] = 0;
        return s_fail (reason, reason_cap, "unknown variable");
      }
      p = end;
    }
  }
  if (!structural && in_section)
    structural = "a [ is not closed by ]";
  return structural ? s_fail (reason, reason_cap, structural) : AT_OK;
}

int
at_template_date (const char *iso_date, const char *locale, char *out, size_t cap)
{
  static const int days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int y, m, d;
  char extra;
  if (!iso_date || strlen (iso_date) != 10 || iso_date[4] != '-' || iso_date[7] != '-'
      || sscanf (iso_date, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 || y < 1970 || y > 9999
      || m < 1 || m > 12 || d < 1 || d > days[m - 1])
    return AT_INVALID;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (m == 2 && d == 29 && !leap)
    return AT_INVALID;
  int n = locale && strcmp (locale, "en") == 0
            ? snprintf (out, cap, "%s %d, %d", s_months_en[m - 1], d, y)
            : snprintf (out, cap, "%02d/%02d/%04d", d, m, y);
  return n > 0 && (size_t) n < cap ? AT_OK : AT_INVALID;
}

typedef struct {
  char *out;
  size_t cap, len;
  bool overflow;
} s_buf_t;

static void
s_put (s_buf_t *b, const char *s, size_t n)
{
  if (b->overflow || b->len + n >= b->cap) {
    b->overflow = true;
    return;
  }
  memcpy (b->out + b->len, s, n);
  b->len += n;
  b->out[b->len] = 0;
}

/* The values of the five placeholders, in s_vars order; dates formatted. */
static void
s_values (const at_template_vars_t *v, const char *locale, char dates[2][48],
          const char *values[5])
{
  const char *iso[2] = {v->expected_date, v->new_expected_date};
  for (int i = 0; i < 2; i++)
    if (!iso[i] || !*iso[i] || at_template_date (iso[i], locale, dates[i], 48) != AT_OK)
      dates[i][0] = 0;
  values[0] = v->first_name ? v->first_name : "";
  values[1] = v->order_id ? v->order_id : "";
  values[2] = v->tracking_url ? v->tracking_url : "";
  values[3] = dates[0];
  values[4] = dates[1];
}

int
at_template_render (const char *body, const char *locale, const at_template_vars_t *vars,
                    char *out, size_t cap)
{
  char dates[2][48];
  const char *values[5];
  s_values (vars, locale, dates, values);
  s_buf_t b = {out, cap, 0, cap == 0};
  size_t section_start = 0;
  bool in_section = false, section_empty = false;
  if (cap > 0)
    out[0] = 0;
  for (const char *p = body; p && *p && !b.overflow; p++) {
    if (*p == '[') {
      in_section = true;
      section_empty = false;
      section_start = b.len;
    } else if (*p == ']') {
      if (in_section && section_empty) {
        b.len = section_start;
        b.out[b.len] = 0;
      }
      in_section = false;
    } else if (*p == '{') {
      const char *end = strchr (p, '}');
      int i = end ? s_var_index (p + 1, (size_t) (end - p - 1)) : -1;
      if (i < 0) {
        s_put (&b, p, 1);
        continue;
      }
      if (!*values[i])
        section_empty = true;
      s_put (&b, values[i], strlen (values[i]));
      p = end;
    } else
      s_put (&b, p, 1);
  }
  return b.overflow ? AT_INVALID : AT_OK;
}
