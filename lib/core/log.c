/* One key=value line per event on stderr. */
#include "at_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static at_log_level_t s_level = AT_LOG_INFO;
static const char *const s_names[] = {"debug", "info", "warn", "error"};

void
at_log_set_level (at_log_level_t level)
{
  s_level = level;
}

int
at_log_level_parse (const char *name, at_log_level_t *out)
{
  for (int i = 0; i < 4; i++)
    if (strcmp (name, s_names[i]) == 0) {
      *out = (at_log_level_t) i;
      return 0;
    }
  return -1;
}

void
at_log (at_log_level_t level, const char *comp, const char *fmt, ...)
{
  if (level < s_level)
    return;
  char line[2048];
  struct timeval tv;
  gettimeofday (&tv, NULL);
  struct tm tm;
  gmtime_r (&tv.tv_sec, &tm);
  int n = snprintf (line, sizeof line,
                    "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s comp=%s pid=%d ",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                    tm.tm_sec, (long) (tv.tv_usec / 1000), s_names[level], comp, (int) getpid ());
  if (n < 0 || (size_t) n >= sizeof line)
    n = 0;
  va_list ap;
  va_start (ap, fmt);
  int m = vsnprintf (line + n, sizeof line - (size_t) n - 1, fmt, ap);
  va_end (ap);
  size_t len = (size_t) n + (m < 0 ? 0 : (size_t) m);
  if (len > sizeof line - 2)
    len = sizeof line - 2;
  line[len++] = '\n';
  /* one write per line so lines from threads and processes don't interleave */
  ssize_t w = write (STDERR_FILENO, line, len);
  (void) w;
}
