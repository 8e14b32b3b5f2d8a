/* Each provider's request and how its answer is read. Pure functions: no
 * network, no clock except what the caller passes. JSON through jansson,
 * email through GMime. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <gmime/gmime.h>
#include "at_provider.h"
#include "at_email.h"
#include "at_json.h"
#include "at_order.h"
#include "at_text.h"

#define S_BODY_MAX (256 * 1024)
#define S_DAY_MS (86400LL * 1000)

/* --- classification ------------------------------------------------------ */

int
at_provider_classify_http (long status)
{
  if (status >= 200 && status < 300)
    return AT_OK;
  /* 401: the provider refuses our credentials: its problem, not the message's
   * (retried, counted by the breaker, seen by an operator). */
  if (status == 401 || status == 408 || status == 425 || status == 429)
    return AT_AGAIN;
  if (status >= 400 && status < 500)
    return AT_INVALID;
  return AT_AGAIN;   /* no answer, 5xx, an unexpected 1xx/3xx */
}

int
at_provider_classify_smtp (long code)
{
  if (code >= 200 && code < 400)
    return AT_OK;
  if (code >= 500 && code < 600)
    return AT_INVALID;
  return AT_AGAIN;
}

int64_t
at_provider_retry_after_ms (const char *value, int64_t now_s)
{
  if (!value)
    return -1;
  while (*value == ' ' || *value == '\t')
    value++;
  long secs;
  char digits[24];
  size_t n = strspn (value, "0123456789");
  if (n > 0 && n < sizeof digits && (value[n] == 0 || value[n] == ' ' || value[n] == '\r')) {
    memcpy (digits, value, n);
    digits[n] = 0;
    if (at_parse_long (digits, 0, 86400, &secs) != AT_OK)
      return S_DAY_MS;
    return (int64_t) secs * 1000;
  }
  struct tm tm;
  memset (&tm, 0, sizeof tm);
  const char *end = strptime (value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end)
    return -1;
  int64_t at = (int64_t) timegm (&tm);
  int64_t ms = (at - now_s) * 1000;
  return ms < 0 ? 0 : ms > S_DAY_MS ? S_DAY_MS : ms;
}

int64_t
at_provider_backoff_ms (int attempt, long base_ms, long max_ms, int64_t retry_after_ms,
                        uint64_t rnd)
{
  int64_t max = max_ms > 0 ? max_ms : 300000;
  int64_t delay = base_ms > 0 ? base_ms : 500;
  for (int i = 1; i < attempt && delay < max; i++)
    delay *= 2;
  if (delay > max)
    delay = max;
  int64_t half = delay / 2;
  delay = half + (int64_t) (rnd % (uint64_t) (delay - half + 1));
  return retry_after_ms > delay ? retry_after_ms : delay;
}

/* --- JSON answers -------------------------------------------------------- */

static json_t *
s_parse (const char *body, size_t len)
{
  if (!body || len == 0)
    return NULL;
  return json_loadb (body, len, JSON_REJECT_DUPLICATES, NULL);
}

static void
s_error (at_provider_msg_t *m, long status, const char *detail)
{
  snprintf (m->error, sizeof m->error, "HTTP %ld: %.200s", status, detail ? detail : "");
}

/* Meta error codes that mean "later" (throttling, temporary), not "never". */
static bool
s_meta_retryable (long long code)
{
  static const long long codes[] = {1, 2, 4, 17, 341, 80007, 130429, 131000, 131048, 131056,
                                    133004};
  for (size_t i = 0; i < AT_ARRAY_LEN (codes); i++)
    if (codes[i] == code)
      return true;
  return false;
}

void
at_provider_whatsapp_answer (at_provider_msg_t *m, long status, const char *body, size_t len)
{
  json_t *doc = s_parse (body, len);
  m->outcome = at_provider_classify_http (status);
  if (m->outcome == AT_OK) {
    json_t *first = json_array_get (json_object_get (doc, "messages"), 0);
    const char *id = json_string_value (json_object_get (first, "id"));
    if (id && strlen (id) < sizeof m->provider_message_id)
      at_strlcpy (m->provider_message_id, id, sizeof m->provider_message_id);
    else
      m->outcome = AT_AGAIN, s_error (m, status, "accepted without a message id");
  } else {
    json_t *err = json_object_get (doc, "error");
    json_t *code = json_object_get (err, "code");
    const char *text = json_string_value (json_object_get (err, "message"));
    if (json_is_integer (code) && m->outcome == AT_INVALID
        && s_meta_retryable (json_integer_value (code)))
      m->outcome = AT_AGAIN;
    char detail[200];
    snprintf (detail, sizeof detail, "code %lld %.160s",
              json_is_integer (code) ? (long long) json_integer_value (code) : 0LL,
              text ? text : body && len ? "(no error message)" : "(no body)");
    s_error (m, status, detail);
  }
  json_decref (doc);
}

void
at_provider_twilio_answer (at_provider_msg_t *m, long status, const char *body, size_t len)
{
  json_t *doc = s_parse (body, len);
  m->outcome = at_provider_classify_http (status);
  if (m->outcome == AT_OK) {
    const char *sid = json_string_value (json_object_get (doc, "sid"));
    if (sid && strlen (sid) < sizeof m->provider_message_id)
      at_strlcpy (m->provider_message_id, sid, sizeof m->provider_message_id);
    else
      m->outcome = AT_AGAIN, s_error (m, status, "accepted without a sid");
  } else {
    json_t *code = json_object_get (doc, "code");
    const char *text = json_string_value (json_object_get (doc, "message"));
    if (json_is_integer (code) && json_integer_value (code) == 20429)
      m->outcome = AT_AGAIN;   /* Too Many Requests */
    char detail[200];
    snprintf (detail, sizeof detail, "code %lld %.160s",
              json_is_integer (code) ? (long long) json_integer_value (code) : 0LL,
              text ? text : "(no error message)");
    s_error (m, status, detail);
  }
  json_decref (doc);
}

void
at_provider_webhook_answer (at_provider_msg_t *m, long status, const char *body, size_t len)
{
  m->outcome = at_provider_classify_http (status);
  if (m->outcome == AT_OK)
    at_strlcpy (m->provider_message_id, m->id, sizeof m->provider_message_id);
  else {
    char detail[201];
    size_t n = len < 200 ? len : 200;
    for (size_t i = 0; i < n; i++) {
      unsigned char c = (unsigned char) body[i];
      detail[i] = c >= 0x20 && c < 0x7f ? (char) c : ' ';
    }
    detail[n] = 0;
    s_error (m, status, detail);
  }
}

/* --- request bodies ------------------------------------------------------ */

/* WhatsApp Cloud API interactive list of a survey's scores (at most 10
 * rows: NPS lists 10..1, 0 is typed). false when it cannot be one. */
#define S_WA_LIST_BODY_MAX 1024
static bool
s_whatsapp_survey_list (json_t *o, const at_provider_msg_t *m)
{
  static const char *const csat[3][5] = {
    {"1 - Péssimo", "2 - Ruim", "3 - Regular", "4 - Bom", "5 - Ótimo"},
    {"1 - Very poor", "2 - Poor", "3 - Fair", "4 - Good", "5 - Excellent"},
    {"1 - Pésimo", "2 - Malo", "3 - Regular", "4 - Bueno", "5 - Excelente"},
  };
  static const char *const ui[3][2] = {
    {"Responder", "Sua nota"}, {"Answer", "Your score"}, {"Responder", "Tu nota"},
  };
  bool nps = strcmp (m->survey_kind, "nps") == 0;
  if ((!nps && strcmp (m->survey_kind, "csat") != 0) || strlen (m->text) > S_WA_LIST_BODY_MAX)
    return false;
  int l = m->locale && strcmp (m->locale, "en") == 0 ? 1
          : m->locale && strcmp (m->locale, "es") == 0 ? 2 : 0;
  json_t *rows = json_array ();
  for (int v = nps ? 10 : 5; v >= 1; v--) {
    char id[16], title[8];
    snprintf (id, sizeof id, "%s:%d", nps ? "nps" : "csat", v);
    snprintf (title, sizeof title, "%d", v);
    json_array_append_new (rows, json_pack ("{s:s, s:s}", "id", id, "title",
                                            nps ? title : csat[l][v - 1]));
  }
  json_t *list = json_pack ("{s:s, s:{s:s}, s:{s:s, s:[{s:s, s:o}]}}", "type", "list",
                            "body", "text", m->text, "action", "button", ui[l][0], "sections",
                            "title", ui[l][1], "rows", rows);
  if (!list)
    return false;
  return json_object_set_new (o, "type", json_string ("interactive")) == 0
         && json_object_set_new (o, "interactive", list) == 0;
}

char *
at_provider_whatsapp_body (const at_provider_msg_t *m)
{
  json_t *o = json_object ();
  int bad = json_object_set_new (o, "messaging_product", json_string ("whatsapp"));
  bad |= json_object_set_new (o, "recipient_type", json_string ("individual"));
  bad |= json_object_set_new (o, "to", json_string (m->to));
  if (m->template_name) {
    json_t *param = json_pack ("{s:s, s:s}", "type", "text", "text", m->text);
    json_t *comp = json_pack ("{s:s, s:[o]}", "type", "body", "parameters", param);
    json_t *tpl = json_pack ("{s:s, s:{s:s}, s:[o]}", "name", m->template_name, "language",
                             "code", m->template_lang ? m->template_lang : "pt_BR",
                             "components", comp);
    bad |= !tpl;
    bad |= json_object_set_new (o, "type", json_string ("template"));
    bad |= json_object_set_new (o, "template", tpl);
  } else if (m->survey_kind && s_whatsapp_survey_list (o, m)) {
    /* the scores as a list: the reply's id (nps:9) is what comes back */
  } else {
    bad |= json_object_set_new (o, "type", json_string ("text"));
    bad |= json_object_set_new (o, "text", json_pack ("{s:b, s:s}", "preview_url", 0, "body",
                                                      m->text));
  }
  char *text = bad ? NULL : at_json_dump (o, S_BODY_MAX);
  json_decref (o);
  return text;
}

/* application/x-www-form-urlencoded value: unreserved kept, the rest %XX. */
static bool
s_form_append (char *out, size_t cap, size_t *len, const char *name, const char *value)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t n = *len;
  if (n > 0) {
    if (n + 1 >= cap)
      return false;
    out[n++] = '&';
  }
  for (const char *p = name; *p; p++) {
    if (n + 1 >= cap)
      return false;
    out[n++] = *p;
  }
  if (n + 1 >= cap)
    return false;
  out[n++] = '=';
  for (const unsigned char *p = (const unsigned char *) value; *p; p++) {
    bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                 || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'
                 || *p == '~';
    if (n + (plain ? 1 : 3) >= cap)
      return false;
    if (plain)
      out[n++] = (char) *p;
    else {
      out[n++] = '%';
      out[n++] = hex[*p >> 4];
      out[n++] = hex[*p & 15];
    }
  }
  out[n] = 0;
  *len = n;
  return true;
}

char *
at_provider_twilio_body (const at_provider_msg_t *m, const char *from, const char *status_callback)
{
  size_t cap = 3 * (strlen (m->text) + strlen (m->to) + strlen (from)
                    + (status_callback ? strlen (status_callback) : 0)) + 128;
  if (cap > S_BODY_MAX)
    return NULL;
  char *out = at_malloc (cap);
  size_t len = 0;
  out[0] = 0;
  bool ok = s_form_append (out, cap, &len, "To", m->to);
  ok = ok && s_form_append (out, cap, &len, strncmp (from, "MG", 2) == 0
                                                ? "MessagingServiceSid" : "From", from);
  ok = ok && s_form_append (out, cap, &len, "Body", m->text);
  if (ok && status_callback && *status_callback)
    ok = s_form_append (out, cap, &len, "StatusCallback", status_callback);
  if (!ok) {
    free (out);
    return NULL;
  }
  return out;
}

static void
s_rfc3339 (int64_t us, char out[40])
{
  time_t secs = (time_t) (us / 1000000);
  struct tm tm;
  gmtime_r (&secs, &tm);
  size_t n = strftime (out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (out + n, 40 - n, ".%06dZ", (int) (us % 1000000));
}

char *
at_provider_webhook_body (const at_provider_msg_t *m)
{
  char created[40];
  s_rfc3339 (m->created_us, created);
  json_t *o = json_object ();
  int bad = json_object_set_new (o, "id", json_string (m->id));
  bad |= json_object_set_new (o, "type", json_string (m->event_type ? m->event_type
                                                                   : "message.send"));
  bad |= json_object_set_new (o, "kind", json_string (m->kind ? m->kind : ""));
  bad |= json_object_set_new (o, "channel", json_string (m->channel ? m->channel : ""));
  bad |= json_object_set_new (o, "to", json_string (m->to));
  bad |= json_object_set_new (o, "text", json_string (m->text));
  bad |= json_object_set_new (o, "ticket_id",
                              m->ticket_id > 0 ? json_integer (m->ticket_id) : json_null ());
  bad |= json_object_set_new (o, "order_id",
                              m->order_id ? json_string (m->order_id) : json_null ());
  bad |= json_object_set_new (o, "created_at", json_string (created));
  if (m->template_name)
    bad |= json_object_set_new (o, "template", json_string (m->template_name));
  if (m->subject)
    bad |= json_object_set_new (o, "subject", json_string (m->subject));
  char *text = bad ? NULL : at_json_dump (o, S_BODY_MAX);
  json_decref (o);
  return text;
}

/* --- email (GMime) ------------------------------------------------------- */

#define S_SUBJECT_CHARS 150   /* characters of a subject (GMime folds it) */

/* A header value must be one line of printable text. */
static bool
s_header_safe (const char *s)
{
  if (!s || !*s || strlen (s) > 254)
    return false;
  for (const unsigned char *p = (const unsigned char *) s; *p; p++)
    if (*p < 0x20 || *p == 0x7f)
      return false;
  return true;
}

/* The subject: the message's own, else "<Order> <id>" or the shop's
 * service in the customer's locale (pt-BR when none). One line, valid UTF-8. */
static void
s_subject (const at_provider_msg_t *m, char *out, size_t cap)
{
  static const struct { const char *locale, *order, *service; } words[] = {
    {"pt-BR", "Pedido", "Atendimento"},
    {"en", "Order", "Customer service"},
    {"es", "Pedido", "Atenci\xc3\xb3n al cliente"},
  };
  at_text_excerpt (m->subject, S_SUBJECT_CHARS, out, cap);
  if (out[0])
    return;
  const char *locale = at_locale_pick (m->locale, NULL);
  size_t i = 0;
  while (i + 1 < AT_ARRAY_LEN (words) && strcmp (words[i].locale, locale) != 0)
    i++;
  char text[200];
  if (m->order_id && *m->order_id)
    snprintf (text, sizeof text, "%s %.120s", words[i].order, m->order_id);
  else
    at_strlcpy (text, words[i].service, sizeof text);
  at_text_excerpt (text, S_SUBJECT_CHARS, out, cap);
}

static void
s_address (InternetAddressList *list, const char *addr)
{
  InternetAddress *mailbox = internet_address_mailbox_new (NULL, addr);
  internet_address_list_add (list, mailbox);   /* takes its own reference */
  g_object_unref (mailbox);
}

/* text/plain; charset=UTF-8, quoted-printable when mostly ASCII, else base64. */
static GMimeObject *
s_text_part (const char *text)
{
  GMimeStream *stream = g_mime_stream_mem_new_with_buffer (text, strlen (text));
  GMimeDataWrapper *content = g_mime_data_wrapper_new_with_stream (stream,
                                                                   GMIME_CONTENT_ENCODING_DEFAULT);
  g_object_unref (stream);
  GMimePart *part = GMIME_PART (g_mime_text_part_new_with_subtype ("plain"));
  g_mime_part_set_content (part, content);
  g_object_unref (content);
  g_mime_object_set_content_type_parameter (GMIME_OBJECT (part), "charset", "UTF-8");
  g_mime_part_set_content_encoding (
      part, g_mime_part_get_best_content_encoding (part, GMIME_ENCODING_CONSTRAINT_7BIT));
  return GMIME_OBJECT (part);
}

static GMimeMessage *
s_mail_new (const at_provider_msg_t *m, const char *from, const char *message_id,
            int64_t now_us)
{
  GMimeMessage *mail = g_mime_message_new (FALSE);
  GMimeObject *obj = GMIME_OBJECT (mail);
  s_address (g_mime_message_get_from (mail), from);
  s_address (g_mime_message_get_addresses (mail, GMIME_ADDRESS_TYPE_TO), m->to);
  char subject[S_SUBJECT_CHARS * 4 + 1], id[AT_EMAIL_ID_MAX + 2];
  s_subject (m, subject, sizeof subject);
  g_mime_message_set_subject (mail, subject, "UTF-8");   /* RFC 2047 words, folded */
  GDateTime *date = g_date_time_new_from_unix_utc (now_us / 1000000);
  g_mime_message_set_date (mail, date);
  g_date_time_unref (date);
  snprintf (id, sizeof id, "<%s>", message_id);
  g_mime_object_set_header (obj, "Message-ID", id, NULL);
  g_mime_object_set_header (obj, "X-Atende-Notification-Id", m->id, NULL);
  GMimeObject *body = s_text_part (m->text);
  g_mime_message_set_mime_part (mail, body);
  g_object_unref (body);
  return mail;
}

/* The message as SMTP carries it: CRLF line ends throughout. */
static char *
s_mail_text (GMimeMessage *mail)
{
  GMimeFormatOptions *format = g_mime_format_options_new ();
  g_mime_format_options_set_newline_format (format, GMIME_NEWLINE_FORMAT_DOS);
  GMimeStream *out = g_mime_stream_mem_new ();
  char *text = NULL;
  if (g_mime_object_write_to_stream (GMIME_OBJECT (mail), format, out) >= 0) {
    GByteArray *bytes = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (out));
    text = at_strndup ((const char *) bytes->data, bytes->len);
  }
  g_object_unref (out);
  g_mime_format_options_free (format);
  return text;
}

char *
at_provider_smtp_message (const at_provider_msg_t *m, const char *from,
                          const char *message_id_domain, int64_t now_us)
{
  char id[AT_EMAIL_ID_MAX];
  if (!s_header_safe (m->to) || !s_header_safe (from) || !strchr (m->to, '@')
      || !s_header_safe (message_id_domain) || !m->text || strlen (m->text) > S_BODY_MAX
      || at_email_message_id_for_notification (m->id, message_id_domain, id, sizeof id) != AT_OK)
    return NULL;
  at_email_init ();
  GMimeMessage *mail = s_mail_new (m, from, id, now_us);
  char *text = s_mail_text (mail);
  g_object_unref (mail);
  return text;
}
