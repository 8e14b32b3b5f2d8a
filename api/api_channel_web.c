/* api_channel_web: the store's own web chat and contact form. The store's
 * backend posts atende's JSON signed with Standard Webhooks (webhook-id,
 * webhook-timestamp, webhook-signature; ATENDE_INBOUND_SECRET):
 *   POST /v1/channels/chat  {"visitor_id", "text", "name"?, "message_id"?}
 *   POST /v1/channels/form  {"email", "text", "name"?, "subject"?, "submission_id"?}
 * The id field, else webhook-id, is the dedup key. Answers 202. */
#include <string.h>
#include "api_channels.h"
#include "at_channel.h"
#include "at_crypto.h"
#include "at_json.h"
#include "at_text.h"
#include "at_store_ticket.h"

#define S_NAME_MAX 256
#define S_SUBJECT_MAX 998

/* channel "chat" or "form": the field that names the customer and the id field. */
static void
s_post (api_request_t *req, const char *channel, const char *handle_field, const char *id_field)
{
  api_problem_t p;
  const char *handle, *text, *name, *subject = NULL, *id;
  if (!api_channel_standard_signed (req, req->cfg->inbound_secret, "ATENDE_INBOUND_SECRET",
                                    AT_PROVIDER_ID_MAX))
    return;
  if (!api_content_is (req, "application/json")) {
    api_channel_refuse (req, 415, "the body must be application/json");
    return;
  }
  json_t *obj = api_body_object (req->body, req->body_len, &p);
  if (!obj
      || api_field_string (obj, handle_field, AT_HANDLE_MAX - 1, true, &handle, &p)
      || api_field_string (obj, "text", AT_TEXT_MAX, true, &text, &p)
      || api_field_string (obj, "name", S_NAME_MAX, false, &name, &p)
      || api_field_string (obj, id_field, AT_PROVIDER_ID_MAX, false, &id, &p)
      || (strcmp (channel, "form") == 0
          && api_field_string (obj, "subject", S_SUBJECT_MAX, false, &subject, &p))) {
    api_reply_problem (req, &p);
    goto out;
  }
  api_channel_inbound_t in = {
    .channel = channel, .handle = handle, .text = text, .name = name, .subject = subject,
    .provider_message_id = id ? id : api_header (req, "webhook-id"),
  };
  int rc = api_channel_publish (req, &in);
  if (rc == AT_INVALID) {
    api_problem (&p, 422, handle_field, "%s is not valid or the text is not UTF-8",
                 handle_field);
    api_reply_problem (req, &p);
  }
  else if (rc == AT_OK)
    api_reply_json (req, 202, json_pack ("{s:s}", "status", "accepted"));
out:
  json_decref (obj);
}

void
api_channel_chat_post (api_request_t *req)
{
  s_post (req, "chat", "visitor_id", "message_id");
}

void
api_channel_form_post (api_request_t *req)
{
  s_post (req, "form", "email", "submission_id");
}
