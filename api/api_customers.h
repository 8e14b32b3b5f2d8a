/* Handlers of the email door and the customers resource (api_email.c,
 * api_customers.c). */
#ifndef API_CUSTOMERS_H
#define API_CUSTOMERS_H

#include "api_internal.h"

/* POST /v1/channels/email: a raw RFC 5322 message (message/rfc822) from the
 * mail relay, signed with Standard Webhooks (ATENDE_EMAIL_RELAY_SECRET). */
void api_email_post (api_request_t *req);
/* GET /v1/customers/{id}: the customer, identities, ticket counts. */
void api_customers_get (api_request_t *req);
/* POST /v1/customers/{id}/merge {"from": other_id}: atomic merge. */
void api_customers_merge_post (api_request_t *req);
/* GET /v1/customers/{id}/export: all personal data (api_privacy.c). */
void api_customers_export_get (api_request_t *req);
/* POST /v1/customers/{id}/erase: erasure, audited (api_privacy.c). */
void api_customers_erase_post (api_request_t *req);

#endif
