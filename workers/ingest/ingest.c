/* ingest: turns a channel's InboundMessage into a ticket message.
 *
 * Validates the channel, the customer's handle and the text; finds or
 * creates the customer by identity; is idempotent on the provider's message
 * id; appends to the customer's open ticket on that channel or opens one;
 * and hands the message to route (TicketMessage, key ticket:<id>). Runs in
 * the worker's transaction: a failure rolls everything back. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wrk.h"
#include "at_channel.h"
#include "at_store_customer.h"
#include "at_store_ticket.h"
#include "at_text.h"
#include "at_log.h"
#include "at_email.h"
#include "domain.pb-c.h"

#define S_COMP "ingest"
#define S_NAME_MAX 400

/* The fields of an InboundMessage once checked and normalised. */
typedef struct {
  const char *channel;
  char handle[AT_HANDLE_MAX + 1];
  const char *name;                   /* "" when absent or not valid text */
  const char *text;
  const char *provider_message_id;    /* "" when absent */
  char subject[AT_SUBJECT_MAX];
  const char *language;               /* pt en es other */
  /* email */
  const char *message_id;             /* "" when none or malformed */
  const char *email_ids[AT_EMAIL_REFERENCES_MAX + 1];  /* In-Reply-To, References newest first */
  size_t n_email_ids;
  int64_t tag_ticket_id;              /* [#id] in the subject */
  const char *full_text;              /* "" when the same as text */
  bool html_stripped;
  size_t n_attachments;               /* of pb->attachments taken */
} s_inbound_t;

static bool
s_utf8 (const char *s)
{
  return s && at_text_valid_utf8 (s, strlen (s));
}

/* A Message-ID as email.c writes it: printable ASCII, no blanks, capped. */
static bool
s_email_id_ok (const char *id)
{
  size_t n = strnlen (id, AT_EMAIL_ID_MAX);
  if (n == 0 || n >= AT_EMAIL_ID_MAX)
    return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char) id[i] <= ' ' || (unsigned char) id[i] >= 0x7f)
      return false;
  return true;
}

/* The email fields: a malformed optional one is dropped, the message kept;
 * attachments beyond the caps are refused (the api never sends them). */
static int
s_inbound_email (const Atende__InboundMessage *pb, s_inbound_t *in, wrk_msg_t *m)
{
  in->message_id = s_email_id_ok (pb->message_id) ? pb->message_id : "";
  if (s_email_id_ok (pb->in_reply_to))
    in->email_ids[in->n_email_ids++] = pb->in_reply_to;
  for (size_t i = pb->n_references; i > 0 && in->n_email_ids < AT_ARRAY_LEN (in->email_ids); i--)
    if (s_email_id_ok (pb->references[i - 1]))
      in->email_ids[in->n_email_ids++] = pb->references[i - 1];
  in->tag_ticket_id = at_email_ticket_tag (pb->subject);
  size_t full_len = strnlen (pb->full_text, AT_TEXT_MAX + 1);
  in->full_text = full_len <= AT_TEXT_MAX && at_text_valid_utf8 (pb->full_text, full_len)
                  ? pb->full_text : "";
  in->html_stripped = pb->html_stripped;
  size_t bytes = 0;
  if (pb->n_attachments > AT_EMAIL_ATTACHMENTS_MAX) {
    snprintf (m->reason, sizeof m->reason, "more than %d attachments", AT_EMAIL_ATTACHMENTS_MAX);
    return AT_INVALID;
  }
  for (size_t i = 0; i < pb->n_attachments; i++) {
    const Atende__Attachment *a = pb->attachments[i];
    bytes += a->content.len;
    if (strnlen (a->name, AT_EMAIL_NAME_MAX + 1) > AT_EMAIL_NAME_MAX || !s_utf8 (a->name)
        || strnlen (a->content_type, AT_EMAIL_TYPE_MAX + 1) > AT_EMAIL_TYPE_MAX
        || !s_utf8 (a->content_type) || a->size < 0
        || bytes > AT_EMAIL_ATTACHMENT_BYTES_MAX) {
      snprintf (m->reason, sizeof m->reason, "attachment %zu is malformed or over the caps", i);
      return AT_INVALID;
    }
  }
  in->n_attachments = pb->n_attachments;
  return AT_OK;
}

/* Checks and normalises; AT_INVALID with m->reason when the message is bad. */
static int
s_inbound_check (const Atende__InboundMessage *pb, s_inbound_t *in, wrk_msg_t *m)
{
  memset (in, 0, sizeof *in);
  char safe[AT_TYPE_LEN];
  if (!at_channel_known (pb->channel)) {
    snprintf (m->reason, sizeof m->reason, "unknown channel \"%s\"",
              at_text_safe_token (pb->channel, safe, 33));
    return AT_INVALID;
  }
  in->channel = pb->channel;
  if (at_channel_normalize_handle (pb->channel, pb->handle, in->handle, sizeof in->handle) != AT_OK
      || !s_utf8 (in->handle)) {
    snprintf (m->reason, sizeof m->reason, "malformed handle for channel %s", pb->channel);
    return AT_INVALID;
  }
  size_t text_len = strnlen (pb->text, AT_TEXT_MAX + 1);
  if (text_len > AT_TEXT_MAX) {
    snprintf (m->reason, sizeof m->reason, "text longer than %d bytes", AT_TEXT_MAX);
    return AT_INVALID;
  }
  if (!at_text_valid_utf8 (pb->text, text_len)) {
    snprintf (m->reason, sizeof m->reason, "text is not valid UTF-8");
    return AT_INVALID;
  }
  in->text = pb->text;
  at_text_excerpt (pb->text, AT_SUBJECT_CHARS, in->subject, sizeof in->subject);
  if (in->subject[0] == '\0') {
    snprintf (m->reason, sizeof m->reason, "text is empty");
    return AT_INVALID;
  }
  size_t id_len = strnlen (pb->provider_message_id, AT_PROVIDER_ID_MAX + 1);
  if (id_len > AT_PROVIDER_ID_MAX || !s_utf8 (pb->provider_message_id)) {
    snprintf (m->reason, sizeof m->reason, "provider_message_id too long or not UTF-8");
    return AT_INVALID;
  }
  in->provider_message_id = pb->provider_message_id;
  /* Optional fields: a bad one is dropped, the message is kept. */
  in->name = strnlen (pb->name, S_NAME_MAX + 1) <= S_NAME_MAX && s_utf8 (pb->name) ? pb->name : "";
  if (s_utf8 (pb->subject) && strnlen (pb->subject, AT_TEXT_MAX + 1) <= AT_TEXT_MAX) {
    char subject[AT_SUBJECT_MAX];
    at_text_excerpt (pb->subject, AT_SUBJECT_MAX, subject, sizeof subject);
    if (subject[0])
      memcpy (in->subject, subject, sizeof subject);
  }
  at_lang_t lang = pb->language[0] ? at_lang_parse (pb->language)
                                   : at_text_guess_language (pb->text);
  in->language = at_lang_name (lang);
  return s_inbound_email (pb, in, m);
}

static int
s_produce_ticket_message (wrk_ctx_t *ctx, wrk_msg_t *m, const s_inbound_t *in,
                          int64_t ticket_id, int64_t message_id, int64_t customer_id,
                          bool new_ticket)
{
  Atende__TicketMessage tm = ATENDE__TICKET_MESSAGE__INIT;
  tm.ticket_id = ticket_id;
  tm.message_id = message_id;
  tm.customer_id = customer_id;
  tm.channel = (char *) in->channel;
  tm.text = (char *) in->text;
  tm.new_ticket = new_ticket;
  size_t len = atende__ticket_message__get_packed_size (&tm);
  uint8_t *buf = at_malloc (len ? len : 1);
  atende__ticket_message__pack (&tm, buf);
  char key[AT_KEY_LEN];
  snprintf (key, sizeof key, "ticket:%" PRId64, ticket_id);
  at_msg_t *out = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, key, m->msg->trace_id,
                              buf, len);
  free (buf);
  if (!out) {
    at_error (S_COMP, "msg=\"cannot build ticket.message\" id=%s ticket_id=%" PRId64,
              m->msg->id, ticket_id);
    return AT_ERROR;
  }
  return wrk_ctx_produce (ctx, &out);
}

/* Store failures: bad data is the message's fault; a duplicate that raced
 * us is retried (and then found seen); the rest is retried. */
static int
s_store_rc (wrk_msg_t *m, int rc, const char *what)
{
  if (rc == AT_INVALID) {
    snprintf (m->reason, sizeof m->reason, "store refused the %s", what);
    return AT_INVALID;
  }
  return rc == AT_CONFLICT ? AT_AGAIN : rc;
}

static int
s_attachments (at_store_t *store, const Atende__InboundMessage *pb, const s_inbound_t *in,
               int64_t message_id)
{
  int rc = AT_OK;
  for (size_t i = 0; i < in->n_attachments && rc == AT_OK; i++) {
    const Atende__Attachment *a = pb->attachments[i];
    rc = at_store_ticket_attachment_add (store, message_id, a->name[0] ? a->name : "attachment",
                                         a->content_type[0] ? a->content_type
                                                            : "application/octet-stream",
                                         a->size, a->content.len ? a->content.data : NULL,
                                         a->content.len);
  }
  return rc;
}

static int
s_ingest (wrk_ctx_t *ctx, wrk_msg_t *m, const Atende__InboundMessage *pb, const s_inbound_t *in)
{
  at_store_t *store = wrk_ctx_store (ctx);
  bool seen = false;
  int rc = at_store_ticket_message_seen (store, in->channel, in->provider_message_id, &seen);
  if (rc != AT_OK)
    return s_store_rc (m, rc, "lookup");
  if (seen) {
    at_debug (S_COMP, "msg=\"duplicate inbound message\" id=%s channel=%s", m->msg->id,
              in->channel);
    return AT_OK;
  }
  int64_t customer_id = 0, ticket_id = 0, message_id = 0;
  rc = at_store_customer_resolve (store, in->channel, in->handle, in->name, &customer_id);
  if (rc != AT_OK)
    return s_store_rc (m, rc, "customer");
  at_ticket_thread_t q = {.customer_id = customer_id, .channel = in->channel,
                          .subject = in->subject, .email_ids = in->email_ids,
                          .n_email_ids = in->n_email_ids, .tag_ticket_id = in->tag_ticket_id,
                          .window_min = wrk_ctx_config (ctx)->conversation_window_min};
  at_thread_how_t how = AT_THREAD_NEW;
  rc = at_store_ticket_thread (store, &q, &ticket_id, &customer_id, &how);
  if (rc != AT_OK)
    return s_store_rc (m, rc, "ticket");
  bool created = how == AT_THREAD_NEW;
  at_ticket_message_t tm = {.ticket_id = ticket_id, .direction = "in", .author = "customer",
                            .channel = in->channel, .body = in->text,
                            .provider_message_id = in->provider_message_id,
                            .bus_message_id = m->msg->id, .language = in->language,
                            .email_message_id = in->message_id, .full_body = in->full_text,
                            .html_stripped = in->html_stripped, .touch_inbound = !created};
  rc = at_store_ticket_message_add (store, &tm, &message_id);
  if (rc == AT_OK)
    rc = s_attachments (store, pb, in, message_id);
  at_lang_t lang = at_lang_parse (in->language);
  if (rc == AT_OK && created && lang != AT_LANG_OTHER)
    rc = at_store_ticket_customer_locale (store, customer_id, ticket_id,
                                          lang == AT_LANG_PT ? "pt-BR" : at_lang_name (lang));
  if (rc != AT_OK)
    return s_store_rc (m, rc, "ticket message");
  at_debug (S_COMP, "msg=\"inbound message recorded\" id=%s ticket_id=%" PRId64
            " customer_id=%" PRId64 " new_ticket=%d thread=%d", m->msg->id, ticket_id, customer_id,
            created, (int) how);
  return s_produce_ticket_message (ctx, m, in, ticket_id, message_id, customer_id, created);
}

static int
s_handle (wrk_ctx_t *ctx, wrk_msg_t *m)
{
  if (strcmp (m->msg->type, AT_TYPE_INBOUND_MESSAGE) != 0) {
    char safe[AT_TYPE_LEN];
    snprintf (m->reason, sizeof m->reason, "ingest does not take type \"%s\"",
              at_text_safe_token (m->msg->type, safe, sizeof safe));
    return AT_INVALID;
  }
  Atende__InboundMessage *pb = atende__inbound_message__unpack (NULL, m->msg->payload_len,
                                                                m->msg->payload);
  if (!pb) {
    snprintf (m->reason, sizeof m->reason, "payload is not an InboundMessage");
    return AT_INVALID;
  }
  s_inbound_t in;
  int rc = s_inbound_check (pb, &in, m);
  if (rc == AT_OK)
    rc = s_ingest (ctx, m, pb, &in);
  atende__inbound_message__free_unpacked (pb, NULL);
  return rc;
}

const wrk_stage_t wrk_stage_ingest = {
  .name = AT_STAGE_INGEST,
  .handle = s_handle,
};
