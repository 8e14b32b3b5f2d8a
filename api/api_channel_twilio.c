/* api_channel_twilio: Twilio Programmable Messaging webhooks, SMS and
 * WhatsApp. A form body is checked with X-Twilio-Signature over the public
 * URL plus the sorted parameters; a JSON body with the bodySHA256 variant.
 * An incoming message (From, Body, MessageSid; "whatsapp:+55..." for
 * WhatsApp) goes to ingest; a status callback (MessageStatus without Body)
 * to notify. Twilio gets an empty TwiML answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api_channels.h"
#include "at_channel_sig.h"
#include "at_form.h"
#include "at_json.h"
#include "at_log.h"

static const char s_twiml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";

/* A flat JSON object's string fields as a form (the JSON variant). */
static int
s_json_fields (const char *body, size_t len, at_form_t **out, char *reason, size_t cap)
{
  const char *key;
  json_t *value;
  int rc = AT_OK;
  *out = NULL;
  json_t *obj = at_json_parse_object (body, len, reason, cap);
  if (!obj)
    return AT_INVALID;
  at_form_t *form = at_form_new ();
  json_object_foreach (obj, key, value)
    if (json_is_string (value) && rc == AT_OK
        && strlen (json_string_value (value)) == json_string_length (value))
      rc = at_form_add (form, key, json_string_value (value));
  json_decref (obj);
  if (rc != AT_OK) {
    snprintf (reason, cap, "too many fields or a bad field name");
    at_form_destroy (&form);
    return AT_INVALID;
  }
  *out = form;
  return AT_OK;
}

/* "whatsapp:+5511..." -> whatsapp, "+5511..."; anything else sms. */
static const char *
s_channel_of (const char *from, const char **handle)
{
  if (strncmp (from, "whatsapp:", 9) == 0) {
    *handle = from + 9;
    return "whatsapp";
  }
  *handle = from;
  return "sms";
}

/* Publishes what the form carries; false when an answer is already set. */
static bool
s_publish (api_request_t *req, const at_form_t *form)
{
  const char *sid = at_form_get (form, "MessageSid");
  const char *body = at_form_get (form, "Body");
  const char *from = at_form_get (form, "From");
  const char *status = at_form_get (form, "MessageStatus");
  if (!sid)
    sid = at_form_get (form, "SmsSid");
  if (!sid)
    return true;   /* not a messaging event: acknowledged, nothing to do */
  if (!body && status) {
    const char *code = at_form_get (form, "ErrorCode");
    int rc = api_channel_publish_status (req, "twilio", sid, status, 0, code ? code : "");
    return rc == AT_OK || rc == AT_INVALID;
  }
  if (!from)
    return true;
  const char *num_media = at_form_get (form, "NumMedia");
  const char *text = body;
  if ((!text || !text[0]) && num_media && strcmp (num_media, "0") != 0)
    text = "[media]";
  api_channel_inbound_t in = {
    .provider_message_id = sid, .text = text, .name = at_form_get (form, "ProfileName"),
  };
  in.channel = s_channel_of (from, &in.handle);
  int rc = api_channel_publish (req, &in);
  return rc == AT_OK || rc == AT_INVALID;
}

void
api_channel_twilio_post (api_request_t *req)
{
  char reason[160];
  at_form_t *form = NULL;
  const char *body = req->body ? req->body : "";
  bool json = api_content_is (req, "application/json");
  int parsed = json ? s_json_fields (body, req->body_len, &form, reason, sizeof reason)
                    : at_form_parse (body, req->body_len, &form, reason, sizeof reason);
  if (!api_channel_twilio_signed (req, form, json, parsed))
    goto out;
  if (parsed != AT_OK) {
    api_problem_t p;
    api_problem (&p, 400, NULL, "the body is not a flat JSON object: %s", reason);
    api_reply_problem (req, &p);
    goto out;
  }
  if (!json && !api_content_is (req, "application/x-www-form-urlencoded")) {
    api_channel_refuse (req, 415, "the body must be application/x-www-form-urlencoded or "
                        "application/json");
    goto out;
  }
  if (s_publish (req, form))
    api_reply_text (req, 200, "text/xml", at_strdup (s_twiml));
out:
  at_form_destroy (&form);
}
