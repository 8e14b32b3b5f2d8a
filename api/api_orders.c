/* api_orders: POST /v1/orders/{id}/events, an order's status change from
 * the store's services, published to notify (proactive order updates). It
 * may carry the payment the order waits for (payment_method boleto | pix,
 * payment_code, payment_due), which self-service sends again on request. */
#include <string.h>
#include "api_internal.h"
#include "at_channel.h"
#include "at_json.h"
#include "at_order.h"
#include "at_time.h"
#include "at_url.h"
#include "domain.pb-c.h"

#define S_ORDER_ID_MAX 128
#define S_EVENT_ID_MAX 256
#define S_TIME_MAX 40
#define S_NAME_MAX 256
#define S_URL_MAX 2048

/* The order id is a path segment: printable ASCII without spaces. */
static bool
s_order_id_ok (const char *id)
{
  size_t n = strlen (id);
  if (n == 0 || n > S_ORDER_ID_MAX)
    return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char) id[i] <= 32 || (unsigned char) id[i] >= 127)
      return false;
  return true;
}

/* customer: {channel, handle, name?}; handle normalised into handle_out. */
static int
s_customer (json_t *obj, const char **channel, char *handle_out, size_t cap, const char **name,
            api_problem_t *p)
{
  const char *handle;
  json_t *customer = json_object_get (obj, "customer");
  if (!customer || json_is_null (customer))
    return api_problem (p, 400, "customer", "field \"customer\" is required");
  if (!json_is_object (customer))
    return api_problem (p, 400, "customer", "field \"customer\" must be an object");
  if (api_field_string (customer, "channel", 32, true, channel, p)
      || api_field_string (customer, "handle", AT_HANDLE_MAX - 1, true, &handle, p)
      || api_field_string (customer, "name", S_NAME_MAX, false, name, p)) {
    p->field = strcmp (p->field, "channel") == 0 ? "customer.channel"
               : strcmp (p->field, "handle") == 0 ? "customer.handle" : "customer.name";
    return AT_INVALID;
  }
  if (!at_channel_known (*channel))
    return api_problem (p, 422, "customer.channel", "unknown channel");
  if (at_channel_normalize_handle (*channel, handle, handle_out, cap) != AT_OK)
    return api_problem (p, 422, "customer.handle", "not a valid %s handle", *channel);
  return AT_OK;
}

/* payment_method, payment_code, payment_due: both or neither of the first
 * two, checked by at_order_payment_check; the due date YYYY-MM-DD. */
static int
s_payment (json_t *obj, Atende__OrderEvent *ev, api_problem_t *p)
{
  const char *method, *code, *due, *field, *why;
  if (api_field_string (obj, "payment_method", 16, false, &method, p)
      || api_field_string (obj, "payment_code", AT_ORDER_PAYMENT_CODE_MAX, false, &code, p)
      || api_field_string (obj, "payment_due", 10, false, &due, p))
    return AT_INVALID;
  if (at_order_payment_check (method, code, &field, &why) != AT_OK)
    return api_problem (p, 422, field, "%s %s", field, why);
  if (due && !method)
    return api_problem (p, 422, "payment_due", "payment_due needs payment_method and"
                        " payment_code");
  if (due && at_date_parse (due, NULL, NULL, NULL) != AT_OK)
    return api_problem (p, 422, "payment_due", "not a date YYYY-MM-DD");
  ev->payment_method = (char *) (method ? method : "");
  ev->payment_code = (char *) (code ? code : "");
  ev->payment_due = (char *) (due ? due : "");
  return AT_OK;
}

int
api_order_event_parse (const char *order_id, const char *body, size_t len,
                       const char *trace_id, at_msg_t **out, api_problem_t *p)
{
  const char *status, *event_id, *occurred, *expected, *tracking, *channel, *name = NULL;
  char handle[AT_HANDLE_MAX], generated_event[AT_ID_LEN];
  int64_t occurred_us = at_now_us ();
  int rc = AT_INVALID;
  Atende__OrderEvent ev = ATENDE__ORDER_EVENT__INIT;
  if (!s_order_id_ok (order_id))
    return api_problem (p, 404, NULL, "not a valid order id");
  json_t *obj = api_body_object (body, len, p);
  if (!obj)
    return AT_INVALID;
  if (api_field_string (obj, "status", 32, true, &status, p)
      || api_field_string (obj, "event_id", S_EVENT_ID_MAX, false, &event_id, p)
      || api_field_string (obj, "occurred_at", S_TIME_MAX, false, &occurred, p)
      || api_field_string (obj, "expected_delivery", 10, false, &expected, p)
      || api_field_string (obj, "tracking_url", S_URL_MAX, false, &tracking, p))
    goto out;
  if (!at_order_status_known (status)) {
    api_problem (p, 422, "status", "unknown order status");
    goto out;
  }
  if (occurred && at_rfc3339_parse (occurred, &occurred_us) != AT_OK) {
    api_problem (p, 422, "occurred_at", "not an RFC 3339 date-time");
    goto out;
  }
  if (expected && at_date_parse (expected, NULL, NULL, NULL) != AT_OK) {
    api_problem (p, 422, "expected_delivery", "not a date YYYY-MM-DD");
    goto out;
  }
  if (tracking && !at_url_is_web (tracking)) {
    api_problem (p, 422, "tracking_url", "not an http(s) URL");
    goto out;
  }
  if (s_payment (obj, &ev, p) != AT_OK
      || s_customer (obj, &channel, handle, sizeof handle, &name, p) != AT_OK)
    goto out;
  if (!event_id) {
    at_uuid_v7 (generated_event);    /* no dedup key given: this event is its own */
    event_id = generated_event;
  }
  ev.order_id = (char *) order_id;
  ev.status = (char *) status;
  ev.occurred_us = occurred_us;
  ev.event_id = (char *) event_id;
  ev.customer_channel = (char *) channel;
  ev.customer_handle = handle;
  ev.customer_name = (char *) (name ? name : "");
  ev.expected_delivery = (char *) (expected ? expected : "");
  ev.tracking_url = (char *) (tracking ? tracking : "");
  *out = api_order_event_msg (&ev, trace_id);
  rc = *out ? AT_OK : api_problem (p, 404, NULL, "not a valid order id");
out:
  json_decref (obj);
  return rc;
}

void
api_orders_event_post (api_request_t *req)
{
  api_problem_t p;
  at_msg_t *msg = NULL;
  if (api_order_event_parse (req->param, req->body, req->body_len, api_trace_id (req), &msg, &p)
      != AT_OK) {
    api_reply_problem (req, &p);
    return;
  }
  if (api_publish (req, msg) == AT_OK)
    api_reply_json (req, 202, json_pack ("{s:s, s:s}", "id", msg->id, "status", "accepted"));
  at_msg_destroy (&msg);
}
