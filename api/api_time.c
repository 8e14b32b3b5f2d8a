/* api_time: strict parsing of the RFC 3339 timestamps and dates the api
 * takes (occurred_at, since, expected_delivery). */
#include <string.h>
#include "api_internal.h"

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

static bool
s_date (const char *s, int *y, int *m, int *d)
{
  if (!s_digits (s, 4, y) || s[4] != '-' || !s_digits (s + 5, 2, m) || s[7] != '-'
      || !s_digits (s + 8, 2, d))
    return false;
  return *y >= 1 && *m >= 1 && *m <= 12 && *d >= 1 && *d <= s_days_in_month (*y, *m);
}

bool
api_date_valid (const char *text)
{
  int y, m, d;
  return text && strlen (text) == 10 && s_date (text, &y, &m, &d);
}

int
api_rfc3339_parse (const char *text, int64_t *us_out)
{
  int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
  int64_t frac_us = 0;
  if (!text || strlen (text) < 20 || strlen (text) > 40 || !s_date (text, &y, &mo, &d))
    return AT_INVALID;
  const char *s = text + 10;
  if ((*s != 'T' && *s != 't' && *s != ' ') || !s_digits (s + 1, 2, &h) || s[3] != ':'
      || !s_digits (s + 4, 2, &mi) || s[6] != ':' || !s_digits (s + 7, 2, &sec))
    return AT_INVALID;
  if (h > 23 || mi > 59 || sec > 60)
    return AT_INVALID;
  s += 9;
  if (*s == '.') {
    int n = 0;
    for (s++; *s >= '0' && *s <= '9'; s++, n++)
      if (n < 6)
        frac_us = frac_us * 10 + (*s - '0');
    if (n == 0)
      return AT_INVALID;
    for (; n < 6; n++)
      frac_us *= 10;
  }
  if (*s == 'Z' || *s == 'z')
    s++;
  else if (*s == '+' || *s == '-') {
    sign = *s == '+' ? 1 : -1;
    if (!s_digits (s + 1, 2, &oh) || s[3] != ':' || !s_digits (s + 4, 2, &om) || oh > 23
        || om > 59)
      return AT_INVALID;
    s += 6;
  }
  else
    return AT_INVALID;
  if (*s != '\0')
    return AT_INVALID;
  if (sec == 60)
    sec = 59;   /* a leap second is taken as the second before it */
  int64_t secs = s_days_from_civil (y, mo, d) * 86400 + h * 3600 + mi * 60 + sec
                 - (int64_t) sign * (oh * 3600 + om * 60);
  *us_out = secs * 1000000 + frac_us;
  return AT_OK;
}
