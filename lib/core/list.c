/* at_list: see at_list.h. */
#include "at_list.h"
#include "at_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *
s_trim (char *s)
{
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen (s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
    s[--n] = '\0';
  return s;
}

static int
s_fail (at_list_t *list, char *reason, size_t cap, size_t item, const char *item_text,
        const char *why)
{
  if (cap > 0) {
    if (item_text)
      snprintf (reason, cap, "item %zu ('%.60s') %s", item, item_text, why);
    else
      snprintf (reason, cap, "item %zu %s", item, why);
  }
  at_list_clear (list);
  return AT_INVALID;
}

/* One item: bare or key=value, checked against the kind. */
static int
s_item (at_list_t *list, char *item, at_list_kind_t kind, bool bare_secret, char *reason,
        size_t cap)
{
  size_t pos = list->n + 1;
  const char *shown = kind == AT_LIST_SECRETS ? NULL : item;
  if (*item == '\0')
    return s_fail (list, reason, cap, pos, NULL, "is empty");
  if (list->n == AT_LIST_MAX)
    return s_fail (list, reason, cap, pos, NULL, "is one too many (at most 64 items)");
  char *eq = strchr (item, '=');
  if (kind == AT_LIST_VALUES || bare_secret) {
    if (eq && kind == AT_LIST_VALUES)
      return s_fail (list, reason, cap, pos, shown, "has '=': this list takes plain values");
    list->items[list->n++] = (at_list_item_t) {NULL, item};
    return AT_OK;
  }
  if (eq == NULL)
    return s_fail (list, reason, cap, pos, shown, "is not key=value");
  *eq = '\0';
  char *key = s_trim (item), *value = s_trim (eq + 1);
  if (*key == '\0' || *value == '\0')
    return s_fail (list, reason, cap, pos, kind == AT_LIST_SECRETS ? NULL : key,
                   *key ? "has an empty value" : "has an empty key");
  if (at_list_get (list, key) != NULL)
    return s_fail (list, reason, cap, pos, key, "repeats a key");
  list->items[list->n++] = (at_list_item_t) {key, value};
  return AT_OK;
}

int
at_list_parse (at_list_t *list, const char *text, at_list_kind_t kind, char *reason,
               size_t reason_cap)
{
  at_list_clear (list);
  if (reason_cap > 0)
    reason[0] = '\0';
  list->text = at_strdup (text ? text : "");
  list->text_ = at_strdup (list->text);
  if (*s_trim (list->text_) == '\0')
    return AT_OK;
  /* a SECRETS list without '=' (but for base64 padding) is one secret for
   * every account */
  const char *eq = strchr (list->text_, '=');
  bool bare_secret = kind == AT_LIST_SECRETS && strchr (list->text_, ',') == NULL
                     && (eq == NULL || strspn (eq, "=") == strlen (eq));
  if (bare_secret)
    return s_item (list, s_trim (list->text_), kind, true, reason, reason_cap);
  for (char *p = list->text_;;) {
    char *comma = strchr (p, ',');
    if (comma)
      *comma = '\0';
    if (s_item (list, s_trim (p), kind, false, reason, reason_cap) != AT_OK)
      return AT_INVALID;
    if (comma == NULL)
      return AT_OK;
    p = comma + 1;
  }
}

void
at_list_clear (at_list_t *list)
{
  free (list->text);
  free (list->text_);
  memset (list, 0, sizeof *list);
}

const char *
at_list_get (const at_list_t *list, const char *key)
{
  for (size_t i = 0; key && i < list->n; i++)
    if (list->items[i].key && strcmp (list->items[i].key, key) == 0)
      return list->items[i].value;
  return NULL;
}

const char *
at_list_lookup (const at_list_t *list, const char *key)
{
  if (list->n == 1 && list->items[0].key == NULL)
    return list->items[0].value;
  const char *value = key && *key ? at_list_get (list, key) : NULL;
  return value ? value : at_list_get (list, "*");
}

bool
at_list_has (const at_list_t *list, const char *value)
{
  for (size_t i = 0; value && i < list->n; i++)
    if (list->items[i].key == NULL && strcmp (list->items[i].value, value) == 0)
      return true;
  return false;
}
