/* api_templates: the texts customers get about their orders, per event and
 * locale, managed through the api:
 *   GET    /v1/templates                    every template
 *   GET    /v1/templates/{event}/{locale}   one
 *   PUT    /v1/templates/{event}/{locale}   {"body": "..."}: 201 created, 200 replaced,
 *                                           422 naming an unknown {variable}
 *   DELETE /v1/templates/{event}/{locale}   204; notify falls back to the default locale
 * Workers see a change within ATENDE_TEMPLATE_CACHE_MS. Each change is written
 * with its audit row (template.put, template.delete; actor: the caller) in one
 * transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api_templates.h"
#include "at_template.h"
#include "at_buf.h"
#include "at_order.h"
#include "at_log.h"

#define S_PREFIX "/v1/templates/"
#define S_LIST_MAX 1000

/* 404 naming the events there are: the customer-facing order statuses. */
static int
s_event_unknown (const char *event, api_problem_t *p)
{
  char known[160];
  at_buf_t b;
  at_buf_fixed (&b, known, sizeof known);
  for (size_t i = 0; at_order_status_name (i); i++)
    if (at_template_event_known (at_order_status_name (i)))
      at_buf_printf (&b, " %s", at_order_status_name (i));
  return api_problem (p, 404, "event", "no template event \"%s\": one of%s", event, known);
}

/* event and locale from the path; a 404 problem when they are not ones we know. */
static int
s_path (const api_request_t *req, char event[AT_TEMPLATE_EVENT_LEN],
        char locale[AT_TEMPLATE_LOCALE_LEN], api_problem_t *p)
{
  const char *rest = req->path + strlen (S_PREFIX);
  const char *slash = strchr (rest, '/');
  size_t n = slash ? (size_t) (slash - rest) : 0;
  if (strncmp (req->path, S_PREFIX, strlen (S_PREFIX)) != 0 || !slash || n == 0
      || n >= AT_TEMPLATE_EVENT_LEN || strlen (slash + 1) >= AT_TEMPLATE_LOCALE_LEN)
    return api_problem (p, 404, NULL, "no template at this path");
  memcpy (event, rest, n);
  event[n] = 0;
  at_strlcpy (locale, slash + 1, AT_TEMPLATE_LOCALE_LEN);
  if (!at_template_event_known (event))
    return s_event_unknown (event, p);
  if (!at_template_locale_known (locale))
    return api_problem (p, 404, "locale", "no template locale \"%s\": pt-BR, en or es", locale);
  return AT_OK;
}

static json_t *
s_row_json (const at_template_row_t *row)
{
  return json_pack ("{s:s, s:s, s:s, s:s}", "event", row->event, "locale", row->locale,
                    "body", row->body, "updated_at", row->updated_at);
}

void
api_templates_list (api_request_t *req)
{
  at_store_t *store = api_store (req);
  at_template_row_t *rows = NULL;
  size_t n = 0;
  if (!store)
    return;
  if (at_store_template_list (store, S_LIST_MAX, &rows, &n) != AT_OK) {
    api_reply_store_failed (req);
    return;
  }
  json_t *list = json_array ();
  for (size_t i = 0; i < n; i++)
    json_array_append_new (list, s_row_json (&rows[i]));
  free (rows);
  api_reply_json (req, 200, json_pack ("{s:o}", "templates", list));
}

void
api_templates_get (api_request_t *req)
{
  api_problem_t p;
  char event[AT_TEMPLATE_EVENT_LEN], locale[AT_TEMPLATE_LOCALE_LEN];
  at_template_row_t *row = NULL;
  if (s_path (req, event, locale, &p) != AT_OK) {
    api_reply_problem (req, &p);
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  row = at_malloc (sizeof *row);
  int rc = at_store_template_get (store, event, locale, row);
  if (rc == AT_NOTFOUND) {
    api_problem (&p, 404, NULL, "no %s template for %s (notify uses the default locale's)",
                 locale, event);
    api_reply_problem (req, &p);
  } else if (rc != AT_OK)
    api_reply_store_failed (req);
  else
    api_reply_json (req, 200, s_row_json (row));
  free (row);
}

/* A change to a template in one transaction with its audit row (actor: the
 * caller); change() runs after BEGIN. AT_OK committed; else rolled back and
 * change()'s code (AT_NOTFOUND ...) or the store's. */
typedef int (s_change_fn) (at_store_t *store, const char *event, const char *locale,
                           const char *body, bool *created);

static int
s_change (api_request_t *req, at_store_t *store, const char *action, s_change_fn *change,
          const char *event, const char *locale, const char *body, bool *created)
{
  char target[AT_TEMPLATE_EVENT_LEN + AT_TEMPLATE_LOCALE_LEN + 16];
  snprintf (target, sizeof target, "template:%s/%s", event, locale);
  int rc = at_store_begin (store);
  if (rc != AT_OK)
    return rc;
  rc = change (store, event, locale, body, created);
  json_t *detail = rc == AT_OK && body ? json_pack ("{s:b}", "created", *created) : NULL;
  if (rc == AT_OK)
    rc = at_store_audit (store, req->caller.actor, action, target, detail, req->peer);
  json_decref (detail);
  if (rc == AT_OK)
    rc = at_store_commit (store);
  if (rc != AT_OK)
    (void) at_store_rollback (store);
  return rc;
}

static int
s_put (at_store_t *store, const char *event, const char *locale, const char *body, bool *created)
{
  return at_store_template_put (store, event, locale, body, created);
}

static int
s_delete (at_store_t *store, const char *event, const char *locale, const char *body,
          bool *created)
{
  (void) body, (void) created;
  return at_store_template_delete (store, event, locale);
}

/* The body of a PUT: {"body": "..."} checked; a problem naming what is wrong. */
static int
s_put_body (const api_request_t *req, json_t **obj_out, const char **body_out, api_problem_t *p)
{
  char var[AT_TEMPLATE_VAR_MAX], reason[128];
  json_t *obj = api_body_object (req->body, req->body_len, p);
  *obj_out = obj;
  if (!obj || api_field_string (obj, "body", AT_TEMPLATE_BODY_MAX, true, body_out, p) != AT_OK)
    return AT_INVALID;
  if (at_template_check (*body_out, var, reason, sizeof reason) == AT_OK)
    return AT_OK;
  if (var[0] || strcmp (reason, "unknown variable") == 0)
    return api_problem (p, 422, "body", "unknown variable {%s}: the variables are {first_name}"
                        " {order_id} {tracking_url} {expected_date} {new_expected_date}", var);
  return api_problem (p, 422, "body", "%s", reason);
}

void
api_templates_put (api_request_t *req)
{
  api_problem_t p;
  char event[AT_TEMPLATE_EVENT_LEN], locale[AT_TEMPLATE_LOCALE_LEN];
  json_t *obj = NULL;
  const char *body = NULL;
  bool created = false;
  at_template_row_t *row = NULL;
  if (s_path (req, event, locale, &p) != AT_OK || s_put_body (req, &obj, &body, &p) != AT_OK) {
    api_reply_problem (req, &p);
    goto out;
  }
  at_store_t *store = api_store (req);
  if (!store)
    goto out;
  row = at_malloc (sizeof *row);
  if (s_change (req, store, "template.put", s_put, event, locale, body, &created) != AT_OK
      || at_store_template_get (store, event, locale, row) != AT_OK) {
    api_reply_store_failed (req);
    goto out;
  }
  at_info ("api", "msg=\"template saved\" event=%s locale=%s created=%d request_id=%s", event,
           locale, (int) created, req->request_id);
  api_reply_json (req, created ? 201 : 200, s_row_json (row));
out:
  free (row);
  json_decref (obj);
}

void
api_templates_delete (api_request_t *req)
{
  api_problem_t p;
  char event[AT_TEMPLATE_EVENT_LEN], locale[AT_TEMPLATE_LOCALE_LEN];
  if (s_path (req, event, locale, &p) != AT_OK) {
    api_reply_problem (req, &p);
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  int rc = s_change (req, store, "template.delete", s_delete, event, locale, NULL, NULL);
  if (rc == AT_NOTFOUND) {
    api_problem (&p, 404, NULL, "no %s template for %s", locale, event);
    api_reply_problem (req, &p);
  } else if (rc != AT_OK)
    api_reply_store_failed (req);
  else {
    at_info ("api", "msg=\"template deleted\" event=%s locale=%s request_id=%s", event, locale,
             req->request_id);
    api_reply_text (req, 204, "application/json", at_strdup (""));
  }
}
