/* at_auth: the pure part of accounts and API keys (lib/core/auth.c); the
 * tables are lib/store/at_store_auth.h. Nothing here touches a database.
 *
 * API keys look like  atd_<id>_<secret>
 *   id      12 characters of lowercase base32 (a-z, 2-7): public, the row's
 *           primary key, safe to log
 *   secret  32 random bytes (RAND_bytes), base64url without padding: 43
 *           characters of [A-Za-z0-9_-], in canonical form
 * so a key is always AT_AUTH_KEY_LEN (60) characters. Only a hash is stored:
 * SHA-256 of the whole key text, which binds the secret to its id (a secret
 * is high-entropy, so a fast hash is right; no salt or stretching needed).
 * Hashes are compared in constant time.
 *
 * Passwords are hashed with Argon2id (libsodium crypto_pwhash_str, the
 * INTERACTIVE limits: 2 passes, 64 MiB). A password has at least 12
 * characters (UTF-8 code points) and at most 256 bytes; it is never logged.
 *
 * Scopes are what a credential may do; a set of them is a bitmask:
 *   messages:write   publish inbound messages (channels, integrations)
 *   orders:write     order events (store platforms)
 *   tickets:read     read tickets and their messages
 *   tickets:write    answer, resolve, reassign tickets
 *   customers:read   read customers and identities
 *   customers:write  edit and merge customers
 *   templates:write  edit message templates
 *   kpis:read        the dashboards' figures
 *   dlq:admin        list and replay dead letters
 *   admin            everything above, and accounts and keys
 *   agents:write     teams and agents' settings (the desk; leads)
 *
 * Roles of people, and the scopes each carries:
 *   agent  tickets:read tickets:write customers:read
 *          (answers customers; team figures are a lead's view)
 *   lead   an agent's, plus customers:write templates:write kpis:read
 *          agents:write
 *          (runs a team: fixes customer records, edits texts, reads figures,
 *          sets agents' teams, skills and capacity)
 *   admin  admin (everything: accounts, keys, dead letters)
 * messages:write and orders:write are for machines (API keys), no role has
 * them but admin; dlq:admin is an operator's, given to keys or to admins. */
#ifndef AT_AUTH_H
#define AT_AUTH_H

#include "at_common.h"

#define AT_AUTH_KEY_PREFIX "atd_"
#define AT_AUTH_KEY_ID_LEN 12                 /* characters of an id */
#define AT_AUTH_KEY_SECRET_BYTES 32
#define AT_AUTH_KEY_SECRET_LEN 43             /* base64url of 32 bytes, unpadded */
#define AT_AUTH_KEY_LEN (4 + AT_AUTH_KEY_ID_LEN + 1 + AT_AUTH_KEY_SECRET_LEN)
#define AT_AUTH_HASH_LEN 32                   /* SHA-256 */

#define AT_AUTH_PASSWORD_MIN 12               /* characters */
#define AT_AUTH_PASSWORD_MAX 256              /* bytes */
#define AT_AUTH_PASSWORD_HASH_LEN 128         /* crypto_pwhash_STRBYTES, with NUL */

#define AT_AUTH_TOKEN_BYTES 32                /* sessions and CSRF tokens */
#define AT_AUTH_TOKEN_LEN 43                  /* their base64url text */

/* A new key: text is shown once and never stored; id and hash are stored. */
typedef struct {
  char text[AT_AUTH_KEY_LEN + 1];
  char id[AT_AUTH_KEY_ID_LEN + 1];
  uint8_t hash[AT_AUTH_HASH_LEN];
} at_auth_key_t;

/* A presented key, taken apart. */
typedef struct {
  char id[AT_AUTH_KEY_ID_LEN + 1];
  char secret[AT_AUTH_KEY_SECRET_LEN + 1];
} at_auth_key_parts_t;

/* Makes a key from the OS CSPRNG. AT_OK, or AT_ERROR if it fails. */
int at_auth_key_generate (at_auth_key_t *out);
/* Takes apart text[0..len) (need not be NUL-terminated). Strict: exactly
 * AT_AUTH_KEY_LEN bytes, the prefix, an id of [a-z2-7], '_', a canonical
 * base64url secret. AT_OK, or AT_INVALID (out is then zeroed). */
int at_auth_key_parse (const char *text, size_t len, at_auth_key_parts_t *out);
/* The stored hash of a key: SHA-256 of "atd_<id>_<secret>". */
void at_auth_key_hash (const at_auth_key_parts_t *parts, uint8_t out[AT_AUTH_HASH_LEN]);
/* Constant-time comparison of two hashes. */
bool at_auth_hash_equal (const uint8_t a[AT_AUTH_HASH_LEN], const uint8_t b[AT_AUTH_HASH_LEN]);
/* Whether text is a well-formed key id (12 of [a-z2-7]). */
bool at_auth_key_id_valid (const char *text);

/* A random session or CSRF token: text (base64url, AT_AUTH_TOKEN_LEN + 1
 * bytes) and the SHA-256 of its bytes, which is what is stored. */
int at_auth_token_new (char text[AT_AUTH_TOKEN_LEN + 1], uint8_t hash[AT_AUTH_HASH_LEN]);
/* The hash of a presented token: AT_OK, or AT_INVALID when it is not one. */
int at_auth_token_hash (const char *text, uint8_t hash[AT_AUTH_HASH_LEN]);

/* Passwords. check: AT_OK or AT_INVALID (too short, too long) with a reason
 * that never quotes the password. hash: AT_OK, AT_INVALID (check failed) or
 * AT_ERROR (out of memory). verify: AT_OK when password matches hash,
 * AT_INVALID otherwise (also for a malformed hash or an over-long password,
 * which is refused without hashing). */
int at_auth_password_check (const char *password, char *reason, size_t cap);
int at_auth_password_hash (const char *password, char out[AT_AUTH_PASSWORD_HASH_LEN]);
int at_auth_password_verify (const char *hash, const char *password);
/* True when hash was made with other limits than today's (rehash on login). */
bool at_auth_password_needs_rehash (const char *hash);
/* Spends the time of one verification against a dummy hash, so an unknown
 * account answers as slowly as a known one. */
void at_auth_password_burn (const char *password);

/* Scopes, one bit each, in the order of the table above. */
typedef uint32_t at_scopes_t;
#define AT_SCOPE_MESSAGES_WRITE  (1u << 0)
#define AT_SCOPE_ORDERS_WRITE    (1u << 1)
#define AT_SCOPE_TICKETS_READ    (1u << 2)
#define AT_SCOPE_TICKETS_WRITE   (1u << 3)
#define AT_SCOPE_CUSTOMERS_READ  (1u << 4)
#define AT_SCOPE_CUSTOMERS_WRITE (1u << 5)
#define AT_SCOPE_TEMPLATES_WRITE (1u << 6)
#define AT_SCOPE_KPIS_READ       (1u << 7)
#define AT_SCOPE_DLQ_ADMIN       (1u << 8)
#define AT_SCOPE_ADMIN           (1u << 9)
#define AT_SCOPE_KB_WRITE        (1u << 10)
#define AT_SCOPE_AGENTS_WRITE    (1u << 11)
#define AT_SCOPE_COUNT 12
#define AT_SCOPES_TEXT_MAX 256   /* bytes of a scope list, all twelve named */

/* "s1,s2" (spaces around items ignored, repeats allowed) into a mask.
 * AT_OK, or AT_INVALID with a reason naming the unknown scope or the empty
 * item; an empty list is invalid too (a key must be able to do something). */
int at_auth_scopes_parse (const char *text, at_scopes_t *out, char *reason, size_t cap);
/* The mask as "s1,s2" in table order; AT_ERROR when cap is too small. */
int at_auth_scopes_format (at_scopes_t mask, char *out, size_t cap);
/* The name of scope i (0..AT_SCOPE_COUNT-1), NULL beyond. */
const char *at_auth_scope_name (size_t i);
/* Whether a credential holding mask may do what needs all of `needed`;
 * admin allows everything. */
bool at_auth_scope_allows (at_scopes_t mask, at_scopes_t needed);

typedef enum { AT_ROLE_AGENT = 1, AT_ROLE_LEAD, AT_ROLE_ADMIN } at_auth_role_t;
/* "agent" | "lead" | "admin": AT_OK or AT_INVALID. */
int at_auth_role_parse (const char *name, at_auth_role_t *out);
const char *at_auth_role_name (at_auth_role_t role);
at_scopes_t at_auth_role_scopes (at_auth_role_t role);

/* What a credential check concluded (the store's verify functions). The api
 * answers the same 401 to all but OK; the distinct reasons are for logs,
 * audit and the operator. */
typedef enum {
  AT_AUTH_OK = 0,
  AT_AUTH_MALFORMED,    /* not shaped like a key or token */
  AT_AUTH_UNKNOWN,      /* no such key id, account or session */
  AT_AUTH_WRONG,        /* the secret or password does not match */
  AT_AUTH_REVOKED,      /* key revoked */
  AT_AUTH_EXPIRED,      /* key or session past its expiry */
  AT_AUTH_DISABLED,     /* account disabled */
  AT_AUTH_LOCKED        /* account locked after too many failures */
} at_auth_verdict_t;
const char *at_auth_verdict_name (at_auth_verdict_t verdict);

/* Checks of account fields (the CLI's and later the api's input), each
 * AT_OK or AT_INVALID with a reason quoting the bad item:
 * email  1..254 bytes, one '@', no spaces or control characters, a dot in
 *        the domain; written lower-case into out
 * name   1..200 bytes, no control characters (UTF-8 is the caller's check)
 * languages  "pt-BR,en": tags of 2-3 letters, then -subtags of 2-8 letters
 *        or digits; teams  "a,b": 1..64 of [a-z0-9_-]. At most
 *        AT_AUTH_LIST_MAX items, no repeats, spaces around items dropped:
 *        out gets the list as "a,b" (empty when there are none). */
#define AT_AUTH_EMAIL_MAX 254
#define AT_AUTH_NAME_MAX 200
#define AT_AUTH_LIST_MAX 16
#define AT_AUTH_LIST_TEXT_MAX (AT_AUTH_LIST_MAX * 65)   /* bytes of a list, with NUL */
int at_auth_email_normalize (const char *email, char out[AT_AUTH_EMAIL_MAX + 1], char *reason,
                             size_t cap);
int at_auth_name_check (const char *name, char *reason, size_t cap);
int at_auth_languages_normalize (const char *list, char out[AT_AUTH_LIST_TEXT_MAX],
                                 char *reason, size_t cap);
int at_auth_teams_normalize (const char *list, char out[AT_AUTH_LIST_TEXT_MAX], char *reason,
                             size_t cap);

#endif
