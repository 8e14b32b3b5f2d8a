/* Fuzz: raw email from outside (POST /v1/channels/email, Mailgun's
 * body-mime): parse, build the InboundMessage, and the text helpers. Any
 * input parses or is refused with a reason; what parses is valid UTF-8
 * within the caps. */
#include <stdlib.h>
#include <string.h>
#include "at_email.h"
#include "at_text.h"

static void
s_check_text (const char *text)
{
  if (!text || !at_text_valid_utf8 (text, strlen (text)) || strlen (text) > AT_TEXT_MAX)
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  at_email_t *e = NULL;
  char reason[AT_EMAIL_REASON_MAX] = "";
  int rc = at_email_parse (data, size, &e, reason, sizeof reason);
  if (rc == AT_OK) {
    s_check_text (e->text);
    s_check_text (e->full_text);
    s_check_text (e->subject);
    if (e->n_attachments > AT_EMAIL_ATTACHMENTS_MAX)
      abort ();
    at_msg_t *msg = NULL;
    char why[AT_EMAIL_REASON_MAX] = "";
    if (at_email_to_inbound (e, NULL, &msg, why, sizeof why) != AT_OK && why[0] == '\0')
      abort ();
    at_msg_destroy (&msg);
    at_email_destroy (&e);
  }
  else if (rc != AT_INVALID || reason[0] == '\0' || e != NULL)
    abort ();
  /* the text helpers on the raw bytes */
  char *clean = at_email_utf8_clean ((const char *) data, size, AT_TEXT_MAX);
  s_check_text (clean);
  char *html = at_email_html_to_text (clean, strlen (clean));
  bool stripped = false;
  char *reply = at_email_strip_reply (html, &stripped);
  s_check_text (reply);
  free (reply);
  free (html);
  free (clean);
  return 0;
}
