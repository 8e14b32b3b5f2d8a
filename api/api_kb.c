/* api_kb: the knowledge base through the api (api_kb.h):
 *   POST   /v1/kb/articles              {locale, title, body, tags?, status?} -> 201
 *   GET    /v1/kb/articles?locale=&status=&limit=   newest first, without bodies
 *   GET    /v1/kb/articles/{id}         one, with its body; records an "opened" event
 *   PUT    /v1/kb/articles/{id}         the same fields, replaced -> 200
 *   DELETE /v1/kb/articles/{id}         204 (its events stay, without the article)
 *   GET    /v1/kb/search?q=&locale=&limit=   ranked published articles with their score
 *   GET    /v1/kb/unanswered?since=&limit=   questions nothing answered, most frequent first
 * Changes are written with their audit row (kb.article.create, .update,
 * .delete; actor: the caller) in one transaction; bad input is a 400/422
 * problem naming the field, nothing written. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api_kb.h"
#include "at_store_auth.h"
#include "at_text.h"
#include "at_time.h"
#include "at_log.h"

#define S_COMP "api"
#define S_SEARCH_DEFAULT 10
#define S_UNANSWERED_DEFAULT 50

static bool
s_locale_ok (const char *locale)
{
  return locale && (strcmp (locale, "pt-BR") == 0 || strcmp (locale, "en") == 0
                    || strcmp (locale, "es") == 0);
}

static bool
s_status_ok (const char *status)
{
  return status && (strcmp (status, "published") == 0 || strcmp (status, "draft") == 0);
}

/* Characters of UTF-8 text (jansson's strings are valid UTF-8). */
static size_t
s_chars (const char *text)
{
  size_t n = 0;
  for (const unsigned char *c = (const unsigned char *) text; *c; c++)
    n += (*c & 0xC0) != 0x80;
  return n;
}

static bool
s_has_control (const char *text, bool newlines_ok)
{
  for (const unsigned char *c = (const unsigned char *) text; *c; c++)
    if ((*c < 0x20 && !(newlines_ok && (*c == '\n' || *c == '\r' || *c == '\t'))) || *c == 0x7F)
      return true;
  return false;
}

/* A required string field of 1..max characters. */
static int
s_text (const json_t *obj, const char *field, size_t max, bool newlines_ok, const char **out,
        api_problem_t *p)
{
  const json_t *v = json_object_get (obj, field);
  *out = json_string_value (v);
  if (!v)
    return api_problem (p, 422, field, "field \"%s\" is required", field);
  if (!*out)
    return api_problem (p, 422, field, "field \"%s\" must be a string", field);
  size_t n = s_chars (*out);
  if (n == 0 || n > max || json_string_length (v) != strlen (*out))
    return api_problem (p, 422, field, "field \"%s\" must be 1 to %zu characters", field, max);
  if (s_has_control (*out, newlines_ok))
    return api_problem (p, 422, field, "field \"%s\" holds a control character", field);
  return AT_OK;
}

static int
s_tags (const json_t *obj, at_kb_article_t *a, const char *tags[AT_KB_TAGS_MAX],
        api_problem_t *p)
{
  const json_t *v = json_object_get (obj, "tags");
  a->tags = tags;
  a->n_tags = 0;
  if (!v || json_is_null (v))
    return AT_OK;
  if (!json_is_array (v) || json_array_size (v) > AT_KB_TAGS_MAX)
    return api_problem (p, 422, "tags", "tags must be an array of at most %d strings",
                        AT_KB_TAGS_MAX);
  for (size_t i = 0; i < json_array_size (v); i++) {
    const json_t *tag = json_array_get (v, i);
    const char *text = json_string_value (tag);
    size_t n = text ? s_chars (text) : 0;
    if (!text || n == 0 || n > AT_KB_TAG_MAX || json_string_length (tag) != strlen (text)
        || s_has_control (text, false))
      return api_problem (p, 422, "tags", "tag %zu must be a string of 1 to %d characters"
                          " without control characters", i, AT_KB_TAG_MAX);
    tags[a->n_tags++] = text;
  }
  return AT_OK;
}

int
api_kb_article_parse (const char *body, size_t len, json_t **obj_out, at_kb_article_t *a,
                      const char *tags[AT_KB_TAGS_MAX], api_problem_t *p)
{
  memset (a, 0, sizeof *a);
  json_t *obj = api_body_object (body, len, p);
  *obj_out = obj;
  if (!obj)
    return AT_INVALID;
  const json_t *locale = json_object_get (obj, "locale");
  a->locale = json_string_value (locale);
  if (!s_locale_ok (a->locale))
    return api_problem (p, 422, "locale", "locale must be one of pt-BR, en, es");
  if (s_text (obj, "title", AT_KB_TITLE_MAX, false, &a->title, p) != AT_OK
      || s_text (obj, "body", AT_KB_BODY_MAX, true, &a->body, p) != AT_OK
      || s_tags (obj, a, tags, p) != AT_OK)
    return AT_INVALID;
  const json_t *status = json_object_get (obj, "status");
  a->status = status ? json_string_value (status) : "draft";
  if (!s_status_ok (a->status))
    return api_problem (p, 422, "status", "status must be published or draft");
  return AT_OK;
}

/* --- changes with their audit row */

typedef enum { S_CREATE, S_UPDATE, S_DELETE } s_op_t;

static const char *const s_action[] = {"kb.article.create", "kb.article.update",
                                       "kb.article.delete"};

/* One change and its audit row in one transaction. *id in/out (create
 * sets it). AT_OK committed; else rolled back with the change's code. */
static int
s_change (api_request_t *req, at_store_t *store, s_op_t op, const at_kb_article_t *a,
          int64_t *id)
{
  char target[48];
  int rc = at_store_begin (store);
  if (rc != AT_OK)
    return rc;
  if (op == S_CREATE)
    rc = at_store_kb_article_create (store, a, req->caller.actor, id);
  else if (op == S_UPDATE)
    rc = at_store_kb_article_update (store, *id, a);
  else
    rc = at_store_kb_article_delete (store, *id);
  snprintf (target, sizeof target, "kb_article:%" PRId64, *id);
  json_t *detail = a ? json_pack ("{s:s, s:s}", "locale", a->locale, "status", a->status) : NULL;
  if (rc == AT_OK)
    rc = at_store_audit (store, req->caller.actor, s_action[op], target, detail, req->peer);
  json_decref (detail);
  if (rc == AT_OK)
    rc = at_store_commit (store);
  if (rc != AT_OK)
    (void) at_store_rollback (store);
  return rc;
}

/* Answers status with the article id as it is now. */
static void
s_reply_article (api_request_t *req, at_store_t *store, int status, int64_t id)
{
  json_t *doc = NULL;
  if (at_store_kb_article_get (store, id, &doc) != AT_OK) {
    api_reply_store_failed (req);
    return;
  }
  api_reply_json (req, status, doc);
}

static void
s_not_found (api_request_t *req)
{
  api_reply_not_found (req, "no knowledge-base article with this id");
}

void
api_kb_articles_post (api_request_t *req)
{
  api_problem_t p;
  at_kb_article_t a;
  const char *tags[AT_KB_TAGS_MAX];
  json_t *obj = NULL;
  int64_t id = 0;
  if (api_kb_article_parse (req->body, req->body_len, &obj, &a, tags, &p) != AT_OK) {
    api_reply_problem (req, &p);
    goto out;
  }
  at_store_t *store = api_store (req);
  if (!store)
    goto out;
  if (s_change (req, store, S_CREATE, &a, &id) != AT_OK) {
    api_reply_store_failed (req);
    goto out;
  }
  at_info (S_COMP, "msg=\"kb article created\" article_id=%" PRId64 " locale=%s status=%s"
           " request_id=%s", id, a.locale, a.status, req->request_id);
  snprintf (req->location, sizeof req->location, "/v1/kb/articles/%" PRId64, id);
  s_reply_article (req, store, 201, id);
out:
  json_decref (obj);
}

void
api_kb_article_put (api_request_t *req)
{
  api_problem_t p;
  at_kb_article_t a;
  const char *tags[AT_KB_TAGS_MAX];
  json_t *obj = NULL;
  int64_t id = 0;
  if (!api_param_id (req, &id)) {
    s_not_found (req);
    return;
  }
  if (api_kb_article_parse (req->body, req->body_len, &obj, &a, tags, &p) != AT_OK) {
    api_reply_problem (req, &p);
    goto out;
  }
  at_store_t *store = api_store (req);
  if (!store)
    goto out;
  int rc = s_change (req, store, S_UPDATE, &a, &id);
  if (rc == AT_NOTFOUND)
    s_not_found (req);
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  else {
    at_info (S_COMP, "msg=\"kb article updated\" article_id=%" PRId64 " status=%s"
             " request_id=%s", id, a.status, req->request_id);
    s_reply_article (req, store, 200, id);
  }
out:
  json_decref (obj);
}

void
api_kb_article_delete (api_request_t *req)
{
  int64_t id = 0;
  if (!api_param_id (req, &id)) {
    s_not_found (req);
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  int rc = s_change (req, store, S_DELETE, NULL, &id);
  if (rc == AT_NOTFOUND)
    s_not_found (req);
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  else {
    at_info (S_COMP, "msg=\"kb article deleted\" article_id=%" PRId64 " request_id=%s", id,
             req->request_id);
    api_reply_text (req, 204, "application/json", at_strdup (""));
  }
}

void
api_kb_article_get (api_request_t *req)
{
  int64_t id = 0;
  json_t *doc = NULL;
  if (!api_param_id (req, &id)) {
    s_not_found (req);
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  int rc = at_store_kb_article_get (store, id, &doc);
  if (rc == AT_NOTFOUND) {
    s_not_found (req);
    return;
  }
  if (rc == AT_OK)
    rc = at_store_kb_opened (store, id, req->caller.actor);
  if (rc != AT_OK) {
    json_decref (doc);
    api_reply_store_failed (req);
    return;
  }
  api_reply_json (req, 200, doc);
}

/* --- reads */

/* ?limit= within 1..max (def when absent). */
static int
s_limit (const api_request_t *req, long def, long max, int *out, api_problem_t *p)
{
  const char *text = api_query (req, "limit");
  long v = def;
  if (text && at_parse_long (text, 1, max, &v) != AT_OK)
    return api_problem (p, 400, "limit", "limit must be an integer from 1 to %ld", max);
  *out = (int) v;
  return AT_OK;
}

static void
s_reply_items (api_request_t *req, int rc, json_t *items)
{
  if (rc != AT_OK) {
    json_decref (items);
    api_reply_store_failed (req);
    return;
  }
  api_reply_json (req, 200, json_pack ("{s:o}", "items", items));
}

void
api_kb_articles_list (api_request_t *req)
{
  api_problem_t p;
  int limit = 0;
  const char *locale = api_query (req, "locale"), *status = api_query (req, "status");
  json_t *items = NULL;
  int rc = AT_OK;
  if (locale && !s_locale_ok (locale))
    rc = api_problem (&p, 400, "locale", "locale must be one of pt-BR, en, es");
  else if (status && !s_status_ok (status))
    rc = api_problem (&p, 400, "status", "status must be published or draft");
  else
    rc = s_limit (req, AT_KB_LIST_DEFAULT, AT_KB_LIST_MAX, &limit, &p);
  if (rc != AT_OK) {
    api_reply_problem (req, &p);
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  rc = at_store_kb_article_list (store, locale, status, limit, &items);
  s_reply_items (req, rc, items);
}

void
api_kb_search_get (api_request_t *req)
{
  api_problem_t p;
  int limit = 0;
  const char *q = api_query (req, "q"), *locale = api_query (req, "locale");
  json_t *items = NULL;
  if (!locale)
    locale = s_locale_ok (req->cfg->default_locale) ? req->cfg->default_locale : "pt-BR";
  int rc = AT_OK;
  if (!q || q[0] == '\0' || strlen (q) > AT_KB_QUESTION_MAX
      || !at_text_valid_utf8 (q, strlen (q)))
    rc = api_problem (&p, 400, "q", "q must be 1 to %d bytes of UTF-8", AT_KB_QUESTION_MAX);
  else if (!s_locale_ok (locale))
    rc = api_problem (&p, 400, "locale", "locale must be one of pt-BR, en, es");
  else
    rc = s_limit (req, S_SEARCH_DEFAULT, AT_KB_SEARCH_MAX, &limit, &p);
  if (rc != AT_OK) {
    api_reply_problem (req, &p);
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  rc = at_store_kb_search (store, locale, q, limit, &items);
  if (rc != AT_OK) {
    s_reply_items (req, rc, items);
    return;
  }
  api_reply_json (req, 200, json_pack ("{s:o, s:f}", "items", items, "min_score",
                                       (double) req->cfg->kb_min_score_pct / 100.0));
}

void
api_kb_unanswered_get (api_request_t *req)
{
  api_problem_t p;
  int limit = 0;
  int64_t since = 0;
  const char *text = api_query (req, "since");
  json_t *items = NULL;
  if (text && at_rfc3339_parse (text, &since) != AT_OK) {
    api_problem (&p, 400, "since", "since must be an RFC 3339 date-time (2026-11-22T18:00:00Z)");
    api_reply_problem (req, &p);
    return;
  }
  if (s_limit (req, S_UNANSWERED_DEFAULT, AT_KB_LIST_MAX, &limit, &p) != AT_OK) {
    api_reply_problem (req, &p);
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  int rc = at_store_kb_unanswered (store, since, limit, &items);
  s_reply_items (req, rc, items);
}
