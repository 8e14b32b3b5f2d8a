/* at_buf: see at_buf.h. */
#include "at_buf.h"
#include "at_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
at_buf_init (at_buf_t *b, size_t cap)
{
  memset (b, 0, sizeof *b);
  b->cap = cap ? cap : SIZE_MAX / 2;
}

void
at_buf_fixed (at_buf_t *b, char *mem, size_t size)
{
  memset (b, 0, sizeof *b);
  b->fixed = true;
  b->data = mem;
  b->size = size;
  b->cap = size ? size - 1 : 0;
  if (size > 0)
    mem[0] = '\0';
}

/* Room for `n` more bytes plus the NUL, or false (overflow set). */
static bool
s_room (at_buf_t *b, size_t n)
{
  if (b->overflow || n > b->cap - b->len) {
    b->overflow = true;
    return false;
  }
  size_t need = b->len + n + 1;
  if (need <= b->size)
    return true;
  if (b->fixed) {
    b->overflow = true;
    return false;
  }
  size_t size = b->size ? b->size : 64;
  while (size < need)
    size *= 2;
  b->data = at_realloc (b->data, size);
  b->size = size;
  return true;
}

void
at_buf_put (at_buf_t *b, const void *bytes, size_t n)
{
  if (!s_room (b, n))
    return;
  if (n > 0)
    memcpy (b->data + b->len, bytes, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void
at_buf_puts (at_buf_t *b, const char *s)
{
  at_buf_put (b, s, strlen (s));
}

void
at_buf_putc (at_buf_t *b, char c)
{
  at_buf_put (b, &c, 1);
}

void
at_buf_vprintf (at_buf_t *b, const char *fmt, va_list ap)
{
  va_list copy;
  va_copy (copy, ap);
  int n = vsnprintf (NULL, 0, fmt, copy);
  va_end (copy);
  if (n < 0 || !s_room (b, (size_t) n))
    return;
  vsnprintf (b->data + b->len, (size_t) n + 1, fmt, ap);
  b->len += (size_t) n;
}

void
at_buf_printf (at_buf_t *b, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  at_buf_vprintf (b, fmt, ap);
  va_end (ap);
}

void
at_buf_reset (at_buf_t *b)
{
  b->len = 0;
  b->overflow = false;
  if (b->data != NULL && b->size > 0)
    b->data[0] = '\0';
}

char *
at_buf_take (at_buf_t *b)
{
  char *text;
  if (b->fixed || b->data == NULL) {
    text = at_strndup (b->data ? b->data : "", b->len);
    at_buf_reset (b);
    return text;
  }
  text = b->data;
  b->data = NULL;
  b->len = b->size = 0;
  b->overflow = false;
  return text;
}

void
at_buf_free (at_buf_t *b)
{
  if (!b->fixed)
    free (b->data);
  b->data = NULL;
  b->len = b->size = 0;
}
