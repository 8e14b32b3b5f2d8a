/* email_text: the text of an email as an agent reads it: HTML made text
 * (libxml2's HTML parser), quoted replies and signatures dropped, bytes made
 * valid UTF-8 (libunistring). Pure functions, bounded by their input, safe
 * on anything. */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistr.h>
#include <gmime/gmime.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>

#include "at_buf.h"
#include "at_email.h"
#include "at_text.h"

/* --- the libraries, once per process */

static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void
s_init (void)
{
  g_mime_init ();
  xmlInitParser ();   /* libxml2's globals, before threads parse */
}

void
at_email_init (void)
{
  pthread_once (&s_once, s_init);
}

/* --- UTF-8 */

char *
at_email_utf8_clean (const char *bytes, size_t len, size_t max)
{
  /* each input byte gives at most 3 output bytes (U+FFFD) */
  size_t cap = (len < max ? len : max) * 3 + 4;
  char *out = at_malloc (cap);
  size_t o = 0, i = 0;
  const uint8_t *s = (const uint8_t *) (bytes ? bytes : "");
  while (i < len) {
    if ((s[i] == '\r' && i + 1 < len && s[i + 1] == '\n') || s[i] == '\0') {
      i++;
      continue;
    }
    ucs4_t uc;
    int n = u8_mbtoucr (&uc, s + i, len - i);   /* < 0: invalid or cut short */
    uint8_t enc[4];
    int elen = n > 0 ? n : u8_uctomb (enc, 0xFFFD, sizeof enc);
    if (o + (size_t) elen > max || o + (size_t) elen + 1 > cap)
      break;
    memcpy (out + o, n > 0 ? s + i : enc, (size_t) elen);
    o += (size_t) elen;
    i += n > 0 ? (size_t) n : 1;   /* an invalid byte: one replacement each */
  }
  out[o] = '\0';
  return out;
}

/* --- HTML to text: libxml2 parses (entities, comments, unclosed tags, the
 * charset), this walks the tree and writes what a reader sees. */

typedef enum {
  S_INLINE = 0, S_SKIP, S_PARA, S_LINE, S_ITEM, S_LIST, S_BREAK, S_CELL,
} s_kind_t;

#define S_INDENT_MAX 8   /* list levels shown by indentation */

typedef struct {
  at_buf_t buf;      /* capped at the input's length */
  int pending;       /* line breaks owed before the next character: 0, 1, 2 */
  bool space;        /* whitespace since the last character */
  int bullet;        /* an item's bullet is owed, at this list depth; 0 none */
  int lists;         /* ul/ol open around the current node */
} s_text_t;

static s_kind_t
s_kind (const xmlNode *n)
{
  static const struct { const char *name; s_kind_t kind; } elements[] = {
    {"script", S_SKIP}, {"style", S_SKIP}, {"head", S_SKIP}, {"title", S_SKIP},
    {"template", S_SKIP}, {"p", S_PARA}, {"h1", S_PARA}, {"h2", S_PARA}, {"h3", S_PARA},
    {"h4", S_PARA}, {"h5", S_PARA}, {"h6", S_PARA}, {"blockquote", S_PARA}, {"pre", S_PARA},
    {"table", S_PARA}, {"hr", S_PARA}, {"dl", S_PARA}, {"div", S_LINE}, {"tr", S_LINE},
    {"dt", S_LINE}, {"dd", S_LINE}, {"section", S_LINE}, {"article", S_LINE},
    {"header", S_LINE}, {"footer", S_LINE}, {"address", S_LINE}, {"center", S_LINE},
    {"caption", S_LINE}, {"form", S_LINE}, {"li", S_ITEM}, {"ul", S_LIST}, {"ol", S_LIST},
    {"br", S_BREAK}, {"td", S_CELL}, {"th", S_CELL},
  };
  for (size_t i = 0; n->name && i < AT_ARRAY_LEN (elements); i++)
    if (strcasecmp ((const char *) n->name, elements[i].name) == 0)
      return elements[i].kind;
  return S_INLINE;
}

static void
s_owe (s_text_t *t, int breaks)
{
  if (t->pending < breaks)
    t->pending = breaks;
}

/* One character, after the breaks, space or bullet owed before it. The
 * whole append fits or the text ends there (never half a character). */
static void
s_put (s_text_t *t, ucs4_t uc)
{
  char out[32];
  size_t n = 0;
  if (t->buf.len > 0 && t->pending) {
    for (int i = 0; i < t->pending; i++)
      out[n++] = '\n';
  } else if (t->buf.len > 0 && t->space)
    out[n++] = ' ';
  for (int i = 1; t->bullet && i < t->bullet && i < S_INDENT_MAX; i++, n += 2)
    memcpy (out + n, "  ", 2);
  if (t->bullet) {
    memcpy (out + n, "- ", 2);
    n += 2;
  }
  int k = u8_uctomb ((uint8_t *) out + n, uc, 6);
  n += k > 0 ? (size_t) k : 0;
  if (n > t->buf.cap - t->buf.len) {
    t->buf.overflow = true;
    return;
  }
  at_buf_put (&t->buf, out, n);
  t->pending = t->bullet = 0;
  t->space = false;
}

/* A text node's characters: whitespace runs (no-break space too) folded. */
static void
s_text (s_text_t *t, const xmlChar *content)
{
  const uint8_t *s = content;
  size_t len = s ? strlen ((const char *) s) : 0;
  for (size_t i = 0; i < len && !t->buf.overflow;) {
    ucs4_t uc;
    int n = u8_mbtouc (&uc, s + i, len - i);   /* invalid: U+FFFD */
    i += n > 0 ? (size_t) n : 1;
    if (uc == ' ' || uc == '\t' || uc == '\n' || uc == '\r' || uc == '\f' || uc == 0xA0)
      t->space = true;
    else if (uc >= 0x20 && uc != 0x7F)
      s_put (t, uc);
  }
}

/* Entering a node: false when its children are not read. */
static bool
s_enter (s_text_t *t, const xmlNode *n)
{
  if (n->type == XML_TEXT_NODE)
    s_text (t, n->content);
  if (n->type != XML_ELEMENT_NODE)
    return false;   /* comments, CDATA (script and style bodies), PIs, DTD */
  switch (s_kind (n)) {
  case S_SKIP: return false;
  case S_PARA: s_owe (t, 2); break;
  case S_LINE: s_owe (t, 1); break;
  case S_ITEM: s_owe (t, 1); t->bullet = t->lists > 0 ? t->lists : 1; break;
  case S_LIST: s_owe (t, t->lists > 0 ? 1 : 2); t->lists++; break;
  case S_BREAK: t->pending = t->pending < 2 ? t->pending + 1 : 2; break;
  case S_CELL: t->space = true; break;
  case S_INLINE: break;
  }
  return true;
}

static void
s_leave (s_text_t *t, const xmlNode *n)
{
  if (n->type != XML_ELEMENT_NODE)
    return;
  switch (s_kind (n)) {
  case S_PARA: s_owe (t, 2); break;
  case S_LINE: s_owe (t, 1); break;
  case S_ITEM: s_owe (t, 1); t->bullet = 0; break;
  case S_LIST: t->lists--; s_owe (t, t->lists > 0 ? 1 : 2); break;
  default: break;
  }
}

/* Depth first without recursion (libxml2 already caps the depth at 256). */
static void
s_walk (s_text_t *t, xmlDoc *doc)
{
  xmlNode *n = doc->children;
  while (n && !t->buf.overflow) {
    if (s_enter (t, n) && n->children) {
      n = n->children;
      continue;
    }
    s_leave (t, n);
    while (!n->next && n->parent && n->parent != (xmlNode *) doc) {
      n = n->parent;
      s_leave (t, n);
    }
    n = n->next;
  }
}

char *
at_email_html_to_text (const char *html, size_t len)
{
  size_t n = html ? strnlen (html, len) : 0;   /* up to a NUL, like the callers' text */
  if (n > INT_MAX)
    n = INT_MAX;                              /* libxml2 takes an int size */
  if (n == 0)
    return at_strdup ("");
  at_email_init ();
  /* Whitespace-only text between inline elements is a space a reader sees,
   * so no HTML_PARSE_NOBLANKS. The text is UTF-8 (callers clean it), which
   * a <meta charset> in it does not override. */
  htmlDocPtr doc = htmlReadMemory (html, (int) n, NULL, "UTF-8",
                                   HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
  s_text_t t = {.pending = 0};
  at_buf_init (&t.buf, n);   /* the text is never longer than its HTML */
  if (doc)
    s_walk (&t, doc);
  xmlFreeDoc (doc);
  return at_buf_take (&t.buf);
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
