/* answer: the automatic answer to an order-status question, in the
 * ticket's language (pt-BR, en, es). A pure function, unit-tested. */
#ifndef WRK_ROUTE_ANSWER_H
#define WRK_ROUTE_ANSWER_H

#include "at_text.h"
#include "at_store_ticket.h"

#define WRK_ANSWER_MAX 2048   /* bytes of an answer */

/* Writes the answer about order into out (cap bytes): order number, status
 * in words, expected delivery written the locale's way (pt and es
 * dd/mm/aaaa, en "November 24, 2026") while it is still to come, tracking
 * link when known (http or https). A delayed order (the delay check clears
 * the missed date) gets its new estimate, or the promise to tell it once
 * known. lang AT_LANG_OTHER is answered in
 * Portuguese. AT_INVALID when it does not fit. */
int wrk_route_answer_order (const at_ticket_order_t *order, at_lang_t lang, char *out, size_t cap);

/* The expected delivery date (YYYY-MM-DD) the locale's way into out;
 * AT_INVALID when date is not a valid date. */
int wrk_route_answer_date (const char *date, at_lang_t lang, char *out, size_t cap);

#endif
