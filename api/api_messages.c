/* api_messages: POST /v1/messages (a customer's message from a channel,
 * published to ingest) and GET /v1/messages/{id} (where it is now). */
#include <stdlib.h>
#include <string.h>
#include "api_internal.h"
#include "at_channel.h"
#include "at_json.h"
#include "at_store_query.h"
#include "domain.pb-c.h"

#define S_CHANNEL_MAX 32
#define S_TEXT_MAX (64 * 1024)
#define S_PROVIDER_ID_MAX 256
#define S_NAME_MAX 256
#define S_SUBJECT_MAX 998          /* RFC 5322 line limit */
#define S_LANGUAGE_MAX 16

/* A BCP 47-ish tag: letters, digits and '-', starting with a letter. */
static bool
s_language_ok (const char *tag)
{
  if (!((tag[0] >= 'a' && tag[0] <= 'z') || (tag[0] >= 'A' && tag[0] <= 'Z')))
    return false;
  for (const char *c = tag; *c; c++) {
    bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
              || *c == '-';
    if (!ok)
      return false;
  }
  return true;
}

int
api_inbound_parse (const char *body, size_t len, const char *key_secret, const char *trace_id,
                   at_msg_t **out, api_problem_t *p)
{
  const char *channel, *handle, *text, *provider_id, *name, *subject, *language;
  char normalized[AT_HANDLE_MAX];
  int rc = AT_INVALID;
  json_t *obj = api_body_object (body, len, p);
  if (!obj)
    return AT_INVALID;
  if (api_field_string (obj, "channel", S_CHANNEL_MAX, true, &channel, p)
      || api_field_string (obj, "handle", AT_HANDLE_MAX - 1, true, &handle, p)
      || api_field_string (obj, "text", S_TEXT_MAX, true, &text, p)
      || api_field_string (obj, "provider_message_id", S_PROVIDER_ID_MAX, true, &provider_id, p)
      || api_field_string (obj, "name", S_NAME_MAX, false, &name, p)
      || api_field_string (obj, "subject", S_SUBJECT_MAX, false, &subject, p)
      || api_field_string (obj, "language", S_LANGUAGE_MAX, false, &language, p))
    goto out;
  if (!at_channel_known (channel)) {
    api_problem (p, 422, "channel", "unknown channel; one of email whatsapp sms chat "
                 "messenger instagram form");
    goto out;
  }
  if (at_channel_normalize_handle (channel, handle, normalized, sizeof normalized) != AT_OK) {
    api_problem (p, 422, "handle", "not a valid %s handle", channel);
    goto out;
  }
  if (language && !s_language_ok (language)) {
    api_problem (p, 422, "language", "not a language tag (pt, en, es ...)");
    goto out;
  }
  Atende__InboundMessage in = ATENDE__INBOUND_MESSAGE__INIT;
  in.channel = (char *) channel;
  in.handle = normalized;
  in.name = (char *) (name ? name : "");
  in.text = (char *) text;
  in.provider_message_id = (char *) provider_id;
  in.received_us = at_now_us ();
  in.subject = (char *) (subject ? subject : "");
  in.language = (char *) (language ? language : "");
  *out = api_inbound_msg (&in, key_secret, trace_id);
  rc = *out ? AT_OK : api_problem (p, 422, "handle", "the handle is too long");
out:
  json_decref (obj);
  return rc;
}

void
api_messages_post (api_request_t *req)
{
  api_problem_t p;
  at_msg_t *msg = NULL;
  if (api_inbound_parse (req->body, req->body_len, req->cfg->bus_key_secret, api_trace_id (req),
                         &msg, &p) != AT_OK) {
    api_reply_problem (req, &p);
    return;
  }
  if (api_publish (req, msg) == AT_OK) {
    json_t *answer = json_pack ("{s:s, s:s}", "id", msg->id, "status", "accepted");
    snprintf (req->location, sizeof req->location, "/v1/messages/%s", msg->id);
    api_reply_json (req, 202, answer);
  }
  at_msg_destroy (&msg);
}

void
api_messages_get (api_request_t *req)
{
  api_problem_t p;
  at_message_status_t status;
  if (!at_uuid_valid (req->param)) {
    api_problem (&p, 404, NULL, "no message with this id");
    api_reply_problem (req, &p);
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  int rc = at_query_message_status (store, req->param, &status);
  if (rc == AT_NOTFOUND) {
    api_problem (&p, 404, NULL, "no message with this id");
    api_reply_problem (req, &p);
    return;
  }
  if (rc != AT_OK) {
    api_reply_store_failed (req);
    return;
  }
  json_t *answer = json_pack ("{s:s}", "id", req->param);
  if (status.state == AT_BUS_STATE_PROCESSED) {
    json_object_set_new (answer, "ticket_id", json_integer (status.ticket_id));
    json_object_set_new (answer, "state", json_string ("processed"));
  }
  else if (status.state == AT_BUS_STATE_PENDING)
    json_object_set_new (answer, "state", json_string ("pending"));
  else {
    json_object_set_new (answer, "state", json_string ("dead"));
    json_object_set_new (answer, "reason", json_string (status.reason));
  }
  api_reply_json (req, 200, answer);
}
