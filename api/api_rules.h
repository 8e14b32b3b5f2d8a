/* api: rules (api_rules.c). */
#ifndef API_RULES_H
#define API_RULES_H

#include "api_internal.h"

/* GET /v1/rules; POST /v1/rules; GET, PUT, DELETE /v1/rules/{id} */
void api_rules_list (api_request_t *req);
void api_rules_post (api_request_t *req);
void api_rule_get (api_request_t *req);
void api_rule_put (api_request_t *req);
void api_rule_delete (api_request_t *req);
/* POST /v1/rules/dry-run {event, last?, rule?} */
void api_rules_dry_run (api_request_t *req);
/* GET /v1/tickets/{id}/rules: the ticket's execution log */
void api_ticket_rules_get (api_request_t *req);

#endif
