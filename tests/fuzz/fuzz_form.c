/* Fuzz: application/x-www-form-urlencoded bodies (at_form_parse) and the
 * signatures computed over them (Twilio sorts the fields), and the same
 * bytes as multipart/form-data with boundary "XyZ" (Mailgun with
 * attachments). A form that parses has at most AT_FORM_FIELDS_MAX parts with
 * non-empty names and values of the length they claim; one that does not
 * gives a reason and no form. */
#include <stdlib.h>
#include <string.h>
#include "at_channel_sig.h"
#include "at_form.h"

static void
s_multipart (const uint8_t *data, size_t size)
{
  char reason[160];
  at_form_t *form = NULL;
  if (at_form_parse_multipart ((const char *) data, size, "XyZ", &form, reason, sizeof reason)
      != AT_OK) {
    if (form || reason[0] == '\0')
      abort ();
    return;
  }
  if (at_form_count (form) + at_form_file_count (form) > AT_FORM_FIELDS_MAX)
    abort ();
  for (size_t i = 0; i < at_form_file_count (form); i++) {
    const at_form_file_t *f = at_form_file (form, i);
    if (!f->field[0] || f->len > size || !f->content_type)
      abort ();
  }
  at_form_destroy (&form);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char reason[160], sig[64];
  at_form_t *form = NULL;
  if (size > 256 * 1024)
    return 0;
  s_multipart (data, size);
  int rc = at_form_parse ((const char *) data, size, &form, reason, sizeof reason);
  if (rc != AT_OK) {
    if (form || reason[0] == '\0')
      abort ();
    return 0;
  }
  if (at_form_count (form) > AT_FORM_FIELDS_MAX)
    abort ();
  for (size_t i = 0; i < at_form_count (form); i++) {
    const at_form_field_t *f = at_form_field (form, i);
    if (!f->name[0] || strlen (f->name) > AT_FORM_NAME_MAX || strlen (f->value) != f->value_len)
      abort ();
  }
  if (at_sig_twilio_sign ("12345", "https://example.com/hook", form, sig, sizeof sig) != AT_OK)
    abort ();
  (void) at_sig_twilio_verify ("12345", "https://example.com/hook", form, sig);
  at_form_destroy (&form);
  return 0;
}
