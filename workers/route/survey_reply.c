/* survey_reply: survey answers typed in the channel (see survey_reply.h). */
#include "route/survey_reply.h"

int
wrk_route_survey_reply (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, int64_t message_id,
                        const char *text, bool *handled)
{
  (void) ctx, (void) m, (void) t, (void) message_id, (void) text;
  *handled = false;
  return AT_OK;
}
