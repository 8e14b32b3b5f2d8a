/* kb: the knowledge base's automatic answer. A question of intent other or
 * product_question whose best article (in the ticket's language) scores
 * at least ATENDE_KB_MIN_SCORE is answered with that article and "did this
 * solve it? (sim/não)"; the customer's next message, when it is that answer,
 * is taken here: "sim" records it helpful, "não" (or no answer within
 * ATENDE_KB_ANSWER_WAIT_S) hands the ticket to people.
 * The awaited answer is a row of kb_event (kind suggested, answered_at
 * NULL), written in the worker's transaction with the answer itself, so a
 * redelivered bus message never answers twice. */
#ifndef WRK_ROUTE_KB_H
#define WRK_ROUTE_KB_H

#include "route/route_int.h"

/* Before classification: when the ticket awaits a "sim/não" to an article
 * and text is one, records it and sets *handled (nothing else is done with
 * the message): "sim" -> helpful, the ticket pending again (answered);
 * "não" -> unhelpful, handed to people (kb_unhelpful). Any other text
 * settles the suggestion as unanswered and hands the ticket to people
 * (kb_unanswered), leaving *handled false: the message goes on to be
 * classified (and is not answered from the knowledge base again).
 * message_id: the customer's message (0: unknown). */
int wrk_route_kb_feedback (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t,
                           int64_t message_id, const char *text, bool *handled);

/* After classification as other or product_question: searches and answers,
 * or records "no result" and leaves the ticket for people. A ticket already
 * handed to people is left to them. */
int wrk_route_kb_answer (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, int64_t message_id,
                         const char *text);

/* A kb.followup came due (ATENDE_KB_ANSWER_WAIT_S after the answer): when
 * the suggestion event_id still awaits a "sim/não", it is settled as
 * unanswered, the customer told a person follows, and the ticket handed
 * to people (kb_no_answer); otherwise nothing. */
int wrk_route_kb_followup (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id, int64_t event_id);

/* What a customer's message says to "did this solve it?" (pure). */
typedef enum { WRK_KB_REPLY_OTHER = 0, WRK_KB_REPLY_YES, WRK_KB_REPLY_NO } wrk_kb_reply_t;
wrk_kb_reply_t wrk_route_kb_reply_kind (const char *text);

#endif
