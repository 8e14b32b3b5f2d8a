/* at_email: inbound email (RFC 5322 / MIME, with GMime 3) turned into what
 * an agent reads and what threading needs.
 *
 *   parse       raw message bytes -> at_email_t: sender, subject, Message-ID,
 *               In-Reply-To, References, the text (charsets converted to
 *               UTF-8, quoted-printable and base64 decoded; text/plain
 *               preferred in multipart/alternative, else HTML made text), the
 *               quoted reply and signature stripped from it (the whole text
 *               kept apart), attachments as name, type, size and bytes (up to
 *               a cap). Bad input is refused with a reason, never crashes.
 *   fields      the same from a provider's already-parsed fields (Mailgun's
 *               inbound form: from, subject, body-plain, body-html ...).
 *   inbound     an at_email_t as the InboundMessage ingest takes.
 *   outbound    the Message-ID atende gives an email it sends, so replies
 *               to it thread into their ticket.
 * GMime and libxml2 are initialised once per process, on first use
 * (thread-safe, at_email_init). */
#ifndef AT_EMAIL_H
#define AT_EMAIL_H

#include "at_common.h"
#include "at_msg.h"

#define AT_EMAIL_ID_MAX 256               /* bytes of a Message-ID kept (without <>) */
#define AT_EMAIL_REFERENCES_MAX 20        /* newest References kept */
#define AT_EMAIL_ATTACHMENTS_MAX 32       /* attachments described; more are counted only */
#define AT_EMAIL_ATTACHMENT_BYTES_MAX (768 * 1024)  /* bytes of all attachments carried */
#define AT_EMAIL_NAME_MAX 255             /* bytes of a file or display name */
#define AT_EMAIL_TYPE_MAX 127             /* bytes of a content type */
#define AT_EMAIL_DEPTH_MAX 16             /* nesting of multiparts followed */
#define AT_EMAIL_PARTS_MAX 256            /* MIME parts looked at */
#define AT_EMAIL_REASON_MAX 200

typedef struct {
  char name[AT_EMAIL_NAME_MAX + 1];
  char content_type[AT_EMAIL_TYPE_MAX + 1];
  size_t size;                  /* decoded bytes */
  uint8_t *content;             /* NULL when over the cap (truncated) */
  size_t content_len;
  bool truncated;
} at_email_attachment_t;

typedef struct {
  char from[AT_EMAIL_NAME_MAX + 1];       /* the sender's address as written */
  char from_name[AT_EMAIL_NAME_MAX + 1];  /* display name, "" when none */
  char *subject;                          /* UTF-8, "" when none */
  char message_id[AT_EMAIL_ID_MAX];       /* "" when none */
  char in_reply_to[AT_EMAIL_ID_MAX];      /* "" when none */
  char references[AT_EMAIL_REFERENCES_MAX][AT_EMAIL_ID_MAX];  /* oldest first */
  size_t n_references;
  char *text;                   /* what an agent reads (UTF-8, <= AT_TEXT_MAX bytes) */
  char *full_text;              /* the whole body (UTF-8, <= AT_TEXT_MAX bytes) */
  bool html_stripped;           /* the text was made from HTML */
  at_email_attachment_t attachments[AT_EMAIL_ATTACHMENTS_MAX];
  size_t n_attachments;
  size_t attachments_seen;      /* all attachments, described or not */
  char digest[72];              /* "sha256:<hex>" of the raw bytes (dedup without Message-ID) */
} at_email_t;

/* Parses a raw RFC 5322 message. AT_OK and *out (at_email_destroy), or
 * AT_INVALID with a reason fit to show (no From address, not a message...). */
int at_email_parse (const void *raw, size_t len, at_email_t **out, char *reason, size_t cap);
void at_email_destroy (at_email_t **self_p);

/* A provider's parsed fields (Mailgun inbound form names in comments). Any
 * may be NULL. body_mime, when given, is parsed instead of the rest. */
typedef struct {
  const char *from;             /* "from" (or "sender"): "Name <addr>" or addr */
  const char *subject;          /* "subject" */
  const char *body_plain;       /* "body-plain" */
  const char *body_html;        /* "body-html" (used when no body_plain) */
  const char *message_id;       /* "Message-Id" */
  const char *in_reply_to;      /* "In-Reply-To" */
  const char *references;       /* "References" */
  const void *body_mime;        /* "body-mime" (the raw MIME route) */
  size_t body_mime_len;
} at_email_fields_t;

/* Attachments described by the provider (name, type, bytes), added to an
 * email made from fields, under the same caps. */
int at_email_attachment_add (at_email_t *self, const char *name, const char *content_type,
                             const void *bytes, size_t len);
int at_email_from_fields (const at_email_fields_t *fields, at_email_t **out, char *reason,
                          size_t cap);

/* The InboundMessage (channel "email", key email:<address>) for ingest; the
 * provider message id is the Message-ID (or the digest when there is none).
 * AT_INVALID with a reason when the sender's address is not valid. */
int at_email_to_inbound (const at_email_t *self, const char *trace_id, at_msg_t **out,
                         char *reason, size_t cap);

/* The Message-ID (without <>) atende gives the outbound email of a
 * notification: "atende.<notification uuid>@<domain>". A reply quoting it
 * threads into the notification's ticket (ingest looks it up; providers
 * may also store it in notification.email_message_id). */
int at_email_message_id_for_notification (const char *notification_id, const char *domain,
                                          char *out, size_t cap);
/* The notification uuid inside such a Message-ID into out; AT_NOTFOUND otherwise. */
int at_email_notification_from_message_id (const char *message_id, char out[AT_ID_LEN]);

/* "[#123]" in a subject: the ticket id, or 0 when there is no tag. */
int64_t at_email_ticket_tag (const char *subject);

/* --- text helpers (lib/inbound/email_text.c), pure, bounded, safe on any input */

/* GMime and libxml2 set up for this process; at most once, from any thread.
 * Every function here (and the outbound email writer) calls it itself. */
void at_email_init (void);

/* HTML to plain text (libxml2's HTML parser): tags and comments dropped
 * (script, style and head content too), paragraphs and headings as blank
 * lines, div, tr, br as line breaks, list items as "- " indented by level,
 * link text kept, every entity decoded, whitespace runs one space. Reads up
 * to len bytes or a NUL; the text is valid UTF-8 and never longer than the
 * HTML. Caller frees. */
char *at_email_html_to_text (const char *html, size_t len);
/* The part of a reply an agent reads: quoted lines ("> "), the attribution
 * line ("On ... wrote:", "Em ... escreveu:", "El ... escribió:"), forwarded
 * originals and signatures ("-- ", "Enviado do meu iPhone", ...) dropped.
 * Returns a copy (caller frees); *stripped tells whether anything was
 * dropped. When nothing would be left, the whole text is returned. */
char *at_email_strip_reply (const char *text, bool *stripped);
/* Copy of bytes as valid UTF-8 (invalid sequences -> U+FFFD, NUL dropped,
 * CRLF -> LF), cut at max bytes on a character boundary. Caller frees. */
char *at_email_utf8_clean (const char *bytes, size_t len, size_t max);

#endif
