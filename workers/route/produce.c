/* produce: one protobuf message onto the bus from route, in the worker's
 * transaction (route_int.h). A leaf: it calls nothing of route's. */
#include "route/route_int.h"

#define S_PAYLOAD_MAX 2048

int
wrk_route_produce (wrk_ctx_t *ctx, wrk_msg_t *m, const wrk_route_out_t *o,
                   const ProtobufCMessage *pb)
{
  uint8_t payload[S_PAYLOAD_MAX];
  size_t len = protobuf_c_message_get_packed_size (pb);
  if (len > sizeof payload) {
    snprintf (m->reason, sizeof m->reason, "%s for %s too large (%zu bytes)", o->type, o->key,
              len);
    return AT_INVALID;
  }
  protobuf_c_message_pack (pb, payload);
  at_msg_t *out = at_msg_new (o->stage, o->type, o->key, m->msg->trace_id, payload, len);
  if (!out)
    return AT_ERROR;
  if (o->delay_s > 0)
    out->not_before_us = at_now_us () + o->delay_s * 1000000;
  return wrk_ctx_produce (ctx, &out);
}
