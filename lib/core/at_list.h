/* at_list: the one parser of list settings, applied when the settings are
 * loaded (at_config), so a malformed list is a startup error naming its
 * variable and the code that uses a list never parses text.
 *
 *   VALUES   a,b,c                 broker endpoints, the channel fallback
 *   PAIRS    key=value,key2=value2 per-stage attempts, provider routes,
 *                                  WhatsApp templates ("*" is the default key)
 *   SECRETS  one secret for every account (it may end in base64's '='
 *            padding), or account=secret pairs with "*" as the default
 *
 * Spaces and tabs around items, keys and values are ignored; an empty item,
 * a duplicate key, an empty key or value, or a pair in a VALUES list is an
 * error. Reasons never quote a SECRETS list's values. */
#ifndef AT_LIST_H
#define AT_LIST_H

#include <stdbool.h>
#include <stddef.h>

#define AT_LIST_MAX 64   /* items in one list */

typedef enum { AT_LIST_VALUES, AT_LIST_PAIRS, AT_LIST_SECRETS } at_list_kind_t;

typedef struct {
  const char *key;     /* NULL for a bare item */
  const char *value;
} at_list_item_t;

typedef struct {
  at_list_item_t items[AT_LIST_MAX];
  size_t n;
  char *text;          /* owned: the list as written (settings print it) */
  char *text_;         /* owned: the items point into it */
} at_list_t;

/* Parses text into list (cleared first). AT_OK, or AT_INVALID with a reason
 * ("item 3 ('sms') is not key=value"); the list is then empty. */
int at_list_parse (at_list_t *list, const char *text, at_list_kind_t kind, char *reason,
                   size_t reason_cap);
void at_list_clear (at_list_t *list);

/* The value of key, NULL when absent. */
const char *at_list_get (const at_list_t *list, const char *key);
/* The value of key, else of "*", else the bare item of a one-secret list;
 * NULL when none applies. */
const char *at_list_lookup (const at_list_t *list, const char *key);
/* Whether a VALUES list holds value. */
bool at_list_has (const at_list_t *list, const char *value);

#endif
