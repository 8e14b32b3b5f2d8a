/* sla_int: what route's SLA files share (sla.c: the hooks; sla_clock.c:
 * loading, saving and scheduling clocks, the delayed checks). One s_sla_t
 * per hook call, inside the worker's transaction. */
#ifndef WRK_ROUTE_SLA_INT_H
#define WRK_ROUTE_SLA_INT_H

#include "route/route_int.h"
#include "at_store_sla.h"

typedef struct {
  wrk_ctx_t *ctx;
  wrk_msg_t *m;
  const at_ticket_t *t;
  int64_t now;                                  /* unix seconds */
  int warn_pct;
  at_sla_clock_row_t rows[AT_SLA_METRICS];      /* the ticket's clocks, locked */
  bool present[AT_SLA_METRICS];
  int64_t policy_id, policy_calendar;           /* the policy looked up (s_policy) */
  at_sla_target_t targets[AT_SLA_METRICS];
  int64_t cal_id;                               /* one calendar loaded, kept for the call */
  at_calendar_t *cal;
} s_sla_t;

/* Fills *s and locks the ticket's clocks. */
int wrk_route_sla_load (s_sla_t *s, wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t);
void wrk_route_sla_done (s_sla_t *s);
/* The calendar id (0: wall time, *out NULL), loaded once per call. */
int wrk_route_sla_calendar (s_sla_t *s, int64_t id, const at_calendar_t **out);
/* Saves the clock of metric with its version bumped, records the event
 * kind (NULL: none) and schedules its checks when it runs. */
int wrk_route_sla_save (s_sla_t *s, at_sla_metric_t metric, const char *kind,
                        const char *detail);
/* A running clock pauses for reason; a paused one resumes; a running or
 * paused one stops (met, or stays breached). Absent clocks: nothing. */
int wrk_route_sla_pause (s_sla_t *s, at_sla_metric_t metric, const char *reason);
int wrk_route_sla_resume (s_sla_t *s, at_sla_metric_t metric);
int wrk_route_sla_stop (s_sla_t *s, at_sla_metric_t metric, const char *why);
/* A delayed sla.check: records the warning or the breach once when the
 * clock still runs at that version (*fired true); else nothing. */
int wrk_route_sla_check (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id, const char *metric,
                         int version, const char *kind, bool *fired);

#endif
