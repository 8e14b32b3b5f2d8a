/* api_channel_mailgun: Mailgun's inbound route (forward() to a URL), the
 * parsed form. The signature is in the form: hex HMAC-SHA256(signing key,
 * timestamp + token), with the timestamp inside a replay window. The fields
 * (from, subject, body-plain/body-html, Message-Id, In-Reply-To, References,
 * or body-mime for a raw-MIME route) become an email through lib/inbound/email.c,
 * exactly as a raw email would, and go to ingest: its Message-ID is the
 * dedup key, so Mailgun's retries create nothing twice. Mailgun posts
 * multipart/form-data when the email has attachments: attachment-N file parts
 * become the email's attachments (name, type, size; bytes under the caps).
 * A message atende cannot use gets 406, which Mailgun does not retry. */
#include <strings.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "api_channels.h"
#include "at_email.h"
#include "at_channel_sig.h"
#include "at_form.h"
#include "at_log.h"

/* A header Mailgun posts as a field of its own ("Message-Id"), else from
 * message-headers (a JSON array of [name, value] pairs); NULL when absent.
 * *doc holds what the value points into (caller json_decref's it). */
static const char *
s_header (const at_form_t *form, const char *name, json_t **doc)
{
  const char *direct = at_form_get (form, name);
  if (direct && direct[0])
    return direct;
  const char *headers = at_form_get (form, "message-headers");
  if (!*doc && headers)
    *doc = json_loads (headers, 0, NULL);
  size_t i;
  json_t *pair;
  json_array_foreach (*doc, i, pair) {
    const char *n = json_string_value (json_array_get (pair, 0));
    const char *v = json_string_value (json_array_get (pair, 1));
    if (n && v && strcasecmp (n, name) == 0)
      return v;
  }
  return NULL;
}

static int
s_verify (api_request_t *req, const at_form_t *form)
{
  const char *key = req->cfg->mailgun_signing_key;
  if (key == NULL || *key == '\0') {
    api_channel_unauthorized (req, "no Mailgun signing key is configured");
    return AT_INVALID;
  }
  int rc = at_sig_mailgun_verify (key, at_form_get (form, "timestamp"),
                                  at_form_get (form, "token"), at_form_get (form, "signature"),
                                  (long long) time (NULL), req->cfg->mailgun_replay_window_s);
  if (rc == AT_STALE)
    api_channel_unauthorized (req, "the timestamp is outside the replay window");
  else if (rc != AT_OK)
    api_channel_unauthorized (req, "signature, timestamp or token is missing or wrong");
  return rc;
}

/* The email the form describes, to ingest as the email stage reads it. */
static void
s_publish (api_request_t *req, const at_form_t *form)
{
  char reason[AT_EMAIL_REASON_MAX];
  json_t *headers = NULL;
  at_email_t *email = NULL;
  at_msg_t *msg = NULL;
  const char *from = at_form_get (form, "from");
  at_email_fields_t fields = {
    .from = from && from[0] ? from : at_form_get (form, "sender"),
    .subject = at_form_get (form, "subject"),
    .body_plain = at_form_get (form, "body-plain"),
    .body_html = at_form_get (form, "body-html"),
    .message_id = s_header (form, "Message-Id", &headers),
    .in_reply_to = s_header (form, "In-Reply-To", &headers),
    .references = s_header (form, "References", &headers),
  };
  const char *mime = at_form_get (form, "body-mime");
  if (mime) {
    fields.body_mime = mime;
    fields.body_mime_len = strlen (mime);
  }
  int rc = at_email_from_fields (&fields, &email, reason, sizeof reason);
  for (size_t i = 0; rc == AT_OK && i < at_form_file_count (form); i++) {
    const at_form_file_t *f = at_form_file (form, i);
    if (strncmp (f->field, "attachment", 10) == 0)
      at_email_attachment_add (email, f->filename, f->content_type, f->data, f->len);
  }
  if (rc != AT_OK
      || at_email_to_inbound (email, api_trace_id (req), &msg, reason, sizeof reason) != AT_OK
      || (api_inbound_rekey (msg, req->cfg->bus_key_secret) != AT_OK
          && snprintf (reason, sizeof reason, "the sender address cannot be keyed") > 0)) {
    at_warn ("api", "msg=\"mailgun email refused\" reason=\"%s\" request_id=%s", reason,
             req->request_id);
    api_channel_refuse (req, 406, reason);
    goto out;
  }
  if (api_publish (req, msg) == AT_OK)
    api_reply_json (req, 200, json_pack ("{s:s}", "status", "received"));
out:
  at_msg_destroy (&msg);
  at_email_destroy (&email);
  json_decref (headers);
}

void
api_channel_mailgun_post (api_request_t *req)
{
  char reason[160], boundary[AT_FORM_BOUNDARY_MAX + 1];
  at_form_t *form = NULL;
  const char *body = req->body ? req->body : "";
  int rc = AT_INVALID;
  if (api_content_is (req, "multipart/form-data")) {
    if (at_form_boundary (req->content_type, boundary, sizeof boundary) == AT_OK)
      rc = at_form_parse_multipart (body, req->body_len, boundary, &form, reason, sizeof reason);
  }
  else if (api_content_is (req, "application/x-www-form-urlencoded"))
    rc = at_form_parse (body, req->body_len, &form, reason, sizeof reason);
  else {
    api_channel_refuse (req, 415, "the body must be application/x-www-form-urlencoded or "
                        "multipart/form-data");
    goto out;
  }
  /* a body that does not parse cannot carry a signature to check */
  if (rc != AT_OK) {
    api_channel_unauthorized (req, "the body is not a form holding a Mailgun signature");
    goto out;
  }
  if (s_verify (req, form) != AT_OK)
    goto out;
  s_publish (req, form);
out:
  at_form_destroy (&form);
}
