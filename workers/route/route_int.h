/* route_int: what route's files share (route.c dispatches; answer.c,
 * kb.c, selfservice.c and priority.c each own one kind of decision).
 * Everything runs inside the worker's transaction for the message m. */
#ifndef WRK_ROUTE_INT_H
#define WRK_ROUTE_INT_H

#include <protobuf-c/protobuf-c.h>
#include <stdio.h>
#include "wrk.h"
#include "at_text.h"
#include "at_store_ticket.h"

/* Where a message route produces goes: stage, type, key, and how many
 * seconds later it is due (0: at once). */
typedef struct {
  const char *stage, *type, *key;
  int64_t delay_s;
} wrk_route_out_t;

/* Packs pb into a message as o says, produced in the worker's transaction
 * (workers/route/produce.c). AT_INVALID (m->reason set) when it exceeds
 * 2 KiB, AT_ERROR when it cannot be built. */
int wrk_route_produce (wrk_ctx_t *ctx, wrk_msg_t *m, const wrk_route_out_t *o,
                       const ProtobufCMessage *pb);

/* The message is bad: m->reason = "<what> <ticket_id>", AT_INVALID. */
int wrk_route_bad (wrk_msg_t *m, const char *what, int64_t ticket_id);

/* Reads and locks ticket_id into *t: AT_OK, AT_INVALID when there is no
 * such ticket (the message is bad: reason set), or a store failure as
 * wrk_route_store_rc gives it. */
int wrk_route_ticket_lock (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id, at_ticket_t *t);

/* A store result as the worker loop wants it: AT_INVALID is the message's
 * fault (dead letter, with what as the reason), a conflict or a missing row
 * is retried (AT_AGAIN), the rest as is. */
int wrk_route_store_rc (wrk_msg_t *m, int rc, const char *what, int64_t ticket_id);

/* Says body to the ticket's customer on the ticket's channel: a
 * notification row (kind reply | auto_reply), the outgoing ticket message,
 * the ticket answered (automatically when author is "bot"), and a
 * notification.send for notify. AT_NOTFOUND when the customer has no handle
 * on the ticket's channel (nothing written). */
int wrk_route_say (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, const char *author,
                   const char *kind, const char *body, const char *language, const char *agent);

/* An automatic answer: body followed by how to reach a person, in lang, as
 * the bot (kind auto_reply). AT_NOTFOUND as wrk_route_say; AT_INVALID when
 * the answer does not fit WRK_ROUTE_SAY_MAX. */
#define WRK_ROUTE_SAY_MAX 4096
int wrk_route_say_auto (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, const char *body,
                        at_lang_t lang);

/* The sentence every automatic answer ends with: how to reach a person. */
const char *wrk_route_person_hint (at_lang_t lang);

/* True when text is a customer asking for a person ("atendente",
 * "falar com uma pessoa", "agent", "humano", ...). */
bool wrk_route_asks_person (const char *text);

/* Gives the ticket to people: handoff_reason (at_store_ticket_handoff)
 * and the SLA clocks that automation paused run again. The desk queues it
 * when route sees it open (after a customer's message), or through
 * wrk_route_desk_needs_person. */
int wrk_route_handoff (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, const char *reason);

/* The language to answer in: the ticket's, else the configured default,
 * else Portuguese. */
at_lang_t wrk_route_lang (const at_config_t *cfg, const at_ticket_t *t);

#endif
