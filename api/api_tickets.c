/* api_tickets: GET /v1/tickets/{id} (the ticket, its messages, SLA clocks, desk,
 * what the inbox adds: notes, the customer; with an ETag), and the
 * agents' actions on it, published to route: POST .../replies, .../resolve.
 * An action is recorded under the caller (api_auth.c: the signed-in
 * person's name, or key:<id> for a machine key); an "agent" field of the
 * body, which clients sent before the door was locked, is ignored. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api_internal.h"
#include "at_json.h"
#include "at_log.h"
#include "at_store_query.h"
#include "at_store_desk.h"
#include "at_store_sla.h"
#include "at_store_inbox.h"
#include "domain.pb-c.h"

#define S_TEXT_MAX (64 * 1024)

static json_t *
s_text_or_null (const char *text)
{
  json_t *v = text ? json_string (text) : NULL;
  return v ? v : json_null ();
}

/* "agency,negative_tone" as ["agency", "negative_tone"]; [] for none. */
static json_t *
s_reasons_json (const char *reasons)
{
  json_t *a = json_array ();
  for (const char *p = reasons; p && *p;) {
    size_t len = strcspn (p, ",");
    if (len)
      json_array_append_new (a, json_stringn (p, len));
    p += len + (p[len] == ',');
  }
  return a;
}

static json_t *
s_ticket_json (const at_ticket_view_t *t)
{
  json_t *messages = json_array ();
  for (size_t i = 0; i < t->message_count; i++) {
    const at_ticket_message_view_t *m = &t->messages[i];
    json_t *jm = json_object ();
    json_object_set_new (jm, "id", json_integer (m->id));
    json_object_set_new (jm, "direction", s_text_or_null (m->direction));
    json_object_set_new (jm, "author", s_text_or_null (m->author));
    json_object_set_new (jm, "channel", s_text_or_null (m->channel));
    if (m->agent)
      json_object_set_new (jm, "agent", json_string (m->agent));
    json_object_set_new (jm, "body", s_text_or_null (m->body));
    json_object_set_new (jm, "created_at", s_text_or_null (m->created_at));
    json_array_append_new (messages, jm);
  }
  json_t *j = json_object ();
  json_object_set_new (j, "id", json_integer (t->id));
  json_object_set_new (j, "customer_id", json_integer (t->customer_id));
  json_object_set_new (j, "channel", s_text_or_null (t->channel));
  json_object_set_new (j, "status", s_text_or_null (t->status));
  json_object_set_new (j, "intent", s_text_or_null (t->intent));
  json_object_set_new (j, "intent_confidence", t->intent_confidence < 0 ? json_null ()
                       : json_real (round (t->intent_confidence * 1000) / 1000));
  json_object_set_new (j, "priority", s_text_or_null (t->priority));
  json_object_set_new (j, "priority_reasons", s_reasons_json (t->priority_reason));
  json_object_set_new (j, "language", s_text_or_null (t->language));
  json_object_set_new (j, "auto_answered", json_boolean (t->auto_answered));
  json_object_set_new (j, "created_at", s_text_or_null (t->created_at));
  json_object_set_new (j, "first_response_due", s_text_or_null (t->first_response_due));
  json_object_set_new (j, "first_response_at", s_text_or_null (t->first_response_at));
  json_object_set_new (j, "resolved_at", s_text_or_null (t->resolved_at));
  json_object_set_new (j, "handoff_reason", s_text_or_null (t->handoff_reason));
  json_object_set_new (j, "handoff_at", s_text_or_null (t->handoff_at));
  json_object_set_new (j, "messages", messages);
  return j;
}

void
api_tickets_get (api_request_t *req)
{
  int64_t id;
  at_ticket_view_t *ticket = NULL;
  if (!api_param_id (req, &id)) {
    api_reply_not_found (req, "no ticket with this id");
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  int rc = at_query_ticket (store, id, &ticket);
  if (rc == AT_NOTFOUND)
    api_reply_not_found (req, "no ticket with this id");
  else if (rc != AT_OK)
    api_reply_store_failed (req);
  json_t *sla = NULL;                  /* the SLA clocks (lib/store/store_sla_api.c) */
  if (rc == AT_OK && at_store_sla_clocks_json (store, id, &sla) != AT_OK) {
    rc = AT_ERROR;
    api_reply_store_failed (req);
  }
  json_t *desk = NULL;                 /* team, queue, assignee (store_desk_api.c) */
  if (rc == AT_OK && at_store_desk_ticket_json (store, id, &desk) != AT_OK) {
    rc = AT_ERROR;
    json_decref (sla);
    api_reply_store_failed (req);
  }
  json_t *inbox = NULL;   /* notes, snoozed_until, subject, customer (store_inbox.c) */
  if (rc == AT_OK && at_store_inbox_ticket_json (store, id, &inbox) != AT_OK) {
    rc = AT_ERROR;
    json_decref (sla);
    json_decref (desk);
    api_reply_store_failed (req);
  }
  if (rc == AT_OK) {
    json_t *doc = s_ticket_json (ticket);
    json_object_set_new (doc, "sla", sla);
    json_object_set_new (doc, "desk", desk);
    json_object_update (doc, inbox);
    json_decref (inbox);
    api_reply_json_tagged (req, doc, "private, no-cache");   /* polled by the inbox */
  }
  at_ticket_view_destroy (&ticket);
}

static at_msg_t *
s_msg (const char *type, int64_t ticket_id, const ProtobufCMessage *pb, const char *trace_id)
{
  char key[AT_KEY_LEN];
  size_t len = protobuf_c_message_get_packed_size (pb);
  uint8_t *payload = at_malloc (len + 1);
  protobuf_c_message_pack (pb, payload);
  snprintf (key, sizeof key, "ticket:%lld", (long long) ticket_id);
  at_msg_t *msg = at_msg_new (AT_STAGE_ROUTE, type, key, trace_id, payload, len);
  free (payload);
  return msg;
}

int
api_reply_parse (int64_t ticket_id, const char *agent, const char *body, size_t len,
                 const char *trace_id, at_msg_t **out, api_problem_t *p)
{
  const char *text;
  int rc = AT_INVALID;
  json_t *obj = api_body_object (body, len, p);
  if (!obj)
    return AT_INVALID;
  if (api_field_string (obj, "text", S_TEXT_MAX, true, &text, p))
    goto out;
  Atende__AgentReply reply = ATENDE__AGENT_REPLY__INIT;
  reply.ticket_id = ticket_id;
  reply.agent = (char *) agent;
  reply.text = (char *) text;
  *out = s_msg (AT_TYPE_TICKET_REPLY, ticket_id, &reply.base, trace_id);
  rc = *out ? AT_OK : AT_ERROR;
out:
  json_decref (obj);
  return rc;
}

int
api_resolve_parse (int64_t ticket_id, const char *agent, const char *body, size_t len,
                   const char *trace_id, at_msg_t **out, api_problem_t *p)
{
  int rc = AT_INVALID;
  json_t *obj = len > 0 ? api_body_object (body, len, p) : json_object ();
  if (!obj)
    return AT_INVALID;
  Atende__TicketResolve resolve = ATENDE__TICKET_RESOLVE__INIT;
  resolve.ticket_id = ticket_id;
  resolve.agent = (char *) (agent ? agent : "");
  *out = s_msg (AT_TYPE_TICKET_RESOLVE, ticket_id, &resolve.base, trace_id);
  rc = *out ? AT_OK : AT_ERROR;
  json_decref (obj);
  return rc;
}

typedef int (s_parse_fn) (int64_t, const char *, const char *, size_t, const char *,
                          at_msg_t **, api_problem_t *);

/* The audit row of an accepted action, under the caller. The action goes
 * to the bus, not into a transaction of ours: the row is written right after
 * the broker confirmed it (a failed write is logged; the action stands). */
static void
s_audit (api_request_t *req, const char *action, int64_t ticket_id, const char *msg_id)
{
  char target[32];
  snprintf (target, sizeof target, "ticket:%lld", (long long) ticket_id);
  at_store_t *store = api_store (req);
  json_t *detail = json_pack ("{s:s}", "message_id", msg_id);
  if (!store || at_store_audit (store, req->caller.actor, action, target, detail, req->peer)
                    != AT_OK)
    at_warn ("api", "msg=\"audit row not written\" action=%s ticket=%lld actor=%s"
             " request_id=%s", action, (long long) ticket_id, req->caller.actor,
             req->request_id);
  json_decref (detail);
}

/* Validates the body, checks the ticket exists, publishes: 202. */
static void
s_action (api_request_t *req, s_parse_fn *parse, const char *action)
{
  api_problem_t p;
  at_msg_t *msg = NULL;
  int64_t id;
  if (!api_param_id (req, &id)) {
    api_reply_not_found (req, "no ticket with this id");
    return;
  }
  if (!req->caller.agent[0]) {   /* the route needs tickets:write: a caller was found */
    api_problem (&p, 500, NULL, "no caller to record the action under");
    api_reply_problem (req, &p);
    return;
  }
  if (parse (id, req->caller.agent, req->body, req->body_len, api_trace_id (req), &msg, &p)
      != AT_OK) {
    api_reply_problem (req, &p);
    return;
  }
  at_store_t *store = api_store (req);
  int rc = store ? at_query_ticket_exists (store, id) : AT_AGAIN;
  if (rc == AT_NOTFOUND)
    api_reply_not_found (req, "no ticket with this id");
  else if (rc != AT_OK && store)
    api_reply_store_failed (req);
  else if (rc == AT_OK && api_publish (req, msg) == AT_OK) {
    s_audit (req, action, id, msg->id);
    api_reply_json (req, 202, json_pack ("{s:s, s:s}", "id", msg->id, "status", "accepted"));
  }
  at_msg_destroy (&msg);
}

void
api_tickets_reply_post (api_request_t *req)
{
  s_action (req, api_reply_parse, "ticket.reply");
}

void
api_tickets_resolve_post (api_request_t *req)
{
  s_action (req, api_resolve_parse, "ticket.resolve");
}
