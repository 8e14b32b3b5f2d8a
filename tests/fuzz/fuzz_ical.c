/* Fuzz target: holidays out of an iCalendar text (lib/core/calendar_ical.c,
 * libical parsing), as POST /v1/calendars/{id}/holidays/ical takes it. */
#include <stddef.h>
#include <stdint.h>
#include "at_calendar.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static at_holiday_t out[64];
  size_t n = 0;
  if (at_calendar_ical_holidays ((const char *) data, size, out, 64, &n) == 0 && n > 64)
    __builtin_trap ();
  return 0;
}
