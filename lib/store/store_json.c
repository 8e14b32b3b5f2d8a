/* store_json: one JSON value from one row (at_store_json.h). */
#include "at_store_json.h"
#include "at_log.h"

int
at_store_json (at_store_t *store, const at_sql_t *sql, const char *const *values, json_t **out)
{
  PGresult *res = NULL;
  *out = NULL;
  int rc = at_store_exec (store, sql, values, NULL, NULL, &res);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) != 1) {
    PQclear (res);
    return AT_NOTFOUND;
  }
  *out = json_loads (PQgetvalue (res, 0, 0), JSON_DECODE_ANY, NULL);
  PQclear (res);
  if (!*out) {
    at_error ("store", "msg=\"store answered JSON that does not parse\" query=%s", sql->name);
    return AT_ERROR;
  }
  return AT_OK;
}
