/* sla_clock: loading, saving and scheduling a ticket's SLA clocks, and the
 * delayed checks that record warnings and breaches (sla_int.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "route/sla_int.h"
#include "at_log.h"
#include "domain.pb-c.h"

#define S_COMP "route"

/* As wrk_route_bad / wrk_route_store_rc, kept here: reply.c calls the SLA
 * hooks, so the SLA files do not call back into it (tests/check_circles.sh). */
static int
s_bad (wrk_msg_t *m, const char *what, int64_t ticket_id)
{
  snprintf (m->reason, sizeof m->reason, "%s %" PRId64, what, ticket_id);
  return AT_INVALID;
}

static int
s_store_rc (wrk_msg_t *m, int rc, const char *what, int64_t ticket_id)
{
  if (rc == AT_INVALID)
    return s_bad (m, what, ticket_id);
  return rc == AT_CONFLICT || rc == AT_NOTFOUND ? AT_AGAIN : rc;
}

int
wrk_route_sla_load (s_sla_t *s, wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t)
{
  memset (s, 0, sizeof *s);
  s->ctx = ctx;
  s->m = m;
  s->t = t;
  s->now = at_now_us () / 1000000;
  s->warn_pct = (int) wrk_ctx_config (ctx)->sla_warn_pct;
  return at_store_sla_clocks_lock (wrk_ctx_store (ctx), t->id, s->rows, s->present);
}

void
wrk_route_sla_done (s_sla_t *s)
{
  at_calendar_destroy (&s->cal);
}

int
wrk_route_sla_calendar (s_sla_t *s, int64_t id, const at_calendar_t **out)
{
  *out = NULL;
  if (id == 0)
    return AT_OK;
  if (s->cal && s->cal_id == id) {
    *out = s->cal;
    return AT_OK;
  }
  at_calendar_destroy (&s->cal);
  int rc = at_store_sla_calendar_load (wrk_ctx_store (s->ctx), id, &s->cal);
  if (rc != AT_OK)
    return rc == AT_NOTFOUND ? AT_ERROR : rc;
  s->cal_id = id;
  *out = s->cal;
  return AT_OK;
}

/* One sla.check at instant `at` (unix seconds). */
static int
s_schedule (s_sla_t *s, const at_sla_clock_row_t *r, const char *kind, int64_t at)
{
  Atende__SlaCheck c = ATENDE__SLA_CHECK__INIT;
  c.ticket_id = r->ticket_id;
  c.metric = (char *) at_sla_metric_name (r->metric);
  c.version = r->version;
  c.kind = (char *) kind;
  uint8_t payload[128];
  size_t len = atende__sla_check__get_packed_size (&c);
  if (len > sizeof payload)
    return AT_ERROR;
  atende__sla_check__pack (&c, payload);
  char key[AT_KEY_LEN];
  snprintf (key, sizeof key, "ticket:%" PRId64, r->ticket_id);
  at_msg_t *out = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_SLA_CHECK, key, s->m->msg->trace_id,
                              payload, len);
  if (!out)
    return AT_ERROR;
  out->not_before_us = at * 1000000;
  return wrk_ctx_produce (s->ctx, &out);
}

int
wrk_route_sla_save (s_sla_t *s, at_sla_metric_t metric, const char *kind, const char *detail)
{
  at_sla_clock_row_t *r = &s->rows[metric];
  at_store_t *store = wrk_ctx_store (s->ctx);
  r->version++;
  int rc = at_store_sla_clock_save (store, r);
  if (rc == AT_OK && kind) {
    rc = at_store_sla_event (store, r->ticket_id, metric, r->cycle, kind, detail);
    rc = rc == AT_CONFLICT ? AT_OK : rc;
  }
  const at_clock_t *c = &r->clock;
  if (rc == AT_OK && c->state == AT_CLOCK_RUNNING && c->warn_at > 0 && !c->warned
      && c->warn_at != AT_CAL_NEVER)
    rc = s_schedule (s, r, "warning", c->warn_at);
  if (rc == AT_OK && c->state == AT_CLOCK_RUNNING && c->due > 0 && c->due != AT_CAL_NEVER)
    rc = s_schedule (s, r, "breach", c->due);
  if (rc == AT_OK && kind)
    at_info (S_COMP, "msg=\"sla clock %s\" id=%s ticket_id=%" PRId64 " metric=%s state=%s"
             " version=%d cycle=%d target_s=%" PRId64 " consumed_s=%" PRId64 " due=%" PRId64
             " detail=%s", kind, s->m->msg->id, r->ticket_id, at_sla_metric_name (metric),
             at_clock_state_name (c->state), r->version, r->cycle, c->target_s, c->consumed_s,
             c->due, detail ? detail : "");
  return rc;
}

int
wrk_route_sla_pause (s_sla_t *s, at_sla_metric_t metric, const char *reason)
{
  at_sla_clock_row_t *r = &s->rows[metric];
  if (!s->present[metric] || r->clock.state != AT_CLOCK_RUNNING)
    return AT_OK;
  const at_calendar_t *cal = NULL;
  int rc = wrk_route_sla_calendar (s, r->calendar_id, &cal);
  if (rc != AT_OK)
    return rc;
  at_clock_pause (&r->clock, cal, s->now);
  at_strlcpy (r->pause_reason, reason, sizeof r->pause_reason);
  return wrk_route_sla_save (s, metric, "paused", reason);
}

int
wrk_route_sla_resume (s_sla_t *s, at_sla_metric_t metric)
{
  at_sla_clock_row_t *r = &s->rows[metric];
  if (!s->present[metric] || r->clock.state != AT_CLOCK_PAUSED)
    return AT_OK;
  const at_calendar_t *cal = NULL;
  int rc = wrk_route_sla_calendar (s, r->calendar_id, &cal);
  if (rc != AT_OK)
    return rc;
  char detail[40];
  at_strlcpy (detail, r->pause_reason, sizeof detail);
  at_clock_resume (&r->clock, cal, s->now, s->warn_pct);
  r->pause_reason[0] = '\0';
  return wrk_route_sla_save (s, metric, "resumed", detail);
}

int
wrk_route_sla_stop (s_sla_t *s, at_sla_metric_t metric, const char *why)
{
  at_sla_clock_row_t *r = &s->rows[metric];
  if (!s->present[metric] || r->met_at != 0
      || (r->clock.state != AT_CLOCK_RUNNING && r->clock.state != AT_CLOCK_PAUSED
          && r->clock.state != AT_CLOCK_BREACHED))
    return AT_OK;
  const at_calendar_t *cal = NULL;
  int rc = wrk_route_sla_calendar (s, r->calendar_id, &cal);
  if (rc != AT_OK)
    return rc;
  at_clock_stop (&r->clock, cal, s->now);
  r->pause_reason[0] = '\0';
  r->met_at = s->now;
  return wrk_route_sla_save (s, metric, "met", r->clock.state == AT_CLOCK_BREACHED
                                                   ? "late" : why);
}

/* The check's clock, when it still runs at that version (else *live false). */
static int
s_check_clock (s_sla_t *s, const char *metric, int version, at_sla_metric_t *which, bool *live)
{
  *live = false;
  for (int k = 0; k < AT_SLA_METRICS; k++)
    if (strcmp (metric, at_sla_metric_name ((at_sla_metric_t) k)) == 0) {
      *which = (at_sla_metric_t) k;
      *live = s->present[k] && s->rows[k].version == version
              && s->rows[k].clock.state == AT_CLOCK_RUNNING;
      return AT_OK;
    }
  return AT_INVALID;
}

int
wrk_route_sla_check (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id, const char *metric,
                     int version, const char *kind, bool *fired)
{
  at_ticket_t t = {.id = ticket_id};
  *fired = false;
  s_sla_t s;
  bool breach = strcmp (kind, "breach") == 0, live = false;
  if (!breach && strcmp (kind, "warning") != 0)
    return s_bad (m, "sla.check of unknown kind for ticket", ticket_id);
  int rc = wrk_route_sla_load (&s, ctx, m, &t);
  at_sla_metric_t which = AT_SLA_FIRST_RESPONSE;
  if (rc == AT_OK && s_check_clock (&s, metric, version, &which, &live) != AT_OK)
    rc = s_bad (m, "sla.check of unknown metric for ticket", ticket_id);
  at_sla_clock_row_t *r = &s.rows[which];
  if (rc != AT_OK || !live || (!breach && r->clock.warned)) {
    if (rc == AT_OK)
      at_debug (S_COMP, "msg=\"sla check outdated\" id=%s ticket_id=%" PRId64 " metric=%s"
                " version=%d kind=%s", m->msg->id, ticket_id, metric, version, kind);
    wrk_route_sla_done (&s);
    return rc;
  }
  at_store_t *store = wrk_ctx_store (ctx);
  if (breach) {
    r->clock.state = AT_CLOCK_BREACHED;
    r->clock.due = r->clock.warn_at = 0;
    r->breaches++;
    r->breached_at = s.now;
  }
  else {
    r->clock.warned = true;
    r->clock.warn_at = 0;
  }
  rc = at_store_sla_clock_save (store, r);     /* same version: the other check stays valid */
  if (rc == AT_OK)
    rc = at_store_sla_event (store, ticket_id, which, r->cycle, kind, "");
  *fired = rc == AT_OK;
  if (rc == AT_OK)
    at_info (S_COMP, "msg=\"sla %s\" id=%s ticket_id=%" PRId64 " metric=%s cycle=%d"
             " target_s=%" PRId64, kind, m->msg->id, ticket_id, metric, r->cycle,
             r->clock.target_s);
  else if (rc == AT_CONFLICT)
    rc = AT_OK;                                /* recorded already: once is enough */
  wrk_route_sla_done (&s);
  return rc == AT_OK ? AT_OK : s_store_rc (m, rc, "sla check refused for ticket", ticket_id);
}
