/* What the CLI and the api share about API keys and accounts (at_store_access.h). */
#include <stdio.h>
#include <string.h>
#include "at_store_access.h"
#include "at_text.h"

static const at_sql_t SQL_KEY_EXPIRES = {"access_key_expires",
  "SELECT coalesce (to_char (expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
  " '') FROM api_key WHERE id = $1", 1};

static int
s_bad (const char **field, const char *name, char *reason, size_t cap, const char *why)
{
  *field = name;
  if (why)
    snprintf (reason, cap, "%s", why);
  return AT_INVALID;
}

/* name: present, at_auth_name_check, UTF-8. */
static int
s_name_check (const char *name, const char **field, char *reason, size_t cap)
{
  char why[AT_ACCESS_REASON_MAX] = "";
  if (name == NULL)
    return s_bad (field, "name", reason, cap, "is required");
  if (at_auth_name_check (name, why, sizeof why) != AT_OK)
    return s_bad (field, "name", reason, cap, why);
  if (!at_text_valid_utf8 (name, strlen (name)))
    return s_bad (field, "name", reason, cap, "the name is not UTF-8");
  return AT_OK;
}

int
at_access_key_check (const char *name, const char *scopes, long expires_days,
                     at_scopes_t *scopes_out, const char **field, char *reason, size_t cap)
{
  char why[AT_ACCESS_REASON_MAX] = "";
  *scopes_out = 0;
  if (s_name_check (name, field, reason, cap) != AT_OK)
    return AT_INVALID;
  if (scopes == NULL)
    return s_bad (field, "scopes", reason, cap, "is required");
  if (at_auth_scopes_parse (scopes, scopes_out, why, sizeof why) != AT_OK)
    return s_bad (field, "scopes", reason, cap, why);
  if (expires_days < 0 || expires_days > AT_AUTH_EXPIRES_DAYS_MAX) {
    snprintf (why, sizeof why, "must be a whole number of days in [1, %d]",
              AT_AUTH_EXPIRES_DAYS_MAX);
    return s_bad (field, "expires_days", reason, cap, why);
  }
  return AT_OK;
}

int
at_access_user_check (const char *email, const char *name, const char *role,
                      const char *languages, const char *teams, at_access_user_t *out,
                      const char **field, char *reason, size_t cap)
{
  char why[AT_ACCESS_REASON_MAX] = "";
  memset (out, 0, sizeof *out);
  if (email == NULL)
    return s_bad (field, "email", reason, cap, "is required");
  if (at_auth_email_normalize (email, out->email, why, sizeof why) != AT_OK)
    return s_bad (field, "email", reason, cap, why);
  if (s_name_check (name, field, reason, cap) != AT_OK)
    return AT_INVALID;
  at_strlcpy (out->name, name, sizeof out->name);
  if (role == NULL)
    return s_bad (field, "role", reason, cap, "is required");
  if (at_auth_role_parse (role, &out->role) != AT_OK) {
    snprintf (why, sizeof why, "the role must be agent, lead or admin, not '%.32s'", role);
    return s_bad (field, "role", reason, cap, why);
  }
  if (at_auth_languages_normalize (languages, out->languages, why, sizeof why) != AT_OK)
    return s_bad (field, "languages", reason, cap, why);
  if (at_auth_teams_normalize (teams, out->teams, why, sizeof why) != AT_OK)
    return s_bad (field, "teams", reason, cap, why);
  return AT_OK;
}

at_user_fields_t
at_access_user_fields (const at_access_user_t *u)
{
  at_user_fields_t f = {u->email, u->name, u->role, u->languages, u->teams};
  return f;
}

json_t *
at_access_scopes_json (at_scopes_t scopes)
{
  json_t *array = json_array ();
  for (size_t k = 0; k < AT_SCOPE_COUNT; k++)
    if (scopes & (1u << k))
      json_array_append_new (array, json_string (at_auth_scope_name (k)));
  return array;
}

json_t *
at_access_list_json (const char *list)
{
  json_t *array = json_array ();
  const char *item = list ? list : "";
  while (*item) {
    size_t n = strcspn (item, ",");
    if (n > 0)
      json_array_append_new (array, json_stringn (item, n));
    item += n;
    if (*item == ',')
      item++;
  }
  return array;
}

const char *
at_access_key_status (const at_key_row_t *key)
{
  return key->revoked_at[0] ? "revoked" : key->expired ? "expired" : "active";
}

const char *
at_access_user_status (const at_user_row_t *user, time_t now)
{
  char text[AT_AUTH_TIME_LEN];
  struct tm tm;
  strftime (text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", gmtime_r (&now, &tm));
  return user->disabled_at[0] ? "disabled"
         : strcmp (user->locked_until, text) > 0 ? "locked" : "active";
}

/* text, or null when "" */
static json_t *
s_time (const char *text)
{
  return text[0] ? json_string (text) : json_null ();
}

json_t *
at_access_key_json (const at_key_row_t *k)
{
  return json_pack ("{s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:s, s:s}", "id", k->id,
                    "name", k->name, "scopes", at_access_scopes_json (k->scopes), "status",
                    at_access_key_status (k), "expires_at", s_time (k->expires_at),
                    "revoked_at", s_time (k->revoked_at), "last_used_at",
                    s_time (k->last_used_at), "last_used_addr", s_time (k->last_used_addr),
                    "created_at", k->created_at, "created_by", k->created_by);
}

json_t *
at_access_user_json (const at_user_row_t *u, time_t now)
{
  return json_pack ("{s:I, s:s, s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:i, s:s}", "id",
                    (json_int_t) u->id, "email", u->email, "name", u->name, "role",
                    at_auth_role_name (u->role), "languages", at_access_list_json (u->languages),
                    "teams", at_access_list_json (u->teams), "status",
                    at_access_user_status (u, now), "disabled_at", s_time (u->disabled_at),
                    "locked_until", s_time (u->locked_until), "failed_logins",
                    u->failed_logins, "created_at", u->created_at);
}

json_t *
at_access_key_detail (const char *name, at_scopes_t scopes, long expires_days)
{
  return json_pack ("{s:s, s:o, s:i}", "name", name, "scopes", at_access_scopes_json (scopes),
                    "expires_days", (int) expires_days);
}

json_t *
at_access_user_detail (const at_access_user_t *u)
{
  return json_pack ("{s:s, s:s, s:s, s:o, s:o}", "email", u->email, "name", u->name, "role",
                    at_auth_role_name (u->role), "languages", at_access_list_json (u->languages),
                    "teams", at_access_list_json (u->teams));
}

int
at_store_key_expires_at (at_store_t *store, const char *id, char *out)
{
  PGresult *res = NULL;
  out[0] = '\0';
  int rc = at_store_q (store, &res, &SQL_KEY_EXPIRES, id);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) == 1)
    at_strlcpy (out, PQgetvalue (res, 0, 0), AT_AUTH_TIME_LEN);
  else
    rc = AT_NOTFOUND;
  PQclear (res);
  return rc;
}
