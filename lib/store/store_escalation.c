/* store_escalation: escalations, their notices to leads, and a team's
 * leads (at_store_escalation.h, migration 020). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at_store_escalation.h"
#include "at_store_json.h"

/* $1 ticket, $2 rule id, $3 rule name, $4 event, $5 bus message id. One row
 * per notice (lead columns NULL when the team has no lead); no row when this
 * message recorded it before or the ticket does not exist. */
static const at_sql_t SQL_RECORD = {"escalation_record",
  "WITH t AS (UPDATE ticket SET escalated_at = coalesce (escalated_at, now ()),"
  "   updated_at = now (), tags = CASE WHEN 'escalated' = ANY (tags) THEN tags"
  "   ELSE tags || 'escalated'::text END"
  "   WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM escalation x WHERE x.msg_id = $5"
  "     AND x.ticket_id = $1 AND x.rule_id = $2)"
  "   RETURNING id, channel, coalesce (priority, '') AS priority),"
  " e AS (INSERT INTO escalation (ticket_id, team_id, rule_id, rule_name, event, msg_id)"
  "   SELECT t.id, coalesce ((SELECT d.team_id FROM desk_ticket d WHERE d.ticket_id = t.id),"
  "     (SELECT tm.id FROM team tm WHERE tm.is_default)), $2, $3, $4, $5 FROM t"
  "   RETURNING id, team_id),"
  " n AS (INSERT INTO escalation_notice (escalation_id, lead_id, email)"
  "   SELECT e.id, u.id, u.email FROM e JOIN team tm ON tm.id = e.team_id"
  "   JOIN app_user u ON u.id = ANY (tm.leads) AND u.disabled_at IS NULL"
  "   RETURNING lead_id, email)"
  " SELECT e.id, coalesce (tm.name, ''), t.channel, t.priority, n.lead_id, n.email,"
  "   coalesce ((SELECT u.languages[1] FROM app_user u WHERE u.id = n.lead_id), '')"
  " FROM e CROSS JOIN t LEFT JOIN team tm ON tm.id = e.team_id LEFT JOIN n ON true"
  " ORDER BY n.lead_id", 5};

static const at_sql_t SQL_NOTICE_DONE = {"escalation_notice_done",
  "UPDATE escalation_notice SET state = CASE WHEN $3::boolean THEN 'sent' ELSE 'failed' END,"
  " sent_at = CASE WHEN $3::boolean THEN now () END, last_error = $4, attempts = $5::int"
  " WHERE escalation_id = $1 AND lead_id = $2", 5};

static const at_sql_t SQL_LIST = {"escalations_list",
  "SELECT coalesce (json_agg (j ORDER BY created_at DESC, id DESC), '[]') FROM ("
  " SELECT e.id, e.created_at, json_build_object ('id', e.id, 'ticket_id', e.ticket_id,"
  "  'team', tm.name, 'rule_id', e.rule_id, 'rule', e.rule_name, 'event', e.event,"
  "  'at', e.created_at, 'notices', coalesce ((SELECT json_agg (json_build_object"
  "   ('lead_id', n.lead_id, 'email', n.email, 'state', n.state, 'attempts', n.attempts,"
  "    'sent_at', n.sent_at, 'last_error', n.last_error) ORDER BY n.lead_id)"
  "   FROM escalation_notice n WHERE n.escalation_id = e.id), '[]')) AS j"
  " FROM escalation e LEFT JOIN team tm ON tm.id = e.team_id"
  " WHERE $1::bigint = 0 OR e.ticket_id = $1::bigint"
  " ORDER BY e.created_at DESC, e.id DESC LIMIT $2::int) s", 2};

/* The first position (0-based) of an id that is no enabled lead or admin. */
static const at_sql_t SQL_LEADS_BAD = {"team_leads_bad",
  "SELECT (o - 1)::int FROM jsonb_array_elements_text ($1::jsonb) WITH ORDINALITY AS x (v, o)"
  " WHERE NOT EXISTS (SELECT 1 FROM app_user u WHERE u.id::text = x.v"
  "   AND u.disabled_at IS NULL AND u.role IN ('lead', 'admin'))"
  " ORDER BY o LIMIT 1", 1};

static const at_sql_t SQL_LEADS_SET = {"team_leads_set",
  "UPDATE team SET leads = ARRAY (SELECT DISTINCT v::bigint FROM"
  " jsonb_array_elements_text ($2::jsonb) AS v ORDER BY 1) WHERE id = $1 RETURNING id", 2};

static void
s_id (int64_t id, char out[24])
{
  snprintf (out, 24, "%" PRId64, id);
}

static void
s_row (const PGresult *res, int row, at_escalation_t *out)
{
  if (row == 0) {
    out->id = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    at_strlcpy (out->team, PQgetvalue (res, 0, 1), sizeof out->team);
    at_strlcpy (out->channel, PQgetvalue (res, 0, 2), sizeof out->channel);
    at_strlcpy (out->priority, PQgetvalue (res, 0, 3), sizeof out->priority);
  }
  if (PQgetisnull (res, row, 4) || out->n_leads >= AT_ESCALATION_LEADS_MAX)
    return;
  at_escalation_lead_t *l = &out->leads[out->n_leads++];
  l->lead_id = strtoll (PQgetvalue (res, row, 4), NULL, 10);
  at_strlcpy (l->email, PQgetvalue (res, row, 5), sizeof l->email);
  at_strlcpy (l->language, PQgetvalue (res, row, 6), sizeof l->language);
}

int
at_store_escalation_record (at_store_t *store, const at_escalation_in_t *in,
                            at_escalation_t *out)
{
  char ticket[24], rule[24];
  s_id (in->ticket_id, ticket);
  s_id (in->rule_id, rule);
  memset (out, 0, sizeof *out);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_RECORD, ticket, rule, in->rule_name ? in->rule_name : "",
                       in->event, in->msg_id);
  if (rc != AT_OK)
    return rc;
  for (int i = 0; i < PQntuples (res); i++)
    s_row (res, i, out);
  PQclear (res);
  return AT_OK;
}

int
at_store_escalation_notice_done (at_store_t *store, int64_t escalation_id, int64_t lead_id,
                                 bool sent, const char *why, unsigned attempt)
{
  char esc[24], lead[24], att[16];
  s_id (escalation_id, esc);
  s_id (lead_id, lead);
  snprintf (att, sizeof att, "%u", attempt);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_NOTICE_DONE, esc, lead, sent ? "true" : "false",
                       sent ? NULL : why, att);
  if (rc != AT_OK)
    return rc;
  rc = strcmp (PQcmdTuples (res), "0") == 0 ? AT_NOTFOUND : AT_OK;
  PQclear (res);
  return rc;
}

int
at_store_escalations_list (at_store_t *store, int64_t ticket_id, long limit, json_t **items_out)
{
  char ticket[24], lim[24];
  s_id (ticket_id, ticket);
  snprintf (lim, sizeof lim, "%ld", limit);
  const char *values[] = {ticket, lim};
  return at_store_json (store, &SQL_LIST, values, items_out);
}

int
at_store_team_leads_set (at_store_t *store, int64_t team_id, const char *ids_json,
                         long *bad_index)
{
  char team[24];
  s_id (team_id, team);
  *bad_index = -1;
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_LEADS_BAD, ids_json);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) == 1)
    *bad_index = strtol (PQgetvalue (res, 0, 0), NULL, 10);
  PQclear (res);
  if (*bad_index >= 0)
    return AT_INVALID;
  rc = at_store_q (store, &res, &SQL_LEADS_SET, team, ids_json);
  if (rc != AT_OK)
    return rc;
  rc = PQntuples (res) == 1 ? AT_OK : AT_NOTFOUND;
  PQclear (res);
  return rc;
}
