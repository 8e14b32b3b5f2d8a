/* api: SLA calendars and policies (api_sla.c: create, list, read, holidays;
 * api_sla_edit.c: change and delete; api_sla_parse.c: the bodies checked),
 * the SLA gauges of /metrics. */
#ifndef API_SLA_H
#define API_SLA_H

#include "api_internal.h"
#include "at_store_sla.h"

/* POST /v1/calendars; GET /v1/calendars; GET /v1/calendars/{id} */
void api_sla_calendars_post (api_request_t *req);
void api_sla_calendars_list (api_request_t *req);
void api_sla_calendar_get (api_request_t *req);
/* PUT /v1/calendars/{id} (the body of POST); DELETE /v1/calendars/{id} */
void api_sla_calendar_put (api_request_t *req);
void api_sla_calendar_delete (api_request_t *req);
/* POST /v1/calendars/{id}/holidays/ical (Content-Type: text/calendar) */
void api_sla_holidays_ical_post (api_request_t *req);
/* POST /v1/sla/policies; GET /v1/sla/policies */
void api_sla_policies_post (api_request_t *req);
void api_sla_policies_list (api_request_t *req);
/* GET, PUT (the body of POST), DELETE /v1/sla/policies/{id} */
void api_sla_policy_get (api_request_t *req);
void api_sla_policy_put (api_request_t *req);
void api_sla_policy_delete (api_request_t *req);

/* The share of tickets within each SLA target (by metric, team, channel)
 * into the api's gauges, before /metrics renders them; a store failure
 * leaves the last values. */
void api_sla_metrics_refresh (api_request_t *req);

/* --- shared by the handlers (api_sla.c) */

/* Whether the caller may change calendars and policies: an admin, or a
 * signed-in lead; false with the 403 answered. */
bool api_sla_may_change (api_request_t *req);
/* A change (fn) and its audit row (action, target sla_calendar:<id> or
 * sla_policy:<id>, detail: stolen) in one transaction; fn's code, or the
 * store's. */
typedef int (api_sla_change_fn) (at_store_t *store, void *arg, int64_t *id);
int api_sla_change (api_request_t *req, at_store_t *store, const char *action,
                    api_sla_change_fn *fn, void *arg, int64_t *id, json_t *detail);
/* Answers status with calendar id as GET /v1/calendars/{id} shows it. */
void api_sla_reply_calendar (api_request_t *req, at_store_t *store, int status, int64_t id);

/* --- the bodies checked (api_sla_parse.c, pure) */

#define API_SLA_HOLIDAYS_MAX 1000

/* A calendar's body: {name, timezone, windows, holidays?}. */
typedef struct {
  const char *name, *tz;            /* borrowed from the body */
  char *windows;                    /* the stored windows, JSON text (owned) */
  at_holiday_t *holidays;           /* owned, n_holidays of them */
  size_t n_holidays;
  bool has_holidays;                /* the body has a list (not absent, not null) */
} api_sla_calendar_body_t;

/* AT_OK with *b filled (free with api_sla_calendar_body_clear), or
 * AT_INVALID with the problem naming the field (nothing to free). */
int api_sla_calendar_parse (const json_t *obj, api_sla_calendar_body_t *b, api_problem_t *p);
void api_sla_calendar_body_clear (api_sla_calendar_body_t *b);

/* A policy's body into *pol (strings borrowed from obj): AT_OK, or
 * AT_INVALID with the problem naming the field. */
int api_sla_policy_parse (const json_t *obj, at_sla_policy_t *pol, api_problem_t *p);

#endif
