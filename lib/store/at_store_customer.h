/* Customers and their identities in the store (lib/store/store_customer.c). */
#ifndef AT_CUSTOMER_H
#define AT_CUSTOMER_H

#include "at_store.h"
#include "at_channel.h"

/* Finds the customer who owns the identity of (channel, handle), creating
 * customer and identity when new (race-safe: ON CONFLICT). handle must be
 * normalised (at_channel_normalize_handle). name may be NULL or "". */
int at_store_customer_resolve (at_store_t *store, const char *channel, const char *handle,
                               const char *name, int64_t *customer_id_out);

/* The customer's handle for a channel's identity kind into out: AT_NOTFOUND if none. */
int at_store_customer_handle (at_store_t *store, int64_t customer_id, const char *channel,
                              char *out, size_t cap);

/* --- merge and read (lib/store/store_customer_merge.c) */

#define AT_CUSTOMER_IDENTITIES_MAX 64
#define AT_CUSTOMER_NAME_MAX 200

/* What a merge moved. */
typedef struct {
  bool already;            /* from was merged into `into` before: nothing moved */
  long identities, tickets, orders, notifications, surveys;
} at_customer_merge_t;

/* Merges customer `from` into `into` in ONE transaction of its own (call
 * it outside any): both rows locked in id order, then identities, tickets,
 * orders, notifications and surveys move to `into`, and `from` keeps its row
 * with merged_into set (customers merged into `from` before now point at
 * `into`). Idempotent: merging again what was merged is AT_OK with
 * already set. AT_NOTFOUND when either does not exist; AT_INVALID when they
 * are the same; AT_CONFLICT when `into` is itself merged or `from` was
 * merged into another customer. Never called on a name match: the api
 * takes two ids an agent chose. */
int at_store_customer_merge (at_store_t *store, int64_t into, int64_t from,
                             at_customer_merge_t *out);

typedef struct {
  char kind[16];
  char value[AT_HANDLE_MAX + 1];
} at_identity_t;

typedef struct {
  int64_t id;
  char name[AT_CUSTOMER_NAME_MAX + 1];   /* "" when none */
  char locale[16];
  int64_t merged_into;                   /* 0: not merged */
  char created_at[40];                   /* RFC 3339 UTC */
  at_identity_t identities[AT_CUSTOMER_IDENTITIES_MAX];
  size_t n_identities;                   /* listed (the oldest first, capped) */
  long tickets_open, tickets_total;
} at_customer_t;

/* A customer with its identities: AT_NOTFOUND when there is none. */
int at_store_customer_get (at_store_t *store, int64_t id, at_customer_t *out);

#endif
