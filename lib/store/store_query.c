/* The read side the api shows (lib/store/at_store_query.h): a ticket with its
 * messages, where a bus message is, and the KPIs, computed in SQL. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>
#include "at_store_query.h"
#include "at_msg.h"
#include "at_log.h"

/* RFC 3339 text in UTC of a timestamptz column. */
#define S_TS(col) "to_char (" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

static const at_sql_t SQL_TICKET = {"query_ticket",
  "SELECT id, customer_id, channel, status, intent, priority, language, auto_answered, "
  S_TS ("created_at") ", " S_TS ("first_response_due") ", " S_TS ("first_response_at") ", "
  S_TS ("resolved_at") ", intent_confidence, priority_reason, handoff_reason, "
  S_TS ("handoff_at") " FROM ticket WHERE id = $1::int8", 1};

static const at_sql_t SQL_TICKET_MESSAGES = {"query_ticket_messages",
  "SELECT id, direction, author, body, " S_TS ("created_at") ", agent, channel"
  " FROM ticket_message WHERE ticket_id = $1::int8 ORDER BY id LIMIT $2::int4", 2};

static const at_sql_t SQL_TICKET_EXISTS = {"query_ticket_exists",
  "SELECT 1 FROM ticket WHERE id = $1::int8", 1};

static const at_sql_t SQL_MESSAGE_STATUS = {"query_message_status",
  "SELECT 'processed', ticket_id, NULL FROM ticket_message WHERE bus_message_id = $1::uuid"
  " UNION ALL SELECT 'pending', NULL, NULL FROM bus_message WHERE id = $1::uuid"
  " UNION ALL SELECT 'dead', NULL, reason FROM bus_dead WHERE id = $1::uuid"
  " LIMIT 1", 1};

static const at_sql_t SQL_PING = {"query_ping", "SELECT 1", 0};

/* $1: since, unix microseconds (0: all time). One row, one column per KPI. */
static const at_sql_t SQL_KPIS = {"query_kpis",
  "WITH s AS (SELECT CASE WHEN $1::int8 > 0"
  "   THEN timestamptz 'epoch' + $1::int8 * interval '1 microsecond'"
  "   ELSE '-infinity'::timestamptz END AS since),"
  " t AS (SELECT ticket.* FROM ticket, s WHERE created_at >= s.since),"
  " fr AS (SELECT extract (epoch FROM first_response_at - created_at)::float8 AS v"
  "   FROM t WHERE first_response_at IS NOT NULL),"
  " rs AS (SELECT extract (epoch FROM resolved_at - created_at)::float8 AS v"
  "   FROM t WHERE resolved_at IS NOT NULL),"
  " cs AS (SELECT a.score FROM survey_answer a JOIN survey v ON v.id = a.survey_id, s"
  "   WHERE v.kind = 'csat' AND a.created_at >= s.since)"
  " SELECT (SELECT count(*) FROM t),"
  "  (SELECT count(*) FROM t WHERE status <> 'resolved'),"
  "  (SELECT count(*) FROM ticket, s WHERE resolved_at >= s.since),"
  "  (SELECT count(*) FROM ticket_message m, s WHERE m.direction = 'in' AND m.created_at >= s.since),"
  "  (SELECT count(*) FROM ticket_message m, s WHERE m.direction = 'out' AND m.created_at >= s.since),"
  "  (SELECT count(*) FROM fr), (SELECT avg (v) FROM fr),"
  "  (SELECT percentile_cont (0.5) WITHIN GROUP (ORDER BY v) FROM fr),"
  "  (SELECT percentile_cont (0.9) WITHIN GROUP (ORDER BY v) FROM fr),"
  "  (SELECT avg (v) FROM rs),"
  "  (SELECT percentile_cont (0.5) WITHIN GROUP (ORDER BY v) FROM rs),"
  "  (SELECT count(*) FROM cs), (SELECT avg (score)::float8 FROM cs),"
  "  (SELECT avg (CASE WHEN score >= 4 THEN 1.0 ELSE 0.0 END)::float8 FROM cs),"
  "  (SELECT avg (CASE WHEN auto_answered THEN 1.0 ELSE 0.0 END)::float8 FROM t"
  "   WHERE intent = 'order_status'),"
  "  (SELECT count(*) FROM notification n, s WHERE n.status = 'delivered' AND n.created_at >= s.since),"
  "  (SELECT count(*) FROM notification n, s WHERE n.status IN ('pending', 'sending')"
  "   AND n.created_at >= s.since),"
  "  (SELECT count(*) FROM notification n, s WHERE n.status = 'failed' AND n.created_at >= s.since),"
  "  (SELECT count(*) FROM orders o, s WHERE o.created_at >= s.since),"
  "  (SELECT count(*) FROM orders o, s WHERE o.status = 'delivered' AND o.created_at >= s.since)",
  1};

static char *
s_text (PGresult *res, int row, int col)
{
  return PQgetisnull (res, row, col) ? NULL : at_strdup (PQgetvalue (res, row, col));
}

static long long
s_int (PGresult *res, int row, int col)
{
  return PQgetisnull (res, row, col) ? 0 : strtoll (PQgetvalue (res, row, col), NULL, 10);
}

static double
s_real (PGresult *res, int row, int col)
{
  return PQgetisnull (res, row, col) ? NAN : strtod (PQgetvalue (res, row, col), NULL);
}

/* Drops a UTF-8 sequence that a bounded copy cut in the middle. */
static void
s_utf8_trim (char *text)
{
  const uint8_t *bad = u8_check ((const uint8_t *) text, strlen (text));
  if (bad)
    text[bad - (const uint8_t *) text] = '\0';
}

void
at_ticket_view_destroy (at_ticket_view_t **self_p)
{
  at_ticket_view_t *self = *self_p;
  if (!self)
    return;
  for (size_t i = 0; i < self->message_count; i++) {
    free (self->messages[i].direction);
    free (self->messages[i].author);
    free (self->messages[i].body);
    free (self->messages[i].created_at);
    free (self->messages[i].agent);
    free (self->messages[i].channel);
  }
  free (self->messages);
  free (self->channel);
  free (self->status);
  free (self->intent);
  free (self->priority);
  free (self->language);
  free (self->created_at);
  free (self->first_response_due);
  free (self->first_response_at);
  free (self->resolved_at);
  free (self->priority_reason);
  free (self->handoff_reason);
  free (self->handoff_at);
  free (self);
  *self_p = NULL;
}

static void
s_ticket_fill (at_ticket_view_t *t, PGresult *res)
{
  t->id = s_int (res, 0, 0);
  t->customer_id = s_int (res, 0, 1);
  t->channel = s_text (res, 0, 2);
  t->status = s_text (res, 0, 3);
  t->intent = s_text (res, 0, 4);
  t->priority = s_text (res, 0, 5);
  t->language = s_text (res, 0, 6);
  t->auto_answered = strcmp (PQgetvalue (res, 0, 7), "t") == 0;
  t->created_at = s_text (res, 0, 8);
  t->first_response_due = s_text (res, 0, 9);
  t->first_response_at = s_text (res, 0, 10);
  t->resolved_at = s_text (res, 0, 11);
  t->intent_confidence = PQgetisnull (res, 0, 12) ? -1 : strtod (PQgetvalue (res, 0, 12), NULL);
  t->priority_reason = s_text (res, 0, 13);
  t->handoff_reason = s_text (res, 0, 14);
  t->handoff_at = s_text (res, 0, 15);
}

static void
s_messages_fill (at_ticket_view_t *t, PGresult *res)
{
  int rows = PQntuples (res);
  t->messages = at_calloc ((size_t) rows + 1, sizeof *t->messages);
  for (int r = 0; r < rows; r++) {
    at_ticket_message_view_t *m = &t->messages[t->message_count++];
    m->id = s_int (res, r, 0);
    m->direction = s_text (res, r, 1);
    m->author = s_text (res, r, 2);
    m->body = s_text (res, r, 3);
    m->created_at = s_text (res, r, 4);
    m->agent = s_text (res, r, 5);
    m->channel = s_text (res, r, 6);
  }
}

int
at_query_ticket (at_store_t *store, int64_t ticket_id, at_ticket_view_t **out)
{
  char id[24], limit[16];
  PGresult *res = NULL;
  at_ticket_view_t *t = NULL;
  snprintf (id, sizeof id, "%lld", (long long) ticket_id);
  snprintf (limit, sizeof limit, "%d", AT_QUERY_TICKET_MESSAGES_MAX);
  /* One snapshot for the ticket and its messages. */
  int rc = at_store_begin (store);
  if (rc != AT_OK)
    return rc;
  rc = at_store_q (store, &res, &SQL_TICKET, id);
  if (rc != AT_OK)
    goto out;
  if (PQntuples (res) == 0) {
    rc = AT_NOTFOUND;
    goto out;
  }
  t = at_calloc (1, sizeof *t);
  s_ticket_fill (t, res);
  PQclear (res);
  rc = at_store_q (store, &res, &SQL_TICKET_MESSAGES, id, limit);
  if (rc != AT_OK)
    goto out;
  s_messages_fill (t, res);
out:
  PQclear (res);
  if (rc == AT_OK)
    rc = at_store_commit (store);
  else
    at_store_rollback (store);
  if (rc == AT_OK) {
    *out = t;
    t = NULL;
  }
  at_ticket_view_destroy (&t);
  return rc;
}

int
at_query_ticket_exists (at_store_t *store, int64_t ticket_id)
{
  char id[24];
  PGresult *res = NULL;
  snprintf (id, sizeof id, "%lld", (long long) ticket_id);
  int rc = at_store_q (store, &res, &SQL_TICKET_EXISTS, id);
  if (rc == AT_OK && PQntuples (res) == 0)
    rc = AT_NOTFOUND;
  PQclear (res);
  return rc;
}

int
at_query_message_status (at_store_t *store, const char *id, at_message_status_t *out)
{
  PGresult *res = NULL;
  if (!at_uuid_valid (id))
    return AT_NOTFOUND;
  int rc = at_store_q (store, &res, &SQL_MESSAGE_STATUS, id);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) == 0) {
    PQclear (res);
    return AT_NOTFOUND;
  }
  memset (out, 0, sizeof *out);
  const char *state = PQgetvalue (res, 0, 0);
  out->state = strcmp (state, "processed") == 0 ? AT_BUS_STATE_PROCESSED
               : strcmp (state, "pending") == 0 ? AT_BUS_STATE_PENDING
                                                : AT_BUS_STATE_DEAD;
  out->ticket_id = s_int (res, 0, 1);
  at_strlcpy (out->reason, PQgetvalue (res, 0, 2), sizeof out->reason);
  s_utf8_trim (out->reason);
  PQclear (res);
  return AT_OK;
}

int
at_query_kpis (at_store_t *store, int64_t since_us, at_kpis_t *out)
{
  char since[24];
  PGresult *res = NULL;
  snprintf (since, sizeof since, "%lld", (long long) (since_us > 0 ? since_us : 0));
  int rc = at_store_q (store, &res, &SQL_KPIS, since);
  if (rc != AT_OK)
    return rc;
  int c = 0;
  out->tickets_opened = s_int (res, 0, c++);
  out->tickets_open = s_int (res, 0, c++);
  out->tickets_resolved = s_int (res, 0, c++);
  out->messages_inbound = s_int (res, 0, c++);
  out->messages_outbound = s_int (res, 0, c++);
  out->first_response_count = s_int (res, 0, c++);
  out->first_response_avg = s_real (res, 0, c++);
  out->first_response_p50 = s_real (res, 0, c++);
  out->first_response_p90 = s_real (res, 0, c++);
  out->resolution_avg = s_real (res, 0, c++);
  out->resolution_p50 = s_real (res, 0, c++);
  out->csat_responses = s_int (res, 0, c++);
  out->csat_average = s_real (res, 0, c++);
  out->csat_satisfied_share = s_real (res, 0, c++);
  out->auto_answered_share = s_real (res, 0, c++);
  out->notifications_delivered = s_int (res, 0, c++);
  out->notifications_pending = s_int (res, 0, c++);
  out->notifications_failed = s_int (res, 0, c++);
  out->orders_count = s_int (res, 0, c++);
  out->orders_delivered = s_int (res, 0, c++);
  PQclear (res);
  return AT_OK;
}

int
at_query_ping (at_store_t *store)
{
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_PING);
  PQclear (res);
  return rc;
}
