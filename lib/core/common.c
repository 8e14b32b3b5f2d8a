/* Small helpers every module uses: clocks, bounded strings, checked parsing. */
#include "at_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t
at_now_us (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
at_mono_us (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
at_mono_ms (void)
{
  return at_mono_us () / 1000;
}

size_t
at_strlcpy (char *dst, const char *src, size_t cap)
{
  size_t len = strlen (src);
  if (cap > 0) {
    size_t n = len < cap - 1 ? len : cap - 1;
    memcpy (dst, src, n);
    dst[n] = '\0';
  }
  return len;
}

int
at_parse_long (const char *text, long min, long max, long *out)
{
  if (text == NULL || *text == '\0')
    return AT_INVALID;
  errno = 0;
  char *end = NULL;
  long v = strtol (text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
    return AT_INVALID;
  *out = v;
  return AT_OK;
}

static void
s_oom (void)
{
  fputs ("atende: out of memory\n", stderr);
  abort ();
}

char *
at_strdup (const char *s)
{
  char *copy = strdup (s ? s : "");
  if (copy == NULL)
    s_oom ();
  return copy;
}

char *
at_strndup (const char *s, size_t n)
{
  char *copy = at_malloc (n + 1);
  memcpy (copy, s, n);
  copy[n] = '\0';
  return copy;
}

void *
at_malloc (size_t size)
{
  void *p = malloc (size ? size : 1);
  if (p == NULL)
    s_oom ();
  return p;
}

void *
at_realloc (void *ptr, size_t size)
{
  void *p = realloc (ptr, size ? size : 1);
  if (p == NULL)
    s_oom ();
  return p;
}

void *
at_calloc (size_t n, size_t size)
{
  void *p = calloc (n ? n : 1, size ? size : 1);
  if (p == NULL)
    s_oom ();
  return p;
}
