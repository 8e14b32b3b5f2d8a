/* Rules, their facts and their log (at_store_rule.h). JSON built by
 * PostgreSQL. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at_store_rule.h"
#include "at_store_json.h"
#include "at_store_sla.h"
#include "at_calendar.h"


#define S_TS(col) "to_char (" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
#define S_RULE_JSON \
  "json_build_object ('id', id, 'position', position, 'name', name, 'enabled', enabled," \
  " 'event', event, 'after_s', after_s, 'conditions', conditions, 'actions', actions," \
  " 'created_at', " \
  S_TS ("created_at") ", 'updated_at', " S_TS ("updated_at") ")"

static const at_sql_t SQL_INSERT = {"rule_insert",
  "INSERT INTO rule (name, event, conditions, actions, position, enabled, after_s)"
  " VALUES ($1, $2, $3::jsonb, $4::jsonb, $5::int, $6::boolean, NULLIF ($7::int, 0))"
  " RETURNING id", 7};

static const at_sql_t SQL_UPDATE = {"rule_update",
  "UPDATE rule SET name = $2, event = $3, conditions = $4::jsonb, actions = $5::jsonb,"
  " position = $6::int, enabled = $7::boolean, after_s = NULLIF ($8::int, 0),"
  " updated_at = now () WHERE id = $1 RETURNING id", 8};

static const at_sql_t SQL_DELETE = {"rule_delete",
  "DELETE FROM rule WHERE id = $1 RETURNING id", 1};

static const at_sql_t SQL_GET = {"rule_get",
  "SELECT " S_RULE_JSON " FROM rule WHERE id = $1", 1};

static const at_sql_t SQL_LIST = {"rule_list",
  "SELECT coalesce (json_agg (" S_RULE_JSON " ORDER BY position, id), '[]') FROM rule"
  " WHERE enabled OR NOT $1::boolean", 1};

/* The ticket, its team, its customer's latest order, the customer's latest
 * message and the calendar of its SLA clocks (0: none). */
static const at_sql_t SQL_FACTS = {"rule_facts",
  "SELECT t.channel, coalesce (t.intent, ''), coalesce (t.language, ''),"
  " coalesce (t.priority, ''), array_to_json (t.tags)::text,"
  " coalesce ((SELECT o.status FROM orders o WHERE o.customer_id = t.customer_id"
  "   ORDER BY o.status_at DESC, o.updated_at DESC LIMIT 1), ''),"
  " coalesce ((SELECT tm.name FROM desk_ticket d JOIN team tm ON tm.id = d.team_id"
  "   WHERE d.ticket_id = t.id), ''),"
  " coalesce ((SELECT left (m.body, 4000) FROM ticket_message m WHERE m.ticket_id = t.id"
  "   AND m.author = 'customer' ORDER BY m.id DESC LIMIT 1), ''),"
  " coalesce ((SELECT k.calendar_id FROM sla_clock k WHERE k.ticket_id = t.id"
  "   AND k.calendar_id IS NOT NULL ORDER BY k.metric LIMIT 1), 0)"
  " FROM ticket t WHERE t.id = $1", 1};

static const at_sql_t SQL_RECENT = {"rule_recent_tickets",
  "SELECT id FROM ticket ORDER BY id DESC LIMIT $1::int", 1};

static const at_sql_t SQL_LOG = {"rule_log",
  "INSERT INTO rule_run (ticket_id, rule_id, msg_id, chain, depth, event, fired, why, actions)"
  " VALUES ($1, $2, $3, $4, $5::smallint, $6, $7::boolean, $8, coalesce ($9::jsonb, '[]'))"
  " ON CONFLICT DO NOTHING RETURNING id", 9};

static const at_sql_t SQL_RUNS = {"rule_runs",
  "SELECT coalesce (json_agg (json_build_object ('rule_id', r.rule_id, 'rule', ru.name,"
  " 'event', r.event, 'chain', r.chain, 'depth', r.depth, 'fired', r.fired, 'why', r.why,"
  " 'actions', CASE WHEN r.fired THEN r.actions ELSE '[]' END, 'msg_id', r.msg_id,"
  " 'at', " S_TS ("r.at") ") ORDER BY r.id), '[]')"
  " FROM rule_run r LEFT JOIN rule ru ON ru.id = r.rule_id WHERE r.ticket_id = $1", 1};

static const at_sql_t SQL_PRIORITY = {"rule_ticket_priority",
  "UPDATE ticket SET priority = $2, priority_reason = 'rule', updated_at = now ()"
  " WHERE id = $1 AND priority IS DISTINCT FROM $2 RETURNING id", 2};

static const at_sql_t SQL_TAG = {"rule_ticket_tag",
  "UPDATE ticket SET tags = tags || $2::text, updated_at = now ()"
  " WHERE id = $1 AND NOT ($2 = ANY (tags)) AND cardinality (tags) < 32", 2};

static const at_sql_t SQL_LAST_CUSTOMER = {"rule_last_customer_message",
  "SELECT coalesce (max (id), 0) FROM ticket_message WHERE ticket_id = $1"
  " AND author = 'customer'", 1};

static const at_sql_t SQL_LAST_MESSAGE = {"rule_last_message",
  "SELECT coalesce (max (id), 0) FROM ticket_message WHERE ticket_id = $1"
  " AND author IN ('customer', 'agent')", 1};

static const at_sql_t SQL_LISTENED = {"rule_listened",
  "SELECT 1 FROM rule WHERE enabled AND event = $1 LIMIT 1", 1};

static const at_sql_t SQL_OPEN_TICKET = {"rule_open_ticket",
  "SELECT id FROM ticket WHERE customer_id = $1 AND status <> 'resolved'"
  " ORDER BY id DESC LIMIT 1", 1};

static void
s_id (int64_t id, char out[24])
{
  snprintf (out, 24, "%" PRId64, id);
}

/* A statement that returns the id it touched: AT_NOTFOUND when none. */
static int
s_returning (at_store_t *store, int rc, PGresult **res, int64_t *id_out)
{
  if (rc != AT_OK)
    return rc;
  rc = PQntuples (*res) == 1 ? AT_OK : AT_NOTFOUND;
  if (rc == AT_OK && id_out)
    *id_out = strtoll (PQgetvalue (*res, 0, 0), NULL, 10);
  PQclear (*res);
  (void) store;
  return rc;
}

int
at_store_rule_create (at_store_t *store, const at_rule_row_t *r, int64_t *id_out)
{
  char pos[24], after[24];
  snprintf (pos, sizeof pos, "%ld", r->position);
  snprintf (after, sizeof after, "%ld", r->after_s);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_INSERT, r->name, r->event, r->conditions_json,
                       r->actions_json, pos, r->enabled ? "true" : "false", after);
  return s_returning (store, rc, &res, id_out);
}

int
at_store_rule_update (at_store_t *store, int64_t id, const at_rule_row_t *r)
{
  char rule[24], pos[24], after[24];
  s_id (id, rule);
  snprintf (pos, sizeof pos, "%ld", r->position);
  snprintf (after, sizeof after, "%ld", r->after_s);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_UPDATE, rule, r->name, r->event, r->conditions_json,
                       r->actions_json, pos, r->enabled ? "true" : "false", after);
  return s_returning (store, rc, &res, NULL);
}

int
at_store_rule_delete (at_store_t *store, int64_t id)
{
  char rule[24];
  s_id (id, rule);
  PGresult *res = NULL;
  return s_returning (store, at_store_q (store, &res, &SQL_DELETE, rule), &res, NULL);
}

static int
s_json (at_store_t *store, const at_sql_t *sql, const char *arg, json_t **out)
{
  const char *values[] = {arg};
  return at_store_json (store, sql, values, out);
}

int
at_store_rule_get (at_store_t *store, int64_t id, json_t **doc_out)
{
  char rule[24];
  s_id (id, rule);
  return s_json (store, &SQL_GET, rule, doc_out);
}

int
at_store_rule_list (at_store_t *store, bool enabled_only, json_t **items_out)
{
  return s_json (store, &SQL_LIST, enabled_only ? "true" : "false", items_out);
}

int
at_store_rule_runs (at_store_t *store, int64_t ticket_id, json_t **items_out)
{
  char ticket[24];
  s_id (ticket_id, ticket);
  return s_json (store, &SQL_RUNS, ticket, items_out);
}

/* The tags of a JSON array text into facts. */
static void
s_tags (const char *json_text, at_rule_facts_t *f)
{
  json_t *tags = json_loads (json_text, JSON_DECODE_ANY, NULL);
  const json_t *t;
  size_t i;
  json_array_foreach (tags, i, t)
    at_rule_facts_tag (f, json_string_value (t));
  json_decref (tags);
}

/* Whether the calendar is open at now_us; no calendar (or one that does
 * not load): open. */
static int
s_business_hours (at_store_t *store, int64_t calendar_id, int64_t now_us, bool *open)
{
  *open = true;
  if (calendar_id <= 0)
    return AT_OK;
  at_calendar_t *cal = NULL;
  int rc = at_store_sla_calendar_load (store, calendar_id, &cal);
  if (rc == AT_OK && cal)
    *open = at_calendar_is_open (cal, now_us / 1000000);
  at_calendar_destroy (&cal);
  return rc == AT_NOTFOUND ? AT_OK : rc;
}

int
at_store_rule_facts (at_store_t *store, int64_t ticket_id, int64_t now_us,
                     at_rule_facts_t *out)
{
  char ticket[24];
  s_id (ticket_id, ticket);
  memset (out, 0, sizeof *out);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_FACTS, ticket);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) != 1) {
    PQclear (res);
    return AT_NOTFOUND;
  }
  at_strlcpy (out->channel, PQgetvalue (res, 0, 0), sizeof out->channel);
  at_strlcpy (out->intent, PQgetvalue (res, 0, 1), sizeof out->intent);
  at_strlcpy (out->language, PQgetvalue (res, 0, 2), sizeof out->language);
  at_strlcpy (out->priority, PQgetvalue (res, 0, 3), sizeof out->priority);
  s_tags (PQgetvalue (res, 0, 4), out);
  at_strlcpy (out->order_status, PQgetvalue (res, 0, 5), sizeof out->order_status);
  at_strlcpy (out->team, PQgetvalue (res, 0, 6), sizeof out->team);
  at_strlcpy (out->text, PQgetvalue (res, 0, 7), sizeof out->text);
  int64_t calendar = strtoll (PQgetvalue (res, 0, 8), NULL, 10);
  PQclear (res);
  return s_business_hours (store, calendar, now_us, &out->business_hours);
}

int
at_store_rule_recent_tickets (at_store_t *store, long last, int64_t *ids, size_t cap, size_t *n)
{
  char limit[24];
  *n = 0;
  long most = last < 0 ? 0 : last;
  if (most > (long) cap)
    most = (long) cap;
  snprintf (limit, sizeof limit, "%ld", most);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_RECENT, limit);
  if (rc != AT_OK)
    return rc;
  for (int i = 0; i < PQntuples (res) && *n < cap; i++)
    ids[(*n)++] = strtoll (PQgetvalue (res, i, 0), NULL, 10);
  PQclear (res);
  return AT_OK;
}

int
at_store_rule_log (at_store_t *store, const at_rule_log_t *l)
{
  char ticket[24], rule[24], depth[8];
  s_id (l->ticket_id, ticket);
  s_id (l->run->rule_id, rule);
  snprintf (depth, sizeof depth, "%d", l->run->depth);
  char *actions = l->run->fired && l->run->actions
                      ? json_dumps (l->run->actions, JSON_COMPACT) : NULL;
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_LOG, ticket, rule, l->msg_id, l->chain, depth,
                       l->run->event, l->run->fired ? "true" : "false", l->run->why, actions);
  free (actions);
  rc = s_returning (store, rc, &res, NULL);
  return rc == AT_NOTFOUND ? AT_CONFLICT : rc;
}

int
at_store_rule_ticket_priority (at_store_t *store, int64_t ticket_id, const char *priority,
                               bool *changed)
{
  char ticket[24];
  s_id (ticket_id, ticket);
  PGresult *res = NULL;
  int rc = s_returning (store, at_store_q (store, &res, &SQL_PRIORITY, ticket, priority), &res,
                        NULL);
  *changed = rc == AT_OK;
  return rc == AT_NOTFOUND ? AT_OK : rc;
}

int
at_store_rule_ticket_tag (at_store_t *store, int64_t ticket_id, const char *tag)
{
  char ticket[24];
  s_id (ticket_id, ticket);
  return at_store_do (store, &SQL_TAG, ticket, tag);
}

int
at_store_rule_last_customer_message (at_store_t *store, int64_t ticket_id, int64_t *id_out)
{
  char ticket[24];
  s_id (ticket_id, ticket);
  PGresult *res = NULL;
  return s_returning (store, at_store_q (store, &res, &SQL_LAST_CUSTOMER, ticket), &res, id_out);
}

int
at_store_rule_open_ticket (at_store_t *store, int64_t customer_id, int64_t *ticket_out)
{
  char customer[24];
  s_id (customer_id, customer);
  PGresult *res = NULL;
  return s_returning (store, at_store_q (store, &res, &SQL_OPEN_TICKET, customer), &res,
                      ticket_out);
}

int
at_store_rule_listened (at_store_t *store, const char *event, bool *yes)
{
  PGresult *res = NULL;
  int rc = s_returning (store, at_store_q (store, &res, &SQL_LISTENED, event), &res, NULL);
  *yes = rc == AT_OK;
  return rc == AT_NOTFOUND ? AT_OK : rc;
}

int
at_store_rule_last_message (at_store_t *store, int64_t ticket_id, int64_t *id_out)
{
  char ticket[24];
  s_id (ticket_id, ticket);
  PGresult *res = NULL;
  return s_returning (store, at_store_q (store, &res, &SQL_LAST_MESSAGE, ticket), &res, id_out);
}
