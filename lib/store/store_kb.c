/* The knowledge base in PostgreSQL (tables kb_article and kb_event, the
 * search functions of migration 014). The api's reads come back as JSON
 * built by PostgreSQL (json_build_object), parsed here with jansson. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "at_store_kb.h"
#include "at_log.h"

#define S_COMP "store"
#define S_TIME(col) "to_char (" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* The score of article a for the question $2 in locale $1 (at_store_kb.h). */
#define S_FT "coalesce (ts_rank_cd (a.search, at_kb_query ($1, $2), 32), 0)"
#define S_TY "coalesce (at_kb_typo (at_kb_words ($2), a.title_plain), 0)"
#define S_RANKED \
  "WITH s AS (SELECT a.*, " S_FT " AS ft, " S_TY " AS ty FROM kb_article a" \
  " WHERE a.locale = $1 AND a.status = 'published'" \
  "   AND (a.search @@ at_kb_query ($1, $2) OR " S_TY " > 0))" \
  " SELECT *, greatest (ft, ty) AS score FROM s" \
  " ORDER BY greatest (ft, ty) DESC, ft + ty DESC, id LIMIT $3::int"

static const at_sql_t SQL_KB_CREATE = {"kb_article_create",
  "INSERT INTO kb_article (locale, title, body, status, tags, created_by)"
  " VALUES ($1, $2, $3, $4, ARRAY (SELECT jsonb_array_elements_text ($5::jsonb)), $6)"
  " RETURNING id", 6};

static const at_sql_t SQL_KB_UPDATE = {"kb_article_update",
  "UPDATE kb_article SET locale = $2, title = $3, body = $4, status = $5,"
  " tags = ARRAY (SELECT jsonb_array_elements_text ($6::jsonb)), updated_at = now ()"
  " WHERE id = $1 RETURNING id", 6};

/* Its events keep their rows (article_id becomes NULL by the foreign key). */
static const at_sql_t SQL_KB_DELETE = {"kb_article_delete",
  "DELETE FROM kb_article WHERE id = $1 RETURNING id", 1};

static const at_sql_t SQL_KB_GET = {"kb_article_get",
  "SELECT json_build_object ('id', id, 'locale', locale, 'title', title, 'body', body,"
  " 'tags', tags, 'status', status, 'created_at', " S_TIME ("created_at") ","
  " 'updated_at', " S_TIME ("updated_at") ", 'created_by', created_by)"
  " FROM kb_article WHERE id = $1", 1};

static const at_sql_t SQL_KB_LIST = {"kb_article_list",
  "SELECT coalesce (json_agg (json_build_object ('id', id, 'locale', locale, 'title', title,"
  " 'tags', tags, 'status', status, 'created_at', " S_TIME ("created_at") ","
  " 'updated_at', " S_TIME ("updated_at") ") ORDER BY id DESC), '[]')"
  " FROM (SELECT * FROM kb_article WHERE ($1::text IS NULL OR locale = $1)"
  " AND ($2::text IS NULL OR status = $2) ORDER BY id DESC LIMIT $3::int) AS a", 3};

static const at_sql_t SQL_KB_SEARCH = {"kb_search",
  "SELECT coalesce (json_agg (json_build_object ('id', id, 'locale', locale, 'title', title,"
  " 'tags', tags, 'score', round (score::numeric, 3), 'ft', round (ft::numeric, 3),"
  " 'ty', round (ty::numeric, 3), 'excerpt', left (body, 280))"
  " ORDER BY score DESC, ft + ty DESC, id), '[]') FROM (" S_RANKED ") AS r", 3};

static const at_sql_t SQL_KB_BEST = {"kb_best",
  "SELECT id, score, ft, ty, title, left (body, 3000) FROM (" S_RANKED ") AS r", 3};

static const at_sql_t SQL_KB_HANDED_OFF = {"kb_ticket_handed_off",
  "SELECT handoff_at IS NOT NULL FROM ticket WHERE id = $1", 1};

/* The question's message only when it is the ticket's (else NULL). */
#define S_MESSAGE "(SELECT id FROM ticket_message WHERE id = $2::bigint AND ticket_id = $1)"

static const at_sql_t SQL_KB_SUGGESTED = {"kb_suggested",
  "INSERT INTO kb_event (kind, ticket_id, message_id, article_id, locale, score)"
  " VALUES ('suggested', $1, " S_MESSAGE ", $3, $4, $5) RETURNING id", 5};

/* The customer did not answer in time: the suggestion, if it still awaits. */
static const at_sql_t SQL_KB_EXPIRE = {"kb_expire",
  "UPDATE kb_event SET answered_at = now (), outcome = 'unanswered'"
  " WHERE id = $2 AND ticket_id = $1 AND kind = 'suggested' AND answered_at IS NULL"
  " RETURNING 1", 2};

static const at_sql_t SQL_KB_NO_RESULT = {"kb_no_result",
  "INSERT INTO kb_event (kind, ticket_id, message_id, article_id, locale, score)"
  " VALUES ('no_result', $1, " S_MESSAGE ", (SELECT id FROM kb_article WHERE id = $3), $4, $5)",
  5};

static const at_sql_t SQL_KB_AWAITING = {"kb_awaiting",
  "SELECT coalesce (article_id, 0) FROM kb_event"
  " WHERE ticket_id = $1 AND kind = 'suggested' AND answered_at IS NULL", 1};

static const at_sql_t SQL_KB_SETTLE = {"kb_settle",
  "WITH s AS (UPDATE kb_event SET answered_at = now (), outcome = $3"
  "  WHERE ticket_id = $1 AND kind = 'suggested' AND answered_at IS NULL"
  "  RETURNING article_id, locale),"
  " e AS (INSERT INTO kb_event (kind, ticket_id, message_id, article_id, locale)"
  "  SELECT $3, $1, " S_MESSAGE ", article_id, locale FROM s"
  "  WHERE $3 IN ('helpful', 'unhelpful'))"
  " SELECT 1 FROM s", 3};

static const at_sql_t SQL_KB_OPENED = {"kb_opened",
  "INSERT INTO kb_event (kind, article_id, locale, actor)"
  " SELECT 'opened', id, locale, $2 FROM kb_article WHERE id = $1", 2};

static const at_sql_t SQL_KB_UNANSWERED = {"kb_unanswered",
  "SELECT coalesce (json_agg (json_build_object ('question', question, 'count', n,"
  " 'last_at', " S_TIME ("last_at") ", 'locale', locale, 'best_score', round (best::numeric, 3),"
  " 'ticket_ids', tickets) ORDER BY n DESC, last_at DESC), '[]') FROM ("
  " SELECT (array_agg (left (m.body, 500) ORDER BY e.id DESC))[1] AS question,"
  "  count (*) AS n, max (e.created_at) AS last_at,"
  "  (array_agg (e.locale ORDER BY e.id DESC))[1] AS locale, max (e.score) AS best,"
  "  (array_agg (e.ticket_id ORDER BY e.id DESC))[1:10] AS tickets"
  " FROM kb_event e JOIN ticket_message m ON m.id = e.message_id"
  " WHERE e.kind = 'no_result' AND e.created_at >= to_timestamp ($1::bigint / 1e6)"
  "  AND m.body <> '[erased]' AND btrim (m.body) <> ''"
  " GROUP BY lower (at_kb_unaccent (btrim (left (m.body, 500))))"
  " ORDER BY count (*) DESC, max (e.created_at) DESC LIMIT $2::int) AS q", 2};

static void
s_i64 (int64_t v, char out[24])
{
  snprintf (out, 24, "%" PRId64, v);
}

/* The tags as a JSON array text (owned). */
static char *
s_tags_json (const at_kb_article_t *a)
{
  json_t *arr = json_array ();
  for (size_t i = 0; i < a->n_tags; i++)
    json_array_append_new (arr, json_string (a->tags[i]));
  char *text = json_dumps (arr, JSON_COMPACT);
  json_decref (arr);
  return text;
}

int
at_store_kb_article_create (at_store_t *store, const at_kb_article_t *a, const char *actor,
                            int64_t *id_out)
{
  PGresult *res = NULL;
  char *tags = s_tags_json (a);
  if (!tags)
    return AT_ERROR;
  int rc = at_store_q (store, &res, &SQL_KB_CREATE, a->locale, a->title, a->body, a->status,
                       tags, actor);
  free (tags);
  if (rc != AT_OK)
    return rc;
  *id_out = PQntuples (res) == 1 ? strtoll (PQgetvalue (res, 0, 0), NULL, 10) : 0;
  PQclear (res);
  return *id_out > 0 ? AT_OK : AT_ERROR;
}

int
at_store_kb_article_update (at_store_t *store, int64_t id, const at_kb_article_t *a)
{
  PGresult *res = NULL;
  char sid[24];
  char *tags = s_tags_json (a);
  if (!tags)
    return AT_ERROR;
  s_i64 (id, sid);
  int rc = at_store_q (store, &res, &SQL_KB_UPDATE, sid, a->locale, a->title, a->body,
                       a->status, tags);
  free (tags);
  if (rc != AT_OK)
    return rc;
  rc = PQntuples (res) == 1 ? AT_OK : AT_NOTFOUND;
  PQclear (res);
  return rc;
}

int
at_store_kb_article_delete (at_store_t *store, int64_t id)
{
  PGresult *res = NULL;
  char sid[24];
  s_i64 (id, sid);
  int rc = at_store_q (store, &res, &SQL_KB_DELETE, sid);
  if (rc != AT_OK)
    return rc;
  rc = PQntuples (res) == 1 ? AT_OK : AT_NOTFOUND;
  PQclear (res);
  return rc;
}

/* The one JSON value of a one-row, one-column answer into *out. */
static int
s_json_result (PGresult *res, const char *what, json_t **out)
{
  *out = NULL;
  if (PQntuples (res) != 1 || PQgetisnull (res, 0, 0))
    return AT_NOTFOUND;
  json_error_t err;
  *out = json_loads (PQgetvalue (res, 0, 0), JSON_DECODE_ANY, &err);
  if (!*out) {
    at_error (S_COMP, "msg=\"store returned JSON that does not parse\" what=%s error=\"%s\"",
              what, err.text);
    return AT_ERROR;
  }
  return AT_OK;
}

int
at_store_kb_article_get (at_store_t *store, int64_t id, json_t **out)
{
  PGresult *res = NULL;
  char sid[24];
  s_i64 (id, sid);
  *out = NULL;
  int rc = at_store_q (store, &res, &SQL_KB_GET, sid);
  if (rc != AT_OK)
    return rc;
  rc = s_json_result (res, "kb_article_get", out);
  PQclear (res);
  return rc;
}

/* A statement of three parameters (the last a limit) whose one row is a
 * JSON array: *items_out. */
static int
s_json_list (at_store_t *store, const at_sql_t *sql, const char *a, const char *b, int64_t limit,
             json_t **items_out)
{
  PGresult *res = NULL;
  char slimit[24];
  s_i64 (limit, slimit);
  *items_out = NULL;
  int rc = at_store_q (store, &res, sql, a, b, slimit);
  if (rc != AT_OK)
    return rc;
  rc = s_json_result (res, sql->name, items_out);
  PQclear (res);
  return rc == AT_NOTFOUND ? AT_ERROR : rc;
}

int
at_store_kb_article_list (at_store_t *store, const char *locale, const char *status,
                          int limit, json_t **items_out)
{
  return s_json_list (store, &SQL_KB_LIST, locale, status, limit, items_out);
}

int
at_store_kb_search (at_store_t *store, const char *locale, const char *question, int limit,
                    json_t **items_out)
{
  return s_json_list (store, &SQL_KB_SEARCH, locale, question, limit, items_out);
}

/* Copies at most cap - 4 bytes of UTF-8 src, never cutting a character,
 * and appends "…" when src was longer. */
static void
s_cut (const char *src, char *out, size_t cap)
{
  size_t len = strlen (src);
  if (len < cap) {
    memcpy (out, src, len + 1);
    return;
  }
  size_t n = cap - 4;
  while (n > 0 && ((unsigned char) src[n] & 0xC0) == 0x80)
    n--;
  memcpy (out, src, n);
  memcpy (out + n, "\xE2\x80\xA6", 4);
}

int
at_store_kb_best (at_store_t *store, const char *locale, const char *question,
                  at_kb_hit_t *out)
{
  PGresult *res = NULL;
  memset (out, 0, sizeof *out);
  int rc = at_store_q (store, &res, &SQL_KB_BEST, locale, question, "1");
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) == 1) {
    out->id = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    out->score = strtod (PQgetvalue (res, 0, 1), NULL);
    out->ft = strtod (PQgetvalue (res, 0, 2), NULL);
    out->ty = strtod (PQgetvalue (res, 0, 3), NULL);
    s_cut (PQgetvalue (res, 0, 4), out->title, sizeof out->title);
    s_cut (PQgetvalue (res, 0, 5), out->body, AT_KB_ANSWER_MAX);
  }
  else
    rc = AT_NOTFOUND;
  PQclear (res);
  return rc;
}

int
at_store_kb_ticket_handed_off (at_store_t *store, int64_t ticket_id, bool *out)
{
  PGresult *res = NULL;
  char sid[24];
  s_i64 (ticket_id, sid);
  *out = false;
  int rc = at_store_q (store, &res, &SQL_KB_HANDED_OFF, sid);
  if (rc != AT_OK)
    return rc;
  *out = PQntuples (res) == 1 && strcmp (PQgetvalue (res, 0, 0), "t") == 0;
  PQclear (res);
  return AT_OK;
}

/* A suggested or no_result event. */
static int
s_event (at_store_t *store, const at_sql_t *sql, int64_t ticket_id, int64_t message_id,
         int64_t article_id, const char *locale, double score)
{
  char sticket[24], smessage[24], sarticle[24], sscore[32];
  s_i64 (ticket_id, sticket);
  s_i64 (message_id, smessage);
  s_i64 (article_id, sarticle);
  snprintf (sscore, sizeof sscore, "%.4f", score);
  return at_store_do (store, sql, sticket, smessage, article_id > 0 ? sarticle : NULL, locale,
                      sscore);
}

int
at_store_kb_suggested (at_store_t *store, int64_t ticket_id, int64_t message_id,
                       int64_t article_id, const char *locale, double score,
                       int64_t *event_id_out)
{
  char sticket[24], smessage[24], sarticle[24], sscore[32];
  s_i64 (ticket_id, sticket);
  s_i64 (message_id, smessage);
  s_i64 (article_id, sarticle);
  snprintf (sscore, sizeof sscore, "%.4f", score);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_KB_SUGGESTED, sticket, smessage,
                       article_id > 0 ? sarticle : NULL, locale, sscore);
  if (rc != AT_OK)
    return rc;
  *event_id_out = PQntuples (res) == 1 ? strtoll (PQgetvalue (res, 0, 0), NULL, 10) : 0;
  PQclear (res);
  return AT_OK;
}

int
at_store_kb_expire (at_store_t *store, int64_t ticket_id, int64_t event_id, bool *expired_out)
{
  char sticket[24], sevent[24];
  s_i64 (ticket_id, sticket);
  s_i64 (event_id, sevent);
  PGresult *res = NULL;
  *expired_out = false;
  int rc = at_store_q (store, &res, &SQL_KB_EXPIRE, sticket, sevent);
  if (rc != AT_OK)
    return rc;
  *expired_out = PQntuples (res) == 1;
  PQclear (res);
  return AT_OK;
}

int
at_store_kb_no_result (at_store_t *store, int64_t ticket_id, int64_t message_id,
                       int64_t article_id, const char *locale, double score)
{
  return s_event (store, &SQL_KB_NO_RESULT, ticket_id, message_id, article_id, locale, score);
}

int
at_store_kb_awaiting (at_store_t *store, int64_t ticket_id, bool *awaiting,
                      int64_t *article_id_out)
{
  PGresult *res = NULL;
  char sid[24];
  s_i64 (ticket_id, sid);
  *awaiting = false;
  int rc = at_store_q (store, &res, &SQL_KB_AWAITING, sid);
  if (rc != AT_OK)
    return rc;
  *awaiting = PQntuples (res) == 1;
  if (article_id_out)
    *article_id_out = *awaiting ? strtoll (PQgetvalue (res, 0, 0), NULL, 10) : 0;
  PQclear (res);
  return AT_OK;
}

int
at_store_kb_settle (at_store_t *store, int64_t ticket_id, int64_t message_id,
                    const char *outcome)
{
  PGresult *res = NULL;
  char sticket[24], smessage[24];
  s_i64 (ticket_id, sticket);
  s_i64 (message_id, smessage);
  int rc = at_store_q (store, &res, &SQL_KB_SETTLE, sticket, smessage, outcome);
  if (rc != AT_OK)
    return rc;
  rc = PQntuples (res) == 1 ? AT_OK : AT_NOTFOUND;
  PQclear (res);
  return rc;
}

int
at_store_kb_opened (at_store_t *store, int64_t article_id, const char *actor)
{
  char sid[24];
  s_i64 (article_id, sid);
  return at_store_do (store, &SQL_KB_OPENED, sid, actor);
}

int
at_store_kb_unanswered (at_store_t *store, int64_t since_us, int limit, json_t **items_out)
{
  char ssince[24];
  s_i64 (since_us, ssince);
  *items_out = NULL;
  PGresult *res = NULL;
  char slimit[24];
  s_i64 (limit, slimit);
  int rc = at_store_q (store, &res, &SQL_KB_UNANSWERED, ssince, slimit);
  if (rc != AT_OK)
    return rc;
  rc = s_json_result (res, SQL_KB_UNANSWERED.name, items_out);
  PQclear (res);
  return rc == AT_NOTFOUND ? AT_ERROR : rc;
}
