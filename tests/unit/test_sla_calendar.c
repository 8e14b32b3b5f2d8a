/* SLA calendars: business-time arithmetic against hand-worked cases
 * (lib/core/at_calendar.h). Every expected instant was worked out by hand
 * from the zone's offset that day; the comments show the work.
 *   America/Sao_Paulo: UTC-3 all year (no DST since 2019).
 *   America/New_York: EST (UTC-5) until 2026-03-08 02:00, then EDT (UTC-4).
 *   Europe/Lisbon: WEST (UTC+1) until 2026-10-25 02:00, then WET (UTC+0).
 * 2026-03-02 is a Monday; 2026-03-06 a Friday; 2026-10-25 a Sunday. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "at_calendar.h"
#include "at_common.h"

#define H 3600
#define MIN 60

/* A UTC instant (timegm reads no zone setting). */
static int64_t
s_utc (int y, int mo, int d, int h, int mi)
{
  struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
                  .tm_min = mi};
  return (int64_t) timegm (&tm);
}

static int
s_min (const char *hh_mm)
{
  int m = -1;
  assert_int_equal (at_calendar_minute_parse (hh_mm, &m), AT_OK);
  return m;
}

/* tz with the windows "HH:MM-HH:MM" on the weekdays from..to (0 Sunday). */
static at_calendar_t *
s_cal (const char *tz, int from, int to, const char *const *windows)
{
  at_calendar_t *c = at_calendar_new (tz);
  assert_non_null (c);
  for (int wd = from; wd <= to; wd++)
    for (size_t i = 0; windows[i]; i++) {
      char a[6], b[6];
      memcpy (a, windows[i], 5), a[5] = '\0';
      memcpy (b, windows[i] + 6, 5), b[5] = '\0';
      assert_int_equal (at_calendar_window_add (c, wd, s_min (a), s_min (b)), AT_OK);
    }
  return c;
}

static const char *const s_office[] = {"09:00-18:00", NULL};
static const char *const s_split[] = {"08:00-12:00", "13:00-18:00", NULL};
static const char *const s_all_day[] = {"00:00-24:00", NULL};

static void
test_weekend (void **state)
{
  (void) state;
  at_calendar_t *c = s_cal ("America/Sao_Paulo", 1, 5, s_office);
  /* Fri 17:00 BRT (20:00Z) + 2 h: 1 h Friday until 18:00, 1 h Monday from
   * 09:00 -> Mon 10:00 BRT = 13:00Z. */
  assert_int_equal (at_calendar_add (c, s_utc (2026, 3, 6, 20, 0), 2 * H),
                    s_utc (2026, 3, 9, 13, 0));
  assert_int_equal (at_calendar_between (c, s_utc (2026, 3, 6, 20, 0), s_utc (2026, 3, 9, 13, 0)),
                    2 * H);
  /* from Saturday noon: nothing until Monday 09:00 -> + 1 h = 10:00 BRT */
  assert_int_equal (at_calendar_add (c, s_utc (2026, 3, 7, 15, 0), H), s_utc (2026, 3, 9, 13, 0));
  /* the whole weekend holds no business time */
  assert_int_equal (at_calendar_between (c, s_utc (2026, 3, 6, 21, 0), s_utc (2026, 3, 9, 12, 0)),
                    0);
  /* a full week: 5 x 9 h */
  assert_int_equal (at_calendar_between (c, s_utc (2026, 3, 2, 0, 0), s_utc (2026, 3, 9, 0, 0)),
                    45 * H);
  assert_true (at_calendar_is_open (c, s_utc (2026, 3, 6, 20, 59)));
  assert_false (at_calendar_is_open (c, s_utc (2026, 3, 6, 21, 0)));
  at_calendar_destroy (&c);
  assert_null (c);
}

static void
test_holiday (void **state)
{
  (void) state;
  at_calendar_t *c = s_cal ("America/Sao_Paulo", 1, 5, s_office);
  assert_int_equal (at_calendar_holiday_add (c, 2026, 3, 9), AT_OK);
  assert_int_equal (at_calendar_holiday_add (c, 2026, 3, 9), AT_OK);   /* twice: once */
  assert_true (at_calendar_is_holiday (c, 2026, 3, 9));
  assert_false (at_calendar_is_holiday (c, 2026, 3, 10));
  /* Fri 17:00 + 2 h: 1 h Friday, Monday is a holiday, 1 h Tuesday ->
   * Tue 10:00 BRT = 13:00Z */
  assert_int_equal (at_calendar_add (c, s_utc (2026, 3, 6, 20, 0), 2 * H),
                    s_utc (2026, 3, 10, 13, 0));
  assert_int_equal (at_calendar_between (c, s_utc (2026, 3, 6, 20, 0),
                                         s_utc (2026, 3, 10, 13, 0)), 2 * H);
  assert_int_equal (at_calendar_holiday_add (c, 2026, 2, 29), AT_INVALID);  /* not a date */
  at_calendar_destroy (&c);
}

static void
test_split_shift (void **state)
{
  (void) state;
  at_calendar_t *c = s_cal ("America/Sao_Paulo", 1, 5, s_split);
  /* Wed 11:30 BRT + 60 min: 30 min until 12:00, lunch, 30 min from 13:00 -> 13:30 */
  assert_int_equal (at_calendar_add (c, s_utc (2026, 3, 4, 14, 30), 60 * MIN),
                    s_utc (2026, 3, 4, 16, 30));
  /* 11:00 -> 14:00 BRT: 1 h + 1 h, lunch left out */
  assert_int_equal (at_calendar_between (c, s_utc (2026, 3, 4, 14, 0), s_utc (2026, 3, 4, 17, 0)),
                    2 * H);
  /* starting during lunch: 12:15 + 10 min -> 13:10 */
  assert_int_equal (at_calendar_add (c, s_utc (2026, 3, 4, 15, 15), 10 * MIN),
                    s_utc (2026, 3, 4, 16, 10));
  /* the whole day, 08:00 + 9 h: 4 h + 5 h -> ends exactly at 18:00 = 21:00Z */
  assert_int_equal (at_calendar_add (c, s_utc (2026, 3, 4, 11, 0), 9 * H),
                    s_utc (2026, 3, 4, 21, 0));
  /* one minute more: Thursday 08:01 BRT = 11:01Z */
  assert_int_equal (at_calendar_add (c, s_utc (2026, 3, 4, 11, 0), 9 * H + MIN),
                    s_utc (2026, 3, 5, 11, 1));
  int s[8], e[8];
  assert_int_equal (at_calendar_windows (c, 3, s, e, 8), 2);
  assert_int_equal (s[1], 13 * 60);
  assert_int_equal (e[1], 18 * 60);
  at_calendar_destroy (&c);
}

static void
test_dst (void **state)
{
  (void) state;
  at_calendar_t *ny = s_cal ("America/New_York", 0, 6, s_all_day);
  /* 2026-03-08: 00:00 EST = 05:00Z .. 2026-03-09 00:00 EDT = 04:00Z: a 23 h day */
  assert_int_equal (at_calendar_between (ny, s_utc (2026, 3, 8, 5, 0), s_utc (2026, 3, 9, 4, 0)),
                    23 * H);
  /* open all the time: business time is wall time across the change */
  assert_int_equal (at_calendar_add (ny, s_utc (2026, 3, 7, 17, 0), 24 * H),
                    s_utc (2026, 3, 8, 17, 0));
  at_calendar_destroy (&ny);
  ny = s_cal ("America/New_York", 1, 5, (const char *const[]) {"09:00-17:00", NULL});
  /* Fri 16:00 EST (21:00Z) + 2 h: 1 h Friday, Monday from 09:00 EDT (13:00Z)
   * -> Mon 10:00 EDT = 14:00Z (the weekend crossed the change) */
  assert_int_equal (at_calendar_add (ny, s_utc (2026, 3, 6, 21, 0), 2 * H),
                    s_utc (2026, 3, 9, 14, 0));
  assert_int_equal (at_calendar_between (ny, s_utc (2026, 3, 6, 21, 0), s_utc (2026, 3, 9, 14, 0)),
                    2 * H);
  at_calendar_destroy (&ny);
  at_calendar_t *li = s_cal ("Europe/Lisbon", 0, 6, s_all_day);
  /* 2026-10-25: 00:00 WEST = 10-24 23:00Z .. 10-26 00:00 WET = 00:00Z: 25 h */
  assert_int_equal (at_calendar_between (li, s_utc (2026, 10, 24, 23, 0),
                                         s_utc (2026, 10, 26, 0, 0)), 25 * H);
  at_calendar_destroy (&li);
  li = s_cal ("Europe/Lisbon", 0, 6, (const char *const[]) {"09:00-17:00", NULL});
  /* Sat 17:00 WEST (16:00Z) is closing time; + 1 h -> Sun 10:00 WET = 10:00Z */
  assert_int_equal (at_calendar_add (li, s_utc (2026, 10, 24, 16, 0), H),
                    s_utc (2026, 10, 25, 10, 0));
  /* Saturday 09:00 WEST is 08:00Z, Sunday 09:00 WET is 09:00Z */
  assert_true (at_calendar_is_open (li, s_utc (2026, 10, 24, 8, 0)));
  assert_false (at_calendar_is_open (li, s_utc (2026, 10, 25, 8, 30)));
  at_calendar_destroy (&li);
}

static void
test_pause_and_retarget (void **state)
{
  (void) state;
  at_calendar_t *c = s_cal ("America/Sao_Paulo", 1, 5, s_office);
  at_clock_t k;
  /* 4 h from Mon 09:00 BRT (12:00Z): due 13:00 BRT; warn at 80% = 3 h 12 min -> 12:12 */
  at_clock_start (&k, c, 4 * H, s_utc (2026, 3, 2, 12, 0), 80);
  assert_int_equal (k.due, s_utc (2026, 3, 2, 16, 0));
  assert_int_equal (k.warn_at, s_utc (2026, 3, 2, 15, 12));
  /* paused at 10:00 BRT: 1 h used, nothing due */
  at_clock_pause (&k, c, s_utc (2026, 3, 2, 13, 0));
  assert_int_equal (k.state, AT_CLOCK_PAUSED);
  assert_int_equal (k.consumed_s, H);
  assert_int_equal (k.due, 0);
  /* a day later, still paused: still 1 h */
  assert_int_equal (at_clock_used (&k, c, s_utc (2026, 3, 3, 18, 0)), H);
  /* resumed Tue 17:00 BRT (20:00Z): 3 h left = 1 h Tue + 2 h Wed -> Wed 11:00 = 14:00Z;
   * warning: 3 h 12 min - 1 h = 2 h 12 min -> 1 h Tue + 1 h 12 min Wed -> 10:12 = 13:12Z */
  at_clock_resume (&k, c, s_utc (2026, 3, 3, 20, 0), 80);
  assert_int_equal (k.due, s_utc (2026, 3, 4, 14, 0));
  assert_int_equal (k.warn_at, s_utc (2026, 3, 4, 13, 12));
  /* met Wed 09:30 BRT: 1 h + 1 h + 30 min used */
  at_clock_stop (&k, c, s_utc (2026, 3, 4, 12, 30));
  assert_int_equal (k.state, AT_CLOCK_MET);
  assert_int_equal (k.consumed_s, 2 * H + 30 * MIN);
  at_calendar_destroy (&c);

  /* wall time: 240 min started at t0; after 20 min the priority rises to 30 min
   * -> due t0 + 30 min (20 used, 10 left); to 15 min -> due now */
  int64_t t0 = s_utc (2026, 3, 2, 12, 0);
  at_clock_start (&k, NULL, 240 * MIN, t0, 80);
  assert_int_equal (k.due, t0 + 240 * MIN);
  at_clock_retarget (&k, NULL, t0 + 20 * MIN, 30 * MIN, 80);
  assert_int_equal (k.consumed_s, 20 * MIN);
  assert_int_equal (k.due, t0 + 30 * MIN);
  assert_int_equal (k.warn_at, t0 + 24 * MIN);
  at_clock_retarget (&k, NULL, t0 + 20 * MIN, 15 * MIN, 80);
  assert_int_equal (k.due, t0 + 20 * MIN);
  /* a paused clock re-targeted stays paused, its time used kept */
  at_clock_pause (&k, NULL, t0 + 25 * MIN);
  at_clock_retarget (&k, NULL, t0 + 60 * MIN, 240 * MIN, 80);
  assert_int_equal (k.state, AT_CLOCK_PAUSED);
  assert_int_equal (k.consumed_s, 25 * MIN);
  assert_int_equal (k.due, 0);
  /* a breached clock stopped stays breached */
  k.state = AT_CLOCK_BREACHED;
  at_clock_stop (&k, NULL, t0 + 90 * MIN);
  assert_int_equal (k.state, AT_CLOCK_BREACHED);
}

static void
test_bad_input (void **state)
{
  (void) state;
  assert_null (at_calendar_new ("Mars/Olympus"));
  assert_null (at_calendar_new ("../../etc/passwd"));
  assert_null (at_calendar_new (""));
  assert_false (at_calendar_tz_known ("America/Nowhere"));
  assert_true (at_calendar_tz_known ("UTC"));
  at_calendar_t *c = at_calendar_new ("UTC");
  /* no windows: no business time ever */
  assert_int_equal (at_calendar_add (c, s_utc (2026, 3, 2, 0, 0), 60), AT_CAL_NEVER);
  assert_int_equal (at_calendar_window_add (c, 1, 8 * 60, 12 * 60), AT_OK);
  assert_int_equal (at_calendar_window_add (c, 1, 11 * 60, 13 * 60), AT_INVALID);  /* overlap */
  assert_int_equal (at_calendar_window_add (c, 1, 7 * 60, 9 * 60), AT_INVALID);    /* overlap */
  assert_int_equal (at_calendar_window_add (c, 1, 12 * 60, 13 * 60), AT_OK);       /* touches */
  assert_int_equal (at_calendar_window_add (c, 1, 14 * 60, 14 * 60), AT_INVALID);  /* empty */
  assert_int_equal (at_calendar_window_add (c, 7, 60, 120), AT_INVALID);           /* no day 7 */
  assert_int_equal (at_calendar_window_add (c, 2, 0, 1441), AT_INVALID);
  int m;
  assert_int_equal (at_calendar_minute_parse ("24:01", &m), AT_INVALID);
  assert_int_equal (at_calendar_minute_parse ("8:00", &m), AT_INVALID);
  assert_int_equal (at_calendar_minute_parse ("12:60", &m), AT_INVALID);
  assert_int_equal (at_calendar_minute_parse ("24:00", &m), AT_OK);
  assert_int_equal (m, 1440);
  at_calendar_destroy (&c);
  at_calendar_destroy (&c);          /* safe on NULL */
}

static void
test_ical (void **state)
{
  (void) state;
  static const char ics[] =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
      "BEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:20261225\r\nSUMMARY:Natal\r\n"
      "RRULE:FREQ=YEARLY;COUNT=2\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:2\r\nDTSTART;VALUE=DATE:20260216\r\n"
      "DTEND;VALUE=DATE:20260218\r\nSUMMARY:Carnaval\r\nEND:VEVENT\r\n"
      "END:VCALENDAR\r\n";
  at_holiday_t h[16];
  size_t n = 0;
  assert_int_equal (at_calendar_ical_holidays (ics, strlen (ics), h, 16, &n), AT_OK);
  assert_int_equal (n, 4);     /* Christmas 2026 and 2027, Carnival Monday and Tuesday */
  assert_int_equal (h[0].y * 10000 + h[0].m * 100 + h[0].d, 20261225);
  assert_string_equal (h[0].name, "Natal");
  assert_int_equal (h[1].y * 10000 + h[1].m * 100 + h[1].d, 20271225);
  assert_int_equal (h[2].y * 10000 + h[2].m * 100 + h[2].d, 20260216);
  assert_int_equal (h[3].y * 10000 + h[3].m * 100 + h[3].d, 20260217);
  assert_int_equal (at_calendar_ical_holidays (ics, strlen (ics), h, 3, &n), AT_INVALID);
  static const char not_cal[] = "BEGIN:VEVENT\r\nDTSTART:20260101\r\nEND:VEVENT\r\n";
  assert_int_equal (at_calendar_ical_holidays (not_cal, strlen (not_cal), h, 16, &n), AT_INVALID);
  assert_int_equal (at_calendar_ical_holidays ("hello", 5, h, 16, &n), AT_INVALID);
  assert_int_equal (at_calendar_ical_holidays ("", 0, h, 16, &n), AT_INVALID);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_weekend),
    cmocka_unit_test (test_holiday),
    cmocka_unit_test (test_split_shift),
    cmocka_unit_test (test_dst),
    cmocka_unit_test (test_pause_and_retarget),
    cmocka_unit_test (test_bad_input),
    cmocka_unit_test (test_ical),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
