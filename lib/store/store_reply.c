/* store_reply: saved replies (at_store_reply.h). Lists and rows are built
 * as JSON by PostgreSQL. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "at_store_reply.h"
#include "at_store_json.h"

#define S_ROW \
  "json_build_object ('id', r.id, 'title', r.title, 'locale', r.locale, 'intent', r.intent," \
  " 'body', r.body, 'updated_at'," \
  " to_char (r.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))"

/* $1 locale (NULL: all), $2 intent (NULL: no preference), $3 limit. */
static const at_sql_t SQL_LIST = {"reply_list",
  "SELECT coalesce (json_agg (" S_ROW " ORDER BY r.rank, r.title, r.locale), '[]')::text"
  " FROM (SELECT s.*, CASE WHEN s.intent = $2 THEN 0 WHEN s.intent IS NULL THEN 1 ELSE 2 END"
  "   AS rank FROM saved_reply s WHERE $1::text IS NULL OR s.locale = $1"
  "   ORDER BY rank, s.title, s.locale LIMIT $3::int) r", 3};

static const at_sql_t SQL_GET = {"reply_get",
  "SELECT " S_ROW "::text FROM saved_reply r WHERE r.id = $1::bigint", 1};

static const at_sql_t SQL_CREATE = {"reply_create",
  "INSERT INTO saved_reply (title, locale, intent, body) VALUES ($1, $2, $3, $4) RETURNING id", 4};

static const at_sql_t SQL_UPDATE = {"reply_update",
  "UPDATE saved_reply SET title = $2, locale = $3, intent = $4, body = $5, updated_at = now ()"
  " WHERE id = $1::bigint RETURNING id", 5};

static const at_sql_t SQL_DELETE = {"reply_delete",
  "DELETE FROM saved_reply WHERE id = $1::bigint RETURNING id", 1};

int
at_store_reply_list (at_store_t *store, const char *locale, const char *intent, int limit,
                     json_t **items_out)
{
  char lim[16];
  snprintf (lim, sizeof lim, "%d", limit);
  const char *values[] = {locale, intent, lim};
  return at_store_json (store, &SQL_LIST, values, items_out);
}

int
at_store_reply_get (at_store_t *store, int64_t id, json_t **out)
{
  char rid[24];
  snprintf (rid, sizeof rid, "%" PRId64, id);
  const char *values[] = {rid};
  return at_store_json (store, &SQL_GET, values, out);
}

int
at_store_reply_save (at_store_t *store, int64_t id, const at_reply_t *r, int64_t *id_out)
{
  char rid[24];
  snprintf (rid, sizeof rid, "%" PRId64, id);
  if (id == 0) {
    const char *values[] = {r->title, r->locale, r->intent, r->body};
    return at_store_id (store, &SQL_CREATE, values, id_out);
  }
  const char *values[] = {rid, r->title, r->locale, r->intent, r->body};
  return at_store_id (store, &SQL_UPDATE, values, id_out);
}

int
at_store_reply_delete (at_store_t *store, int64_t id)
{
  char rid[24];
  snprintf (rid, sizeof rid, "%" PRId64, id);
  const char *values[] = {rid};
  return at_store_id (store, &SQL_DELETE, values, NULL);
}
