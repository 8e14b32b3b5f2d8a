/* api_channel_common: what the providers' doors share (api_channels.h). */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api_channels.h"
#include "at_buf.h"
#include "at_channel.h"
#include "at_channel_sig.h"
#include "at_crypto.h"
#include "at_log.h"
#include "at_text.h"
#include "at_store_ticket.h"
#include "domain.pb-c.h"

#define S_NAME_MAX 256
#define S_SUBJECT_MAX 998

void
api_channel_unauthorized (api_request_t *req, const char *detail)
{
  api_problem_t p;
  api_problem (&p, 401, NULL, "%s", detail);
  p.slug = "unauthorized";
  p.title = "Unauthorized";
  at_warn ("api", "msg=\"webhook signature refused\" path=%s reason=\"%s\" request_id=%s",
           req->route ? req->route->pattern : "-", detail, req->request_id);
  api_reply_problem (req, &p);
}

void
api_channel_refuse (api_request_t *req, int status, const char *detail)
{
  api_problem_t p;
  api_problem (&p, status, NULL, "%s", detail);
  if (status == 406) {   /* Mailgun: refused for good, not retried */
    p.slug = "not-acceptable";
    p.title = "Not acceptable";
  }
  api_reply_problem (req, &p);
}

/* --- the public URL */

/* Appends text, percent-encoding all but RFC 3986's unreserved characters
 * when encode is set. */
static void
s_url_put (at_buf_t *u, const char *text, bool encode)
{
  for (const unsigned char *c = (const unsigned char *) text; c && *c; c++) {
    bool plain = !encode || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')
                 || (*c >= '0' && *c <= '9') || strchr ("-._~", *c);
    if (plain)
      at_buf_putc (u, (char) *c);
    else
      at_buf_printf (u, "%%%02X", *c);
  }
}

/* The query arguments as MHD hands them over, one by one. */
typedef struct {
  at_buf_t *url;
  bool first;
} s_query_t;

static enum MHD_Result
s_url_arg (void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  s_query_t *q = cls;
  s_url_put (q->url, q->first ? "?" : "&", false);
  q->first = false;
  s_url_put (q->url, key, true);
  if (value) {
    s_url_put (q->url, "=", false);
    s_url_put (q->url, value, true);
  }
  return MHD_YES;
}

int
api_channel_public_url (const api_request_t *req, char *out, size_t cap)
{
  const char *base = req->cfg->public_url_base;
  size_t base_len = base ? strlen (base) : 0;
  if (base_len == 0 || cap == 0)
    return AT_INVALID;
  while (base_len > 0 && base[base_len - 1] == '/')
    base_len--;   /* "https://x/" + "/v1/..." */
  at_buf_t u;
  at_buf_fixed (&u, out, cap);
  at_buf_put (&u, base, base_len);
  s_url_put (&u, req->path, false);
  s_query_t q = { &u, true };
  if (req->conn)
    MHD_get_connection_values (req->conn, MHD_GET_ARGUMENT_KIND, s_url_arg, &q);
  return u.overflow ? AT_INVALID : AT_OK;
}

/* --- publishing */

static bool
s_text_ok (const char *text, size_t max)
{
  size_t n = text ? strnlen (text, max + 1) : 0;
  return n > 0 && n <= max && at_text_valid_utf8 (text, n);
}

int
api_channel_publish (api_request_t *req, const api_channel_inbound_t *in)
{
  char handle[AT_HANDLE_MAX];
  const char *why = NULL;
  if (at_channel_normalize_handle (in->channel, in->handle, handle, sizeof handle) != AT_OK)
    why = "malformed handle";
  else if (!s_text_ok (in->text, AT_TEXT_MAX))
    why = "text empty, too long or not UTF-8";
  else if (!s_text_ok (in->provider_message_id, AT_PROVIDER_ID_MAX))
    why = "provider message id empty, too long or not UTF-8";
  if (why) {
    at_warn ("api", "msg=\"inbound message skipped\" reason=\"%s\" channel=%s request_id=%s",
             why, in->channel, req->request_id);
    return AT_INVALID;
  }
  Atende__InboundMessage pb = ATENDE__INBOUND_MESSAGE__INIT;
  pb.channel = (char *) in->channel;
  pb.handle = handle;
  pb.name = (char *) (in->name && s_text_ok (in->name, S_NAME_MAX) ? in->name : "");
  pb.text = (char *) in->text;
  pb.provider_message_id = (char *) in->provider_message_id;
  pb.received_us = in->received_us > 0 ? in->received_us : at_now_us ();
  pb.subject = (char *) (in->subject && s_text_ok (in->subject, S_SUBJECT_MAX) ? in->subject : "");
  pb.language = (char *) "";
  at_msg_t *msg = api_inbound_msg (&pb, req->cfg->bus_key_secret, api_trace_id (req));
  if (!msg) {
    at_warn ("api", "msg=\"inbound message skipped\" reason=\"key too long\" channel=%s "
             "request_id=%s", in->channel, req->request_id);
    return AT_INVALID;
  }
  int rc = api_publish (req, msg);
  char safe_id[96];
  if (rc == AT_OK)
    at_debug ("api", "msg=\"inbound published\" channel=%s message_id=%s provider_id=%s",
              in->channel, msg->id,
              at_text_safe_token (in->provider_message_id, safe_id, sizeof safe_id));
  at_msg_destroy (&msg);
  return rc == AT_OK ? AT_OK : AT_ERROR;
}

int
api_channel_publish_status (api_request_t *req, const char *provider,
                            const char *provider_message_id, const char *status,
                            int64_t occurred_us, const char *error)
{
  char key[AT_KEY_LEN];
  if (!s_text_ok (provider_message_id, AT_PROVIDER_ID_MAX) || !s_text_ok (status, 32)) {
    at_warn ("api", "msg=\"delivery status skipped\" provider=%s request_id=%s", provider,
             req->request_id);
    return AT_INVALID;
  }
  Atende__NotificationStatus pb = ATENDE__NOTIFICATION_STATUS__INIT;
  pb.provider = (char *) provider;
  pb.provider_message_id = (char *) provider_message_id;
  pb.status = (char *) status;
  pb.occurred_us = occurred_us > 0 ? occurred_us : at_now_us ();
  pb.error = (char *) (error && at_text_valid_utf8 (error, strlen (error)) ? error : "");
  size_t len = atende__notification_status__get_packed_size (&pb);
  uint8_t *payload = at_malloc (len + 1);
  atende__notification_status__pack (&pb, payload);
  snprintf (key, sizeof key, "notification:%s", provider_message_id);
  at_msg_t *msg = at_msg_new (AT_STAGE_NOTIFY, API_CHANNEL_TYPE_NOTIFICATION_STATUS, key,
                              api_trace_id (req), payload, len);
  free (payload);
  if (!msg)
    return AT_INVALID;
  int rc = api_publish (req, msg);
  char safe_id[96], safe_status[33];
  at_info ("api", "msg=\"delivery status\" provider=%s provider_id=%s status=%s published=%d "
           "request_id=%s", provider, at_text_safe_token (provider_message_id, safe_id,
           sizeof safe_id), at_text_safe_token (status, safe_status, sizeof safe_status),
           rc == AT_OK, req->request_id);
  at_msg_destroy (&msg);
  return rc == AT_OK ? AT_OK : AT_ERROR;
}

bool
api_channel_twilio_signed (api_request_t *req, const at_form_t *form, bool json, int parsed)
{
  char url[AT_SIG_URL_MAX + 1], secret[AT_SIG_SECRET_MAX];
  if (api_channel_public_url (req, url, sizeof url) != AT_OK) {
    api_channel_unauthorized (req, "ATENDE_PUBLIC_URL_BASE is not set: Twilio's signature "
                              "cannot be checked");
    return false;
  }
  if (at_sig_secret_lookup (&req->cfg->twilio_auth_token, at_form_get (form, "AccountSid"),
                            secret, sizeof secret) != AT_OK) {
    api_channel_unauthorized (req, "no Twilio auth token is configured for this account");
    return false;
  }
  const char *header = api_header (req, "X-Twilio-Signature");
  const char *body = req->body ? req->body : "";
  int sig = json ? at_sig_twilio_verify_body (secret, url, body, req->body_len, header)
                 : at_sig_twilio_verify (secret, url, form, header);
  memset (secret, 0, sizeof secret);
  if (sig != AT_OK || (!json && parsed != AT_OK)) {
    /* a form that does not parse cannot have been signed by Twilio */
    api_channel_unauthorized (req, "X-Twilio-Signature is missing or does not match");
    return false;
  }
  return true;
}

bool
api_channel_standard_signed (api_request_t *req, const char *secret, const char *setting,
                             size_t id_max)
{
  const char *id = api_header (req, "webhook-id");
  const char *ts = api_header (req, "webhook-timestamp");
  const char *sig = api_header (req, "webhook-signature");
  if (!secret || !secret[0]) {
    char detail[128];
    snprintf (detail, sizeof detail, "%s is not configured", setting);
    api_channel_unauthorized (req, detail);
    return false;
  }
  if (!id || !id[0] || strlen (id) > id_max || !ts || !sig) {
    api_channel_unauthorized (req, "webhook-id, webhook-timestamp or webhook-signature is "
                              "missing");
    return false;
  }
  int rc = at_webhook_verify (secret, id, ts, req->body ? req->body : "", req->body_len, sig,
                              req->cfg->inbound_tolerance_s);
  if (rc == AT_STALE)
    api_channel_unauthorized (req, "webhook-timestamp is outside the tolerance window");
  else if (rc != AT_OK)
    api_channel_unauthorized (req, "webhook-signature does not match");
  return rc == AT_OK;
}
