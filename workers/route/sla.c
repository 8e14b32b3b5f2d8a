/* sla: clocks, due times, warnings and breaches (see sla.h). */
#include "route/sla.h"

int
wrk_route_sla_on_classified (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t)
{
  (void) ctx, (void) m, (void) t;
  return AT_OK;
}

int
wrk_route_sla_on_customer_message (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t)
{
  (void) ctx, (void) m, (void) t;
  return AT_OK;
}

int
wrk_route_sla_on_answer (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, bool agent)
{
  (void) ctx, (void) m, (void) t, (void) agent;
  return AT_OK;
}

int
wrk_route_sla_on_resolve (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t)
{
  (void) ctx, (void) m, (void) t;
  return AT_OK;
}

int
wrk_route_sla_handle (wrk_ctx_t *ctx, wrk_msg_t *m, const char *type, const uint8_t *data,
                      size_t len)
{
  (void) ctx, (void) m, (void) type, (void) data, (void) len;
  return AT_NOTFOUND;
}
