/* rules: the chains of rules route runs on a ticket (rules.h). The plan is
 * at_rule_plan's, the same the api's dry run answers; this file logs it
 * and applies what fired, reusing the desk for teams and assignment and
 * the SLA clocks for a new priority. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route/rules.h"
#include "route/desk_int.h"
#include "route/sla.h"
#include "route/selfservice.h"
#include "route/escalate.h"
#include "at_store_rule.h"
#include "at_log.h"
#include "domain.pb-c.h"

#define S_COMP "rules"

/* set_team: a transfer to the team (as the api's transfer), unless the
 * ticket is in that team already; a team deleted since the rule was saved
 * is logged and skipped. */
static int
s_set_team (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id, const char *team,
            const char *actor)
{
  at_store_t *store = wrk_ctx_store (ctx);
  int64_t team_id = 0;
  int rc = at_store_desk_team_find (store, team, &team_id);
  if (rc == AT_NOTFOUND) {
    at_warn (S_COMP, "msg=\"rule names a team that does not exist, skipped\" id=%s ticket_id=%"
             PRId64 " team=%s actor=%s", m->msg->id, ticket_id, team, actor);
    return AT_OK;
  }
  at_desk_ticket_t d;
  if (rc == AT_OK)
    rc = at_store_desk_ticket_lock (store, ticket_id, &d);
  if (rc == AT_OK && d.team_id == team_id)
    return AT_OK;
  if (rc != AT_OK && rc != AT_NOTFOUND)
    return rc;
  return wrk_route_desk_manual (ctx, m, ticket_id, "transfer", 0, team_id, actor);
}

/* set_priority: the ticket's priority and its SLA clocks' targets. */
static int
s_set_priority (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id, const char *priority)
{
  bool changed = false;
  int rc = at_store_rule_ticket_priority (wrk_ctx_store (ctx), ticket_id, priority, &changed);
  if (rc != AT_OK || !changed)
    return rc;
  at_ticket_t t;
  rc = at_store_ticket_lock (wrk_ctx_store (ctx), ticket_id, &t);
  return rc == AT_OK ? wrk_route_sla_on_classified (ctx, m, &t) : rc;
}

/* webhook: a rule.webhook for notify, in this transaction (sent once
 * this message commits; its id is the webhook's idempotency key). */
static int
s_webhook (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id, const at_rule_run_t *run,
           const char *rule_name, const char *name)
{
  Atende__RuleWebhook w = ATENDE__RULE_WEBHOOK__INIT;
  w.ticket_id = ticket_id;
  w.rule_id = run->rule_id;
  w.name = (char *) name;
  w.rule = (char *) (rule_name ? rule_name : "");
  w.event = (char *) run->event;
  char key[AT_KEY_LEN];
  snprintf (key, sizeof key, "rulehook:%" PRId64, ticket_id);
  wrk_route_out_t o = {AT_STAGE_NOTIFY, AT_TYPE_RULE_WEBHOOK, key, 0};
  return wrk_route_produce (ctx, m, &o, &w.base);
}

/* close_after_days: a rule.close due days from now, remembering the
 * customer's latest message. */
static int
s_close_later (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id, int64_t rule_id, double days)
{
  Atende__RuleClose c = ATENDE__RULE_CLOSE__INIT;
  c.ticket_id = ticket_id;
  c.rule_id = rule_id;
  int rc = at_store_rule_last_customer_message (wrk_ctx_store (ctx), ticket_id,
                                                &c.after_message_id);
  if (rc != AT_OK)
    return rc;
  char key[AT_KEY_LEN];
  snprintf (key, sizeof key, "ticket:%" PRId64, ticket_id);
  int64_t after_s = (int64_t) (days * 86400.0 + 0.5);
  wrk_route_out_t o = {AT_STAGE_ROUTE, AT_TYPE_RULE_CLOSE, key, after_s < 1 ? 1 : after_s};
  return wrk_route_produce (ctx, m, &o, &c.base);
}

/* A rule.close came due: the ticket is resolved (a ticket.resolve, the
 * path an agent's resolve takes) unless it is already, or the customer
 * wrote after the message the rule saw. */
static int
s_close_due (wrk_ctx_t *ctx, wrk_msg_t *m, const Atende__RuleClose *c)
{
  at_ticket_t t;
  int64_t last = 0;
  int rc = wrk_route_ticket_lock (ctx, m, c->ticket_id, &t);
  if (rc != AT_OK || strcmp (t.status, "resolved") == 0)
    return rc;
  rc = at_store_rule_last_customer_message (wrk_ctx_store (ctx), t.id, &last);
  if (rc != AT_OK)
    return wrk_route_store_rc (m, rc, "rule close lookup failed for ticket", t.id);
  if (last > c->after_message_id) {
    at_info (S_COMP, "msg=\"the customer answered, not closed\" id=%s ticket_id=%" PRId64
             " rule_id=%" PRId64, m->msg->id, t.id, c->rule_id);
    return AT_OK;
  }
  char agent[40], key[AT_KEY_LEN];
  snprintf (agent, sizeof agent, "rule:%" PRId64, c->rule_id);
  Atende__TicketResolve r = ATENDE__TICKET_RESOLVE__INIT;
  r.ticket_id = t.id;
  r.agent = agent;
  snprintf (key, sizeof key, "ticket:%" PRId64, t.id);
  at_info (S_COMP, "msg=\"no answer from the customer, ticket closed by a rule\" id=%s"
           " ticket_id=%" PRId64 " rule_id=%" PRId64, m->msg->id, t.id, c->rule_id);
  wrk_route_out_t o = {AT_STAGE_ROUTE, AT_TYPE_TICKET_RESOLVE, key, 0};
  return wrk_route_produce (ctx, m, &o, &r.base);
}

/* auto_reply: a rule.reply for route, said once this message commits (its
 * own bus id keys the outgoing message). */
static int
s_reply_later (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id, int64_t rule_id,
               const char *template)
{
  Atende__RuleReply r = ATENDE__RULE_REPLY__INIT;
  r.ticket_id = ticket_id;
  r.rule_id = rule_id;
  r.template_ = (char *) template;
  char key[AT_KEY_LEN];
  snprintf (key, sizeof key, "ticket:%" PRId64, ticket_id);
  wrk_route_out_t o = {AT_STAGE_ROUTE, AT_TYPE_RULE_REPLY, key, 0};
  return wrk_route_produce (ctx, m, &o, &r.base);
}

/* A rule.reply: the template in the ticket's language (else the default
 * locale), with the customer's latest order, said by the bot. A template
 * deleted since, or a customer with no handle on the channel: logged. */
static int
s_reply_now (wrk_ctx_t *ctx, wrk_msg_t *m, const Atende__RuleReply *r)
{
  at_ticket_t t;
  at_ticket_order_t order;
  int rc = wrk_route_ticket_lock (ctx, m, r->ticket_id, &t);
  if (rc != AT_OK || strcmp (t.status, "resolved") == 0)
    return rc;
  rc = at_store_ticket_latest_order (wrk_ctx_store (ctx), t.customer_id, &order);
  if (rc != AT_OK && rc != AT_NOTFOUND)
    return wrk_route_store_rc (m, rc, "order lookup failed for ticket", t.id);
  at_lang_t lang = wrk_route_lang (wrk_ctx_config (ctx), &t);
  wrk_selfservice_vars_t v = {.order_id = rc == AT_OK ? order.id : NULL};
  char body[WRK_ROUTE_SAY_MAX];
  rc = wrk_route_selfservice_text (wrk_ctx_store (ctx), wrk_ctx_config (ctx), r->template_, lang,
                                   &v, body, sizeof body);
  if (rc == AT_OK)
    rc = wrk_route_say (ctx, m, &t, "bot", "auto_reply", body, at_lang_name (lang), NULL);
  if (rc == AT_NOTFOUND || rc == AT_INVALID) {
    at_warn (S_COMP, "msg=\"rule reply not said: no template, too long, or no handle on the"
             " channel\" id=%s ticket_id=%" PRId64 " rule_id=%" PRId64 " template=%s",
             m->msg->id, t.id, r->rule_id, r->template_);
    return AT_OK;
  }
  if (rc == AT_OK)
    at_info (S_COMP, "msg=\"rule reply said\" id=%s ticket_id=%" PRId64 " rule_id=%" PRId64
             " template=%s", m->msg->id, t.id, r->rule_id, r->template_);
  return rc == AT_OK ? AT_OK : wrk_route_store_rc (m, rc, "rule reply refused for ticket", t.id);
}

/* The name of rule id among rules (NULL: none). */
static const char *
s_rule_name (const json_t *rules, int64_t id)
{
  const json_t *r;
  size_t i;
  json_array_foreach (rules, i, r)
    if (json_integer_value (json_object_get (r, "id")) == id)
      return json_string_value (json_object_get (r, "name"));
  return NULL;
}

static int
s_action (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id, const json_t *a,
          const at_rule_run_t *run, const char *rule_name, const char *actor)
{
  at_store_t *store = wrk_ctx_store (ctx);
  const char *type = json_string_value (json_object_get (a, "type"));
  if (strcmp (type, "webhook") == 0)
    return s_webhook (ctx, m, ticket_id, run, rule_name,
                      json_string_value (json_object_get (a, "name")));
  if (strcmp (type, "auto_reply") == 0)
    return s_reply_later (ctx, m, ticket_id, run->rule_id,
                          json_string_value (json_object_get (a, "template")));
  if (strcmp (type, "close_after_days") == 0)
    return s_close_later (ctx, m, ticket_id, run->rule_id,
                          json_number_value (json_object_get (a, "days")));
  if (strcmp (type, "set_team") == 0)
    return s_set_team (ctx, m, ticket_id, json_string_value (json_object_get (a, "team")), actor);
  if (strcmp (type, "set_priority") == 0)
    return s_set_priority (ctx, m, ticket_id,
                           json_string_value (json_object_get (a, "priority")));
  if (strcmp (type, "add_tag") == 0)
    return at_store_rule_ticket_tag (store, ticket_id,
                                     json_string_value (json_object_get (a, "tag")));
  if (strcmp (type, "assign") == 0)
    return wrk_route_desk_manual (ctx, m, ticket_id, "assign",
                                  (int64_t) json_integer_value (json_object_get (a, "agent_id")),
                                  0, actor);
  if (strcmp (type, "escalate") == 0)
    return wrk_route_escalate (ctx, m, ticket_id, run, rule_name);
  return AT_OK;                     /* at_rule_check let nothing else in */
}

/* Logs each run of the plan and applies what fired. A first row logged
 * already means this message ran its chain before: nothing is applied. */
static int
s_apply (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id, const char *chain,
         const json_t *rules, const at_rule_run_t *runs, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    at_rule_log_t l = {.ticket_id = ticket_id, .msg_id = m->msg->id, .chain = chain,
                       .run = &runs[i]};
    int rc = at_store_rule_log (wrk_ctx_store (ctx), &l);
    if (rc == AT_CONFLICT) {
      at_info (S_COMP, "msg=\"rules ran for this message already, nothing applied again\""
               " id=%s ticket_id=%" PRId64 " chain=%s", m->msg->id, ticket_id, chain);
      return AT_OK;
    }
    if (rc != AT_OK)
      return rc;
    if (runs[i].rule_id == 0)
      at_warn (S_COMP, "msg=\"rule chain stopped\" id=%s ticket_id=%" PRId64 " chain=%s"
               " why=\"%s\"", m->msg->id, ticket_id, chain, runs[i].why);
    if (!runs[i].fired)
      continue;
    char actor[40];
    snprintf (actor, sizeof actor, "rule:%" PRId64, runs[i].rule_id);
    const json_t *a;
    size_t k;
    json_array_foreach (runs[i].actions, k, a) {
      rc = s_action (ctx, m, ticket_id, a, &runs[i], s_rule_name (rules, runs[i].rule_id),
                     actor);
      if (rc != AT_OK)
        return rc;
    }
    at_info (S_COMP, "msg=\"rule fired\" id=%s ticket_id=%" PRId64 " rule_id=%" PRId64
             " event=%s depth=%d chain=%s", m->msg->id, ticket_id, runs[i].rule_id,
             runs[i].event, runs[i].depth, chain);
  }
  return AT_OK;
}

static int
s_chain (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id, const json_t *rules,
         const char *event, at_rule_facts_t *facts, at_rule_run_t *runs)
{
  size_t n = 0;
  int rc = at_store_rule_facts (wrk_ctx_store (ctx), ticket_id, at_now_us (), facts);
  if (rc == AT_NOTFOUND)
    return wrk_route_bad (m, "rules on an unknown ticket", ticket_id);
  if (rc == AT_OK && at_rule_plan (rules, event, facts, runs, AT_RULE_RUNS_MAX, &n) != AT_OK) {
    at_error (S_COMP, "msg=\"rule chain too long, nothing applied\" id=%s ticket_id=%" PRId64
              " event=%s", m->msg->id, ticket_id, event);
    return AT_OK;
  }
  return rc == AT_OK ? s_apply (ctx, m, ticket_id, event, rules, runs, n) : rc;
}

/* Whether any rule listens to one of the events. */
static bool
s_listened (const json_t *rules, const char *const *events, size_t n_events)
{
  const json_t *r;
  size_t i;
  json_array_foreach (rules, i, r)
    for (size_t e = 0; e < n_events; e++)
      if (strcmp (json_string_value (json_object_get (r, "event")), events[e]) == 0)
        return true;
  return false;
}

/* A message was written on the ticket: for each enabled idle rule a
 * rule.idle, due its after_s later, naming the ticket's latest message. */
static int
s_idle_later (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id, const json_t *rules)
{
  int64_t last = -1;
  const json_t *r;
  size_t i;
  json_array_foreach (rules, i, r) {
    if (strcmp (json_string_value (json_object_get (r, "event")), "idle") != 0)
      continue;
    int rc = last < 0 ? at_store_rule_last_message (wrk_ctx_store (ctx), ticket_id, &last)
                      : AT_OK;
    if (rc != AT_OK)
      return rc;
    Atende__RuleIdle idle = ATENDE__RULE_IDLE__INIT;
    idle.ticket_id = ticket_id;
    idle.rule_id = json_integer_value (json_object_get (r, "id"));
    idle.after_message_id = last;
    char key[AT_KEY_LEN];
    snprintf (key, sizeof key, "ticket:%" PRId64, ticket_id);
    wrk_route_out_t o = {AT_STAGE_ROUTE, AT_TYPE_RULE_IDLE, key,
                         (int64_t) json_integer_value (json_object_get (r, "after_s"))};
    rc = wrk_route_produce (ctx, m, &o, &idle.base);
    if (rc != AT_OK)
      return rc;
  }
  return AT_OK;
}

/* The chain of each event (a rules array given), facts and runs allocated
 * here. */
static int
s_chains (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id, const json_t *rules,
          const char *const *events, size_t n_events)
{
  at_rule_facts_t *facts = malloc (sizeof *facts);
  at_rule_run_t *runs = calloc (AT_RULE_RUNS_MAX, sizeof *runs);
  int rc = facts && runs ? AT_OK : AT_ERROR;
  for (size_t e = 0; rc == AT_OK && e < n_events; e++)
    rc = s_chain (ctx, m, ticket_id, rules, events[e], facts, runs);
  free (runs);
  free (facts);
  return rc;
}

int
wrk_route_rules_events (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id,
                        const char *const *events, size_t n_events, bool written)
{
  json_t *rules = NULL;
  int rc = at_store_rule_list (wrk_ctx_store (ctx), true, &rules);
  if (rc == AT_OK && written)
    rc = s_idle_later (ctx, m, ticket_id, rules);
  if (rc == AT_OK && s_listened (rules, events, n_events))
    rc = s_chains (ctx, m, ticket_id, rules, events, n_events);
  json_decref (rules);
  return rc == AT_OK || rc == AT_INVALID ? rc
                                         : wrk_route_store_rc (m, rc, "rules refused ticket",
                                                               ticket_id);
}

/* A rule.idle came due: when nothing was written on the ticket since, its
 * rule (alone among the idle rules; the rest of a chain as usual) hears
 * "idle". */
static int
s_idle_due (wrk_ctx_t *ctx, wrk_msg_t *m, const Atende__RuleIdle *d)
{
  at_ticket_t t;
  int64_t last = 0;
  json_t *rules = NULL, *only = json_array ();
  int rc = wrk_route_ticket_lock (ctx, m, d->ticket_id, &t);
  if (rc == AT_OK && strcmp (t.status, "resolved") != 0)
    rc = at_store_rule_last_message (wrk_ctx_store (ctx), t.id, &last);
  if (rc == AT_OK && strcmp (t.status, "resolved") != 0 && last <= d->after_message_id)
    rc = at_store_rule_list (wrk_ctx_store (ctx), true, &rules);
  const json_t *r;
  size_t i;
  json_array_foreach (rules, i, r)
    if (strcmp (json_string_value (json_object_get (r, "event")), "idle") != 0
        || json_integer_value (json_object_get (r, "id")) == d->rule_id)
      json_array_append (only, (json_t *) r);
  const char *event = "idle";
  if (rc == AT_OK && rules)
    rc = s_chains (ctx, m, t.id, only, &event, 1);
  json_decref (only);
  json_decref (rules);
  return rc == AT_OK || rc == AT_INVALID ? rc
                                         : wrk_route_store_rc (m, rc, "rule idle refused ticket",
                                                               d->ticket_id);
}

int
wrk_route_rules_handle (wrk_ctx_t *ctx, wrk_msg_t *m, const char *type, const uint8_t *data,
                        size_t len)
{
  int rc = AT_INVALID;
  if (strcmp (type, AT_TYPE_RULE_CLOSE) == 0) {
    Atende__RuleClose *c = atende__rule_close__unpack (NULL, len, data);
    if (c && c->ticket_id > 0)
      rc = s_close_due (ctx, m, c);
    atende__rule_close__free_unpacked (c, NULL);
  }
  else if (strcmp (type, AT_TYPE_RULE_EVENT) == 0) {
    Atende__RuleEvent *e = atende__rule_event__unpack (NULL, len, data);
    at_ticket_t t;
    if (e && e->ticket_id > 0 && strcmp (e->event, "order_status_changed") == 0)
      rc = wrk_route_ticket_lock (ctx, m, e->ticket_id, &t);
    if (rc == AT_OK)
      rc = wrk_route_rules_events (ctx, m, t.id, (const char *const *) &e->event, 1, false);
    atende__rule_event__free_unpacked (e, NULL);
  }
  else if (strcmp (type, AT_TYPE_RULE_IDLE) == 0) {
    Atende__RuleIdle *d = atende__rule_idle__unpack (NULL, len, data);
    if (d && d->ticket_id > 0)
      rc = s_idle_due (ctx, m, d);
    atende__rule_idle__free_unpacked (d, NULL);
  }
  else if (strcmp (type, AT_TYPE_RULE_REPLY) == 0) {
    Atende__RuleReply *r = atende__rule_reply__unpack (NULL, len, data);
    if (r && r->ticket_id > 0 && at_rule_template_name_ok (r->template_))
      rc = s_reply_now (ctx, m, r);
    atende__rule_reply__free_unpacked (r, NULL);
  }
  else
    return AT_NOTFOUND;
  return rc;
}
