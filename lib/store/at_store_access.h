/* at_access: what `atende keys|users` (cli/) and the api's /v1/keys and
 * /v1/users (api/api_access.c) share about API keys and accounts, so that
 * both check the same way and write the same audit rows: the checks of a
 * new key's and a new account's fields (naming the bad field), the JSON of
 * a listed key or account, the audit details of their creation, and the
 * one read a new key's answer needs (its expiry, as stored). The rows and
 * the changes themselves are lib/store/at_store_auth.h. */
#ifndef AT_STORE_ACCESS_H
#define AT_STORE_ACCESS_H

#include <jansson.h>
#include <time.h>
#include "at_store_auth.h"

#define AT_ACCESS_REASON_MAX 200   /* bytes of a reason, with NUL */

/* A new key's fields: name (at_auth_name_check, UTF-8), scopes "s1,s2"
 * (at_auth_scopes_parse), expires_days 0 (never) or 1..AT_AUTH_EXPIRES_DAYS_MAX.
 * AT_OK with *scopes_out, or AT_INVALID with *field ("name", "scopes",
 * "expires_days": static) and a reason naming the bad item (a missing
 * name or scope list: "is required"). */
int at_access_key_check (const char *name, const char *scopes, long expires_days,
                         at_scopes_t *scopes_out, const char **field, char *reason, size_t cap);

/* A new account's fields, checked and normalized (email lower-case, lists
 * as "a,b", "" when none). */
typedef struct {
  char email[AT_AUTH_EMAIL_MAX + 1];
  char name[AT_AUTH_NAME_MAX + 1];
  at_auth_role_t role;
  char languages[AT_AUTH_LIST_TEXT_MAX];
  char teams[AT_AUTH_LIST_TEXT_MAX];
} at_access_user_t;

/* email, name and role required; languages and teams "a,b" or NULL.
 * AT_OK with *out, or AT_INVALID with *field ("email", "name", "role",
 * "languages", "teams": static, checked in this order) and a reason. The
 * password is checked apart (at_auth_password_check). */
int at_access_user_check (const char *email, const char *name, const char *role,
                          const char *languages, const char *teams, at_access_user_t *out,
                          const char **field, char *reason, size_t cap);
/* The fields as at_store_user_create takes them (pointing into u). */
at_user_fields_t at_access_user_fields (const at_access_user_t *u);

/* ["s1", "s2"] in table order. */
json_t *at_access_scopes_json (at_scopes_t scopes);
/* "a,b" as ["a", "b"] ([] for ""). */
json_t *at_access_list_json (const char *list);

/* "active", "expired" or "revoked". */
const char *at_access_key_status (const at_key_row_t *key);
/* "active", "locked" (locked_until after now) or "disabled". */
const char *at_access_user_status (const at_user_row_t *user, time_t now);
/* A listed key: id, name, scopes, status and its times (null when never);
 * never a secret nor a hash (the row holds none). */
json_t *at_access_key_json (const at_key_row_t *key);
/* A listed account: id, email, name, role, languages, teams, status,
 * disabled_at, locked_until, failed_logins, created_at; never the password
 * nor its hash (the row holds none). */
json_t *at_access_user_json (const at_user_row_t *user, time_t now);

/* The detail of the audit rows "key.create" and "user.create". */
json_t *at_access_key_detail (const char *name, at_scopes_t scopes, long expires_days);
json_t *at_access_user_detail (const at_access_user_t *u);

/* The stored expiry of key id as RFC 3339 text ("" never) into out
 * (AT_AUTH_TIME_LEN). AT_OK, AT_NOTFOUND, or a store error. */
int at_store_key_expires_at (at_store_t *store, const char *id, char *out);

#endif
