/* api_envelope: the bus messages more than one door of the api publishes,
 * packed from their protobuf: a customer's message for ingest (POST
 * /v1/messages and every provider's webhook) and an order event for notify
 * (POST /v1/orders/{id}/events and Shopify's webhooks). Calls no other file
 * of the api. */
#include <stdio.h>
#include <stdlib.h>
#include "api_internal.h"
#include "domain.pb-c.h"

at_msg_t *
api_inbound_msg (const Atende__InboundMessage *in, const char *trace_id)
{
  char key[AT_KEY_LEN];
  size_t len = atende__inbound_message__get_packed_size (in);
  uint8_t *payload = at_malloc (len + 1);
  atende__inbound_message__pack (in, payload);
  snprintf (key, sizeof key, "%s:%s", in->channel, in->handle);
  at_msg_t *msg = at_msg_new (AT_STAGE_INGEST, AT_TYPE_INBOUND_MESSAGE, key, trace_id, payload,
                              len);
  free (payload);
  return msg;
}

at_msg_t *
api_order_event_msg (const Atende__OrderEvent *ev, const char *trace_id)
{
  char key[AT_KEY_LEN];
  size_t len = atende__order_event__get_packed_size (ev);
  uint8_t *payload = at_malloc (len + 1);
  atende__order_event__pack (ev, payload);
  snprintf (key, sizeof key, "order:%s", ev->order_id);
  at_msg_t *msg = at_msg_new (AT_STAGE_NOTIFY, AT_TYPE_ORDER_EVENT, key, trace_id, payload, len);
  free (payload);
  return msg;
}
