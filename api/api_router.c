/* api_router: the route table (method, path pattern, handler) and matching.
 * A pattern's "{}" matches one non-empty path segment, copied into
 * req->param. Calls the handlers; nothing below calls it. */
#include <stdio.h>
#include <string.h>
#include "api_router.h"
#include "api_channels.h"
#include "api_dlq.h"
#include "api_templates.h"
#include "api_customers.h"
#include "api_access.h"
#include "api_kb.h"
#include "api_sla.h"
#include "api_desk.h"
#include "api_rules.h"
#include "api_escalation.h"
#include "api_inbox.h"
#include "api_replies.h"

static const api_route_t s_routes[] = {
  /* The need of each route (the scope column) is the whole of who may call it: API_PUBLIC
   * on purpose only (a provider's webhook that checks its own signature, a survey link's
   * token, the probes, signing in); README "Who may call what" is this table in prose. */
  /* method   path                      metrics name                handler                     body                    secret {}  needs */
  { "POST",   "/v1/messages",           "messages",                 api_messages_post,          API_BODY_JSON,          false, AT_SCOPE_MESSAGES_WRITE },
  { "GET",    "/v1/messages/{}",        "message",                  api_messages_get,           API_BODY_NONE,          false, AT_SCOPE_MESSAGES_WRITE },
  { "POST",   "/v1/orders/{}/events",   "order_events",             api_orders_event_post,      API_BODY_JSON,          false, AT_SCOPE_ORDERS_WRITE },
  { "GET",    "/v1/tickets/{}",         "ticket",                   api_tickets_get,            API_BODY_NONE,          false, AT_SCOPE_TICKETS_READ },
  { "POST",   "/v1/tickets/{}/replies", "ticket_replies",           api_tickets_reply_post,     API_BODY_JSON,          false, AT_SCOPE_TICKETS_WRITE },
  { "POST",   "/v1/tickets/{}/resolve", "ticket_resolve",           api_tickets_resolve_post,   API_BODY_JSON_OPTIONAL, false, AT_SCOPE_TICKETS_WRITE },
  { "POST",   "/v1/surveys/{}",         "survey",                   api_surveys_post,           API_BODY_JSON,          true,  API_PUBLIC },
  { "GET",    "/v1/kpis",               "kpis",                     api_kpis_get,               API_BODY_NONE,          false, AT_SCOPE_KPIS_READ },
  { "GET",    "/v1/kpis/facts.csv",     "kpi_facts_csv",            api_kpis_facts_csv_get,     API_BODY_NONE,          false, AT_SCOPE_KPIS_READ },
  { "GET",    "/healthz",               "healthz",                  api_health_get,             API_BODY_NONE,          false, API_PUBLIC },
  { "GET",    "/readyz",                "readyz",                   api_ready_get,              API_BODY_NONE,          false, API_PUBLIC },
  { "GET",    "/metrics",               "metrics",                  api_metrics_get,            API_BODY_NONE,          false, AT_SCOPE_KPIS_READ },
  { "GET",    "/v1/templates",          "templates",                api_templates_list,         API_BODY_NONE,          false, AT_SCOPE_TEMPLATES_WRITE },
  { "GET",    "/v1/templates/{}/{}",    "template",                 api_templates_get,          API_BODY_NONE,          false, AT_SCOPE_TEMPLATES_WRITE },
  { "PUT",    "/v1/templates/{}/{}",    "template_put",             api_templates_put,          API_BODY_JSON,          false, AT_SCOPE_TEMPLATES_WRITE },
  { "DELETE", "/v1/templates/{}/{}",    "template_delete",          api_templates_delete,       API_BODY_NONE,          false, AT_SCOPE_TEMPLATES_WRITE },
  { "POST",   "/v1/webhooks/shopify",   "shopify",                  api_shopify_post,           API_BODY_NONE,          false, API_PUBLIC },
  { "GET",    "/v1/dlq",                "dlq",                      api_dlq_list,               API_BODY_NONE,          false, AT_SCOPE_DLQ_ADMIN },
  { "GET",    "/v1/dlq/{}",             "dlq_entry",                api_dlq_get,                API_BODY_NONE,          false, AT_SCOPE_DLQ_ADMIN },
  { "POST",   "/v1/dlq/{}/replay",      "dlq_replay",               api_dlq_replay,             API_BODY_JSON_OPTIONAL, false, AT_SCOPE_DLQ_ADMIN },
  { "GET",    "/v1/channels/whatsapp",  "channel_whatsapp_verify",  api_channel_meta_verify,    API_BODY_NONE,          false, API_PUBLIC },
  { "POST",   "/v1/channels/whatsapp",  "channel_whatsapp",         api_channel_whatsapp_post,  API_BODY_NONE,          false, API_PUBLIC },
  { "GET",    "/v1/channels/messenger", "channel_messenger_verify", api_channel_meta_verify,    API_BODY_NONE,          false, API_PUBLIC },
  { "POST",   "/v1/channels/messenger", "channel_messenger",        api_channel_messenger_post, API_BODY_NONE,          false, API_PUBLIC },
  { "GET",    "/v1/channels/instagram", "channel_instagram_verify", api_channel_meta_verify,    API_BODY_NONE,          false, API_PUBLIC },
  { "POST",   "/v1/channels/instagram", "channel_instagram",        api_channel_instagram_post, API_BODY_NONE,          false, API_PUBLIC },
  { "POST",   "/v1/channels/twilio",    "channel_twilio",           api_channel_twilio_post,    API_BODY_NONE,          false, API_PUBLIC },
  { "POST",   "/v1/channels/twilio/voice", "channel_twilio_voice",   api_channel_twilio_voice_post, API_BODY_NONE,       false, API_PUBLIC },
  { "POST",   "/v1/channels/phone",     "channel_phone",            api_channel_phone_post,     API_BODY_NONE,          false, API_PUBLIC },
  { "POST",   "/v1/channels/mailgun",   "channel_mailgun",          api_channel_mailgun_post,   API_BODY_NONE,          false, API_PUBLIC },
  { "POST",   "/v1/channels/chat",      "channel_chat",             api_channel_chat_post,      API_BODY_NONE,          false, API_PUBLIC },
  { "POST",   "/v1/channels/form",      "channel_form",             api_channel_form_post,      API_BODY_NONE,          false, API_PUBLIC },
  { "POST",   "/v1/channels/email",     "channel_email",            api_email_post,             API_BODY_NONE,          false, API_PUBLIC },
  { "GET",    "/v1/customers/{}",       "customer",                 api_customers_get,          API_BODY_NONE,          false, AT_SCOPE_CUSTOMERS_READ },
  { "POST",   "/v1/customers/{}/merge", "customer_merge",           api_customers_merge_post,   API_BODY_JSON,          false, AT_SCOPE_CUSTOMERS_WRITE },
  { "GET",    "/v1/customers/{}/export", "customer_export",         api_customers_export_get,   API_BODY_NONE,          false, AT_SCOPE_CUSTOMERS_READ },
  { "POST",   "/v1/customers/{}/erase", "customer_erase",           api_customers_erase_post,   API_BODY_JSON_OPTIONAL, false, AT_SCOPE_CUSTOMERS_WRITE },
  { "POST",   "/v1/session",            "session",                  api_session_post,           API_BODY_JSON,          false, API_PUBLIC },
  { "GET",    "/v1/session",            "session_get",              api_session_get,            API_BODY_NONE,          false, API_SIGNED_IN },
  { "DELETE", "/v1/session",            "session_delete",           api_session_delete,         API_BODY_NONE,          false, API_SIGNED_IN },
  { "POST",   "/v1/keys",               "keys_create",              api_keys_post,              API_BODY_JSON,          false, AT_SCOPE_ADMIN },
  { "GET",    "/v1/keys",               "keys",                     api_keys_list,              API_BODY_NONE,          false, AT_SCOPE_ADMIN },
  { "DELETE", "/v1/keys/{}",            "key_revoke",               api_keys_delete,            API_BODY_NONE,          false, AT_SCOPE_ADMIN },
  { "POST",   "/v1/users",              "users_create",             api_users_post,             API_BODY_JSON,          false, AT_SCOPE_ADMIN },
  { "GET",    "/v1/users",              "users",                    api_users_list,             API_BODY_NONE,          false, AT_SCOPE_ADMIN },
  { "POST",   "/v1/users/{}/disable",   "user_disable",             api_users_disable,          API_BODY_JSON_OPTIONAL, false, AT_SCOPE_ADMIN },
  { "GET",    "/v1/audit",              "audit",                    api_audit_list,             API_BODY_NONE,          false, AT_SCOPE_ADMIN },
  { "POST",   "/v1/kb/articles",        "kb_articles_create",       api_kb_articles_post,       API_BODY_JSON,          false, AT_SCOPE_KB_WRITE },
  { "GET",    "/v1/kb/articles",        "kb_articles",              api_kb_articles_list,       API_BODY_NONE,          false, AT_SCOPE_TICKETS_READ },
  { "GET",    "/v1/kb/articles/{}",     "kb_article",               api_kb_article_get,         API_BODY_NONE,          false, AT_SCOPE_TICKETS_READ },
  { "PUT",    "/v1/kb/articles/{}",     "kb_article_put",           api_kb_article_put,         API_BODY_JSON,          false, AT_SCOPE_KB_WRITE },
  { "DELETE", "/v1/kb/articles/{}",     "kb_article_delete",        api_kb_article_delete,      API_BODY_NONE,          false, AT_SCOPE_KB_WRITE },
  { "GET",    "/v1/kb/search",          "kb_search",                api_kb_search_get,          API_BODY_NONE,          false, AT_SCOPE_TICKETS_READ },
  { "GET",    "/v1/kb/unanswered",      "kb_unanswered",            api_kb_unanswered_get,      API_BODY_NONE,          false, AT_SCOPE_TICKETS_READ },
  /* SLA: reading needs kpis:read; changing also an admin or a signed-in lead (api_sla.c) */
  { "POST",   "/v1/calendars",          "calendars_create",         api_sla_calendars_post,     API_BODY_JSON,          false, AT_SCOPE_KPIS_READ },
  { "GET",    "/v1/calendars",          "calendars",                api_sla_calendars_list,     API_BODY_NONE,          false, AT_SCOPE_KPIS_READ },
  { "GET",    "/v1/calendars/{}",       "calendar",                 api_sla_calendar_get,       API_BODY_NONE,          false, AT_SCOPE_KPIS_READ },
  { "PUT",    "/v1/calendars/{}",       "calendar_put",             api_sla_calendar_put,       API_BODY_JSON,          false, AT_SCOPE_KPIS_READ },
  { "DELETE", "/v1/calendars/{}",       "calendar_delete",          api_sla_calendar_delete,    API_BODY_NONE,          false, AT_SCOPE_KPIS_READ },
  { "POST",   "/v1/calendars/{}/holidays/ical", "calendar_holidays_ical", api_sla_holidays_ical_post, API_BODY_NONE, false, AT_SCOPE_KPIS_READ },
  { "POST",   "/v1/sla/policies",       "sla_policies_create",      api_sla_policies_post,      API_BODY_JSON,          false, AT_SCOPE_KPIS_READ },
  { "GET",    "/v1/sla/policies",       "sla_policies",             api_sla_policies_list,      API_BODY_NONE,          false, AT_SCOPE_KPIS_READ },
  { "GET",    "/v1/sla/policies/{}",    "sla_policy",               api_sla_policy_get,         API_BODY_NONE,          false, AT_SCOPE_KPIS_READ },
  { "PUT",    "/v1/sla/policies/{}",    "sla_policy_put",           api_sla_policy_put,         API_BODY_JSON,          false, AT_SCOPE_KPIS_READ },
  { "DELETE", "/v1/sla/policies/{}",    "sla_policy_delete",        api_sla_policy_delete,      API_BODY_NONE,          false, AT_SCOPE_KPIS_READ },
  { "POST",   "/v1/teams",              "teams_create",             api_teams_post,             API_BODY_JSON,          false, AT_SCOPE_AGENTS_WRITE },
  { "GET",    "/v1/teams",              "teams",                    api_teams_list,             API_BODY_NONE,          false, AT_SCOPE_TICKETS_READ },
  { "PUT",    "/v1/teams/{}/leads",     "team_leads",               api_team_leads_put,         API_BODY_JSON,          false, AT_SCOPE_AGENTS_WRITE },
  { "GET",    "/v1/escalations",        "escalations",              api_escalations_list,       API_BODY_NONE,          false, AT_SCOPE_KPIS_READ },
  { "GET",    "/v1/agents",             "agents",                   api_agents_list,            API_BODY_NONE,          false, AT_SCOPE_TICKETS_READ },
  { "PUT",    "/v1/agents/{}",          "agent_put",                api_agent_put,              API_BODY_JSON,          false, AT_SCOPE_AGENTS_WRITE },
  { "PUT",    "/v1/agents/{}/presence", "agent_presence",           api_agent_presence_put,     API_BODY_JSON,          false, AT_SCOPE_TICKETS_WRITE },
  { "GET",    "/v1/desk/queue",         "desk_queue",               api_desk_queue_get,         API_BODY_NONE,          false, AT_SCOPE_TICKETS_READ },
  { "POST",   "/v1/tickets/{}/assign",  "ticket_assign",            api_tickets_assign_post,    API_BODY_JSON,          false, AT_SCOPE_TICKETS_WRITE },
  { "POST",   "/v1/tickets/{}/transfer", "ticket_transfer",         api_tickets_transfer_post,  API_BODY_JSON,          false, AT_SCOPE_TICKETS_WRITE },
  /* rules (api_rules.c): reading needs tickets:read, changing agents:write (leads, admins) */
  { "GET",    "/v1/rules",              "rules",                    api_rules_list,             API_BODY_NONE,          false, AT_SCOPE_TICKETS_READ },
  { "POST",   "/v1/rules",              "rules_create",             api_rules_post,             API_BODY_JSON,          false, AT_SCOPE_AGENTS_WRITE },
  { "POST",   "/v1/rules/dry-run",      "rules_dry_run",            api_rules_dry_run,          API_BODY_JSON,          false, AT_SCOPE_TICKETS_READ },
  { "GET",    "/v1/rules/{}",           "rule",                     api_rule_get,               API_BODY_NONE,          false, AT_SCOPE_TICKETS_READ },
  { "PUT",    "/v1/rules/{}",           "rule_put",                 api_rule_put,               API_BODY_JSON,          false, AT_SCOPE_AGENTS_WRITE },
  { "DELETE", "/v1/rules/{}",           "rule_delete",              api_rule_delete,            API_BODY_NONE,          false, AT_SCOPE_AGENTS_WRITE },
  { "GET",    "/v1/tickets/{}/rules",   "ticket_rules",             api_ticket_rules_get,       API_BODY_NONE,          false, AT_SCOPE_TICKETS_READ },
  /* the agents' inbox (api_inbox.c) and its page: static files, public like the
   * probes since they hold no data (api_web.c); every call they make needs the session */
  { "GET",    "/v1/tickets",            "tickets",                  api_inbox_list,             API_BODY_NONE,          false, AT_SCOPE_TICKETS_READ },
  { "POST",   "/v1/tickets/{}/notes",   "ticket_notes",             api_inbox_note_post,        API_BODY_JSON,          false, AT_SCOPE_TICKETS_WRITE },
  { "POST",   "/v1/tickets/{}/snooze",  "ticket_snooze",            api_inbox_snooze_post,      API_BODY_JSON,          false, AT_SCOPE_TICKETS_WRITE },
  /* saved replies (api_replies.c): agents read them, leads (templates:write) write them */
  { "GET",    "/v1/saved-replies",      "saved_replies",            api_replies_list,           API_BODY_NONE,          false, AT_SCOPE_TICKETS_READ },
  { "POST",   "/v1/saved-replies",      "saved_replies_create",     api_replies_post,           API_BODY_JSON,          false, AT_SCOPE_TEMPLATES_WRITE },
  { "GET",    "/v1/saved-replies/{}",   "saved_reply",              api_reply_get,              API_BODY_NONE,          false, AT_SCOPE_TICKETS_READ },
  { "PUT",    "/v1/saved-replies/{}",   "saved_reply_put",          api_reply_put,              API_BODY_JSON,          false, AT_SCOPE_TEMPLATES_WRITE },
  { "DELETE", "/v1/saved-replies/{}",   "saved_reply_delete",       api_reply_delete,           API_BODY_NONE,          false, AT_SCOPE_TEMPLATES_WRITE },
  { "GET",    "/",                      "web",                      api_web_get,                API_BODY_NONE,          false, API_PUBLIC },
  { "GET",    "/app/*",                 "web",                      api_web_get,                API_BODY_NONE,          false, API_PUBLIC },
};

/* Copies seg[0..len) into out; false when too long. (MHD has already
 * percent-decoded the path.) */
static bool
s_copy_segment (const char *seg, size_t len, char *out, size_t cap)
{
  if (len == 0 || len >= cap)
    return false;
  memcpy (out, seg, len);
  out[len] = '\0';
  return true;
}

/* Matches path against pattern; on success the {} segment (or what a
 * final "*" matched) goes to param. */
static bool
s_match (const char *pattern, const char *path, char *param, size_t cap)
{
  const char *p = pattern, *s = path;
  param[0] = '\0';
  while (*p && *s) {
    if (p[0] == '*' && p[1] == '\0')
      return s_copy_segment (s, strlen (s), param, cap);
    if (p[0] == '{' && p[1] == '}') {
      const char *end = strchr (s, '/');
      size_t len = end ? (size_t) (end - s) : strlen (s);
      if (len == 0 || !s_copy_segment (s, len, param, cap))
        return false;
      s += len;
      p += 2;
    }
    else if (*p++ != *s++)
      return false;
  }
  return *p == '\0' && *s == '\0';
}

const api_route_t *
api_routes (size_t *n)
{
  *n = AT_ARRAY_LEN (s_routes);
  return s_routes;
}

void
api_route_match (api_request_t *req)
{
  char param[API_PARAM_MAX];
  bool path_known = false;
  req->route = NULL;
  req->route_status = 404;
  for (size_t i = 0; i < AT_ARRAY_LEN (s_routes); i++) {
    if (!s_match (s_routes[i].pattern, req->path, param, sizeof param))
      continue;
    if (!path_known)
      req->allow[0] = '\0';
    path_known = true;
    size_t used = strlen (req->allow);
    snprintf (req->allow + used, sizeof req->allow - used, "%s%s", used ? ", " : "",
              s_routes[i].method);
    if (strcmp (s_routes[i].method, req->method) == 0
        || (strcmp (req->method, "HEAD") == 0 && strcmp (s_routes[i].method, "GET") == 0)) {
      req->route = &s_routes[i];
      req->route_status = 0;
      at_strlcpy (req->param, param, sizeof req->param);
      return;
    }
  }
  if (path_known)
    req->route_status = 405;
}
