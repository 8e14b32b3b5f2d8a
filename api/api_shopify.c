/* api_shopify: Shopify-style order webhooks, POST /v1/webhooks/shopify.
 *
 * The raw body is checked first: X-Shopify-Hmac-Sha256 must be the base64
 * HMAC-SHA256 of the body with the shop's secret (ATENDE_SHOPIFY_SECRET, one
 * secret or "shop=secret,..." by X-Shopify-Shop-Domain); otherwise 401 and
 * nothing is stored. The topic (X-Shopify-Topic) and, for fulfillments, the
 * shipment status become one of atende's order statuses, published as an
 * OrderEvent whose event_id is "shopify:<X-Shopify-Event-Id>": notify records
 * each event once per order, so Shopify's retries are deduplicated. Topics
 * that say nothing about delivery are answered 200 and ignored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api_templates.h"
#include "at_channel.h"
#include "at_channel_sig.h"
#include "at_crypto.h"
#include "at_json.h"
#include "at_log.h"
#include "at_time.h"
#include "at_url.h"
#include "domain.pb-c.h"

#define S_SECRET_MAX 256
#define S_FIELD_MAX 2048
#define S_ID_MAX 64

bool
api_shopify_verify (const at_list_t *secrets, const char *shop, const char *hmac_b64,
                    const char *body, size_t len)
{
  char secret[S_SECRET_MAX];
  uint8_t want[32], got[48];
  if (!hmac_b64 || strlen (hmac_b64) != 44
      || at_sig_secret_lookup (secrets, shop, secret, sizeof secret) != AT_OK)
    return false;
  int n = at_base64_decode (hmac_b64, strlen (hmac_b64), got, sizeof got);
  at_hmac_sha256 (secret, strlen (secret), body ? body : "", body ? len : 0, want);
  return n == 32 && at_ct_equal (want, got, sizeof want);
}

static const struct { const char *shipment_status, *status; } s_shipment[] = {
  {"label_printed", "packed"}, {"label_purchased", "packed"}, {"confirmed", "shipped"},
  {"in_transit", "in_transit"}, {"out_for_delivery", "out_for_delivery"},
  {"ready_for_pickup", "out_for_delivery"}, {"attempted_delivery", "failed_attempt"},
  {"failure", "failed_attempt"}, {"delayed", "delayed"}, {"delivered", "delivered"},
};

static const struct { const char *topic, *status; } s_topics[] = {
  {"orders/create", "placed"}, {"orders/paid", "confirmed"}, {"orders/cancelled", "cancelled"},
  {"orders/fulfilled", "shipped"}, {"orders/partially_fulfilled", "shipped"},
};

const char *
api_shopify_status (const char *topic, const json_t *payload)
{
  if (!topic)
    return NULL;
  for (size_t i = 0; i < AT_ARRAY_LEN (s_topics); i++)
    if (strcmp (topic, s_topics[i].topic) == 0)
      return s_topics[i].status;
  if (strcmp (topic, "fulfillments/create") != 0 && strcmp (topic, "fulfillments/update") != 0)
    return NULL;
  const char *shipment = json_string_value (json_object_get (payload, "shipment_status"));
  const char *status = json_string_value (json_object_get (payload, "status"));
  for (size_t i = 0; shipment && i < AT_ARRAY_LEN (s_shipment); i++)
    if (strcmp (shipment, s_shipment[i].shipment_status) == 0)
      return s_shipment[i].status;
  return status && strcmp (status, "success") == 0 ? "shipped" : NULL;
}

/* A string field of obj (strings and integers, as Shopify sends ids); NULL otherwise. */
static const char *
s_text (const json_t *obj, const char *field, char *buf, size_t cap)
{
  json_t *v = json_object_get (obj, field);
  if (json_is_integer (v) && json_integer_value (v) >= 0) {
    snprintf (buf, cap, "%lld", (long long) json_integer_value (v));
    return buf;
  }
  const char *s = json_string_value (v);
  if (!s || !*s || strlen (s) >= cap)
    return NULL;
  at_strlcpy (buf, s, cap);
  return buf;
}

typedef struct {
  char order_id[S_ID_MAX], event_id[S_ID_MAX + 16], channel[16], handle[AT_HANDLE_MAX];
  char name[256], expected[16], tracking[S_FIELD_MAX], when[64];
} s_event_t;

/* The customer: email, else a phone number (sms); a 422 problem when neither. */
static int
s_customer (const json_t *o, s_event_t *e, api_problem_t *p)
{
  const json_t *customer = json_object_get (o, "customer");
  const json_t *places[] = {o, customer, json_object_get (o, "shipping_address"),
                            json_object_get (o, "destination")};
  char buf[S_FIELD_MAX], first[128] = "", last[128] = "";
  for (size_t i = 0; i < AT_ARRAY_LEN (places) && !e->handle[0]; i++) {
    const char *email = s_text (places[i], "email", buf, sizeof buf);
    if (email && at_channel_normalize_handle ("email", email, e->handle, sizeof e->handle) == AT_OK)
      at_strlcpy (e->channel, "email", sizeof e->channel);
  }
  for (size_t i = 0; i < AT_ARRAY_LEN (places) && !e->handle[0]; i++) {
    const char *phone = s_text (places[i], "phone", buf, sizeof buf);
    if (phone && at_channel_normalize_handle ("sms", phone, e->handle, sizeof e->handle) == AT_OK)
      at_strlcpy (e->channel, "sms", sizeof e->channel);
  }
  if (!e->handle[0])
    return api_problem (p, 422, "email", "the payload names no customer email or phone");
  const json_t *who = customer ? customer : json_object_get (o, "destination");
  s_text (who, "first_name", first, sizeof first);
  s_text (who, "last_name", last, sizeof last);
  snprintf (e->name, sizeof e->name, "%.120s%s%.120s", first, *first && *last ? " " : "", last);
  return AT_OK;
}

/* Fills e from the payload; a problem naming what is missing. */
static int
s_event (const api_request_t *req, const char *topic, const json_t *o, s_event_t *e,
         api_problem_t *p)
{
  char buf[S_FIELD_MAX];
  bool fulfillment = strncmp (topic, "fulfillments/", 13) == 0;
  const char *id = s_text (o, fulfillment ? "order_id" : "id", buf, sizeof buf);
  if (!id || strlen (id) >= sizeof e->order_id)
    return api_problem (p, 422, fulfillment ? "order_id" : "id", "the order id is missing");
  at_strlcpy (e->order_id, id, sizeof e->order_id);
  const char *event = api_header (req, "X-Shopify-Event-Id");
  if (!event || !*event)
    event = api_header (req, "X-Shopify-Webhook-Id");
  if (!event || !*event || strlen (event) > S_ID_MAX)
    return api_problem (p, 400, "X-Shopify-Event-Id", "header X-Shopify-Event-Id is required");
  snprintf (e->event_id, sizeof e->event_id, "shopify:%s", event);
  const char *tracking = s_text (o, "tracking_url", buf, sizeof buf);
  if (!tracking)
    tracking = json_string_value (json_array_get (json_object_get (o, "tracking_urls"), 0));
  if (tracking && strlen (tracking) < sizeof e->tracking && at_url_is_web (tracking))
    at_strlcpy (e->tracking, tracking, sizeof e->tracking);
  const char *eta = s_text (o, "estimated_delivery_at", buf, sizeof buf);
  if (eta && strlen (eta) >= 10) {
    memcpy (e->expected, eta, 10);
    e->expected[10] = 0;
    if (at_date_parse (e->expected, NULL, NULL, NULL) != AT_OK)
      e->expected[0] = 0;
  }
  const char *fields[] = {"cancelled_at", "updated_at", "processed_at", "created_at"};
  for (size_t i = strcmp (topic, "orders/cancelled") == 0 ? 0 : 1; i < 4 && !e->when[0]; i++)
    if (s_text (o, fields[i], buf, sizeof buf))
      at_strlcpy (e->when, buf, sizeof e->when);
  return s_customer (o, e, p);
}

static at_msg_t *
s_msg (const s_event_t *e, const char *status, int64_t occurred_us, const char *trace_id)
{
  Atende__OrderEvent ev = ATENDE__ORDER_EVENT__INIT;
  ev.order_id = (char *) e->order_id;
  ev.status = (char *) status;
  ev.occurred_us = occurred_us;
  ev.event_id = (char *) e->event_id;
  ev.customer_channel = (char *) e->channel;
  ev.customer_handle = (char *) e->handle;
  ev.customer_name = (char *) e->name;
  ev.expected_delivery = (char *) e->expected;
  ev.tracking_url = (char *) e->tracking;
  return api_order_event_msg (&ev, trace_id);
}

/* 401 unless signed by the shop's secret; nothing else is looked at before. */
static bool
s_signed (api_request_t *req, api_problem_t *p)
{
  const char *shop = api_header (req, "X-Shopify-Shop-Domain");
  if (api_shopify_verify (&req->cfg->shopify_secret, shop, api_header (req, "X-Shopify-Hmac-Sha256"),
                          req->body, req->body_len))
    return true;
  at_warn ("api", "msg=\"shopify webhook refused: bad signature\" shop=\"%.100s\" request_id=%s",
           shop ? shop : "", req->request_id);
  api_problem (p, 401, "X-Shopify-Hmac-Sha256", "the signature does not match the body");
  p->slug = "bad-signature";
  p->title = "Unauthorized";
  return false;
}

void
api_shopify_post (api_request_t *req)
{
  api_problem_t p;
  s_event_t *e = at_calloc (1, sizeof *e);
  json_t *o = NULL;
  at_msg_t *msg = NULL;
  int64_t occurred_us = at_now_us ();
  if (!s_signed (req, &p))
    goto problem;
  const char *topic = api_header (req, "X-Shopify-Topic");
  if (!topic || !*topic) {
    api_problem (&p, 400, "X-Shopify-Topic", "header X-Shopify-Topic is required");
    goto problem;
  }
  if (!(o = api_body_object (req->body, req->body_len, &p)))
    goto problem;
  const char *status = api_shopify_status (topic, o);
  if (!status) {
    api_reply_json (req, 200, json_pack ("{s:s, s:s}", "status", "ignored", "topic", topic));
    goto out;
  }
  if (s_event (req, topic, o, e, &p) != AT_OK)
    goto problem;
  if (e->when[0] && at_rfc3339_parse (e->when, &occurred_us) != AT_OK)
    occurred_us = at_now_us ();
  if (!(msg = s_msg (e, status, occurred_us, api_trace_id (req)))) {
    api_problem (&p, 422, "id", "the order id does not fit");
    goto problem;
  }
  if (api_publish (req, msg) == AT_OK)
    api_reply_json (req, 200, json_pack ("{s:s, s:s, s:s, s:s}", "id", msg->id, "status",
                                         "accepted", "order_id", e->order_id, "order_status",
                                         status));
  goto out;
problem:
  api_reply_problem (req, &p);
out:
  at_msg_destroy (&msg);
  json_decref (o);
  free (e);
}
