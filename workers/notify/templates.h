/* notify: order-status message templates, read from PostgreSQL
 * (message_template, see lib/outbound/at_template.h) and cached per worker thread for
 * template_cache_ms (ATENDE_TEMPLATE_CACHE_MS). */
#ifndef WRK_NOTIFY_TEMPLATES_H
#define WRK_NOTIFY_TEMPLATES_H

#include "at_config.h"
#include "at_store.h"
#include "at_template.h"

#define WRK_NOTIFY_TEXT_MAX 2048

/* Renders the template of event in locale; when that locale has none, in
 * cfg->default_locale (the store's). *locale_used (optional) gets the one
 * used. AT_NOTFOUND when neither has a template (no message for this event),
 * AT_INVALID when the text would not fit in cap, or a store error. */
int wrk_notify_render (at_store_t *store, const at_config_t *cfg, const char *event,
                       const char *locale, const at_template_vars_t *vars, char *out,
                       size_t cap, const char **locale_used);

/* Writes a YYYY-MM-DD date the locale's way (at_template_date). */
int wrk_notify_date (const char *iso_date, const char *locale, char *out, size_t cap);

/* Drops this thread's cache: the next render reads the store again. */
void wrk_notify_templates_forget (void);

#endif
