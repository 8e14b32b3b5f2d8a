/* email: raw RFC 5322 / MIME messages (GMime 3) and providers' parsed email
 * fields turned into an at_email_t, and that into ingest's InboundMessage.
 * Every string taken from the message is capped and made valid UTF-8. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <gmime/gmime.h>

#include "at_email.h"
#include "at_channel.h"
#include "at_crypto.h"
#include "at_text.h"
#include "domain.pb-c.h"

static int
s_fail (char *reason, size_t cap, const char *why)
{
  if (reason && cap)
    at_strlcpy (reason, why, cap);
  return AT_INVALID;
}

static at_email_t *
s_email_new (void)
{
  at_email_t *self = at_calloc (1, sizeof *self);
  self->subject = at_strdup ("");
  return self;
}

void
at_email_destroy (at_email_t **self_p)
{
  if (!self_p || !*self_p)
    return;
  at_email_t *self = *self_p;
  for (size_t i = 0; i < self->n_attachments; i++)
    free (self->attachments[i].content);
  free (self->subject);
  free (self->text);
  free (self->full_text);
  free (self);
  *self_p = NULL;
}

/* A short header value into out: valid UTF-8, control characters as
 * spaces, cut on a character boundary. */
static void
s_short (const char *in, char *out, size_t cap)
{
  char *clean = at_email_utf8_clean (in ? in : "", in ? strlen (in) : 0, cap - 1);
  size_t i = 0;
  for (; clean[i]; i++)
    out[i] = (unsigned char) clean[i] < ' ' || clean[i] == 0x7f ? ' ' : clean[i];
  out[i] = '\0';
  free (clean);
}

/* A Message-ID without <> and blanks, printable ASCII only; "" otherwise. */
static void
s_message_id (const char *in, char *out, size_t cap)
{
  out[0] = '\0';
  if (!in)
    return;
  while (*in == ' ' || *in == '\t' || *in == '<')
    in++;
  size_t n = strcspn (in, "> \t\r\n");
  if (n == 0 || n >= cap)
    return;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char) in[i] <= ' ' || (unsigned char) in[i] >= 0x7f)
      return;
  memcpy (out, in, n);
  out[n] = '\0';
}

/* In-Reply-To (first id) and References (the newest AT_EMAIL_REFERENCES_MAX). */
static void
s_threading (at_email_t *self, const char *in_reply_to, const char *references)
{
  GMimeReferences *refs = in_reply_to ? g_mime_references_parse (NULL, in_reply_to) : NULL;
  if (refs && g_mime_references_length (refs) > 0)
    s_message_id (g_mime_references_get_message_id (refs, 0), self->in_reply_to,
                  sizeof self->in_reply_to);
  else if (in_reply_to)
    s_message_id (in_reply_to, self->in_reply_to, sizeof self->in_reply_to);
  if (refs)
    g_mime_references_free (refs);
  refs = references ? g_mime_references_parse (NULL, references) : NULL;
  int n = refs ? g_mime_references_length (refs) : 0;
  int first = n > AT_EMAIL_REFERENCES_MAX ? n - AT_EMAIL_REFERENCES_MAX : 0;
  for (int i = first; i < n; i++) {
    char id[AT_EMAIL_ID_MAX];
    s_message_id (g_mime_references_get_message_id (refs, i), id, sizeof id);
    if (id[0])
      memcpy (self->references[self->n_references++], id, sizeof id);
  }
  if (refs)
    g_mime_references_free (refs);
}

/* The first mailbox of an address list ("Name <addr>", groups opened). */
static void
s_sender (at_email_t *self, InternetAddressList *list, int depth)
{
  int n = list ? internet_address_list_length (list) : 0;
  for (int i = 0; i < n && !self->from[0] && depth < 4; i++) {
    InternetAddress *a = internet_address_list_get_address (list, i);
    if (INTERNET_ADDRESS_IS_GROUP (a)) {
      s_sender (self, internet_address_group_get_members (INTERNET_ADDRESS_GROUP (a)), depth + 1);
      continue;
    }
    if (!INTERNET_ADDRESS_IS_MAILBOX (a))
      continue;
    s_short (internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (a)), self->from,
             sizeof self->from);
    s_short (internet_address_get_name (a), self->from_name, sizeof self->from_name);
  }
}

static int
s_sender_check (const at_email_t *self, char *reason, size_t cap)
{
  char handle[AT_HANDLE_MAX];
  if (!self->from[0])
    return s_fail (reason, cap, "the message has no From address");
  if (at_channel_normalize_handle ("email", self->from, handle, sizeof handle) != AT_OK)
    return s_fail (reason, cap, "the From address is not a valid email address");
  return AT_OK;
}

/* --- the body */

typedef struct {
  at_email_t *email;
  char *plain;            /* the body text parts, joined */
  size_t plain_len;
  bool from_html;
  size_t parts;           /* looked at, capped */
  size_t attachment_bytes;
} s_walk_t;

static void
s_walk_text (s_walk_t *w, const char *text, bool html)
{
  size_t len = strlen (text);
  if (w->plain_len + len + 2 > AT_TEXT_MAX * 2)
    return;                           /* enough text; the rest is cut anyway */
  w->plain = realloc (w->plain, w->plain_len + len + 2);
  if (!w->plain)
    abort ();
  if (w->plain_len > 0)
    w->plain[w->plain_len++] = '\n';
  memcpy (w->plain + w->plain_len, text, len + 1);
  w->plain_len += len;
  w->from_html = w->from_html || html;
}

/* The decoded (transfer encoding) bytes of a leaf part. */
static GByteArray *
s_part_bytes (GMimeObject *obj, GMimeStream **keep)
{
  GMimeStream *mem = g_mime_stream_mem_new ();
  if (GMIME_IS_PART (obj)) {
    GMimeDataWrapper *content = g_mime_part_get_content (GMIME_PART (obj));
    if (content)
      g_mime_data_wrapper_write_to_stream (content, mem);
  }
  else if (GMIME_IS_MESSAGE_PART (obj)) {
    GMimeMessage *inner = g_mime_message_part_get_message (GMIME_MESSAGE_PART (obj));
    if (inner)
      g_mime_object_write_to_stream (GMIME_OBJECT (inner), NULL, mem);
  }
  *keep = mem;
  return g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (mem));
}

/* Text of a text/plain or text/html part, as UTF-8. */
static char *
s_part_text (GMimeObject *obj)
{
  GMimeStream *mem = NULL;
  char *text = NULL;
  if (GMIME_IS_TEXT_PART (obj)) {
    const char *charset = g_mime_text_part_get_charset (GMIME_TEXT_PART (obj));
    char *raw = g_mime_text_part_get_text (GMIME_TEXT_PART (obj));
    if (raw && !charset && !g_utf8_validate (raw, -1, NULL)) {
      /* 8-bit text without a charset: most often Windows-1252 */
      gchar *conv = g_convert (raw, -1, "UTF-8", "WINDOWS-1252", NULL, NULL, NULL);
      if (conv) {
        g_free (raw);
        raw = conv;
      }
    }
    if (raw)
      text = at_email_utf8_clean (raw, strlen (raw), AT_TEXT_MAX * 2);
    g_free (raw);
    return text ? text : at_strdup ("");
  }
  GByteArray *bytes = s_part_bytes (obj, &mem);
  text = at_email_utf8_clean ((const char *) bytes->data, bytes->len, AT_TEXT_MAX * 2);
  g_object_unref (mem);
  return text;
}

static void
s_attachment (s_walk_t *w, GMimeObject *obj, const char *type)
{
  at_email_t *e = w->email;
  e->attachments_seen++;
  if (e->n_attachments >= AT_EMAIL_ATTACHMENTS_MAX)
    return;
  GMimeStream *mem = NULL;
  GByteArray *bytes = s_part_bytes (obj, &mem);
  const char *name = GMIME_IS_PART (obj) ? g_mime_part_get_filename (GMIME_PART (obj)) : NULL;
  if (!name && GMIME_IS_MESSAGE_PART (obj))
    name = "message.eml";
  at_email_attachment_add (e, name, type, bytes->data, bytes->len);
  g_object_unref (mem);
}

static void s_walk (s_walk_t *w, GMimeObject *obj, int depth);

/* multipart/alternative: text/plain, else text/html, else the richest
 * (last) other alternative. */
static void
s_walk_alternative (s_walk_t *w, GMimeMultipart *mp, int depth)
{
  int n = g_mime_multipart_get_count (mp);
  GMimeObject *plain = NULL, *html = NULL, *other = NULL;
  for (int i = 0; i < n; i++) {
    GMimeObject *part = g_mime_multipart_get_part (mp, i);
    GMimeContentType *ct = g_mime_object_get_content_type (part);
    if (ct && g_mime_content_type_is_type (ct, "text", "plain") && !plain)
      plain = part;
    else if (ct && g_mime_content_type_is_type (ct, "text", "html") && !html)
      html = part;
    else if (ct && g_mime_content_type_is_type (ct, "multipart", "*"))
      other = part;
  }
  GMimeObject *chosen = plain ? plain : html ? html : other;
  if (chosen)
    s_walk (w, chosen, depth + 1);
}

static void
s_walk_leaf (s_walk_t *w, GMimeObject *obj)
{
  GMimeContentType *ct = g_mime_object_get_content_type (obj);
  char *mime = ct ? g_mime_content_type_get_mime_type (ct) : NULL;
  char type[AT_EMAIL_TYPE_MAX + 1];
  s_short (mime ? mime : "application/octet-stream", type, sizeof type);
  g_free (mime);
  for (char *c = type; *c; c++)
    *c = (char) tolower ((unsigned char) *c);
  bool attachment = GMIME_IS_MESSAGE_PART (obj)
                    || (GMIME_IS_PART (obj) && g_mime_part_is_attachment (GMIME_PART (obj)));
  bool plain = ct && g_mime_content_type_is_type (ct, "text", "plain");
  bool html = ct && g_mime_content_type_is_type (ct, "text", "html");
  if (!attachment && (plain || (html && w->plain_len == 0))) {
    char *text = s_part_text (obj);
    if (html) {
      char *made = at_email_html_to_text (text, strlen (text));
      free (text);
      text = made;
    }
    s_walk_text (w, text, html);
    free (text);
    return;
  }
  s_attachment (w, obj, type);
}

static void
s_walk (s_walk_t *w, GMimeObject *obj, int depth)
{
  if (!obj || depth > AT_EMAIL_DEPTH_MAX || ++w->parts > AT_EMAIL_PARTS_MAX)
    return;
  if (GMIME_IS_MULTIPART (obj)) {
    GMimeMultipart *mp = GMIME_MULTIPART (obj);
    GMimeContentType *ct = g_mime_object_get_content_type (obj);
    if (ct && g_mime_content_type_is_type (ct, "multipart", "alternative")) {
      s_walk_alternative (w, mp, depth);
      return;
    }
    int n = g_mime_multipart_get_count (mp);
    for (int i = 0; i < n; i++)
      s_walk (w, g_mime_multipart_get_part (mp, i), depth + 1);
    return;
  }
  s_walk_leaf (w, obj);
}

/* Fills text and full_text from the body text; the subject or the list of
 * attachments stands in for an empty body. */
static int
s_texts (at_email_t *self, const char *body, bool html, char *reason, size_t cap)
{
  char *full = at_email_utf8_clean (body ? body : "", body ? strlen (body) : 0, AT_TEXT_MAX);
  size_t start = strspn (full, " \t\r\n");
  if (full[start] == '\0') {
    free (full);
    if (self->subject[0])
      full = at_strdup (self->subject);
    else if (self->n_attachments > 0) {
      char list[AT_TEXT_MAX / 4] = "[attachments:";
      for (size_t i = 0; i < self->n_attachments; i++) {
        size_t used = strlen (list);
        snprintf (list + used, sizeof list - used, "%s %s", i ? "," : "",
                  self->attachments[i].name);
      }
      size_t used = strlen (list);
      snprintf (list + used, sizeof list - used, "]");
      full = at_strdup (list);
    }
    else
      return s_fail (reason, cap, "the message has no text, subject or attachment");
  }
  bool stripped = false;
  self->text = at_email_strip_reply (full, &stripped);
  self->full_text = full;
  self->html_stripped = html;
  return AT_OK;
}

static void
s_digest (at_email_t *self, const void *raw, size_t len)
{
  static const char key[] = "atende-email-digest";
  uint8_t mac[32];
  at_hmac_sha256 (key, sizeof key - 1, raw, len, mac);
  memcpy (self->digest, "sha256:", 7);
  for (int i = 0; i < 32; i++)
    snprintf (self->digest + 7 + 2 * i, 3, "%02x", mac[i]);
}

int
at_email_parse (const void *raw, size_t len, at_email_t **out, char *reason, size_t cap)
{
  *out = NULL;
  if (!raw || len == 0)
    return s_fail (reason, cap, "the message is empty");
  at_email_init ();
  GMimeStream *stream = g_mime_stream_mem_new_with_buffer (raw, len);
  GMimeParser *parser = g_mime_parser_new_with_stream (stream);
  GMimeMessage *msg = g_mime_parser_construct_message (parser, NULL);
  g_object_unref (parser);
  g_object_unref (stream);
  if (!msg)
    return s_fail (reason, cap, "not an RFC 5322 message (no header block)");
  at_email_t *self = s_email_new ();
  int rc = AT_OK;
  s_sender (self, g_mime_message_get_from (msg), 0);
  rc = s_sender_check (self, reason, cap);
  if (rc != AT_OK)
    goto out;
  const char *subject = g_mime_message_get_subject (msg);
  if (subject) {
    free (self->subject);
    self->subject = at_email_utf8_clean (subject, strlen (subject), 998);
    for (char *c = self->subject; *c; c++)
      if ((unsigned char) *c < ' ')
        *c = ' ';
  }
  s_message_id (g_mime_message_get_message_id (msg), self->message_id, sizeof self->message_id);
  s_threading (self, g_mime_object_get_header (GMIME_OBJECT (msg), "In-Reply-To"),
               g_mime_object_get_header (GMIME_OBJECT (msg), "References"));
  s_walk_t w = {.email = self};
  s_walk (&w, g_mime_message_get_mime_part (msg), 0);
  rc = s_texts (self, w.plain, w.from_html, reason, cap);
  free (w.plain);
  s_digest (self, raw, len);
out:
  g_object_unref (msg);
  if (rc == AT_OK)
    *out = self;
  else
    at_email_destroy (&self);
  return rc;
}

/* --- provider fields */

static void
s_safe_name (char *name)
{
  for (char *c = name; *c; c++)
    if ((unsigned char) *c < ' ' || *c == '/' || *c == '\\' || *c == 0x7f)
      *c = '_';
}

int
at_email_attachment_add (at_email_t *self, const char *name, const char *content_type,
                         const void *bytes, size_t len)
{
  if (!self)
    return AT_INVALID;
  if (self->n_attachments >= AT_EMAIL_ATTACHMENTS_MAX)
    return AT_BUSY;
  at_email_attachment_t *a = &self->attachments[self->n_attachments++];
  s_short (name && *name ? name : "attachment", a->name, sizeof a->name);
  s_safe_name (a->name);
  s_short (content_type && *content_type ? content_type : "application/octet-stream",
           a->content_type, sizeof a->content_type);
  a->size = len;
  size_t used = 0;
  for (size_t i = 0; i + 1 < self->n_attachments; i++)
    used += self->attachments[i].content_len;
  if (bytes && len > 0 && used + len <= AT_EMAIL_ATTACHMENT_BYTES_MAX) {
    a->content = at_malloc (len);
    memcpy (a->content, bytes, len);
    a->content_len = len;
  }
  else
    a->truncated = len > 0;
  return AT_OK;
}

int
at_email_from_fields (const at_email_fields_t *f, at_email_t **out, char *reason, size_t cap)
{
  *out = NULL;
  if (!f)
    return s_fail (reason, cap, "no fields");
  if (f->body_mime && f->body_mime_len > 0)
    return at_email_parse (f->body_mime, f->body_mime_len, out, reason, cap);
  at_email_init ();
  at_email_t *self = s_email_new ();
  InternetAddressList *from = f->from ? internet_address_list_parse (NULL, f->from) : NULL;
  s_sender (self, from, 0);
  if (from)
    g_object_unref (from);
  int rc = s_sender_check (self, reason, cap);
  if (rc != AT_OK)
    goto out;
  if (f->subject) {
    free (self->subject);
    self->subject = at_email_utf8_clean (f->subject, strlen (f->subject), 998);
  }
  s_message_id (f->message_id, self->message_id, sizeof self->message_id);
  s_threading (self, f->in_reply_to, f->references);
  char *html = NULL;
  bool use_html = (!f->body_plain || !*f->body_plain) && f->body_html;
  if (use_html)
    html = at_email_html_to_text (f->body_html, strlen (f->body_html));
  rc = s_texts (self, use_html ? html : f->body_plain, use_html, reason, cap);
  free (html);
  if (rc == AT_OK) {
    /* no raw bytes here: the digest covers sender, subject and whole text */
    size_t n = strlen (self->from) + strlen (self->subject) + strlen (self->full_text) + 3;
    char *basis = at_malloc (n);
    snprintf (basis, n, "%s\n%s\n%s", self->from, self->subject, self->full_text);
    s_digest (self, basis, strlen (basis));
    free (basis);
  }
out:
  if (rc == AT_OK)
    *out = self;
  else
    at_email_destroy (&self);
  return rc;
}

/* --- the InboundMessage */

int
at_email_to_inbound (const at_email_t *self, const char *trace_id, at_msg_t **out, char *reason,
                     size_t cap)
{
  char handle[AT_HANDLE_MAX];
  *out = NULL;
  if (!self || at_channel_normalize_handle ("email", self->from, handle, sizeof handle) != AT_OK)
    return s_fail (reason, cap, "the sender's address is not a valid email address");
  Atende__InboundMessage in = ATENDE__INBOUND_MESSAGE__INIT;
  Atende__Attachment att[AT_EMAIL_ATTACHMENTS_MAX], *att_p[AT_EMAIL_ATTACHMENTS_MAX];
  char *refs[AT_EMAIL_REFERENCES_MAX];
  in.channel = "email";
  in.handle = handle;
  in.name = (char *) self->from_name;
  in.text = self->text;
  in.provider_message_id = (char *) (self->message_id[0] ? self->message_id : self->digest);
  in.received_us = at_now_us ();
  in.subject = self->subject;
  in.message_id = (char *) self->message_id;
  in.in_reply_to = (char *) self->in_reply_to;
  for (size_t i = 0; i < self->n_references; i++)
    refs[i] = (char *) self->references[i];
  in.n_references = self->n_references;
  in.references = refs;
  for (size_t i = 0; i < self->n_attachments; i++) {
    const at_email_attachment_t *a = &self->attachments[i];
    atende__attachment__init (&att[i]);
    att[i].name = (char *) a->name;
    att[i].content_type = (char *) a->content_type;
    att[i].size = (int64_t) a->size;
    att[i].content.data = a->content;
    att[i].content.len = a->content_len;
    att[i].bytes_truncated = a->truncated;
    att_p[i] = &att[i];
  }
  in.n_attachments = self->n_attachments;
  in.attachments = att_p;
  in.html_stripped = self->html_stripped;
  in.full_text = strcmp (self->text, self->full_text) != 0 ? self->full_text : "";
  size_t len = atende__inbound_message__get_packed_size (&in);
  if (len > AT_MSG_PAYLOAD_MAX)
    return s_fail (reason, cap, "the message is too large for the bus");
  uint8_t *payload = at_malloc (len + 1);
  atende__inbound_message__pack (&in, payload);
  char key[AT_KEY_LEN];
  snprintf (key, sizeof key, "email:%s", handle);
  *out = at_msg_new (AT_STAGE_INGEST, AT_TYPE_INBOUND_MESSAGE, key, trace_id, payload, len);
  free (payload);
  return *out ? AT_OK : s_fail (reason, cap, "the sender's address is too long");
}

/* --- outbound Message-IDs and ticket tags */

int
at_email_message_id_for_notification (const char *notification_id, const char *domain,
                                      char *out, size_t cap)
{
  if (!notification_id || !at_uuid_valid (notification_id) || !domain || !*domain
      || strpbrk (domain, "<>@ \t\r\n") || !out)
    return AT_INVALID;
  int n = snprintf (out, cap, "atende.%s@%s", notification_id, domain);
  return n > 0 && (size_t) n < cap ? AT_OK : AT_INVALID;
}

int
at_email_notification_from_message_id (const char *message_id, char out[AT_ID_LEN])
{
  static const char prefix[] = "atende.";
  if (!message_id || strncmp (message_id, prefix, sizeof prefix - 1) != 0)
    return AT_NOTFOUND;
  const char *id = message_id + sizeof prefix - 1;
  if (strlen (id) < AT_ID_LEN || id[AT_ID_LEN - 1] != '@')
    return AT_NOTFOUND;
  memcpy (out, id, AT_ID_LEN - 1);
  out[AT_ID_LEN - 1] = '\0';
  for (char *c = out; *c; c++)
    *c = (char) tolower ((unsigned char) *c);
  return at_uuid_valid (out) ? AT_OK : AT_NOTFOUND;
}

int64_t
at_email_ticket_tag (const char *subject)
{
  for (const char *p = subject ? strstr (subject, "[#") : NULL; p; p = strstr (p + 2, "[#")) {
    const char *d = p + 2;
    int64_t id = 0;
    int digits = 0;
    while (isdigit ((unsigned char) *d) && digits < 18) {
      id = id * 10 + (*d++ - '0');
      digits++;
    }
    if (digits > 0 && *d == ']' && id > 0)
      return id;
  }
  return 0;
}
