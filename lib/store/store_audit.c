/* Reading the audit log (at_store_audit.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "at_store_audit.h"

/* NULL parameters are no filter; one more row than asked tells whether
 * there is a next page. */
static const at_sql_t SQL_AUDIT_LIST = {"audit_list",
  "SELECT id, to_char (at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), actor,"
  " action, target, detail::text, host (addr)"
  " FROM audit_log"
  " WHERE ($1::text IS NULL OR actor = $1::text)"
  "  AND ($2::text IS NULL OR action = $2::text)"
  "  AND ($3::bigint IS NULL OR at >= to_timestamp ($3::bigint / 1000000.0))"
  "  AND ($4::bigint IS NULL OR at < to_timestamp ($4::bigint / 1000000.0))"
  "  AND ($5::bigint IS NULL OR id < $5::bigint)"
  " ORDER BY id DESC LIMIT $6::int", 6};

/* column c of row r as a JSON string, or null when SQL NULL */
static json_t *
s_text (PGresult *res, int r, int c)
{
  json_t *v = PQgetisnull (res, r, c) ? NULL : json_string (PQgetvalue (res, r, c));
  return v ? v : json_null ();
}

static json_t *
s_row (PGresult *res, int r)
{
  json_t *detail = json_loads (PQgetvalue (res, r, 5), 0, NULL);
  if (!json_is_object (detail)) {
    json_decref (detail);
    detail = json_object ();
  }
  return json_pack ("{s:I, s:s, s:o, s:o, s:o, s:o, s:o}", "id",
                    (json_int_t) strtoll (PQgetvalue (res, r, 0), NULL, 10), "at",
                    PQgetvalue (res, r, 1), "actor", s_text (res, r, 2), "action",
                    s_text (res, r, 3), "target", s_text (res, r, 4), "detail", detail, "addr",
                    s_text (res, r, 6));
}

static bool
s_filter_ok (const at_audit_filter_t *f)
{
  return f->limit >= 1 && f->limit <= AT_AUDIT_LIST_MAX && f->before >= 0
         && (f->actor == NULL || strlen (f->actor) < AT_AUTH_ACTOR_LEN)
         && (f->action == NULL || strlen (f->action) <= AT_AUDIT_ACTION_MAX);
}

int
at_store_audit_list (at_store_t *store, const at_audit_filter_t *f, json_t **items_out,
                     int64_t *next_out)
{
  char since[24], until[24], before[24], limit[16];
  *items_out = NULL;
  *next_out = 0;
  if (!s_filter_ok (f))
    return AT_INVALID;
  snprintf (since, sizeof since, "%" PRId64, f->since_us);
  snprintf (until, sizeof until, "%" PRId64, f->until_us);
  snprintf (before, sizeof before, "%" PRId64, f->before);
  snprintf (limit, sizeof limit, "%d", f->limit + 1);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_AUDIT_LIST, f->actor, f->action,
                       f->has_since ? since : NULL, f->has_until ? until : NULL,
                       f->before > 0 ? before : NULL, limit);
  if (rc != AT_OK)
    return rc;
  int n = PQntuples (res);
  json_t *items = json_array ();
  for (int r = 0; r < n && r < f->limit; r++)
    json_array_append_new (items, s_row (res, r));
  if (n > f->limit)
    *next_out = strtoll (PQgetvalue (res, f->limit - 1, 0), NULL, 10);
  PQclear (res);
  *items_out = items;
  return AT_OK;
}
