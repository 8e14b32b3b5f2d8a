/* Accounts, API keys, sessions and the audit log in PostgreSQL (tables
 * app_user, api_key, user_session, audit_log; migration 009). The key
 * format, hashing, scopes and roles are lib/core/at_auth.h.
 *
 * None of these begins a transaction: a caller that writes a change and its
 * audit row wraps both in at_store_begin/at_store_commit. Verifications
 * answer AT_OK with a verdict (at_auth_verdict_t) whatever they conclude,
 * and a store error code only when the store failed. */
#ifndef AT_STORE_AUTH_H
#define AT_STORE_AUTH_H

#include <jansson.h>
#include "at_auth.h"
#include "at_store.h"

#define AT_AUTH_TIME_LEN 32       /* RFC 3339 in UTC, "" for NULL */
#define AT_AUTH_ACTOR_LEN 64      /* cli, user:<id>, key:<id> */
#define AT_AUTH_ADDR_LEN 48       /* an IPv4 or IPv6 address as text */
#define AT_AUTH_ROWS_MAX 10000    /* rows one list answers at most */
#define AT_AUTH_EXPIRES_DAYS_MAX 3650
#define AT_AUTH_LOCK_AFTER 10     /* every 10th failed password in a row locks */
#define AT_AUTH_LOCK_MINUTES 15
#define AT_AUTH_TOUCH_SECONDS 60  /* last_used_at / last_seen_at written at most this often */
#define AT_AUTH_SESSION_TTL_MAX (90 * 86400)

/* --- API keys */

typedef struct {
  char id[AT_AUTH_KEY_ID_LEN + 1];
  char name[AT_AUTH_NAME_MAX + 1];
  at_scopes_t scopes;
  char expires_at[AT_AUTH_TIME_LEN];      /* "" never */
  bool expired;
  char revoked_at[AT_AUTH_TIME_LEN];      /* "" not revoked */
  char last_used_at[AT_AUTH_TIME_LEN];    /* "" never used */
  char last_used_addr[AT_AUTH_ADDR_LEN];
  char created_at[AT_AUTH_TIME_LEN];
  char created_by[AT_AUTH_ACTOR_LEN];
} at_key_row_t;

/* Makes a key (at_auth_key_generate) and stores its id and hash. name as
 * at_auth_name_check; scopes non-zero; expires_days 0 (never) ..
 * AT_AUTH_EXPIRES_DAYS_MAX. key_out gets the full text, to be shown once.
 * AT_OK, AT_INVALID (bad arguments, nothing written) or a store error. */
int at_store_key_create (at_store_t *store, const char *name, at_scopes_t scopes,
                         int expires_days, const char *created_by, at_auth_key_t *key_out);
/* Every key, newest first (at most max rows): no secret, only what an
 * operator needs. *rows_out malloc'd (caller frees). */
int at_store_key_list (at_store_t *store, size_t max, at_key_row_t **rows_out, size_t *n_out);
/* AT_OK (revoked now), AT_CONFLICT (revoked before; unchanged),
 * AT_NOTFOUND, AT_INVALID (not a key id), or a store error. */
int at_store_key_revoke (at_store_t *store, const char *id);

typedef struct {
  at_auth_verdict_t verdict;              /* OK MALFORMED UNKNOWN WRONG REVOKED EXPIRED */
  char id[AT_AUTH_KEY_ID_LEN + 1];        /* when shaped like a key: safe to log */
  at_scopes_t scopes;                     /* when OK */
} at_key_check_t;

/* Checks a presented key (text[0..len)): looked up by id, its hash compared
 * in constant time; a wrong secret says nothing about revocation or expiry.
 * On OK, last_used_at and last_used_addr (addr: the peer's IPv4/IPv6
 * address, NULL or unparsable: not recorded) are written when older than
 * AT_AUTH_TOUCH_SECONDS, so a busy key is not a write per request (best
 * effort: a failed write is logged and does not fail the check). */
int at_store_key_verify (at_store_t *store, const char *text, size_t len, const char *addr,
                         at_key_check_t *out);

/* --- people */

typedef struct {
  const char *email;          /* at_auth_email_normalize: stored lower-case */
  const char *name;           /* at_auth_name_check */
  at_auth_role_t role;
  const char *languages;      /* "pt-BR,en" or NULL */
  const char *teams;          /* "a,b" or NULL */
} at_user_fields_t;

typedef struct {
  int64_t id;
  char email[AT_AUTH_EMAIL_MAX + 1];
  char name[AT_AUTH_NAME_MAX + 1];
  at_auth_role_t role;
  char languages[AT_AUTH_LIST_TEXT_MAX];  /* "pt-BR,en" */
  char teams[AT_AUTH_LIST_TEXT_MAX];
  char disabled_at[AT_AUTH_TIME_LEN];     /* "" enabled */
  char locked_until[AT_AUTH_TIME_LEN];    /* "" never locked (may be past) */
  int failed_logins;
  char created_at[AT_AUTH_TIME_LEN];
} at_user_row_t;

/* Creates an account with an Argon2id hash of password. AT_OK (*id_out),
 * AT_INVALID (a field or the password fails its check; nothing written),
 * AT_CONFLICT (the email exists), or a store error. */
int at_store_user_create (at_store_t *store, const at_user_fields_t *fields,
                          const char *password, int64_t *id_out);
/* Every account by id (at most max rows). *rows_out malloc'd. */
int at_store_user_list (at_store_t *store, size_t max, at_user_row_t **rows_out, size_t *n_out);
/* Disables the account with this id (all digits) or email, and deletes its
 * sessions. AT_OK (*id_out), AT_CONFLICT (disabled before; unchanged, *id_out
 * set), AT_NOTFOUND, or a store error. */
int at_store_user_disable (at_store_t *store, const char *id_or_email, int64_t *id_out);

typedef struct {
  at_auth_verdict_t verdict;  /* OK UNKNOWN WRONG DISABLED LOCKED */
  int64_t user_id;            /* 0 when the email is unknown */
  at_auth_role_t role;
  int failed_logins;          /* after this attempt */
} at_login_check_t;

/* Checks email + password. A locked or disabled account is refused without
 * hashing; an unknown email spends the time of one hash anyway. A wrong
 * password counts in failed_logins and every AT_AUTH_LOCK_AFTER-th in a row
 * locks the account for AT_AUTH_LOCK_MINUTES; a right one resets the count
 * (and rehashes when the limits changed). */
int at_store_user_verify_password (at_store_t *store, const char *email, const char *password,
                                   at_login_check_t *out);

/* --- sessions: the client holds a random token, the table its SHA-256 */

typedef struct {
  char token[AT_AUTH_TOKEN_LEN + 1];      /* the cookie; never stored */
  char csrf_token[AT_AUTH_TOKEN_LEN + 1]; /* for forms; never stored */
} at_session_tokens_t;

/* A session of ttl_s seconds (1..AT_AUTH_SESSION_TTL_MAX) for an enabled
 * account: AT_OK, AT_NOTFOUND (no such account, or disabled), AT_INVALID. */
int at_store_session_create (at_store_t *store, int64_t user_id, int ttl_s,
                             at_session_tokens_t *out);

typedef struct {
  at_auth_verdict_t verdict;  /* OK MALFORMED UNKNOWN EXPIRED DISABLED */
  int64_t user_id;
  at_auth_role_t role;
  uint8_t csrf_hash[AT_AUTH_HASH_LEN];
  char email[AT_AUTH_EMAIL_MAX + 1];      /* the account's, when found */
  char name[AT_AUTH_NAME_MAX + 1];
} at_session_check_t;

/* Looks a token up; an expired session is deleted. last_seen_at is written
 * at most every AT_AUTH_TOUCH_SECONDS. */
int at_store_session_lookup (at_store_t *store, const char *token, at_session_check_t *out);
/* Whether csrf_token is the one of the session (constant time). */
bool at_store_session_csrf_ok (const at_session_check_t *session, const char *csrf_token);
/* Signs out: AT_OK, AT_NOTFOUND, AT_INVALID (not a token). */
int at_store_session_delete (at_store_t *store, const char *token);
/* Deletes expired sessions; *deleted_out (optional) gets how many. */
int at_store_session_sweep (at_store_t *store, size_t *deleted_out);

/* --- audit */

/* Appends a row: actor (cli, user:<id>, key:<id>), action (key.create ...),
 * target (may be NULL), detail (a JSON object or NULL; at most 8 KiB), addr
 * (NULL or unparsable: none). Never pass a secret or a password in detail. */
int at_store_audit (at_store_t *store, const char *actor, const char *action, const char *target,
                    const json_t *detail, const char *addr);

#endif
