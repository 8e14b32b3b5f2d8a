/* Surveys in the store: one csat survey per resolved ticket, one answer per
 * survey. */
#include <stdio.h>
#include <string.h>
#include <inttypes.h>
#include "at_store_survey.h"
#include "at_log.h"

static const at_sql_t SQL_SURVEY_STATUS = {"survey_status",
  "SELECT s.kind, a.survey_id IS NOT NULL FROM survey s"
  " LEFT JOIN survey_answer a ON a.survey_id = s.id WHERE s.id = $1::uuid", 1};

static const at_sql_t SQL_SURVEY_TICKET = {"survey_ticket",
  "SELECT t.customer_id, c.locale, s.id FROM ticket t JOIN customer c ON c.id = t.customer_id"
  " LEFT JOIN survey s ON s.ticket_id = t.id WHERE t.id = $1", 1};

static const at_sql_t SQL_SURVEY_INSERT = {"survey_insert",
  "INSERT INTO survey (id, kind, ticket_id, customer_id) VALUES ($1::uuid, 'csat', $2, $3)"
  " ON CONFLICT (ticket_id) DO NOTHING RETURNING id", 3};

static const at_sql_t SQL_SURVEY_ANSWER = {"survey_answer",
  "INSERT INTO survey_answer (survey_id, score, comment) VALUES ($1::uuid, $2, $3)"
  " ON CONFLICT (survey_id) DO NOTHING RETURNING survey_id", 3};

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
at_store_survey_create_for_ticket (at_store_t *store, int64_t ticket_id, char id_out[AT_ID_LEN],
                                   bool *created_out, char locale_out[8])
{
  char ticket[24], customer[24], id[AT_ID_LEN];
  PGresult *res = NULL;
  id_out[0] = 0;
  locale_out[0] = 0;
  *created_out = false;
  snprintf (ticket, sizeof ticket, "%" PRId64, ticket_id);
  int rc = at_store_q (store, &res, &SQL_SURVEY_TICKET, ticket);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) != 1) {
    rc = AT_NOTFOUND;
    goto out;
  }
  at_strlcpy (customer, PQgetvalue (res, 0, 0), sizeof customer);
  at_strlcpy (locale_out, PQgetvalue (res, 0, 1), 8);
  if (!PQgetisnull (res, 0, 2)) {          /* the ticket has its survey already */
    at_strlcpy (id_out, PQgetvalue (res, 0, 2), AT_ID_LEN);
    goto out;
  }
  PQclear (res);
  res = NULL;
  at_uuid_v7 (id);
  rc = at_store_q (store, &res, &SQL_SURVEY_INSERT, id, ticket, customer);
  if (rc == AT_OK && PQntuples (res) == 1) {
    memcpy (id_out, id, AT_ID_LEN);
    *created_out = true;
  } else if (rc == AT_OK) {
    rc = AT_AGAIN;                         /* created meanwhile: read it on retry */
  }
out:
  PQclear (res);
  return rc;
}

int
at_store_survey_answer (at_store_t *store, const char *survey_id, int score,
                        const char *comment, bool *recorded_out)
{
  char kind[8], score_text[16];
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
  rc = at_store_q (store, &res, &SQL_SURVEY_ANSWER, survey_id, score_text,
                   comment && *comment ? comment : NULL);
  if (rc != AT_OK)
    return rc;
  *recorded_out = PQntuples (res) == 1;
  PQclear (res);
  return AT_OK;
}
