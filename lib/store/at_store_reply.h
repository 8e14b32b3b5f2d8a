/* at_store_reply: saved replies, the texts agents insert into a reply from
 * the inbox (table saved_reply, migration 024; lib/store/store_reply.c).
 * Each has a title unique within its locale (pt-BR, en, es), an optional
 * intent it suits, and a body with the message templates' placeholders. */
#ifndef AT_STORE_REPLY_H
#define AT_STORE_REPLY_H

#include <jansson.h>
#include "at_store.h"

#define AT_REPLY_TITLE_MAX 200     /* bytes */
#define AT_REPLY_LIST_MAX 200      /* replies in one answer */

typedef struct {
  const char *title;
  const char *locale;              /* pt-BR, en, es (checked by the caller) */
  const char *intent;              /* NULL: any intent */
  const char *body;                /* checked by at_template_check */
} at_reply_t;

/* The replies of locale (NULL: every locale) as a JSON array of {id, title,
 * locale, intent, body, updated_at} into *items_out (owned): those for
 * intent first (when given), then those for any intent, then the others,
 * each group by title; at most limit. */
int at_store_reply_list (at_store_t *store, const char *locale, const char *intent, int limit,
                         json_t **items_out);
/* One reply as JSON; AT_NOTFOUND. */
int at_store_reply_get (at_store_t *store, int64_t id, json_t **out);
/* A new reply (id 0; its id into *id_out) or a change to reply id.
 * AT_NOTFOUND: no reply id; AT_CONFLICT: the locale has a reply of that
 * title already. Runs in the caller's transaction, if any. */
int at_store_reply_save (at_store_t *store, int64_t id, const at_reply_t *r, int64_t *id_out);
/* AT_OK deleted, AT_NOTFOUND. */
int at_store_reply_delete (at_store_t *store, int64_t id);

#endif
