/* at_store_audit: reading the audit log (table audit_log, migration 009):
 * who did what to which thing, newest first, filtered, in pages with a
 * keyset cursor (the id to read before). Rows are appended by
 * at_store_audit (at_store_auth.h), in the transaction of their change. */
#ifndef AT_STORE_AUDIT_H
#define AT_STORE_AUDIT_H

#include <jansson.h>
#include "at_store_auth.h"

#define AT_AUDIT_LIST_DEFAULT 100
#define AT_AUDIT_LIST_MAX 1000
#define AT_AUDIT_ACTION_MAX 64     /* bytes of an action filter */

typedef struct {
  const char *actor;         /* exact (cli, user:<id>, key:<id>); NULL any */
  const char *action;        /* exact (key.create ...); NULL any */
  bool has_since;            /* at >= since_us (microseconds since the epoch) */
  int64_t since_us;
  bool has_until;            /* at < until_us */
  int64_t until_us;
  int64_t before;            /* > 0: only rows with id < before (the cursor) */
  int limit;                 /* 1..AT_AUDIT_LIST_MAX */
} at_audit_filter_t;

/* The rows matching filter, newest (highest id) first, as a JSON array of
 * {id, at (RFC 3339 UTC, microseconds), actor, action, target (or null),
 * detail (an object), addr (or null)} into *items_out (owned). *next_out
 * gets the cursor of the next page (the last row's id, to pass as
 * `before`), or 0 when this page is the last. AT_OK, AT_INVALID (a filter
 * out of bounds; nothing read) or a store error. */
int at_store_audit_list (at_store_t *store, const at_audit_filter_t *filter, json_t **items_out,
                         int64_t *next_out);

#endif
