/* Message templates: the texts customers get about their orders, per event
 * (an order status) and locale (pt-BR, en, es), stored in PostgreSQL
 * (table message_template, lib/store/at_store_template.h) and rendered here.
 *
 * A template is text with placeholders {first_name} {order_id}
 * {tracking_url} {expected_date} {new_expected_date} {return_days}, and for
 * surveys {store_name} {score} {link}. A [bracketed] part is
 * left out when a placeholder inside it has no value. Values are inserted as
 * they are (their brackets and braces are not interpreted). Dates are given
 * as YYYY-MM-DD and written the locale's way: 24/11/2026 (pt-BR, es),
 * November 24, 2026 (en). */
#ifndef AT_TEMPLATE_H
#define AT_TEMPLATE_H

#include "at_store_template.h"   /* the limits of a stored template */

#define AT_TEMPLATE_VAR_MAX 64       /* bytes of a placeholder name reported back */

typedef struct {
  const char *first_name;        /* "" or NULL: the part is left out */
  const char *order_id;
  const char *tracking_url;
  const char *expected_date;     /* YYYY-MM-DD */
  const char *new_expected_date; /* YYYY-MM-DD: the new estimate of a delayed order */
  const char *return_days;       /* the return window in days (self-service answers) */
} at_template_vars_t;

/* True for the events templates exist for: the customer-facing order
 * statuses, the self-service answers (ss_return_opened, ...) and the
 * rules' own texts (rule_*, at_rule_template_name_ok). */
bool at_template_event_known (const char *event);
/* True for pt-BR, en, es. */
bool at_template_locale_known (const char *locale);

/* Checks a template before it is saved: AT_OK, or AT_INVALID with
 * *unknown_var set to the first placeholder that is not one of the nine
 * (without braces), or, when every placeholder is known, with reason saying
 * what else is wrong (empty, too long, not UTF-8, unclosed brace or
 * bracket, nested brackets). unknown_var and reason get "" when unused. */
int at_template_check (const char *body, char unknown_var[AT_TEMPLATE_VAR_MAX],
                       char *reason, size_t reason_cap);

/* Renders body into out. AT_INVALID when the text would not fit in cap. */
int at_template_render (const char *body, const char *locale, const at_template_vars_t *vars,
                        char *out, size_t cap);

/* The surveys' placeholders {store_name} (ATENDE_STORE_NAME), {score} (the
 * score recorded) and {link} (the signed answer link); NULL or "": none. */
typedef struct {
  const char *store_name;
  const char *score;
  const char *link;
} at_template_survey_t;

/* at_template_render with the surveys' placeholders too (survey may be NULL). */
int at_template_render_survey (const char *body, const char *locale, const at_template_vars_t *vars,
                               const at_template_survey_t *survey, char *out, size_t cap);

/* A YYYY-MM-DD date the locale's way; AT_INVALID for a date that does not exist. */
int at_template_date (const char *iso_date, const char *locale, char *out, size_t cap);

/* --- store ------------------------------------------------------------- */

#endif
