/* selfservice: return, cancel and payment flows (see selfservice.h). */
#include "route/selfservice.h"

int
wrk_route_selfservice (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, at_intent_t intent,
                       const char *text)
{
  (void) ctx, (void) m, (void) t, (void) intent, (void) text;
  return AT_OK;
}
