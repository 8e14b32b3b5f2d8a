/* api_session: people signing in and out (the cookie api_auth.c reads).
 *   POST   /v1/session  {email, password}: 200, Set-Cookie atende_session
 *          (HttpOnly, SameSite=Strict, Path=/, Secure unless the request
 *          came to a loopback host) and the CSRF token in the body; a wrong
 *          email or password (or a locked or disabled account: the same
 *          answer, so it tells nothing) 401
 *   GET    /v1/session  who is calling: the person (email, name, role,
 *          scopes), or the key (id, scopes)
 *   DELETE /v1/session  signs out (the door wanted the CSRF token): 204
 * Each sign-in, refusal and sign-out leaves an audit row; the password is
 * never logged nor audited. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "api_internal.h"
#include "api_metrics.h"
#include "at_log.h"

#define S_COOKIE "atende_session"

static json_t *
s_scopes_json (at_scopes_t scopes)
{
  json_t *array = json_array ();
  for (size_t k = 0; k < AT_SCOPE_COUNT; k++)
    if (scopes & (1u << k))
      json_array_append_new (array, json_string (at_auth_scope_name (k)));
  return array;
}

static json_t *
s_person_json (const at_session_check_t *s)
{
  return json_pack ("{s:s, s:I, s:s, s:s, s:s, s:o}", "kind", "session", "user_id",
                    (json_int_t) s->user_id, "email", s->email, "name", s->name, "role",
                    at_auth_role_name (s->role), "scopes",
                    s_scopes_json (at_auth_role_scopes (s->role)));
}

/* Whether the request came to this machine by name (Host: localhost,
 * 127.0.0.1, [::1], with or without a port): then a cookie without Secure
 * works over plain http for a local demo; everywhere else it is Secure. */
static bool
s_loopback_host (const char *host)
{
  static const char *const names[] = { "localhost", "127.0.0.1", "[::1]" };
  if (!host)
    return false;
  for (size_t i = 0; i < AT_ARRAY_LEN (names); i++) {
    size_t n = strlen (names[i]);
    if (strncasecmp (host, names[i], n) == 0 && (host[n] == '\0' || host[n] == ':'))
      return true;
  }
  return false;
}

static void
s_audit (api_request_t *req, at_store_t *store, const char *actor, const char *action,
         const char *reason)
{
  json_t *detail = reason ? json_pack ("{s:s}", "reason", reason) : NULL;
  if (at_store_audit (store, actor, action, NULL, detail, req->peer[0] ? req->peer : NULL)
      != AT_OK)
    at_warn ("api", "msg=\"audit row not written\" action=%s actor=%s request_id=%s", action,
             actor, req->request_id);
  json_decref (detail);
}

static void
s_refused (api_request_t *req, at_store_t *store, const at_login_check_t *login)
{
  char actor[AT_AUTH_ACTOR_LEN] = "anonymous";
  api_problem_t p;
  if (login->user_id > 0)
    snprintf (actor, sizeof actor, "user:%lld", (long long) login->user_id);
  s_audit (req, store, actor, "session.refused", at_auth_verdict_name (login->verdict));
  at_info ("api", "msg=\"sign-in refused\" reason=%s actor=%s request_id=%s",
           at_auth_verdict_name (login->verdict), actor, req->request_id);
  api_metrics_auth_refused ("sign_in");
  api_problem (&p, 401, NULL, "wrong email or password");
  api_reply_problem (req, &p);
}

/* A session for the account and its audit row, in one transaction. */
static int
s_open (api_request_t *req, at_store_t *store, int64_t user_id, at_session_tokens_t *tokens)
{
  char actor[AT_AUTH_ACTOR_LEN];
  snprintf (actor, sizeof actor, "user:%lld", (long long) user_id);
  int rc = at_store_begin (store);
  if (rc == AT_OK)
    rc = at_store_session_create (store, user_id, (int) req->cfg->api_session_ttl_s, tokens);
  if (rc == AT_OK)
    rc = at_store_audit (store, actor, "session.create", NULL, NULL,
                         req->peer[0] ? req->peer : NULL);
  if (rc == AT_OK)
    rc = at_store_commit (store);
  else
    (void) at_store_rollback (store);
  return rc;
}

/* The answer to a good sign-in: the cookie, and who it is with the CSRF token. */
static void
s_signed_in (api_request_t *req, at_store_t *store, const at_session_tokens_t *tokens)
{
  at_session_check_t who;
  if (at_store_session_lookup (store, tokens->token, &who) != AT_OK
      || who.verdict != AT_AUTH_OK) {
    api_reply_store_failed (req);
    return;
  }
  snprintf (req->set_cookie, sizeof req->set_cookie,
            S_COOKIE "=%s; Max-Age=%ld; Path=/; HttpOnly; SameSite=Strict%s", tokens->token,
            req->cfg->api_session_ttl_s,
            s_loopback_host (api_header (req, "Host")) ? "" : "; Secure");
  json_t *body = s_person_json (&who);
  json_object_set_new (body, "csrf_token", json_string (tokens->csrf_token));
  json_object_set_new (body, "expires_in", json_integer (req->cfg->api_session_ttl_s));
  api_reply_json (req, 200, body);
}

void
api_session_post (api_request_t *req)
{
  api_problem_t p;
  const char *email, *password;
  json_t *obj = api_body_object (req->body, req->body_len, &p);
  if (!obj || api_field_string (obj, "email", AT_AUTH_EMAIL_MAX, true, &email, &p)
      || api_field_string (obj, "password", AT_AUTH_PASSWORD_MAX, true, &password, &p)) {
    api_reply_problem (req, &p);
    json_decref (obj);
    return;
  }
  at_login_check_t login;
  at_session_tokens_t tokens;
  at_store_t *store = api_store (req);
  int rc = store ? at_store_user_verify_password (store, email, password, &login) : AT_AGAIN;
  if (rc == AT_OK && login.verdict != AT_AUTH_OK)
    s_refused (req, store, &login);
  else if (rc == AT_OK && (rc = s_open (req, store, login.user_id, &tokens)) == AT_NOTFOUND) {
    login.verdict = AT_AUTH_DISABLED;   /* disabled between the check and the session */
    s_refused (req, store, &login);
  }
  else if (rc == AT_OK)
    s_signed_in (req, store, &tokens);
  else if (store)
    api_reply_store_failed (req);
  memset (&tokens, 0, sizeof tokens);
  json_decref (obj);
}

void
api_session_get (api_request_t *req)
{
  const api_caller_t *caller = &req->caller;
  if (caller->kind == API_CALLER_SESSION)
    api_reply_json (req, 200, s_person_json (&caller->session));
  else
    api_reply_json (req, 200, json_pack ("{s:s, s:s, s:o}", "kind", "key", "key_id",
                                         caller->key_id, "scopes",
                                         s_scopes_json (caller->scopes)));
}

void
api_session_delete (api_request_t *req)
{
  api_problem_t p;
  if (req->caller.kind != API_CALLER_SESSION) {
    api_problem (&p, 409, NULL, "an API key has no session to end: revoke it with"
                                " `atende keys revoke`");
    api_reply_problem (req, &p);
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  int rc = at_store_session_delete (store, req->caller.session_token);
  if (rc != AT_OK && rc != AT_NOTFOUND) {
    api_reply_store_failed (req);
    return;
  }
  s_audit (req, store, req->caller.actor, "session.delete", NULL);
  at_strlcpy (req->set_cookie, S_COOKIE "=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict",
              sizeof req->set_cookie);
  api_reply_text (req, 204, "application/json", at_strdup (""));
}
