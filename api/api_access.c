/* api_access: API keys and accounts over HTTP, for admins (api_access.h).
 * The same checks, audit rows and JSON as `atende keys|users`
 * (lib/store/at_store_access.h); each change and its audit row (actor: the
 * caller, addr: the peer) in one transaction, so neither is without the
 * other. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "api_access.h"
#include "at_buf.h"
#include "at_json.h"
#include "at_log.h"
#include "at_store_access.h"

#define S_ARRAY_TEXT_MAX 2048   /* bytes of an array of names joined with ',' */

/* The thread's store inside a transaction; NULL (answered) when it cannot. */
static at_store_t *
s_begin (api_request_t *req)
{
  at_store_t *store = api_store (req);
  if (store && at_store_begin (store) != AT_OK) {
    api_reply_store_failed (req);
    return NULL;
  }
  return store;
}

/* Ends the transaction without writing; answers the store failure when
 * failed (else the caller answers). */
static void
s_abort (api_request_t *req, at_store_t *store, bool failed)
{
  (void) at_store_rollback (store);
  if (failed)
    api_reply_store_failed (req);
}

/* The audit row under the caller (*detail_p taken), then COMMIT; on a
 * failure rolls back and answers 503. AT_OK when both are written. */
static int
s_commit (api_request_t *req, at_store_t *store, const char *action, const char *target,
          json_t **detail_p)
{
  json_t *detail = *detail_p;
  *detail_p = NULL;
  int rc = at_store_audit (store, req->caller.actor, action, target, detail, req->peer);
  json_decref (detail);
  if (rc == AT_OK)
    rc = at_store_commit (store);
  if (rc != AT_OK) {
    at_warn ("api", "msg=\"change and audit row not written\" action=%s actor=%s request_id=%s",
             action, req->caller.actor, req->request_id);
    s_abort (req, store, true);
  }
  return rc;
}

/* An array of names (field) as "a,b" text into out, for the checks the CLI
 * makes on its flags; *present false when absent or null. */
static int
s_array_text (const json_t *obj, const char *field, char out[S_ARRAY_TEXT_MAX], bool *present,
              api_problem_t *p)
{
  const json_t *array = json_object_get (obj, field), *item;
  size_t i;
  at_buf_t b;
  out[0] = '\0';
  *present = array != NULL && !json_is_null (array);
  if (!*present)
    return AT_OK;
  if (!json_is_array (array))
    return api_problem (p, 400, field, "field \"%s\" must be an array of strings", field);
  at_buf_fixed (&b, out, S_ARRAY_TEXT_MAX);
  json_array_foreach (array, i, item) {
    const char *text = json_string_value (item);
    if (!text || !*text || strchr (text, ','))
      return api_problem (p, 422, field, "field \"%s\": item %zu must be a non-empty string"
                          " without commas", field, i);
    at_buf_printf (&b, "%s%s", i ? "," : "", text);
  }
  if (b.overflow)
    return api_problem (p, 422, field, "field \"%s\" is longer than %d bytes", field,
                        S_ARRAY_TEXT_MAX - 1);
  return AT_OK;
}

/* A failed shared check (at_store_access.h) as a 422 problem. */
static int
s_check_failed (api_problem_t *p, const char *field, const char *reason)
{
  return api_problem (p, 422, field, "field \"%s\": %s", field, reason);
}

typedef struct {
  const char *name;
  at_scopes_t scopes;
  long days;
} s_key_input_t;

/* {name, scopes: [...], expires_days?} checked as `atende keys create` checks its flags. */
static int
s_key_input (const json_t *obj, s_key_input_t *in, api_problem_t *p)
{
  char scopes[S_ARRAY_TEXT_MAX], reason[AT_ACCESS_REASON_MAX];
  const char *field = NULL;
  bool present = false;
  long long days = 0;
  memset (in, 0, sizeof *in);
  if (api_field_string (obj, "name", AT_AUTH_NAME_MAX, true, &in->name, p) != AT_OK
      || s_array_text (obj, "scopes", scopes, &present, p) != AT_OK)
    return AT_INVALID;
  if (!present)
    return api_problem (p, 400, "scopes", "field \"scopes\" is required");
  int rc = at_json_get_int (obj, "expires_days", 1, AT_AUTH_EXPIRES_DAYS_MAX, &days);
  if (rc != AT_OK && rc != AT_NOTFOUND)
    return api_problem (p, 422, "expires_days", "field \"expires_days\" must be a whole number"
                        " of days in [1, %d]", AT_AUTH_EXPIRES_DAYS_MAX);
  in->days = (long) days;
  if (at_access_key_check (in->name, scopes, in->days, &in->scopes, &field, reason,
                           sizeof reason) != AT_OK)
    return s_check_failed (p, field, reason);
  return AT_OK;
}

static json_t *
s_new_key_json (const at_auth_key_t *key, const s_key_input_t *in, const char *expires_at)
{
  return json_pack ("{s:s, s:s, s:s, s:o, s:o}", "id", key->id, "key", key->text, "name",
                    in->name, "scopes", at_access_scopes_json (in->scopes), "expires_at",
                    expires_at[0] ? json_string (expires_at) : json_null ());
}

void
api_keys_post (api_request_t *req)
{
  api_problem_t p;
  s_key_input_t in;
  at_auth_key_t key;
  char target[32], expires[AT_AUTH_TIME_LEN];
  memset (&key, 0, sizeof key);
  json_t *obj = api_body_object (req->body, req->body_len, &p);
  if (!obj || s_key_input (obj, &in, &p) != AT_OK) {
    api_reply_problem (req, &p);
    goto out;
  }
  at_store_t *store = s_begin (req);
  if (!store)
    goto out;
  int rc = at_store_key_create (store, in.name, in.scopes, (int) in.days, req->caller.actor,
                                &key);
  if (rc == AT_OK)
    rc = at_store_key_expires_at (store, key.id, expires);
  if (rc != AT_OK) {
    s_abort (req, store, true);
    goto out;
  }
  json_t *detail = at_access_key_detail (in.name, in.scopes, in.days);
  snprintf (target, sizeof target, "key:%s", key.id);
  if (s_commit (req, store, "key.create", target, &detail) == AT_OK) {
    at_info ("api", "msg=\"key created\" key=%s actor=%s request_id=%s", key.id,
             req->caller.actor, req->request_id);
    api_reply_json (req, 201, s_new_key_json (&key, &in, expires));
  }
out:
  OPENSSL_cleanse (&key, sizeof key);
  json_decref (obj);
}

void
api_keys_list (api_request_t *req)
{
  at_key_row_t *rows = NULL;
  size_t n = 0;
  at_store_t *store = s_begin (req);
  if (!store)
    return;
  if (at_store_key_list (store, AT_AUTH_ROWS_MAX, &rows, &n) != AT_OK) {
    s_abort (req, store, true);
    return;
  }
  json_t *detail = json_pack ("{s:I}", "count", (json_int_t) n);
  if (s_commit (req, store, "key.list", NULL, &detail) == AT_OK) {
    json_t *items = json_array ();
    for (size_t i = 0; i < n; i++)
      json_array_append_new (items, at_access_key_json (&rows[i]));
    api_reply_json (req, 200, json_pack ("{s:o}", "items", items));
  }
  free (rows);
}

void
api_keys_delete (api_request_t *req)
{
  api_problem_t p;
  char target[32];
  if (!at_auth_key_id_valid (req->param)) {
    api_reply_not_found (req, "no key with this id (12 characters of a-z and 2-7)");
    return;
  }
  at_store_t *store = s_begin (req);
  if (!store)
    return;
  int rc = at_store_key_revoke (store, req->param);
  if (rc != AT_OK) {
    s_abort (req, store, rc != AT_NOTFOUND && rc != AT_CONFLICT);
    if (rc == AT_NOTFOUND)
      api_reply_not_found (req, "no key with this id; nothing changed");
    if (rc == AT_CONFLICT) {
      api_problem (&p, 409, NULL, "key %s was revoked before; nothing changed", req->param);
      api_reply_problem (req, &p);
    }
    return;
  }
  json_t *detail = json_pack ("{s:b}", "already_revoked", false);
  snprintf (target, sizeof target, "key:%.12s", req->param);
  if (s_commit (req, store, "key.revoke", target, &detail) == AT_OK) {
    at_info ("api", "msg=\"key revoked\" key=%s actor=%s request_id=%s", req->param,
             req->caller.actor, req->request_id);
    api_reply_text (req, 204, "application/json", at_strdup (""));
  }
}

/* {email, name, role, password, languages?, teams?} checked as `atende
 * users create` checks its flags and the password it reads. */
static int
s_user_input (const json_t *obj, at_access_user_t *u, const char **password, api_problem_t *p)
{
  const char *email, *name, *role, *field = NULL;
  char langs[S_ARRAY_TEXT_MAX], teams[S_ARRAY_TEXT_MAX], reason[AT_ACCESS_REASON_MAX];
  bool has_langs = false, has_teams = false;
  if (api_field_string (obj, "email", AT_AUTH_EMAIL_MAX, true, &email, p) != AT_OK
      || api_field_string (obj, "name", AT_AUTH_NAME_MAX, true, &name, p) != AT_OK
      || api_field_string (obj, "role", 16, true, &role, p) != AT_OK
      || api_field_string (obj, "password", AT_AUTH_PASSWORD_MAX, true, password, p) != AT_OK
      || s_array_text (obj, "languages", langs, &has_langs, p) != AT_OK
      || s_array_text (obj, "teams", teams, &has_teams, p) != AT_OK)
    return AT_INVALID;
  if (at_access_user_check (email, name, role, has_langs ? langs : NULL,
                            has_teams ? teams : NULL, u, &field, reason, sizeof reason) != AT_OK)
    return s_check_failed (p, field, reason);
  if (at_auth_password_check (*password, reason, sizeof reason) != AT_OK)
    return s_check_failed (p, "password", reason);
  return AT_OK;
}

/* The account just made: what was asked, never the password. */
static json_t *
s_new_user_json (int64_t id, const at_access_user_t *u)
{
  return json_pack ("{s:I, s:s, s:s, s:s, s:o, s:o, s:s}", "id", (json_int_t) id, "email",
                    u->email, "name", u->name, "role", at_auth_role_name (u->role), "languages",
                    at_access_list_json (u->languages), "teams", at_access_list_json (u->teams),
                    "status", "active");
}

/* A failed at_store_user_create, answered (the transaction rolled back). */
static void
s_user_not_created (api_request_t *req, at_store_t *store, int rc, const at_access_user_t *u)
{
  api_problem_t p;
  s_abort (req, store, rc != AT_CONFLICT && rc != AT_INVALID);
  if (rc == AT_CONFLICT)
    api_problem (&p, 409, "email", "an account with email %s exists; nothing written", u->email);
  else if (rc == AT_INVALID)
    api_problem (&p, 422, NULL, "the account was refused by the store; nothing written");
  if (rc == AT_CONFLICT || rc == AT_INVALID)
    api_reply_problem (req, &p);
}

void
api_users_post (api_request_t *req)
{
  api_problem_t p;
  at_access_user_t u;
  const char *password = NULL;
  char target[32];
  int64_t id = 0;
  json_t *obj = api_body_object (req->body, req->body_len, &p);
  if (!obj || s_user_input (obj, &u, &password, &p) != AT_OK) {
    api_reply_problem (req, &p);
    goto out;
  }
  at_store_t *store = s_begin (req);
  if (!store)
    goto out;
  at_user_fields_t fields = at_access_user_fields (&u);
  int rc = at_store_user_create (store, &fields, password, &id);
  if (rc != AT_OK) {
    s_user_not_created (req, store, rc, &u);
    goto out;
  }
  json_t *detail = at_access_user_detail (&u);
  snprintf (target, sizeof target, "user:%lld", (long long) id);
  if (s_commit (req, store, "user.create", target, &detail) == AT_OK) {
    at_info ("api", "msg=\"user created\" user=%lld role=%s actor=%s request_id=%s",
             (long long) id, at_auth_role_name (u.role), req->caller.actor, req->request_id);
    api_reply_json (req, 201, s_new_user_json (id, &u));
  }
out:
  json_decref (obj);
}

void
api_users_list (api_request_t *req)
{
  at_user_row_t *rows = NULL;
  size_t n = 0;
  at_store_t *store = s_begin (req);
  if (!store)
    return;
  if (at_store_user_list (store, AT_AUTH_ROWS_MAX, &rows, &n) != AT_OK) {
    s_abort (req, store, true);
    return;
  }
  json_t *detail = json_pack ("{s:I}", "count", (json_int_t) n);
  if (s_commit (req, store, "user.list", NULL, &detail) == AT_OK) {
    json_t *items = json_array ();
    time_t now = time (NULL);
    for (size_t i = 0; i < n; i++)
      json_array_append_new (items, at_access_user_json (&rows[i], now));
    api_reply_json (req, 200, json_pack ("{s:o}", "items", items));
  }
  free (rows);
}

void
api_users_disable (api_request_t *req)
{
  api_problem_t p;
  int64_t id = 0;
  char target[32];
  if (!api_param_id (req, &id)) {
    api_reply_not_found (req, "no account with this id");
    return;
  }
  at_store_t *store = s_begin (req);
  if (!store)
    return;
  int rc = at_store_user_disable (store, req->param, &id);
  if (rc != AT_OK) {
    s_abort (req, store, rc != AT_NOTFOUND && rc != AT_CONFLICT);
    if (rc == AT_NOTFOUND)
      api_reply_not_found (req, "no account with this id; nothing changed");
    if (rc == AT_CONFLICT) {
      api_problem (&p, 409, NULL, "account %lld was disabled before; nothing changed",
                   (long long) id);
      api_reply_problem (req, &p);
    }
    return;
  }
  json_t *detail = json_pack ("{s:b}", "already_disabled", false);
  snprintf (target, sizeof target, "user:%lld", (long long) id);
  if (s_commit (req, store, "user.disable", target, &detail) == AT_OK)
    api_reply_json (req, 200, json_pack ("{s:I, s:s}", "id", (json_int_t) id, "status",
                                         "disabled"));
}
