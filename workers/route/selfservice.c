/* selfservice: return, cancel and payment flows (see selfservice.h), on the
 * customer's latest order, read and locked as notify's order events lock it:
 *
 *   return   delivered and within ATENDE_RETURN_WINDOW_DAYS of delivery:
 *            a return request opens (one per order while open), the customer
 *            is told the next step, the store is told by a signed webhook
 *            (store.request, notify); open already: "in progress"; outside
 *            the window or not delivered: explained, and to people.
 *   cancel   before shipped: a cancel request goes to the store the same
 *            way and the customer is told it was asked (the cancelled order
 *            event confirms it, notify tells them); open already: "in
 *            progress"; cancelled already: said; shipped or later: the
 *            return path is explained.
 *   payment  an order waiting for payment with a boleto line or a Pix code
 *            that is still payable: sent again; otherwise to people.
 *
 * Answers are in the ticket's language; the ones that are not a hand-over
 * end with how to reach a person (wrk_route_say_auto). Without
 * ATENDE_STORE_WEBHOOK_URL a request is recorded, the customer told, and the
 * ticket handed to people, who pass it to the store. */
#include <inttypes.h>
#include <string.h>

#include "route/selfservice.h"
#include "at_store_selfservice.h"
#include "at_store_notification.h"
#include "at_log.h"

#define S_COMP "route"

typedef struct {
  wrk_ctx_t *ctx;
  wrk_msg_t *m;
  const at_ticket_t *t;
  at_lang_t lang;
  const at_config_t *cfg;
  at_selfservice_order_t order;
} s_flow_t;

/* The store's time zone when PostgreSQL knows it (remembered per thread),
 * else UTC (said once per name). */
static const char *
s_timezone (s_flow_t *f)
{
  static _Thread_local char known[64], refused[64];
  const char *tz = f->cfg->store_timezone;
  if (strcmp (tz, known) == 0)
    return tz;
  if (strcmp (tz, refused) != 0 && at_store_timezone_valid (wrk_ctx_store (f->ctx), tz)) {
    at_strlcpy (known, tz, sizeof known);
    return tz;
  }
  if (strcmp (tz, refused) != 0)
    at_warn (S_COMP, "msg=\"ATENDE_STORE_TIMEZONE unknown to PostgreSQL, return windows in"
             " UTC\" value=\"%s\"", tz);
  at_strlcpy (refused, tz, sizeof refused);
  return "UTC";
}

static int
s_handoff (s_flow_t *f, const char *reason)
{
  int rc = wrk_route_handoff (f->ctx, f->m, f->t, reason);
  if (rc != AT_OK)
    return rc;
  at_info (S_COMP, "msg=\"self-service handed to people\" id=%s ticket_id=%" PRId64
           " order_id=\"%s\" reason=%s", f->m->msg->id, f->t->id, f->order.id, reason);
  return AT_OK;
}

/* Says the template event to the customer: an answer (with how to reach a
 * person), or, with handoff set, an explanation before the ticket goes to
 * people (its words say a person follows). A missing template or a
 * customer without a handle on the channel leaves the ticket to people. */
static int
s_say (s_flow_t *f, const char *event, const char *date, const char *code,
       const char *handoff)
{
  char body[WRK_ROUTE_SAY_MAX];
  wrk_selfservice_vars_t v = {.order_id = f->order.id, .date = date,
                              .return_days = f->cfg->return_window_days, .code = code};
  int rc = wrk_route_selfservice_text (wrk_ctx_store (f->ctx), f->cfg, event, f->lang, &v, body,
                                       sizeof body - 256);
  if (rc == AT_NOTFOUND || rc == AT_INVALID) {
    at_warn (S_COMP, "msg=\"self-service answer has no template or does not fit\" id=%s"
             " ticket_id=%" PRId64 " event=%s", f->m->msg->id, f->t->id, event);
    return s_handoff (f, "selfservice_no_template");
  }
  if (rc != AT_OK)
    return wrk_route_store_rc (f->m, rc, "template lookup failed for ticket", f->t->id);
  rc = handoff ? wrk_route_say (f->ctx, f->m, f->t, "bot", "auto_reply", body,
                                at_lang_name (f->lang), NULL)
               : wrk_route_say_auto (f->ctx, f->m, f->t, body, f->lang);
  if (rc == AT_NOTFOUND)
    return s_handoff (f, "no_handle_on_channel");
  if (rc != AT_OK)
    return wrk_route_store_rc (f->m, rc, "self-service answer refused for ticket", f->t->id);
  at_info (S_COMP, "msg=\"self-service answered\" id=%s ticket_id=%" PRId64 " order_id=\"%s\""
           " answer=%s", f->m->msg->id, f->t->id, f->order.id, event);
  return handoff ? s_handoff (f, handoff) : AT_OK;
}

/* Opens a request of kind (return | cancel) and queues its store.request;
 * *pending_out when one was open already (nothing written). */
static int
s_request (s_flow_t *f, const char *kind, bool *pending_out)
{
  at_store_t *store = wrk_ctx_store (f->ctx);
  char id[AT_ID_LEN];
  *pending_out = false;
  int rc = at_store_selfservice_open_find (store, f->order.id, kind, id);
  if (rc == AT_OK && id[0]) {
    *pending_out = true;
    at_info (S_COMP, "msg=\"self-service request already open\" id=%s ticket_id=%" PRId64
             " order_id=\"%s\" request_id=%s kind=%s", f->m->msg->id, f->t->id, f->order.id,
             id, kind);
    return AT_OK;
  }
  at_selfservice_new_t r = {.kind = kind, .order_id = f->order.id, .ticket_id = f->t->id,
                            .customer_id = f->t->customer_id,
                            .locale = wrk_route_selfservice_locale (f->lang),
                            .state = "requested"};
  if (rc == AT_OK)
    rc = at_store_selfservice_insert (store, &r, id);
  if (rc != AT_OK)
    return wrk_route_store_rc (f->m, rc, "self-service request refused for ticket", f->t->id);
  at_info (S_COMP, "msg=\"self-service request opened\" id=%s ticket_id=%" PRId64
           " order_id=\"%s\" request_id=%s kind=%s", f->m->msg->id, f->t->id, f->order.id, id,
           kind);
  if (!f->cfg->store_webhook_url[0])
    return AT_OK;                         /* handed to people after the answer */
  at_msg_t *out = at_selfservice_request_msg (id, f->m->msg->trace_id);
  if (!out)
    return AT_ERROR;
  return wrk_ctx_produce (f->ctx, &out);
}

/* The answer to a request just opened; to people as well without a
 * webhook to the store. */
static int
s_opened (s_flow_t *f, const char *event, const char *date)
{
  int rc = s_say (f, event, date, NULL, NULL);
  if (rc == AT_OK && !f->cfg->store_webhook_url[0])
    rc = s_handoff (f, "store_webhook_off");
  return rc;
}

static int
s_return (s_flow_t *f)
{
  const at_selfservice_order_t *o = &f->order;
  char open[AT_ID_LEN] = "";
  bool pending = false;
  if (strcmp (o->status, "returned") == 0)
    return s_handoff (f, "return_already_returned");
  int rc = at_store_selfservice_open_find (wrk_ctx_store (f->ctx), o->id, "return", open);
  if (rc != AT_OK)
    return wrk_route_store_rc (f->m, rc, "self-service lookup failed for ticket", f->t->id);
  if (open[0])
    return s_say (f, "ss_return_pending", NULL, NULL, NULL);
  if (strcmp (o->status, "delivered") != 0 || !o->delivered)
    return s_say (f, "ss_return_undelivered", NULL, NULL, "return_not_delivered");
  if (!o->in_window)
    return s_say (f, "ss_return_late", o->window_end, NULL, "return_outside_window");
  rc = s_request (f, "return", &pending);
  if (rc != AT_OK)
    return rc;
  if (pending)
    return s_say (f, "ss_return_pending", NULL, NULL, NULL);
  return s_opened (f, "ss_return_opened", o->window_end);
}

static int
s_cancel (s_flow_t *f)
{
  const at_selfservice_order_t *o = &f->order;
  bool pending = false;
  if (strcmp (o->status, "cancelled") == 0)
    return s_say (f, "ss_cancel_done", NULL, NULL, NULL);
  if (o->rank >= at_order_status_rank ("shipped"))
    return s_say (f, "ss_cancel_shipped", NULL, NULL, NULL);
  int rc = s_request (f, "cancel", &pending);
  if (rc != AT_OK)
    return rc;
  if (pending)
    return s_say (f, "ss_cancel_pending", NULL, NULL, NULL);
  return s_opened (f, "ss_cancel_requested", NULL);
}

/* A code is sent again only while the order waits for its payment. */
static int
s_payment (s_flow_t *f)
{
  const at_selfservice_order_t *o = &f->order;
  char id[AT_ID_LEN];
  if (!o->payment_code[0])
    return s_handoff (f, "payment_no_code");
  if (strcmp (o->status, "placed") != 0)
    return s_handoff (f, "payment_not_pending");
  if (o->payment_expired)
    return s_handoff (f, "payment_code_expired");
  at_selfservice_new_t r = {.kind = "payment", .order_id = o->id, .ticket_id = f->t->id,
                            .customer_id = f->t->customer_id,
                            .locale = wrk_route_selfservice_locale (f->lang),
                            .state = "answered"};
  int rc = at_store_selfservice_insert (wrk_ctx_store (f->ctx), &r, id);
  if (rc != AT_OK)
    return wrk_route_store_rc (f->m, rc, "self-service request refused for ticket", f->t->id);
  bool pix = strcmp (o->payment_method, "pix") == 0;
  return s_say (f, pix ? "ss_payment_pix" : "ss_payment_boleto", o->payment_due,
                o->payment_code, NULL);
}

int
wrk_route_selfservice (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, at_intent_t intent,
                       const char *text)
{
  (void) text;
  s_flow_t f = {.ctx = ctx, .m = m, .t = t, .cfg = wrk_ctx_config (ctx)};
  f.lang = wrk_route_lang (f.cfg, t);
  int rc = at_store_selfservice_order (wrk_ctx_store (ctx), t->customer_id,
                                       f.cfg->return_window_days, s_timezone (&f), &f.order);
  if (rc == AT_NOTFOUND)
    return s_handoff (&f, "no_order");
  if (rc != AT_OK)
    return wrk_route_store_rc (m, rc, "order lookup failed for ticket", t->id);
  switch (intent) {
  case AT_INTENT_RETURN_REFUND:
    return s_return (&f);
  case AT_INTENT_CANCEL:
    return s_cancel (&f);
  case AT_INTENT_PAYMENT:
    return s_payment (&f);
  default:
    return AT_OK;
  }
}
