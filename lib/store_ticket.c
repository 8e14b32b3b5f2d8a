/* Tickets and their messages in the store, as ingest and route use them.
 * Every statement runs in the caller's transaction. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at_ticket.h"
#include "at_log.h"

#define S_COMP "ticket"

static const at_sql_t SQL_MESSAGE_SEEN = {"ticket_message_seen",
  "SELECT 1 FROM ticket_message WHERE channel = $1 AND provider_message_id = $2"
  " AND direction = 'in'", 2};

static const at_sql_t SQL_CUSTOMER_LOCK = {"ticket_customer_lock",
  "SELECT id FROM customer WHERE id = $1 FOR UPDATE", 1};

static const at_sql_t SQL_TICKET_FIND_OPEN = {"ticket_find_open",
  "SELECT id FROM ticket WHERE customer_id = $1 AND channel = $2 AND status <> 'resolved'"
  " ORDER BY id DESC LIMIT 1", 2};

static const at_sql_t SQL_TICKET_INSERT = {"ticket_insert",
  "INSERT INTO ticket (customer_id, channel, subject) VALUES ($1, $2, NULLIF($3, ''))"
  " RETURNING id", 3};

static const at_sql_t SQL_MESSAGE_INSERT = {"ticket_message_insert",
  "INSERT INTO ticket_message (ticket_id, direction, author, channel, body,"
  " provider_message_id, bus_message_id, language)"
  " VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''), $7::uuid, NULLIF($8, '')) RETURNING id", 8};

static const at_sql_t SQL_TICKET_TOUCH_INBOUND = {"ticket_touch_inbound",
  "UPDATE ticket SET updated_at = now(),"
  " status = CASE WHEN status = 'pending' THEN 'open' ELSE status END WHERE id = $1", 1};

static const at_sql_t SQL_CUSTOMER_LOCALE = {"ticket_customer_locale",
  "UPDATE customer SET locale = $3 WHERE id = $1 AND locale <> $3"
  " AND NOT EXISTS (SELECT 1 FROM ticket WHERE customer_id = $1 AND id <> $2)", 3};

#define S_TICKET_COLUMNS \
  "id, customer_id, channel, status, coalesce(intent, ''), coalesce(priority, '')," \
  " coalesce(language, ''), auto_answered"

static const at_sql_t SQL_TICKET_LOCK = {"ticket_lock",
  "SELECT " S_TICKET_COLUMNS " FROM ticket WHERE id = $1 FOR UPDATE", 1};

static const at_sql_t SQL_MESSAGE_LANGUAGE = {"ticket_message_language",
  "SELECT coalesce(language, '') FROM ticket_message WHERE id = $2 AND ticket_id = $1", 2};

static const at_sql_t SQL_TICKET_CLASSIFY = {"ticket_classify",
  "UPDATE ticket SET"
  " intent = CASE WHEN $2::text <> 'other' OR intent IS NULL THEN $2::text ELSE intent END,"
  " priority = CASE WHEN priority = 'high' THEN 'high' ELSE $3::text END,"
  " language = CASE WHEN language IS NULL OR language = 'other'"
  "   THEN coalesce(NULLIF($4::text, ''), language) ELSE language END,"
  " first_response_due = coalesce(first_response_due, created_at + make_interval(mins =>"
  "   CASE WHEN priority = 'high' OR $3::text = 'high' THEN $6::int ELSE $5::int END)),"
  " updated_at = now()"
  " WHERE id = $1 RETURNING " S_TICKET_COLUMNS, 6};

static const at_sql_t SQL_TICKET_ANSWERED = {"ticket_answered",
  "UPDATE ticket SET first_response_at = coalesce(first_response_at, now()),"
  " status = 'pending', resolved_at = NULL, auto_answered = auto_answered OR $2::boolean,"
  " updated_at = now() WHERE id = $1", 2};

static const at_sql_t SQL_TICKET_RESOLVE = {"ticket_resolve",
  "UPDATE ticket SET status = 'resolved', resolved_at = now(), updated_at = now()"
  " WHERE id = $1 AND status <> 'resolved' RETURNING id", 1};

static const at_sql_t SQL_LATEST_ORDER = {"ticket_latest_order",
  "SELECT id, status, coalesce(to_char(expected_delivery, 'YYYY-MM-DD'), ''),"
  " coalesce(tracking_url, '') FROM orders WHERE customer_id = $1"
  " ORDER BY status_at DESC, updated_at DESC LIMIT 1", 1};

static void
s_id (int64_t id, char out[24])
{
  snprintf (out, 24, "%" PRId64, id);
}

/* Runs a statement expected to return at most one row; AT_NOTFOUND when none. */
static int
s_one_row (at_store_t *store, PGresult **res, int rc)
{
  if (rc != AT_OK)
    return rc;
  if (PQntuples (*res) == 1)
    return AT_OK;
  PQclear (*res);
  *res = NULL;
  return AT_NOTFOUND;
}

int
at_store_ticket_message_seen (at_store_t *store, const char *channel,
                              const char *provider_message_id, bool *seen_out)
{
  *seen_out = false;
  if (!provider_message_id || !*provider_message_id)
    return AT_OK;
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_MESSAGE_SEEN, channel, provider_message_id);
  if (rc != AT_OK)
    return rc;
  *seen_out = PQntuples (res) > 0;
  PQclear (res);
  return AT_OK;
}

int
at_store_ticket_open_or_append (at_store_t *store, int64_t customer_id, const char *channel,
                                const char *subject, int64_t *ticket_id_out, bool *created_out)
{
  char customer[24];
  s_id (customer_id, customer);
  PGresult *res = NULL;
  *created_out = false;
  int rc = s_one_row (store, &res, at_store_q (store, &res, &SQL_CUSTOMER_LOCK, customer));
  if (rc != AT_OK)
    return rc == AT_NOTFOUND ? AT_INVALID : rc;
  PQclear (res);
  rc = s_one_row (store, &res, at_store_q (store, &res, &SQL_TICKET_FIND_OPEN, customer, channel));
  if (rc == AT_NOTFOUND) {
    rc = s_one_row (store, &res, at_store_q (store, &res, &SQL_TICKET_INSERT, customer, channel,
                                             subject ? subject : ""));
    if (rc == AT_NOTFOUND)
      rc = AT_ERROR;
    *created_out = rc == AT_OK;
  }
  if (rc != AT_OK)
    return rc;
  *ticket_id_out = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
  PQclear (res);
  if (*created_out)
    at_info (S_COMP, "msg=\"ticket opened\" ticket_id=%" PRId64 " customer_id=%" PRId64
             " channel=%s", *ticket_id_out, customer_id, channel);
  return AT_OK;
}

int
at_store_ticket_message_add (at_store_t *store, const at_ticket_message_t *m,
                             int64_t *message_id_out)
{
  char ticket[24];
  s_id (m->ticket_id, ticket);
  PGresult *res = NULL;
  int rc = s_one_row (store, &res, at_store_q (store, &res, &SQL_MESSAGE_INSERT, ticket,
                                               m->direction, m->author, m->channel, m->body,
                                               m->provider_message_id ? m->provider_message_id : "",
                                               m->bus_message_id,
                                               m->language ? m->language : ""));
  if (rc != AT_OK)
    return rc == AT_NOTFOUND ? AT_ERROR : rc;
  if (message_id_out)
    *message_id_out = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
  PQclear (res);
  return AT_OK;
}

int
at_store_ticket_touch_inbound (at_store_t *store, int64_t ticket_id)
{
  char ticket[24];
  s_id (ticket_id, ticket);
  return at_store_do (store, &SQL_TICKET_TOUCH_INBOUND, ticket);
}

int
at_store_ticket_customer_locale (at_store_t *store, int64_t customer_id, int64_t ticket_id,
                                 const char *locale)
{
  char customer[24], ticket[24];
  s_id (customer_id, customer);
  s_id (ticket_id, ticket);
  return at_store_do (store, &SQL_CUSTOMER_LOCALE, customer, ticket, locale);
}

static void
s_ticket_read (PGresult *res, at_ticket_t *out)
{
  memset (out, 0, sizeof *out);
  out->id = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
  out->customer_id = strtoll (PQgetvalue (res, 0, 1), NULL, 10);
  at_strlcpy (out->channel, PQgetvalue (res, 0, 2), sizeof out->channel);
  at_strlcpy (out->status, PQgetvalue (res, 0, 3), sizeof out->status);
  at_strlcpy (out->intent, PQgetvalue (res, 0, 4), sizeof out->intent);
  at_strlcpy (out->priority, PQgetvalue (res, 0, 5), sizeof out->priority);
  at_strlcpy (out->language, PQgetvalue (res, 0, 6), sizeof out->language);
  out->auto_answered = PQgetvalue (res, 0, 7)[0] == 't';
}

int
at_store_ticket_lock (at_store_t *store, int64_t ticket_id, at_ticket_t *out)
{
  char ticket[24];
  s_id (ticket_id, ticket);
  PGresult *res = NULL;
  int rc = s_one_row (store, &res, at_store_q (store, &res, &SQL_TICKET_LOCK, ticket));
  if (rc != AT_OK)
    return rc;
  s_ticket_read (res, out);
  PQclear (res);
  return AT_OK;
}

int
at_store_ticket_message_language (at_store_t *store, int64_t ticket_id, int64_t message_id,
                                  char *out, size_t cap)
{
  char ticket[24], message[24];
  s_id (ticket_id, ticket);
  s_id (message_id, message);
  out[0] = '\0';
  PGresult *res = NULL;
  int rc = s_one_row (store, &res, at_store_q (store, &res, &SQL_MESSAGE_LANGUAGE, ticket, message));
  if (rc != AT_OK)
    return rc;
  at_strlcpy (out, PQgetvalue (res, 0, 0), cap);
  PQclear (res);
  return AT_OK;
}

int
at_store_ticket_classify (at_store_t *store, int64_t ticket_id, const char *intent,
                          const char *priority, const char *language, long sla_normal_min,
                          long sla_high_min, at_ticket_t *out)
{
  char ticket[24], normal[24], high[24];
  s_id (ticket_id, ticket);
  s_id (sla_normal_min, normal);
  s_id (sla_high_min, high);
  PGresult *res = NULL;
  int rc = s_one_row (store, &res, at_store_q (store, &res, &SQL_TICKET_CLASSIFY, ticket, intent,
                                               priority, language, normal, high));
  if (rc != AT_OK)
    return rc;
  s_ticket_read (res, out);
  PQclear (res);
  return AT_OK;
}

int
at_store_ticket_answered (at_store_t *store, int64_t ticket_id, bool automatic)
{
  char ticket[24];
  s_id (ticket_id, ticket);
  return at_store_do (store, &SQL_TICKET_ANSWERED, ticket, automatic ? "true" : "false");
}

int
at_store_ticket_resolve (at_store_t *store, int64_t ticket_id)
{
  char ticket[24];
  s_id (ticket_id, ticket);
  PGresult *res = NULL;
  int rc = s_one_row (store, &res, at_store_q (store, &res, &SQL_TICKET_RESOLVE, ticket));
  if (rc == AT_NOTFOUND)
    return AT_CONFLICT;
  PQclear (res);
  return rc;
}

int
at_store_ticket_latest_order (at_store_t *store, int64_t customer_id, at_ticket_order_t *out)
{
  char customer[24];
  s_id (customer_id, customer);
  memset (out, 0, sizeof *out);
  PGresult *res = NULL;
  int rc = s_one_row (store, &res, at_store_q (store, &res, &SQL_LATEST_ORDER, customer));
  if (rc != AT_OK)
    return rc;
  at_strlcpy (out->id, PQgetvalue (res, 0, 0), sizeof out->id);
  at_strlcpy (out->status, PQgetvalue (res, 0, 1), sizeof out->status);
  at_strlcpy (out->expected_delivery, PQgetvalue (res, 0, 2), sizeof out->expected_delivery);
  if ((size_t) PQgetlength (res, 0, 3) < sizeof out->tracking_url)
    at_strlcpy (out->tracking_url, PQgetvalue (res, 0, 3), sizeof out->tracking_url);
  PQclear (res);
  return AT_OK;
}
