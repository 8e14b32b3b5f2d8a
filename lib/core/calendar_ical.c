/* calendar_ical: holidays out of an iCalendar file (at_calendar.h), libical
 * parsing; this wrapper is what tests/fuzz/fuzz_ical.c fuzzes. */
#include <stdlib.h>
#include <string.h>
#include <libical/ical.h>

#include "at_calendar.h"
#include "at_common.h"

#define S_EVENT_DAYS_MAX 31

typedef struct {
  at_holiday_t *out;
  size_t cap, n;
  bool overflow;
} s_acc_t;

/* Copies a summary, cut on a UTF-8 character edge, control bytes as spaces. */
static void
s_name (const char *summary, char *out)
{
  size_t len = summary ? strnlen (summary, AT_CAL_HOLIDAY_NAME_MAX + 1) : 0;
  if (len > AT_CAL_HOLIDAY_NAME_MAX) {
    len = AT_CAL_HOLIDAY_NAME_MAX;
    while (len > 0 && ((unsigned char) summary[len] & 0xC0) == 0x80)
      len--;
  }
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char) summary[i];
    out[i] = c < 0x20 || c == 0x7F ? ' ' : (char) c;
  }
  out[len] = '\0';
}

static void
s_add (s_acc_t *acc, struct icaltimetype day, const char *summary)
{
  if (acc->n >= acc->cap) {
    acc->overflow = true;
    return;
  }
  at_holiday_t *h = &acc->out[acc->n++];
  h->y = day.year;
  h->m = day.month;
  h->d = day.day;
  s_name (summary, h->name);
}

/* The days of one occurrence starting at start, lasting days (1..31). */
static void
s_days (s_acc_t *acc, struct icaltimetype start, int days, const char *summary)
{
  struct icaltimetype day = start;
  day.is_date = 1;
  day.zone = NULL;
  for (int i = 0; i < days && !acc->overflow; i++) {
    s_add (acc, day, summary);
    icaltime_adjust (&day, 1, 0, 0, 0);
  }
}

static int
s_length_days (struct icaltimetype start, struct icaltimetype end)
{
  if (icaltime_is_null_time (end) || !icaltime_is_valid_time (end))
    return 1;
  struct icaltimetype s = start, e = end;
  s.is_date = e.is_date = 1;
  int days = 0;
  while (icaltime_compare_date_only (s, e) < 0 && days <= S_EVENT_DAYS_MAX) {
    icaltime_adjust (&s, 1, 0, 0, 0);
    days++;
  }
  return days < 1 ? 1 : days > S_EVENT_DAYS_MAX ? S_EVENT_DAYS_MAX : days;
}

/* One VEVENT: its days, and those of a recurrence's occurrences. */
static void
s_event (s_acc_t *acc, icalcomponent *ev)
{
  struct icaltimetype start = icalcomponent_get_dtstart (ev);
  if (icaltime_is_null_time (start) || !icaltime_is_valid_time (start) || start.year < 1900
      || start.year > 9999)
    return;
  int days = s_length_days (start, icalcomponent_get_dtend (ev));
  const char *summary = icalcomponent_get_summary (ev);
  icalproperty *rrule = icalcomponent_get_first_property (ev, ICAL_RRULE_PROPERTY);
  if (!rrule) {
    s_days (acc, start, days, summary);
    return;
  }
  struct icalrecurrencetype recur = icalproperty_get_rrule (rrule);
  icalrecur_iterator *it = icalrecur_iterator_new (recur, start);
  if (!it) {
    s_days (acc, start, days, summary);
    return;
  }
  struct icaltimetype next = icalrecur_iterator_next (it);
  for (int k = 0; k < AT_CAL_ICAL_RRULE_MAX && !icaltime_is_null_time (next) && !acc->overflow
                  && next.year <= 9999; k++) {
    s_days (acc, next, days, summary);
    next = icalrecur_iterator_next (it);
  }
  icalrecur_iterator_free (it);
}

int
at_calendar_ical_holidays (const char *text, size_t len, at_holiday_t *out, size_t cap,
                           size_t *n_out)
{
  *n_out = 0;
  if (!text || len == 0 || len > AT_CAL_ICAL_MAX || memchr (text, '\0', len))
    return AT_INVALID;
  char *copy = malloc (len + 1);
  if (!copy)
    return AT_ERROR;
  memcpy (copy, text, len);
  copy[len] = '\0';
  icalcomponent *root = icalparser_parse_string (copy);
  free (copy);
  icalerror_clear_errno ();
  if (!root)
    return AT_INVALID;
  s_acc_t acc = {.out = out, .cap = cap};
  if (icalcomponent_isa (root) == ICAL_VCALENDAR_COMPONENT) {
    for (icalcomponent *ev = icalcomponent_get_first_component (root, ICAL_VEVENT_COMPONENT);
         ev && !acc.overflow;
         ev = icalcomponent_get_next_component (root, ICAL_VEVENT_COMPONENT))
      s_event (&acc, ev);
  }
  icalcomponent_free (root);
  icalerror_clear_errno ();
  if (acc.overflow || acc.n == 0)
    return AT_INVALID;
  *n_out = acc.n;
  return AT_OK;
}
