/* Retention (LGPD/GDPR): the texts of resolved tickets erased after
 * ATENDE_RETENTION_DAYS, by `atende retention run` and by the scheduled
 * message AT_RETENTION_TYPE (workers/survey/retention.c), and that
 * schedule's messages: their ids, their lock, the start of the chain.
 * Declarations and the contract: at_store_privacy.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at_store_privacy.h"
#include "at_store_auth.h"
#include "at_store_bus.h"
#include "at_crypto.h"
#include "at_log.h"

#define S_COMP "retention"
#define S_LOCK "7360201913"         /* advisory lock of the schedule: any fixed number */
#define S_ID_KEY "atende.retention" /* HMAC key of the ids' derivation (not a secret) */

/* Texts of messages of tickets resolved more than $1 days ago, $2 at most. */
static const at_sql_t SQL_RETENTION = {"privacy_retention",
  "WITH m AS (SELECT tm.id FROM ticket_message tm JOIN ticket t ON t.id = tm.ticket_id"
  "   WHERE t.status = 'resolved' AND t.resolved_at < now () - $1::int * interval '1 day'"
  "   AND (tm.body <> '" AT_PRIVACY_ERASED "' OR tm.full_body IS NOT NULL)"
  "   ORDER BY tm.id LIMIT $2::int FOR UPDATE OF tm SKIP LOCKED),"
  " u AS (UPDATE ticket_message tm SET body = '" AT_PRIVACY_ERASED "', full_body = NULL"
  "   FROM m WHERE tm.id = m.id RETURNING tm.id),"
  " a AS (UPDATE attachment SET name = '" AT_PRIVACY_ERASED "'"
  "   WHERE ticket_message_id IN (SELECT id FROM u) RETURNING id),"
  " d AS (DELETE FROM attachment_content WHERE attachment_id IN (SELECT id FROM a))"
  " SELECT count (*) FROM u", 2};

/* Held until the transaction ends: every writer of a schedule message
 * takes it first, so "none pending, insert one" is one step. */
static const at_sql_t SQL_RETENTION_LOCK = {"retention_lock",
  "SELECT pg_advisory_xact_lock (" S_LOCK ")", 0};

/* Pending runs but $4 (NULL: none left out), through the index
 * bus_message_key_order (stage, key, seq): cheap with any backlog (custom:
 * see AT_SQL_CUSTOM). */
static const at_sql_t SQL_RETENTION_PENDING = {AT_SQL_CUSTOM "retention_pending",
  "SELECT count (*) FROM bus_message WHERE stage = $1 AND key = $2 AND type = $3"
  " AND ($4::uuid IS NULL OR id <> $4::uuid)", 4};

int
at_store_retention_erase_in (at_store_t *store, long days, long limit, const char *actor,
                             const char *message_id, long *erased_out)
{
  char d[24], l[24];
  PGresult *res = NULL;
  *erased_out = 0;
  if (days < 1 || limit < 1 || !actor || !*actor)
    return AT_INVALID;
  snprintf (d, sizeof d, "%ld", days);
  snprintf (l, sizeof l, "%ld", limit);
  int rc = at_store_q (store, &res, &SQL_RETENTION, d, l);
  if (rc != AT_OK)
    return rc;
  long erased = strtol (PQgetvalue (res, 0, 0), NULL, 10);
  PQclear (res);
  json_t *detail = json_pack ("{s:I, s:I, s:I}", "days", (json_int_t) days,
                              "limit", (json_int_t) limit, "messages", (json_int_t) erased);
  if (detail && message_id)
    json_object_set_new (detail, "bus_message_id", json_string (message_id));
  rc = at_store_audit (store, actor, "retention.erase", "ticket_message", detail, NULL);
  json_decref (detail);
  if (rc == AT_OK)
    *erased_out = erased;
  return rc;
}

int
at_store_retention_erase (at_store_t *store, long days, long limit, const char *actor,
                          long *erased_out)
{
  *erased_out = 0;
  int rc = at_store_begin (store);
  if (rc == AT_OK)
    rc = at_store_retention_erase_in (store, days, limit, actor, NULL, erased_out);
  if (rc == AT_OK)
    rc = at_store_commit (store);
  if (rc != AT_OK) {
    at_store_rollback (store);
    *erased_out = 0;
  }
  return rc;
}

int
at_store_retention_lock (at_store_t *store)
{
  return at_store_do (store, &SQL_RETENTION_LOCK);
}

int
at_store_retention_pending (at_store_t *store, const char *except_id, long *count_out)
{
  PGresult *res = NULL;
  *count_out = 0;
  int rc = at_store_q (store, &res, &SQL_RETENTION_PENDING, AT_STAGE_SURVEY, AT_RETENTION_KEY,
                       AT_RETENTION_TYPE, except_id);
  if (rc != AT_OK)
    return rc;
  *count_out = strtol (PQgetvalue (res, 0, 0), NULL, 10);
  PQclear (res);
  return AT_OK;
}

/* A run's message with the id HMAC-SHA256(S_ID_KEY, seed) written as a
 * UUID (version 8: custom): one seed, one id, one row. */
static at_msg_t *
s_msg (const char *seed, int64_t not_before_us, const char *trace_id)
{
  uint8_t mac[32];
  at_msg_t *msg = at_msg_new (AT_STAGE_SURVEY, AT_RETENTION_TYPE, AT_RETENTION_KEY, trace_id,
                              NULL, 0);
  if (!msg)
    return NULL;
  at_hmac_sha256 (S_ID_KEY, strlen (S_ID_KEY), seed, strlen (seed), mac);
  mac[6] = (uint8_t) ((mac[6] & 0x0f) | 0x80);
  mac[8] = (uint8_t) ((mac[8] & 0x3f) | 0x80);
  size_t used = 0;
  for (int i = 0; i < 16; i++) {
    bool dash = i == 4 || i == 6 || i == 8 || i == 10;
    used += (size_t) snprintf (msg->id + used, sizeof msg->id - used, "%s%02x", dash ? "-" : "",
                               mac[i]);
  }
  msg->not_before_us = not_before_us;
  return msg;
}

at_msg_t *
at_retention_msg_at (int64_t at_us, long interval_s, const char *trace_id)
{
  char seed[96];
  if (interval_s < 1 || at_us < 0)
    return NULL;
  snprintf (seed, sizeof seed, "run:%ld:%" PRId64, interval_s,
            at_us / ((int64_t) interval_s * 1000000));
  return s_msg (seed, at_us, trace_id);
}

at_msg_t *
at_retention_msg_after (const at_msg_t *run)
{
  char seed[96];
  if (!run)
    return NULL;
  snprintf (seed, sizeof seed, "after:%s", run->id);
  return s_msg (seed, 0, run->trace_id);
}

int
at_store_retention_start (at_store_t *store, long interval_s, int shard_count, bool *started_out)
{
  long pending = 0;
  size_t inserted = 0;
  *started_out = false;
  at_msg_t *run = at_retention_msg_at (at_now_us (), interval_s, NULL);
  if (!run)
    return AT_INVALID;
  int rc = at_store_begin (store);
  if (rc == AT_OK)
    rc = at_store_retention_lock (store);
  if (rc == AT_OK)
    rc = at_store_retention_pending (store, NULL, &pending);
  if (rc == AT_OK && pending == 0)
    rc = at_store_bus_insert_sharded (store, &run, 1, shard_count, &inserted);
  if (rc == AT_OK)
    rc = at_store_commit (store);
  if (rc != AT_OK)
    at_store_rollback (store);
  else if (inserted == 1) {
    *started_out = true;
    at_info (S_COMP, "msg=\"retention schedule started\" message_id=%s", run->id);
  }
  at_msg_destroy (&run);
  return rc;
}
