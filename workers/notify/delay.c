/* notify, order.check_delay: at the end of an order's expected delivery day
 * (store time zone), an order still not delivered is marked delayed and its
 * customer is told, once. A check for a date that is no longer the order's
 * expected date is stale and does nothing; so is a check for an order that
 * was delivered, returned or cancelled, or whose delay was already told. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "notify.h"
#include "orders.h"
#include "templates.h"
#include "at_store_order.h"
#include "at_store_customer.h"
#include "at_channel.h"
#include "at_log.h"
#include "domain.pb-c.h"

/* Why nothing is done, or NULL when the customer is to be told. */
static const char *
s_skip_reason (const at_order_current_t *cur, const Atende__OrderCheckDelay *check)
{
  if (!cur->exists)
    return "no such order";
  if (at_order_settled (cur))
    return "order settled";
  if (strcmp (cur->delay_told_for, check->expected_delivery) == 0)
    return "delay already told";
  if (strcmp (cur->expected_delivery, check->expected_delivery) != 0)
    return "stale check: the expected date changed";
  return NULL;
}

/* Tells the order's customer on the channel the order events named. */
static int
s_tell (wrk_ctx_t *ctx, wrk_msg_t *m, const at_order_current_t *cur, const char *order_id,
        const char *missed)
{
  char handle[AT_HANDLE_MAX + 1];
  if (cur->customer_id <= 0 || !at_channel_known (cur->customer_channel)) {
    at_warn (WRK_NOTIFY_COMP, "msg=\"delayed order has no customer to tell\" order_id=\"%s\"",
             order_id);
    return AT_OK;
  }
  int rc = at_store_customer_handle (wrk_ctx_store (ctx), cur->customer_id,
                                     cur->customer_channel, handle, sizeof handle);
  if (rc == AT_NOTFOUND) {
    at_warn (WRK_NOTIFY_COMP, "msg=\"delayed order's customer has no %s handle\""
             " order_id=\"%s\"", cur->customer_channel, order_id);
    return AT_OK;
  }
  if (rc != AT_OK)
    return rc;
  wrk_order_tell_t t = {.order_id = order_id, .event = "delayed",
                        .customer_id = cur->customer_id, .channel = cur->customer_channel,
                        .handle = handle, .name_hint = ""};
  t.vars.expected_date = missed;
  t.vars.tracking_url = cur->tracking_url;
  t.vars.new_expected_date = "";    /* a carrier's new estimate comes as an event */
  return wrk_notify_order_tell (ctx, m, &t);
}

static int
s_check (wrk_ctx_t *ctx, wrk_msg_t *m, const Atende__OrderCheckDelay *check)
{
  at_store_t *store = wrk_ctx_store (ctx);
  at_order_current_t cur;
  char key[AT_ORDER_EVENT_KEY_MAX];
  bool recorded = false;
  int rc = at_store_order_lock (store, check->order_id, &cur);
  if (rc != AT_OK)
    return rc;
  const char *skip = s_skip_reason (&cur, check);
  if (skip) {
    at_debug (WRK_NOTIFY_COMP, "msg=\"delay check: nothing to do\" order_id=\"%s\""
              " expected=%s why=\"%s\"", check->order_id, check->expected_delivery, skip);
    return AT_OK;
  }
  /* the order became late at due_us; its history never goes backwards */
  int64_t at_us = check->due_us > cur.status_at_us ? check->due_us : cur.status_at_us;
  snprintf (key, sizeof key, "delay-check:%s", check->expected_delivery);
  rc = at_store_order_event_record (store, check->order_id, key, "delayed", at_us, true,
                                    &recorded);
  if (rc == AT_OK && recorded)
    rc = at_store_order_mark_delayed (store, check->order_id, at_us, check->expected_delivery);
  if (rc != AT_OK || !recorded)
    return rc;
  at_info (WRK_NOTIFY_COMP, "msg=\"order delayed\" order_id=\"%s\" missed=%s",
           check->order_id, check->expected_delivery);
  return s_tell (ctx, m, &cur, check->order_id, check->expected_delivery);
}

int
wrk_notify_order_check_delay (wrk_ctx_t *ctx, wrk_msg_t *m)
{
  char date[48];
  int rc = AT_INVALID;
  Atende__OrderCheckDelay *check = atende__order_check_delay__unpack (NULL, m->msg->payload_len,
                                                                      m->msg->payload);
  if (!check) {
    snprintf (m->reason, sizeof m->reason, "payload is not an OrderCheckDelay");
    goto out;
  }
  size_t id_len = strlen (check->order_id);
  if (id_len == 0 || id_len > AT_ORDER_ID_MAX) {
    snprintf (m->reason, sizeof m->reason, "order_id must have 1..%d bytes", AT_ORDER_ID_MAX);
    goto out;
  }
  if (at_template_date (check->expected_delivery, "en", date, sizeof date) != AT_OK) {
    snprintf (m->reason, sizeof m->reason, "expected_delivery must be YYYY-MM-DD");
    goto out;
  }
  rc = s_check (ctx, m, check);
  if (rc != AT_OK && !m->reason[0])
    snprintf (m->reason, sizeof m->reason, "delay check failed: %s",
              at_store_last_error (wrk_ctx_store (ctx)));
out:
  if (check)
    atende__order_check_delay__free_unpacked (check, NULL);
  return rc;
}
