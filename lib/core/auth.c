/* Accounts and API keys, the pure part: keys, tokens, passwords (Argon2id,
 * libsodium), scopes, roles and the checks of account fields. See at_auth.h. */
#include "at_auth.h"
#include "at_crypto.h"
#include "at_list.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_ID_OFFSET 4                                   /* after "atd_" */
#define S_SECRET_OFFSET (S_ID_OFFSET + AT_AUTH_KEY_ID_LEN + 1)
#define S_B64_CAP 48                                    /* base64 of 32 bytes, with NUL */
#define S_LANGUAGE_MAX 35                               /* bytes of one language tag */
#define S_TEAM_MAX 64                                   /* bytes of one team name */

static const char s_b32[] = "abcdefghijklmnopqrstuvwxyz234567";

static const char *const s_scopes[AT_SCOPE_COUNT] = {
  "messages:write", "orders:write", "tickets:read", "tickets:write", "customers:read",
  "customers:write", "templates:write", "kpis:read", "dlq:admin", "admin", "kb:write",
  "agents:write"};

static const struct {
  const char *name;
  at_scopes_t scopes;
} s_roles[] = {
  [AT_ROLE_AGENT] = {"agent", AT_SCOPE_TICKETS_READ | AT_SCOPE_TICKETS_WRITE
                                | AT_SCOPE_CUSTOMERS_READ},
  [AT_ROLE_LEAD] = {"lead", AT_SCOPE_TICKETS_READ | AT_SCOPE_TICKETS_WRITE
                              | AT_SCOPE_CUSTOMERS_READ | AT_SCOPE_CUSTOMERS_WRITE
                              | AT_SCOPE_TEMPLATES_WRITE | AT_SCOPE_KPIS_READ
                              | AT_SCOPE_KB_WRITE | AT_SCOPE_AGENTS_WRITE},
  [AT_ROLE_ADMIN] = {"admin", AT_SCOPE_ADMIN},
};

static void
s_sha256 (const void *data, size_t len, uint8_t out[AT_AUTH_HASH_LEN])
{
  unsigned int n = AT_AUTH_HASH_LEN;
  if (EVP_Digest (data, len, out, &n, EVP_sha256 (), NULL) != 1)
    abort ();   /* SHA-256 cannot fail but for out-of-memory */
}

static bool
s_b32_char (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
}

/* Index of a base64url character, -1 for any other byte. */
static int
s_b64url_index (char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  return c == '-' ? 62 : c == '_' ? 63 : -1;
}

/* 43 base64url characters in canonical form: the last one carries the
 * final 4 bits of 32 bytes and 2 zero bits. */
static bool
s_b64url_32 (const char *text, size_t len)
{
  if (len != AT_AUTH_KEY_SECRET_LEN)
    return false;
  for (size_t i = 0; i < len; i++)
    if (s_b64url_index (text[i]) < 0)
      return false;
  return (s_b64url_index (text[len - 1]) & 3) == 0;
}

/* 32 random bytes as base64url text (AT_AUTH_TOKEN_LEN characters). */
static int
s_random_b64url (char out[AT_AUTH_TOKEN_LEN + 1])
{
  uint8_t raw[AT_AUTH_TOKEN_BYTES];
  char text[S_B64_CAP];
  int rc = at_random_bytes (raw, sizeof raw);
  if (rc == AT_OK && at_base64url_encode (raw, sizeof raw, text, sizeof text)
                       != AT_AUTH_TOKEN_LEN)
    rc = AT_ERROR;
  if (rc == AT_OK)
    memcpy (out, text, AT_AUTH_TOKEN_LEN + 1);
  OPENSSL_cleanse (raw, sizeof raw);
  OPENSSL_cleanse (text, sizeof text);
  return rc;
}

int
at_auth_key_generate (at_auth_key_t *out)
{
  memset (out, 0, sizeof *out);
  uint8_t id_bytes[AT_AUTH_KEY_ID_LEN];
  at_auth_key_parts_t parts = {0};
  int rc = at_random_bytes (id_bytes, sizeof id_bytes);
  if (rc == AT_OK)
    rc = s_random_b64url (parts.secret);
  if (rc == AT_OK) {
    for (size_t i = 0; i < AT_AUTH_KEY_ID_LEN; i++)
      parts.id[i] = s_b32[id_bytes[i] & 31];   /* 256 % 32 == 0: uniform */
    snprintf (out->text, sizeof out->text, AT_AUTH_KEY_PREFIX "%s_%s", parts.id, parts.secret);
    memcpy (out->id, parts.id, sizeof out->id);
    at_auth_key_hash (&parts, out->hash);
  }
  OPENSSL_cleanse (&parts, sizeof parts);
  return rc;
}

bool
at_auth_key_id_valid (const char *text)
{
  if (text == NULL || strnlen (text, AT_AUTH_KEY_ID_LEN + 1) != AT_AUTH_KEY_ID_LEN)
    return false;
  for (size_t i = 0; i < AT_AUTH_KEY_ID_LEN; i++)
    if (!s_b32_char (text[i]))
      return false;
  return true;
}

int
at_auth_key_parse (const char *text, size_t len, at_auth_key_parts_t *out)
{
  memset (out, 0, sizeof *out);
  if (text == NULL || len != AT_AUTH_KEY_LEN || memcmp (text, AT_AUTH_KEY_PREFIX, 4) != 0
      || text[S_SECRET_OFFSET - 1] != '_')
    return AT_INVALID;
  for (size_t i = 0; i < AT_AUTH_KEY_ID_LEN; i++)
    if (!s_b32_char (text[S_ID_OFFSET + i]))
      return AT_INVALID;
  if (!s_b64url_32 (text + S_SECRET_OFFSET, AT_AUTH_KEY_SECRET_LEN))
    return AT_INVALID;
  memcpy (out->id, text + S_ID_OFFSET, AT_AUTH_KEY_ID_LEN);
  memcpy (out->secret, text + S_SECRET_OFFSET, AT_AUTH_KEY_SECRET_LEN);
  return AT_OK;
}

void
at_auth_key_hash (const at_auth_key_parts_t *parts, uint8_t out[AT_AUTH_HASH_LEN])
{
  char text[AT_AUTH_KEY_LEN + 1];
  int n = snprintf (text, sizeof text, AT_AUTH_KEY_PREFIX "%s_%s", parts->id, parts->secret);
  s_sha256 (text, n > 0 ? (size_t) n : 0, out);
  OPENSSL_cleanse (text, sizeof text);
}

bool
at_auth_hash_equal (const uint8_t a[AT_AUTH_HASH_LEN], const uint8_t b[AT_AUTH_HASH_LEN])
{
  return at_ct_equal (a, b, AT_AUTH_HASH_LEN);
}

int
at_auth_token_new (char text[AT_AUTH_TOKEN_LEN + 1], uint8_t hash[AT_AUTH_HASH_LEN])
{
  if (s_random_b64url (text) != AT_OK)
    return AT_ERROR;
  s_sha256 (text, AT_AUTH_TOKEN_LEN, hash);
  return AT_OK;
}

int
at_auth_token_hash (const char *text, uint8_t hash[AT_AUTH_HASH_LEN])
{
  if (text == NULL || !s_b64url_32 (text, strnlen (text, AT_AUTH_TOKEN_LEN + 1)))
    return AT_INVALID;
  s_sha256 (text, AT_AUTH_TOKEN_LEN, hash);
  return AT_OK;
}

/* --- passwords: Argon2id (libsodium) */

static pthread_once_t s_sodium_once = PTHREAD_ONCE_INIT;
static int s_sodium_rc = -1;

static void
s_sodium_init (void)
{
  s_sodium_rc = sodium_init ();   /* 0, or 1 when already done: both fine */
}

static bool
s_sodium (void)
{
  pthread_once (&s_sodium_once, s_sodium_init);
  return s_sodium_rc >= 0;
}

static size_t
s_utf8_chars (const char *s)
{
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char) *s & 0xC0) != 0x80;
  return n;
}

int
at_auth_password_check (const char *password, char *reason, size_t cap)
{
  const char *why = NULL;
  if (password == NULL || strnlen (password, AT_AUTH_PASSWORD_MAX + 1) > AT_AUTH_PASSWORD_MAX)
    why = password ? "is longer than 256 bytes" : "is missing";
  else if (s_utf8_chars (password) < AT_AUTH_PASSWORD_MIN)
    why = "has fewer than 12 characters";
  if (why && cap > 0)
    snprintf (reason, cap, "the password %s", why);
  return why ? AT_INVALID : AT_OK;
}

int
at_auth_password_hash (const char *password, char out[AT_AUTH_PASSWORD_HASH_LEN])
{
  char why[64];
  out[0] = '\0';
  if (at_auth_password_check (password, why, sizeof why) != AT_OK)
    return AT_INVALID;
  if (!s_sodium ()
      || crypto_pwhash_str (out, password, strlen (password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return AT_ERROR;
  return AT_OK;
}

/* The hash as libsodium wants it: NUL-terminated in a full-size buffer. */
static bool
s_hash_copy (const char *hash, char copy[crypto_pwhash_STRBYTES])
{
  memset (copy, 0, crypto_pwhash_STRBYTES);
  if (hash == NULL || strnlen (hash, crypto_pwhash_STRBYTES) >= crypto_pwhash_STRBYTES)
    return false;
  memcpy (copy, hash, strlen (hash));
  return true;
}

int
at_auth_password_verify (const char *hash, const char *password)
{
  char copy[crypto_pwhash_STRBYTES];
  if (password == NULL || strnlen (password, AT_AUTH_PASSWORD_MAX + 1) > AT_AUTH_PASSWORD_MAX
      || !s_hash_copy (hash, copy) || !s_sodium ())
    return AT_INVALID;
  return crypto_pwhash_str_verify (copy, password, strlen (password)) == 0 ? AT_OK : AT_INVALID;
}

bool
at_auth_password_needs_rehash (const char *hash)
{
  char copy[crypto_pwhash_STRBYTES];
  if (!s_hash_copy (hash, copy) || !s_sodium ())
    return true;
  return crypto_pwhash_str_needs_rehash (copy, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                         crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
}

static pthread_once_t s_dummy_once = PTHREAD_ONCE_INIT;
static char s_dummy_hash[AT_AUTH_PASSWORD_HASH_LEN];

static void
s_dummy_init (void)
{
  char password[AT_AUTH_TOKEN_LEN + 1];
  if (s_random_b64url (password) == AT_OK)
    (void) at_auth_password_hash (password, s_dummy_hash);
  OPENSSL_cleanse (password, sizeof password);
}

void
at_auth_password_burn (const char *password)
{
  pthread_once (&s_dummy_once, s_dummy_init);
  (void) at_auth_password_verify (s_dummy_hash, password ? password : "");
}

/* --- scopes and roles */

const char *
at_auth_scope_name (size_t i)
{
  return i < AT_SCOPE_COUNT ? s_scopes[i] : NULL;
}

int
at_auth_scopes_parse (const char *text, at_scopes_t *out, char *reason, size_t cap)
{
  at_list_t list = {0};
  char why[160];
  *out = 0;
  if (text == NULL || strlen (text) >= 4 * AT_SCOPES_TEXT_MAX) {
    snprintf (reason, cap, "the scope list is too long");
    return AT_INVALID;
  }
  if (at_list_parse (&list, text, AT_LIST_VALUES, why, sizeof why) != AT_OK) {
    snprintf (reason, cap, "scope %s", why);
    return AT_INVALID;
  }
  int rc = list.n == 0 ? AT_INVALID : AT_OK;
  if (list.n == 0)
    snprintf (reason, cap, "no scope given (known: messages:write, orders:write, tickets:read, "
              "tickets:write, customers:read, customers:write, templates:write, kpis:read, "
              "dlq:admin, admin, kb:write, agents:write)");
  for (size_t i = 0; rc == AT_OK && i < list.n; i++) {
    size_t k = 0;
    while (k < AT_SCOPE_COUNT && strcmp (list.items[i].value, s_scopes[k]) != 0)
      k++;
    if (k == AT_SCOPE_COUNT) {
      snprintf (reason, cap, "unknown scope '%.64s'", list.items[i].value);
      rc = AT_INVALID;
    }
    else
      *out |= 1u << k;
  }
  if (rc != AT_OK)
    *out = 0;
  at_list_clear (&list);
  return rc;
}

int
at_auth_scopes_format (at_scopes_t mask, char *out, size_t cap)
{
  size_t used = 0;
  if (cap == 0)
    return AT_ERROR;
  out[0] = '\0';
  for (size_t k = 0; k < AT_SCOPE_COUNT; k++) {
    if (!(mask & (1u << k)))
      continue;
    int n = snprintf (out + used, cap - used, "%s%s", used ? "," : "", s_scopes[k]);
    if (n < 0 || (size_t) n >= cap - used)
      return AT_ERROR;
    used += (size_t) n;
  }
  return AT_OK;
}

bool
at_auth_scope_allows (at_scopes_t mask, at_scopes_t needed)
{
  if (mask & AT_SCOPE_ADMIN)
    return true;
  return (mask & needed) == needed;
}

int
at_auth_role_parse (const char *name, at_auth_role_t *out)
{
  for (int r = AT_ROLE_AGENT; r <= AT_ROLE_ADMIN; r++)
    if (name && strcmp (name, s_roles[r].name) == 0) {
      *out = (at_auth_role_t) r;
      return AT_OK;
    }
  return AT_INVALID;
}

const char *
at_auth_role_name (at_auth_role_t role)
{
  return role >= AT_ROLE_AGENT && role <= AT_ROLE_ADMIN ? s_roles[role].name : "?";
}

at_scopes_t
at_auth_role_scopes (at_auth_role_t role)
{
  return role >= AT_ROLE_AGENT && role <= AT_ROLE_ADMIN ? s_roles[role].scopes : 0;
}

const char *
at_auth_verdict_name (at_auth_verdict_t verdict)
{
  static const char *const names[] = {"ok", "malformed", "unknown", "wrong", "revoked",
                                      "expired", "disabled", "locked"};
  return (size_t) verdict < AT_ARRAY_LEN (names) ? names[verdict] : "?";
}

/* --- account fields */

static bool
s_control (unsigned char c)
{
  return c < 0x20 || c == 0x7f;
}

int
at_auth_email_normalize (const char *email, char out[AT_AUTH_EMAIL_MAX + 1], char *reason,
                         size_t cap)
{
  size_t len = email ? strnlen (email, AT_AUTH_EMAIL_MAX + 1) : 0;
  const char *at = len ? strchr (email, '@') : NULL;
  const char *why = NULL;
  out[0] = '\0';
  if (len == 0 || len > AT_AUTH_EMAIL_MAX)
    why = "must have 1 to 254 bytes";
  else if (at == NULL || at == email || strchr (at + 1, '@') != NULL)
    why = "must be one name@domain";
  else if (strchr (at + 1, '.') == NULL || at[1] == '.' || email[len - 1] == '.')
    why = "needs a domain with a dot (name@shop.com.br)";
  for (size_t i = 0; why == NULL && i < len; i++)
    if (email[i] == ' ' || s_control ((unsigned char) email[i]))
      why = "has a space or a control character";
  if (why) {
    snprintf (reason, cap, "the email %s", why);
    return AT_INVALID;
  }
  for (size_t i = 0; i <= len; i++)
    out[i] = email[i] >= 'A' && email[i] <= 'Z' ? (char) (email[i] - 'A' + 'a') : email[i];
  return AT_OK;
}

int
at_auth_name_check (const char *name, char *reason, size_t cap)
{
  size_t len = name ? strnlen (name, AT_AUTH_NAME_MAX + 1) : 0;
  bool visible = false, control = false;
  for (size_t i = 0; i < len; i++) {
    visible |= name[i] != ' ';
    control |= s_control ((unsigned char) name[i]);
  }
  if (len == 0 || len > AT_AUTH_NAME_MAX || !visible || control) {
    snprintf (reason, cap, "the name %s", control ? "has a control character"
                                                  : "must have 1 to 200 bytes, not all spaces");
    return AT_INVALID;
  }
  return AT_OK;
}

static bool
s_alnum_run (const char *s, size_t len, bool letters_only)
{
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!letter && (letters_only || !(c >= '0' && c <= '9')))
      return false;
  }
  return true;
}

/* pt-BR, en, es-419, zh-Hant-TW: 2-3 letters, then -subtags of 2-8. */
static bool
s_language_valid (const char *tag)
{
  size_t len = strlen (tag), first = strcspn (tag, "-");
  if (len > S_LANGUAGE_MAX || first < 2 || first > 3 || !s_alnum_run (tag, first, true))
    return false;
  for (const char *p = tag + first; *p;) {
    size_t n = strcspn (p + 1, "-");
    if (n < 2 || n > 8 || !s_alnum_run (p + 1, n, false))
      return false;
    p += 1 + n;
  }
  return true;
}

static bool
s_team_valid (const char *team)
{
  size_t len = strlen (team);
  return len >= 1 && len <= S_TEAM_MAX && strspn (team, "abcdefghijklmnopqrstuvwxyz0123456789_-")
                                            == len;
}

/* Parses "a,b", checks each item, refuses repeats, writes "a,b" into out. */
static int
s_list_normalize (const char *text, bool (*valid) (const char *), const char *what,
                  char out[AT_AUTH_LIST_TEXT_MAX], char *reason, size_t cap)
{
  at_list_t list = {0};
  char why[160];
  size_t used = 0, commas = 0;
  out[0] = '\0';
  for (const char *p = text ? text : ""; *p; p++)
    commas += *p == ',';
  if (commas >= AT_AUTH_LIST_MAX || (text && strlen (text) >= 4 * AT_AUTH_LIST_TEXT_MAX)) {
    snprintf (reason, cap, "more than %d %ss", AT_AUTH_LIST_MAX, what);
    return AT_INVALID;
  }
  if (at_list_parse (&list, text, AT_LIST_VALUES, why, sizeof why) != AT_OK) {
    snprintf (reason, cap, "%s %s", what, why);
    return AT_INVALID;
  }
  int rc = AT_OK;
  for (size_t i = 0; rc == AT_OK && i < list.n; i++) {
    const char *v = list.items[i].value;
    rc = valid (v) ? AT_OK : AT_INVALID;
    for (size_t j = 0; rc == AT_OK && j < i; j++)
      rc = strcmp (v, list.items[j].value) == 0 ? AT_CONFLICT : AT_OK;
    int n = rc == AT_OK ? snprintf (out + used, AT_AUTH_LIST_TEXT_MAX - used, "%s%s",
                                    used ? "," : "", v) : 0;
    if (n < 0 || (size_t) n >= AT_AUTH_LIST_TEXT_MAX - used)
      rc = AT_INVALID;   /* cannot happen with the caps above; never truncate */
    if (rc != AT_OK)
      snprintf (reason, cap, "%s '%.64s' %s", what, v,
                rc == AT_CONFLICT ? "is repeated" : "is not well formed");
    used += (size_t) n;
  }
  at_list_clear (&list);
  if (rc != AT_OK)
    out[0] = '\0';
  return rc == AT_OK ? AT_OK : AT_INVALID;
}

int
at_auth_languages_normalize (const char *list, char out[AT_AUTH_LIST_TEXT_MAX], char *reason,
                             size_t cap)
{
  return s_list_normalize (list, s_language_valid, "language", out, reason, cap);
}

int
at_auth_teams_normalize (const char *list, char out[AT_AUTH_LIST_TEXT_MAX], char *reason,
                         size_t cap)
{
  return s_list_normalize (list, s_team_valid, "team", out, reason, cap);
}
