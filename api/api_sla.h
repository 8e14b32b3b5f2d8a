/* api: SLA calendars and policies (api_sla.c), the SLA gauges of /metrics. */
#ifndef API_SLA_H
#define API_SLA_H

#include "api_internal.h"

/* POST /v1/calendars; GET /v1/calendars; GET /v1/calendars/{id} */
void api_sla_calendars_post (api_request_t *req);
void api_sla_calendars_list (api_request_t *req);
void api_sla_calendar_get (api_request_t *req);
/* POST /v1/calendars/{id}/holidays/ical (Content-Type: text/calendar) */
void api_sla_holidays_ical_post (api_request_t *req);
/* POST /v1/sla/policies; GET /v1/sla/policies */
void api_sla_policies_post (api_request_t *req);
void api_sla_policies_list (api_request_t *req);

/* The share of tickets within each SLA target (by metric, team, channel)
 * into the api's gauges, before /metrics renders them; a store failure
 * leaves the last values. */
void api_sla_metrics_refresh (api_request_t *req);

#endif
