/* selfservice_text: the self-service answers' words, from the message
 * templates (table message_template, events ss_*, seeded by migration 015,
 * editable through /v1/templates) rendered by lib/outbound/at_template.h.
 * A payment code is added after rendering, never read as template syntax,
 * on a line of its own so that the customer can copy it whole. */
#include <stdio.h>
#include <string.h>

#include "route/selfservice.h"
#include "at_buf.h"
#include "at_order.h"
#include "at_store_template.h"
#include "at_template.h"

const char *
wrk_route_selfservice_locale (at_lang_t lang)
{
  return lang == AT_LANG_EN ? "en" : lang == AT_LANG_ES ? "es" : "pt-BR";
}

/* The template of event in locale, else in the default locale. */
static int
s_template (at_store_t *store, const at_config_t *cfg, const char *event, const char *locale,
            at_template_row_t *row)
{
  int rc = at_store_template_get (store, event, locale, row);
  const char *fallback = at_locale_pick (cfg->default_locale, "pt-BR");
  if (rc == AT_NOTFOUND && strcmp (fallback, locale) != 0)
    rc = at_store_template_get (store, event, fallback, row);
  return rc;
}

int
wrk_route_selfservice_text (at_store_t *store, const at_config_t *cfg, const char *event,
                            at_lang_t lang, const wrk_selfservice_vars_t *vars, char *out,
                            size_t cap)
{
  at_template_row_t row;
  int rc = s_template (store, cfg, event, wrk_route_selfservice_locale (lang), &row);
  if (rc != AT_OK)
    return rc;
  char days[24];
  snprintf (days, sizeof days, "%ld", vars->return_days);
  at_template_vars_t tv = {.order_id = vars->order_id, .return_days = days,
                           .expected_date = vars->date ? vars->date : ""};
  rc = at_template_render (row.body, row.locale, &tv, out, cap);
  if (rc != AT_OK || !vars->code || !*vars->code)
    return rc;
  size_t used = strlen (out);
  int n = snprintf (out + used, cap - used, "\n\n%s", vars->code);
  return n < 0 || (size_t) n >= cap - used ? AT_INVALID : AT_OK;
}
