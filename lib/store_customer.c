/* Customers and identities: placeholder while the real one is written. */
#include "at_customer.h"
int at_store_customer_resolve (at_store_t *store, const char *channel, const char *handle,
                               const char *name, int64_t *customer_id_out)
{ (void) store; (void) channel; (void) handle; (void) name; (void) customer_id_out; return AT_ERROR; }
int at_store_customer_handle (at_store_t *store, int64_t customer_id, const char *channel,
                              char *out, size_t cap)
{ (void) store; (void) customer_id; (void) channel; (void) out; (void) cap; return AT_NOTFOUND; }
