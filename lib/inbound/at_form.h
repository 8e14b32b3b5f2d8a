/* at_form: application/x-www-form-urlencoded bodies (Twilio, Mailgun), parsed
 * strictly and with caps. "a=1&b=x+y%21" -> (a, "1"), (b, "x y!"): '+' is a
 * space, %XX a byte; a pair without '=' has an empty value. Refused (AT_INVALID
 * with a reason): an empty pair ("a=1&&b"), an empty name, a bad or
 * truncated %XX, a decoded NUL byte, more than AT_FORM_FIELDS_MAX pairs, a
 * name longer than AT_FORM_NAME_MAX bytes. Fields keep the body's order. */
#ifndef AT_FORM_H
#define AT_FORM_H

#include "at_common.h"

#define AT_FORM_FIELDS_MAX 256
#define AT_FORM_NAME_MAX 256

typedef struct {
  char *name;            /* decoded, NUL-terminated */
  char *value;           /* decoded, NUL-terminated */
  size_t value_len;
} at_form_field_t;

/* A file part of a multipart/form-data body (Mailgun's attachments). */
typedef struct {
  char *field;           /* the part's name ("attachment-1") */
  char *filename;        /* as sent, "" when none */
  char *content_type;    /* "application/octet-stream" when none */
  uint8_t *data;         /* the bytes */
  size_t len;
} at_form_file_t;

#define AT_FORM_BOUNDARY_MAX 70      /* RFC 2046 */
#define AT_FORM_PART_HEADERS_MAX 8192

typedef struct at_form at_form_t;

int at_form_parse (const char *body, size_t len, at_form_t **out, char *reason,
                   size_t reason_cap);
void at_form_destroy (at_form_t **self_p);
/* multipart/form-data (RFC 7578) with the boundary of the Content-Type
 * header (at_form_boundary). Parts without a filename are fields (a NUL in
 * one is refused); parts with one are files. Refused: a missing or bad
 * boundary, a part without Content-Disposition: form-data; name=..., part
 * headers over AT_FORM_PART_HEADERS_MAX bytes, more than AT_FORM_FIELDS_MAX
 * parts, a body that does not end with the closing delimiter. */
int at_form_parse_multipart (const char *body, size_t len, const char *boundary,
                             at_form_t **out, char *reason, size_t reason_cap);
/* The boundary parameter of a multipart Content-Type into out; AT_INVALID
 * when absent, empty, longer than AT_FORM_BOUNDARY_MAX or badly quoted. */
int at_form_boundary (const char *content_type, char *out, size_t cap);
size_t at_form_file_count (const at_form_t *self);
const at_form_file_t *at_form_file (const at_form_t *self, size_t i);
/* An empty form, and adding a field to it (copied); AT_INVALID past
 * AT_FORM_FIELDS_MAX fields or for a name that is empty or too long. */
at_form_t *at_form_new (void);
int at_form_add (at_form_t *self, const char *name, const char *value);

size_t at_form_count (const at_form_t *self);
const at_form_field_t *at_form_field (const at_form_t *self, size_t i);
/* The first field called name; NULL when absent. */
const char *at_form_get (const at_form_t *self, const char *name);
/* The fields sorted by name, then value (byte order), as Twilio signs them:
 * an array of count() borrowed pointers, caller frees the array. */
const at_form_field_t **at_form_sorted (const at_form_t *self);

#endif
