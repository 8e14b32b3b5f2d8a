/* Outgoing notifications in the store: creation (route, survey, notify) and
 * the delivery records notify writes around each provider call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include "at_notification.h"
#include "at_webhook.h"
#include "at_customer.h"
#include "at_channel.h"
#include "at_log.h"
#include "domain.pb-c.h"

#define S_COMP "notification"

static const at_sql_t SQL_NOTIFICATION_INSERT = {"notification_insert",
  "INSERT INTO notification (id, customer_id, ticket_id, order_id, kind, channel, recipient, body)"
  " VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8)", 8};

static const at_sql_t SQL_NOTIFICATION_TICKET = {"notification_ticket",
  "SELECT customer_id, channel FROM ticket WHERE id = $1", 1};

static const at_sql_t SQL_NOTIFICATION_LOCK = {"notification_lock",
  "SELECT status, kind, channel, recipient, body, order_id, coalesce(ticket_id, 0),"
  " (extract(epoch FROM created_at) * 1000000)::bigint"
  " FROM notification WHERE id = $1::uuid FOR UPDATE", 1};

static const at_sql_t SQL_NOTIFICATION_SENDING = {"notification_sending",
  "UPDATE notification SET status = 'sending', attempts = attempts + 1, sending_at = now()"
  " WHERE id = $1::uuid RETURNING attempts", 1};

static const at_sql_t SQL_NOTIFICATION_RESULT = {"notification_result",
  "UPDATE notification SET status = $2, http_status = $3::int, last_error = $4,"
  " delivered_at = CASE WHEN $2 = 'delivered' THEN now() ELSE delivered_at END"
  " WHERE id = $1::uuid AND status <> 'delivered'", 4};

int
at_store_notification_create (at_store_t *store, const at_notification_t *n,
                              char id_out[AT_ID_LEN])
{
  char id[AT_ID_LEN], customer[24], ticket[24];
  id_out[0] = 0;
  if (!n || !n->kind || !n->channel || !n->recipient || !*n->recipient || !n->body)
    return AT_INVALID;
  at_uuid_v7 (id);
  snprintf (customer, sizeof customer, "%" PRId64, n->customer_id);
  snprintf (ticket, sizeof ticket, "%" PRId64, n->ticket_id);
  int rc = at_store_do (store, &SQL_NOTIFICATION_INSERT, id,
                        n->customer_id > 0 ? customer : NULL, n->ticket_id > 0 ? ticket : NULL,
                        n->order_id && *n->order_id ? n->order_id : NULL, n->kind, n->channel,
                        n->recipient, n->body);
  if (rc == AT_OK)
    memcpy (id_out, id, AT_ID_LEN);
  return rc;
}

int
at_store_notification_for_ticket (at_store_t *store, int64_t ticket_id, const char *kind,
                                  const char *body, char id_out[AT_ID_LEN])
{
  char ticket[24], channel[32], recipient[AT_HANDLE_MAX + 1];
  PGresult *res = NULL;
  id_out[0] = 0;
  snprintf (ticket, sizeof ticket, "%" PRId64, ticket_id);
  int rc = at_store_q (store, &res, &SQL_NOTIFICATION_TICKET, ticket);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) != 1) {
    PQclear (res);
    return AT_NOTFOUND;
  }
  int64_t customer_id = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
  at_strlcpy (channel, PQgetvalue (res, 0, 1), sizeof channel);
  PQclear (res);
  rc = at_store_customer_handle (store, customer_id, channel, recipient, sizeof recipient);
  if (rc != AT_OK)
    return rc;
  at_notification_t n = {.kind = kind, .customer_id = customer_id, .ticket_id = ticket_id,
                         .channel = channel, .recipient = recipient, .body = body};
  return at_store_notification_create (store, &n, id_out);
}

at_msg_t *
at_notification_send_msg (const char *notification_id, const char *trace_id)
{
  char key[AT_KEY_LEN];
  if (!notification_id || !at_uuid_valid (notification_id))
    return NULL;
  Atende__NotificationSend pb = ATENDE__NOTIFICATION_SEND__INIT;
  pb.notification_id = (char *) notification_id;
  uint8_t buf[128];
  size_t len = atende__notification_send__get_packed_size (&pb);
  if (len > sizeof buf)
    return NULL;
  atende__notification_send__pack (&pb, buf);
  snprintf (key, sizeof key, "notification:%s", notification_id);
  return at_msg_new (AT_STAGE_NOTIFY, AT_TYPE_NOTIFICATION_SEND, key, trace_id, buf, len);
}

/* --- delivery records --------------------------------------------------- */

int
at_store_notification_begin_send (at_store_t *store, const char *id, at_notification_job_t *job)
{
  PGresult *res = NULL;
  memset (job, 0, sizeof *job);
  if (!id || !at_uuid_valid (id))
    return AT_NOTFOUND;
  int rc = at_store_q (store, &res, &SQL_NOTIFICATION_LOCK, id);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) != 1)
    rc = AT_NOTFOUND;
  else if (strcmp (PQgetvalue (res, 0, 0), "delivered") == 0)
    rc = AT_CONFLICT;
  if (rc != AT_OK)
    goto out;
  at_strlcpy (job->id, id, sizeof job->id);
  at_strlcpy (job->kind, PQgetvalue (res, 0, 1), sizeof job->kind);
  at_strlcpy (job->channel, PQgetvalue (res, 0, 2), sizeof job->channel);
  job->recipient = at_strdup (PQgetvalue (res, 0, 3));
  job->body = at_strdup (PQgetvalue (res, 0, 4));
  job->order_id = PQgetisnull (res, 0, 5) ? NULL : at_strdup (PQgetvalue (res, 0, 5));
  job->ticket_id = strtoll (PQgetvalue (res, 0, 6), NULL, 10);
  job->created_us = strtoll (PQgetvalue (res, 0, 7), NULL, 10);
  PQclear (res);
  res = NULL;
  rc = at_store_q (store, &res, &SQL_NOTIFICATION_SENDING, id);
  if (rc == AT_OK && PQntuples (res) == 1)
    job->attempts = (int) strtol (PQgetvalue (res, 0, 0), NULL, 10);
  if (rc != AT_OK)
    at_notification_job_clear (job);
out:
  PQclear (res);
  return rc;
}

int
at_store_notification_end_send (at_store_t *store, const char *id, int outcome,
                                long http_status, const char *error)
{
  char status_text[16];
  const char *status = outcome == AT_OK ? "delivered" : outcome == AT_INVALID ? "failed"
                                                                              : "pending";
  snprintf (status_text, sizeof status_text, "%ld", http_status);
  return at_store_do (store, &SQL_NOTIFICATION_RESULT, id, status,
                      http_status > 0 ? status_text : NULL,
                      outcome != AT_OK && error && *error ? error : NULL);
}

void
at_notification_job_clear (at_notification_job_t *job)
{
  if (!job)
    return;
  free (job->recipient);
  free (job->body);
  free (job->order_id);
  memset (job, 0, sizeof *job);
}
