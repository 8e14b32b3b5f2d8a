/* api_metrics: the api's Prometheus series (api_metrics.c); it calls no
 * other file of the api: the caller names the route. */
#ifndef API_METRICS_H
#define API_METRICS_H

#include <stddef.h>

void api_metrics_init (void);
/* One answered request: route is the route's name ("unmatched" when none). */
void api_metrics_request (const char *route, int status, double seconds);
void api_metrics_publish (double seconds);
/* One request refused at the door (api_auth.c), by reason. */
void api_metrics_auth_refused (const char *reason);
/* One request answered 429 by a rate limit (api_limit.c): key, addr, auth_failures. */
void api_metrics_rate_limited (const char *limit);
/* The SLA gauges (api_sla.c refreshes them before /metrics renders): share
 * of tickets within the target and tickets counted, by metric, team
 * ("" none) and channel; clear drops every series first. */
void api_metrics_sla_clear (void);
void api_metrics_sla_set (const char *metric, const char *team, const char *channel,
                          long long tickets, long long within);
char *api_metrics_render (void);      /* Prometheus text, malloc'd */

#endif
