/* notify, order.event: the order state machine applied to the store, the
 * customer's order_status message when a customer-facing status applies, and
 * the delay check scheduled when the expected delivery date is set or moves.
 * The payment an event carries is stored with the order, and an applied
 * status closes the self-service request it answers (store_request.c): a
 * confirmed cancel is told on its ticket instead of the usual message. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistr.h>
#include "notify.h"
#include "orders.h"
#include "templates.h"
#include "store_request.h"
#include "at_store_order.h"
#include "at_store_customer.h"
#include "at_channel.h"
#include "at_store_notification.h"
#include "at_store_survey.h"
#include "at_store_rule.h"
#include "at_log.h"
#include "at_url.h"
#include "domain.pb-c.h"

#define S_TRACKING_URL_MAX AT_ORDER_TRACKING_MAX
#define S_NAME_MAX 200

/* Checks the fields a publisher must get right; reason says which is not. */
static int
s_validate (const Atende__OrderEvent *ev, char *reason, size_t cap)
{
  size_t id_len = strlen (ev->order_id);
  const char *field, *why;
  char date[48];
  if (id_len == 0 || id_len > AT_ORDER_ID_MAX)
    snprintf (reason, cap, "order_id must have 1..%d bytes", AT_ORDER_ID_MAX);
  else if (!at_order_status_known (ev->status))
    snprintf (reason, cap, "unknown order status \"%.40s\"", ev->status);
  else if (ev->occurred_us < 0)
    snprintf (reason, cap, "occurred_us must not be negative");
  else if (*ev->expected_delivery && wrk_notify_date (ev->expected_delivery, "en", date,
                                                        sizeof date) != AT_OK)
    snprintf (reason, cap, "expected_delivery must be YYYY-MM-DD");
  else if (*ev->tracking_url && (strlen (ev->tracking_url) > S_TRACKING_URL_MAX
                                 || !at_url_is_web (ev->tracking_url)))
    snprintf (reason, cap, "tracking_url must be an http(s) URL of at most %d bytes",
              S_TRACKING_URL_MAX);
  else if (!at_channel_known (ev->customer_channel))
    snprintf (reason, cap, "unknown customer_channel \"%.40s\"", ev->customer_channel);
  else if (strlen (ev->customer_name) > S_NAME_MAX)
    snprintf (reason, cap, "customer_name longer than %d bytes", S_NAME_MAX);
  else if (at_order_payment_check (ev->payment_method, ev->payment_code, &field, &why) != AT_OK)
    snprintf (reason, cap, "%s %s", field, why);
  else if (*ev->payment_due && (!*ev->payment_method
                                || wrk_notify_date (ev->payment_due, "en", date, sizeof date)
                                     != AT_OK))
    snprintf (reason, cap, "payment_due must be YYYY-MM-DD and come with a payment");
  else
    return AT_OK;
  return AT_INVALID;
}

/* The first word of a name, cut on a UTF-8 character boundary to fit. */
static void
s_first_name (const char *name, char *out, size_t cap)
{
  while (*name == ' ')
    name++;
  size_t n = strcspn (name, " ");
  n = n < cap - 1 ? n : cap - 1;
  memcpy (out, name, n);
  out[n] = 0;
  const uint8_t *bad = u8_check ((const uint8_t *) out, n);
  if (bad)
    out[bad - (const uint8_t *) out] = 0;   /* do not end in the middle of a character */
}

int
wrk_notify_order_tell (wrk_ctx_t *ctx, wrk_msg_t *m, wrk_order_tell_t *t)
{
  at_store_t *store = wrk_ctx_store (ctx);
  const at_config_t *cfg = wrk_ctx_config (ctx);
  char name[S_NAME_MAX + 1], locale_raw[AT_LOCALE_LEN], text[WRK_NOTIFY_TEXT_MAX];
  char first_name[64] = "", id[AT_ID_LEN];
  const char *used = NULL;
  int rc = at_store_order_customer (store, t->customer_id, name, sizeof name, locale_raw);
  if (rc != AT_OK && rc != AT_NOTFOUND)
    return rc;
  s_first_name (*name ? name : t->name_hint ? t->name_hint : "", first_name, sizeof first_name);
  t->vars.first_name = first_name;
  t->vars.order_id = t->order_id;
  const char *locale = at_locale_pick (locale_raw, cfg->default_locale);
  rc = wrk_notify_render (store, cfg, t->event, locale, &t->vars, text, sizeof text, &used);
  if (rc == AT_NOTFOUND)
    return AT_OK;
  if (rc == AT_INVALID) {
    snprintf (m->reason, sizeof m->reason, "order_status message does not fit");
    return AT_INVALID;
  }
  if (rc != AT_OK)
    return rc;
  at_notification_t n = {.kind = "order_status", .customer_id = t->customer_id,
                         .order_id = t->order_id, .channel = t->channel,
                         .recipient = t->handle, .body = text};
  rc = at_store_notification_create (store, &n, id);
  if (rc != AT_OK)
    return rc;
  at_msg_t *send = at_notification_send_msg (id, m->msg->trace_id);
  if (!send)
    return AT_ERROR;
  at_info (WRK_NOTIFY_COMP, "msg=\"order status notification\" order_id=\"%s\" status=%s"
           " notification_id=%s locale=%s", t->order_id, t->event, id, used ? used : locale);
  return wrk_ctx_produce (ctx, &send);
}

at_msg_t *
wrk_notify_check_msg (const char *order_id, const char *expected_date, int64_t due_us,
                      const char *trace_id)
{
  Atende__OrderCheckDelay check = ATENDE__ORDER_CHECK_DELAY__INIT;
  uint8_t payload[AT_ORDER_ID_MAX + 64];
  char key[AT_KEY_LEN];
  check.order_id = (char *) order_id;
  check.expected_delivery = (char *) expected_date;
  check.due_us = due_us;
  if (atende__order_check_delay__get_packed_size (&check) > sizeof payload)
    return NULL;
  size_t len = atende__order_check_delay__pack (&check, payload);
  snprintf (key, sizeof key, "order:%s", order_id);
  at_msg_t *msg = at_msg_new (AT_STAGE_NOTIFY, AT_TYPE_ORDER_CHECK_DELAY, key, trace_id,
                              payload, len);
  if (msg)
    msg->not_before_us = due_us;
  return msg;
}

int
wrk_notify_order_schedule_check (wrk_ctx_t *ctx, wrk_msg_t *m, const char *order_id,
                                 const char *expected_date)
{
  const at_config_t *cfg = wrk_ctx_config (ctx);
  int64_t due_us = 0;
  if (strcmp (cfg->delay_checks, "external") == 0)
    return AT_OK;
  int rc = at_store_order_day_end (wrk_ctx_store (ctx), expected_date, cfg->store_timezone,
                                   &due_us);
  if (rc == AT_INVALID) {
    snprintf (m->reason, sizeof m->reason, "ATENDE_STORE_TIMEZONE \"%.64s\" is not a time zone"
              " PostgreSQL knows", cfg->store_timezone);
    return AT_ERROR;      /* configuration, not the message: retried once fixed */
  }
  if (rc != AT_OK)
    return rc;
  at_msg_t *check = wrk_notify_check_msg (order_id, expected_date, due_us, m->msg->trace_id);
  if (!check)
    return AT_ERROR;
  at_debug (WRK_NOTIFY_COMP, "msg=\"delay check scheduled\" order_id=\"%s\" expected=%s"
            " due_us=%" PRId64, order_id, expected_date, due_us);
  return wrk_ctx_produce (ctx, &check);
}

/* The state machine on the stored order; *notify_out when the status applied,
 * cur_out = the order before the event. */
static int
s_apply (wrk_ctx_t *ctx, wrk_msg_t *m, const Atende__OrderEvent *ev, int64_t occurred_us,
         int64_t customer_id, at_order_current_t *cur, bool *notify_out, bool *applied_out)
{
  at_store_t *store = wrk_ctx_store (ctx);
  at_order_decision_t decision;
  char key[AT_ORDER_EVENT_KEY_MAX];
  int rank = 0;
  bool recorded = false;
  *notify_out = false;
  if (at_order_event_key (ev->event_id, ev->status, occurred_us, key, sizeof key) != AT_OK) {
    snprintf (m->reason, sizeof m->reason, "event_id longer than %d bytes",
              AT_ORDER_EVENT_KEY_MAX - 1);
    return AT_INVALID;
  }
  int rc = at_store_order_lock (store, ev->order_id, cur);
  if (rc == AT_OK)
    rc = at_order_decide_event (cur, ev->status, occurred_us, ev->expected_delivery, &decision,
                                &rank);
  if (rc != AT_OK)
    return rc;
  bool apply = decision == AT_ORDER_APPLY;
  at_order_update_t u = {ev->order_id, customer_id, ev->status, rank, occurred_us,
                         ev->expected_delivery, ev->tracking_url, ev->customer_channel};
  if (!cur->exists) {
    rc = at_store_order_insert (store, &u);
    if (rc == AT_CONFLICT) {
      snprintf (m->reason, sizeof m->reason, "order created concurrently; retrying");
      return AT_AGAIN;
    }
  }
  if (rc == AT_OK)
    rc = at_store_order_event_record (store, ev->order_id, key, ev->status, occurred_us, apply,
                                      &recorded);
  if (rc != AT_OK)
    return rc;
  if (!recorded) {
    at_debug (WRK_NOTIFY_COMP, "msg=\"duplicate order event ignored\" order_id=\"%s\""
              " event=\"%s\"", ev->order_id, key);
    return AT_OK;
  }
  if (cur->exists && apply)
    rc = at_store_order_apply (store, &u);
  if (rc == AT_OK && !apply)
    at_info (WRK_NOTIFY_COMP, "msg=\"order event recorded, not applied\" order_id=\"%s\""
             " status=%s current=%s", ev->order_id, ev->status, cur->status);
  /* told by the publisher that it is late, without a new date: the check stays quiet */
  if (rc == AT_OK && apply && strcmp (ev->status, "delayed") == 0 && *cur->expected_delivery
      && (!*ev->expected_delivery || strcmp (ev->expected_delivery, cur->expected_delivery) == 0))
    rc = at_store_order_delay_told (store, ev->order_id, cur->expected_delivery);
  /* a new or changed expected date, on an order still to be delivered: check it then */
  if (rc == AT_OK && apply && *ev->expected_delivery && rank < at_order_status_rank ("delivered")
      && strcmp (ev->expected_delivery, cur->expected_delivery) != 0)
    rc = wrk_notify_order_schedule_check (ctx, m, ev->order_id, ev->expected_delivery);
  *notify_out = rc == AT_OK && apply && at_order_status_customer_facing (ev->status);
  *applied_out = rc == AT_OK && apply;
  return rc;
}

/* An applied status: the rules of the customer's latest open ticket hear
 * order_status_changed (a rule.event for route); no rule listening or no
 * open ticket, nothing. */
static int
s_rules_event (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t customer_id)
{
  int64_t ticket = 0;
  bool listened = false;
  int rc = at_store_rule_listened (wrk_ctx_store (ctx), "order_status_changed", &listened);
  if (rc != AT_OK || !listened)
    return rc;
  rc = at_store_rule_open_ticket (wrk_ctx_store (ctx), customer_id, &ticket);
  if (rc != AT_OK)
    return rc == AT_NOTFOUND ? AT_OK : rc;
  Atende__RuleEvent e = ATENDE__RULE_EVENT__INIT;
  e.ticket_id = ticket;
  e.event = "order_status_changed";
  uint8_t buf[64];
  size_t len = atende__rule_event__get_packed_size (&e);
  char key[AT_KEY_LEN];
  if (len > sizeof buf)
    return AT_ERROR;
  atende__rule_event__pack (&e, buf);
  snprintf (key, sizeof key, "ticket:%" PRId64, ticket);
  at_msg_t *out = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_RULE_EVENT, key, m->msg->trace_id, buf, len);
  return out ? wrk_ctx_produce (ctx, &out) : AT_ERROR;
}

/* The customer's message about an applied event. For delayed, the date the
 * customer had is expected_date and the event's date is the new estimate. */
static int
s_notify_customer (wrk_ctx_t *ctx, wrk_msg_t *m, const Atende__OrderEvent *ev,
                   const at_order_current_t *cur, int64_t customer_id, const char *handle)
{
  wrk_order_tell_t t = {.order_id = ev->order_id, .event = ev->status,
                        .customer_id = customer_id, .channel = ev->customer_channel,
                        .handle = handle, .name_hint = ev->customer_name};
  t.vars.tracking_url = *ev->tracking_url ? ev->tracking_url : cur->tracking_url;
  t.vars.expected_date = ev->expected_delivery;
  if (strcmp (ev->status, "delayed") == 0) {
    t.vars.expected_date = *cur->expected_delivery ? cur->expected_delivery
                                                   : cur->missed_delivery;
    t.vars.new_expected_date = ev->expected_delivery;
    if (strcmp (t.vars.expected_date, ev->expected_delivery) == 0)
      t.vars.new_expected_date = "";     /* the same date is no new estimate */
  }
  return wrk_notify_order_tell (ctx, m, &t);
}

int
wrk_notify_order_event (wrk_ctx_t *ctx, wrk_msg_t *m)
{
  at_store_t *store = wrk_ctx_store (ctx);
  char handle[AT_HANDLE_MAX + 1];
  int64_t customer_id = 0;
  bool notify = false, told = false, applied = false;
  at_order_current_t cur;
  int rc = AT_INVALID;
  Atende__OrderEvent *ev = atende__order_event__unpack (NULL, m->msg->payload_len,
                                                        m->msg->payload);
  if (!ev) {
    snprintf (m->reason, sizeof m->reason, "payload is not an OrderEvent");
    goto out;
  }
  if (s_validate (ev, m->reason, sizeof m->reason) != AT_OK)
    goto out;
  if (at_channel_normalize_handle (ev->customer_channel, ev->customer_handle, handle,
                                   sizeof handle) != AT_OK) {
    snprintf (m->reason, sizeof m->reason, "customer_handle is not a valid %s handle",
              ev->customer_channel);
    goto out;
  }
  int64_t occurred_us = ev->occurred_us > 0 ? ev->occurred_us : m->msg->created_us;
  rc = at_store_customer_resolve (store, ev->customer_channel, handle, ev->customer_name,
                                  &customer_id);
  if (rc == AT_OK)
    rc = s_apply (ctx, m, ev, occurred_us, customer_id, &cur, &notify, &applied);
  if (rc == AT_OK && applied)
    rc = s_rules_event (ctx, m, customer_id);
  if (rc == AT_OK && *ev->payment_method)
    rc = at_store_order_payment (store, ev->order_id, ev->payment_method, ev->payment_code,
                                 ev->payment_due, occurred_us);
  if (rc == AT_OK && notify)
    rc = wrk_notify_selfservice_event (ctx, m, ev, &told);
  if (rc == AT_OK && notify && !told)
    rc = s_notify_customer (ctx, m, ev, &cur, customer_id, handle);
  if (rc == AT_OK && notify && strcmp (ev->status, "delivered") == 0) {   /* NPS, later */
    const at_config_t *cfg = wrk_ctx_config (ctx);
    at_msg_t *nps = at_survey_nps_msg (ev->order_id, customer_id, ev->customer_channel, handle,
                                       at_now_us () + (int64_t) cfg->nps_delay_h
                                                        * cfg->survey_hour_s * 1000000,
                                       m->msg->trace_id);
    rc = nps ? wrk_ctx_produce (ctx, &nps) : AT_ERROR;
  }
  if (rc != AT_OK && !m->reason[0])
    snprintf (m->reason, sizeof m->reason, "order event not applied: %s",
              at_store_last_error (store));
out:
  if (ev)
    atende__order_event__free_unpacked (ev, NULL);
  return rc;
}
