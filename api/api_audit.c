/* api_audit: GET /v1/audit?actor=&action=&since=&until=&before=&limit= (api_access.h):
 * the audit log, newest first, for admins. since and until are RFC 3339
 * date-times (at >= since, at < until); limit 1..1000 (100 when absent);
 * the answer's "next" is the cursor of the next page, to pass as before=
 * (null on the last page). Reading the log writes no row of its own. */
#include <string.h>
#include "api_access.h"
#include "at_store_audit.h"
#include "at_time.h"

/* A time argument: absent, or RFC 3339 into *us. */
static int
s_time_arg (const api_request_t *req, const char *name, bool *has, int64_t *us, api_problem_t *p)
{
  const char *text = api_query (req, name);
  *has = text != NULL;
  if (text && at_rfc3339_parse (text, us) != AT_OK)
    return api_problem (p, 400, name, "%s must be an RFC 3339 date-time"
                        " (2026-11-22T18:00:00Z)", name);
  return AT_OK;
}

/* A text argument of 1..max bytes, or absent. */
static int
s_text_arg (const api_request_t *req, const char *name, size_t max, const char **out,
            api_problem_t *p)
{
  *out = api_query (req, name);
  if (*out && (**out == '\0' || strlen (*out) > max))
    return api_problem (p, 400, name, "%s must be 1 to %zu bytes", name, max);
  return AT_OK;
}

static int
s_filter (const api_request_t *req, at_audit_filter_t *f, api_problem_t *p)
{
  const char *limit = api_query (req, "limit"), *before = api_query (req, "before");
  long value = 0;
  memset (f, 0, sizeof *f);
  f->limit = AT_AUDIT_LIST_DEFAULT;
  if (limit && at_parse_long (limit, 1, AT_AUDIT_LIST_MAX, &value) != AT_OK)
    return api_problem (p, 400, "limit", "limit must be an integer from 1 to %d",
                        AT_AUDIT_LIST_MAX);
  if (limit)
    f->limit = (int) value;
  if (before && at_parse_long (before, 1, INT64_MAX, &value) != AT_OK)
    return api_problem (p, 400, "before", "before must be the \"next\" of a previous page");
  if (before)
    f->before = value;
  if (s_text_arg (req, "actor", AT_AUTH_ACTOR_LEN - 1, &f->actor, p) != AT_OK
      || s_text_arg (req, "action", AT_AUDIT_ACTION_MAX, &f->action, p) != AT_OK
      || s_time_arg (req, "since", &f->has_since, &f->since_us, p) != AT_OK
      || s_time_arg (req, "until", &f->has_until, &f->until_us, p) != AT_OK)
    return AT_INVALID;
  return AT_OK;
}

void
api_audit_list (api_request_t *req)
{
  api_problem_t p;
  at_audit_filter_t f;
  json_t *items = NULL;
  int64_t next = 0;
  if (s_filter (req, &f, &p) != AT_OK) {
    api_reply_problem (req, &p);
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  if (at_store_audit_list (store, &f, &items, &next) != AT_OK) {
    api_reply_store_failed (req);
    return;
  }
  api_reply_json (req, 200, json_pack ("{s:o, s:o}", "items", items, "next",
                                       next > 0 ? json_integer (next) : json_null ()));
}

int
api_audited (api_request_t *req, at_store_t *store, api_change_fn *change, void *arg,
             const char *action, const char *target, json_t *detail)
{
  int rc = at_store_begin (store);
  if (rc == AT_OK)
    rc = change (req, store, arg);
  if (rc == AT_OK)
    rc = at_store_audit (store, req->caller.actor, action, target, detail, req->peer);
  if (rc == AT_OK)
    rc = at_store_commit (store);
  if (rc != AT_OK)
    (void) at_store_rollback (store);
  json_decref (detail);
  return rc;
}
