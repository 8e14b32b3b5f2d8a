/* Tickets and their messages in the store (lib/store/store_ticket.c), as ingest
 * and route use them. All functions run in the caller's transaction. */
#ifndef AT_TICKET_H
#define AT_TICKET_H

#include "at_store.h"
#include "at_msg.h"

#define AT_SUBJECT_CHARS 80       /* a subject made from a message's text */
#define AT_SUBJECT_MAX 400        /* bytes of a subject kept */
#define AT_PROVIDER_ID_MAX 256    /* bytes of a provider's message id */
#define AT_TICKET_ORDER_ID_MAX 129
#define AT_TICKET_URL_MAX 1024

typedef struct {
  int64_t id;
  int64_t customer_id;
  char channel[32];
  char status[16];          /* open | pending | resolved */
  char intent[32];          /* "" while not classified */
  char priority[16];        /* "" while not classified */
  char language[16];        /* "" while not known */
  bool auto_answered;
} at_ticket_t;

typedef struct {
  int64_t ticket_id;
  const char *direction;            /* in | out */
  const char *author;               /* customer | agent | bot */
  const char *channel;
  const char *body;
  const char *provider_message_id;  /* NULL or "": none */
  const char *bus_message_id;       /* UUID, NULL: none */
  const char *language;             /* NULL or "": unknown */
  const char *email_message_id;     /* NULL or "": none (Message-ID without <>) */
  const char *full_body;            /* NULL or "": same as body */
  bool html_stripped;               /* body was made from HTML */
  const char *agent;                /* NULL or "": not an agent's (else who wrote it) */
  bool touch_inbound;               /* and the ticket touched as at_store_ticket_touch_inbound
                                       does, in the same statement (a customer wrote on it) */
} at_ticket_message_t;

/* The customer's latest order (by status_at), as an answer quotes it. */
typedef struct {
  char id[AT_TICKET_ORDER_ID_MAX];
  char status[32];
  char expected_delivery[16];       /* YYYY-MM-DD or "" */
  char tracking_url[AT_TICKET_URL_MAX];  /* "" when unknown (or too long to quote) */
} at_ticket_order_t;

/* --- ingest ------------------------------------------------------------ */

/* Whether an inbound message with this provider id on this channel exists. */
int at_store_ticket_message_seen (at_store_t *store, const char *channel,
                                  const char *provider_message_id, bool *seen_out);

/* The customer's open (not resolved) ticket on channel, or a new one with
 * this subject. Serialised per customer (row lock), so two messages never
 * open two tickets. *created_out tells which. */
int at_store_ticket_open_or_append (at_store_t *store, int64_t customer_id, const char *channel,
                                    const char *subject, int64_t *ticket_id_out,
                                    bool *created_out);

/* Inserts one ticket_message. AT_CONFLICT when the provider or bus message
 * id is already recorded. */
int at_store_ticket_message_add (at_store_t *store, const at_ticket_message_t *m,
                                 int64_t *message_id_out);

/* The customer's locale ("pt-BR", "en", "es") from the language of their
 * first ticket's first message: set only while ticket_id is the customer's
 * one ticket, so a locale set later (by an agent, a form) is never undone. */
int at_store_ticket_customer_locale (at_store_t *store, int64_t customer_id, int64_t ticket_id,
                                     const char *locale);

/* A customer wrote: updated_at now; pending or resolved becomes open again. */
int at_store_ticket_touch_inbound (at_store_t *store, int64_t ticket_id);

/* How an inbound message finds its ticket (at_store_ticket_thread). */
typedef struct {
  int64_t customer_id;              /* the sender (followed when merged) */
  const char *channel;
  const char *subject;              /* of a new ticket */
  const char *const *email_ids;     /* Message-IDs it answers: In-Reply-To, then
                                       References newest first (without <>) */
  size_t n_email_ids;
  int64_t tag_ticket_id;            /* "[#id]" in the subject, 0: none */
  long window_min;                  /* conversation window of chat-like channels */
} at_ticket_thread_t;

typedef enum {
  AT_THREAD_NEW = 0,                /* a new ticket */
  AT_THREAD_REPLY,                  /* In-Reply-To / References matched */
  AT_THREAD_TAG,                    /* the subject's ticket tag, sender its customer */
  AT_THREAD_CONVERSATION,           /* chat-like channel within the window */
  AT_THREAD_OPEN,                   /* the customer's open ticket (form) */
} at_thread_how_t;

/* Finds the ticket an inbound message belongs to, or opens one, serialised
 * per customer (row lock):
 *   email     by In-Reply-To / References against the Message-IDs of
 *             messages atende stored and notifications it sent (a resolved
 *             ticket is reopened by at_store_ticket_touch_inbound), then by
 *             the subject's tag only when the ticket is the sender's, then
 *             like a conversation (below): a fresh email of a customer with
 *             an open email ticket active within window_min joins it, else new;
 *   whatsapp, sms, chat, messenger, instagram: the open ticket on the
 *             channel updated within window_min, else new;
 *   form      the open ticket on the channel, else new.
 * *customer_id_out gets the customer the message belongs to (the one a
 * merged sender was merged into). */
int at_store_ticket_thread (at_store_t *store, const at_ticket_thread_t *q,
                            int64_t *ticket_id_out, int64_t *customer_id_out,
                            at_thread_how_t *how_out);

/* Stores an attachment of a message: metadata, and the bytes apart (none
 * when content is NULL). */
int at_store_ticket_attachment_add (at_store_t *store, int64_t message_id, const char *name,
                                    const char *content_type, int64_t size,
                                    const void *content, size_t content_len);

/* --- route ------------------------------------------------------------- */

/* Reads and locks (FOR UPDATE) a ticket: AT_NOTFOUND when there is none. */
int at_store_ticket_lock (at_store_t *store, int64_t ticket_id, at_ticket_t *out);

/* The language recorded on a message of this ticket ("" when none). */
int at_store_ticket_message_language (at_store_t *store, int64_t ticket_id, int64_t message_id,
                                      char *out, size_t cap);

/* What route read in a message. */
typedef struct {
  const char *intent;
  double confidence;                /* 0..1 */
  const char *priority;             /* normal | high */
  const char *priority_reason;      /* at_priority_reasons_text, "" none */
  const char *language;
  long sla_normal_min, sla_high_min;
} at_ticket_class_t;

/* Records a classification: intent and its confidence (both kept when the
 * new intent is "other" and the ticket has another one), priority (never
 * lowered) and its reasons (added to those already there, each once),
 * language (kept once known), and first_response_due = created_at + the
 * SLA of the resulting priority when not set yet. The ticket's resulting
 * fields come back in *out. */
int at_store_ticket_classify (at_store_t *store, int64_t ticket_id, const at_ticket_class_t *c,
                              at_ticket_t *out);

/* How many messages the customer wrote (every channel, this one included)
 * since their latest order last changed status, within the last window_h
 * hours: contacts about the same order while it has not moved. 0 when the
 * customer has no order. */
int at_store_ticket_repeat_contacts (at_store_t *store, int64_t customer_id, long window_h,
                                     long *count_out);

/* An answer went out: first_response_at when null, status pending (a
 * resolved ticket is reopened), auto_answered when automatic. */
int at_store_ticket_answered (at_store_t *store, int64_t ticket_id, bool automatic);

/* An automatic flow gives the ticket to people: handoff_reason (a short
 * token such as "kb_unhelpful", "return_outside_window", "asked_for_person")
 * and handoff_at now; auto_answered false (it was not answered automatically
 * after all); a pending ticket is open again, so it waits for an agent. */
int at_store_ticket_handoff (at_store_t *store, int64_t ticket_id, const char *reason);

/* A ticket.handoff bus message for route (key ticket:<id>); NULL when
 * reason does not fit. */
at_msg_t *at_ticket_handoff_msg (int64_t ticket_id, const char *reason, const char *trace_id);

/* Status resolved, resolved_at now. AT_CONFLICT when it already was. */
int at_store_ticket_resolve (at_store_t *store, int64_t ticket_id);

/* The customer's latest order: AT_NOTFOUND when the customer has none. */
int at_store_ticket_latest_order (at_store_t *store, int64_t customer_id, at_ticket_order_t *out);

#endif
