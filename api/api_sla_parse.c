/* api_sla_parse: the bodies of SLA calendars and policies checked
 * (api_sla.h), pure: every refusal a 422 problem naming the field, nothing
 * else done. POST and PUT take the same bodies, so they refuse the same. */
#include <stdlib.h>
#include <string.h>
#include "api_sla.h"
#include "at_calendar.h"
#include "at_time.h"

#define S_NAME_MAX 80

static const char *const s_days[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

static int
s_day (const json_t *v, int *out)
{
  const char *name = json_string_value (v);
  for (int d = 0; name && d < 7; d++)
    if (strcmp (name, s_days[d]) == 0) {
      *out = d;
      return AT_OK;
    }
  return AT_INVALID;
}

/* One {days, start, end} into the calendar and the stored windows. */
static int
s_window (const json_t *w, size_t i, at_calendar_t *cal, json_t *stored, api_problem_t *p)
{
  const json_t *days = json_object_get (w, "days");
  int start, end;
  if (!json_is_object (w) || !json_is_array (days) || json_array_size (days) == 0
      || json_array_size (days) > 7)
    return api_problem (p, 422, "windows", "windows[%zu] must be {days: [\"mon\", ...],"
                        " start: \"HH:MM\", end: \"HH:MM\"}", i);
  if (at_calendar_minute_parse (json_string_value (json_object_get (w, "start")), &start) != AT_OK
      || at_calendar_minute_parse (json_string_value (json_object_get (w, "end")), &end) != AT_OK
      || start >= end)
    return api_problem (p, 422, "windows", "windows[%zu] needs start and end as HH:MM,"
                        " start before end (24:00 ends a day)", i);
  for (size_t k = 0; k < json_array_size (days); k++) {
    int d;
    if (s_day (json_array_get (days, k), &d) != AT_OK)
      return api_problem (p, 422, "windows", "windows[%zu].days[%zu] must be one of sun, mon,"
                          " tue, wed, thu, fri, sat", i, k);
    if (at_calendar_window_add (cal, d, start, end) != AT_OK)
      return api_problem (p, 422, "windows", "windows[%zu] overlaps another window on %s"
                          " (or a day has more than %d)", i, s_days[d], AT_CAL_WINDOWS_PER_DAY);
    json_array_append_new (stored, json_pack ("{s:i, s:i, s:i}", "weekday", d, "start", start,
                                              "end", end));
  }
  return AT_OK;
}

/* The holidays list (absent or null: none) into b->holidays. */
static int
s_holidays (const json_t *list, api_sla_calendar_body_t *b, api_problem_t *p)
{
  b->n_holidays = 0;
  b->has_holidays = list && !json_is_null (list);
  if (!b->has_holidays)
    return AT_OK;
  if (!json_is_array (list) || json_array_size (list) > API_SLA_HOLIDAYS_MAX)
    return api_problem (p, 422, "holidays", "holidays must be an array of at most %d dates",
                        API_SLA_HOLIDAYS_MAX);
  b->holidays = calloc (json_array_size (list) + 1, sizeof *b->holidays);
  if (!b->holidays)
    return api_problem (p, 503, NULL, "out of memory, retry later");
  for (size_t i = 0; i < json_array_size (list); i++) {
    const json_t *h = json_array_get (list, i);
    const char *date = json_is_object (h) ? json_string_value (json_object_get (h, "date"))
                                           : json_string_value (h);
    const char *name = json_is_object (h) ? json_string_value (json_object_get (h, "name")) : "";
    at_holiday_t *o = &b->holidays[b->n_holidays++];
    if (at_date_parse (date, &o->y, &o->m, &o->d) != AT_OK)
      return api_problem (p, 422, "holidays", "holidays[%zu] must be a date YYYY-MM-DD", i);
    if (name && strlen (name) > AT_CAL_HOLIDAY_NAME_MAX)
      return api_problem (p, 422, "holidays", "holidays[%zu].name is longer than %d bytes", i,
                          AT_CAL_HOLIDAY_NAME_MAX);
    at_strlcpy (o->name, name ? name : "", sizeof o->name);
  }
  return AT_OK;
}

static int
s_name (const json_t *obj, const char **out, api_problem_t *p)
{
  *out = json_string_value (json_object_get (obj, "name"));
  if (!*out || **out == '\0' || strlen (*out) > S_NAME_MAX)
    return api_problem (p, 422, "name", "name must be a string of 1 to %d bytes", S_NAME_MAX);
  return AT_OK;
}

int
api_sla_calendar_parse (const json_t *obj, api_sla_calendar_body_t *b, api_problem_t *p)
{
  memset (b, 0, sizeof *b);
  if (s_name (obj, &b->name, p) != AT_OK)
    return AT_INVALID;
  b->tz = json_string_value (json_object_get (obj, "timezone"));
  if (!b->tz || !at_calendar_tz_known (b->tz))
    return api_problem (p, 422, "timezone", "timezone must be a known IANA time zone"
                        " (e.g. America/Sao_Paulo)");
  const json_t *windows = json_object_get (obj, "windows");
  if (!json_is_array (windows) || json_array_size (windows) == 0
      || json_array_size (windows) > 7 * AT_CAL_WINDOWS_PER_DAY)
    return api_problem (p, 422, "windows", "windows must be a non-empty array of at most %d",
                        7 * AT_CAL_WINDOWS_PER_DAY);
  at_calendar_t *cal = at_calendar_new (b->tz);
  json_t *stored = json_array ();
  int rc = cal ? AT_OK : api_problem (p, 422, "timezone", "timezone is not known");
  for (size_t i = 0; rc == AT_OK && i < json_array_size (windows); i++)
    rc = s_window (json_array_get (windows, i), i, cal, stored, p);
  if (rc == AT_OK)
    rc = s_holidays (json_object_get (obj, "holidays"), b, p);
  if (rc == AT_OK)
    b->windows = json_dumps (stored, JSON_COMPACT);
  if (rc == AT_OK && !b->windows)
    rc = api_problem (p, 503, NULL, "out of memory, retry later");
  json_decref (stored);
  at_calendar_destroy (&cal);
  if (rc != AT_OK)
    api_sla_calendar_body_clear (b);
  return rc;
}

void
api_sla_calendar_body_clear (api_sla_calendar_body_t *b)
{
  free (b->windows);
  free (b->holidays);
  b->windows = NULL;
  b->holidays = NULL;
  b->n_holidays = 0;
}

/* --- policies */

static int
s_target (const json_t *obj, const char *field, at_sla_target_t *t, api_problem_t *p)
{
  const json_t *v = json_object_get (obj, field);
  t->target_s = 0;
  t->business = true;
  if (!v || json_is_null (v))
    return AT_OK;
  const json_t *target = json_object_get (v, "target_s");
  const char *time = json_string_value (json_object_get (v, "time"));
  if (!json_is_object (v) || !json_is_integer (target) || json_integer_value (target) < 1
      || json_integer_value (target) > 31536000)
    return api_problem (p, 422, field, "%s must be {target_s: 1..31536000, time: business|wall}",
                        field);
  if (time && strcmp (time, "business") != 0 && strcmp (time, "wall") != 0)
    return api_problem (p, 422, field, "%s.time must be business or wall", field);
  t->target_s = json_integer_value (target);
  t->business = !time || strcmp (time, "business") == 0;
  return AT_OK;
}

static bool
s_channel_ok (const char *c)
{
  static const char *const known[] = {"any", "email", "whatsapp", "sms", "chat", "form",
                                      "messenger", "instagram", "phone"};
  for (size_t i = 0; c && i < AT_ARRAY_LEN (known); i++)
    if (strcmp (c, known[i]) == 0)
      return true;
  return false;
}

int
api_sla_policy_parse (const json_t *obj, at_sla_policy_t *pol, api_problem_t *p)
{
  memset (pol, 0, sizeof *pol);
  if (s_name (obj, &pol->name, p) != AT_OK)
    return AT_INVALID;
  pol->priority = json_string_value (json_object_get (obj, "priority"));
  if (!pol->priority || (strcmp (pol->priority, "normal") && strcmp (pol->priority, "high")))
    return api_problem (p, 422, "priority", "priority must be normal or high");
  const json_t *channel = json_object_get (obj, "channel");
  pol->channel = channel ? json_string_value (channel) : "any";
  if (!s_channel_ok (pol->channel))
    return api_problem (p, 422, "channel", "channel must be any or a channel (email, whatsapp,"
                        " sms, chat, form, messenger, instagram, phone)");
  const json_t *cal = json_object_get (obj, "calendar_id");
  if (!json_is_integer (cal) || json_integer_value (cal) < 1)
    return api_problem (p, 422, "calendar_id", "calendar_id is required: the id of a calendar");
  pol->calendar_id = json_integer_value (cal);
  static const char *const fields[AT_SLA_METRICS] = {"first_response", "next_response",
                                                     "resolution"};
  bool any = false;
  for (int m = 0; m < AT_SLA_METRICS; m++) {
    if (s_target (obj, fields[m], &pol->targets[m], p) != AT_OK)
      return AT_INVALID;
    any = any || pol->targets[m].target_s > 0;
  }
  if (!any)
    return api_problem (p, 422, "first_response", "a policy needs at least one target"
                        " (first_response, next_response or resolution)");
  return AT_OK;
}
