/* Self-service requests (table selfservice_request, migration 015;
 * lib/store/store_selfservice.c): a customer's return, cancel or payment
 * request on the channel, one small state machine per row:
 *
 *   return, cancel   requested -> sent_to_store -> confirmed | refused
 *                    requested | sent_to_store -> failed (the store's
 *                    webhook refused it for good; people take over)
 *   payment          answered (the code was sent again)
 *
 * An order has at most one open (requested, sent_to_store) request per kind.
 * route opens them (workers/route/selfservice.c), notify sends them to the
 * store (workers/notify/store_request.c) and closes them on order events.
 * All functions run in the caller's transaction. */
#ifndef AT_STORE_SELFSERVICE_H
#define AT_STORE_SELFSERVICE_H

#include "at_store.h"
#include "at_msg.h"
#include "at_order.h"

#define AT_SELFSERVICE_KIND_LEN 8
#define AT_SELFSERVICE_STATE_LEN 16

/* The customer's latest order as the flows need it. */
typedef struct {
  char id[AT_ORDER_ID_MAX + 1];
  char status[AT_ORDER_STATUS_LEN];
  int rank;
  bool delivered;                     /* delivered_at is known */
  bool in_window;                     /* today (store's zone) <= window_end */
  char window_end[AT_ORDER_DATE_LEN]; /* delivery day + window days, "" when not delivered */
  char payment_method[8];             /* "" | boleto | pix */
  char payment_code[AT_ORDER_PAYMENT_CODE_MAX + 1];
  char payment_due[AT_ORDER_DATE_LEN];  /* YYYY-MM-DD or "" */
  bool payment_expired;               /* payment_due is before today (store's zone) */
} at_selfservice_order_t;

/* Reads and locks (FOR NO KEY UPDATE, as notify's order events do, so an
 * event and a request on one order never cross) the customer's latest
 * order; window_days and tz (a time zone PostgreSQL knows) give the return
 * window. AT_NOTFOUND when the customer has no order. */
int at_store_selfservice_order (at_store_t *store, int64_t customer_id, long window_days,
                                const char *tz, at_selfservice_order_t *out);

/* The open request of kind on the order: id_out "" when there is none. */
int at_store_selfservice_open_find (at_store_t *store, const char *order_id, const char *kind,
                                    char id_out[AT_ID_LEN]);

typedef struct {
  const char *kind;                   /* return | cancel | payment */
  const char *order_id;
  int64_t ticket_id, customer_id;
  const char *locale;                 /* pt-BR | en | es */
  const char *state;                  /* requested | answered */
} at_selfservice_new_t;

/* Inserts a request with a new UUID (id_out). AT_CONFLICT when the order
 * already has an open one of that kind. */
int at_store_selfservice_insert (at_store_t *store, const at_selfservice_new_t *r,
                                 char id_out[AT_ID_LEN]);

/* What notify sends to the store about a request. */
typedef struct {
  char state[AT_SELFSERVICE_STATE_LEN];
  char kind[AT_SELFSERVICE_KIND_LEN];
  char order_id[AT_ORDER_ID_MAX + 1];
  int64_t ticket_id, customer_id, created_us;
  int attempts;                       /* calls made, this one included */
} at_selfservice_claim_t;

/* Before a call to the store: locks the request and, while it is
 * requested, counts the attempt. AT_NOTFOUND for an unknown id; a request
 * in another state comes back with that state (nothing to send). */
int at_store_selfservice_claim (at_store_t *store, const char *id, at_selfservice_claim_t *out);

/* After the call: the store took it (sent_to_store, unless an order event
 * closed it meanwhile), or a failed attempt (http_status, error). */
int at_store_selfservice_sent (at_store_t *store, const char *id, long http_status);
int at_store_selfservice_attempt_failed (at_store_t *store, const char *id, long http_status,
                                         const char *error);
/* Refused for good: failed with the reason; *ticket_id_out (0 when it was
 * not open any more) is the ticket to hand to people. */
int at_store_selfservice_fail (at_store_t *store, const char *id, const char *reason,
                               int64_t *ticket_id_out);

/* An order event closed the order's open request of kind: state becomes
 * confirmed or refused. *closed_out false when there was none; else
 * ticket_id and locale of the request. */
typedef struct {
  bool closed;
  char id[AT_ID_LEN];
  int64_t ticket_id;
  char locale[AT_LOCALE_LEN];
} at_selfservice_closed_t;
int at_store_selfservice_close (at_store_t *store, const char *order_id, const char *kind,
                                const char *state, at_selfservice_closed_t *out);

/* A store.request bus message for notify (key selfservice:<id>); NULL when
 * request_id is not a UUID. */
at_msg_t *at_selfservice_request_msg (const char *request_id, const char *trace_id);
/* The request id of a store.request message; AT_INVALID when the payload
 * is not a StoreRequest with a UUID. */
int at_selfservice_request_decode (const at_msg_t *msg, char id_out[AT_ID_LEN]);

#endif
