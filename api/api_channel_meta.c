/* api_channel_meta: Meta's webhooks: WhatsApp Cloud API, Messenger and
 * Instagram. GET answers the subscription handshake; POST checks
 * X-Hub-Signature-256 on the raw body with the app secret of the account the
 * delivery names, then publishes each customer message to ingest and each
 * delivery status of our messages to notify, and answers 200. */
#include <string.h>
#include "api_channels.h"
#include "at_channel_sig.h"
#include "at_crypto.h"
#include "at_log.h"
#include "at_meta.h"

#define S_CHALLENGE_MAX 256

void
api_channel_meta_verify (api_request_t *req)
{
  const char *mode = api_query (req, "hub.mode");
  const char *token = api_query (req, "hub.verify_token");
  const char *challenge = api_query (req, "hub.challenge");
  const char *want = req->cfg->whatsapp_verify_token;
  size_t n = token ? strlen (token) : 0;
  bool ok = mode && strcmp (mode, "subscribe") == 0 && want && want[0] && n == strlen (want)
            && at_ct_equal (token, want, n) && challenge && challenge[0]
            && strlen (challenge) <= S_CHALLENGE_MAX;
  if (!ok) {
    api_problem_t p;
    api_problem (&p, 403, NULL, "hub.mode, hub.verify_token or hub.challenge is wrong");
    p.slug = "forbidden";
    p.title = "Forbidden";
    at_warn ("api", "msg=\"webhook verification refused\" path=%s request_id=%s", req->path,
             req->request_id);
    api_reply_problem (req, &p);
    return;
  }
  at_info ("api", "msg=\"webhook verified\" path=%s request_id=%s", req->path, req->request_id);
  api_reply_text (req, 200, "text/plain", at_strdup (challenge));
}

/* Publishes what the batch holds; false when an answer (503) is already set. */
static bool
s_publish_batch (api_request_t *req, const at_meta_batch_t *batch, size_t *published)
{
  for (size_t i = 0; i < batch->message_count; i++) {
    const at_meta_message_t *m = &batch->messages[i];
    api_channel_inbound_t in = {
      .channel = m->channel, .handle = m->sender, .name = m->name, .text = m->text,
      .provider_message_id = m->id, .received_us = m->timestamp_us,
    };
    int rc = api_channel_publish (req, &in);
    if (rc != AT_OK && rc != AT_INVALID)
      return false;
    *published += rc == AT_OK;
  }
  for (size_t i = 0; i < batch->status_count; i++) {
    const at_meta_status_t *s = &batch->statuses[i];
    int rc = api_channel_publish_status (req, "whatsapp", s->id, s->status, s->timestamp_us,
                                         s->error);
    if (rc != AT_OK && rc != AT_INVALID)
      return false;
  }
  return true;
}

static void
s_meta_post (api_request_t *req)
{
  char reason[160], secret[AT_SIG_SECRET_MAX];
  size_t published = 0;
  at_meta_batch_t *batch = NULL;
  at_meta_parse (req->body ? req->body : "", req->body_len, &batch, reason, sizeof reason);
  if (at_sig_secret_lookup (&req->cfg->meta_app_secret, batch ? batch->account : "", secret,
                            sizeof secret) != AT_OK) {
    api_channel_unauthorized (req, "no Meta app secret is configured for this account");
    goto out;
  }
  if (at_sig_meta_verify (secret, req->body ? req->body : "", req->body_len,
                          api_header (req, "X-Hub-Signature-256")) != AT_OK) {
    api_channel_unauthorized (req, "X-Hub-Signature-256 is missing or does not match the body");
    goto out;
  }
  if (!batch) {
    api_problem_t p;
    api_problem (&p, 400, NULL, "not a Meta webhook delivery: %s", reason);
    api_reply_problem (req, &p);
    goto out;
  }
  if (!s_publish_batch (req, batch, &published))
    goto out;
  json_t *answer = json_pack ("{s:s, s:I, s:I, s:I}", "status", "received", "messages",
                              (json_int_t) published, "statuses",
                              (json_int_t) batch->status_count, "skipped",
                              (json_int_t) batch->skipped);
  api_reply_json (req, 200, answer);
out:
  at_meta_batch_destroy (&batch);
}

void
api_channel_whatsapp_post (api_request_t *req)
{
  s_meta_post (req);
}

void
api_channel_messenger_post (api_request_t *req)
{
  s_meta_post (req);
}

void
api_channel_instagram_post (api_request_t *req)
{
  s_meta_post (req);
}
