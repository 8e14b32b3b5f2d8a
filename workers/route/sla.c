/* sla: clocks, due times, warnings and breaches (see sla.h).
 *
 * A ticket's clocks start when it is first classified, at its created_at:
 * first response and resolution (next response starts each time the
 * customer writes after a person answered). Every change of plan (start,
 * pause, resume, re-target) bumps the clock's version and schedules two
 * delayed sla.check messages naming it, at warn_at and at due_at; a check
 * whose version is no longer the clock's, or that finds the clock not
 * running, does nothing. All of it in the worker's transaction, the clock
 * rows locked, so a breach is recorded once whatever is redelivered.
 *
 * What pauses what:
 *   - the ticket waits on the customer (answered -> pending): resolution
 *     pauses (reason waiting_customer) and resumes when the customer writes;
 *     first response never pauses for that;
 *   - an automatic answer is not a person's first response (the design's
 *     contract: a ticket handed over still owes one), so it meets nothing;
 *     it pauses first and next response (reason auto_answered) while the
 *     customer has an answer, and they run again when the customer writes;
 *   - a person's answer meets first and next response;
 *   - resolving meets resolution and closes response clocks still open.
 * A priority change re-targets running and paused clocks to the new
 * policy, keeping the time used. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "route/sla.h"
#include "route/sla_int.h"
#include "at_log.h"
#include "domain.pb-c.h"

#define S_COMP "route"

/* The policy of the ticket's priority and channel, or the default one of
 * the settings (first response only, wall time), as before calendars. */
static int
s_policy (s_sla_t *s, const char *priority)
{
  const at_config_t *cfg = wrk_ctx_config (s->ctx);
  int rc = at_store_sla_policy_find (wrk_ctx_store (s->ctx), priority, s->t->channel,
                                     &s->policy_id, &s->policy_calendar, s->targets);
  if (rc != AT_NOTFOUND)
    return rc;
  s->policy_id = s->policy_calendar = 0;
  memset (s->targets, 0, sizeof s->targets);
  bool high = strcmp (priority, "high") == 0;
  s->targets[AT_SLA_FIRST_RESPONSE].target_s =
      (high ? cfg->sla_urgent_first_response_min : cfg->sla_first_response_min) * 60;
  return AT_OK;
}

/* Starts metric's clock at since on the policy loaded (cycle given). */
static int
s_start (s_sla_t *s, at_sla_metric_t metric, int64_t since, int cycle, const char *priority)
{
  const at_sla_target_t *tg = &s->targets[metric];
  if (tg->target_s <= 0)
    return AT_OK;
  at_sla_clock_row_t *r = &s->rows[metric];
  int version = s->present[metric] ? r->version : 0;
  int breaches = s->present[metric] ? r->breaches : 0;
  memset (r, 0, sizeof *r);
  r->ticket_id = s->t->id;
  r->metric = metric;
  r->policy_id = s->policy_id;
  r->calendar_id = tg->business ? s->policy_calendar : 0;
  at_strlcpy (r->priority, priority, sizeof r->priority);
  r->version = version;
  r->breaches = breaches;
  r->cycle = cycle;
  const at_calendar_t *cal = NULL;
  int rc = wrk_route_sla_calendar (s, r->calendar_id, &cal);
  if (rc != AT_OK)
    return rc;
  at_clock_start (&r->clock, cal, tg->target_s, since, s->warn_pct);
  s->present[metric] = true;
  return wrk_route_sla_save (s, metric, "started", priority);
}

/* A priority change: each clock not finished gets the new policy's
 * target for its metric, the time used kept. */
static int
s_retarget (s_sla_t *s, const char *priority)
{
  char detail[48];
  for (int m = 0; m < AT_SLA_METRICS; m++) {
    at_sla_clock_row_t *r = &s->rows[m];
    if (!s->present[m] || strcmp (r->priority, priority) == 0)
      continue;
    snprintf (detail, sizeof detail, "%s->%s", r->priority, priority);
    at_strlcpy (r->priority, priority, sizeof r->priority);
    const at_sla_target_t *tg = &s->targets[m];
    if (tg->target_s <= 0 || (r->clock.state != AT_CLOCK_RUNNING
                              && r->clock.state != AT_CLOCK_PAUSED)) {
      int rc = wrk_route_sla_save (s, (at_sla_metric_t) m, NULL, NULL);
      if (rc != AT_OK)
        return rc;
      continue;
    }
    const at_calendar_t *old_cal = NULL, *cal = NULL;
    int64_t new_cal = tg->business ? s->policy_calendar : 0;
    int rc = wrk_route_sla_calendar (s, r->calendar_id, &old_cal);
    if (rc == AT_OK)
      rc = wrk_route_sla_calendar (s, new_cal, &cal);
    if (rc != AT_OK)
      return rc;
    if (r->clock.state == AT_CLOCK_RUNNING) {           /* used so far, on the old plan */
      at_clock_pause (&r->clock, old_cal, s->now);
      r->clock.state = AT_CLOCK_RUNNING;
      r->clock.running_since = s->now;
    }
    r->policy_id = s->policy_id;
    r->calendar_id = new_cal;
    at_clock_retarget (&r->clock, cal, s->now, tg->target_s, s->warn_pct);
    rc = wrk_route_sla_save (s, (at_sla_metric_t) m, "retargeted", detail);
    if (rc != AT_OK)
      return rc;
  }
  return AT_OK;
}

int
wrk_route_sla_on_classified (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t)
{
  if (t->priority[0] == '\0')
    return AT_OK;
  s_sla_t s;
  int rc = wrk_route_sla_load (&s, ctx, m, t);
  if (rc == AT_OK)
    rc = s_policy (&s, t->priority);
  if (rc == AT_OK && !s.present[AT_SLA_FIRST_RESPONSE] && !s.present[AT_SLA_RESOLUTION]) {
    int64_t created = 0, handoff = 0;
    rc = at_store_sla_ticket_times (wrk_ctx_store (ctx), t->id, &created, &handoff);
    if (rc == AT_OK)
      rc = s_start (&s, AT_SLA_FIRST_RESPONSE, created, 1, t->priority);
    if (rc == AT_OK)
      rc = s_start (&s, AT_SLA_RESOLUTION, created, 1, t->priority);
  }
  else if (rc == AT_OK)
    rc = s_retarget (&s, t->priority);
  if (rc == AT_OK && s.present[AT_SLA_FIRST_RESPONSE]
      && s.rows[AT_SLA_FIRST_RESPONSE].clock.state == AT_CLOCK_RUNNING)
    rc = at_store_sla_first_response_due (wrk_ctx_store (ctx), t->id,
                                          s.rows[AT_SLA_FIRST_RESPONSE].clock.due);
  wrk_route_sla_done (&s);
  return rc;
}

/* Whether a new next-response round starts: a person answered already
 * and no round is waiting for an answer. */
static bool
s_next_round (const s_sla_t *s)
{
  const at_sla_clock_row_t *fr = &s->rows[AT_SLA_FIRST_RESPONSE];
  const at_sla_clock_row_t *nr = &s->rows[AT_SLA_NEXT_RESPONSE];
  if (!s->present[AT_SLA_FIRST_RESPONSE] || fr->met_at == 0)
    return false;
  return !s->present[AT_SLA_NEXT_RESPONSE] || nr->clock.state == AT_CLOCK_MET
         || (nr->clock.state == AT_CLOCK_BREACHED && nr->met_at != 0);
}

int
wrk_route_sla_on_customer_message (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t)
{
  s_sla_t s;
  int rc = wrk_route_sla_load (&s, ctx, m, t);
  for (int k = 0; rc == AT_OK && k < AT_SLA_METRICS; k++)
    rc = wrk_route_sla_resume (&s, (at_sla_metric_t) k);   /* anything paused runs again */
  if (rc == AT_OK && s_next_round (&s)) {
    const at_sla_clock_row_t *nr = &s.rows[AT_SLA_NEXT_RESPONSE];
    int cycle = s.present[AT_SLA_NEXT_RESPONSE] ? nr->cycle + 1 : 1;
    const char *priority = s.rows[AT_SLA_FIRST_RESPONSE].priority;
    rc = s_policy (&s, priority);
    if (rc == AT_OK)
      rc = s_start (&s, AT_SLA_NEXT_RESPONSE, s.now, cycle, priority);
  }
  wrk_route_sla_done (&s);
  return rc;
}

int
wrk_route_sla_on_answer (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, bool agent)
{
  s_sla_t s;
  int rc = wrk_route_sla_load (&s, ctx, m, t);
  const char *by = agent ? "agent" : "automatic";
  if (rc == AT_OK && agent) {
    rc = wrk_route_sla_stop (&s, AT_SLA_FIRST_RESPONSE, by);
    if (rc == AT_OK)
      rc = wrk_route_sla_stop (&s, AT_SLA_NEXT_RESPONSE, by);
  }
  else if (rc == AT_OK) {
    rc = wrk_route_sla_pause (&s, AT_SLA_FIRST_RESPONSE, "auto_answered");
    if (rc == AT_OK)
      rc = wrk_route_sla_pause (&s, AT_SLA_NEXT_RESPONSE, "auto_answered");
  }
  if (rc == AT_OK)                              /* the ticket now waits on the customer */
    rc = wrk_route_sla_pause (&s, AT_SLA_RESOLUTION, "waiting_customer");
  wrk_route_sla_done (&s);
  return rc;
}

int
wrk_route_sla_on_handoff (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t)
{
  s_sla_t s;
  int rc = wrk_route_sla_load (&s, ctx, m, t);
  for (int k = 0; rc == AT_OK && k < AT_SLA_METRICS; k++)
    rc = wrk_route_sla_resume (&s, (at_sla_metric_t) k);
  wrk_route_sla_done (&s);
  return rc;
}

int
wrk_route_sla_on_resolve (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t)
{
  s_sla_t s;
  int rc = wrk_route_sla_load (&s, ctx, m, t);
  for (int k = 0; rc == AT_OK && k < AT_SLA_METRICS; k++)
    rc = wrk_route_sla_stop (&s, (at_sla_metric_t) k, "resolved");
  wrk_route_sla_done (&s);
  return rc;
}

int
wrk_route_sla_handle (wrk_ctx_t *ctx, wrk_msg_t *m, const char *type, const uint8_t *data,
                      size_t len, wrk_sla_fired_t *fired_out)
{
  memset (fired_out, 0, sizeof *fired_out);
  if (strcmp (type, AT_TYPE_SLA_CHECK) != 0)
    return AT_NOTFOUND;
  Atende__SlaCheck *pb = atende__sla_check__unpack (NULL, len, data);
  if (!pb)
    return AT_INVALID;
  bool fired = false;
  int rc = wrk_route_sla_check (ctx, m, pb->ticket_id, pb->metric, pb->version, pb->kind,
                                &fired);
  if (rc == AT_OK && fired) {                  /* for the rules: sla_warning, sla_breach */
    fired_out->ticket_id = pb->ticket_id;
    fired_out->event = strcmp (pb->kind, "breach") == 0 ? "sla_breach" : "sla_warning";
  }
  atende__sla_check__free_unpacked (pb, NULL);
  return rc;
}
