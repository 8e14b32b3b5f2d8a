/* api: message templates (api_templates.c) and Shopify webhooks (api_shopify.c). */
#ifndef API_TEMPLATES_H
#define API_TEMPLATES_H

#include "api_internal.h"

/* GET /v1/templates; GET, PUT, DELETE /v1/templates/{event}/{locale} */
void api_templates_list (api_request_t *req);
void api_templates_get (api_request_t *req);
void api_templates_put (api_request_t *req);
void api_templates_delete (api_request_t *req);

/* POST /v1/webhooks/shopify: the orders and fulfillments topics. */
void api_shopify_post (api_request_t *req);

/* --- pure parts of the Shopify door, unit-tested */
/* Whether X-Shopify-Hmac-Sha256 (base64 HMAC-SHA256 of the raw body) is right
 * for the shop's secret. secrets: the SECRETS setting ("secret", or "shop=secret,*=secret"
 * (shop as in X-Shopify-Shop-Domain). false for anything missing. */
bool api_shopify_verify (const at_list_t *secrets, const char *shop, const char *hmac_b64,
                         const char *body, size_t len);
/* The order status a Shopify topic and payload mean; NULL when the topic says
 * nothing about delivery (orders/updated without news, a pending fulfillment). */
const char *api_shopify_status (const char *topic, const json_t *payload);

#endif
