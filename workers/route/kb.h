/* kb: the knowledge base's automatic answer. A question of intent other or
 * product_question whose best article (in the ticket's language) scores
 * above ATENDE_KB_MIN_SCORE is answered with that article and "did this
 * solve it? (sim/não)"; the customer's next message, when it is that answer,
 * is taken here: "sim" records it helpful, "não" hands the ticket to people. */
#ifndef WRK_ROUTE_KB_H
#define WRK_ROUTE_KB_H

#include "route/route_int.h"

/* Before classification: when the ticket awaits a "sim/não" to an article
 * and text is one, records it and sets *handled (nothing else is done with
 * the message). Any other text leaves *handled false (an unanswered
 * question counts as "no answer": the ticket goes to people). */
int wrk_route_kb_feedback (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, const char *text,
                           bool *handled);

/* After classification as other or product_question: searches and answers,
 * or records "no result" and leaves the ticket for people. */
int wrk_route_kb_answer (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, const char *text);

#endif
