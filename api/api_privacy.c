/* api_privacy: a customer's personal data (LGPD/GDPR):
 * GET /v1/customers/{id}/export (everything atende holds about them, one
 * JSON document) and POST /v1/customers/{id}/erase (their erasure, one
 * transaction, audited under the caller). SQL in lib/store/store_privacy.c. */
#include <stdlib.h>
#include "api_customers.h"
#include "at_store_privacy.h"

/* The customer id of the path and the thread's store; NULL when either is
 * missing (404 or 503 answered). */
static at_store_t *
s_customer (api_request_t *req, int64_t *id)
{
  if (!api_param_id (req, id)) {
    api_reply_not_found (req, "no customer with this id");
    return NULL;
  }
  return api_store (req);
}

void
api_customers_export_get (api_request_t *req)
{
  int64_t id = 0;
  char *text = NULL;
  at_store_t *store = s_customer (req, &id);
  if (!store)
    return;
  int rc = at_store_privacy_export (store, id, req->cfg->bus_key_secret, &text);
  json_t *doc = rc == AT_OK ? json_loads (text, 0, NULL) : NULL;
  free (text);
  if (rc == AT_NOTFOUND)
    api_reply_not_found (req, "no customer with this id");
  else if (rc != AT_OK || !doc)
    api_reply_store_failed (req);
  else {
    api_reply_json (req, 200, doc);
    doc = NULL;
  }
  json_decref (doc);
}

void
api_customers_erase_post (api_request_t *req)
{
  int64_t id = 0;
  at_privacy_erase_t e;
  at_store_t *store = s_customer (req, &id);
  if (!store)
    return;
  int rc = at_store_privacy_erase (store, id, req->cfg->bus_key_secret, req->caller.actor,
                                   req->peer[0] ? req->peer : NULL, &e);
  if (rc == AT_NOTFOUND)
    api_reply_not_found (req, "no customer with this id");
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  else
    api_reply_json (req, 200, json_pack ("{s:I, s:b, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
                                         "s:I, s:I, s:I, s:I}}", "id", (json_int_t) id,
                                         "already_erased", e.already, "erased",
                                         "customer", (json_int_t) e.customers,
                                         "identity", (json_int_t) e.identities,
                                         "ticket", (json_int_t) e.tickets,
                                         "ticket_message", (json_int_t) e.messages,
                                         "ticket_note", (json_int_t) e.notes,
                                         "attachment", (json_int_t) e.attachments,
                                         "notification", (json_int_t) e.notifications,
                                         "survey_answer", (json_int_t) e.surveys,
                                         "orders", (json_int_t) e.orders,
                                         "bus_message", (json_int_t) e.bus_pending,
                                         "bus_dead", (json_int_t) e.bus_dead));
}
