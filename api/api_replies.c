/* api_replies: saved replies (api_replies.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api_replies.h"
#include "at_intent.h"
#include "at_store_inbox.h"
#include "at_template.h"

#define S_LIST_DEFAULT 50
#define S_TEXT_MAX 8192          /* a rendered body: the 2,000-byte body and its values */

int
api_saved_reply_parse (const json_t *obj, at_reply_t *r, api_problem_t *p)
{
  char var[AT_TEMPLATE_VAR_MAX] = "", reason[160] = "";
  at_intent_t intent;
  memset (r, 0, sizeof *r);
  if (api_field_string (obj, "title", AT_REPLY_TITLE_MAX, true, &r->title, p)
      || api_field_string (obj, "locale", AT_TEMPLATE_LOCALE_LEN, true, &r->locale, p)
      || api_field_string (obj, "body", AT_TEMPLATE_BODY_MAX, true, &r->body, p))
    return AT_INVALID;
  if (!json_is_null (json_object_get (obj, "intent"))
      && api_field_string (obj, "intent", 32, false, &r->intent, p))
    return AT_INVALID;
  if (!at_template_locale_known (r->locale))
    return api_problem (p, 422, "locale", "locale must be pt-BR, en or es");
  if (r->intent && at_intent_parse (r->intent, &intent) != AT_OK)
    return api_problem (p, 422, "intent", "intent must be order_status, return_refund, cancel,"
                        " payment, product_question, complaint or other (or null: any)");
  if (at_template_check (r->body, var, reason, sizeof reason) == AT_OK)
    return AT_OK;
  if (var[0])
    return api_problem (p, 422, "body", "unknown variable {%s}: the variables are {first_name}"
                        " {order_id} {tracking_url} {expected_date}", var);
  return api_problem (p, 422, "body", "%s", reason);
}

/* --- reading */

/* The values a ticket gives the placeholders: its customer's first name,
 * their latest order. Borrowed from doc (the inbox's ticket JSON). */
static void
s_vars (const json_t *doc, char *first, size_t cap, at_template_vars_t *v)
{
  const json_t *customer = json_object_get (doc, "customer");
  const char *name = json_string_value (json_object_get (customer, "name"));
  const json_t *order = json_array_get (json_object_get (customer, "orders"), 0);
  snprintf (first, cap, "%.*s", name ? (int) strcspn (name, " ") : 0, name ? name : "");
  memset (v, 0, sizeof *v);
  v->first_name = first;
  v->order_id = json_string_value (json_object_get (order, "id"));
  v->tracking_url = json_string_value (json_object_get (order, "tracking_url"));
  v->expected_date = json_string_value (json_object_get (order, "expected_delivery"));
}

/* Adds `text` to every item: its body rendered for the ticket. */
static void
s_render (json_t *items, const json_t *ticket)
{
  char first[128], *out = at_malloc (S_TEXT_MAX);
  at_template_vars_t vars;
  s_vars (ticket, first, sizeof first, &vars);
  size_t i;
  json_t *item;
  json_array_foreach (items, i, item) {
    const char *body = json_string_value (json_object_get (item, "body"));
    const char *locale = json_string_value (json_object_get (item, "locale"));
    if (body && locale && at_template_render (body, locale, &vars, out, S_TEXT_MAX) == AT_OK)
      json_object_set_new (item, "text", json_string (out));
  }
  free (out);
}

typedef struct {
  const char *locale, *intent;
  int64_t ticket;
  long limit;
} s_query_t;

static int
s_query (const api_request_t *req, s_query_t *q, api_problem_t *p)
{
  const char *ticket = api_query (req, "ticket"), *limit = api_query (req, "limit");
  at_intent_t intent;
  long id = 0;
  q->locale = api_query (req, "locale");
  q->intent = api_query (req, "intent");
  q->limit = S_LIST_DEFAULT;
  q->ticket = 0;
  if (q->locale && !at_template_locale_known (q->locale))
    return api_problem (p, 400, "locale", "locale must be pt-BR, en or es");
  if (q->intent && at_intent_parse (q->intent, &intent) != AT_OK)
    return api_problem (p, 400, "intent", "intent must be one of the seven intents");
  if (limit && at_parse_long (limit, 1, AT_REPLY_LIST_MAX, &q->limit) != AT_OK)
    return api_problem (p, 400, "limit", "limit must be an integer from 1 to %d",
                        AT_REPLY_LIST_MAX);
  if (ticket && at_parse_long (ticket, 1, INT64_MAX, &id) != AT_OK)
    return api_problem (p, 400, "ticket", "ticket must be a ticket id");
  q->ticket = id;
  return AT_OK;
}

void
api_replies_list (api_request_t *req)
{
  api_problem_t p;
  s_query_t q;
  json_t *items = NULL, *ticket = NULL;
  if (s_query (req, &q, &p) != AT_OK) {
    api_reply_problem (req, &p);
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  int rc = q.ticket ? at_store_inbox_ticket_json (store, q.ticket, &ticket) : AT_OK;
  if (rc == AT_OK)
    rc = at_store_reply_list (store, q.locale, q.intent, (int) q.limit, &items);
  if (rc == AT_NOTFOUND)
    api_reply_not_found (req, "no ticket with this id");
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  else {
    if (ticket)
      s_render (items, ticket);
    api_reply_json (req, 200, json_pack ("{s:o}", "items", items));
  }
  json_decref (ticket);
}

void
api_reply_get (api_request_t *req)
{
  int64_t id;
  json_t *doc = NULL;
  if (!api_param_id (req, &id)) {
    api_reply_not_found (req, "no saved reply with this id");
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  int rc = at_store_reply_get (store, id, &doc);
  if (rc == AT_NOTFOUND)
    api_reply_not_found (req, "no saved reply with this id");
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  else
    api_reply_json (req, 200, doc);
}

/* --- changing */

typedef struct {
  int64_t id;
  at_reply_t reply;
  char target[40];
} s_change_t;

static int
s_save (api_request_t *req, at_store_t *store, void *arg)
{
  (void) req;
  s_change_t *c = arg;
  int rc = at_store_reply_save (store, c->id, &c->reply, &c->id);
  snprintf (c->target, sizeof c->target, "saved_reply:%lld", (long long) c->id);
  return rc;
}

static int
s_delete (api_request_t *req, at_store_t *store, void *arg)
{
  (void) req;
  s_change_t *c = arg;
  return at_store_reply_delete (store, c->id);
}

/* Runs the change audited and answers a failure (404, 409, 503); AT_OK
 * when the caller answers the success. */
static int
s_audited (api_request_t *req, api_change_fn *change, s_change_t *c, const char *action)
{
  api_problem_t p;
  at_store_t *store = api_store (req);
  if (!store)
    return AT_ERROR;
  snprintf (c->target, sizeof c->target, "saved_reply:%lld", (long long) c->id);
  int rc = api_audited (req, store, change, c, action, c->target, NULL);
  if (rc == AT_NOTFOUND)
    api_reply_not_found (req, "no saved reply with this id");
  else if (rc == AT_CONFLICT) {
    api_problem (&p, 409, "title", "the locale %s has a saved reply titled \"%s\" already",
                 c->reply.locale, c->reply.title);
    api_reply_problem (req, &p);
  } else if (rc != AT_OK)
    api_reply_store_failed (req);
  return rc;
}

/* Saves the body as reply c->id (0: a new one) and answers status with it. */
static void
s_save_answer (api_request_t *req, s_change_t *c, const char *action, int status)
{
  api_problem_t p;
  json_t *obj = api_body_object (req->body, req->body_len, &p), *doc = NULL;
  if (!obj || api_saved_reply_parse (obj, &c->reply, &p) != AT_OK)
    api_reply_problem (req, &p);
  else if (s_audited (req, s_save, c, action) == AT_OK) {
    at_store_t *store = api_store (req);
    if (store && at_store_reply_get (store, c->id, &doc) == AT_OK)
      api_reply_json (req, status, doc);
    else if (store)
      api_reply_store_failed (req);
  }
  json_decref (obj);
}

void
api_replies_post (api_request_t *req)
{
  s_change_t c = { 0 };
  s_save_answer (req, &c, "saved_reply.create", 201);
}

void
api_reply_put (api_request_t *req)
{
  s_change_t c = { 0 };
  if (!api_param_id (req, &c.id))
    api_reply_not_found (req, "no saved reply with this id");
  else
    s_save_answer (req, &c, "saved_reply.update", 200);
}

void
api_reply_delete (api_request_t *req)
{
  s_change_t c = { 0 };
  if (!api_param_id (req, &c.id))
    api_reply_not_found (req, "no saved reply with this id");
  else if (s_audited (req, s_delete, &c, "saved_reply.delete") == AT_OK)
    api_reply_text (req, 204, "application/json", at_strdup (""));
}
