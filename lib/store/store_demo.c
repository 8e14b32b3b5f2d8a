/* store_demo: read-only counts the demo polls to know when the pipeline's
 * work has landed in the store, and the figures of its summary (named
 * statements, parameters only). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "at_store_demo.h"

#define S_COUNTS 10
static const at_sql_t s_counts = { "demo_counts",
  "SELECT (SELECT count(*) FROM ticket_message WHERE direction = 'in'),"
  "       (SELECT count(*) FROM ticket WHERE id > $1::bigint),"
  "       (SELECT count(*) FROM ticket WHERE id > $1::bigint AND intent IS NOT NULL),"
  "       (SELECT count(*) FROM ticket WHERE id > $1::bigint AND auto_answered),"
  "       (SELECT count(*) FROM order_event),"
  "       (SELECT count(*) FROM survey_answer),"
  "       (SELECT coalesce(max(id), 0) FROM ticket),"
  "       (SELECT count(*) FROM notification WHERE ticket_id > $1::bigint"
  "         AND kind = 'auto_reply'),"
  "       (SELECT count(*) FROM selfservice_request WHERE ticket_id > $1::bigint"
  "         AND kind IN ('return', 'cancel')),"
  "       (SELECT count(*) FROM kb_event WHERE ticket_id > $1::bigint AND kind = 'suggested'"
  "         AND answered_at IS NOT NULL)", 1 };

/* Waiting for people: not resolved, no automatic answer standing (none, or
 * a hand-over after it), no agent reply since the hand-over. */
static const at_sql_t s_unanswered = { "demo_unanswered",
  "SELECT t.id, coalesce(t.language, '') FROM ticket t"
  " WHERE t.id > $1::bigint AND t.status <> 'resolved' AND NOT t.auto_answered"
  " AND NOT EXISTS (SELECT 1 FROM ticket_message m WHERE m.ticket_id = t.id"
  "   AND m.author = 'agent' AND m.created_at >= coalesce(t.handoff_at, '-infinity'))"
  " ORDER BY t.id LIMIT $2::int", 2 };

static const at_sql_t s_open = { "demo_open",
  "SELECT id FROM ticket WHERE id > $1::bigint AND status <> 'resolved' ORDER BY id LIMIT $2::int", 2 };

static const at_sql_t s_kb_awaiting = { "demo_kb_awaiting",
  "SELECT e.ticket_id, coalesce(m.provider_message_id, '') FROM kb_event e"
  " JOIN ticket_message m ON m.id = e.message_id"
  " WHERE e.ticket_id > $1::bigint AND e.kind = 'suggested' AND e.answered_at IS NULL"
  " ORDER BY e.ticket_id LIMIT $2::int", 2 };

const char *const demo_intent_names[DEMO_INTENTS] = {
  "order_status", "return_refund", "cancel", "payment", "product_question", "complaint", "other",
};

#define S_SUMMARY 21
static const at_sql_t s_summary = { "demo_summary",
  "SELECT count(*) FILTER (WHERE intent = 'order_status'),"
  " count(*) FILTER (WHERE intent = 'return_refund'),"
  " count(*) FILTER (WHERE intent = 'cancel'),"
  " count(*) FILTER (WHERE intent = 'payment'),"
  " count(*) FILTER (WHERE intent = 'product_question'),"
  " count(*) FILTER (WHERE intent = 'complaint'),"
  " count(*) FILTER (WHERE intent = 'other'),"
  " count(*) FILTER (WHERE auto_answered),"
  " count(*) FILTER (WHERE auto_answered AND intent = 'order_status'),"
  " count(*) FILTER (WHERE auto_answered AND intent IN ('product_question', 'other')),"
  " count(*) FILTER (WHERE auto_answered AND intent = 'return_refund'),"
  " count(*) FILTER (WHERE auto_answered AND intent = 'cancel'),"
  " count(*) FILTER (WHERE auto_answered AND intent = 'payment'),"
  " count(*) FILTER (WHERE handoff_reason IS NOT NULL),"
  " count(*) FILTER (WHERE handoff_reason IS NULL AND NOT auto_answered),"
  " count(*) FILTER (WHERE priority = 'high'),"
  " (SELECT count(*) FROM kb_event WHERE ticket_id > $1::bigint AND kind = 'suggested'),"
  " (SELECT count(*) FROM kb_event WHERE ticket_id > $1::bigint AND kind = 'helpful'),"
  " (SELECT count(*) FROM kb_event WHERE ticket_id > $1::bigint AND kind = 'unhelpful'),"
  " (SELECT count(*) FROM kb_event WHERE ticket_id > $1::bigint AND kind = 'no_result'),"
  " (SELECT count(*) FROM selfservice_request WHERE ticket_id > $1::bigint"
  "   AND kind IN ('return', 'cancel') AND state IN ('sent_to_store', 'confirmed'))"
  " FROM ticket WHERE id > $1::bigint", 1 };

static const at_sql_t s_handoffs = { "demo_handoffs",
  "SELECT handoff_reason, count(*) FROM ticket WHERE id > $1::bigint"
  " AND handoff_reason IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $2::int", 2 };

static const at_sql_t s_priorities = { "demo_priorities",
  "SELECT r, count(*) FROM ticket, unnest(string_to_array(priority_reason, ',')) AS r"
  " WHERE id > $1::bigint AND priority = 'high' AND r <> ''"
  " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $2::int", 2 };

/* The desk and the SLA: tickets queued for people, assigned, still
 * waiting; SLA warnings, breaches and targets met; tickets escalated, and
 * the leads' mails about them that went out. */
#define S_DESK 8
static const at_sql_t s_desk = { "demo_desk",
  "SELECT (SELECT count(*) FROM desk_ticket WHERE ticket_id > $1::bigint),"
  " (SELECT count(DISTINCT ticket_id) FROM desk_assignment WHERE ticket_id > $1::bigint),"
  " (SELECT count(*) FROM desk_ticket WHERE ticket_id > $1::bigint AND state = 'queued'),"
  " (SELECT count(*) FROM sla_event WHERE ticket_id > $1::bigint AND kind = 'warning'),"
  " (SELECT count(*) FROM sla_event WHERE ticket_id > $1::bigint AND kind = 'breach'),"
  " (SELECT count(*) FROM sla_event WHERE ticket_id > $1::bigint AND kind = 'met'),"
  " (SELECT count(*) FROM ticket WHERE id > $1::bigint AND escalated_at IS NOT NULL),"
  " (SELECT count(*) FROM escalation_notice n JOIN escalation e ON e.id = n.escalation_id"
  "   WHERE e.ticket_id > $1::bigint AND n.state = 'sent')", 1 };

/* The demo's most urgent ticket under a policy of its own: the first
 * first-response due. */
static const at_sql_t s_urgent = { "demo_urgent",
  "SELECT ticket_id FROM sla_clock WHERE ticket_id > $1::bigint"
  " AND metric = 'first_response' AND state = 'running' AND policy_id IS NOT NULL"
  " ORDER BY due_at, ticket_id LIMIT $2::int", 2 };

static const at_sql_t s_by_agent = { "demo_by_agent",
  "SELECT u.name, count(*) FROM desk_assignment a JOIN app_user u ON u.id = a.agent_id"
  " WHERE a.ticket_id > $1::bigint GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $2::int", 2 };

static const at_sql_t s_breaches = { "demo_breaches",
  "SELECT replace (metric, '_', ' '), count(*) FROM sla_event WHERE ticket_id > $1::bigint"
  " AND kind = 'breach' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $2::int", 2 };

/* One row of n counts into fields. */
static int
s_row (at_store_t *store, const at_sql_t *sql, int64_t after, long long *const *fields, int n)
{
  char a[24];
  snprintf (a, sizeof a, "%lld", (long long) after);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, sql, a);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) != 1 || PQnfields (res) != n) {
    PQclear (res);
    return AT_ERROR;
  }
  for (int i = 0; i < n; i++)
    if (fields[i])
      *fields[i] = strtoll (PQgetvalue (res, 0, i), NULL, 10);
  PQclear (res);
  return AT_OK;
}

int
demo_probe_counts (at_store_t *store, int64_t after_ticket, demo_counts_t *out)
{
  long long *const fields[S_COUNTS] = {
    &out->inbound, &out->tickets, &out->routed, &out->auto_answered, &out->order_events,
    &out->survey_answers, &out->max_ticket_id, &out->auto_replies, &out->store_requests,
    &out->kb_settled };
  return s_row (store, &s_counts, after_ticket, fields, S_COUNTS);
}

/* Rows of (id, text) into ids and texts (each text_cap bytes); how many. */
static size_t
s_ids (at_store_t *store, const at_sql_t *sql, int64_t after, int64_t *ids, char *texts,
       size_t text_cap, size_t cap)
{
  char a[24], c[24];
  snprintf (a, sizeof a, "%lld", (long long) after);
  snprintf (c, sizeof c, "%zu", cap);
  PGresult *res = NULL;
  if (at_store_q (store, &res, sql, a, c) != AT_OK)
    return 0;
  size_t n = 0;
  for (int i = 0; i < PQntuples (res) && n < cap; i++, n++) {
    ids[n] = strtoll (PQgetvalue (res, i, 0), NULL, 10);
    if (texts && PQnfields (res) > 1)
      at_strlcpy (texts + n * text_cap, PQgetvalue (res, i, 1), text_cap);
  }
  PQclear (res);
  return n;
}

size_t
demo_probe_unanswered (at_store_t *store, int64_t after, int64_t *ids, char (*langs)[8], size_t cap)
{
  return s_ids (store, &s_unanswered, after, ids, langs[0], sizeof langs[0], cap);
}

size_t
demo_probe_open (at_store_t *store, int64_t after, int64_t *ids, size_t cap)
{
  return s_ids (store, &s_open, after, ids, NULL, 0, cap);
}

size_t
demo_probe_kb_awaiting (at_store_t *store, int64_t after, int64_t *ids,
                        char (*provider_ids)[DEMO_PROVIDER_ID_MAX], size_t cap)
{
  return s_ids (store, &s_kb_awaiting, after, ids, provider_ids[0], sizeof provider_ids[0], cap);
}

/* (name, count) rows into tally; how many. */
static size_t
s_tally (at_store_t *store, const at_sql_t *sql, int64_t after, demo_tally_t *tally)
{
  char a[24], c[24];
  snprintf (a, sizeof a, "%lld", (long long) after);
  snprintf (c, sizeof c, "%d", DEMO_TALLY_MAX);
  PGresult *res = NULL;
  if (at_store_q (store, &res, sql, a, c) != AT_OK)
    return 0;
  size_t n = 0;
  for (int i = 0; i < PQntuples (res) && n < DEMO_TALLY_MAX; i++, n++) {
    at_strlcpy (tally[n].name, PQgetvalue (res, i, 0), sizeof tally[n].name);
    tally[n].n = strtoll (PQgetvalue (res, i, 1), NULL, 10);
  }
  PQclear (res);
  return n;
}

int
demo_probe_summary (at_store_t *store, int64_t after, demo_summary_t *out)
{
  memset (out, 0, sizeof *out);
  long long *const fields[S_SUMMARY] = {
    &out->by_intent[0], &out->by_intent[1], &out->by_intent[2], &out->by_intent[3],
    &out->by_intent[4], &out->by_intent[5], &out->by_intent[6], &out->auto_total,
    &out->auto_order, &out->auto_kb, &out->auto_return, &out->auto_cancel, &out->auto_payment,
    &out->handed_over, &out->for_people, &out->high, &out->kb_suggested, &out->kb_helpful,
    &out->kb_unhelpful, &out->kb_no_result, &out->requests_sent };
  int rc = s_row (store, &s_summary, after, fields, S_SUMMARY);
  if (rc != AT_OK)
    return rc;
  out->handoff_n = s_tally (store, &s_handoffs, after, out->handoff);
  out->priority_n = s_tally (store, &s_priorities, after, out->priority);
  long long *const desk[S_DESK] = {
    &out->desk_queued, &out->desk_assigned, &out->desk_waiting, &out->sla_warnings,
    &out->sla_breaches, &out->sla_met, &out->escalated, &out->leads_told };
  rc = s_row (store, &s_desk, after, desk, S_DESK);
  if (rc != AT_OK)
    return rc;
  out->by_agent_n = s_tally (store, &s_by_agent, after, out->by_agent);
  out->breach_n = s_tally (store, &s_breaches, after, out->breach);
  return AT_OK;
}

int64_t
demo_probe_urgent (at_store_t *store, int64_t after)
{
  int64_t id = 0;
  return s_ids (store, &s_urgent, after, &id, NULL, 0, 1) == 1 ? id : 0;
}

long long
demo_probe_breaches (at_store_t *store, int64_t after)
{
  demo_tally_t t[DEMO_TALLY_MAX];
  long long n = 0;
  size_t k = s_tally (store, &s_breaches, after, t);
  for (size_t i = 0; i < k; i++)
    n += t[i].n;
  return n;
}
