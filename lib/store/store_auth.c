/* Accounts, API keys, sessions and the audit log in PostgreSQL (tables
 * app_user, api_key, user_session, audit_log; migration 009). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "at_json.h"
#include "at_log.h"
#include "at_store_auth.h"

#define S_COMP "auth"
#define S_AUDIT_DETAIL_MAX 8192

/* RFC 3339 text in UTC of a timestamptz column ("" for NULL). */
#define S_TS(col) "coalesce (to_char (" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '')"

static const at_sql_t SQL_KEY_INSERT = {"auth_key_insert",
  "INSERT INTO api_key (id, name, scopes, secret_hash, expires_at, created_by)"
  " VALUES ($1, $2, string_to_array ($3, ','), $4,"
  "  CASE WHEN $5::int > 0 THEN now () + make_interval (days => $5::int) END, $6)", 6};

static const at_sql_t SQL_KEY_LIST = {"auth_key_list",
  "SELECT id, name, array_to_string (scopes, ','), " S_TS ("expires_at") ","
  " coalesce (expires_at <= now (), false), " S_TS ("revoked_at") ", " S_TS ("last_used_at") ","
  " coalesce (host (last_used_addr), ''), " S_TS ("created_at") ", created_by"
  " FROM api_key ORDER BY created_at DESC, id LIMIT $1::int", 1};

/* k: whether it exists (before the update); u: whether this revoked it */
static const at_sql_t SQL_KEY_REVOKE = {"auth_key_revoke",
  "WITH k AS (SELECT 1 FROM api_key WHERE id = $1),"
  " u AS (UPDATE api_key SET revoked_at = now () WHERE id = $1 AND revoked_at IS NULL"
  "  RETURNING 1)"
  " SELECT (SELECT count (*) FROM k), (SELECT count (*) FROM u)", 1};

static const at_sql_t SQL_KEY_LOOKUP = {"auth_key_lookup",
  "SELECT encode (secret_hash, 'hex'), array_to_string (scopes, ','), revoked_at IS NOT NULL,"
  " coalesce (expires_at <= now (), false),"
  " last_used_at IS NULL OR last_used_at < now () - make_interval (secs => $2::int)"
  " FROM api_key WHERE id = $1", 2};

/* the condition again, so two requests at once write once */
static const at_sql_t SQL_KEY_TOUCH = {"auth_key_touch",
  "UPDATE api_key SET last_used_at = now (), last_used_addr = $2::inet"
  " WHERE id = $1 AND (last_used_at IS NULL"
  "  OR last_used_at < now () - make_interval (secs => $3::int))", 3};

static const at_sql_t SQL_AUDIT = {"auth_audit",
  "INSERT INTO audit_log (actor, action, target, detail, addr)"
  " VALUES ($1, $2, $3, coalesce ($4::jsonb, '{}'), $5::inet)", 5};

/* 64 hex digits (encode (x, 'hex')) into 32 bytes. */
static bool
s_hex32 (const char *hex, uint8_t out[AT_AUTH_HASH_LEN])
{
  if (strlen (hex) != 2 * AT_AUTH_HASH_LEN)
    return false;
  for (size_t i = 0; i < AT_AUTH_HASH_LEN; i++) {
    unsigned v = 0;
    if (sscanf (hex + 2 * i, "%2x", &v) != 1)
      return false;
    out[i] = (uint8_t) v;
  }
  return true;
}

/* addr when it is an IPv4 or IPv6 address, else NULL (not recorded). */
static const char *
s_addr (const char *addr)
{
  uint8_t buf[16];
  if (addr == NULL || strnlen (addr, AT_AUTH_ADDR_LEN) >= AT_AUTH_ADDR_LEN)
    return NULL;
  return inet_pton (AF_INET, addr, buf) == 1 || inet_pton (AF_INET6, addr, buf) == 1 ? addr
                                                                                      : NULL;
}

static at_scopes_t
s_scopes (const char *text, const char *id)
{
  at_scopes_t mask = 0;
  char why[128];
  if (at_auth_scopes_parse (text, &mask, why, sizeof why) != AT_OK)
    at_warn (S_COMP, "msg=\"api key holds unknown scopes: none granted\" key=%s reason=\"%s\"",
             id, why);
  return mask;
}

int
at_store_key_create (at_store_t *store, const char *name, at_scopes_t scopes, int expires_days,
                     const char *created_by, at_auth_key_t *key_out)
{
  char why[128], scope_text[AT_SCOPES_TEXT_MAX], days[16];
  memset (key_out, 0, sizeof *key_out);
  if (at_auth_name_check (name, why, sizeof why) != AT_OK || scopes == 0
      || at_auth_scopes_format (scopes, scope_text, sizeof scope_text) != AT_OK
      || expires_days < 0 || expires_days > AT_AUTH_EXPIRES_DAYS_MAX || created_by == NULL
      || *created_by == '\0')
    return AT_INVALID;
  snprintf (days, sizeof days, "%d", expires_days);
  int rc = AT_CONFLICT;
  /* an id is 60 random bits: a collision is unheard of, but costs one retry */
  for (int attempt = 0; rc == AT_CONFLICT && attempt < 3; attempt++) {
    if (at_auth_key_generate (key_out) != AT_OK)
      return AT_ERROR;
    const char *values[] = {key_out->id, name, scope_text, (const char *) key_out->hash, days,
                            created_by};
    int lengths[] = {0, 0, 0, AT_AUTH_HASH_LEN, 0, 0};
    int formats[] = {0, 0, 0, 1, 0, 0};
    PGresult *res = NULL;
    rc = at_store_exec (store, &SQL_KEY_INSERT, values, lengths, formats, &res);
    PQclear (res);
  }
  if (rc != AT_OK)
    memset (key_out, 0, sizeof *key_out);
  return rc;
}

/* Up to max (at most AT_AUTH_ROWS_MAX) rows of a listing statement, each
 * filled by fill into an array of `size`-byte rows (the caller frees it). */
static int
s_rows (at_store_t *store, const at_sql_t *sql, size_t max, size_t size,
        void (*fill) (PGresult *, int, void *), void **rows_out, size_t *n_out)
{
  char limit[24];
  PGresult *res = NULL;
  *rows_out = NULL;
  *n_out = 0;
  snprintf (limit, sizeof limit, "%zu", max < AT_AUTH_ROWS_MAX ? max : AT_AUTH_ROWS_MAX);
  int rc = at_store_q (store, &res, sql, limit);
  if (rc != AT_OK)
    return rc;
  size_t n = (size_t) PQntuples (res);
  char *rows = at_calloc (n ? n : 1, size);
  for (size_t i = 0; i < n; i++)
    fill (res, (int) i, rows + i * size);
  PQclear (res);
  *rows_out = rows;
  *n_out = n;
  return AT_OK;
}

static void
s_key_row (PGresult *res, int r, void *row)
{
  at_key_row_t *k = row;
  memset (k, 0, sizeof *k);
  at_strlcpy (k->id, PQgetvalue (res, r, 0), sizeof k->id);
  at_strlcpy (k->name, PQgetvalue (res, r, 1), sizeof k->name);
  k->scopes = s_scopes (PQgetvalue (res, r, 2), k->id);
  at_strlcpy (k->expires_at, PQgetvalue (res, r, 3), sizeof k->expires_at);
  k->expired = strcmp (PQgetvalue (res, r, 4), "t") == 0;
  at_strlcpy (k->revoked_at, PQgetvalue (res, r, 5), sizeof k->revoked_at);
  at_strlcpy (k->last_used_at, PQgetvalue (res, r, 6), sizeof k->last_used_at);
  at_strlcpy (k->last_used_addr, PQgetvalue (res, r, 7), sizeof k->last_used_addr);
  at_strlcpy (k->created_at, PQgetvalue (res, r, 8), sizeof k->created_at);
  at_strlcpy (k->created_by, PQgetvalue (res, r, 9), sizeof k->created_by);
}

int
at_store_key_list (at_store_t *store, size_t max, at_key_row_t **rows_out, size_t *n_out)
{
  return s_rows (store, &SQL_KEY_LIST, max, sizeof **rows_out, s_key_row, (void **) rows_out,
                 n_out);
}

int
at_store_key_revoke (at_store_t *store, const char *id)
{
  if (!at_auth_key_id_valid (id))
    return AT_INVALID;
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_KEY_REVOKE, id);
  if (rc != AT_OK)
    return rc;
  bool exists = strcmp (PQgetvalue (res, 0, 0), "0") != 0;
  bool revoked = strcmp (PQgetvalue (res, 0, 1), "0") != 0;
  PQclear (res);
  return revoked ? AT_OK : exists ? AT_CONFLICT : AT_NOTFOUND;
}

/* The verdict on a key row (hash compared first: a wrong secret learns nothing). */
static at_auth_verdict_t
s_key_verdict (PGresult *res, const at_auth_key_parts_t *parts, bool *touch)
{
  uint8_t stored[AT_AUTH_HASH_LEN], given[AT_AUTH_HASH_LEN];
  *touch = false;
  if (PQntuples (res) != 1)
    return AT_AUTH_UNKNOWN;
  if (!s_hex32 (PQgetvalue (res, 0, 0), stored))
    return AT_AUTH_WRONG;
  at_auth_key_hash (parts, given);
  if (!at_auth_hash_equal (stored, given))
    return AT_AUTH_WRONG;
  if (strcmp (PQgetvalue (res, 0, 2), "t") == 0)
    return AT_AUTH_REVOKED;
  if (strcmp (PQgetvalue (res, 0, 3), "t") == 0)
    return AT_AUTH_EXPIRED;
  *touch = strcmp (PQgetvalue (res, 0, 4), "t") == 0;
  return AT_AUTH_OK;
}

int
at_store_key_verify (at_store_t *store, const char *text, size_t len, const char *addr,
                     at_key_check_t *out)
{
  at_auth_key_parts_t parts;
  char touch_s[16];
  memset (out, 0, sizeof *out);
  out->verdict = AT_AUTH_MALFORMED;
  if (at_auth_key_parse (text, len, &parts) != AT_OK)
    return AT_OK;
  memcpy (out->id, parts.id, sizeof out->id);
  snprintf (touch_s, sizeof touch_s, "%d", AT_AUTH_TOUCH_SECONDS);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_KEY_LOOKUP, parts.id, touch_s);
  if (rc != AT_OK)
    goto out;
  bool touch = false;
  out->verdict = s_key_verdict (res, &parts, &touch);
  if (out->verdict == AT_AUTH_OK)
    out->scopes = s_scopes (PQgetvalue (res, 0, 1), parts.id);
  PQclear (res);
  if (touch)   /* best effort: a lost write of the last use fails no request (logged) */
    (void) at_store_do (store, &SQL_KEY_TOUCH, parts.id, s_addr (addr), touch_s);
out:
  memset (&parts, 0, sizeof parts);
  return rc;
}

int
at_store_audit (at_store_t *store, const char *actor, const char *action, const char *target,
                const json_t *detail, const char *addr)
{
  if (actor == NULL || *actor == '\0' || action == NULL || *action == '\0'
      || (detail && !json_is_object (detail)))
    return AT_INVALID;
  char *text = detail ? at_json_dump (detail, S_AUDIT_DETAIL_MAX) : NULL;
  if (detail && text == NULL) {
    at_error (S_COMP, "msg=\"audit detail too large\" action=%s", action);
    return AT_INVALID;
  }
  int rc = at_store_do (store, &SQL_AUDIT, actor, action, target, text, s_addr (addr));
  free (text);
  return rc;
}

/* --- people */

static const at_sql_t SQL_USER_INSERT = {"auth_user_insert",
  "INSERT INTO app_user (email, name, role, languages, teams, password_hash)"
  " VALUES ($1, $2, $3, string_to_array ($4, ','), string_to_array ($5, ','), $6)"
  " RETURNING id", 6};

static const at_sql_t SQL_USER_LIST = {"auth_user_list",
  "SELECT id, email, name, role, array_to_string (languages, ','),"
  " array_to_string (teams, ','), " S_TS ("disabled_at") ", " S_TS ("locked_until") ","
  " failed_logins, " S_TS ("created_at") " FROM app_user ORDER BY id LIMIT $1::int", 1};

/* t: the account (before); u: disabled now; its sessions go with it */
static const at_sql_t SQL_USER_DISABLE = {"auth_user_disable",
  "WITH t AS (SELECT id, disabled_at FROM app_user WHERE id = $1::bigint OR email = lower ($2)),"
  " u AS (UPDATE app_user SET disabled_at = now ()"
  "  WHERE id IN (SELECT id FROM t WHERE disabled_at IS NULL) RETURNING id),"
  " d AS (DELETE FROM user_session WHERE user_id IN (SELECT id FROM u))"
  " SELECT t.id, EXISTS (SELECT 1 FROM u) FROM t", 2};

static const at_sql_t SQL_USER_LOGIN = {"auth_user_login",
  "SELECT id, password_hash, role, disabled_at IS NOT NULL, coalesce (locked_until > now (), false)"
  " FROM app_user WHERE email = $1", 1};

static const at_sql_t SQL_USER_LOGIN_OK = {"auth_user_login_ok",
  "UPDATE app_user SET failed_logins = 0, locked_until = NULL,"
  " password_hash = coalesce ($2, password_hash) WHERE id = $1::bigint", 2};

/* every $2-th failure in a row locks for $3 minutes (SET reads the old count) */
static const at_sql_t SQL_USER_LOGIN_FAILED = {"auth_user_login_failed",
  "UPDATE app_user SET failed_logins = failed_logins + 1,"
  " locked_until = CASE WHEN (failed_logins + 1) % $2::int = 0"
  "  THEN now () + make_interval (mins => $3::int) ELSE locked_until END"
  " WHERE id = $1::bigint RETURNING failed_logins", 3};

int
at_store_user_create (at_store_t *store, const at_user_fields_t *fields, const char *password,
                      int64_t *id_out)
{
  char email[AT_AUTH_EMAIL_MAX + 1], languages[AT_AUTH_LIST_TEXT_MAX],
       teams[AT_AUTH_LIST_TEXT_MAX], why[160], hash[AT_AUTH_PASSWORD_HASH_LEN];
  at_auth_role_t role;
  *id_out = 0;
  if (fields == NULL || at_auth_email_normalize (fields->email, email, why, sizeof why) != AT_OK
      || at_auth_name_check (fields->name, why, sizeof why) != AT_OK
      || at_auth_role_parse (at_auth_role_name (fields->role), &role) != AT_OK
      || at_auth_languages_normalize (fields->languages, languages, why, sizeof why) != AT_OK
      || at_auth_teams_normalize (fields->teams, teams, why, sizeof why) != AT_OK)
    return AT_INVALID;
  int rc = at_auth_password_hash (password, hash);
  if (rc != AT_OK)
    return rc;
  PGresult *res = NULL;
  rc = at_store_q (store, &res, &SQL_USER_INSERT, email, fields->name, at_auth_role_name (role),
                   languages, teams, hash);
  if (rc == AT_OK)
    *id_out = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
  PQclear (res);
  return rc;
}

static void
s_user_row (PGresult *res, int r, void *row)
{
  at_user_row_t *u = row;
  memset (u, 0, sizeof *u);
  u->id = strtoll (PQgetvalue (res, r, 0), NULL, 10);
  at_strlcpy (u->email, PQgetvalue (res, r, 1), sizeof u->email);
  at_strlcpy (u->name, PQgetvalue (res, r, 2), sizeof u->name);
  (void) at_auth_role_parse (PQgetvalue (res, r, 3), &u->role);
  at_strlcpy (u->languages, PQgetvalue (res, r, 4), sizeof u->languages);
  at_strlcpy (u->teams, PQgetvalue (res, r, 5), sizeof u->teams);
  at_strlcpy (u->disabled_at, PQgetvalue (res, r, 6), sizeof u->disabled_at);
  at_strlcpy (u->locked_until, PQgetvalue (res, r, 7), sizeof u->locked_until);
  u->failed_logins = (int) strtol (PQgetvalue (res, r, 8), NULL, 10);
  at_strlcpy (u->created_at, PQgetvalue (res, r, 9), sizeof u->created_at);
}

int
at_store_user_list (at_store_t *store, size_t max, at_user_row_t **rows_out, size_t *n_out)
{
  return s_rows (store, &SQL_USER_LIST, max, sizeof **rows_out, s_user_row, (void **) rows_out,
                 n_out);
}

int
at_store_user_disable (at_store_t *store, const char *id_or_email, int64_t *id_out)
{
  *id_out = 0;
  size_t len = id_or_email ? strnlen (id_or_email, AT_AUTH_EMAIL_MAX + 1) : 0;
  if (len == 0 || len > AT_AUTH_EMAIL_MAX)
    return AT_INVALID;
  bool digits = strspn (id_or_email, "0123456789") == len;
  if (digits && len > 18)
    return AT_NOTFOUND;   /* beyond bigint: no such id */
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_USER_DISABLE, digits ? id_or_email : NULL,
                       digits ? NULL : id_or_email);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) != 1)
    rc = AT_NOTFOUND;
  else {
    *id_out = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    rc = strcmp (PQgetvalue (res, 0, 1), "t") == 0 ? AT_OK : AT_CONFLICT;
  }
  PQclear (res);
  return rc;
}

static int
s_login_failed (at_store_t *store, at_login_check_t *out)
{
  char id[24], after[16], minutes[16];
  snprintf (id, sizeof id, "%lld", (long long) out->user_id);
  snprintf (after, sizeof after, "%d", AT_AUTH_LOCK_AFTER);
  snprintf (minutes, sizeof minutes, "%d", AT_AUTH_LOCK_MINUTES);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_USER_LOGIN_FAILED, id, after, minutes);
  if (rc == AT_OK && PQntuples (res) == 1)
    out->failed_logins = (int) strtol (PQgetvalue (res, 0, 0), NULL, 10);
  PQclear (res);
  out->verdict = AT_AUTH_WRONG;
  return rc;
}

static int
s_login_ok (at_store_t *store, at_login_check_t *out, const char *hash, const char *password)
{
  char id[24], fresh[AT_AUTH_PASSWORD_HASH_LEN];
  bool rehash = at_auth_password_needs_rehash (hash)
                && at_auth_password_hash (password, fresh) == AT_OK;
  snprintf (id, sizeof id, "%lld", (long long) out->user_id);
  out->verdict = AT_AUTH_OK;
  out->failed_logins = 0;
  return at_store_do (store, &SQL_USER_LOGIN_OK, id, rehash ? fresh : NULL);
}

int
at_store_user_verify_password (at_store_t *store, const char *email, const char *password,
                               at_login_check_t *out)
{
  char norm[AT_AUTH_EMAIL_MAX + 1], why[128], hash[AT_AUTH_PASSWORD_HASH_LEN];
  memset (out, 0, sizeof *out);
  out->verdict = AT_AUTH_UNKNOWN;
  PGresult *res = NULL;
  int rc = AT_OK;
  if (at_auth_email_normalize (email, norm, why, sizeof why) == AT_OK)
    rc = at_store_q (store, &res, &SQL_USER_LOGIN, norm);
  if (rc != AT_OK || res == NULL || PQntuples (res) != 1) {
    PQclear (res);
    if (rc == AT_OK)
      at_auth_password_burn (password);   /* as slow as a known account */
    return rc;
  }
  out->user_id = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
  at_strlcpy (hash, PQgetvalue (res, 0, 1), sizeof hash);
  (void) at_auth_role_parse (PQgetvalue (res, 0, 2), &out->role);
  bool disabled = strcmp (PQgetvalue (res, 0, 3), "t") == 0;
  bool locked = strcmp (PQgetvalue (res, 0, 4), "t") == 0;
  PQclear (res);
  if (disabled || locked) {
    out->verdict = disabled ? AT_AUTH_DISABLED : AT_AUTH_LOCKED;
    return AT_OK;
  }
  if (at_auth_password_verify (hash, password) == AT_OK)
    return s_login_ok (store, out, hash, password);
  return s_login_failed (store, out);
}

/* --- sessions */

static const at_sql_t SQL_SESSION_INSERT = {"auth_session_insert",
  "INSERT INTO user_session (id, user_id, csrf_token_hash, expires_at)"
  " SELECT $1, id, $3, now () + make_interval (secs => $4::int) FROM app_user"
  " WHERE id = $2::bigint AND disabled_at IS NULL", 4};

static const at_sql_t SQL_SESSION_LOOKUP = {"auth_session_lookup",
  "SELECT s.user_id, u.role, encode (s.csrf_token_hash, 'hex'), s.expires_at <= now (),"
  " u.disabled_at IS NOT NULL, s.last_seen_at < now () - make_interval (secs => $2::int),"
  " u.email, u.name FROM user_session s JOIN app_user u ON u.id = s.user_id WHERE s.id = $1", 2};

static const at_sql_t SQL_SESSION_TOUCH = {"auth_session_touch",
  "UPDATE user_session SET last_seen_at = now ()"
  " WHERE id = $1 AND last_seen_at < now () - make_interval (secs => $2::int)", 2};

static const at_sql_t SQL_SESSION_DELETE = {"auth_session_delete",
  "DELETE FROM user_session WHERE id = $1", 1};

static const at_sql_t SQL_SESSION_SWEEP = {"auth_session_sweep",
  "DELETE FROM user_session WHERE expires_at <= now ()", 0};

/* Runs sql whose $1 is a hash (bytea, binary) and $2.. the texts in rest. */
static int
s_exec_hash (at_store_t *store, const at_sql_t *sql, const uint8_t hash[AT_AUTH_HASH_LEN],
             const char *const *rest, PGresult **res)
{
  const char *values[4] = {(const char *) hash};
  int lengths[4] = {AT_AUTH_HASH_LEN}, formats[4] = {1};
  for (int i = 1; i < sql->nparams && i < 4; i++)
    values[i] = rest[i - 1];
  return at_store_exec (store, sql, values, lengths, formats, res);
}

int
at_store_session_create (at_store_t *store, int64_t user_id, int ttl_s, at_session_tokens_t *out)
{
  uint8_t token_hash[AT_AUTH_HASH_LEN], csrf_hash[AT_AUTH_HASH_LEN];
  char uid[24], ttl[16];
  memset (out, 0, sizeof *out);
  if (user_id <= 0 || ttl_s < 1 || ttl_s > AT_AUTH_SESSION_TTL_MAX)
    return AT_INVALID;
  if (at_auth_token_new (out->token, token_hash) != AT_OK
      || at_auth_token_new (out->csrf_token, csrf_hash) != AT_OK)
    return AT_ERROR;
  snprintf (uid, sizeof uid, "%lld", (long long) user_id);
  snprintf (ttl, sizeof ttl, "%d", ttl_s);
  const char *values[] = {(const char *) token_hash, uid, (const char *) csrf_hash, ttl};
  int lengths[] = {AT_AUTH_HASH_LEN, 0, AT_AUTH_HASH_LEN, 0}, formats[] = {1, 0, 1, 0};
  PGresult *res = NULL;
  int rc = at_store_exec (store, &SQL_SESSION_INSERT, values, lengths, formats, &res);
  if (rc == AT_OK && strcmp (PQcmdTuples (res), "1") != 0)
    rc = AT_NOTFOUND;
  PQclear (res);
  if (rc != AT_OK)
    memset (out, 0, sizeof *out);
  return rc;
}

int
at_store_session_lookup (at_store_t *store, const char *token, at_session_check_t *out)
{
  uint8_t hash[AT_AUTH_HASH_LEN];
  char touch_s[16];
  memset (out, 0, sizeof *out);
  out->verdict = AT_AUTH_MALFORMED;
  if (at_auth_token_hash (token, hash) != AT_OK)
    return AT_OK;
  snprintf (touch_s, sizeof touch_s, "%d", AT_AUTH_TOUCH_SECONDS);
  const char *rest[] = {touch_s};
  PGresult *res = NULL;
  int rc = s_exec_hash (store, &SQL_SESSION_LOOKUP, hash, rest, &res);
  if (rc != AT_OK)
    return rc;
  out->verdict = AT_AUTH_UNKNOWN;
  bool expired = false, stale = false;
  if (PQntuples (res) == 1 && s_hex32 (PQgetvalue (res, 0, 2), out->csrf_hash)) {
    out->user_id = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
    (void) at_auth_role_parse (PQgetvalue (res, 0, 1), &out->role);
    expired = strcmp (PQgetvalue (res, 0, 3), "t") == 0;
    stale = strcmp (PQgetvalue (res, 0, 5), "t") == 0;
    at_strlcpy (out->email, PQgetvalue (res, 0, 6), sizeof out->email);
    at_strlcpy (out->name, PQgetvalue (res, 0, 7), sizeof out->name);
    out->verdict = expired ? AT_AUTH_EXPIRED
                   : strcmp (PQgetvalue (res, 0, 4), "t") == 0 ? AT_AUTH_DISABLED : AT_AUTH_OK;
  }
  PQclear (res);
  res = NULL;
  if (expired)
    rc = s_exec_hash (store, &SQL_SESSION_DELETE, hash, NULL, &res);
  else if (stale && out->verdict == AT_AUTH_OK)   /* best effort, as for keys */
    (void) s_exec_hash (store, &SQL_SESSION_TOUCH, hash, rest, &res);
  PQclear (res);
  return rc;
}

bool
at_store_session_csrf_ok (const at_session_check_t *session, const char *csrf_token)
{
  uint8_t hash[AT_AUTH_HASH_LEN];
  return session->verdict == AT_AUTH_OK && at_auth_token_hash (csrf_token, hash) == AT_OK
         && at_auth_hash_equal (hash, session->csrf_hash);
}

int
at_store_session_delete (at_store_t *store, const char *token)
{
  uint8_t hash[AT_AUTH_HASH_LEN];
  if (at_auth_token_hash (token, hash) != AT_OK)
    return AT_INVALID;
  PGresult *res = NULL;
  int rc = s_exec_hash (store, &SQL_SESSION_DELETE, hash, NULL, &res);
  if (rc == AT_OK && strcmp (PQcmdTuples (res), "1") != 0)
    rc = AT_NOTFOUND;
  PQclear (res);
  return rc;
}

int
at_store_session_sweep (at_store_t *store, size_t *deleted_out)
{
  PGresult *res = NULL;
  int rc = at_store_exec (store, &SQL_SESSION_SWEEP, NULL, NULL, NULL, &res);
  if (rc == AT_OK && deleted_out)
    *deleted_out = (size_t) strtoull (PQcmdTuples (res), NULL, 10);
  PQclear (res);
  return rc;
}
