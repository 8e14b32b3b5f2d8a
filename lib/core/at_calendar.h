/* at_calendar: business-hours calendars and the SLA clock's arithmetic
 * (issue 15), pure functions of their arguments (no I/O, no global state
 * but libical's read-only zone cache):
 *   - a calendar: an IANA time zone, windows per weekday (several a day:
 *     split shifts, 08:00-12:00 and 13:00-18:00), holidays (local dates);
 *   - at_calendar_add: the instant N business seconds after another;
 *     at_calendar_between: business seconds between two instants;
 *   - at_clock_*: one SLA clock (target, consumed, running since, due,
 *     warn at) paused, resumed, re-targeted and stopped (calendar NULL:
 *     wall time).
 * Instants are unix seconds (UTC). Windows are local wall-clock minutes
 * [start, end) of a day, 0..1440; a window is converted to UTC on each day
 * it applies, so a DST change makes that day's windows shorter or longer.
 *
 * Time zones come from libical's icaltimezone (the system tzdata, loaded
 * once per zone under libical's own mutex and then read-only): thread-safe
 * for route's threads, and never setenv("TZ"). A pure library may call it
 * because nothing else in the process changes its zones. */
#ifndef AT_CALENDAR_H
#define AT_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define AT_CAL_WINDOWS_PER_DAY 8
#define AT_CAL_HOLIDAYS_MAX 4096
#define AT_CAL_DAYS_MAX 3700          /* a search gives up after ~10 years */
#define AT_CAL_NEVER INT64_MAX        /* no business time ahead */
#define AT_CAL_TZ_MAX 64

typedef struct at_calendar at_calendar_t;

/* True when tzid names a zone libical knows ("America/Sao_Paulo", "UTC"). */
bool at_calendar_tz_known (const char *tzid);

/* A calendar without windows in zone tzid; NULL when the zone is unknown. */
at_calendar_t *at_calendar_new (const char *tzid);
void at_calendar_destroy (at_calendar_t **self_p);
const char *at_calendar_tz (const at_calendar_t *self);

/* Adds the window [start_min, end_min) to weekday (0 Sunday .. 6 Saturday).
 * AT_INVALID when 0 <= start < end <= 1440 does not hold, when it overlaps a
 * window of that day (touching is fine), or the day has
 * AT_CAL_WINDOWS_PER_DAY already. */
int at_calendar_window_add (at_calendar_t *self, int weekday, int start_min, int end_min);
/* "HH:MM" (00:00..24:00) into minutes of the day; AT_INVALID otherwise. */
int at_calendar_minute_parse (const char *hh_mm, int *min_out);
/* Windows of a weekday, in order of start: count, and each one's bounds. */
size_t at_calendar_windows (const at_calendar_t *self, int weekday, int *start_min,
                            int *end_min, size_t cap);
/* Adds a holiday (a local date); AT_INVALID when not a date or full. */
int at_calendar_holiday_add (at_calendar_t *self, int y, int m, int d);
bool at_calendar_is_holiday (const at_calendar_t *self, int y, int m, int d);

/* The instant business_s business seconds after from (from itself when
 * business_s <= 0), AT_CAL_NEVER when the calendar has no time ahead. */
int64_t at_calendar_add (const at_calendar_t *self, int64_t from, int64_t business_s);
/* Business seconds in [from, to) (0 when to <= from). */
int64_t at_calendar_between (const at_calendar_t *self, int64_t from, int64_t to);
/* Whether the instant lies in a window of a working day. */
bool at_calendar_is_open (const at_calendar_t *self, int64_t t);

/* --- holidays from iCalendar (lib/core/calendar_ical.c) ------------ */

#define AT_CAL_ICAL_MAX (1024 * 1024)   /* bytes of an iCalendar text read */
#define AT_CAL_HOLIDAY_NAME_MAX 80      /* bytes of a holiday's name kept */
#define AT_CAL_ICAL_RRULE_MAX 30        /* occurrences of a recurring event */

typedef struct {
  int y, m, d;
  char name[AT_CAL_HOLIDAY_NAME_MAX + 1];   /* SUMMARY, cut on a character edge */
} at_holiday_t;

/* The holidays of an iCalendar text (RFC 5545; libical parses it): each
 * VEVENT's days from DTSTART up to DTEND (exclusive; one day when absent,
 * at most 31), a date-time start taken as its date, a yearly RRULE
 * expanded to AT_CAL_ICAL_RRULE_MAX occurrences. At most cap into out,
 * *n_out the count. AT_OK; AT_INVALID when the text is not a VCALENDAR,
 * is larger than AT_CAL_ICAL_MAX, holds no dated event or more than cap. */
int at_calendar_ical_holidays (const char *text, size_t len, at_holiday_t *out, size_t cap,
                               size_t *n_out);

/* --- one SLA clock -------------------------------------------------- */

typedef enum {
  AT_CLOCK_RUNNING = 0, AT_CLOCK_PAUSED, AT_CLOCK_MET, AT_CLOCK_BREACHED
} at_clock_state_t;

typedef struct {
  at_clock_state_t state;
  int64_t target_s;         /* business or wall seconds */
  int64_t consumed_s;       /* used before running_since */
  int64_t running_since;    /* 0 unless running */
  int64_t due, warn_at;     /* 0: none (not running, or warned already) */
  bool warned;
} at_clock_t;

/* "running" | "paused" | "met" | "breached", and back (AT_INVALID). */
const char *at_clock_state_name (at_clock_state_t s);
int at_clock_state_parse (const char *name, at_clock_state_t *out);

/* Starts a clock of target_s at since (consumed 0) and plans it. */
void at_clock_start (at_clock_t *c, const at_calendar_t *cal, int64_t target_s, int64_t since,
                     int warn_pct);
/* Seconds used by now: consumed plus the running stretch. */
int64_t at_clock_used (const at_clock_t *c, const at_calendar_t *cal, int64_t now);
/* A running clock stops counting (consumed kept); others unchanged. */
void at_clock_pause (at_clock_t *c, const at_calendar_t *cal, int64_t now);
/* A paused clock counts again from now and is planned. */
void at_clock_resume (at_clock_t *c, const at_calendar_t *cal, int64_t now, int warn_pct);
/* A new target keeping the time used; a running clock is planned again
 * from now (a target already used up is due now). */
void at_clock_retarget (at_clock_t *c, const at_calendar_t *cal, int64_t now, int64_t target_s,
                        int warn_pct);
/* Running or paused -> met (consumed final); a breached clock stays
 * breached (its consumed is still brought up to now). */
void at_clock_stop (at_clock_t *c, const at_calendar_t *cal, int64_t now);

#endif
