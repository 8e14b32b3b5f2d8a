/* calendar: business-hours calendars and the SLA clock (at_calendar.h). */
#include <stdlib.h>
#include <string.h>
#include <libical/ical.h>

#include "at_calendar.h"
#include "at_common.h"

typedef struct {
  int16_t start, end;                 /* local minutes [start, end) */
} s_window_t;

struct at_calendar {
  char tz[AT_CAL_TZ_MAX];
  icaltimezone *zone;                 /* libical's, shared, never freed */
  s_window_t windows[7][AT_CAL_WINDOWS_PER_DAY];
  size_t n_windows[7];
  int64_t *holidays;                  /* local day numbers, sorted */
  size_t n_holidays;
};

/* --- dates as day numbers (days since 1970-01-01; H. Hinnant's algorithms) */

static int64_t
s_days_from_civil (int y, int m, int d)
{
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void
s_civil_from_days (int64_t z, int *y, int *m, int *d)
{
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int) (doy - (153 * mp + 2) / 5 + 1);
  *m = (int) (mp < 10 ? mp + 3 : mp - 9);
  *y = (int) (yoe + era * 400 + (*m <= 2));
}

static int
s_weekday (int64_t day)              /* 0 Sunday; 1970-01-01 was a Thursday */
{
  int64_t w = (day + 4) % 7;
  return (int) (w < 0 ? w + 7 : w);
}

/* --- the zone */

static icaltimezone *
s_zone (const char *tzid)
{
  if (!tzid || !*tzid || strlen (tzid) >= AT_CAL_TZ_MAX)
    return NULL;
  if (strcmp (tzid, "UTC") == 0 || strcmp (tzid, "Etc/UTC") == 0)
    return icaltimezone_get_utc_timezone ();
  for (const char *c = tzid; *c; c++)
    if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')
          || *c == '/' || *c == '_' || *c == '-' || *c == '+'))
      return NULL;
  return icaltimezone_get_builtin_timezone (tzid);
}

bool
at_calendar_tz_known (const char *tzid)
{
  return s_zone (tzid) != NULL;
}

/* The local day number of instant t. */
static int64_t
s_local_day (const at_calendar_t *self, int64_t t)
{
  struct icaltimetype lt = icaltime_from_timet_with_zone ((time_t) t, 0, self->zone);
  return s_days_from_civil (lt.year, lt.month, lt.day);
}

/* The instant of local minute `minute` (0..1440) of day. */
static int64_t
s_instant (const at_calendar_t *self, int64_t day, int minute)
{
  if (minute >= 1440) {
    day += minute / 1440;
    minute %= 1440;
  }
  struct icaltimetype lt = icaltime_null_time ();
  s_civil_from_days (day, &lt.year, &lt.month, &lt.day);
  lt.hour = minute / 60;
  lt.minute = minute % 60;
  lt.is_date = 0;
  lt.zone = self->zone;
  return (int64_t) icaltime_as_timet_with_zone (lt, self->zone);
}

at_calendar_t *
at_calendar_new (const char *tzid)
{
  icaltimezone *zone = s_zone (tzid);
  if (!zone)
    return NULL;
  at_calendar_t *self = calloc (1, sizeof *self);
  if (!self)
    return NULL;
  memcpy (self->tz, tzid, strlen (tzid) + 1);
  self->zone = zone;
  return self;
}

void
at_calendar_destroy (at_calendar_t **self_p)
{
  if (!self_p || !*self_p)
    return;
  free ((*self_p)->holidays);
  free (*self_p);
  *self_p = NULL;
}

const char *
at_calendar_tz (const at_calendar_t *self)
{
  return self->tz;
}

int
at_calendar_window_add (at_calendar_t *self, int weekday, int start_min, int end_min)
{
  if (weekday < 0 || weekday > 6 || start_min < 0 || start_min >= end_min || end_min > 1440)
    return AT_INVALID;
  size_t n = self->n_windows[weekday];
  s_window_t *w = self->windows[weekday];
  if (n >= AT_CAL_WINDOWS_PER_DAY)
    return AT_INVALID;
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    if (start_min < w[i].end && w[i].start < end_min)
      return AT_INVALID;                  /* overlaps */
    if (w[i].start < start_min)
      at = i + 1;
  }
  memmove (&w[at + 1], &w[at], (n - at) * sizeof *w);
  w[at] = (s_window_t) {(int16_t) start_min, (int16_t) end_min};
  self->n_windows[weekday] = n + 1;
  return AT_OK;
}

int
at_calendar_minute_parse (const char *s, int *min_out)
{
  if (!s || strlen (s) != 5 || s[2] != ':')
    return AT_INVALID;
  for (int i = 0; i < 5; i++)
    if (i != 2 && (s[i] < '0' || s[i] > '9'))
      return AT_INVALID;
  int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0))
    return AT_INVALID;
  *min_out = h * 60 + m;
  return AT_OK;
}

size_t
at_calendar_windows (const at_calendar_t *self, int weekday, int *start_min, int *end_min,
                     size_t cap)
{
  if (weekday < 0 || weekday > 6)
    return 0;
  size_t n = self->n_windows[weekday];
  for (size_t i = 0; i < n && i < cap; i++) {
    start_min[i] = self->windows[weekday][i].start;
    end_min[i] = self->windows[weekday][i].end;
  }
  return n;
}

/* Index of the first holiday >= day. */
static size_t
s_holiday_at (const at_calendar_t *self, int64_t day)
{
  size_t lo = 0, hi = self->n_holidays;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (self->holidays[mid] < day)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static bool
s_is_holiday (const at_calendar_t *self, int64_t day)
{
  size_t i = s_holiday_at (self, day);
  return i < self->n_holidays && self->holidays[i] == day;
}

static bool
s_date_ok (int y, int m, int d)
{
  static const int days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1900 || y > 9999 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
    return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return !(m == 2 && d == 29 && !leap);
}

int
at_calendar_holiday_add (at_calendar_t *self, int y, int m, int d)
{
  if (!s_date_ok (y, m, d))
    return AT_INVALID;
  int64_t day = s_days_from_civil (y, m, d);
  size_t i = s_holiday_at (self, day);
  if (i < self->n_holidays && self->holidays[i] == day)
    return AT_OK;
  if (self->n_holidays >= AT_CAL_HOLIDAYS_MAX)
    return AT_INVALID;
  if (!self->holidays) {
    self->holidays = malloc (AT_CAL_HOLIDAYS_MAX * sizeof *self->holidays);
    if (!self->holidays)
      return AT_ERROR;
  }
  memmove (&self->holidays[i + 1], &self->holidays[i],
           (self->n_holidays - i) * sizeof *self->holidays);
  self->holidays[i] = day;
  self->n_holidays++;
  return AT_OK;
}

bool
at_calendar_is_holiday (const at_calendar_t *self, int y, int m, int d)
{
  return s_date_ok (y, m, d) && s_is_holiday (self, s_days_from_civil (y, m, d));
}

/* --- the arithmetic: walk local days, each window converted to UTC that day */

int64_t
at_calendar_add (const at_calendar_t *self, int64_t from, int64_t business_s)
{
  if (business_s <= 0)
    return from;
  int64_t day = s_local_day (self, from) - 1;   /* the day before: DST edges */
  for (int k = 0; k < AT_CAL_DAYS_MAX; k++, day++) {
    if (s_is_holiday (self, day))
      continue;
    int wd = s_weekday (day);
    for (size_t i = 0; i < self->n_windows[wd]; i++) {
      int64_t ws = s_instant (self, day, self->windows[wd][i].start);
      int64_t we = s_instant (self, day, self->windows[wd][i].end);
      if (we <= from)
        continue;
      int64_t s = ws > from ? ws : from;
      if (we - s >= business_s)
        return s + business_s;
      business_s -= we - s;
    }
  }
  return AT_CAL_NEVER;
}

int64_t
at_calendar_between (const at_calendar_t *self, int64_t from, int64_t to)
{
  if (to <= from)
    return 0;
  int64_t total = 0;
  int64_t last = s_local_day (self, to);
  int64_t day = s_local_day (self, from) - 1;
  if (last - day > 40 * 366)
    last = day + 40 * 366;                       /* bounded work */
  for (; day <= last; day++) {
    if (s_is_holiday (self, day))
      continue;
    int wd = s_weekday (day);
    for (size_t i = 0; i < self->n_windows[wd]; i++) {
      int64_t ws = s_instant (self, day, self->windows[wd][i].start);
      int64_t we = s_instant (self, day, self->windows[wd][i].end);
      int64_t s = ws > from ? ws : from, e = we < to ? we : to;
      if (e > s)
        total += e - s;
    }
  }
  return total;
}

bool
at_calendar_is_open (const at_calendar_t *self, int64_t t)
{
  return at_calendar_between (self, t, t + 1) == 1;
}

/* --- one SLA clock */

static const char *const s_state_names[] = {"running", "paused", "met", "breached"};

const char *
at_clock_state_name (at_clock_state_t s)
{
  return (unsigned) s < AT_ARRAY_LEN (s_state_names) ? s_state_names[s] : "running";
}

int
at_clock_state_parse (const char *name, at_clock_state_t *out)
{
  for (size_t i = 0; name && i < AT_ARRAY_LEN (s_state_names); i++)
    if (strcmp (name, s_state_names[i]) == 0) {
      *out = (at_clock_state_t) i;
      return AT_OK;
    }
  return AT_INVALID;
}

static int64_t
s_measure (const at_calendar_t *cal, int64_t from, int64_t to)
{
  if (to <= from)
    return 0;
  return cal ? at_calendar_between (cal, from, to) : to - from;
}

static int64_t
s_advance (const at_calendar_t *cal, int64_t from, int64_t s)
{
  if (s <= 0)
    return from;
  return cal ? at_calendar_add (cal, from, s) : from + s;
}

/* due and warn_at of a running clock, from running_since. */
static void
s_plan (at_clock_t *c, const at_calendar_t *cal, int warn_pct)
{
  c->due = c->warn_at = 0;
  if (c->state != AT_CLOCK_RUNNING)
    return;
  c->due = s_advance (cal, c->running_since, c->target_s - c->consumed_s);
  int64_t warn_s = c->target_s * warn_pct / 100;
  if (!c->warned && warn_pct > 0 && warn_pct < 100)
    c->warn_at = s_advance (cal, c->running_since, warn_s - c->consumed_s);
}

void
at_clock_start (at_clock_t *c, const at_calendar_t *cal, int64_t target_s, int64_t since,
                int warn_pct)
{
  *c = (at_clock_t) {.state = AT_CLOCK_RUNNING, .target_s = target_s, .running_since = since};
  s_plan (c, cal, warn_pct);
}

int64_t
at_clock_used (const at_clock_t *c, const at_calendar_t *cal, int64_t now)
{
  return c->consumed_s + (c->running_since ? s_measure (cal, c->running_since, now) : 0);
}

void
at_clock_pause (at_clock_t *c, const at_calendar_t *cal, int64_t now)
{
  if (c->state != AT_CLOCK_RUNNING)
    return;
  c->consumed_s = at_clock_used (c, cal, now);
  c->running_since = 0;
  c->state = AT_CLOCK_PAUSED;
  c->due = c->warn_at = 0;
}

void
at_clock_resume (at_clock_t *c, const at_calendar_t *cal, int64_t now, int warn_pct)
{
  if (c->state != AT_CLOCK_PAUSED)
    return;
  c->state = AT_CLOCK_RUNNING;
  c->running_since = now;
  s_plan (c, cal, warn_pct);
}

void
at_clock_retarget (at_clock_t *c, const at_calendar_t *cal, int64_t now, int64_t target_s,
                   int warn_pct)
{
  if (c->state == AT_CLOCK_RUNNING) {
    c->consumed_s = at_clock_used (c, cal, now);
    c->running_since = now;
  }
  c->target_s = target_s;
  s_plan (c, cal, warn_pct);
}

void
at_clock_stop (at_clock_t *c, const at_calendar_t *cal, int64_t now)
{
  if (c->state == AT_CLOCK_MET)
    return;
  c->consumed_s = at_clock_used (c, cal, now);
  c->running_since = 0;
  c->due = c->warn_at = 0;
  if (c->state != AT_CLOCK_BREACHED)
    c->state = AT_CLOCK_MET;
}
