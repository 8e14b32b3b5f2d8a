/* route, escalate (escalate.h): what a lead reads when a rule escalates a
 * ticket, one lead.notify per lead of the ticket's team. The mail is staff
 * to staff: the ticket's number, channel, priority and team, the rule and
 * the event it heard, and where to open the ticket; nothing the customer
 * wrote. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "route/escalate.h"
#include "at_store_escalation.h"
#include "at_log.h"
#include "domain.pb-c.h"

#define S_COMP "rules"

typedef struct {
  const char *locale, *subject, *body, *open;
} s_words_t;

/* Formats of the same arguments in each language: subject (ticket, rule),
 * body (ticket, channel, priority, team, rule, event), open (base, ticket). */
static const s_words_t S_WORDS[] = {
  [AT_LANG_PT] = {"pt-BR", "[atende] Ticket #%" PRId64 " escalado: %s",
                  "O ticket #%" PRId64 " (canal %s, prioridade %s, equipe %s) foi escalado"
                  " pela regra \"%s\" no evento %s.", " Abrir: %s/v1/tickets/%" PRId64},
  [AT_LANG_EN] = {"en", "[atende] Ticket #%" PRId64 " escalated: %s",
                  "Ticket #%" PRId64 " (channel %s, priority %s, team %s) was escalated by"
                  " the rule \"%s\" on the event %s.", " Open: %s/v1/tickets/%" PRId64},
  [AT_LANG_ES] = {"es", "[atende] Ticket #%" PRId64 " escalado: %s",
                  "El ticket #%" PRId64 " (canal %s, prioridad %s, equipo %s) fue escalado"
                  " por la regla \"%s\" en el evento %s.", " Abrir: %s/v1/tickets/%" PRId64},
};

/* The lead's language, else the store's default locale, else pt-BR. */
static const s_words_t *
s_words (const char *lead_language, const char *default_locale)
{
  at_lang_t lang = at_lang_parse (lead_language);
  if (lang == AT_LANG_OTHER)
    lang = at_lang_parse (default_locale ? default_locale : "");
  return &S_WORDS[lang == AT_LANG_OTHER ? AT_LANG_PT : lang];
}

static int
s_notify (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id, const at_escalation_t *e,
          const at_escalation_lead_t *lead, const char *rule_name, const char *event)
{
  const at_config_t *cfg = wrk_ctx_config (ctx);
  const s_words_t *w = s_words (lead->language, cfg->default_locale);
  char subject[160], text[640], key[AT_KEY_LEN];
  snprintf (subject, sizeof subject, w->subject, ticket_id, rule_name);
  int n = snprintf (text, sizeof text, w->body, ticket_id, e->channel,
                    e->priority[0] ? e->priority : "-", e->team[0] ? e->team : "-", rule_name,
                    event);
  if (n > 0 && (size_t) n < sizeof text && cfg->public_url_base && *cfg->public_url_base)
    snprintf (text + n, sizeof text - (size_t) n, w->open, cfg->public_url_base, ticket_id);
  Atende__LeadNotify ln = ATENDE__LEAD_NOTIFY__INIT;
  ln.escalation_id = e->id;
  ln.lead_id = lead->lead_id;
  ln.ticket_id = ticket_id;
  ln.email = (char *) lead->email;
  ln.subject = subject;
  ln.text = text;
  ln.locale = (char *) w->locale;
  snprintf (key, sizeof key, "lead:%" PRId64, lead->lead_id);
  wrk_route_out_t o = {AT_STAGE_NOTIFY, AT_TYPE_LEAD_NOTIFY, key, 0};
  return wrk_route_produce (ctx, m, &o, &ln.base);
}

int
wrk_route_escalate (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id, const at_rule_run_t *run,
                    const char *rule_name)
{
  at_escalation_in_t in = {.ticket_id = ticket_id, .rule_id = run->rule_id,
                           .rule_name = rule_name ? rule_name : "", .event = run->event,
                           .msg_id = m->msg->id};
  at_escalation_t e;
  int rc = at_store_escalation_record (wrk_ctx_store (ctx), &in, &e);
  if (rc != AT_OK)
    return wrk_route_store_rc (m, rc, "escalation not recorded for ticket", ticket_id);
  if (e.id == 0)
    return AT_OK;
  for (size_t i = 0; i < e.n_leads && rc == AT_OK; i++)
    rc = s_notify (ctx, m, ticket_id, &e, &e.leads[i], in.rule_name, run->event);
  if (rc != AT_OK)
    return rc;
  if (e.n_leads == 0)
    at_warn (S_COMP, "msg=\"ticket escalated, but its team names no lead to tell\" id=%s"
             " ticket_id=%" PRId64 " escalation_id=%" PRId64 " team=%s", m->msg->id, ticket_id,
             e.id, e.team[0] ? e.team : "-");
  else
    at_warn (S_COMP, "msg=\"ticket escalated, leads told\" id=%s ticket_id=%" PRId64
             " escalation_id=%" PRId64 " team=%s leads=%zu", m->msg->id, ticket_id, e.id,
             e.team[0] ? e.team : "-", e.n_leads);
  return AT_OK;
}
