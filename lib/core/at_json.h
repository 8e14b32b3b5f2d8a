/* at_json: jansson helpers. JSON is parsed by jansson and written by
 * at_json_dump, which escapes and caps size; never built with printf. */
#ifndef AT_JSON_H
#define AT_JSON_H

#include <jansson.h>
#include "at_common.h"

/* Serialises compactly; NULL if the result would exceed cap bytes. */
char *at_json_dump (const json_t *value, size_t cap);

/* Parses a request body (rejects duplicate keys, requires an object).
 * On failure returns NULL and writes a human reason. */
json_t *at_json_parse_object (const char *body, size_t len, char *reason, size_t reason_cap);

/* Field readers for request validation. They return AT_OK, AT_NOTFOUND
 * (absent or null; *out untouched) or AT_INVALID (wrong type or out of range). */
int at_json_get_string (const json_t *obj, const char *field, size_t max_len, const char **out);
int at_json_get_int (const json_t *obj, const char *field, long long min, long long max, long long *out);

/* RFC 9457 problem document: {"type","title","status","detail","field"?}.
 * type is "https://atende.dev/problems/<slug>". Returns a malloc'd string. */
char *at_problem_new (int status, const char *slug, const char *title, const char *detail,
                      const char *field);

#endif
