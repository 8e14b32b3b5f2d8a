/* The orders and order_event tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include "at_store_order.h"
#include "at_log.h"

/* --- store ------------------------------------------------------------- */

#define S_TS(n) "('epoch'::timestamptz + $" #n "::bigint * interval '1 microsecond')"

static const at_sql_t SQL_ORDER_LOCK = {"order_lock",
  "SELECT status, status_rank, (extract(epoch FROM status_at) * 1000000)::bigint,"
  " coalesce(to_char(expected_delivery, 'YYYY-MM-DD'), ''),"
  " coalesce(to_char(missed_delivery, 'YYYY-MM-DD'), ''),"
  " coalesce(to_char(delay_told_for, 'YYYY-MM-DD'), ''), coalesce(customer_id, 0),"
  " coalesce(customer_channel, ''), coalesce(tracking_url, '')"
  " FROM orders WHERE id = $1 FOR NO KEY UPDATE", 1};

static const at_sql_t SQL_ORDER_INSERT = {"order_insert",
  "INSERT INTO orders (id, customer_id, status, status_rank, status_at, expected_delivery,"
  " tracking_url, customer_channel, delivered_at) VALUES ($1, $2, $3, $4, " S_TS (5) ","
  " $6::date, $7, $8, CASE WHEN $3 = 'delivered' THEN " S_TS (5) " END)"
  " ON CONFLICT (id) DO NOTHING RETURNING id", 8};

static const at_sql_t SQL_ORDER_APPLY = {"order_apply",
  "UPDATE orders SET customer_id = coalesce($2, customer_id), status = $3, status_rank = $4,"
  " status_at = " S_TS (5) ", expected_delivery = coalesce($6::date, expected_delivery),"
  " tracking_url = coalesce($7, tracking_url), customer_channel = coalesce($8, customer_channel),"
  " delivered_at = CASE WHEN $3 = 'delivered' THEN " S_TS (5) " ELSE delivered_at END,"
  " updated_at = now() WHERE id = $1", 8};

/* The payment an event carries; an event older than the one that brought
 * the stored payment changes nothing. */
static const at_sql_t SQL_ORDER_PAYMENT = {"order_payment",
  "UPDATE orders SET payment_method = $2, payment_code = $3, payment_due = $4::date,"
  " payment_at = " S_TS (5) " WHERE id = $1"
  " AND (payment_at IS NULL OR payment_at <= " S_TS (5) ")", 5};

static const at_sql_t SQL_ORDER_MARK_DELAYED = {"order_mark_delayed",
  "UPDATE orders SET status = 'delayed', status_at = " S_TS (2) ", missed_delivery = $3::date,"
  " delay_told_for = $3::date, expected_delivery = NULL, updated_at = now() WHERE id = $1", 3};

static const at_sql_t SQL_ORDER_DELAY_TOLD = {"order_delay_told",
  "UPDATE orders SET delay_told_for = $2::date WHERE id = $1", 2};

static const at_sql_t SQL_ORDER_STATS = {"order_stats",
  "SELECT (SELECT count(*) FROM orders),"
  " (SELECT count(*) FROM orders WHERE missed_delivery IS NOT NULL),"
  " (SELECT count(*) FROM orders WHERE delay_told_for IS NOT NULL),"
  " (SELECT count(*) FROM notification WHERE order_id IS NOT NULL),"
  " (SELECT count(*) FROM notification WHERE order_id IS NOT NULL AND status = 'delivered'),"
  " (SELECT count(*) FROM notification WHERE status IN ('pending', 'sending')),"
  " (SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM notification"
  "   WHERE order_id IS NOT NULL GROUP BY order_id) AS per_order),"
  " (SELECT count(*) FROM bus_message WHERE stage = 'notify')", 0};

static const at_sql_t SQL_ORDER_DELAYED = {"order_delayed_ids",
  "SELECT id FROM orders WHERE missed_delivery IS NOT NULL", 0};

static const at_sql_t SQL_TZ_KNOWN = {"order_tz_known",
  "SELECT 1 FROM pg_timezone_names WHERE name = $1", 1};

static const at_sql_t SQL_DAY_END = {"order_day_end",
  "SELECT (extract(epoch FROM (($1::date + 1)::timestamp AT TIME ZONE $2)) * 1000000)::bigint", 2};

static const at_sql_t SQL_ORDER_EVENT = {"order_event_record",
  "INSERT INTO order_event (order_id, event_id, status, occurred_at, applied)"
  " VALUES ($1, $2, $3, " S_TS (4) ", $5) ON CONFLICT (order_id, event_id) DO NOTHING"
  " RETURNING id", 5};

static const at_sql_t SQL_ORDER_CUSTOMER = {"order_customer",
  "SELECT coalesce(name, ''), locale FROM customer WHERE id = $1", 1};

int
at_store_order_lock (at_store_t *store, const char *order_id, at_order_current_t *current)
{
  PGresult *res = NULL;
  memset (current, 0, sizeof *current);
  int rc = at_store_q (store, &res, &SQL_ORDER_LOCK, order_id);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) == 1) {
    current->exists = true;
    at_strlcpy (current->status, PQgetvalue (res, 0, 0), sizeof current->status);
    current->rank = (int) strtol (PQgetvalue (res, 0, 1), NULL, 10);
    current->status_at_us = strtoll (PQgetvalue (res, 0, 2), NULL, 10);
    at_strlcpy (current->expected_delivery, PQgetvalue (res, 0, 3),
                sizeof current->expected_delivery);
    at_strlcpy (current->missed_delivery, PQgetvalue (res, 0, 4), sizeof current->missed_delivery);
    at_strlcpy (current->delay_told_for, PQgetvalue (res, 0, 5), sizeof current->delay_told_for);
    current->customer_id = strtoll (PQgetvalue (res, 0, 6), NULL, 10);
    at_strlcpy (current->customer_channel, PQgetvalue (res, 0, 7),
                sizeof current->customer_channel);
    if ((size_t) PQgetlength (res, 0, 8) < sizeof current->tracking_url)
      at_strlcpy (current->tracking_url, PQgetvalue (res, 0, 8), sizeof current->tracking_url);
  }
  PQclear (res);
  return AT_OK;
}

/* Text forms of an update's parameters; NULL for SQL NULL. */
typedef struct {
  char customer[24], rank[16], at[24];
  const char *expected, *tracking, *channel;
} s_order_params_t;

static void
s_order_params (const at_order_update_t *u, s_order_params_t *p)
{
  snprintf (p->customer, sizeof p->customer, "%" PRId64, u->customer_id);
  snprintf (p->rank, sizeof p->rank, "%d", u->rank);
  snprintf (p->at, sizeof p->at, "%" PRId64, u->status_at_us);
  p->expected = u->expected_delivery && *u->expected_delivery ? u->expected_delivery : NULL;
  p->tracking = u->tracking_url && *u->tracking_url ? u->tracking_url : NULL;
  p->channel = u->customer_channel && *u->customer_channel ? u->customer_channel : NULL;
}

int
at_store_order_insert (at_store_t *store, const at_order_update_t *u)
{
  s_order_params_t p;
  PGresult *res = NULL;
  s_order_params (u, &p);
  int rc = at_store_q (store, &res, &SQL_ORDER_INSERT, u->order_id,
                       u->customer_id > 0 ? p.customer : NULL, u->status, p.rank, p.at,
                       p.expected, p.tracking, p.channel);
  if (rc != AT_OK)
    return rc;
  rc = PQntuples (res) == 1 ? AT_OK : AT_CONFLICT;
  PQclear (res);
  return rc;
}

int
at_store_order_apply (at_store_t *store, const at_order_update_t *u)
{
  s_order_params_t p;
  s_order_params (u, &p);
  return at_store_do (store, &SQL_ORDER_APPLY, u->order_id,
                      u->customer_id > 0 ? p.customer : NULL, u->status, p.rank, p.at,
                      p.expected, p.tracking, p.channel);
}

int
at_store_order_payment (at_store_t *store, const char *order_id, const char *method,
                        const char *code, const char *due, int64_t occurred_us)
{
  char at[24];
  snprintf (at, sizeof at, "%" PRId64, occurred_us);
  return at_store_do (store, &SQL_ORDER_PAYMENT, order_id, method, code,
                      due && *due ? due : NULL, at);
}

int
at_store_order_mark_delayed (at_store_t *store, const char *order_id, int64_t status_at_us,
                             const char *missed_date)
{
  char at[24];
  snprintf (at, sizeof at, "%" PRId64, status_at_us);
  return at_store_do (store, &SQL_ORDER_MARK_DELAYED, order_id, at, missed_date);
}

int
at_store_order_delay_told (at_store_t *store, const char *order_id, const char *date)
{
  return at_store_do (store, &SQL_ORDER_DELAY_TOLD, order_id, date);
}

/* The last time zone this thread found in pg_timezone_names: an unknown name
 * would abort the transaction in AT TIME ZONE, so it is looked up first. */
static _Thread_local char s_tz_known[64];

int
at_store_order_day_end (at_store_t *store, const char *date, const char *tz, int64_t *us_out)
{
  PGresult *res = NULL;
  if (!tz || !*tz || strlen (tz) >= sizeof s_tz_known)
    return AT_INVALID;
  if (strcmp (tz, s_tz_known) != 0) {
    int rc = at_store_q (store, &res, &SQL_TZ_KNOWN, tz);
    if (rc != AT_OK)
      return rc;
    bool known = PQntuples (res) == 1;
    PQclear (res);
    if (!known)
      return AT_INVALID;
    at_strlcpy (s_tz_known, tz, sizeof s_tz_known);
  }
  int rc = at_store_q (store, &res, &SQL_DAY_END, date, tz);
  if (rc != AT_OK)
    return rc;
  *us_out = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
  PQclear (res);
  return AT_OK;
}

int
at_store_order_event_record (at_store_t *store, const char *order_id, const char *key,
                             const char *status, int64_t occurred_us, bool applied,
                             bool *recorded_out)
{
  char at[24];
  PGresult *res = NULL;
  snprintf (at, sizeof at, "%" PRId64, occurred_us);
  int rc = at_store_q (store, &res, &SQL_ORDER_EVENT, order_id, key, status, at,
                       applied ? "true" : "false");
  if (rc != AT_OK)
    return rc;
  *recorded_out = PQntuples (res) == 1;
  PQclear (res);
  return AT_OK;
}

int
at_store_order_customer (at_store_t *store, int64_t customer_id, char *name_out,
                         size_t name_cap, char locale_out[AT_LOCALE_LEN])
{
  char id[24];
  PGresult *res = NULL;
  snprintf (id, sizeof id, "%" PRId64, customer_id);
  name_out[0] = 0;
  locale_out[0] = 0;
  int rc = at_store_q (store, &res, &SQL_ORDER_CUSTOMER, id);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) != 1)
    rc = AT_NOTFOUND;
  else {
    at_strlcpy (name_out, PQgetvalue (res, 0, 0), name_cap);
    at_strlcpy (locale_out, PQgetvalue (res, 0, 1), AT_LOCALE_LEN);
  }
  PQclear (res);
  return rc;
}

int
at_store_order_stats (at_store_t *store, at_order_stats_t *out)
{
  PGresult *res = NULL;
  memset (out, 0, sizeof *out);
  int rc = at_store_q (store, &res, &SQL_ORDER_STATS);
  if (rc != AT_OK)
    return rc;
  long long *fields[] = {&out->orders, &out->orders_delayed, &out->orders_delay_told,
                         &out->notifications, &out->notifications_delivered,
                         &out->notifications_open, &out->notifications_max_per_order,
                         &out->notify_backlog};
  for (int i = 0; i < 8; i++)
    *fields[i] = strtoll (PQgetvalue (res, 0, i), NULL, 10);
  PQclear (res);
  return AT_OK;
}

int
at_store_order_delayed_each (at_store_t *store, void (*fn) (const char *order_id, void *arg),
                             void *arg)
{
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_ORDER_DELAYED);
  if (rc != AT_OK)
    return rc;
  for (int i = 0; i < PQntuples (res); i++)
    fn (PQgetvalue (res, i, 0), arg);
  PQclear (res);
  return AT_OK;
}
