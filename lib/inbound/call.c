/* Telephone call events: Twilio Voice's callbacks and atende's own JSON
 * read into one at_call_t, and the text an agent reads (at_call.h). */
#include "at_call.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "at_buf.h"
#include "at_channel.h"
#include "at_json.h"
#include "at_text.h"
#include "at_time.h"
#include "at_url.h"

static const char *const s_event_names[] = {"answered", "missed", "voicemail"};

const char *
at_call_event_name (at_call_event_t event)
{
  return (size_t) event < AT_ARRAY_LEN (s_event_names) ? s_event_names[event] : "unknown";
}

/* AT_INVALID with the field and a reason. */
static int
s_bad (char *field, size_t field_cap, const char *name, char *reason, size_t reason_cap,
       const char *why)
{
  if (field && field_cap)
    at_strlcpy (field, name, field_cap);
  if (reason && reason_cap)
    snprintf (reason, reason_cap, "%s%s%s", name, *name ? " " : "", why);
  return AT_INVALID;
}

/* Text fit to show: valid UTF-8, no control characters (but newline and
 * tab where lines may be). */
static bool
s_clean (const char *text, bool lines)
{
  size_t n = strlen (text);
  if (!at_text_valid_utf8 (text, n))
    return false;
  for (const unsigned char *c = (const unsigned char *) text; *c; c++)
    if ((*c < ' ' && !(lines && (*c == '\n' || *c == '\t' || *c == '\r'))) || *c == 0x7f)
      return false;
  return true;
}

/* A decimal count of seconds, 0..AT_CALL_DURATION_MAX. */
static bool
s_seconds (const char *text, int64_t *out)
{
  if (!text || !*text || strspn (text, "0123456789") != strlen (text) || strlen (text) > 9)
    return false;
  errno = 0;
  long long n = strtoll (text, NULL, 10);
  if (errno || n > AT_CALL_DURATION_MAX)
    return false;
  *out = n;
  return true;
}

/* Copies at most cap - 1 bytes, never cutting a UTF-8 character. */
static void
s_copy_cut (char *out, size_t cap, const char *text)
{
  size_t n = strlen (text);
  if (n >= cap) {
    n = cap - 1;
    while (n > 0 && ((unsigned char) text[n] & 0xC0) == 0x80)
      n--;
  }
  memcpy (out, text, n);
  out[n] = '\0';
}

static void
s_init (at_call_t *c)
{
  memset (c, 0, sizeof *c);
  c->duration_s = -1;
}

/* --- atende's JSON */

typedef struct {
  char *field;
  size_t field_cap;
  char *reason;
  size_t reason_cap;
} s_err_t;

/* An optional (or required) string field of 1..max bytes, clean. */
static int
s_json_text (const json_t *obj, const char *name, size_t max, bool required, bool lines,
             const char **out, s_err_t *e)
{
  *out = NULL;
  int rc = at_json_get_string (obj, name, max, out);
  if (rc == AT_NOTFOUND && !required)
    return AT_OK;
  if (rc == AT_NOTFOUND)
    return s_bad (e->field, e->field_cap, name, e->reason, e->reason_cap, "is required");
  if (rc != AT_OK || !**out || !s_clean (*out, lines)) {
    char why[96];
    snprintf (why, sizeof why, "must be a string of 1 to %zu bytes of text", max);
    return s_bad (e->field, e->field_cap, name, e->reason, e->reason_cap, why);
  }
  return AT_OK;
}

static int
s_json_event (const json_t *obj, at_call_t *c, s_err_t *e)
{
  const char *event = NULL, *direction = NULL;
  if (s_json_text (obj, "event", 16, true, false, &event, e)
      || s_json_text (obj, "direction", 16, false, false, &direction, e))
    return AT_INVALID;
  size_t i = 0;
  while (i < AT_ARRAY_LEN (s_event_names) && strcmp (event, s_event_names[i]) != 0)
    i++;
  if (i == AT_ARRAY_LEN (s_event_names))
    return s_bad (e->field, e->field_cap, "event", e->reason, e->reason_cap,
                  "must be answered, missed or voicemail");
  c->event = (at_call_event_t) i;
  if (direction && strcmp (direction, "inbound") != 0 && strcmp (direction, "outbound") != 0)
    return s_bad (e->field, e->field_cap, "direction", e->reason, e->reason_cap,
                  "must be inbound or outbound");
  c->outbound = direction && strcmp (direction, "outbound") == 0;
  return AT_OK;
}

/* The customer's number (from, or to on an outbound call) to E.164. */
static int
s_json_customer (const json_t *obj, at_call_t *c, s_err_t *e)
{
  const char *from = NULL, *to = NULL;
  if (s_json_text (obj, "from", AT_CALL_NUMBER_MAX, !c->outbound, false, &from, e)
      || s_json_text (obj, "to", AT_CALL_NUMBER_MAX, c->outbound, false, &to, e))
    return AT_INVALID;
  const char *name = c->outbound ? "to" : "from";
  if (at_channel_normalize_handle ("phone", c->outbound ? to : from, c->customer,
                                   sizeof c->customer) != AT_OK)
    return s_bad (e->field, e->field_cap, name, e->reason, e->reason_cap,
                  "is not a phone number");
  return AT_OK;
}

static int
s_json_details (const json_t *obj, at_call_t *c, s_err_t *e)
{
  const char *when = NULL, *agent = NULL, *url = NULL, *transcript = NULL;
  long long duration = -1;
  if (s_json_text (obj, "occurred_at", 64, false, false, &when, e)
      || s_json_text (obj, "agent", AT_CALL_AGENT_MAX, false, false, &agent, e)
      || s_json_text (obj, "recording_url", AT_CALL_URL_MAX, false, false, &url, e)
      || s_json_text (obj, "transcript", AT_CALL_TRANSCRIPT_MAX, false, true, &transcript, e))
    return AT_INVALID;
  if (when && at_rfc3339_parse (when, &c->occurred_us) != AT_OK)
    return s_bad (e->field, e->field_cap, "occurred_at", e->reason, e->reason_cap,
                  "must be an RFC 3339 date-time with an offset");
  if (at_json_get_int (obj, "duration_s", 0, AT_CALL_DURATION_MAX, &duration) == AT_INVALID)
    return s_bad (e->field, e->field_cap, "duration_s", e->reason, e->reason_cap,
                  "must be a whole number of seconds, 0 to 86400");
  if (url && !at_url_is_web (url))
    return s_bad (e->field, e->field_cap, "recording_url", e->reason, e->reason_cap,
                  "must be an http or https URL");
  c->duration_s = duration;
  at_strlcpy (c->agent, agent ? agent : "", sizeof c->agent);
  at_strlcpy (c->recording_url, url ? url : "", sizeof c->recording_url);
  if (c->event == AT_CALL_VOICEMAIL)   /* the customer's words; on a talk they would be both */
    at_strlcpy (c->transcript, transcript ? transcript : "", sizeof c->transcript);
  return AT_OK;
}

int
at_call_from_json (const char *body, size_t len, at_call_t *out, char *field, size_t field_cap,
                   char *reason, size_t reason_cap)
{
  s_err_t e = {field, field_cap, reason, reason_cap};
  const char *id = NULL;
  char why[128];
  s_init (out);
  if (field && field_cap)
    field[0] = '\0';
  json_t *obj = at_json_parse_object (body, len, why, sizeof why);
  if (!obj)
    return s_bad (field, field_cap, "", reason, reason_cap, why);
  int rc = AT_INVALID;
  if (s_json_text (obj, "call_id", AT_CALL_ID_MAX, true, false, &id, &e) == AT_OK
      && s_json_event (obj, out, &e) == AT_OK && s_json_customer (obj, out, &e) == AT_OK
      && s_json_details (obj, out, &e) == AT_OK) {
    at_strlcpy (out->call_id, id, sizeof out->call_id);
    rc = AT_OK;
  }
  json_decref (obj);
  return rc;
}

/* --- Twilio Voice */

/* Which leg this is: the customer's number into c, or AT_NOTFOUND. */
static int
s_twilio_customer (const at_form_t *form, at_call_t *c, s_err_t *e)
{
  const char *direction = at_form_get (form, "Direction");
  if (!direction || strcmp (direction, "inbound") == 0)
    c->outbound = false;
  else if (strcmp (direction, "outbound-api") == 0)
    c->outbound = true;
  else {
    snprintf (e->reason, e->reason_cap, "a %s leg is between the store and its agents",
              strcmp (direction, "outbound-dial") == 0 ? "dialled" : "trunk or other");
    return AT_NOTFOUND;
  }
  const char *name = c->outbound ? "To" : "From";
  const char *number = at_form_get (form, name);
  if (!number || !*number)
    return s_bad (e->field, e->field_cap, name, e->reason, e->reason_cap, "is required");
  if (strlen (number) > AT_CALL_NUMBER_MAX
      || at_channel_normalize_handle ("phone", number, c->customer, sizeof c->customer) != AT_OK) {
    snprintf (e->reason, e->reason_cap, "the customer's number (%s) is withheld or not a "
              "phone number", name);
    return AT_NOTFOUND;
  }
  return AT_OK;
}

/* Which event a status callback (no recording, no transcription) tells. */
static int
s_twilio_status (const at_form_t *form, at_call_t *c, s_err_t *e)
{
  static const char *const missed[] = {"no-answer", "busy", "failed", "canceled"};
  static const char *const pending[] = {"queued", "initiated", "ringing", "in-progress"};
  const char *status = at_form_get (form, "CallStatus");
  if (!status || !*status)
    return s_bad (e->field, e->field_cap, "CallStatus", e->reason, e->reason_cap, "is required");
  for (size_t i = 0; i < AT_ARRAY_LEN (pending); i++)
    if (strcmp (status, pending[i]) == 0) {
      snprintf (e->reason, e->reason_cap, "the call is %s", pending[i]);
      return AT_NOTFOUND;
    }
  for (size_t i = 0; i < AT_ARRAY_LEN (missed); i++)
    if (strcmp (status, missed[i]) == 0) {
      c->event = AT_CALL_MISSED;
      return AT_OK;
    }
  if (strcmp (status, "completed") != 0)
    return s_bad (e->field, e->field_cap, "CallStatus", e->reason, e->reason_cap,
                  "is not a call status Twilio sends");
  const char *duration = at_form_get (form, "CallDuration");
  if (duration && !s_seconds (duration, &c->duration_s))
    return s_bad (e->field, e->field_cap, "CallDuration", e->reason, e->reason_cap,
                  "must be a whole number of seconds");
  c->event = c->duration_s > 0 ? AT_CALL_ANSWERED : AT_CALL_MISSED;
  return AT_OK;
}

/* A voicemail: the recording, and its transcription when this is one. */
static int
s_twilio_voicemail (const at_form_t *form, at_call_t *c, s_err_t *e)
{
  const char *url = at_form_get (form, "RecordingUrl");
  const char *length = at_form_get (form, "RecordingDuration");
  const char *text = at_form_get (form, "TranscriptionText");
  c->event = AT_CALL_VOICEMAIL;
  if (length && *length && !s_seconds (length, &c->duration_s))
    return s_bad (e->field, e->field_cap, "RecordingDuration", e->reason, e->reason_cap,
                  "must be a whole number of seconds");
  if (url && *url) {
    if (strlen (url) <= AT_CALL_URL_MAX && at_url_is_web (url))
      at_strlcpy (c->recording_url, url, sizeof c->recording_url);
    else
      c->url_dropped = true;
  }
  if (c->transcription) {
    if (!text || !s_clean (text, true))
      return s_bad (e->field, e->field_cap, "TranscriptionText", e->reason, e->reason_cap,
                    "is missing or not text");
    s_copy_cut (c->transcript, sizeof c->transcript, text);
  }
  return AT_OK;
}

int
at_call_from_twilio (const at_form_t *form, at_call_t *out, char *field, size_t field_cap,
                     char *reason, size_t reason_cap)
{
  char scratch[8];
  bool own = reason && reason_cap > 0;
  s_err_t e = {field, field_cap, own ? reason : scratch, own ? reason_cap : sizeof scratch};
  s_init (out);
  if (field && field_cap)
    field[0] = '\0';
  e.reason[0] = '\0';
  const char *sid = form ? at_form_get (form, "CallSid") : NULL;
  if (!sid || !*sid || strlen (sid) > AT_CALL_ID_MAX || !s_clean (sid, false))
    return s_bad (field, field_cap, "CallSid", e.reason, e.reason_cap, "is missing or too long");
  at_strlcpy (out->call_id, sid, sizeof out->call_id);
  int rc = s_twilio_customer (form, out, &e);
  if (rc != AT_OK)
    return rc;
  const char *tstatus = at_form_get (form, "TranscriptionStatus");
  const char *url = at_form_get (form, "RecordingUrl");
  if (tstatus || at_form_get (form, "TranscriptionText")) {
    if (!tstatus || strcmp (tstatus, "completed") != 0) {
      snprintf (e.reason, e.reason_cap, "the transcription did not complete");
      return AT_NOTFOUND;
    }
    out->transcription = true;
    return s_twilio_voicemail (form, out, &e);
  }
  if (url && *url)
    return s_twilio_voicemail (form, out, &e);
  return s_twilio_status (form, out, &e);
}

/* --- what the agent reads */

int
at_call_message_id (const at_call_t *call, char *out, size_t cap)
{
  int n = snprintf (out, cap, "call:%s:%s", call->call_id,
                    call->transcription ? "transcript" : at_call_event_name (call->event));
  return n > 0 && (size_t) n < cap ? AT_OK : AT_INVALID;
}

typedef struct {
  const char *locale;
  const char *missed_in, *missed_out, *answered_in, *answered_out, *by, *voicemail, *recording;
} s_words_t;

static const s_words_t s_words[] = {
  {"pt-BR", "Chamada perdida de", "Chamada não atendida para", "Chamada atendida",
   "Chamada feita para", "por", "Mensagem de voz", "gravação"},
  {"en", "Missed call from", "Unanswered call to", "Call answered", "Call made to", "by",
   "Voicemail", "recording"},
  {"es", "Llamada perdida de", "Llamada no contestada a", "Llamada atendida",
   "Llamada realizada a", "por", "Mensaje de voz", "grabación"},
};

static const s_words_t *
s_words_for (const char *locale)
{
  for (size_t i = 1; locale && i < AT_ARRAY_LEN (s_words); i++)
    if (strncmp (locale, s_words[i].locale, 2) == 0 && (locale[2] == 0 || locale[2] == '-'
                                                        || locale[2] == '_'))
      return &s_words[i];
  return &s_words[0];
}

/* "+55 11 98765-4321" for a Brazilian number, E.164 as it is otherwise. */
static void
s_number (const char *e164, char *out, size_t cap)
{
  size_t n = strlen (e164);
  if (strncmp (e164, "+55", 3) == 0 && (n == 13 || n == 14))
    snprintf (out, cap, "+55 %.2s %.*s-%s", e164 + 3, (int) (n - 9), e164 + 5, e164 + n - 4);
  else
    at_strlcpy (out, e164, cap);
}

/* "42 s", "3 min 12 s", "3 min", "1 h 5 min" */
static void
s_duration (at_buf_t *b, int64_t s)
{
  if (s < 60)
    at_buf_printf (b, "%lld s", (long long) s);
  else if (s < 3600 && s % 60)
    at_buf_printf (b, "%lld min %lld s", (long long) (s / 60), (long long) (s % 60));
  else if (s < 3600)
    at_buf_printf (b, "%lld min", (long long) (s / 60));
  else
    at_buf_printf (b, "%lld h %lld min", (long long) (s / 3600), (long long) (s % 3600 / 60));
}

int
at_call_summary (const at_call_t *call, const char *locale, char *out, size_t cap)
{
  const s_words_t *w = s_words_for (locale);
  char number[AT_CALL_NUMBER_MAX + 16];
  s_number (call->customer, number, sizeof number);
  if (cap == 0)
    return AT_INVALID;
  at_buf_t b;
  at_buf_fixed (&b, out, cap);
  if (call->event == AT_CALL_MISSED)
    at_buf_printf (&b, "%s %s", call->outbound ? w->missed_out : w->missed_in, number);
  else if (call->event == AT_CALL_ANSWERED) {
    if (call->outbound)
      at_buf_printf (&b, "%s %s", w->answered_out, number);
    else
      at_buf_puts (&b, w->answered_in);
    if (call->duration_s >= 0) {
      at_buf_puts (&b, " (");
      s_duration (&b, call->duration_s);
      at_buf_putc (&b, ')');
    }
    if (call->agent[0])
      at_buf_printf (&b, " %s %s", w->by, call->agent);
  }
  else {
    at_buf_puts (&b, w->voicemail);
    if (call->duration_s >= 0)
      at_buf_printf (&b, " (%lld:%02lld)", (long long) (call->duration_s / 60),
                     (long long) (call->duration_s % 60));
    if (call->transcript[0])
      at_buf_printf (&b, ": %s", call->transcript);
  }
  if (call->recording_url[0])
    at_buf_printf (&b, " \xe2\x80\x94 %s: %s", w->recording, call->recording_url);
  return b.overflow ? AT_INVALID : AT_OK;
}
