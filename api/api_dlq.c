/* api_dlq: GET /v1/dlq, GET /v1/dlq/{id}, POST /v1/dlq/{id}/replay (api_dlq.h). */
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include "api_dlq.h"
#include "at_store_dlq.h"
#include "at_log.h"

#define S_LIST_DEFAULT 50

static const char *
s_query (const api_request_t *req, const char *name)
{
  if (req->conn == NULL)
    return NULL;
  return MHD_lookup_connection_value (req->conn, MHD_GET_ARGUMENT_KIND, name);
}

static void
s_problem (api_request_t *req, int status, const char *field, const char *detail, const char *id)
{
  api_problem_t p;
  api_problem (&p, status, field, "%s%s%.64s", detail, id ? ": " : "", id ? id : "");
  api_reply_problem (req, &p);
}

void
api_dlq_list (api_request_t *req)
{
  const char *stage = s_query (req, "stage"), *limit_text = s_query (req, "limit");
  long limit = S_LIST_DEFAULT;
  if (limit_text && at_parse_long (limit_text, 1, AT_DLQ_LIST_MAX, &limit) != AT_OK) {
    s_problem (req, 400, "limit", "limit must be an integer from 1 to 1000", NULL);
    return;
  }
  if (stage && (*stage == '\0' || strlen (stage) >= AT_STAGE_LEN)) {
    s_problem (req, 400, "stage", "stage must be a stage name", NULL);
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  at_dlq_entry_t *entries = NULL;
  size_t n = 0;
  if (at_dlq_list (store, stage, (int) limit, &entries, &n) != AT_OK) {
    api_reply_store_failed (req);
    return;
  }
  json_t *items = json_array ();
  for (size_t i = 0; i < n; i++)
    json_array_append_new (items, at_dlq_entry_json (&entries[i], false));
  at_dlq_entries_free (&entries, n);
  api_reply_json (req, 200, json_pack ("{s:o, s:I}", "items", items, "count", (json_int_t) n));
}

void
api_dlq_get (api_request_t *req)
{
  if (!at_uuid_valid (req->param)) {
    s_problem (req, 404, NULL, "no dead letter with this id (ids are UUIDs)", NULL);
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  at_dlq_entry_t entry;
  at_dlq_where_t where;
  int rc = at_dlq_get (store, req->param, &entry, &where);
  if (rc == AT_NOTFOUND)
    s_problem (req, 404, NULL, where == AT_DLQ_PENDING
               ? "not a dead letter: pending on the bus" : "no dead letter with this id",
               req->param);
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  else
    api_reply_json (req, 200, at_dlq_entry_json (&entry, true));
  at_dlq_entry_clear (&entry);
}

/* The audit row of a replay, under the caller. at_dlq_replay commits its
 * own transaction: the row is written right after it succeeded (a failed
 * write is logged; the replay stands). */
static void
s_replay_audit (api_request_t *req, at_store_t *store)
{
  char target[64];
  snprintf (target, sizeof target, "dlq:%.36s", req->param);
  if (at_store_audit (store, req->caller.actor, "dlq.replay", target, NULL, req->peer) != AT_OK)
    at_warn ("api", "msg=\"audit row not written\" action=dlq.replay id=%s actor=%s"
             " request_id=%s", req->param, req->caller.actor, req->request_id);
}

void
api_dlq_replay (api_request_t *req)
{
  if (!at_uuid_valid (req->param)) {
    s_problem (req, 404, NULL, "no dead letter with this id (ids are UUIDs)", NULL);
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  at_dlq_where_t where;
  int rc = at_dlq_replay (store, req->param, at_config_shards (req->cfg), &where);
  if (rc == AT_NOTFOUND && where == AT_DLQ_PENDING)
    s_problem (req, 409, NULL, "not a dead letter: already replayed and pending; nothing changed",
               req->param);
  else if (rc == AT_NOTFOUND)
    s_problem (req, 404, NULL, "no dead letter with this id; nothing changed", req->param);
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  else {
    at_info ("api", "msg=\"dead letter replayed\" id=%s request_id=%s", req->param,
             req->request_id);
    s_replay_audit (req, store);
    api_reply_json (req, 200, json_pack ("{s:s, s:s, s:i}", "id", req->param, "status",
                                         "pending", "attempt", 1));
  }
}
