/* Outgoing notifications in the store (lib/store/store_notification.c). Every
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

/* --- channel choice and delivery records (notify, lib/store/store_notification.c) */

/* What notify needs to choose a channel for one notification, read with the
 * notification locked (FOR UPDATE). Strings owned: at_notification_ctx_clear. */
typedef struct {
  char id[AT_ID_LEN];
  char status[16];                 /* pending sending delivered failed */
  char kind[16];
  char channel[16];                /* the channel it was created for */
  char *recipient;                 /* its handle on that channel */
  char *body;
  char *order_id;                  /* NULL: none */
  int64_t ticket_id, customer_id, created_us;
  int attempts;
  char preferred_channel[16];      /* "" none */
  char locale[16];
  char failed_channels[128];       /* comma-separated */
  char *identities_json;           /* {"email": "...", "phone": "...", ...} */
  bool whatsapp_window;            /* inbound WhatsApp from the customer in the last 24 h */
  bool customer_recent;            /* the customer wrote within urgent_window_min */
  bool quiet;                      /* now is in the quiet hours of the customer's zone */
  int64_t quiet_until_us;          /* when they end */
  long cap_sent;                   /* non-urgent sends in the cap window */
  int64_t cap_until_us;            /* when the oldest of them leaves the window */
} at_notification_ctx_t;

typedef struct {
  const char *store_timezone;      /* customers without a valid one */
  int quiet_start, quiet_end;      /* local hours; -1: no quiet hours */
  long cap_window_min;
  long urgent_window_min;
} at_notification_policy_t;

/* Locks and reads; AT_NOTFOUND when there is no such notification. */
int at_store_notification_context (at_store_t *store, const char *id,
                                   const at_notification_policy_t *policy,
                                   at_notification_ctx_t *ctx);
/* The same for n notifications in one statement (rows locked in id order);
 * ctx[i].id is "" for an id that names no notification. */
int at_store_notification_contexts (at_store_t *store, const char *const *ids, size_t n,
                                    const at_notification_policy_t *policy,
                                    at_notification_ctx_t *ctx);
void at_notification_ctx_clear (at_notification_ctx_t *ctx);

/* Recorded before the calls: each row sending on channel/recipient through
 * provider, attempts + 1 (into *attempts_out); whatsapp_mode "text" or
 * "template:<name>" ("" or NULL: not WhatsApp). One statement. */
typedef struct {
  const char *id, *channel, *recipient, *provider;
  const char *whatsapp_mode;       /* "" or NULL: none */
  int *attempts_out;
} at_notification_sending_t;
int at_store_notification_sending_many (at_store_t *store, const at_notification_sending_t *rows,
                                        size_t n);
/* BEGIN for notify's records around provider calls: committed without
 * waiting for the WAL flush (the worker's synchronous batch COMMIT after
 * them makes them durable; only a PostgreSQL crash in between can lose one,
 * and the message is then sent again). */
int at_store_notification_begin (at_store_t *store);

/* Recorded after the call. outcome AT_OK: delivered (provider_message_id);
 * AT_AGAIN: pending; AT_INVALID: pending with channel added to
 * failed_channels (the next choice skips it). */
int at_store_notification_result (at_store_t *store, const char *id, int outcome,
                                  const char *channel, const char *provider,
                                  const char *provider_message_id, long status,
                                  const char *error);
/* Held (quiet hours, frequency cap, rate limit, breaker): pending until. */
int at_store_notification_hold (at_store_t *store, const char *id, int64_t until_us,
                                const char *reason);
/* No channel left: failed for good with the reason. */
int at_store_notification_fail (at_store_t *store, const char *id, const char *reason);

/* A provider's delivery report. Statuses are normalised to sent, delivered,
 * read, failed; a report older in rank than the one recorded is ignored
 * (read is never turned back into delivered). AT_NOTFOUND: no notification
 * has that provider id (yet). *fallback_out: the report failed a message
 * that was handed over, the notification is pending again with its channel
 * marked failed, and id_out names it (send it again). */
int at_store_notification_report (at_store_t *store, const char *provider,
                                  const char *provider_message_id, const char *status,
                                  int64_t occurred_us, const char *error,
                                  char id_out[AT_ID_LEN], bool *fallback_out);
/* True when PostgreSQL knows the time zone (IANA name). */
bool at_store_timezone_valid (at_store_t *store, const char *tz);
/* sent delivered read failed, or NULL for a status that is not a delivery report. */
const char *at_notification_status_normalize (const char *provider_status);

/* A notification.status bus message (key notification:<provider_message_id>). */
at_msg_t *at_notification_status_msg (const char *provider, const char *provider_message_id,
                                      const char *status, int64_t occurred_us,
                                      const char *error, const char *trace_id);
#define AT_TYPE_NOTIFICATION_STATUS "notification.status"

#endif
