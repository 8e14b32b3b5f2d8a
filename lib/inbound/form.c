/* Strict, capped form bodies: application/x-www-form-urlencoded and
 * multipart/form-data. */
#define _GNU_SOURCE   /* memmem, strcasestr, strndup */
#include "at_form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct at_form {
  at_form_field_t *fields;
  size_t count;
  size_t cap;
  at_form_file_t *files;
  size_t file_count;
  size_t file_cap;
};

static int
s_hex (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Decodes src[0..len) into a new string; NULL (reason set) when malformed. */
static char *
s_decode (const char *src, size_t len, size_t *out_len, char *reason, size_t reason_cap)
{
  char *out = at_malloc (len + 1);
  size_t o = 0;
  const char *why = NULL;
  for (size_t i = 0; i < len && !why; i++) {
    char c = src[i];
    if (c == '+')
      c = ' ';
    else if (c == '%') {
      int hi = len - i >= 3 ? s_hex (src[i + 1]) : -1;
      int lo = len - i >= 3 ? s_hex (src[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        why = "a % not followed by two hex digits";
        break;
      }
      c = (char) (hi * 16 + lo);
      i += 2;
      if (c == '\0')
        why = "a field holds a NUL byte (%00)";
    }
    else if (c == '\0')
      why = "the body holds a NUL byte";
    out[o++] = c;
  }
  if (why) {
    snprintf (reason, reason_cap, "%s", why);
    free (out);
    return NULL;
  }
  out[o] = '\0';
  *out_len = o;
  return out;
}

/* Parses one "name=value" pair into field. */
static int
s_pair (const char *pair, size_t len, at_form_field_t *field, char *reason, size_t reason_cap)
{
  const char *eq = memchr (pair, '=', len);
  size_t name_len = eq ? (size_t) (eq - pair) : len;
  size_t decoded = 0;
  if (name_len == 0) {
    snprintf (reason, reason_cap, "a field without a name");
    return AT_INVALID;
  }
  field->name = s_decode (pair, name_len, &decoded, reason, reason_cap);
  if (!field->name)
    return AT_INVALID;
  if (decoded > AT_FORM_NAME_MAX) {
    snprintf (reason, reason_cap, "a field name longer than %d bytes", AT_FORM_NAME_MAX);
    return AT_INVALID;
  }
  const char *value = eq ? eq + 1 : pair + len;
  field->value = s_decode (value, (size_t) (pair + len - value), &field->value_len, reason,
                           reason_cap);
  return field->value ? AT_OK : AT_INVALID;
}

int
at_form_parse (const char *body, size_t len, at_form_t **out, char *reason, size_t reason_cap)
{
  at_form_t *self = at_calloc (1, sizeof *self);
  int rc = AT_OK;
  *out = NULL;
  reason[0] = '\0';
  size_t pairs = len ? 1 : 0;
  for (size_t i = 0; i < len; i++)
    pairs += body[i] == '&';
  if (pairs > AT_FORM_FIELDS_MAX) {
    snprintf (reason, reason_cap, "more than %d fields", AT_FORM_FIELDS_MAX);
    rc = AT_INVALID;
    goto out;
  }
  self->fields = at_calloc (pairs ? pairs : 1, sizeof *self->fields);
  self->cap = pairs;
  const char *p = body, *end = body + len;
  while (pairs > 0 && rc == AT_OK) {
    const char *amp = memchr (p, '&', (size_t) (end - p));
    const char *stop = amp ? amp : end;
    if (stop == p) {
      snprintf (reason, reason_cap, "an empty field (\"&&\" or a leading or trailing '&')");
      rc = AT_INVALID;
      break;
    }
    rc = s_pair (p, (size_t) (stop - p), &self->fields[self->count++], reason, reason_cap);
    if (!amp)
      break;
    p = amp + 1;
    if (p == end) {
      snprintf (reason, reason_cap, "an empty field (\"&&\" or a leading or trailing '&')");
      rc = AT_INVALID;
    }
  }
out:
  if (rc == AT_OK)
    *out = self;
  else
    at_form_destroy (&self);
  return rc;
}

void
at_form_destroy (at_form_t **self_p)
{
  at_form_t *self = self_p ? *self_p : NULL;
  if (!self)
    return;
  for (size_t i = 0; i < self->count; i++) {
    free (self->fields[i].name);
    free (self->fields[i].value);
  }
  free (self->fields);
  for (size_t i = 0; i < self->file_count; i++) {
    free (self->files[i].field);
    free (self->files[i].filename);
    free (self->files[i].content_type);
    free (self->files[i].data);
  }
  free (self->files);
  free (self);
  *self_p = NULL;
}

at_form_t *
at_form_new (void)
{
  return at_calloc (1, sizeof (at_form_t));
}

int
at_form_add (at_form_t *self, const char *name, const char *value)
{
  size_t name_len = strlen (name);
  if (name_len == 0 || name_len > AT_FORM_NAME_MAX || self->count >= AT_FORM_FIELDS_MAX)
    return AT_INVALID;
  if (self->count == self->cap) {
    size_t cap = self->cap ? self->cap * 2 : 8;
    at_form_field_t *grown = realloc (self->fields, cap * sizeof *grown);
    if (!grown)
      abort ();
    self->fields = grown;
    self->cap = cap;
  }
  at_form_field_t *f = &self->fields[self->count++];
  f->name = at_strdup (name);
  f->value = at_strdup (value);
  f->value_len = strlen (value);
  return AT_OK;
}

size_t
at_form_count (const at_form_t *self)
{
  return self ? self->count : 0;
}

const at_form_field_t *
at_form_field (const at_form_t *self, size_t i)
{
  return self && i < self->count ? &self->fields[i] : NULL;
}

const char *
at_form_get (const at_form_t *self, const char *name)
{
  for (size_t i = 0; self && i < self->count; i++)
    if (strcmp (self->fields[i].name, name) == 0)
      return self->fields[i].value;
  return NULL;
}

static int
s_by_name_value (const void *a, const void *b)
{
  const at_form_field_t *x = *(const at_form_field_t *const *) a;
  const at_form_field_t *y = *(const at_form_field_t *const *) b;
  int c = strcmp (x->name, y->name);
  return c ? c : strcmp (x->value, y->value);
}

const at_form_field_t **
at_form_sorted (const at_form_t *self)
{
  size_t n = at_form_count (self);
  const at_form_field_t **sorted = at_calloc (n ? n : 1, sizeof *sorted);
  for (size_t i = 0; i < n; i++)
    sorted[i] = &self->fields[i];
  qsort (sorted, n, sizeof *sorted, s_by_name_value);
  return sorted;
}

/* --- multipart/form-data */

size_t
at_form_file_count (const at_form_t *self)
{
  return self ? self->file_count : 0;
}

const at_form_file_t *
at_form_file (const at_form_t *self, size_t i)
{
  return self && i < self->file_count ? &self->files[i] : NULL;
}

/* RFC 2046 bchars, without the space (never seen in practice, and a trailing
 * one is not allowed). */
static bool
s_bchar (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
         || strchr ("'()+_,-./:=?", c) != NULL;
}

int
at_form_boundary (const char *content_type, char *out, size_t cap)
{
  const char *p = content_type ? strcasestr (content_type, "boundary=") : NULL;
  if (!p)
    return AT_INVALID;
  p += 9;
  bool quoted = *p == '"';
  p += quoted;
  size_t n = 0;
  while (p[n] && p[n] != '"' && p[n] != ';' && s_bchar (p[n]))
    n++;
  if (n == 0 || n > AT_FORM_BOUNDARY_MAX || n >= cap || (quoted && p[n] != '"')
      || (!quoted && p[n] && p[n] != ';' && p[n] != ' '))
    return AT_INVALID;
  memcpy (out, p, n);
  out[n] = '\0';
  return AT_OK;
}

/* A parameter of a Content-Disposition header: name="value" or name=token. */
static char *
s_disposition_param (const char *h, size_t len, const char *name)
{
  size_t nlen = strlen (name);
  for (size_t i = 0; i + nlen + 1 < len; i++) {
    if ((i > 0 && h[i - 1] != ';' && h[i - 1] != ' ') || strncasecmp (h + i, name, nlen) != 0
        || h[i + nlen] != '=')
      continue;
    const char *v = h + i + nlen + 1, *end = h + len;
    if (v < end && *v == '"') {
      const char *close = memchr (v + 1, '"', (size_t) (end - v - 1));
      if (!close)
        return NULL;
      return at_strndup (v + 1, (size_t) (close - v - 1));
    }
    size_t n = 0;
    while (v + n < end && v[n] != ';' && v[n] != ' ')
      n++;
    return n ? at_strndup (v, n) : NULL;
  }
  return NULL;
}

typedef struct {
  char *name;
  char *filename;
  char *content_type;
} s_part_t;

/* Reads the part headers hdr[0..len): CRLF-separated lines. */
static int
s_part_headers (const char *hdr, size_t len, s_part_t *part, char *reason, size_t cap)
{
  const char *p = hdr, *end = hdr + len;
  bool disposition = false;
  while (p < end) {
    const char *eol = memmem (p, (size_t) (end - p), "\r\n", 2);
    size_t n = eol ? (size_t) (eol - p) : (size_t) (end - p);
    if (n > 20 && strncasecmp (p, "Content-Disposition:", 20) == 0) {
      const char *v = p + 20;
      while (v < p + n && *v == ' ')
        v++;
      if ((size_t) (p + n - v) < 9 || strncasecmp (v, "form-data", 9) != 0)
        break;
      disposition = true;
      free (part->name);
      free (part->filename);
      part->name = s_disposition_param (v, (size_t) (p + n - v), "name");
      part->filename = s_disposition_param (v, (size_t) (p + n - v), "filename");
    }
    else if (n > 13 && strncasecmp (p, "Content-Type:", 13) == 0) {
      const char *v = p + 13;
      while (v < p + n && *v == ' ')
        v++;
      free (part->content_type);
      part->content_type = at_strndup (v, (size_t) (p + n - v));
    }
    p = eol ? eol + 2 : end;
  }
  if (!disposition || !part->name || !part->name[0] || strlen (part->name) > AT_FORM_NAME_MAX
      || memchr (hdr, '\0', len)) {
    snprintf (reason, cap, "a part without Content-Disposition: form-data; name=...");
    return AT_INVALID;
  }
  return AT_OK;
}

static int
s_part_add (at_form_t *self, s_part_t *part, const char *data, size_t len, char *reason,
            size_t cap)
{
  if (self->count + self->file_count >= AT_FORM_FIELDS_MAX) {
    snprintf (reason, cap, "more than %d parts", AT_FORM_FIELDS_MAX);
    return AT_INVALID;
  }
  if (!part->filename) {
    if (memchr (data, '\0', len)) {
      snprintf (reason, cap, "field %.64s holds a NUL byte", part->name);
      return AT_INVALID;
    }
    char *value = at_strndup (data, len);
    int rc = at_form_add (self, part->name, value);
    free (value);
    return rc;
  }
  if (self->file_count == self->file_cap) {
    self->file_cap = self->file_cap ? self->file_cap * 2 : 4;
    at_form_file_t *grown = realloc (self->files, self->file_cap * sizeof *grown);
    if (!grown)
      abort ();
    self->files = grown;
  }
  at_form_file_t *f = &self->files[self->file_count++];
  f->field = part->name;
  f->filename = part->filename;
  f->content_type = part->content_type ? part->content_type
                                       : at_strdup ("application/octet-stream");
  part->name = part->filename = part->content_type = NULL;
  f->data = at_malloc (len ? len : 1);
  memcpy (f->data, data, len);
  f->len = len;
  return AT_OK;
}

/* One part starting at p (after its delimiter line); *next is past the next
 * delimiter, *last true when it was the closing one. */
static int
s_part (at_form_t *self, const char *p, const char *end, const char *delim, size_t dlen,
        const char **next, bool *last, char *reason, size_t cap)
{
  s_part_t part = { NULL, NULL, NULL };
  int rc = AT_INVALID;
  size_t hmax = (size_t) (end - p) < AT_FORM_PART_HEADERS_MAX + 4 ? (size_t) (end - p)
                                                                   : AT_FORM_PART_HEADERS_MAX + 4;
  const char *hend = memmem (p, hmax, "\r\n\r\n", 4);
  const char *data = hend ? hend + 4 : NULL;
  const char *stop = data ? memmem (data, (size_t) (end - data), delim, dlen) : NULL;
  if (!hend || !stop) {
    snprintf (reason, cap, hend ? "a part without a closing delimiter"
                                : "part headers missing or longer than %d bytes",
              AT_FORM_PART_HEADERS_MAX);
    goto out;
  }
  if (s_part_headers (p, (size_t) (hend - p), &part, reason, cap) != AT_OK
      || s_part_add (self, &part, data, (size_t) (stop - data), reason, cap) != AT_OK)
    goto out;
  const char *after = stop + dlen;
  if (end - after >= 2 && after[0] == '-' && after[1] == '-')
    *last = true, *next = after + 2;
  else if (end - after >= 2 && after[0] == '\r' && after[1] == '\n')
    *last = false, *next = after + 2;
  else {
    snprintf (reason, cap, "a delimiter followed by neither CRLF nor \"--\"");
    goto out;
  }
  rc = AT_OK;
out:
  free (part.name);
  free (part.filename);
  free (part.content_type);
  return rc;
}

int
at_form_parse_multipart (const char *body, size_t len, const char *boundary, at_form_t **out,
                         char *reason, size_t reason_cap)
{
  char delim[AT_FORM_BOUNDARY_MAX + 5];
  at_form_t *self = at_form_new ();
  const char *end = body + len;
  int rc = AT_INVALID;
  *out = NULL;
  reason[0] = '\0';
  size_t blen = boundary ? strlen (boundary) : 0;
  if (blen == 0 || blen > AT_FORM_BOUNDARY_MAX) {
    snprintf (reason, reason_cap, "no multipart boundary");
    goto out;
  }
  snprintf (delim, sizeof delim, "\r\n--%s", boundary);
  size_t dlen = blen + 4;
  /* the first delimiter has no CRLF before it when there is no preamble */
  const char *p = NULL;
  if (len >= dlen && memcmp (body, delim + 2, dlen - 2) == 0)
    p = body + dlen - 2;
  else {
    const char *first = memmem (body, len, delim, dlen);
    p = first ? first + dlen : NULL;
  }
  if (!p || end - p < 2 || p[0] != '\r' || p[1] != '\n') {
    snprintf (reason, reason_cap, "the body does not start with the boundary");
    goto out;
  }
  p += 2;
  bool last = false;
  while (!last)
    if (s_part (self, p, end, delim, dlen, &p, &last, reason, reason_cap) != AT_OK)
      goto out;
  rc = AT_OK;
out:
  if (rc == AT_OK)
    *out = self;
  else
    at_form_destroy (&self);
  return rc;
}
