/* Customers and their identities in the store (lib/store_customer.c). */
#ifndef AT_CUSTOMER_H
#define AT_CUSTOMER_H

#include "at_store.h"

/* Finds the customer who owns the identity of (channel, handle), creating
 * customer and identity when new (race-safe: ON CONFLICT). handle must be
 * normalised (at_channel_normalize_handle). name may be NULL or "". */
int at_store_customer_resolve (at_store_t *store, const char *channel, const char *handle,
                               const char *name, int64_t *customer_id_out);

/* The customer's handle for a channel's identity kind into out: AT_NOTFOUND if none. */
int at_store_customer_handle (at_store_t *store, int64_t customer_id, const char *channel,
                              char *out, size_t cap);

#endif
