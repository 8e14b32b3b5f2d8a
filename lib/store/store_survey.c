/* Surveys in the store: the policy (one per customer per period, none while
 * one is pending), the survey rows sent or skipped, answers once, one
 * reminder, one follow-up ticket. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include "at_store_survey.h"
#include "at_log.h"
#include "domain.pb-c.h"

#define S_LOCK_CLASS "7018"   /* advisory lock namespace: survey policy per customer */

static const at_sql_t SQL_SURVEY_STATUS = {"survey_status",
  "SELECT s.kind, a.survey_id IS NOT NULL FROM survey s"
  " LEFT JOIN survey_answer a ON a.survey_id = s.id WHERE s.id = $1::uuid", 1};

static const at_sql_t SQL_SURVEY_TICKET = {"survey_ticket",
  "SELECT t.customer_id, t.channel, c.locale, s.id IS NOT NULL FROM ticket t"
  " JOIN customer c ON c.id = t.customer_id"
  " LEFT JOIN survey s ON s.ticket_id = t.id WHERE t.id = $1", 1};

static const at_sql_t SQL_SURVEY_ORDER = {"survey_order",
  "SELECT c.locale, EXISTS (SELECT 1 FROM survey s WHERE s.order_id = $1)"
  " FROM customer c WHERE c.id = $2", 2};

static const at_sql_t SQL_SURVEY_LOCK = {"survey_lock",
  "SELECT pg_advisory_xact_lock (" S_LOCK_CLASS ", ($1::int8 % 2147483647)::int4)", 1};

static const at_sql_t SQL_SURVEY_POLICY = {"survey_policy",
  "SELECT CASE"
  " WHEN EXISTS (SELECT 1 FROM survey s WHERE s.customer_id = $1 AND s.status = 'sent'"
  "   AND s.expires_at > now ()"
  "   AND NOT EXISTS (SELECT 1 FROM survey_answer a WHERE a.survey_id = s.id)) THEN 'pending'"
  " WHEN $2::int > 0 AND EXISTS (SELECT 1 FROM survey s WHERE s.customer_id = $1"
  "   AND s.status = 'sent' AND s.created_at > now () - $2::int * interval '1 day')"
  "   THEN 'period'"
  " ELSE '' END", 2};

static const at_sql_t SQL_SURVEY_CREATE = {"survey_create",
  "INSERT INTO survey (id, kind, ticket_id, order_id, customer_id, channel, locale, status,"
  " skip_reason, expires_at) VALUES ($1::uuid, $2, $3::int8, $4, $5, $6, $7,"
  " CASE WHEN $8::text IS NULL THEN 'sent' ELSE 'skipped' END, $8,"
  " CASE WHEN $8::text IS NULL THEN now () + $9::int8 * interval '1 second' END)"
  " ON CONFLICT DO NOTHING RETURNING id", 9};

static const at_sql_t SQL_SURVEY_SENT = {"survey_sent",
  "UPDATE survey SET notification_id = $2::uuid WHERE id = $1::uuid", 2};

static const at_sql_t SQL_SURVEY_KIND_OF = {"survey_kind_of_notification",
  "SELECT kind FROM survey WHERE notification_id = $1::uuid"
  " UNION ALL SELECT kind FROM survey WHERE reminder_notification_id = $1::uuid LIMIT 1", 1};

static const at_sql_t SQL_SURVEY_ANSWER = {"survey_answer",
  "INSERT INTO survey_answer (survey_id, score, comment, source, message_id)"
  " VALUES ($1::uuid, $2, $3, $4, $5::int8)"
  " ON CONFLICT (survey_id) DO NOTHING RETURNING survey_id", 5};

static const at_sql_t SQL_SURVEY_REMIND = {"survey_remind_claim",
  "UPDATE survey s SET reminded_at = now () FROM notification n"
  " WHERE s.id = $1::uuid AND n.id = s.notification_id AND s.status = 'sent'"
  " AND s.reminded_at IS NULL AND s.expires_at > now ()"
  " AND NOT EXISTS (SELECT 1 FROM survey_answer a WHERE a.survey_id = s.id)"
  " RETURNING s.kind, coalesce (s.locale, ''), n.channel, n.recipient, coalesce (s.order_id, ''),"
  " s.customer_id, coalesce (s.ticket_id, 0)", 1};

static const at_sql_t SQL_SURVEY_REMINDED = {"survey_reminded",
  "UPDATE survey SET reminder_notification_id = $2::uuid WHERE id = $1::uuid", 2};

static const at_sql_t SQL_SURVEY_WAITING = {"survey_waiting",
  "SELECT s.id, s.kind, coalesce (s.locale, ''), a.survey_id IS NOT NULL, coalesce (a.score, -1)"
  " FROM survey s JOIN notification n ON n.id = s.notification_id"
  " LEFT JOIN survey_answer a ON a.survey_id = s.id"
  " WHERE s.customer_id = $1 AND s.status = 'sent' AND n.channel = $2"
  " AND ((a.survey_id IS NULL AND s.expires_at > now ())"
  "   OR a.created_at > now () - $3::int8 * interval '1 second')"
  " ORDER BY s.created_at DESC LIMIT 1", 3};

static const at_sql_t SQL_SURVEY_FOLLOWUP = {"survey_followup_open",
  "WITH s AS (SELECT id, customer_id, coalesce (channel, 'email') AS channel FROM survey"
  "   WHERE id = $1::uuid AND followup_ticket_id IS NULL FOR UPDATE),"
  " t AS (INSERT INTO ticket (customer_id, channel, subject, status)"
  "   SELECT customer_id, channel, $2, 'open' FROM s RETURNING id, customer_id, channel),"
  " m AS (INSERT INTO ticket_message (ticket_id, direction, author, channel, body)"
  "   SELECT id, 'in', 'bot', channel, $3 FROM t RETURNING id, ticket_id),"
  " u AS (UPDATE survey SET followup_ticket_id = m.ticket_id, followup_message_id = m.id"
  "   FROM m WHERE survey.id = $1::uuid)"
  " SELECT t.id, m.id, t.customer_id, t.channel FROM t JOIN m ON m.ticket_id = t.id", 3};

static const at_sql_t SQL_SURVEY_FOLLOWUP_OF = {"survey_followup_of",
  "SELECT s.kind, coalesce (a.score, -1), coalesce (s.locale, '') FROM survey s"
  " LEFT JOIN survey_answer a ON a.survey_id = s.id"
  " WHERE s.followup_ticket_id = $1 AND s.followup_message_id = $2", 2};

bool
at_survey_score_valid (const char *kind, int score)
{
  if (kind && strcmp (kind, "csat") == 0)
    return score >= 1 && score <= 5;
  if (kind && strcmp (kind, "nps") == 0)
    return score >= 0 && score <= 10;
  return false;
}

int
at_store_survey_status (at_store_t *store, const char *survey_id, char kind_out[8],
                        bool *answered_out)
{
  PGresult *res = NULL;
  kind_out[0] = 0;
  *answered_out = false;
  if (!survey_id || !at_uuid_valid (survey_id))
    return AT_NOTFOUND;
  int rc = at_store_q (store, &res, &SQL_SURVEY_STATUS, survey_id);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) != 1)
    rc = AT_NOTFOUND;
  else {
    at_strlcpy (kind_out, PQgetvalue (res, 0, 0), 8);
    *answered_out = strcmp (PQgetvalue (res, 0, 1), "t") == 0;
  }
  PQclear (res);
  return rc;
}

int
at_store_survey_ticket (at_store_t *store, int64_t ticket_id, at_survey_ticket_t *out)
{
  char ticket[24];
  PGresult *res = NULL;
  memset (out, 0, sizeof *out);
  snprintf (ticket, sizeof ticket, "%" PRId64, ticket_id);
  int rc = at_store_q (store, &res, &SQL_SURVEY_TICKET, ticket);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) != 1)
    rc = AT_NOTFOUND;
  else {
    out->customer_id = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    at_strlcpy (out->channel, PQgetvalue (res, 0, 1), sizeof out->channel);
    at_strlcpy (out->locale, PQgetvalue (res, 0, 2), sizeof out->locale);
    out->exists = strcmp (PQgetvalue (res, 0, 3), "t") == 0;
  }
  PQclear (res);
  return rc;
}

int
at_store_survey_order (at_store_t *store, const char *order_id, int64_t customer_id,
                       char locale_out[8], bool *exists_out)
{
  char customer[24];
  PGresult *res = NULL;
  locale_out[0] = 0;
  *exists_out = false;
  snprintf (customer, sizeof customer, "%" PRId64, customer_id);
  int rc = at_store_q (store, &res, &SQL_SURVEY_ORDER, order_id, customer);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) != 1)
    rc = AT_NOTFOUND;
  else {
    at_strlcpy (locale_out, PQgetvalue (res, 0, 0), 8);
    *exists_out = strcmp (PQgetvalue (res, 0, 1), "t") == 0;
  }
  PQclear (res);
  return rc;
}

int
at_store_survey_policy (at_store_t *store, int64_t customer_id, long period_days,
                        char reason_out[16])
{
  char customer[24], period[24];
  PGresult *res = NULL;
  reason_out[0] = 0;
  snprintf (customer, sizeof customer, "%" PRId64, customer_id);
  snprintf (period, sizeof period, "%ld", period_days);
  int rc = at_store_do (store, &SQL_SURVEY_LOCK, customer);
  if (rc == AT_OK)
    rc = at_store_q (store, &res, &SQL_SURVEY_POLICY, customer, period);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) == 1)
    at_strlcpy (reason_out, PQgetvalue (res, 0, 0), 16);
  PQclear (res);
  return AT_OK;
}

int
at_store_survey_create (at_store_t *store, const at_survey_new_t *s, char id_out[AT_ID_LEN],
                        bool *created_out)
{
  char id[AT_ID_LEN], ticket[24], customer[24], expires[24];
  PGresult *res = NULL;
  *created_out = false;
  id_out[0] = 0;
  at_uuid_v7 (id);
  snprintf (ticket, sizeof ticket, "%" PRId64, s->ticket_id);
  snprintf (customer, sizeof customer, "%" PRId64, s->customer_id);
  snprintf (expires, sizeof expires, "%ld", s->expires_s);
  const char *skip = s->skip_reason && *s->skip_reason ? s->skip_reason : NULL;
  int rc = at_store_q (store, &res, &SQL_SURVEY_CREATE, id, s->kind,
                       s->ticket_id > 0 ? ticket : NULL, s->order_id, customer, s->channel,
                       s->locale, skip, expires);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) == 1) {
    memcpy (id_out, id, AT_ID_LEN);
    *created_out = true;
  }
  PQclear (res);
  return AT_OK;
}

int
at_store_survey_sent (at_store_t *store, const char *survey_id, const char *notification_id)
{
  return at_store_do (store, &SQL_SURVEY_SENT, survey_id, notification_id);
}

int
at_store_survey_kind_of_notification (at_store_t *store, const char *notification_id,
                                      char kind_out[8])
{
  PGresult *res = NULL;
  kind_out[0] = 0;
  if (!notification_id || !at_uuid_valid (notification_id))
    return AT_NOTFOUND;
  int rc = at_store_q (store, &res, &SQL_SURVEY_KIND_OF, notification_id);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) < 1)
    rc = AT_NOTFOUND;
  else
    at_strlcpy (kind_out, PQgetvalue (res, 0, 0), 8);
  PQclear (res);
  return rc;
}

int
at_store_survey_answer_from (at_store_t *store, const char *survey_id, int score,
                             const char *comment, const char *source, int64_t message_id,
                             bool *recorded_out)
{
  char kind[8], score_text[16], message[24];
  bool answered = false;
  PGresult *res = NULL;
  *recorded_out = false;
  int rc = at_store_survey_status (store, survey_id, kind, &answered);
  if (rc != AT_OK)
    return rc;
  if (!at_survey_score_valid (kind, score))
    return AT_INVALID;
  if (answered)
    return AT_OK;
  snprintf (score_text, sizeof score_text, "%d", score);
  snprintf (message, sizeof message, "%" PRId64, message_id);
  rc = at_store_q (store, &res, &SQL_SURVEY_ANSWER, survey_id, score_text,
                   comment && *comment ? comment : NULL, source ? source : "link",
                   message_id > 0 ? message : NULL);
  if (rc != AT_OK)
    return rc;
  *recorded_out = PQntuples (res) == 1;
  PQclear (res);
  return AT_OK;
}

int
at_store_survey_answer (at_store_t *store, const char *survey_id, int score,
                        const char *comment, bool *recorded_out)
{
  return at_store_survey_answer_from (store, survey_id, score, comment, "link", 0, recorded_out);
}

int
at_store_survey_remind_claim (at_store_t *store, const char *survey_id, bool *due_out,
                              at_survey_remind_t *out)
{
  PGresult *res = NULL;
  *due_out = false;
  memset (out, 0, sizeof *out);
  if (!survey_id || !at_uuid_valid (survey_id))
    return AT_NOTFOUND;
  int rc = at_store_q (store, &res, &SQL_SURVEY_REMIND, survey_id);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) == 1) {
    *due_out = true;
    at_strlcpy (out->kind, PQgetvalue (res, 0, 0), sizeof out->kind);
    at_strlcpy (out->locale, PQgetvalue (res, 0, 1), sizeof out->locale);
    at_strlcpy (out->channel, PQgetvalue (res, 0, 2), sizeof out->channel);
    at_strlcpy (out->recipient, PQgetvalue (res, 0, 3), sizeof out->recipient);
    at_strlcpy (out->order_id, PQgetvalue (res, 0, 4), sizeof out->order_id);
    out->customer_id = strtoll (PQgetvalue (res, 0, 5), NULL, 10);
    out->ticket_id = strtoll (PQgetvalue (res, 0, 6), NULL, 10);
  }
  PQclear (res);
  return AT_OK;
}

int
at_store_survey_reminded (at_store_t *store, const char *survey_id, const char *notification_id)
{
  return at_store_do (store, &SQL_SURVEY_REMINDED, survey_id, notification_id);
}

int
at_store_survey_waiting (at_store_t *store, int64_t customer_id, const char *channel,
                         long expire_s, at_survey_waiting_t *out)
{
  char customer[24], expire[24];
  PGresult *res = NULL;
  memset (out, 0, sizeof *out);
  snprintf (customer, sizeof customer, "%" PRId64, customer_id);
  snprintf (expire, sizeof expire, "%ld", expire_s);
  int rc = at_store_q (store, &res, &SQL_SURVEY_WAITING, customer, channel, expire);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) != 1)
    rc = AT_NOTFOUND;
  else {
    at_strlcpy (out->id, PQgetvalue (res, 0, 0), sizeof out->id);
    at_strlcpy (out->kind, PQgetvalue (res, 0, 1), sizeof out->kind);
    at_strlcpy (out->locale, PQgetvalue (res, 0, 2), sizeof out->locale);
    out->answered = strcmp (PQgetvalue (res, 0, 3), "t") == 0;
    out->score = (int) strtol (PQgetvalue (res, 0, 4), NULL, 10);
  }
  PQclear (res);
  return rc;
}

int
at_store_survey_followup_open (at_store_t *store, const char *survey_id, const char *subject,
                               const char *body, bool *created_out, at_survey_followup_t *out)
{
  PGresult *res = NULL;
  *created_out = false;
  memset (out, 0, sizeof *out);
  int rc = at_store_q (store, &res, &SQL_SURVEY_FOLLOWUP, survey_id, subject, body);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) == 1) {
    *created_out = true;
    out->ticket_id = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    out->message_id = strtoll (PQgetvalue (res, 0, 1), NULL, 10);
    out->customer_id = strtoll (PQgetvalue (res, 0, 2), NULL, 10);
    at_strlcpy (out->channel, PQgetvalue (res, 0, 3), sizeof out->channel);
  }
  PQclear (res);
  return AT_OK;
}

int
at_store_survey_followup_of (at_store_t *store, int64_t ticket_id, int64_t message_id,
                             bool *found_out, char kind_out[8], int *score_out,
                             char locale_out[8])
{
  char ticket[24], message[24];
  PGresult *res = NULL;
  *found_out = false;
  kind_out[0] = locale_out[0] = 0;
  *score_out = -1;
  snprintf (ticket, sizeof ticket, "%" PRId64, ticket_id);
  snprintf (message, sizeof message, "%" PRId64, message_id);
  int rc = at_store_q (store, &res, &SQL_SURVEY_FOLLOWUP_OF, ticket, message);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) == 1) {
    *found_out = true;
    at_strlcpy (kind_out, PQgetvalue (res, 0, 0), 8);
    *score_out = (int) strtol (PQgetvalue (res, 0, 1), NULL, 10);
    at_strlcpy (locale_out, PQgetvalue (res, 0, 2), 8);
  }
  PQclear (res);
  return AT_OK;
}

at_msg_t *
at_survey_nps_msg (const char *order_id, int64_t customer_id, const char *channel,
                   const char *handle, int64_t due_us, const char *trace_id)
{
  Atende__SurveyNps n = ATENDE__SURVEY_NPS__INIT;
  n.order_id = (char *) order_id;
  n.customer_id = customer_id;
  n.channel = (char *) channel;
  n.handle = (char *) handle;
  size_t len = atende__survey_nps__get_packed_size (&n);
  uint8_t *payload = at_malloc (len + 1);
  atende__survey_nps__pack (&n, payload);
  char key[AT_KEY_LEN];
  snprintf (key, sizeof key, "order:%s", order_id);
  at_msg_t *msg = at_msg_new (AT_STAGE_SURVEY, AT_TYPE_SURVEY_NPS, key, trace_id, payload, len);
  free (payload);
  if (msg)
    msg->not_before_us = due_us;
  return msg;
}
