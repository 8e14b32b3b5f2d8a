/* Fuzz: HTML email bodies made text (at_email_html_to_text, libxml2's HTML
 * parser and the walk over its tree), on the raw bytes and on the bytes
 * made UTF-8 first as the callers do. Whatever comes in, the text is valid
 * UTF-8, no longer than the HTML read (up to its first NUL), has no control
 * characters but line ends, no run of more than one blank line, and no
 * whitespace at its end. */
#include <stdlib.h>
#include <string.h>
#include "at_email.h"
#include "at_text.h"

static void
s_check (const char *html, size_t len)
{
  char *text = at_email_html_to_text (html, len);
  if (!text)
    abort ();
  size_t n = strlen (text);
  if (n > strnlen (html, len) || !at_text_valid_utf8 (text, n) || strstr (text, "\n\n\n"))
    abort ();
  if (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\n'))
    abort ();
  for (size_t i = 0; i < n; i++)
    if ((unsigned char) text[i] < 0x20 && text[i] != '\n')
      abort ();
  free (text);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size > 256 * 1024)
    return 0;
  s_check ((const char *) data, size);
  char *clean = at_email_utf8_clean ((const char *) data, size, AT_TEXT_MAX * 2);
  s_check (clean, strlen (clean));
  free (clean);
  return 0;
}
