/* at_store_json: a statement whose one row holds one JSON value (built by
 * PostgreSQL: json_build_object, json_agg), parsed with jansson
 * (lib/store/store_json.c). */
#ifndef AT_STORE_JSON_H
#define AT_STORE_JSON_H

#include <jansson.h>
#include "at_store.h"

/* Runs sql with values (sql->nparams of them, text; NULL is SQL NULL) and
 * parses the first column of its one row into *out (the caller decrefs).
 * AT_OK; AT_NOTFOUND when there is not exactly one row; AT_ERROR (logged)
 * when the value does not parse; or the store's failure. */
int at_store_json (at_store_t *store, const at_sql_t *sql, const char *const *values,
                   json_t **out);

#endif
