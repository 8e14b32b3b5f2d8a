/* selfservice: the customer's return, cancel and payment requests served on
 * the channel, each a small state machine stored in PostgreSQL
 * (lib/store/at_store_selfservice.h) and never answered twice under
 * redelivery: everything happens in the worker's transaction, which also
 * marks the bus message done. selfservice.c runs the flows,
 * selfservice_text.c words the answers from the templates. */
#ifndef WRK_ROUTE_SELFSERVICE_H
#define WRK_ROUTE_SELFSERVICE_H

#include "route/route_int.h"
#include "at_intent.h"

/* After classification as return_refund, cancel or payment: runs the flow
 * for the customer's order, or hands the ticket to people with the reason. */
int wrk_route_selfservice (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t,
                           at_intent_t intent, const char *text);

/* --- wording (selfservice_text.c) ---------------------------------------- */

/* What an answer says besides its template's words. */
typedef struct {
  const char *order_id;
  const char *date;          /* YYYY-MM-DD: the window's end or the code's due date; "" none */
  long return_days;          /* {return_days} */
  const char *code;          /* appended on a line of its own (payment); NULL none */
} wrk_selfservice_vars_t;

/* "pt-BR", "en" or "es" for lang (Portuguese for anything else). */
const char *wrk_route_selfservice_locale (at_lang_t lang);

/* Renders the template event (ss_*) in lang's locale, else in the store's
 * default locale, into out. AT_NOTFOUND when neither has it; AT_INVALID
 * when the text does not fit in cap; or a store error. */
int wrk_route_selfservice_text (at_store_t *store, const at_config_t *cfg, const char *event,
                                at_lang_t lang, const wrk_selfservice_vars_t *vars, char *out,
                                size_t cap);

#endif
