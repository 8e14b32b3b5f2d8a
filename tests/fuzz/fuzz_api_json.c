/* Fuzz: the api's request-body validators (api/api_internal.h) and the
 * timestamp parsers it uses (lib/core/at_time.h), on bodies from outside.
 * The first byte picks the validator; the rest is the body. */
#include <stdlib.h>
#include <string.h>
#include "api_internal.h"
#include "at_time.h"

static void
s_check (int rc, at_msg_t *msg, const api_problem_t *p)
{
  char reason[128];
  if (rc == AT_OK) {
    if (!msg || at_msg_validate (msg, reason, sizeof reason) != AT_OK)
      abort ();
    return;
  }
  /* refused: no message, a 4xx problem with a title */
  if (msg || p->status < 400 || p->status > 499 || !p->title || !p->slug)
    abort ();
  if (p->field && p->field[0] == '\0')
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  api_problem_t p;
  at_msg_t *msg = NULL;
  int64_t us;
  int rc;
  if (size == 0 || size > 128 * 1024)
    return 0;
  const char *body = (const char *) data + 1;
  size_t len = size - 1;
  switch (data[0] % 8) {
  case 0: rc = api_inbound_parse (body, len, "k", NULL, &msg, &p); break;
  case 1: rc = api_order_event_parse ("PED-1", body, len, NULL, &msg, &p); break;
  case 2: rc = api_reply_parse (42, "ana", body, len, NULL, &msg, &p); break;
  case 3: rc = api_resolve_parse (42, "ana", body, len, NULL, &msg, &p); break;
  case 4:
    rc = api_survey_answer_parse ("0190e1f2-0000-7000-8000-0000000000a1", "csat", body, len,
                                  NULL, &msg, &p);
    break;
  case 5:
    rc = api_survey_answer_parse ("0190e1f2-0000-7000-8000-0000000000a1", "nps", body, len,
                                  NULL, &msg, &p);
    break;
  default: {
    char text[64];
    if (len >= sizeof text)
      return 0;
    memcpy (text, body, len);
    text[len] = '\0';
    (void) at_rfc3339_parse (text, &us);
    (void) at_date_parse (text, NULL, NULL, NULL);
    return 0;
  }
  }
  s_check (rc, msg, &p);
  at_msg_destroy (&msg);
  return 0;
}
