/* Fuzz: call events (at_call.h) on any bytes, read both as atende's JSON
 * (at_call_from_json) and as a Twilio Voice form (at_call_from_twilio). An
 * event that reads holds what the parsers promise: a call id, the
 * customer's number in E.164, a recording URL that is http(s) or none, a
 * duration in range; its dedup key and its text (every locale) fit their
 * caps. One that does not gives a reason (and a field when refused). */
#include <stdlib.h>
#include <string.h>
#include "at_call.h"
#include "at_url.h"

static void
s_check (const at_call_t *c)
{
  static const char *const locales[] = {"pt-BR", "en", "es"};
  char id[AT_CALL_MESSAGE_ID_MAX];
  static char text[AT_CALL_SUMMARY_MAX];
  if (!c->call_id[0] || c->customer[0] != '+' || strlen (c->customer) > 16
      || c->duration_s < -1 || c->duration_s > AT_CALL_DURATION_MAX
      || (c->recording_url[0] && !at_url_is_web (c->recording_url))
      || (c->transcript[0] && c->event != AT_CALL_VOICEMAIL))
    abort ();
  if (at_call_message_id (c, id, sizeof id) != AT_OK || strncmp (id, "call:", 5) != 0)
    abort ();
  for (size_t i = 0; i < 3; i++)
    if (at_call_summary (c, locales[i], text, sizeof text) != AT_OK || !text[0])
      abort ();
}

static void
s_twilio (const uint8_t *data, size_t size)
{
  char reason[160], field[32];
  at_form_t *form = NULL;
  if (at_form_parse ((const char *) data, size, &form, reason, sizeof reason) != AT_OK)
    return;
  at_call_t *c = malloc (sizeof *c);
  int rc = at_call_from_twilio (form, c, field, sizeof field, reason, sizeof reason);
  if (rc == AT_OK)
    s_check (c);
  else if (!reason[0] || (rc == AT_INVALID && !field[0]) || (rc != AT_INVALID && rc != AT_NOTFOUND))
    abort ();
  free (c);
  at_form_destroy (&form);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char reason[160], field[32];
  if (size > 256 * 1024)
    return 0;
  at_call_t *c = malloc (sizeof *c);
  int rc = at_call_from_json ((const char *) data, size, c, field, sizeof field, reason,
                              sizeof reason);
  if (rc == AT_OK)
    s_check (c);
  else if (rc != AT_INVALID || !reason[0])
    abort ();
  free (c);
  s_twilio (data, size);
  return 0;
}
