/* Self-service requests (table selfservice_request, migration 015) and the
 * order as the self-service flows read it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "at_store_selfservice.h"
#include "domain.pb-c.h"

#define S_OPEN "('requested', 'sent_to_store')"

/* The latest order by status_at, as at_store_ticket_latest_order picks it;
 * the window counts whole days in the store's time zone: delivered on the
 * 3rd with 7 days, a return may be opened until the end of the 10th. */
static const at_sql_t SQL_SS_ORDER = {"selfservice_order",
  "SELECT id, status, status_rank, delivered_at IS NOT NULL,"
  " coalesce((now() AT TIME ZONE $3)::date"
  "   <= (delivered_at AT TIME ZONE $3)::date + $2::int, false),"
  " coalesce(to_char((delivered_at AT TIME ZONE $3)::date + $2::int, 'YYYY-MM-DD'), ''),"
  " coalesce(payment_method, ''), coalesce(payment_code, ''),"
  " coalesce(to_char(payment_due, 'YYYY-MM-DD'), ''),"
  " coalesce(payment_due < (now() AT TIME ZONE $3)::date, false)"
  " FROM orders WHERE customer_id = $1"
  " ORDER BY status_at DESC, updated_at DESC LIMIT 1 FOR NO KEY UPDATE", 3};

static const at_sql_t SQL_SS_OPEN_FIND = {"selfservice_open_find",
  "SELECT id FROM selfservice_request WHERE order_id = $1 AND kind = $2"
  " AND state IN " S_OPEN, 2};

static const at_sql_t SQL_SS_INSERT = {"selfservice_insert",
  "INSERT INTO selfservice_request (id, kind, order_id, ticket_id, customer_id, locale, state,"
  " closed_at) VALUES ($1::uuid, $2, $3, $4, $5, $6, $7,"
  " CASE WHEN $7 IN " S_OPEN " THEN NULL ELSE now() END)"
  " ON CONFLICT (order_id, kind) WHERE state IN " S_OPEN " DO NOTHING RETURNING id", 7};

static const at_sql_t SQL_SS_CLAIM = {"selfservice_claim",
  "UPDATE selfservice_request SET attempts = attempts + (state = 'requested')::int,"
  " updated_at = now() WHERE id = $1::uuid"
  " RETURNING state, kind, order_id, ticket_id, customer_id,"
  " (extract(epoch FROM created_at) * 1000000)::bigint, attempts", 1};

static const at_sql_t SQL_SS_SENT = {"selfservice_sent",
  "UPDATE selfservice_request SET state = CASE WHEN state = 'requested' THEN 'sent_to_store'"
  " ELSE state END, http_status = $2::int, sent_at = coalesce(sent_at, now()),"
  " last_error = NULL, updated_at = now() WHERE id = $1::uuid", 2};

static const at_sql_t SQL_SS_ATTEMPT = {"selfservice_attempt_failed",
  "UPDATE selfservice_request SET http_status = $2::int, last_error = $3, updated_at = now()"
  " WHERE id = $1::uuid", 3};

static const at_sql_t SQL_SS_FAIL = {"selfservice_fail",
  "UPDATE selfservice_request SET state = 'failed', last_error = $2, closed_at = now(),"
  " updated_at = now() WHERE id = $1::uuid AND state IN " S_OPEN " RETURNING ticket_id", 2};

static const at_sql_t SQL_SS_CLOSE = {"selfservice_close",
  "UPDATE selfservice_request SET state = $3, closed_at = now(), updated_at = now()"
  " WHERE order_id = $1 AND kind = $2 AND state IN " S_OPEN
  " RETURNING id, ticket_id, locale", 3};

static bool
s_true (PGresult *res, int col)
{
  return strcmp (PQgetvalue (res, 0, col), "t") == 0;
}

int
at_store_selfservice_order (at_store_t *store, int64_t customer_id, long window_days,
                            const char *tz, at_selfservice_order_t *out)
{
  char customer[24], days[24];
  PGresult *res = NULL;
  memset (out, 0, sizeof *out);
  snprintf (customer, sizeof customer, "%" PRId64, customer_id);
  snprintf (days, sizeof days, "%ld", window_days);
  int rc = at_store_q (store, &res, &SQL_SS_ORDER, customer, days, tz);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) != 1) {
    PQclear (res);
    return AT_NOTFOUND;
  }
  at_strlcpy (out->id, PQgetvalue (res, 0, 0), sizeof out->id);
  at_strlcpy (out->status, PQgetvalue (res, 0, 1), sizeof out->status);
  out->rank = (int) strtol (PQgetvalue (res, 0, 2), NULL, 10);
  out->delivered = s_true (res, 3);
  out->in_window = s_true (res, 4);
  at_strlcpy (out->window_end, PQgetvalue (res, 0, 5), sizeof out->window_end);
  at_strlcpy (out->payment_method, PQgetvalue (res, 0, 6), sizeof out->payment_method);
  at_strlcpy (out->payment_code, PQgetvalue (res, 0, 7), sizeof out->payment_code);
  at_strlcpy (out->payment_due, PQgetvalue (res, 0, 8), sizeof out->payment_due);
  out->payment_expired = s_true (res, 9);
  PQclear (res);
  return AT_OK;
}

int
at_store_selfservice_open_find (at_store_t *store, const char *order_id, const char *kind,
                                char id_out[AT_ID_LEN])
{
  PGresult *res = NULL;
  id_out[0] = 0;
  int rc = at_store_q (store, &res, &SQL_SS_OPEN_FIND, order_id, kind);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) >= 1)
    at_strlcpy (id_out, PQgetvalue (res, 0, 0), AT_ID_LEN);
  PQclear (res);
  return AT_OK;
}

int
at_store_selfservice_insert (at_store_t *store, const at_selfservice_new_t *r,
                             char id_out[AT_ID_LEN])
{
  char ticket[24], customer[24];
  PGresult *res = NULL;
  snprintf (ticket, sizeof ticket, "%" PRId64, r->ticket_id);
  snprintf (customer, sizeof customer, "%" PRId64, r->customer_id);
  at_uuid_v7 (id_out);
  int rc = at_store_q (store, &res, &SQL_SS_INSERT, id_out, r->kind, r->order_id, ticket,
                       customer, r->locale, r->state);
  if (rc != AT_OK)
    return rc;
  rc = PQntuples (res) == 1 ? AT_OK : AT_CONFLICT;
  PQclear (res);
  return rc;
}

int
at_store_selfservice_claim (at_store_t *store, const char *id, at_selfservice_claim_t *out)
{
  PGresult *res = NULL;
  memset (out, 0, sizeof *out);
  int rc = at_store_q (store, &res, &SQL_SS_CLAIM, id);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) != 1) {
    PQclear (res);
    return AT_NOTFOUND;
  }
  at_strlcpy (out->state, PQgetvalue (res, 0, 0), sizeof out->state);
  at_strlcpy (out->kind, PQgetvalue (res, 0, 1), sizeof out->kind);
  at_strlcpy (out->order_id, PQgetvalue (res, 0, 2), sizeof out->order_id);
  out->ticket_id = strtoll (PQgetvalue (res, 0, 3), NULL, 10);
  out->customer_id = strtoll (PQgetvalue (res, 0, 4), NULL, 10);
  out->created_us = strtoll (PQgetvalue (res, 0, 5), NULL, 10);
  out->attempts = (int) strtol (PQgetvalue (res, 0, 6), NULL, 10);
  PQclear (res);
  return AT_OK;
}

int
at_store_selfservice_sent (at_store_t *store, const char *id, long http_status)
{
  char status[24];
  snprintf (status, sizeof status, "%ld", http_status);
  return at_store_do (store, &SQL_SS_SENT, id, status);
}

int
at_store_selfservice_attempt_failed (at_store_t *store, const char *id, long http_status,
                                     const char *error)
{
  char status[24];
  snprintf (status, sizeof status, "%ld", http_status);
  return at_store_do (store, &SQL_SS_ATTEMPT, id, http_status > 0 ? status : NULL,
                      error ? error : "");
}

int
at_store_selfservice_fail (at_store_t *store, const char *id, const char *reason,
                           int64_t *ticket_id_out)
{
  PGresult *res = NULL;
  *ticket_id_out = 0;
  int rc = at_store_q (store, &res, &SQL_SS_FAIL, id, reason);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) == 1)
    *ticket_id_out = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
  PQclear (res);
  return AT_OK;
}

int
at_store_selfservice_close (at_store_t *store, const char *order_id, const char *kind,
                            const char *state, at_selfservice_closed_t *out)
{
  PGresult *res = NULL;
  memset (out, 0, sizeof *out);
  int rc = at_store_q (store, &res, &SQL_SS_CLOSE, order_id, kind, state);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) >= 1) {
    out->closed = true;
    at_strlcpy (out->id, PQgetvalue (res, 0, 0), sizeof out->id);
    out->ticket_id = strtoll (PQgetvalue (res, 0, 1), NULL, 10);
    at_strlcpy (out->locale, PQgetvalue (res, 0, 2), sizeof out->locale);
  }
  PQclear (res);
  return AT_OK;
}

at_msg_t *
at_selfservice_request_msg (const char *request_id, const char *trace_id)
{
  char key[AT_KEY_LEN];
  uint8_t buf[128];
  if (!request_id || !at_uuid_valid (request_id))
    return NULL;
  Atende__StoreRequest pb = ATENDE__STORE_REQUEST__INIT;
  pb.request_id = (char *) request_id;
  size_t len = atende__store_request__get_packed_size (&pb);
  if (len > sizeof buf)
    return NULL;
  atende__store_request__pack (&pb, buf);
  snprintf (key, sizeof key, "selfservice:%s", request_id);
  return at_msg_new (AT_STAGE_NOTIFY, AT_TYPE_STORE_REQUEST, key, trace_id, buf, len);
}

int
at_selfservice_request_decode (const at_msg_t *msg, char id_out[AT_ID_LEN])
{
  id_out[0] = 0;
  Atende__StoreRequest *pb = atende__store_request__unpack (NULL, msg->payload_len,
                                                            msg->payload);
  int rc = pb && at_uuid_valid (pb->request_id) ? AT_OK : AT_INVALID;
  if (rc == AT_OK)
    at_strlcpy (id_out, pb->request_id, AT_ID_LEN);
  if (pb)
    atende__store_request__free_unpacked (pb, NULL);
  return rc;
}
