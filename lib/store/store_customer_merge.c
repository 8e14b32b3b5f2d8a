/* Customer merge (one transaction, rows locked in id order) and a customer
 * read with identities. Ingest follows merged_into under the same row lock,
 * so a message racing a merge lands on the surviving customer. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at_store_customer.h"
#include "at_log.h"

#define S_COMP "customer"

static const at_sql_t SQL_MERGE_LOCK = {"customer_merge_lock",
  "SELECT id, coalesce(merged_into, 0) FROM customer WHERE id IN ($1, $2)"
  " ORDER BY id FOR UPDATE", 2};

static const at_sql_t SQL_MERGE_IDENTITIES = {"customer_merge_identities",
  "UPDATE identity SET customer_id = $1 WHERE customer_id = $2", 2};
static const at_sql_t SQL_MERGE_TICKETS = {"customer_merge_tickets",
  "UPDATE ticket SET customer_id = $1, updated_at = now() WHERE customer_id = $2", 2};
static const at_sql_t SQL_MERGE_ORDERS = {"customer_merge_orders",
  "UPDATE orders SET customer_id = $1, updated_at = now() WHERE customer_id = $2", 2};
static const at_sql_t SQL_MERGE_NOTIFICATIONS = {"customer_merge_notifications",
  "UPDATE notification SET customer_id = $1 WHERE customer_id = $2", 2};
static const at_sql_t SQL_MERGE_SURVEYS = {"customer_merge_surveys",
  "UPDATE survey SET customer_id = $1 WHERE customer_id = $2", 2};
static const at_sql_t SQL_MERGE_MARK = {"customer_merge_mark",
  "UPDATE customer SET merged_into = $1, merged_at = now() WHERE id = $2", 2};
static const at_sql_t SQL_MERGE_REPOINT = {"customer_merge_repoint",
  "UPDATE customer SET merged_into = $1 WHERE merged_into = $2", 2};
static const at_sql_t SQL_MERGE_NAME = {"customer_merge_name",
  "UPDATE customer SET name = coalesce(name, (SELECT name FROM customer WHERE id = $2))"
  " WHERE id = $1", 2};

static const at_sql_t SQL_CUSTOMER_GET = {"customer_get",
  "SELECT id, coalesce(name, ''), locale, coalesce(merged_into, 0),"
  " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
  " (SELECT count(*) FROM ticket t WHERE t.customer_id = c.id AND t.status <> 'resolved'),"
  " (SELECT count(*) FROM ticket t WHERE t.customer_id = c.id)"
  " FROM customer c WHERE id = $1", 1};
static const at_sql_t SQL_CUSTOMER_IDENTITIES = {"customer_identities",
  "SELECT kind, value FROM identity WHERE customer_id = $1 ORDER BY id LIMIT 64", 1};

/* Runs an UPDATE and adds the rows it touched to *count. */
static int
s_move (at_store_t *store, const at_sql_t *sql, const char *into, const char *from, long *count)
{
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, sql, into, from);
  if (rc != AT_OK)
    return rc;
  if (count)
    *count += strtol (PQcmdTuples (res), NULL, 10);
  PQclear (res);
  return AT_OK;
}

/* Locks both rows in id order and checks what a merge may do. */
static int
s_merge_check (at_store_t *store, int64_t into, int64_t from, const char *a, const char *b,
               at_customer_merge_t *out)
{
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_MERGE_LOCK, a, b);
  if (rc != AT_OK)
    return rc;
  int64_t into_merged = -1, from_merged = -1;
  for (int i = 0; i < PQntuples (res); i++) {
    int64_t id = strtoll (PQgetvalue (res, i, 0), NULL, 10);
    int64_t merged = strtoll (PQgetvalue (res, i, 1), NULL, 10);
    if (id == into)
      into_merged = merged;
    if (id == from)
      from_merged = merged;
  }
  PQclear (res);
  if (into_merged < 0 || from_merged < 0)
    return AT_NOTFOUND;
  if (from_merged == into) {
    out->already = true;
    return AT_OK;
  }
  if (into_merged != 0 || from_merged != 0)
    return AT_CONFLICT;
  return AT_OK;
}

static int
s_merge_apply (at_store_t *store, const char *into, const char *from, at_customer_merge_t *out)
{
  int rc = s_move (store, &SQL_MERGE_IDENTITIES, into, from, &out->identities);
  if (rc == AT_OK)
    rc = s_move (store, &SQL_MERGE_TICKETS, into, from, &out->tickets);
  if (rc == AT_OK)
    rc = s_move (store, &SQL_MERGE_ORDERS, into, from, &out->orders);
  if (rc == AT_OK)
    rc = s_move (store, &SQL_MERGE_NOTIFICATIONS, into, from, &out->notifications);
  if (rc == AT_OK)
    rc = s_move (store, &SQL_MERGE_SURVEYS, into, from, &out->surveys);
  if (rc == AT_OK)
    rc = s_move (store, &SQL_MERGE_NAME, into, from, NULL);
  if (rc == AT_OK)
    rc = s_move (store, &SQL_MERGE_REPOINT, into, from, NULL);
  if (rc == AT_OK)
    rc = s_move (store, &SQL_MERGE_MARK, into, from, NULL);
  return rc;
}

int
at_store_customer_merge (at_store_t *store, int64_t into, int64_t from, at_customer_merge_t *out)
{
  memset (out, 0, sizeof *out);
  if (!store || into <= 0 || from <= 0)
    return AT_INVALID;
  if (into == from)
    return AT_INVALID;
  char a[24], b[24];
  snprintf (a, sizeof a, "%" PRId64, into);
  snprintf (b, sizeof b, "%" PRId64, from);
  int rc = at_store_begin (store);
  if (rc != AT_OK)
    return rc;
  rc = s_merge_check (store, into, from, a, b, out);
  if (rc == AT_OK && !out->already)
    rc = s_merge_apply (store, a, b, out);
  if (rc == AT_OK)
    rc = at_store_commit (store);
  else
    at_store_rollback (store);
  if (rc == AT_OK && !out->already)
    at_info (S_COMP, "msg=\"customers merged\" into=%" PRId64 " from=%" PRId64
             " identities=%ld tickets=%ld orders=%ld notifications=%ld surveys=%ld", into, from,
             out->identities, out->tickets, out->orders, out->notifications, out->surveys);
  return rc;
}

int
at_store_customer_get (at_store_t *store, int64_t id, at_customer_t *out)
{
  memset (out, 0, sizeof *out);
  char key[24];
  snprintf (key, sizeof key, "%" PRId64, id);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_CUSTOMER_GET, key);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) != 1) {
    PQclear (res);
    return AT_NOTFOUND;
  }
  out->id = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
  at_strlcpy (out->name, PQgetvalue (res, 0, 1), sizeof out->name);
  at_strlcpy (out->locale, PQgetvalue (res, 0, 2), sizeof out->locale);
  out->merged_into = strtoll (PQgetvalue (res, 0, 3), NULL, 10);
  at_strlcpy (out->created_at, PQgetvalue (res, 0, 4), sizeof out->created_at);
  out->tickets_open = strtol (PQgetvalue (res, 0, 5), NULL, 10);
  out->tickets_total = strtol (PQgetvalue (res, 0, 6), NULL, 10);
  PQclear (res);
  rc = at_store_q (store, &res, &SQL_CUSTOMER_IDENTITIES, key);
  if (rc != AT_OK)
    return rc;
  for (int i = 0; i < PQntuples (res) && out->n_identities < AT_CUSTOMER_IDENTITIES_MAX; i++) {
    at_identity_t *ident = &out->identities[out->n_identities++];
    at_strlcpy (ident->kind, PQgetvalue (res, i, 0), sizeof ident->kind);
    at_strlcpy (ident->value, PQgetvalue (res, i, 1), sizeof ident->value);
  }
  PQclear (res);
  return AT_OK;
}
