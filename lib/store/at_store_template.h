/* The message_template table: the stored texts per event and locale
 * (lib/store/store_template.c); lib/outbound/at_template.h checks and
 * renders them. */
#ifndef AT_STORE_TEMPLATE_H
#define AT_STORE_TEMPLATE_H

#include "at_store.h"

#define AT_TEMPLATE_EVENT_LEN 24     /* bytes of an event name + NUL */
#define AT_TEMPLATE_LOCALE_LEN 8
#define AT_TEMPLATE_BODY_MAX 2000    /* bytes of a template */

typedef struct {
  char event[AT_TEMPLATE_EVENT_LEN];
  char locale[AT_TEMPLATE_LOCALE_LEN];
  char body[AT_TEMPLATE_BODY_MAX + 1];
  char updated_at[40];            /* RFC 3339, UTC */
} at_template_row_t;

/* One template: AT_OK, AT_NOTFOUND or a store error. */
int at_store_template_get (at_store_t *store, const char *event, const char *locale,
                           at_template_row_t *out);
/* Creates or replaces; *created_out tells which. */
int at_store_template_put (at_store_t *store, const char *event, const char *locale,
                           const char *body, bool *created_out);
/* AT_OK, AT_NOTFOUND or a store error. */
int at_store_template_delete (at_store_t *store, const char *event, const char *locale);
/* Every template (at most max rows): *rows_out malloc'd (caller frees). */
int at_store_template_list (at_store_t *store, size_t max, at_template_row_t **rows_out,
                            size_t *n_out);

#endif
