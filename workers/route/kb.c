/* kb: the knowledge base's automatic answer (see kb.h). */
#include "route/kb.h"

int
wrk_route_kb_feedback (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, const char *text,
                       bool *handled)
{
  (void) ctx, (void) m, (void) t, (void) text;
  *handled = false;
  return AT_OK;
}

int
wrk_route_kb_answer (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, const char *text)
{
  (void) ctx, (void) m, (void) t, (void) text;
  return AT_OK;
}
