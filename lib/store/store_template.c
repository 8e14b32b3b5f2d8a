/* Message templates in PostgreSQL (table message_template, migration 005). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "at_store_template.h"

static const at_sql_t SQL_TEMPLATE_GET = {"template_get",
  "SELECT event, locale, body, to_char(updated_at AT TIME ZONE 'UTC',"
  " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM message_template WHERE event = $1 AND locale = $2", 2};

static const at_sql_t SQL_TEMPLATE_PUT = {"template_put",
  "INSERT INTO message_template AS t (event, locale, body) VALUES ($1, $2, $3)"
  " ON CONFLICT (event, locale) DO UPDATE SET body = excluded.body, updated_at = now()"
  " RETURNING (xmax = 0)", 3};

static const at_sql_t SQL_TEMPLATE_DELETE = {"template_delete",
  "DELETE FROM message_template WHERE event = $1 AND locale = $2 RETURNING 1", 2};

static const at_sql_t SQL_TEMPLATE_LIST = {"template_list",
  "SELECT event, locale, body, to_char(updated_at AT TIME ZONE 'UTC',"
  " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM message_template ORDER BY event, locale"
  " LIMIT $1::int", 1};

static void
s_row (PGresult *res, int r, at_template_row_t *out)
{
  at_strlcpy (out->event, PQgetvalue (res, r, 0), sizeof out->event);
  at_strlcpy (out->locale, PQgetvalue (res, r, 1), sizeof out->locale);
  at_strlcpy (out->body, PQgetvalue (res, r, 2), sizeof out->body);
  at_strlcpy (out->updated_at, PQgetvalue (res, r, 3), sizeof out->updated_at);
}

int
at_store_template_get (at_store_t *store, const char *event, const char *locale,
                       at_template_row_t *out)
{
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_TEMPLATE_GET, event, locale);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) == 1)
    s_row (res, 0, out);
  else
    rc = AT_NOTFOUND;
  PQclear (res);
  return rc;
}

int
at_store_template_put (at_store_t *store, const char *event, const char *locale,
                       const char *body, bool *created_out)
{
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_TEMPLATE_PUT, event, locale, body);
  if (rc != AT_OK)
    return rc;
  *created_out = PQntuples (res) == 1 && strcmp (PQgetvalue (res, 0, 0), "t") == 0;
  PQclear (res);
  return AT_OK;
}

int
at_store_template_delete (at_store_t *store, const char *event, const char *locale)
{
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_TEMPLATE_DELETE, event, locale);
  if (rc != AT_OK)
    return rc;
  rc = PQntuples (res) == 1 ? AT_OK : AT_NOTFOUND;
  PQclear (res);
  return rc;
}

int
at_store_template_list (at_store_t *store, size_t max, at_template_row_t **rows_out,
                        size_t *n_out)
{
  char limit[24];
  PGresult *res = NULL;
  *rows_out = NULL;
  *n_out = 0;
  snprintf (limit, sizeof limit, "%zu", max);
  int rc = at_store_q (store, &res, &SQL_TEMPLATE_LIST, limit);
  if (rc != AT_OK)
    return rc;
  size_t n = (size_t) PQntuples (res);
  at_template_row_t *rows = at_calloc (n ? n : 1, sizeof *rows);
  for (size_t i = 0; i < n; i++)
    s_row (res, (int) i, &rows[i]);
  PQclear (res);
  *rows_out = rows;
  *n_out = n;
  return AT_OK;
}
