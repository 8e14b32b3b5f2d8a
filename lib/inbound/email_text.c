/* email_text: the text of an email as an agent reads it: HTML made text,
 * quoted replies and signatures dropped, bytes made valid UTF-8. Pure
 * functions, bounded by their input, safe on anything. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistr.h>

#include "at_email.h"
#include "at_text.h"

/* --- UTF-8 */

static size_t
s_put_utf8 (char *out, uint32_t uc)
{
  if (uc == 0 || uc > 0x10FFFF || (uc >= 0xD800 && uc <= 0xDFFF))
    uc = 0xFFFD;
  if (uc < 0x80) {
    out[0] = (char) uc;
    return 1;
  }
  if (uc < 0x800) {
    out[0] = (char) (0xC0 | (uc >> 6));
    out[1] = (char) (0x80 | (uc & 0x3F));
    return 2;
  }
  if (uc < 0x10000) {
    out[0] = (char) (0xE0 | (uc >> 12));
    out[1] = (char) (0x80 | ((uc >> 6) & 0x3F));
    out[2] = (char) (0x80 | (uc & 0x3F));
    return 3;
  }
  out[0] = (char) (0xF0 | (uc >> 18));
  out[1] = (char) (0x80 | ((uc >> 12) & 0x3F));
  out[2] = (char) (0x80 | ((uc >> 6) & 0x3F));
  out[3] = (char) (0x80 | (uc & 0x3F));
  return 4;
}

char *
at_email_utf8_clean (const char *bytes, size_t len, size_t max)
{
  /* each input byte gives at most 3 output bytes (U+FFFD) */
  size_t cap = (len < max ? len : max) * 3 + 4;
  char *out = at_malloc (cap);
  size_t o = 0, i = 0;
  const uint8_t *s = (const uint8_t *) (bytes ? bytes : "");
  while (i < len) {
    if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n') {
      i++;
      continue;
    }
    ucs4_t uc;
    int n = u8_mbtouc (&uc, s + i, len - i);
    size_t step = n > 0 ? (size_t) n : 1;
    if (s[i] == '\0') {
      i++;
      continue;
    }
    char enc[4];
    size_t elen;
    if (uc == 0xFFFD && !(step == 3 && s[i] == 0xEF && s[i + 1] == 0xBF && s[i + 2] == 0xBD)) {
      step = 1;                       /* an invalid byte: one replacement each */
      elen = s_put_utf8 (enc, 0xFFFD);
    }
    else {
      memcpy (enc, s + i, step);
      elen = step;
    }
    if (o + elen > max || o + elen + 1 > cap)
      break;
    memcpy (out + o, enc, elen);
    o += elen;
    i += step;
  }
  out[o] = '\0';
  return out;
}

/* --- HTML to text */

typedef struct {
  char *out;
  size_t len, cap;
} s_buf_t;

static void
s_buf_put (s_buf_t *b, const char *s, size_t n)
{
  if (b->len + n + 1 > b->cap)
    n = b->cap > b->len + 1 ? b->cap - b->len - 1 : 0;
  memcpy (b->out + b->len, s, n);
  b->len += n;
  b->out[b->len] = '\0';
}

static void
s_buf_newline (s_buf_t *b)
{
  /* at most one blank line in a row */
  if (b->len >= 2 && b->out[b->len - 1] == '\n' && b->out[b->len - 2] == '\n')
    return;
  if (b->len > 0)
    s_buf_put (b, "\n", 1);
}

static const struct { const char *name; uint32_t uc; } s_entities[] = {
  {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}, {"nbsp", ' '},
  {"copy", 0xA9}, {"reg", 0xAE}, {"hellip", 0x2026}, {"mdash", 0x2014}, {"ndash", 0x2013},
  {"laquo", 0xAB}, {"raquo", 0xBB}, {"euro", 0x20AC}, {"ccedil", 0xE7}, {"atilde", 0xE3},
  {"otilde", 0xF5}, {"aacute", 0xE1}, {"eacute", 0xE9}, {"iacute", 0xED}, {"oacute", 0xF3},
  {"uacute", 0xFA}, {"ntilde", 0xF1}, {"ecirc", 0xEA}, {"acirc", 0xE2}, {"ocirc", 0xF4},
  {"agrave", 0xE0}, {"iexcl", 0xA1}, {"iquest", 0xBF},
};

/* Decodes the entity at html[i] ('&'); returns bytes consumed (0: not one). */
static size_t
s_entity (const char *html, size_t len, size_t i, s_buf_t *b)
{
  size_t end = i + 1;
  while (end < len && end - i < 12 && html[end] != ';' && (isalnum ((unsigned char) html[end])
                                                            || html[end] == '#'))
    end++;
  if (end >= len || html[end] != ';' || end == i + 1)
    return 0;
  char name[16];
  size_t n = end - i - 1;
  memcpy (name, html + i + 1, n);
  name[n] = '\0';
  uint32_t uc = 0;
  if (name[0] == '#') {
    char *stop = NULL;
    unsigned long v = (name[1] == 'x' || name[1] == 'X') ? strtoul (name + 2, &stop, 16)
                                                          : strtoul (name + 1, &stop, 10);
    if (!stop || *stop || v > 0x10FFFF)
      return 0;
    uc = (uint32_t) v;
  }
  else {
    for (size_t k = 0; k < AT_ARRAY_LEN (s_entities) && !uc; k++)
      if (strcmp (name, s_entities[k].name) == 0)
        uc = s_entities[k].uc;
    if (!uc)
      return 0;
  }
  char enc[4];
  s_buf_put (b, enc, s_put_utf8 (enc, uc == 0xA0 ? ' ' : uc));
  return end - i + 1;
}

static bool
s_tag_is (const char *tag, size_t n, const char *name)
{
  size_t k = strlen (name);
  return n >= k && strncasecmp (tag, name, k) == 0
         && (n == k || !isalnum ((unsigned char) tag[k]));
}

/* Handles the tag html[i..] ('<'); returns the index after it. *skip_until
 * is set for script/style/head, whose content is dropped. */
static size_t
s_tag (const char *html, size_t len, size_t i, s_buf_t *b, const char **skip_until)
{
  const char *close = memchr (html + i, '>', len - i);
  size_t end = close ? (size_t) (close - html) + 1 : len;
  const char *tag = html + i + 1;
  size_t n = end - i - 1;
  bool closing = n > 0 && tag[0] == '/';
  if (closing) {
    tag++;
    n--;
  }
  static const char *const blocks[] = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4",
                                       "h5", "h6", "table", "blockquote", "ul", "ol", "hr"};
  for (size_t k = 0; k < AT_ARRAY_LEN (blocks); k++)
    if (s_tag_is (tag, n, blocks[k])) {
      s_buf_newline (b);
      break;
    }
  if (!closing) {
    if (s_tag_is (tag, n, "script"))
      *skip_until = "</script";
    else if (s_tag_is (tag, n, "style"))
      *skip_until = "</style";
    else if (s_tag_is (tag, n, "head"))
      *skip_until = "</head";
    else if (s_tag_is (tag, n, "td") || s_tag_is (tag, n, "th"))
      s_buf_put (b, " ", 1);
  }
  return end;
}

char *
at_email_html_to_text (const char *html, size_t len)
{
  s_buf_t b = {.cap = len + 2};
  b.out = at_malloc (b.cap);
  b.out[0] = '\0';
  const char *skip_until = NULL;
  bool space = false;
  for (size_t i = 0; html && i < len;) {
    if (skip_until) {
      size_t k = strlen (skip_until);
      if (i + k <= len && strncasecmp (html + i, skip_until, k) == 0)
        skip_until = NULL;
      else
        i++;
      continue;
    }
    char c = html[i];
    if (c == '<' && i + 3 < len && strncmp (html + i, "<!--", 4) == 0) {
      const char *end = NULL;
      for (size_t k = i + 4; k + 2 < len && !end; k++)
        if (html[k] == '-' && html[k + 1] == '-' && html[k + 2] == '>')
          end = html + k + 3;
      i = end ? (size_t) (end - html) : len;
      continue;
    }
    if (c == '<') {
      i = s_tag (html, len, i, &b, &skip_until);
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      space = true;
      i++;
      continue;
    }
    if (space && b.len > 0 && b.out[b.len - 1] != '\n')
      s_buf_put (&b, " ", 1);
    space = false;
    size_t used = c == '&' ? s_entity (html, len, i, &b) : 0;
    if (used == 0)
      s_buf_put (&b, html + i, 1);
    i += used ? used : 1;
  }
  while (b.len > 0 && (b.out[b.len - 1] == '\n' || b.out[b.len - 1] == ' '))
    b.out[--b.len] = '\0';
  return b.out;
}

/* --- replies and signatures */

static bool
s_starts (const char *line, size_t n, const char *prefix)
{
  size_t k = strlen (prefix);
  return n >= k && strncasecmp (line, prefix, k) == 0;
}

/* Trailing whitespace and a given suffix ("wrote:"). */
static bool
s_ends (const char *line, size_t n, const char *suffix)
{
  while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
    n--;
  size_t k = strlen (suffix);
  return n >= k && strncasecmp (line + n - k, suffix, k) == 0;
}

static bool
s_attribution_end (const char *line, size_t n)
{
  return s_ends (line, n, "wrote:") || s_ends (line, n, "escreveu:")
         || s_ends (line, n, "escribi\xc3\xb3:") || s_ends (line, n, "escribio:");
}

/* "On <date>, <name> wrote:" possibly wrapped over two lines. */
static bool
s_attribution (const char *line, size_t n, const char *next, size_t next_n)
{
  if (!(s_starts (line, n, "On ") || s_starts (line, n, "Em ") || s_starts (line, n, "El ")))
    return false;
  return s_attribution_end (line, n) || (next && s_attribution_end (next, next_n));
}

static bool
s_signature (const char *line, size_t n)
{
  static const char *const marks[] = {
    "Enviado do meu ", "Enviado de meu ", "Enviado do ", "Sent from my ", "Sent from ",
    "Enviado desde mi ", "Enviado desde ", "Get Outlook for", "Obter o Outlook",
    "Obtener Outlook", "-----Original Message-----", "-----Mensagem original-----",
    "-----Mensaje original-----", "---------- Forwarded message", "----- Mensagem encaminhada",
    "---------- Mensaje reenviado", "________________________________",
  };
  if ((n == 3 && strncmp (line, "-- ", 3) == 0) || (n == 2 && strncmp (line, "--", 2) == 0))
    return true;
  for (size_t k = 0; k < AT_ARRAY_LEN (marks); k++)
    if (s_starts (line, n, marks[k]))
      return true;
  return false;
}

/* Outlook's quoted header block: "From:" / "De:" followed by "Sent:" ... */
static bool
s_outlook_header (const char *line, size_t n, const char *next, size_t next_n)
{
  if (!(s_starts (line, n, "From: ") || s_starts (line, n, "De: ")) || !next)
    return false;
  return s_starts (next, next_n, "Sent: ") || s_starts (next, next_n, "Enviado: ")
         || s_starts (next, next_n, "Enviado el: ") || s_starts (next, next_n, "Date: ")
         || s_starts (next, next_n, "Data: ");
}

char *
at_email_strip_reply (const char *text, bool *stripped)
{
  const char *t = text ? text : "";
  size_t len = strlen (t);
  char *out = at_malloc (len + 1);
  size_t o = 0;
  bool dropped = false;
  const char *p = t;
  while (*p) {
    const char *eol = strchr (p, '\n');
    size_t n = eol ? (size_t) (eol - p) : strlen (p);
    const char *next = eol ? eol + 1 : NULL;
    size_t next_n = next ? strcspn (next, "\n") : 0;
    const char *lead = p;
    while ((size_t) (lead - p) < n && (*lead == ' ' || *lead == '\t'))
      lead++;
    size_t lead_n = n - (size_t) (lead - p);
    if (s_signature (lead, lead_n) || s_attribution (lead, lead_n, next, next_n)
        || s_outlook_header (lead, lead_n, next, next_n)) {
      dropped = true;
      break;
    }
    if (lead_n > 0 && lead[0] == '>')
      dropped = true;
    else {
      memcpy (out + o, p, n);
      o += n;
      out[o++] = '\n';
    }
    p = next ? next : p + n;
  }
  while (o > 0 && (out[o - 1] == '\n' || out[o - 1] == ' ' || out[o - 1] == '\t'))
    o--;
  out[o] = '\0';
  size_t start = strspn (out, " \t\n");
  if (out[start] == '\0') {           /* nothing of their own: keep it whole */
    free (out);
    *stripped = false;
    return at_strdup (t);
  }
  if (start > 0)
    memmove (out, out + start, o - start + 1);
  *stripped = dropped;
  return out;
}
