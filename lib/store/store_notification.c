/* Outgoing notifications in the store: creation (route, survey, notify) and
 * the delivery records notify writes around each provider call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include "at_store_notification.h"
#include "at_store_customer.h"
#include "at_channel.h"
#include "at_log.h"
#include "domain.pb-c.h"

#define S_COMP "notification"

static const at_sql_t SQL_NOTIFICATION_INSERT = {"notification_insert",
  "INSERT INTO notification (id, customer_id, ticket_id, order_id, kind, channel, recipient, body)"
  " VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8)", 8};

static const at_sql_t SQL_NOTIFICATION_TICKET = {"notification_ticket",
  "SELECT customer_id, channel FROM ticket WHERE id = $1", 1};

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

/* --- channel choice and delivery records -------------------------------- */

/* $1 ids (uuid[]), $2 store time zone, $3 quiet start hour, $4 quiet end
 * hour (-1: none), $5 cap window minutes, $6 urgent window minutes. Rows are
 * locked in id order (no deadlock between workers). Local time is computed
 * by PostgreSQL in the customer's zone (valid by a CHECK, migration 006). */
static const at_sql_t SQL_NOTIFICATION_CONTEXT = {"notification_context",
  "WITH n AS (SELECT * FROM notification WHERE id = ANY ($1::uuid[]) ORDER BY id FOR UPDATE)"
  " SELECT n.id::text, n.status, n.kind, n.channel, n.recipient, n.body, n.order_id,"
  "  coalesce (n.ticket_id, 0), (extract (epoch FROM n.created_at) * 1000000)::int8,"
  "  n.attempts, coalesce (n.customer_id, 0), coalesce (c.preferred_channel, ''),"
  "  coalesce (c.locale, ''), array_to_string (n.failed_channels, ','),"
  "  coalesce ((SELECT json_object_agg (i.kind, i.value)::text FROM (SELECT DISTINCT ON (kind)"
  "     kind, value FROM identity WHERE customer_id = n.customer_id ORDER BY kind, id DESC) i),"
  "     '{}'),"
  "  coalesce ((SELECT max (tm.created_at) FROM ticket_message tm JOIN ticket t"
  "     ON t.id = tm.ticket_id WHERE t.customer_id = n.customer_id AND tm.direction = 'in'"
  "     AND tm.channel = 'whatsapp') > now () - interval '24 hours', false),"
  "  coalesce ((SELECT max (tm.created_at) FROM ticket_message tm JOIN ticket t"
  "     ON t.id = tm.ticket_id WHERE t.customer_id = n.customer_id AND tm.direction = 'in')"
  "     > now () - $6::int * interval '1 minute', false),"
  "  $3::int >= 0 AND CASE WHEN $3::int > $4::int THEN h.hour >= $3::int OR h.hour < $4::int"
  "                        ELSE h.hour >= $3::int AND h.hour < $4::int END,"
  "  CASE WHEN $4::int < 0 THEN 0 ELSE (extract (epoch FROM"
  "    ((date_trunc ('day', l.ts) + CASE WHEN h.hour >= $4::int THEN interval '1 day'"
  "      ELSE interval '0' END + $4::int * interval '1 hour') AT TIME ZONE z.tz))"
  "    * 1000000)::int8 END,"
  "  (SELECT count (*) FROM notification o WHERE o.customer_id = n.customer_id"
  "     AND o.id <> n.id AND o.kind IN ('order_status', 'survey')"
  "     AND o.sending_at > now () - $5::int * interval '1 minute'),"
  "  coalesce ((SELECT (extract (epoch FROM min (o.sending_at) + $5::int * interval '1 minute')"
  "     * 1000000)::int8 FROM notification o WHERE o.customer_id = n.customer_id"
  "     AND o.id <> n.id AND o.kind IN ('order_status', 'survey')"
  "     AND o.sending_at > now () - $5::int * interval '1 minute'), 0)"
  " FROM n LEFT JOIN customer c ON c.id = n.customer_id"
  " CROSS JOIN LATERAL (SELECT coalesce (nullif (c.timezone, ''), $2) AS tz) z"
  " CROSS JOIN LATERAL (SELECT now () AT TIME ZONE z.tz AS ts) l"
  " CROSS JOIN LATERAL (SELECT extract (hour FROM l.ts)::int AS hour) h", 6};

/* A provider message id another notification already holds (a provider
 * that reused one) is not kept: the unique index would refuse the row and
 * with it the whole batch's record, and the batch would be sent again. The
 * row says whether it was dropped. */
static const at_sql_t SQL_NOTIFICATION_MARK_RESULT = {"notification_mark_result",
  "UPDATE notification n SET status = CASE WHEN $2 = 'ok' THEN 'delivered' ELSE 'pending' END,"
  " delivered_at = CASE WHEN $2 = 'ok' THEN now () ELSE delivered_at END,"
  " provider = $4, provider_message_id = CASE WHEN $2 <> 'ok' THEN n.provider_message_id"
  "   WHEN NOT EXISTS (SELECT 1 FROM notification o WHERE o.provider = $4"
  "    AND o.provider_message_id = $5::text AND o.id <> n.id) THEN $5::text END,"
  " provider_status = CASE WHEN $2 = 'ok' THEN 'sent' ELSE provider_status END,"
  " http_status = $6::int, last_error = $7,"
  " failed_channels = CASE WHEN $2 = 'permanent' AND NOT ($3 = ANY (failed_channels))"
  "   THEN failed_channels || $3::text ELSE failed_channels END"
  " WHERE id = $1::uuid AND status <> 'delivered'"
  " RETURNING $2 = 'ok' AND $5::text IS NOT NULL AND n.provider_message_id IS NULL", 7};

static const at_sql_t SQL_NOTIFICATION_MARK_HOLD = {"notification_mark_hold",
  "UPDATE notification SET status = 'pending', held_until = timestamptz 'epoch'"
  " + $2::int8 * interval '1 microsecond', hold_reason = $3"
  " WHERE id = $1::uuid AND status <> 'delivered'", 3};

static const at_sql_t SQL_NOTIFICATION_MARK_FAILED = {"notification_mark_failed",
  "UPDATE notification SET status = 'failed', last_error = $2"
  " WHERE id = $1::uuid AND status <> 'delivered'", 2};

/* Ranks: sent 1, delivered 2, read 3, failed 4; a report never lowers it. */
static const at_sql_t SQL_NOTIFICATION_REPORT = {"notification_report",
  "WITH r AS (SELECT CASE $3 WHEN 'sent' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3"
  "   ELSE 4 END AS rank),"
  " n AS (SELECT id, channel, status, CASE provider_status WHEN 'sent' THEN 1"
  "   WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 WHEN 'failed' THEN 4 ELSE 0 END AS rank"
  "   FROM notification WHERE provider = $1 AND provider_message_id = $2 FOR UPDATE),"
  " u AS (UPDATE notification x SET provider_status = $3,"
  "   provider_status_at = timestamptz 'epoch' + $4::int8 * interval '1 microsecond',"
  "   provider_error = CASE WHEN $5 = '' THEN x.provider_error ELSE $5 END,"
  "   status = CASE WHEN $3 = 'failed' AND x.status = 'delivered' THEN 'pending' ELSE x.status END,"
  "   failed_channels = CASE WHEN $3 = 'failed' AND NOT (x.channel = ANY (x.failed_channels))"
  "     THEN x.failed_channels || x.channel ELSE x.failed_channels END"
  "   FROM n, r WHERE x.id = n.id AND r.rank > n.rank RETURNING x.id, n.status)"
  " SELECT n.id::text, coalesce ((SELECT u.status = 'delivered' AND $3 = 'failed' FROM u), false)"
  " FROM n", 5};

const char *
at_notification_status_normalize (const char *s)
{
  static const struct { const char *from, *to; } map[] = {
    {"accepted", "sent"},  {"queued", "sent"},     {"scheduled", "sent"},
    {"sending", "sent"},   {"sent", "sent"},       {"delivered", "delivered"},
    {"read", "read"},      {"failed", "failed"},   {"undelivered", "failed"},
    {"canceled", "failed"},
  };
  for (size_t i = 0; s && i < AT_ARRAY_LEN (map); i++)
    if (strcmp (s, map[i].from) == 0)
      return map[i].to;
  return NULL;
}

/* One row of SQL_NOTIFICATION_CONTEXT into ctx. */
static void
s_context_row (PGresult *res, int r, at_notification_ctx_t *ctx)
{
  memset (ctx, 0, sizeof *ctx);
  at_strlcpy (ctx->id, PQgetvalue (res, r, 0), sizeof ctx->id);
  at_strlcpy (ctx->status, PQgetvalue (res, r, 1), sizeof ctx->status);
  at_strlcpy (ctx->kind, PQgetvalue (res, r, 2), sizeof ctx->kind);
  at_strlcpy (ctx->channel, PQgetvalue (res, r, 3), sizeof ctx->channel);
  ctx->recipient = at_strdup (PQgetvalue (res, r, 4));
  ctx->body = at_strdup (PQgetvalue (res, r, 5));
  ctx->order_id = PQgetisnull (res, r, 6) ? NULL : at_strdup (PQgetvalue (res, r, 6));
  ctx->ticket_id = strtoll (PQgetvalue (res, r, 7), NULL, 10);
  ctx->created_us = strtoll (PQgetvalue (res, r, 8), NULL, 10);
  ctx->attempts = (int) strtol (PQgetvalue (res, r, 9), NULL, 10);
  ctx->customer_id = strtoll (PQgetvalue (res, r, 10), NULL, 10);
  at_strlcpy (ctx->preferred_channel, PQgetvalue (res, r, 11), sizeof ctx->preferred_channel);
  at_strlcpy (ctx->locale, PQgetvalue (res, r, 12), sizeof ctx->locale);
  at_strlcpy (ctx->failed_channels, PQgetvalue (res, r, 13), sizeof ctx->failed_channels);
  ctx->identities_json = at_strdup (PQgetvalue (res, r, 14));
  ctx->whatsapp_window = PQgetvalue (res, r, 15)[0] == 't';
  ctx->customer_recent = PQgetvalue (res, r, 16)[0] == 't';
  ctx->quiet = PQgetvalue (res, r, 17)[0] == 't';
  ctx->quiet_until_us = strtoll (PQgetvalue (res, r, 18), NULL, 10);
  ctx->cap_sent = strtol (PQgetvalue (res, r, 19), NULL, 10);
  ctx->cap_until_us = strtoll (PQgetvalue (res, r, 20), NULL, 10);
}

int
at_store_notification_contexts (at_store_t *store, const char *const *ids, size_t n,
                                const at_notification_policy_t *policy,
                                at_notification_ctx_t *ctx)
{
  char qs[16], qe[16], win[24], urgent[24];
  PGresult *res = NULL;
  size_t cap = n * (AT_ID_LEN + 1) + 3, used = 0;
  char *array = at_malloc (cap);
  array[used++] = '{';
  for (size_t i = 0; i < n; i++) {
    memset (&ctx[i], 0, sizeof ctx[i]);
    if (!ids[i] || !at_uuid_valid (ids[i]))
      continue;
    if (used > 1)
      array[used++] = ',';
    memcpy (array + used, ids[i], AT_ID_LEN - 1);
    used += AT_ID_LEN - 1;
  }
  array[used++] = '}';
  array[used] = 0;
  snprintf (qs, sizeof qs, "%d", policy->quiet_start);
  snprintf (qe, sizeof qe, "%d", policy->quiet_end);
  snprintf (win, sizeof win, "%ld", policy->cap_window_min);
  snprintf (urgent, sizeof urgent, "%ld", policy->urgent_window_min);
  int rc = at_store_q (store, &res, &SQL_NOTIFICATION_CONTEXT, array, policy->store_timezone,
                       qs, qe, win, urgent);
  free (array);
  if (rc != AT_OK)
    return rc;
  for (int r = 0; r < PQntuples (res); r++)
    for (size_t i = 0; i < n; i++)
      if (ids[i] && !ctx[i].id[0] && strcmp (ids[i], PQgetvalue (res, r, 0)) == 0) {
        s_context_row (res, r, &ctx[i]);
        break;
      }
  PQclear (res);
  return AT_OK;
}

int
at_store_notification_context (at_store_t *store, const char *id,
                               const at_notification_policy_t *policy,
                               at_notification_ctx_t *ctx)
{
  const char *ids[1] = {id};
  int rc = at_store_notification_contexts (store, ids, 1, policy, ctx);
  if (rc == AT_OK && !ctx->id[0])
    rc = AT_NOTFOUND;
  return rc;
}

void
at_notification_ctx_clear (at_notification_ctx_t *ctx)
{
  if (!ctx)
    return;
  free (ctx->recipient);
  free (ctx->body);
  free (ctx->order_id);
  free (ctx->identities_json);
  memset (ctx, 0, sizeof *ctx);
}

int
at_store_notification_result (at_store_t *store, const char *id, int outcome,
                              const char *channel, const char *provider,
                              const char *provider_message_id, long status, const char *error)
{
  char status_text[16];
  snprintf (status_text, sizeof status_text, "%ld", status);
  const char *what = outcome == AT_OK ? "ok" : outcome == AT_INVALID ? "permanent" : "again";
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_NOTIFICATION_MARK_RESULT, id, what, channel, provider,
                       provider_message_id && *provider_message_id ? provider_message_id : NULL,
                       status > 0 ? status_text : NULL,
                       outcome != AT_OK && error && *error ? error : NULL);
  if (rc == AT_OK && PQntuples (res) == 1 && PQgetvalue (res, 0, 0)[0] == 't')
    at_warn (S_COMP, "msg=\"provider message id already recorded for another notification;"
             " delivery recorded without it\" notification_id=%s provider=%s"
             " provider_message_id=%.100s", id, provider, provider_message_id);
  PQclear (res);
  return rc;
}

int
at_store_notification_hold (at_store_t *store, const char *id, int64_t until_us,
                            const char *reason)
{
  char until[24];
  snprintf (until, sizeof until, "%" PRId64, until_us);
  return at_store_do (store, &SQL_NOTIFICATION_MARK_HOLD, id, until, reason);
}

int
at_store_notification_fail (at_store_t *store, const char *id, const char *reason)
{
  return at_store_do (store, &SQL_NOTIFICATION_MARK_FAILED, id, reason);
}

int
at_store_notification_report (at_store_t *store, const char *provider,
                              const char *provider_message_id, const char *status,
                              int64_t occurred_us, const char *error,
                              char id_out[AT_ID_LEN], bool *fallback_out)
{
  char at[24];
  PGresult *res = NULL;
  id_out[0] = 0;
  *fallback_out = false;
  const char *normal = at_notification_status_normalize (status);
  if (!normal || !provider || !*provider || !provider_message_id || !*provider_message_id)
    return AT_INVALID;
  snprintf (at, sizeof at, "%" PRId64, occurred_us > 0 ? occurred_us : at_now_us ());
  int rc = at_store_q (store, &res, &SQL_NOTIFICATION_REPORT, provider, provider_message_id,
                       normal, at, error ? error : "");
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) != 1)
    rc = AT_NOTFOUND;
  else {
    at_strlcpy (id_out, PQgetvalue (res, 0, 0), AT_ID_LEN);
    *fallback_out = PQgetvalue (res, 0, 1)[0] == 't';
  }
  PQclear (res);
  return rc;
}

at_msg_t *
at_notification_status_msg (const char *provider, const char *provider_message_id,
                            const char *status, int64_t occurred_us, const char *error,
                            const char *trace_id)
{
  char key[AT_KEY_LEN];
  if (!provider || !provider_message_id || !status
      || strlen (provider_message_id) + 14 >= sizeof key)
    return NULL;
  Atende__NotificationStatus pb = ATENDE__NOTIFICATION_STATUS__INIT;
  pb.provider = (char *) provider;
  pb.provider_message_id = (char *) provider_message_id;
  pb.status = (char *) status;
  pb.occurred_us = occurred_us;
  pb.error = (char *) (error ? error : "");
  size_t len = atende__notification_status__get_packed_size (&pb);
  if (len > 4096)
    return NULL;
  uint8_t buf[4096];
  atende__notification_status__pack (&pb, buf);
  snprintf (key, sizeof key, "notification:%s", provider_message_id);
  return at_msg_new (AT_STAGE_NOTIFY, AT_TYPE_NOTIFICATION_STATUS, key, trace_id, buf, len);
}

static const at_sql_t SQL_TIMEZONE_VALID = {"timezone_valid",
  "SELECT at_timezone_valid ($1)", 1};

bool
at_store_timezone_valid (at_store_t *store, const char *tz)
{
  PGresult *res = NULL;
  if (!tz || !*tz || at_store_q (store, &res, &SQL_TIMEZONE_VALID, tz) != AT_OK)
    return false;
  bool ok = PQntuples (res) == 1 && PQgetvalue (res, 0, 0)[0] == 't';
  PQclear (res);
  return ok;
}

/* --- notify's own short transactions ------------------------------------ */

/* notify's records around provider calls commit without waiting for the WAL
 * flush: they are visible at once (a killed worker's successor sees them),
 * and the worker's batch COMMIT that follows, synchronous, makes them
 * durable in WAL order. Only a crash of PostgreSQL itself in between can
 * lose one, and then the message is sent again (at least once). */
static const at_sql_t SQL_NOTIFY_ASYNC_COMMIT = {"notify_async_commit",
  "SELECT set_config ('synchronous_commit', 'off', true)", 0};

static const at_sql_t SQL_NOTIFICATION_MARK_SENDING_MANY = {"notification_mark_sending_many",
  "UPDATE notification n SET status = 'sending', attempts = n.attempts + 1, sending_at = now (),"
  " channel = u.channel, recipient = u.recipient, provider = u.provider,"
  " whatsapp_mode = nullif (u.mode, ''), held_until = NULL, hold_reason = NULL"
  " FROM unnest ($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[])"
  "   AS u (id, channel, recipient, provider, mode)"
  " WHERE n.id = u.id RETURNING n.id::text, n.attempts", 5};

int
at_store_notification_begin (at_store_t *store)
{
  int rc = at_store_begin (store);
  if (rc == AT_OK)
    rc = at_store_do (store, &SQL_NOTIFY_ASYNC_COMMIT);
  return rc;
}

/* A PostgreSQL array literal of n texts, each quoted ("" escapes). */
static char *
s_array_literal (const char *const *values, size_t n)
{
  size_t cap = 3;
  for (size_t i = 0; i < n; i++)
    cap += 2 * strlen (values[i] ? values[i] : "") + 3;
  char *out = at_malloc (cap);
  size_t len = 0;
  out[len++] = '{';
  for (size_t i = 0; i < n; i++) {
    if (i)
      out[len++] = ',';
    out[len++] = '"';
    for (const char *p = values[i] ? values[i] : ""; *p; p++) {
      if (*p == '"' || *p == '\\')
        out[len++] = '\\';
      out[len++] = *p;
    }
    out[len++] = '"';
  }
  out[len++] = '}';
  out[len] = 0;
  return out;
}

int
at_store_notification_sending_many (at_store_t *store, const at_notification_sending_t *rows,
                                    size_t n)
{
  if (n == 0)
    return AT_OK;
  const char **col = at_calloc (n, sizeof *col);
  char *arrays[5];
  for (int c = 0; c < 5; c++) {
    for (size_t i = 0; i < n; i++)
      col[i] = c == 0 ? rows[i].id : c == 1 ? rows[i].channel : c == 2 ? rows[i].recipient
               : c == 3 ? rows[i].provider : rows[i].whatsapp_mode;
    arrays[c] = s_array_literal (col, n);
  }
  free (col);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_NOTIFICATION_MARK_SENDING_MANY, arrays[0], arrays[1],
                       arrays[2], arrays[3], arrays[4]);
  for (int c = 0; c < 5; c++)
    free (arrays[c]);
  if (rc != AT_OK)
    return rc;
  for (int r = 0; r < PQntuples (res); r++)
    for (size_t i = 0; i < n; i++)
      if (strcmp (rows[i].id, PQgetvalue (res, r, 0)) == 0 && rows[i].attempts_out)
        *rows[i].attempts_out = (int) strtol (PQgetvalue (res, r, 1), NULL, 10);
  rc = (size_t) PQntuples (res) == n ? AT_OK : AT_NOTFOUND;
  PQclear (res);
  return rc;
}
