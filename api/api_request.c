/* api_request: what a handler reads from its request: headers and query
 * arguments, the media type, the trace and path ids, and the fields of a
 * JSON body (refusals as problems naming the field). Calls only
 * api_answer.c. */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "api_internal.h"
#include "at_json.h"

const char *
api_header (const api_request_t *req, const char *name)
{
  if (!req || !req->conn || !name)
    return NULL;
  return MHD_lookup_connection_value (req->conn, MHD_HEADER_KIND, name);
}

const char *
api_query (const api_request_t *req, const char *name)
{
  if (!req || !req->conn || !name)
    return NULL;
  return MHD_lookup_connection_value (req->conn, MHD_GET_ARGUMENT_KIND, name);
}

bool
api_content_is (const api_request_t *req, const char *type)
{
  size_t n = strlen (type);
  const char *ct = req->content_type;
  if (!ct || strncasecmp (ct, type, n) != 0)
    return false;
  return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

const char *
api_trace_id (const api_request_t *req)
{
  return at_uuid_valid (req->request_id) ? req->request_id : NULL;
}

static uint64_t
s_fnv1a (const char *data, size_t len)
{
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char) data[i];
    h *= 1099511628211ULL;
  }
  return h;
}

void
api_reply_tagged (api_request_t *req, const char *type, char *text, const char *cache_control)
{
  snprintf (req->etag, sizeof req->etag, "\"%016llx\"",
            (unsigned long long) s_fnv1a (text, strlen (text)));
  req->cache_control = cache_control;
  const char *inm = api_header (req, "If-None-Match");
  if (inm && (strstr (inm, req->etag) || strcmp (inm, "*") == 0)) {
    free (text);
    api_reply_text (req, 304, type, at_strdup (""));
    return;
  }
  api_reply_text (req, 200, type, text);
}

void
api_reply_json_tagged (api_request_t *req, json_t *doc, const char *cache_control)
{
  char *text = doc ? at_json_dump (doc, API_REPLY_CAP) : NULL;
  json_decref (doc);
  if (!text)
    api_reply_json (req, 200, NULL);     /* logged, 500 */
  else
    api_reply_tagged (req, "application/json", text, cache_control);
}

bool
api_param_id (const api_request_t *req, int64_t *id_out)
{
  long id = 0;
  if (at_parse_long (req->param, 1, INT64_MAX, &id) != AT_OK)
    return false;
  *id_out = id;
  return true;
}

json_t *
api_body_object (const char *body, size_t len, api_problem_t *p)
{
  char reason[160] = "";
  json_t *obj = at_json_parse_object (body ? body : "", body ? len : 0, reason, sizeof reason);
  if (!obj)
    api_problem (p, 400, NULL, "the body is not a JSON object: %s", reason);
  return obj;
}

int
api_field_string (const json_t *obj, const char *field, size_t max_len, bool required,
                  const char **out, api_problem_t *p)
{
  const char *value = NULL;
  int rc = at_json_get_string (obj, field, max_len, &value);
  if (rc == AT_NOTFOUND) {
    *out = NULL;
    if (required)
      return api_problem (p, 400, field, "field \"%s\" is required", field);
    return AT_OK;
  }
  if (rc != AT_OK) {
    const json_t *v = json_object_get (obj, field);
    if (v && json_is_string (v))
      return api_problem (p, 422, field, "field \"%s\" is longer than %zu bytes", field, max_len);
    return api_problem (p, 400, field, "field \"%s\" must be a string", field);
  }
  if (value[0] == '\0' && !required) {
    *out = NULL;      /* an empty optional field is an absent one */
    return AT_OK;
  }
  if (value[0] == '\0')
    return api_problem (p, 422, field, "field \"%s\" must not be empty", field);
  *out = value;
  return AT_OK;
}
