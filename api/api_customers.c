/* api_customers: GET /v1/customers/{id} (the customer and their identities)
 * and POST /v1/customers/{id}/merge {"from": other_id}, the atomic merge of
 * two customers an agent found to be one person (never done on a name). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api_customers.h"
#include "at_store_customer.h"
#include "at_log.h"

static void
s_problem (api_request_t *req, int status, const char *field, const char *detail)
{
  api_problem_t p;
  api_problem (&p, status, field, "%s", detail);
  api_reply_problem (req, &p);
}

static json_t *
s_customer_json (const at_customer_t *c)
{
  json_t *identities = json_array ();
  for (size_t i = 0; i < c->n_identities; i++)
    json_array_append_new (identities, json_pack ("{s:s, s:s}", "kind", c->identities[i].kind,
                                                  "value", c->identities[i].value));
  json_t *answer = json_pack ("{s:I, s:s, s:s, s:o, s:{s:i, s:i}}", "id", (json_int_t) c->id,
                              "locale", c->locale, "created_at", c->created_at,
                              "identities", identities, "tickets",
                              "open", (int) c->tickets_open, "total", (int) c->tickets_total);
  json_object_set_new (answer, "name", c->name[0] ? json_string (c->name) : json_null ());
  if (c->merged_into)
    json_object_set_new (answer, "merged_into", json_integer (c->merged_into));
  return answer;
}

void
api_customers_get (api_request_t *req)
{
  int64_t id = 0;
  if (!api_param_id (req, &id)) {
    s_problem (req, 404, NULL, "no customer with this id");
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  at_customer_t *c = at_calloc (1, sizeof *c);
  int rc = at_store_customer_get (store, id, c);
  if (rc == AT_NOTFOUND)
    s_problem (req, 404, NULL, "no customer with this id");
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  else
    api_reply_json (req, 200, s_customer_json (c));
  free (c);
}

/* {"from": <positive integer id>} */
static int
s_merge_body (api_request_t *req, int64_t *from)
{
  api_problem_t p;
  json_t *obj = api_body_object (req->body, req->body_len, &p);
  if (!obj) {
    api_reply_problem (req, &p);
    return AT_INVALID;
  }
  json_t *v = json_object_get (obj, "from");
  int rc = AT_OK;
  if (!json_is_integer (v) || json_integer_value (v) <= 0) {
    s_problem (req, 422, "from", "from must be the id (a positive integer) of the customer to "
               "merge into this one");
    rc = AT_INVALID;
  }
  else
    *from = json_integer_value (v);
  json_decref (obj);
  return rc;
}

/* The audit row of a merge, under the caller. at_store_customer_merge
 * commits its own transaction: the row is written right after it succeeded
 * (a failed write is logged; the merge stands). */
static void
s_merge_audit (api_request_t *req, at_store_t *store, int64_t into, int64_t from,
               const at_customer_merge_t *moved)
{
  char target[32];
  snprintf (target, sizeof target, "customer:%lld", (long long) into);
  json_t *detail = json_pack ("{s:I, s:b, s:i, s:i}", "from", (json_int_t) from, "already_merged",
                              moved->already, "identities", (int) moved->identities, "tickets",
                              (int) moved->tickets);
  if (at_store_audit (store, req->caller.actor, "customer.merge", target, detail, req->peer)
      != AT_OK)
    at_warn ("api", "msg=\"audit row not written\" action=customer.merge into=%lld from=%lld"
             " actor=%s request_id=%s", (long long) into, (long long) from, req->caller.actor,
             req->request_id);
  json_decref (detail);
}

void
api_customers_merge_post (api_request_t *req)
{
  int64_t into = 0, from = 0;
  if (!api_param_id (req, &into)) {
    s_problem (req, 404, NULL, "no customer with this id");
    return;
  }
  if (s_merge_body (req, &from) != AT_OK)
    return;
  if (from == into) {
    s_problem (req, 422, "from", "a customer cannot be merged into itself");
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  at_customer_merge_t moved;
  int rc = at_store_customer_merge (store, into, from, &moved);
  if (rc == AT_NOTFOUND)
    s_problem (req, 404, NULL, "one of the two customers does not exist");
  else if (rc == AT_CONFLICT)
    s_problem (req, 409, "from", "one of the two customers was already merged into another");
  else if (rc == AT_INVALID)
    s_problem (req, 422, "from", "these customers cannot be merged");
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  else {
    s_merge_audit (req, store, into, from, &moved);
    api_reply_json (req, 200, json_pack ("{s:I, s:I, s:b, s:{s:i, s:i, s:i, s:i, s:i}}",
                                         "id", (json_int_t) into, "merged", (json_int_t) from,
                                         "already_merged", moved.already, "moved",
                                         "identities", (int) moved.identities,
                                         "tickets", (int) moved.tickets,
                                         "orders", (int) moved.orders,
                                         "notifications", (int) moved.notifications,
                                         "surveys", (int) moved.surveys));
  }
}
