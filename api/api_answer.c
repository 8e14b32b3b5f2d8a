/* api_answer: the answer a request gets: RFC 9457 problem documents (naming
 * the field), JSON, text, and the 503s with Retry-After. The lowest file of
 * the api: it calls no other. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api_internal.h"
#include "at_json.h"
#include "at_log.h"

static const char *
s_problem_title (int status)
{
  switch (status) {
  case 400: return "Bad request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not found";
  case 405: return "Method not allowed";
  case 409: return "Conflict";
  case 413: return "Request body too large";
  case 415: return "Unsupported media type";
  case 422: return "Unprocessable content";
  case 503: return "Service unavailable";
  default:  return "Internal error";
  }
}

static const char *
s_problem_slug (int status)
{
  switch (status) {
  case 400: return "bad-request";
  case 401: return "unauthorized";
  case 403: return "forbidden";
  case 404: return "not-found";
  case 405: return "method-not-allowed";
  case 409: return "conflict";
  case 413: return "body-too-large";
  case 415: return "unsupported-media-type";
  case 422: return "invalid-field";
  case 503: return "unavailable";
  default:  return "internal";
  }
}

int
api_problem (api_problem_t *p, int status, const char *field, const char *fmt, ...)
{
  va_list ap;
  p->status = status;
  p->slug = s_problem_slug (status);
  p->title = s_problem_title (status);
  p->field = field;
  va_start (ap, fmt);
  vsnprintf (p->detail, sizeof p->detail, fmt, ap);
  va_end (ap);
  return AT_INVALID;
}

static void
s_set_reply (api_request_t *req, int status, const char *type, char *text)
{
  free (req->reply);
  req->status = status;
  req->reply_type = type;
  req->reply = text;
}

void
api_reply_text (api_request_t *req, int status, const char *type, char *text)
{
  s_set_reply (req, status, type, text);
}

/* A problem about no one field says so: "field": null. */
static char *
s_field_null (char *text)
{
  json_t *doc = json_loads (text, 0, NULL);
  if (!doc || json_object_get (doc, "field")) {
    json_decref (doc);
    return text;
  }
  json_object_set_new (doc, "field", json_null ());
  char *with = at_json_dump (doc, API_REPLY_CAP);
  json_decref (doc);
  if (!with)
    return text;
  free (text);
  return with;
}

void
api_reply_problem (api_request_t *req, const api_problem_t *problem)
{
  char *text = at_problem_new (problem->status, problem->slug, problem->title,
                               problem->detail, problem->field);
  if (text && !problem->field)
    text = s_field_null (text);
  if (!text)
    text = at_strdup ("{\"title\":\"Internal error\",\"status\":500}");
  s_set_reply (req, problem->status, "application/problem+json", text);
}

void
api_reply_json (api_request_t *req, int status, json_t *body)
{
  char *text = body ? at_json_dump (body, API_REPLY_CAP) : NULL;
  json_decref (body);
  if (!text) {
    api_problem_t p;
    at_error ("api", "msg=\"answer too large or not serialisable\" request_id=%s path=%s",
              req->request_id, req->path);
    api_problem (&p, 500, NULL, "the answer could not be written");
    api_reply_problem (req, &p);
    return;
  }
  s_set_reply (req, status, "application/json", text);
}

void
api_reply_not_found (api_request_t *req, const char *detail)
{
  api_problem_t p;
  api_problem (&p, 404, NULL, "%s", detail);
  api_reply_problem (req, &p);
}

void
api_reply_unavailable (api_request_t *req, int retry_after_s, const char *detail)
{
  api_problem_t p;
  api_problem (&p, 503, NULL, "%s", detail);
  api_reply_problem (req, &p);
  req->retry_after_s = retry_after_s < 1 ? 1 : retry_after_s;
}

void
api_reply_store_failed (api_request_t *req)
{
  api_reply_unavailable (req, 1, "the store failed, retry later");
}
