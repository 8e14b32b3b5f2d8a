/* at_buf: the one growable buffer. Bytes are appended, the content is always
 * NUL-terminated (so text can be read in place), and every buffer has a cap:
 * an append that would pass it is dropped and sets `overflow`, which the
 * owner checks once at the end instead of after each append.
 *
 *   at_buf_t b;
 *   at_buf_init (&b, 64 * 1024);         growable, up to 64 KiB
 *   at_buf_fixed (&b, out, sizeof out);  writes into a caller's array
 *
 * A growable buffer owns its memory (at_buf_free, or at_buf_take to keep the
 * text); a fixed one never allocates. */
#ifndef AT_BUF_H
#define AT_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
  char *data;     /* NUL-terminated content; NULL until the first append */
  size_t len;     /* bytes of content, the NUL not counted */
  size_t cap;     /* most bytes of content allowed */
  size_t size;    /* bytes allocated (or the fixed array's size) */
  bool fixed;     /* data is the caller's array */
  bool overflow;  /* an append was dropped because of the cap */
} at_buf_t;

/* A growable buffer that holds at most cap bytes of content (0: no cap other
 * than memory; only for content we produce, never for outside input). */
void at_buf_init (at_buf_t *b, size_t cap);
/* A buffer over a caller's array of `size` bytes (content at most size - 1). */
void at_buf_fixed (at_buf_t *b, char *mem, size_t size);

void at_buf_put (at_buf_t *b, const void *bytes, size_t n);
void at_buf_puts (at_buf_t *b, const char *s);
void at_buf_putc (at_buf_t *b, char c);
void at_buf_printf (at_buf_t *b, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
void at_buf_vprintf (at_buf_t *b, const char *fmt, va_list ap);

/* Empties the content, keeps the memory (and clears overflow). */
void at_buf_reset (at_buf_t *b);
/* Gives the content to the caller (free() it; "" when nothing was written)
 * and leaves the buffer empty. For a fixed buffer returns a copy. */
char *at_buf_take (at_buf_t *b);
/* Releases a growable buffer's memory; safe on a fixed or empty one. */
void at_buf_free (at_buf_t *b);

#endif
