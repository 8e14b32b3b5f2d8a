/* api_channel_voice: the store's telephone calls, channel "phone". A call
 * event (answered, missed, voicemail) becomes a customer's message on the
 * ticket like any other, text in the store's locale (at_call_summary),
 * dedup key "call:<id>:<event>":
 *   POST /v1/channels/twilio/voice   Twilio Voice status, <Record action> and
 *        transcription callbacks (form, X-Twilio-Signature over the public URL
 *        and the sorted parameters, ATENDE_TWILIO_AUTH_TOKEN); answers empty
 *        TwiML, also for what tells nothing (ringing, an agent's leg)
 *   POST /v1/channels/phone          atende's JSON (at_call.h), Standard
 *        Webhooks signed with ATENDE_PHONE_WEBHOOK_SECRET; answers 202
 * A bad or missing signature gets 401; bad input a problem naming the field;
 * nothing is published on either. */
#include <string.h>
#include "api_channels.h"
#include "at_call.h"
#include "at_channel_sig.h"
#include "at_crypto.h"
#include "at_form.h"
#include "at_log.h"
#include "at_order.h"
#include "at_text.h"

static const char s_twiml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";

/* Publishes the call on channel "phone". AT_OK; AT_INVALID (a 422 is set);
 * another failure with its answer set. */
static int
s_publish (api_request_t *req, const at_call_t *call, const char *name)
{
  char id[AT_CALL_MESSAGE_ID_MAX], text[AT_CALL_SUMMARY_MAX], safe[48];
  api_problem_t p;
  const char *locale = at_locale_pick (req->cfg->default_locale, NULL);
  if (at_call_message_id (call, id, sizeof id) != AT_OK
      || at_call_summary (call, locale, text, sizeof text) != AT_OK) {
    api_problem (&p, 422, NULL, "the call event is too long to store");
    api_reply_problem (req, &p);
    return AT_INVALID;
  }
  api_channel_inbound_t in = {
    .channel = "phone", .handle = call->customer, .name = name, .text = text,
    .provider_message_id = id, .received_us = call->occurred_us,
  };
  int rc = api_channel_publish (req, &in);
  if (rc == AT_INVALID) {
    api_problem (&p, 422, NULL, "the call event cannot be stored (see the api's log)");
    api_reply_problem (req, &p);
  }
  else if (rc == AT_OK)
    at_info ("api", "msg=\"call event published\" event=%s call_id=%s transcript=%d "
             "url_dropped=%d request_id=%s", at_call_event_name (call->event),
             at_text_safe_token (call->call_id, safe, sizeof safe), call->transcript[0] != 0,
             call->url_dropped, req->request_id);
  return rc;
}

/* --- Twilio Voice */

void
api_channel_twilio_voice_post (api_request_t *req)
{
  char reason[160] = "", field[32] = "", safe[48];
  at_form_t *form = NULL;
  int parsed = at_form_parse (req->body ? req->body : "", req->body_len, &form, reason,
                              sizeof reason);
  if (!api_channel_twilio_signed (req, form, false, parsed))
    goto out;
  if (!api_content_is (req, "application/x-www-form-urlencoded")) {
    api_channel_refuse (req, 415, "the body must be application/x-www-form-urlencoded");
    goto out;
  }
  at_call_t *call = at_malloc (sizeof *call);
  int rc = at_call_from_twilio (form, call, field, sizeof field, reason, sizeof reason);
  if (rc == AT_INVALID) {
    api_problem_t p;
    api_problem (&p, 422, field, "%s", reason);
    api_reply_problem (req, &p);
  }
  else if (rc == AT_NOTFOUND)
    at_info ("api", "msg=\"call event ignored\" reason=\"%s\" call_id=%s request_id=%s", reason,
             at_text_safe_token (call->call_id, safe, sizeof safe), req->request_id);
  if (rc == AT_NOTFOUND
      || (rc == AT_OK && s_publish (req, call, call->outbound ? NULL
                                                : at_form_get (form, "CallerName")) == AT_OK))
    api_reply_text (req, 200, "text/xml", at_strdup (s_twiml));
  free (call);
out:
  at_form_destroy (&form);
}

/* --- atende's JSON, Standard Webhooks */

void
api_channel_phone_post (api_request_t *req)
{
  char reason[160] = "", field[32] = "";
  if (!api_channel_standard_signed (req, req->cfg->phone_webhook_secret,
                                    "ATENDE_PHONE_WEBHOOK_SECRET", AT_CALL_ID_MAX))
    return;
  if (!api_content_is (req, "application/json")) {
    api_channel_refuse (req, 415, "the body must be application/json");
    return;
  }
  at_call_t *call = at_malloc (sizeof *call);
  if (at_call_from_json (req->body ? req->body : "", req->body_len, call, field, sizeof field,
                         reason, sizeof reason) != AT_OK) {
    api_problem_t p;
    api_problem (&p, field[0] ? 422 : 400, field[0] ? field : NULL, "%s", reason);
    api_reply_problem (req, &p);
  }
  else if (s_publish (req, call, NULL) == AT_OK)
    api_reply_json (req, 202, json_pack ("{s:s}", "status", "accepted"));
  free (call);
}
