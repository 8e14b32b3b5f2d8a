/* api_envelope: the bus messages more than one door of the api publishes,
 * packed from their protobuf: a customer's message for ingest (POST
 * /v1/messages and every provider's webhook) and an order event for notify
 * (POST /v1/orders/{id}/events and Shopify's webhooks). Calls no other file
 * of the api. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api_internal.h"
#include "at_store_privacy.h"
#include "domain.pb-c.h"

at_msg_t *
api_inbound_msg (const Atende__InboundMessage *in, const char *key_secret, const char *trace_id)
{
  char key[AT_PRIVACY_KEY_LEN];
  if (at_privacy_bus_key (key_secret, in->channel, in->handle, key, sizeof key) != AT_OK)
    return NULL;
  size_t len = atende__inbound_message__get_packed_size (in);
  uint8_t *payload = at_malloc (len + 1);
  atende__inbound_message__pack (in, payload);
  at_msg_t *msg = at_msg_new (AT_STAGE_INGEST, AT_TYPE_INBOUND_MESSAGE, key, trace_id, payload,
                              len);
  free (payload);
  return msg;
}

int
api_inbound_rekey (at_msg_t *msg, const char *key_secret)
{
  const char *colon = strchr (msg->key, ':');
  char channel[32], key[AT_PRIVACY_KEY_LEN];
  if (!colon || (size_t) (colon - msg->key) >= sizeof channel)
    return AT_INVALID;
  memcpy (channel, msg->key, (size_t) (colon - msg->key));
  channel[colon - msg->key] = '\0';
  if (at_privacy_bus_key (key_secret, channel, colon + 1, key, sizeof key) != AT_OK)
    return AT_INVALID;
  at_strlcpy (msg->key, key, sizeof msg->key);
  return AT_OK;
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
