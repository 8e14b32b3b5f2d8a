/* Message templates: checking before save and rendering (pure functions). */
#include <stdio.h>
#include <string.h>
#include <unistr.h>
#include "at_template.h"
#include "at_buf.h"
#include "at_order.h"
#include "at_text.h"
#include "at_time.h"
#include "at_rule.h"

static const char *const s_vars[] = {
  "first_name", "order_id", "tracking_url", "expected_date", "new_expected_date", "return_days",
  "store_name", "score", "link"
};
#define S_VARS AT_ARRAY_LEN (s_vars)

/* The self-service answers' events (workers/route/selfservice.c). */
static const char *const s_selfservice_events[] = {
  "ss_return_opened", "ss_return_pending", "ss_return_late", "ss_return_undelivered",
  "ss_cancel_requested", "ss_cancel_pending", "ss_cancel_done", "ss_cancel_shipped",
  "ss_cancel_confirmed", "ss_payment_boleto", "ss_payment_pix",
  /* surveys (workers/survey, workers/route/survey_reply.c) */
  "survey_nps", "survey_csat", "survey_reminder", "survey_thanks", "survey_low_thanks",
  "survey_range_nps", "survey_range_csat", "survey_already",
};

static const char *const s_months_en[] = {
  "January", "February", "March", "April", "May", "June", "July", "August", "September",
  "October", "November", "December"
};

bool
at_template_event_known (const char *event)
{
  if (at_order_status_customer_facing (event) || at_rule_template_name_ok (event))
    return true;
  for (size_t i = 0; event && i < AT_ARRAY_LEN (s_selfservice_events); i++)
    if (strcmp (event, s_selfservice_events[i]) == 0)
      return true;
  return false;
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
        while (keep > 0 && u8_check ((const uint8_t *) p + 1, keep) != NULL)
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
  int y, m, d;
  /* a date a customer is told about: none before 1970 */
  if (at_date_parse (iso_date, &y, &m, &d) != AT_OK || y < 1970)
    return AT_INVALID;
  int n = locale && strcmp (locale, "en") == 0
            ? snprintf (out, cap, "%s %d, %d", s_months_en[m - 1], d, y)
            : snprintf (out, cap, "%02d/%02d/%04d", d, m, y);
  return n > 0 && (size_t) n < cap ? AT_OK : AT_INVALID;
}

/* The values of the placeholders, in s_vars order; dates formatted. */
static void
s_values (const at_template_vars_t *v, const char *locale, char dates[2][48],
          const char *values[S_VARS])
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
  values[5] = v->return_days ? v->return_days : "";
}

int
at_template_render (const char *body, const char *locale, const at_template_vars_t *vars,
                    char *out, size_t cap)
{
  return at_template_render_survey (body, locale, vars, NULL, out, cap);
}

int
at_template_render_survey (const char *body, const char *locale, const at_template_vars_t *vars,
                           const at_template_survey_t *survey, char *out, size_t cap)
{
  char dates[2][48];
  const char *values[S_VARS];
  s_values (vars, locale, dates, values);
  values[6] = survey && survey->store_name ? survey->store_name : "";
  values[7] = survey && survey->score ? survey->score : "";
  values[8] = survey && survey->link ? survey->link : "";
  at_buf_t b;
  at_buf_fixed (&b, out, cap);
  size_t section_start = 0;
  bool in_section = false, section_empty = false;
  for (const char *p = body; p && *p && !b.overflow; p++) {
    if (*p == '[') {
      in_section = true;
      section_empty = false;
      section_start = b.len;
    } else if (*p == ']') {
      if (in_section && section_empty) {
        b.len = section_start;        /* the part goes: cut back to where it began */
        b.data[b.len] = 0;
      }
      in_section = false;
    } else if (*p == '{') {
      const char *end = strchr (p, '}');
      int i = end ? s_var_index (p + 1, (size_t) (end - p - 1)) : -1;
      if (i < 0) {
        at_buf_putc (&b, *p);
        continue;
      }
      if (!*values[i])
        section_empty = true;
      at_buf_puts (&b, values[i]);
      p = end;
    } else
      at_buf_putc (&b, *p);
  }
  return b.overflow || cap == 0 ? AT_INVALID : AT_OK;
}
