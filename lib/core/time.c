/* at_time: see at_time.h. */
#include "at_time.h"
#include "at_common.h"

#include <string.h>

/* Reads exactly n digits at s into *out. */
static bool
s_digits (const char *s, int n, int *out)
{
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

static int
s_days_in_month (int y, int m)
{
  static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
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

/* The date at the start of s (its first 10 characters). */
static bool
s_date (const char *s, int *y, int *m, int *d)
{
  if (!s_digits (s, 4, y) || s[4] != '-' || !s_digits (s + 5, 2, m) || s[7] != '-'
      || !s_digits (s + 8, 2, d))
    return false;
  return *y >= 1 && *m >= 1 && *m <= 12 && *d >= 1 && *d <= s_days_in_month (*y, *m);
}

int
at_date_parse (const char *yyyy_mm_dd, int *y, int *m, int *d)
{
  int yy, mm, dd;
  if (!yyyy_mm_dd || strnlen (yyyy_mm_dd, 11) != 10 || !s_date (yyyy_mm_dd, &yy, &mm, &dd))
    return AT_INVALID;
  if (y)
    *y = yy;
  if (m)
    *m = mm;
  if (d)
    *d = dd;
  return AT_OK;
}

/* The time of day at s ("HH:MM:SS", then fractions): seconds into the day
 * and *frac_us; the rest of the text in *rest. */
static bool
s_clock (const char *s, int *secs, int64_t *frac_us, const char **rest)
{
  int h, mi, sec, n = 0;
  if (!s_digits (s, 2, &h) || s[2] != ':' || !s_digits (s + 3, 2, &mi) || s[5] != ':'
      || !s_digits (s + 6, 2, &sec) || h > 23 || mi > 59 || sec > 60)
    return false;
  s += 8;
  *frac_us = 0;
  if (*s == '.') {
    for (s++; *s >= '0' && *s <= '9'; s++, n++)
      if (n < 6)
        *frac_us = *frac_us * 10 + (*s - '0');
    if (n == 0)
      return false;
    for (; n < 6; n++)
      *frac_us *= 10;
  }
  if (sec == 60)
    sec = 59;   /* a leap second is taken as the second before it */
  *secs = h * 3600 + mi * 60 + sec;
  *rest = s;
  return true;
}

/* The offset at s ("Z" or "+HH:MM"/"-HH:MM", ending the text) in seconds east of UTC. */
static bool
s_offset (const char *s, int *east_s)
{
  int oh, om;
  if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0') {
    *east_s = 0;
    return true;
  }
  if ((s[0] != '+' && s[0] != '-') || !s_digits (s + 1, 2, &oh) || s[3] != ':'
      || !s_digits (s + 4, 2, &om) || oh > 23 || om > 59 || s[6] != '\0')
    return false;
  *east_s = (s[0] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  return true;
}

int
at_rfc3339_parse (const char *text, int64_t *us_out)
{
  int y, m, d, secs, east_s;
  int64_t frac_us;
  const char *rest;
  size_t len = text ? strnlen (text, 41) : 0;
  if (len < 20 || len > 40 || !s_date (text, &y, &m, &d))
    return AT_INVALID;
  if ((text[10] != 'T' && text[10] != 't' && text[10] != ' ')
      || !s_clock (text + 11, &secs, &frac_us, &rest) || !s_offset (rest, &east_s))
    return AT_INVALID;
  *us_out = (s_days_from_civil (y, m, d) * 86400 + secs - east_s) * 1000000 + frac_us;
  return AT_OK;
}
