/* api_email: POST /v1/channels/email, a raw RFC 5322 message posted by the
 * store's mail relay (Content-Type message/rfc822), signed with Standard
 * Webhooks (webhook-id, webhook-timestamp, webhook-signature) over the raw
 * bytes. Checked, parsed (lib/inbound/email.c) and published to ingest; the
 * Message-ID is the dedup key, so a relay's retry creates nothing twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "api_customers.h"
#include "at_crypto.h"
#include "at_email.h"
#include "at_log.h"

static void
s_refuse (api_request_t *req, int status, const char *detail)
{
  api_problem_t p;
  api_problem (&p, status, NULL, "%s", detail);
  if (status == 401) {
    p.slug = "unauthorized";
    p.title = "Unauthorized";
    at_warn ("api", "msg=\"email relay signature refused\" reason=\"%s\" request_id=%s", detail,
             req->request_id);
  }
  api_reply_problem (req, &p);
}

static bool
s_is_rfc822 (const char *ct)
{
  static const char type[] = "message/rfc822";
  if (!ct || strncasecmp (ct, type, sizeof type - 1) != 0)
    return false;
  char next = ct[sizeof type - 1];
  return next == '\0' || next == ';' || next == ' ';
}

/* Standard Webhooks check on the raw body: AT_OK or answered 401. */
static int
s_verify (api_request_t *req)
{
  const char *id = api_header (req, "webhook-id");
  const char *ts = api_header (req, "webhook-timestamp");
  const char *sig = api_header (req, "webhook-signature");
  if (!id || !ts || !sig) {
    s_refuse (req, 401, "webhook-id, webhook-timestamp and webhook-signature are required");
    return AT_INVALID;
  }
  int rc = at_webhook_verify (req->cfg->email_relay_secret, id, ts, req->body ? req->body : "",
                              req->body_len, sig, req->cfg->inbound_tolerance_s);
  if (rc == AT_STALE)
    s_refuse (req, 401, "webhook-timestamp is outside the tolerance window");
  else if (rc != AT_OK)
    s_refuse (req, 401, "the signature does not match");
  return rc;
}

void
api_email_post (api_request_t *req)
{
  if (!req->cfg->email_relay_secret || !req->cfg->email_relay_secret[0]) {
    s_refuse (req, 503, "the email channel is not configured (ATENDE_EMAIL_RELAY_SECRET)");
    return;
  }
  if (!s_is_rfc822 (req->content_type)) {
    s_refuse (req, 415, "the body must be a raw message, Content-Type message/rfc822");
    return;
  }
  if (req->body_len > (size_t) req->cfg->email_max_bytes) {
    api_problem_t p;
    api_problem (&p, 413, NULL, "the message exceeds %ld bytes", req->cfg->email_max_bytes);
    api_reply_problem (req, &p);
    return;
  }
  if (s_verify (req) != AT_OK)
    return;
  char reason[AT_EMAIL_REASON_MAX];
  at_email_t *email = NULL;
  at_msg_t *msg = NULL;
  if (at_email_parse (req->body, req->body_len, &email, reason, sizeof reason) != AT_OK
      || at_email_to_inbound (email, api_trace_id (req), &msg, reason, sizeof reason) != AT_OK
      || (api_inbound_rekey (msg, req->cfg->bus_key_secret) != AT_OK
          && snprintf (reason, sizeof reason, "the sender address cannot be keyed") > 0)) {
    s_refuse (req, 422, reason);
    goto out;
  }
  if (api_publish (req, msg) == AT_OK) {
    json_t *answer = json_pack ("{s:s, s:s, s:s, s:i}", "id", msg->id, "status", "accepted",
                                "message_id", email->message_id,
                                "attachments", (int) email->n_attachments);
    snprintf (req->location, sizeof req->location, "/v1/messages/%s", msg->id);
    api_reply_json (req, 202, answer);
  }
out:
  at_msg_destroy (&msg);
  at_email_destroy (&email);
}
