/* api_inbox: the agents' inbox over the JSON api.
 *   GET  /v1/tickets?view=&channel=&intent=&priority=&status=&within=&limit=
 *        the lists a person works from (at_store_inbox.h); the answer's ETag
 *        is its fingerprint (api_reply_tagged), so the page polls every few
 *        seconds and gets 304 (no body, no work for the browser) while
 *        nothing moved
 *   POST /v1/tickets/{id}/notes {text}    an internal note, under the caller
 *   POST /v1/tickets/{id}/snooze {until}  hidden from the lists until then
 * A note and a snooze are written with their audit row (ticket.note,
 * ticket.snooze) in one transaction; nothing goes to the customer. */
#include <stdio.h>
#include <string.h>
#include "api_inbox.h"
#include "at_time.h"

#define S_ARG_MAX 32

static const char *const s_views[] = { "mine", "team", "unassigned", "breaching" };
static const char *const s_statuses[] = { "open", "pending", "resolved" };

/* A filter value: absent, or 1..S_ARG_MAX bytes of [a-z0-9_-]. */
static int
s_word (api_arg_fn *arg, const void *ctx, const char *name, const char **out, api_problem_t *p)
{
  const char *v = arg (ctx, name);
  size_t n = v ? strlen (v) : 0;
  *out = (v && n) ? v : NULL;
  if (!*out)
    return AT_OK;
  bool ok = n <= S_ARG_MAX;
  for (size_t i = 0; ok && i < n; i++)
    ok = (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '_'
         || v[i] == '-';
  if (!ok)
    return api_problem (p, 400, name, "%s must be 1 to %d characters of a-z, 0-9, _ and -",
                        name, S_ARG_MAX);
  return AT_OK;
}

static int
s_int (api_arg_fn *arg, const void *ctx, const char *name, long lo, long hi, int *out,
       api_problem_t *p)
{
  const char *v = arg (ctx, name);
  long value = 0;
  if (!v)
    return AT_OK;
  if (at_parse_long (v, lo, hi, &value) != AT_OK)
    return api_problem (p, 400, name, "%s must be an integer from %ld to %ld", name, lo, hi);
  *out = (int) value;
  return AT_OK;
}

static int
s_one_of (const char *v, const char *const *names, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    if (strcmp (v, names[i]) == 0)
      return (int) i;
  return -1;
}

int
api_inbox_filter_parse (api_arg_fn *arg, const void *ctx, int64_t user_id,
                        at_inbox_filter_t *f, api_problem_t *p)
{
  const char *view = NULL;
  memset (f, 0, sizeof *f);
  f->user_id = user_id;
  f->limit = AT_INBOX_LIST_DEFAULT;
  f->within_min = AT_INBOX_WITHIN_DEFAULT_MIN;
  if (s_word (arg, ctx, "view", &view, p) || s_word (arg, ctx, "channel", &f->channel, p)
      || s_word (arg, ctx, "intent", &f->intent, p)
      || s_word (arg, ctx, "priority", &f->priority, p)
      || s_word (arg, ctx, "status", &f->status, p)
      || s_int (arg, ctx, "limit", 1, AT_INBOX_LIST_MAX, &f->limit, p)
      || s_int (arg, ctx, "within", 1, AT_INBOX_WITHIN_MAX_MIN, &f->within_min, p))
    return AT_INVALID;
  int v = view ? s_one_of (view, s_views, AT_ARRAY_LEN (s_views)) : AT_INBOX_MINE;
  if (v < 0)
    return api_problem (p, 400, "view", "view must be mine, team, unassigned or breaching");
  if (f->status && s_one_of (f->status, s_statuses, AT_ARRAY_LEN (s_statuses)) < 0)
    return api_problem (p, 400, "status", "status must be open, pending or resolved");
  f->view = (at_inbox_view_t) v;
  if (f->view == AT_INBOX_MINE && user_id <= 0)
    return api_problem (p, 422, "view", "view=mine needs a signed-in person, not a key");
  return AT_OK;
}

static const char *
s_query_arg (const void *ctx, const char *name)
{
  return api_query (ctx, name);
}

/* The caller's own user id: a signed-in person's, 0 for a key. */
static int64_t
s_user (const api_request_t *req)
{
  return req->caller.kind == API_CALLER_SESSION ? req->caller.session.user_id : 0;
}

void
api_inbox_list (api_request_t *req)
{
  api_problem_t p;
  at_inbox_filter_t f;
  json_t *items = NULL;
  if (api_inbox_filter_parse (s_query_arg, req, s_user (req), &f, &p) != AT_OK) {
    api_reply_problem (req, &p);
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  if (at_store_inbox_list (store, &f, &items) != AT_OK) {
    api_reply_store_failed (req);
    return;
  }
  api_reply_json_tagged (req, json_pack ("{s:s, s:o}", "view", s_views[f.view], "items", items),
                         "private, no-cache");
}

/* --- a note, a snooze: one change with its audit row */

typedef struct {
  int64_t ticket_id;
  const char *text;           /* the note, or the snooze's until */
  int64_t id;                 /* the note's */
} s_change_t;

static int
s_note_add (api_request_t *req, at_store_t *store, void *arg)
{
  s_change_t *c = arg;
  return at_store_inbox_note_add (store, c->ticket_id, s_user (req), req->caller.agent,
                                  c->text, &c->id);
}

static int
s_snooze (api_request_t *req, at_store_t *store, void *arg)
{
  (void) req;
  s_change_t *c = arg;
  return at_store_inbox_snooze (store, c->ticket_id, c->text);
}

/* The ticket id and the body's one string field; false with the answer queued. */
static bool
s_body (api_request_t *req, const char *field, size_t max, s_change_t *c, json_t **obj)
{
  api_problem_t p;
  *obj = NULL;
  if (!api_param_id (req, &c->ticket_id)) {
    api_reply_not_found (req, "no ticket with this id");
    return false;
  }
  *obj = api_body_object (req->body, req->body_len, &p);
  if (!*obj || api_field_string (*obj, field, max, true, &c->text, &p) != AT_OK) {
    api_reply_problem (req, &p);
    return false;
  }
  return true;
}

/* Runs the change audited; answers 404, 503 or nothing (the caller answers). */
static int
s_audited (api_request_t *req, api_change_fn *change, s_change_t *c, const char *action,
           json_t *detail)
{
  char target[32];
  snprintf (target, sizeof target, "ticket:%lld", (long long) c->ticket_id);
  at_store_t *store = api_store (req);
  if (!store) {
    json_decref (detail);
    return AT_ERROR;
  }
  int rc = api_audited (req, store, change, c, action, target, detail);
  if (rc == AT_NOTFOUND)
    api_reply_not_found (req, "no ticket with this id");
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  return rc;
}

void
api_inbox_note_post (api_request_t *req)
{
  s_change_t c = { 0 };
  json_t *obj = NULL;
  if (s_body (req, "text", AT_INBOX_NOTE_MAX, &c, &obj)
      && s_audited (req, s_note_add, &c, "ticket.note", NULL) == AT_OK)
    api_reply_json (req, 201, json_pack ("{s:I, s:I, s:s}", "id", (json_int_t) c.id,
                                         "ticket_id", (json_int_t) c.ticket_id, "author",
                                         req->caller.agent));
  json_decref (obj);
}

void
api_inbox_snooze_post (api_request_t *req)
{
  api_problem_t p;
  s_change_t c = { 0 };
  json_t *obj = NULL;
  int64_t until_us = 0;
  if (!s_body (req, "until", 64, &c, &obj))
    goto out;
  if (at_rfc3339_parse (c.text, &until_us) != AT_OK) {
    api_problem (&p, 422, "until", "until must be an RFC 3339 date-time"
                 " (2026-12-08T09:00:00-03:00)");
    api_reply_problem (req, &p);
    goto out;
  }
  if (s_audited (req, s_snooze, &c, "ticket.snooze", json_pack ("{s:s}", "until", c.text))
      == AT_OK)
    api_reply_json (req, 200, json_pack ("{s:I, s:s, s:b}", "ticket_id",
                                         (json_int_t) c.ticket_id, "snoozed_until", c.text,
                                         "snoozed", until_us > at_now_us ()));
out:
  json_decref (obj);
}
