/* at_time: calendar dates (YYYY-MM-DD) and RFC 3339 date-times taken from
 * outside (an order's expected_delivery and occurred_at, ?since=, Shopify's
 * timestamps), parsed strictly with real calendar checks: the one place
 * that knows how many days February has. */
#ifndef AT_TIME_H
#define AT_TIME_H

#include <stdbool.h>
#include <stdint.h>

/* A date exactly "YYYY-MM-DD" (digits only, year 0001..9999, a day that
 * exists in that month, 29 February only in leap years) into *y, *m, *d
 * (each may be NULL). AT_OK, or AT_INVALID with the outputs untouched. */
int at_date_parse (const char *yyyy_mm_dd, int *y, int *m, int *d);

/* Strict RFC 3339 date-time ("2026-11-22T18:00:00Z", "2026-11-22t15:00:00.5-03:00";
 * 'T', 't' or ' ' between date and time, an offset required, fractions beyond
 * microseconds dropped, a leap second taken as the second before it) into unix
 * microseconds. AT_OK, or AT_INVALID with *us_out untouched. */
int at_rfc3339_parse (const char *text, int64_t *us_out);

#endif
