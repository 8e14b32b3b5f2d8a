/* Order-status message templates, per status and locale (pt-BR, en, es). */
#ifndef WRK_NOTIFY_TEMPLATES_H
#define WRK_NOTIFY_TEMPLATES_H

#include "at_common.h"

#define WRK_NOTIFY_TEXT_MAX 1024

typedef struct {
  const char *first_name;     /* "" or NULL: the greeting goes without a name */
  const char *order_id;
  const char *expected_date;  /* YYYY-MM-DD, "" or NULL: the sentence is left out */
  const char *tracking_url;   /* "" or NULL: the sentence is left out */
} wrk_notify_vars_t;

/* Renders the message of status in locale (one of pt-BR en es; others fall
 * back to pt-BR). AT_NOTFOUND for a status with no message (packed),
 * AT_INVALID when the text would not fit in cap. */
int wrk_notify_render (const char *status, const char *locale, const wrk_notify_vars_t *vars,
                       char *out, size_t cap);

/* Writes a YYYY-MM-DD date the locale's way: 24/11/2026 (pt-BR, es),
 * November 24, 2026 (en). AT_INVALID for a malformed date. */
int wrk_notify_date (const char *iso_date, const char *locale, char *out, size_t cap);

#endif
