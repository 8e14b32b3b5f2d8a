/* jansson helpers: capped writer, strict request parsing, problem documents. */
#include "at_json.h"
#include "at_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* jansson's dump callback: each chunk into the capped buffer; -1 stops it. */
static int
s_sink (const char *chunk, size_t size, void *data)
{
  at_buf_t *b = data;
  at_buf_put (b, chunk, size);
  return b->overflow ? -1 : 0;
}

char *
at_json_dump (const json_t *value, size_t cap)
{
  at_buf_t b;
  if (cap == 0)
    return NULL;       /* no JSON text is empty */
  at_buf_init (&b, cap);
  if (json_dump_callback (value, s_sink, &b, JSON_COMPACT | JSON_ENCODE_ANY) != 0) {
    at_buf_free (&b);
    return NULL;
  }
  return at_buf_take (&b);
}

json_t *
at_json_parse_object (const char *body, size_t len, char *reason, size_t reason_cap)
{
  json_error_t err;
  json_t *root = json_loadb (body, len, JSON_REJECT_DUPLICATES, &err);
  if (root == NULL) {
    snprintf (reason, reason_cap, "body is not valid JSON: %s (line %d, column %d)", err.text,
              err.line, err.column);
    return NULL;
  }
  if (!json_is_object (root)) {
    snprintf (reason, reason_cap, "body must be a JSON object");
    json_decref (root);
    return NULL;
  }
  return root;
}

int
at_json_get_string (const json_t *obj, const char *field, size_t max_len, const char **out)
{
  json_t *v = json_object_get (obj, field);
  if (v == NULL || json_is_null (v))
    return AT_NOTFOUND;
  if (!json_is_string (v) || json_string_length (v) > max_len
      || strlen (json_string_value (v)) != json_string_length (v))   /* embedded NUL */
    return AT_INVALID;
  *out = json_string_value (v);
  return AT_OK;
}

int
at_json_get_int (const json_t *obj, const char *field, long long min, long long max,
                 long long *out)
{
  json_t *v = json_object_get (obj, field);
  if (v == NULL || json_is_null (v))
    return AT_NOTFOUND;
  if (!json_is_integer (v))
    return AT_INVALID;
  long long n = json_integer_value (v);
  if (n < min || n > max)
    return AT_INVALID;
  *out = n;
  return AT_OK;
}

char *
at_problem_new (int status, const char *slug, const char *title, const char *detail,
                const char *field)
{
  char type[160];
  snprintf (type, sizeof type, "https://atende.dev/problems/%s", slug);
  json_t *doc = json_pack ("{s:s, s:s, s:i, s:s}", "type", type, "title", title, "status", status,
                           "detail", detail ? detail : title);
  if (field)
    json_object_set_new (doc, "field", json_string (field));
  char *text = at_json_dump (doc, 8192);
  json_decref (doc);
  return text ? text : at_strdup ("{\"title\":\"error\"}");
}
