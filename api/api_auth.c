/* api_auth: the door. Before a handler runs, the route's declared need
 * (api_route_t.scope) is checked against the caller's credential:
 *   Authorization: Bearer atd_<id>_<secret>   an API key (machines)
 *   Cookie: atende_session=<token>            a person's sign-in; an unsafe
 *        method (anything but GET and HEAD) also needs X-CSRF-Token: the
 *        session's CSRF token
 * (Authorization wins when both come.) No credential, or one that is
 * malformed, unknown, wrong, revoked, expired or disabled: 401 with
 * WWW-Authenticate (the server adds it to every 401); valid without the
 * scope, or a cookie without its CSRF token: 403 naming what is missing.
 * Refusals are counted by reason (atende_api_auth_refused_total) and logged
 * with the key id at most, never the key.
 *
 * Verified keys are cached per thread (S_CACHE_SLOTS, keyed by the SHA-256
 * of the key, for cfg->api_key_cache_ms), so a busy channel does not cost
 * a database round trip per request; a revoked key is thus refused within
 * that time. Only valid keys are cached; sessions are looked up each time.
 *
 * Calls api_credential.c, api_request.c, api_thread.c, api_answer.c and
 * api_metrics.c; the server calls it; handlers read req->caller. */
#include <stdio.h>
#include <string.h>
#include "api_internal.h"
#include "api_metrics.h"
#include "at_log.h"

#define S_CACHE_SLOTS 64
#define S_SESSION_COOKIE "atende_session"

typedef struct {
  uint8_t hash[AT_AUTH_HASH_LEN];
  char id[AT_AUTH_KEY_ID_LEN + 1];
  at_scopes_t scopes;
  int64_t until_ms;          /* monotonic; 0: empty */
} s_cached_key_t;

/* One cache per request thread (the pool is fixed: api_server.c). */
static _Thread_local s_cached_key_t s_cache[S_CACHE_SLOTS];

static bool
s_cache_find (const uint8_t hash[AT_AUTH_HASH_LEN], api_caller_t *caller)
{
  int64_t now = at_mono_ms ();
  for (size_t i = 0; i < S_CACHE_SLOTS; i++) {
    s_cached_key_t *c = &s_cache[i];
    if (c->until_ms > now && at_auth_hash_equal (c->hash, hash)) {
      caller->scopes = c->scopes;
      return true;
    }
  }
  return false;
}

static void
s_cache_put (long ttl_ms, const uint8_t hash[AT_AUTH_HASH_LEN], const char *id,
             at_scopes_t scopes)
{
  if (ttl_ms <= 0)
    return;
  s_cached_key_t *slot = &s_cache[0];
  for (size_t i = 0; i < S_CACHE_SLOTS; i++) {   /* the same key, else the oldest */
    if (at_auth_hash_equal (s_cache[i].hash, hash)) {
      slot = &s_cache[i];
      break;
    }
    if (s_cache[i].until_ms < slot->until_ms)
      slot = &s_cache[i];
  }
  memcpy (slot->hash, hash, AT_AUTH_HASH_LEN);
  at_strlcpy (slot->id, id, sizeof slot->id);
  slot->scopes = scopes;
  slot->until_ms = at_mono_ms () + ttl_ms;
}

/* The key of an Authorization header: the verdict, or a store failure
 * (answered). */
static int
s_key (api_request_t *req, const char *header, at_auth_verdict_t *verdict)
{
  char text[API_CREDENTIAL_MAX + 1];
  uint8_t hash[AT_AUTH_HASH_LEN];
  at_auth_key_parts_t parts;
  api_caller_t *caller = &req->caller;
  int rc = AT_OK;
  *verdict = AT_AUTH_MALFORMED;
  if (api_credential_bearer (header, text, sizeof text) != AT_OK
      || at_auth_key_parse (text, strlen (text), &parts) != AT_OK)
    goto out;
  at_auth_key_hash (&parts, hash);
  at_strlcpy (caller->key_id, parts.id, sizeof caller->key_id);
  if (s_cache_find (hash, caller))
    *verdict = AT_AUTH_OK;
  else {
    at_key_check_t check;
    at_store_t *store = api_store (req);
    if (!store) {
      rc = AT_AGAIN;     /* 503 answered */
      goto out;
    }
    rc = at_store_key_verify (store, text, strlen (text), req->peer[0] ? req->peer : NULL,
                              &check);
    if (rc != AT_OK)
      goto out;
    *verdict = check.verdict;
    caller->scopes = check.scopes;
    if (check.verdict == AT_AUTH_OK)
      s_cache_put (req->cfg->api_key_cache_ms, hash, parts.id, check.scopes);
  }
  if (*verdict == AT_AUTH_OK) {
    caller->kind = API_CALLER_KEY;
    snprintf (caller->actor, sizeof caller->actor, "key:%s", caller->key_id);
    snprintf (caller->agent, sizeof caller->agent, "key:%s", caller->key_id);
  }
out:
  memset (text, 0, sizeof text);
  memset (&parts, 0, sizeof parts);
  if (rc != AT_OK && rc != AT_AGAIN)
    api_reply_store_failed (req);
  return rc;
}

/* The session of a Cookie header (caller->kind stays NONE when there is no
 * session cookie: *verdict UNKNOWN and *missing). */
static int
s_session (api_request_t *req, const char *header, at_auth_verdict_t *verdict, bool *missing)
{
  api_caller_t *caller = &req->caller;
  char *token = caller->session_token;
  int found = api_credential_cookie (header, S_SESSION_COOKIE, token, sizeof caller->session_token);
  *missing = found == AT_NOTFOUND;
  *verdict = found == AT_OK ? AT_AUTH_UNKNOWN : AT_AUTH_MALFORMED;
  if (found != AT_OK)
    return AT_OK;
  at_store_t *store = api_store (req);
  if (!store)
    return AT_AGAIN;
  int rc = at_store_session_lookup (store, token, &caller->session);
  if (rc != AT_OK) {
    api_reply_store_failed (req);
    return rc;
  }
  *verdict = caller->session.verdict;
  if (*verdict == AT_AUTH_OK) {
    caller->kind = API_CALLER_SESSION;
    caller->scopes = at_auth_role_scopes (caller->session.role);
    snprintf (caller->actor, sizeof caller->actor, "user:%lld",
              (long long) caller->session.user_id);
    at_strlcpy (caller->agent, caller->session.name, sizeof caller->agent);
  }
  return AT_OK;
}

static void
s_refuse (api_request_t *req, int status, const char *reason, const char *detail)
{
  api_problem_t p;
  at_info ("api", "msg=\"auth refused\" reason=%s status=%d key_id=%s route=%s request_id=%s",
           reason, status, req->caller.key_id[0] ? req->caller.key_id : "-", req->route->name,
           req->request_id);
  api_metrics_auth_refused (reason);
  api_problem (&p, status, NULL, "%s", detail);
  api_reply_problem (req, &p);
  memset (&req->caller, 0, sizeof req->caller);
}

static bool
s_unsafe (const char *method)
{
  return strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0;
}

/* Whether the caller may take the route: 403 answered when not. */
static bool
s_allowed (api_request_t *req)
{
  at_scopes_t need = req->route->scope;
  char detail[API_DETAIL_MAX];
  if (need == 0)
    need = AT_SCOPE_ADMIN;      /* undeclared: fail closed */
  if (need != API_SIGNED_IN && !at_auth_scope_allows (req->caller.scopes, need)) {
    char names[160] = "";   /* one scope, in practice */
    (void) at_auth_scopes_format (need, names, sizeof names);
    snprintf (detail, sizeof detail, "this needs the scope %s", names);
    s_refuse (req, 403, "scope", detail);
    return false;
  }
  if (req->caller.kind == API_CALLER_SESSION && s_unsafe (req->method)) {
    const char *csrf = api_header (req, "X-CSRF-Token");
    if (!at_store_session_csrf_ok (&req->caller.session, csrf ? csrf : "")) {
      s_refuse (req, 403, "csrf",
                "a signed-in request that changes something needs the X-CSRF-Token header"
                " with the session's CSRF token");
      return false;
    }
  }
  return true;
}

bool
api_auth_admit (api_request_t *req)
{
  if (!req->route || req->route->scope == API_PUBLIC)
    return true;
  const char *authz = api_header (req, "Authorization");
  const char *cookie = api_header (req, "Cookie");
  at_auth_verdict_t verdict = AT_AUTH_UNKNOWN;
  bool missing = !authz && !cookie;
  int rc = AT_OK;
  if (authz)
    rc = s_key (req, authz, &verdict);
  else if (cookie)
    rc = s_session (req, cookie, &verdict, &missing);
  if (rc != AT_OK)
    return false;   /* the store failed: 503 answered */
  if (missing)
    s_refuse (req, 401, "missing",
              "this needs credentials: Authorization: Bearer <API key>, or a signed-in session");
  else if (verdict != AT_AUTH_OK)
    s_refuse (req, 401, at_auth_verdict_name (verdict),
              "the credentials are not valid (malformed, unknown, revoked or expired)");
  else
    return s_allowed (req);
  return false;
}
