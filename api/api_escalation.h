/* api: escalations and the leads they reach (api_escalation.c). */
#ifndef API_ESCALATION_H
#define API_ESCALATION_H

#include "api_internal.h"

/* PUT /v1/teams/{id}/leads {leads: [user ids]} (agents:write) */
void api_team_leads_put (api_request_t *req);
/* GET /v1/escalations?ticket=&limit= (kpis:read) */
void api_escalations_list (api_request_t *req);

#endif
