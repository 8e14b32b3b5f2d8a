/* desk: queues, agents, assignment (see desk.h). */
#include "route/desk.h"

int
wrk_route_desk_needs_person (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t)
{
  (void) ctx, (void) m, (void) t;
  return AT_OK;
}

int
wrk_route_desk_on_agent_reply (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t,
                               const char *agent)
{
  (void) ctx, (void) m, (void) t, (void) agent;
  return AT_OK;
}

int
wrk_route_desk_on_resolve (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t)
{
  (void) ctx, (void) m, (void) t;
  return AT_OK;
}

int
wrk_route_desk_handle (wrk_ctx_t *ctx, wrk_msg_t *m, const char *type, const uint8_t *data,
                       size_t len)
{
  (void) ctx, (void) m, (void) type, (void) data, (void) len;
  return AT_NOTFOUND;
}
