/* store_inbox: the agents' inbox (at_store_inbox.h): the lists of tickets
 * with their filters, built as JSON by PostgreSQL (the api answers it with
 * its fingerprint as ETag: the same rows, the same ETag), the internal
 * notes and snoozing. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at_store_inbox.h"
#include "at_store_json.h"

#define S_TS(col) \
  "to_char (" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* $1 view (mine, team, unassigned, breaching), $2 the person (0: a key),
 * $3 channel, $4 intent, $5 priority, $6 status (NULL: not resolved),
 * $7 minutes ahead for breaching, $8 limit. */
static const at_sql_t SQL_LIST = {"inbox_list",
  "WITH me AS (SELECT coalesce ((SELECT team_ids FROM agent WHERE user_id = $2::bigint),"
  "   '{}') AS teams),"
  " picked AS (SELECT t.*, d.state AS desk_state, d.team_id, d.assignee,"
  "   (SELECT min (c.due_at) FROM sla_clock c WHERE c.ticket_id = t.id"
  "     AND c.state = 'running') AS due"
  "   FROM ticket t LEFT JOIN desk_ticket d ON d.ticket_id = t.id, me"
  "   WHERE ($3::text IS NULL OR t.channel = $3) AND ($4::text IS NULL OR t.intent = $4)"
  "   AND ($5::text IS NULL OR t.priority = $5)"
  "   AND CASE WHEN $6::text IS NULL THEN t.status <> 'resolved' ELSE t.status = $6 END"
  "   AND (t.snoozed_until IS NULL OR t.snoozed_until <= now ())"
  "   AND CASE $1::text"
  "     WHEN 'mine' THEN (d.state = 'assigned' AND d.assignee = $2::bigint)"
  "       OR (d.state = 'done' AND d.last_agent = $2::bigint)"
  "     WHEN 'team' THEN d.state IN ('queued', 'assigned')"
  "       AND ($2::bigint = 0 OR d.team_id = ANY (me.teams))"
  "     WHEN 'unassigned' THEN d.state = 'queued'"
  "     ELSE EXISTS (SELECT 1 FROM sla_clock c WHERE c.ticket_id = t.id AND c.state = 'running'"
  "       AND c.due_at <= now () + make_interval (mins => $7::int)) END"
  "   ORDER BY CASE WHEN $1::text = 'breaching' THEN 0"
  "     WHEN t.priority = 'high' THEN 0 ELSE 1 END, due NULLS LAST, t.id"
  "   LIMIT $8::int),"
  " doc AS (SELECT coalesce (json_agg (json_build_object ('id', p.id, 'channel', p.channel,"
  "   'status', p.status, 'intent', p.intent, 'priority', p.priority, 'subject', p.subject,"
  "   'language', p.language, 'customer_id', p.customer_id, 'customer', cu.name,"
  "   'created_at', " S_TS ("p.created_at") ", 'desk_state', p.desk_state, 'team', tm.name,"
  "   'assignee', u.name, 'due_at', " S_TS ("p.due") ","
  "   'excerpt', (SELECT left (m.body, 160) FROM ticket_message m WHERE m.ticket_id = p.id"
  "     ORDER BY m.id DESC LIMIT 1),"
  "   'messages', (SELECT count (*) FROM ticket_message m WHERE m.ticket_id = p.id),"
  "   'notes', (SELECT count (*) FROM ticket_note n WHERE n.ticket_id = p.id),"
  "   'escalated', EXISTS (SELECT 1 FROM escalation e WHERE e.ticket_id = p.id))"
  "   ORDER BY CASE WHEN $1::text = 'breaching' THEN 0"
  "     WHEN p.priority = 'high' THEN 0 ELSE 1 END, p.due NULLS LAST, p.id), '[]') AS items"
  "   FROM picked p JOIN customer cu ON cu.id = p.customer_id"
  "   LEFT JOIN team tm ON tm.id = p.team_id LEFT JOIN app_user u ON u.id = p.assignee)"
  " SELECT items::text FROM doc", 8};

static const at_sql_t SQL_NOTE_ADD = {"inbox_note_add",
  "INSERT INTO ticket_note (ticket_id, author_id, author, body)"
  " SELECT t.id, NULLIF ($2::bigint, 0), $3, $4 FROM ticket t WHERE t.id = $1"
  " RETURNING id", 4};

/* The customer beside the ticket: name, their other tickets and their
 * orders (the newest S_BESIDE of each), an order's delay in days. */
#define S_BESIDE "10"
#define S_CUSTOMER_JSON \
  "json_build_object ('id', c.id, 'name', c.name," \
  " 'tickets', coalesce ((SELECT json_agg (json_build_object ('id', o.id, 'channel', o.channel," \
  "   'status', o.status, 'intent', o.intent, 'subject', o.subject," \
  "   'created_at', " S_TS ("o.created_at") ") ORDER BY o.id DESC) FROM (SELECT * FROM ticket" \
  "   WHERE customer_id = c.id AND id <> t.id ORDER BY id DESC LIMIT " S_BESIDE ") o), '[]')," \
  " 'orders', coalesce ((SELECT json_agg (json_build_object ('id', r.id, 'status', r.status," \
  "   'expected_delivery', r.expected_delivery, 'missed_delivery', r.missed_delivery," \
  "   'delay_days', CASE WHEN r.missed_delivery IS NOT NULL AND r.delivered_at IS NULL" \
  "     THEN coalesce (r.expected_delivery, current_date) - r.missed_delivery END," \
  "   'tracking_url', r.tracking_url, 'status_at', " S_TS ("r.status_at") ")" \
  "   ORDER BY r.status_at DESC) FROM (SELECT * FROM orders WHERE customer_id = c.id" \
  "   ORDER BY status_at DESC LIMIT " S_BESIDE ") r), '[]'))"

static const at_sql_t SQL_TICKET_JSON = {"inbox_ticket_json",
  "SELECT json_build_object ('notes', coalesce ((SELECT json_agg (json_build_object ("
  "   'id', n.id, 'author', n.author, 'body', n.body,"
  "   'created_at', " S_TS ("n.created_at") ") ORDER BY n.id)"
  "   FROM ticket_note n WHERE n.ticket_id = t.id), '[]'),"
  " 'snoozed_until', CASE WHEN t.snoozed_until > now () THEN " S_TS ("t.snoozed_until") " END,"
  " 'escalations', coalesce ((SELECT json_agg (json_build_object ('rule', e.rule_name,"
  "   'event', e.event, 'created_at', " S_TS ("e.created_at") ") ORDER BY e.id)"
  "   FROM escalation e WHERE e.ticket_id = t.id), '[]'),"
  " 'subject', t.subject, 'customer', " S_CUSTOMER_JSON ")::text"
  " FROM ticket t JOIN customer c ON c.id = t.customer_id WHERE t.id = $1", 1};

static const at_sql_t SQL_SNOOZE = {"inbox_snooze",
  "UPDATE ticket SET snoozed_until = $2::timestamptz WHERE id = $1 RETURNING id", 2};

static const char *const s_views[] = { "mine", "team", "unassigned", "breaching" };

int
at_store_inbox_list (at_store_t *store, const at_inbox_filter_t *f, json_t **items_out)
{
  char user[24], within[16], limit[16];
  *items_out = NULL;
  if ((unsigned) f->view >= AT_ARRAY_LEN (s_views) || f->limit < 1
      || f->limit > AT_INBOX_LIST_MAX || f->within_min < 1
      || f->within_min > AT_INBOX_WITHIN_MAX_MIN)
    return AT_INVALID;
  snprintf (user, sizeof user, "%" PRId64, f->user_id);
  snprintf (within, sizeof within, "%d", f->within_min);
  snprintf (limit, sizeof limit, "%d", f->limit);
  const char *values[] = { s_views[f->view], user, f->channel, f->intent, f->priority,
                           f->status, within, limit };
  return at_store_json (store, &SQL_LIST, values, items_out);
}

int
at_store_inbox_note_add (at_store_t *store, int64_t ticket_id, int64_t user_id,
                         const char *author, const char *text, int64_t *id_out)
{
  char tid[24], uid[24];
  snprintf (tid, sizeof tid, "%" PRId64, ticket_id);
  snprintf (uid, sizeof uid, "%" PRId64, user_id);
  const char *values[] = {tid, uid, author, text};
  return at_store_id (store, &SQL_NOTE_ADD, values, id_out);
}

int
at_store_inbox_ticket_json (at_store_t *store, int64_t ticket_id, json_t **out)
{
  char tid[24];
  snprintf (tid, sizeof tid, "%" PRId64, ticket_id);
  const char *values[] = {tid};
  return at_store_json (store, &SQL_TICKET_JSON, values, out);
}

int
at_store_inbox_snooze (at_store_t *store, int64_t ticket_id, const char *until)
{
  char tid[24];
  snprintf (tid, sizeof tid, "%" PRId64, ticket_id);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_SNOOZE, tid, until);
  if (rc != AT_OK)
    return rc;
  rc = PQntuples (res) == 1 ? AT_OK : AT_NOTFOUND;
  PQclear (res);
  return rc;
}
