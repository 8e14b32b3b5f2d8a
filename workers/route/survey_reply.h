/* survey_reply: a customer's answer to a survey typed in the channel ("5",
 * "nota 9", "10!", ⭐⭐⭐⭐, "péssimo"), taken before anything else reads the
 * message (issue 16 point 4). */
#ifndef WRK_ROUTE_SURVEY_REPLY_H
#define WRK_ROUTE_SURVEY_REPLY_H

#include "route/route_int.h"

/* When the customer has a survey waiting for an answer on this channel and
 * text answers it, records the answer once and sets *handled (the message
 * is not classified nor answered otherwise). message_id: the customer's
 * message. */
int wrk_route_survey_reply (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t,
                            int64_t message_id, const char *text, bool *handled);

#endif
