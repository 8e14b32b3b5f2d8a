/* Outgoing notifications in the store (lib/store_notification.c). Every
 * message to a customer is a notification row first; its UUID is the
 * idempotency key given to providers (webhook-id). */
#ifndef AT_NOTIFICATION_H
#define AT_NOTIFICATION_H

#include "at_store.h"
#include "at_msg.h"

typedef struct {
  const char *kind;        /* reply | auto_reply | order_status | survey */
  int64_t customer_id;
  int64_t ticket_id;       /* 0: none */
  const char *order_id;    /* NULL: none */
  const char *channel;
  const char *recipient;   /* the customer's handle on that channel */
  const char *body;
} at_notification_t;

/* Inserts a pending notification; id_out gets its UUID. */
int at_store_notification_create (at_store_t *store, const at_notification_t *n,
                                  char id_out[AT_ID_LEN]);

/* The same, addressed to a ticket's customer on the ticket's channel. */
int at_store_notification_for_ticket (at_store_t *store, int64_t ticket_id, const char *kind,
                                      const char *body, char id_out[AT_ID_LEN]);

/* A notification.send bus message for notify (key notification:<id>). */
at_msg_t *at_notification_send_msg (const char *notification_id, const char *trace_id);

#endif
