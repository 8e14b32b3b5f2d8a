/* Accounts and API keys on a fresh database, through the `atende keys` and
 * `atende users` commands and lib/store/at_store_auth.h:
 *   - bad input (unknown scope, missing flag, bad email, role, language, a
 *     password on argv or too short on stdin) exits 2 naming the flag, never
 *     echoes a password, and writes nothing;
 *   - a created key is printed once, verifies (its scopes, last use written
 *     at most once a minute), is listed without its secret, and once revoked
 *     says revoked; an expired key says expired; a wrong secret says wrong;
 *   - a person created with the password on stdin signs in with it, not with
 *     another; every 10th failure in a row locks for 15 minutes; a good
 *     password resets the count; disabling refuses sign-in and ends sessions;
 *   - sessions: created, looked up, CSRF checked, deleted, expired, swept;
 *   - every command that succeeded wrote one audit row, none holds a secret. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "it.h"
#include "at_proc.h"
#include "at_store_auth.h"

#define PASSWORD "correct horse battery staple"
#define S_OUT_CAP 16384

typedef struct {
  int code;
  char out[S_OUT_CAP];
  char err[S_OUT_CAP];
} s_run_t;

static char s_db[512];
static int s_runs;
static PGconn *s_conn;

static void
s_slurp (const char *path, char *out)
{
  FILE *f = fopen (path, "r");
  size_t n = f ? fread (out, 1, S_OUT_CAP - 1, f) : 0;
  out[n] = '\0';
  if (f)
    fclose (f);
}

/* Runs `atende <args...>` (NULL-terminated) with input on stdin. */
static void
s_cli (s_run_t *r, const char *input, ...)
{
  char in_path[32], out_path[32], err_path[32];
  int n = ++s_runs;
  snprintf (in_path, sizeof in_path, "cli_%d.in", n);
  snprintf (out_path, sizeof out_path, "cli_%d.out", n);
  snprintf (err_path, sizeof err_path, "cli_%d.err", n);
  FILE *f = fopen (in_path, "w");
  IT_CHECK (f != NULL, "%s", in_path);
  fputs (input ? input : "", f);
  fclose (f);
  char *argv[24] = {getenv ("ATENDE_BIN")};
  size_t argc = 1;
  va_list ap;
  va_start (ap, input);
  for (char *a; (a = va_arg (ap, char *)) != NULL && argc < 23;)
    argv[argc++] = a;
  va_end (ap);
  pid_t pid = fork ();
  IT_CHECK (pid >= 0, "fork");
  if (pid == 0) {
    dup2 (open (in_path, O_RDONLY), 0);
    dup2 (open (out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644), 1);
    dup2 (open (err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644), 2);
    setenv ("ATENDE_DATABASE_URL", s_db, 1);
    execv (argv[0], argv);
    _exit (127);
  }
  int status = at_proc_stop (pid, 0, 60000);
  IT_CHECK (status != -1 && WIFEXITED (status), "atende %s %s did not exit", argv[1], argv[2]);
  r->code = WEXITSTATUS (status);
  s_slurp (out_path, r->out);
  s_slurp (err_path, r->err);
}

static long long
s_count (const char *fmt, const char *arg)
{
  char sql[1024];
  snprintf (sql, sizeof sql, fmt, arg);
  return it_db_scalar (s_conn, sql);
}

static long long
s_scalar (const char *sql)
{
  return it_db_scalar (s_conn, sql);
}

static void
s_sql (const char *sql)
{
  PGresult *res = PQexec (s_conn, sql);
  IT_CHECK (PQresultStatus (res) == PGRES_COMMAND_OK, "%s: %s", sql, PQerrorMessage (s_conn));
  PQclear (res);
}

static void
s_exec (const char *fmt, const char *arg)
{
  char sql[1024];
  snprintf (sql, sizeof sql, fmt, arg);
  s_sql (sql);
}

/* Exits 2, says flag on stderr, never shows secret, writes nothing. */
static void
s_refused (const s_run_t *r, const char *flag, const char *secret)
{
  IT_CHECK (r->code == 2, "want exit 2 for %s, got %d: %s", flag, r->code, r->err);
  IT_CHECK (strstr (r->err, flag) != NULL, "stderr does not name %s: %s", flag, r->err);
  IT_CHECK (secret == NULL || strstr (r->err, secret) == NULL, "stderr shows the password");
  IT_CHECK (s_scalar ("SELECT (SELECT count(*) FROM api_key) + (SELECT count(*) FROM app_user)"
                      " + (SELECT count(*) FROM audit_log)") == 0,
            "bad input wrote something (%s)", flag);
}

static void
s_bad_input (void)
{
  s_run_t r;
  s_cli (&r, NULL, "keys", "create", "--name", "shop", "--scopes", "orders:write,tickets:nuke",
         NULL);
  s_refused (&r, "--scopes", NULL);
  IT_CHECK (strstr (r.err, "tickets:nuke") != NULL, "unknown scope not named: %s", r.err);
  s_cli (&r, NULL, "keys", "create", "--scopes", "admin", NULL);
  s_refused (&r, "--name", NULL);
  s_cli (&r, NULL, "keys", "create", "--name", "x", "--scopes", "admin", "--expires-days", "0",
         NULL);
  s_refused (&r, "--expires-days", NULL);
  s_cli (&r, NULL, "keys", "create", "--name", "x", "--scopes", "admin", "--colour", "red", NULL);
  s_refused (&r, "--colour", NULL);
  s_cli (&r, NULL, "keys", "revoke", "NOT-AN-ID", NULL);
  s_refused (&r, "NOT-AN-ID", NULL);
  s_cli (&r, PASSWORD "\n", "users", "create", "--email", "not-an-email", "--name", "Ana",
         "--role", "agent", NULL);
  s_refused (&r, "--email", PASSWORD);
  s_cli (&r, PASSWORD "\n", "users", "create", "--email", "ana@loja.com.br", "--name", "Ana",
         "--role", "boss", NULL);
  s_refused (&r, "--role", PASSWORD);
  s_cli (&r, PASSWORD "\n", "users", "create", "--email", "ana@loja.com.br", "--name", "Ana",
         "--role", "agent", "--languages", "pt-BR,klingon", NULL);
  s_refused (&r, "--languages", PASSWORD);
  s_cli (&r, NULL, "users", "create", "--email", "ana@loja.com.br", "--name", "Ana", "--role",
         "agent", "--password", "hunter2hunter2", NULL);
  s_refused (&r, "--password", "hunter2hunter2");
  s_cli (&r, "tiny-pw\n", "users", "create", "--email", "ana@loja.com.br", "--name", "Ana",
         "--role", "agent", NULL);
  s_refused (&r, "password", "tiny-pw");
  s_cli (&r, "", "users", "create", "--email", "ana@loja.com.br", "--name", "Ana", "--role",
         "agent", "--password-stdin", NULL);
  s_refused (&r, "password", NULL);
}

/* Creates a key through the CLI; its text into key (AT_AUTH_KEY_LEN + 1). */
static void
s_key_create (char *key, const char *name, const char *scopes, const char *days)
{
  s_run_t r;
  if (days)
    s_cli (&r, NULL, "keys", "create", "--name", name, "--scopes", scopes, "--expires-days", days,
           NULL);
  else
    s_cli (&r, NULL, "keys", "create", "--name", name, "--scopes", scopes, NULL);
  IT_CHECK (r.code == 0, "keys create exited %d: %s", r.code, r.err);
  IT_CHECK (strlen (r.out) == AT_AUTH_KEY_LEN + 1 && r.out[AT_AUTH_KEY_LEN] == '\n',
            "stdout is not one key: '%s'", r.out);
  IT_CHECK (strstr (r.err, "cannot be shown again") != NULL, "no once-only note: %s", r.err);
  memcpy (key, r.out, AT_AUTH_KEY_LEN);
  key[AT_AUTH_KEY_LEN] = '\0';
}

static at_auth_verdict_t
s_verify (at_store_t *store, const char *key, const char *addr, at_key_check_t *check)
{
  IT_CHECK (at_store_key_verify (store, key, strlen (key), addr, check) == AT_OK, "verify");
  return check->verdict;
}

/* Revokes the key (id) made by s_keys, then makes one that expires. */
static void
s_keys_end (at_store_t *store, const char *key, char *id)
{
  char wrong[AT_AUTH_KEY_LEN + 1], other[AT_AUTH_KEY_LEN + 1];
  at_key_check_t check;
  s_run_t r;
  s_cli (&r, NULL, "keys", "revoke", id, NULL);
  IT_CHECK (r.code == 0, "revoke exited %d: %s", r.code, r.err);
  IT_CHECK (s_verify (store, key, NULL, &check) == AT_AUTH_REVOKED, "revoked");
  memcpy (wrong, key, sizeof wrong);
  wrong[30] = wrong[30] == 'A' ? 'B' : 'A';
  IT_CHECK (s_verify (store, wrong, NULL, &check) == AT_AUTH_WRONG, "a wrong secret learns nothing");
  s_cli (&r, NULL, "keys", "revoke", id, NULL);
  IT_CHECK (r.code == 0 && strstr (r.out, "already"), "second revoke: %d %s", r.code, r.out);
  s_cli (&r, NULL, "keys", "revoke", "aaaaaaaaaaaa", NULL);
  IT_CHECK (r.code == 1, "unknown key revoke exited %d", r.code);

  s_key_create (other, "painel", "kpis:read", "1");
  memcpy (id, other + 4, AT_AUTH_KEY_ID_LEN);
  IT_CHECK (s_count ("SELECT count(*) FROM api_key WHERE id = '%s' AND expires_at"
                     " BETWEEN now () + interval '23 hours' AND now () + interval '25 hours'", id)
            == 1, "expires in a day");
  IT_CHECK (s_verify (store, other, NULL, &check) == AT_AUTH_OK, "not expired yet");
  s_exec ("UPDATE api_key SET expires_at = now () - interval '1 second' WHERE id = '%s'", id);
  IT_CHECK (s_verify (store, other, NULL, &check) == AT_AUTH_EXPIRED, "expired");
  IT_CHECK (s_count ("SELECT count(*) FROM audit_log WHERE detail::text LIKE '%%%s%%'", key + 17)
            + s_count ("SELECT count(*) FROM audit_log WHERE detail::text LIKE '%%%s%%'",
                       other + 17) == 0, "the audit log holds a secret");
}

static void
s_keys (at_store_t *store)
{
  char key[AT_AUTH_KEY_LEN + 1], id[AT_AUTH_KEY_ID_LEN + 1], sql[512];
  at_key_check_t check;
  s_run_t r;
  s_key_create (key, "Loja Shopify", "orders:write,tickets:read", NULL);
  memcpy (id, key + 4, AT_AUTH_KEY_ID_LEN);
  id[AT_AUTH_KEY_ID_LEN] = '\0';
  snprintf (sql, sizeof sql, "SELECT count(*) FROM api_key WHERE id = '%s' AND expires_at IS NULL"
            " AND secret_hash = sha256 ('%s'::bytea)", id, key);
  IT_CHECK (it_db_scalar (s_conn, sql) == 1, "the row holds SHA-256 of the key, no expiry");
  IT_CHECK (s_verify (store, key, "127.0.0.1", &check) == AT_AUTH_OK, "fresh key verifies");
  IT_CHECK (check.scopes == (AT_SCOPE_ORDERS_WRITE | AT_SCOPE_TICKETS_READ)
            && strcmp (check.id, id) == 0, "its scopes and id");
  IT_CHECK (s_count ("SELECT count(*) FROM api_key WHERE id = '%s' AND last_used_at IS NOT NULL"
                     " AND last_used_addr = '127.0.0.1'", id) == 1, "last use written");
  IT_CHECK (s_verify (store, key, "10.0.0.9", &check) == AT_AUTH_OK, "verifies again");
  IT_CHECK (s_count ("SELECT count(*) FROM api_key WHERE id = '%s'"
                     " AND last_used_addr = '127.0.0.1'", id) == 1, "not rewritten within a minute");
  s_exec ("UPDATE api_key SET last_used_at = now () - interval '2 minutes' WHERE id = '%s'", id);
  IT_CHECK (s_verify (store, key, "10.0.0.9", &check) == AT_AUTH_OK, "verifies later");
  IT_CHECK (s_count ("SELECT count(*) FROM api_key WHERE id = '%s' AND last_used_addr = '10.0.0.9'"
                     " AND last_used_at > now () - interval '10 seconds'", id) == 1,
            "rewritten after a minute");
  char wrong[AT_AUTH_KEY_LEN + 1];
  memcpy (wrong, key, sizeof wrong);
  wrong[30] = wrong[30] == 'A' ? 'B' : 'A';
  IT_CHECK (s_verify (store, wrong, NULL, &check) == AT_AUTH_WRONG, "wrong secret");
  memcpy (wrong + 4, "aaaaaaaaaaaa", AT_AUTH_KEY_ID_LEN);
  IT_CHECK (s_verify (store, wrong, NULL, &check) == AT_AUTH_UNKNOWN, "unknown id");
  IT_CHECK (s_verify (store, "Bearer nonsense", NULL, &check) == AT_AUTH_MALFORMED, "malformed");

  s_cli (&r, NULL, "keys", "list", NULL);
  IT_CHECK (r.code == 0 && strstr (r.out, id) && strstr (r.out, "Loja Shopify")
            && strstr (r.out, "orders:write,tickets:read") && strstr (r.out, "10.0.0.9"),
            "list: %s", r.out);
  IT_CHECK (strstr (r.out, key + 17) == NULL && strstr (r.out, "atd_") == NULL,
            "list shows a secret: %s", r.out);
  s_keys_end (store, key, id);
}

static at_auth_verdict_t
s_login (at_store_t *store, const char *email, const char *password, at_login_check_t *check)
{
  IT_CHECK (at_store_user_verify_password (store, email, password, check) == AT_OK, "login");
  return check->verdict;
}

static int64_t
s_user_create (void)
{
  s_run_t r;
  s_cli (&r, PASSWORD "\n", "users", "create", "--email", "Ana.Souza@Loja.com.br", "--name",
         "Ana Souza", "--role", "agent", "--languages", "pt-BR,en", "--teams", "vendas",
         "--password-stdin", NULL);
  IT_CHECK (r.code == 0, "users create exited %d: %s", r.code, r.err);
  IT_CHECK (s_scalar ("SELECT count(*) FROM app_user WHERE email = 'ana.souza@loja.com.br' AND"
                      " role = 'agent' AND languages = '{pt-BR,en}' AND teams = '{vendas}' AND"
                      " password_hash LIKE '$argon2id$%' AND password_hash NOT LIKE '%horse%'")
            == 1, "the account row");
  s_cli (&r, PASSWORD "\n", "users", "create", "--email", "ana.souza@loja.com.br", "--name",
         "Outra Ana", "--role", "lead", NULL);
  IT_CHECK (r.code == 1 && strstr (r.err, "exists"), "duplicate email: %d %s", r.code, r.err);
  IT_CHECK (s_scalar ("SELECT count(*) FROM app_user") == 1, "one account");
  return s_scalar ("SELECT id FROM app_user");
}

static void
s_passwords (at_store_t *store, int64_t uid)
{
  at_login_check_t check;
  IT_CHECK (s_login (store, "ANA.souza@loja.com.br", PASSWORD, &check) == AT_AUTH_OK
            && check.user_id == uid && check.role == AT_ROLE_AGENT, "signs in");
  IT_CHECK (s_login (store, "ana.souza@loja.com.br", "correct horse battery stapler", &check)
            == AT_AUTH_WRONG && check.failed_logins == 1, "wrong password counted");
  IT_CHECK (s_login (store, "ana.souza@loja.com.br", PASSWORD, &check) == AT_AUTH_OK,
            "signs in again");
  IT_CHECK (s_scalar ("SELECT failed_logins FROM app_user") == 0, "count reset");
  for (int i = 1; i <= AT_AUTH_LOCK_AFTER; i++) {
    IT_CHECK (s_login (store, "ana.souza@loja.com.br", "not the password at all", &check)
              == AT_AUTH_WRONG && check.failed_logins == i, "failure %d", i);
    IT_CHECK (s_scalar ("SELECT count(*) FROM app_user WHERE locked_until > now ()")
              == (i == AT_AUTH_LOCK_AFTER), "locked only after the 10th (%d)", i);
  }
  IT_CHECK (s_scalar ("SELECT count(*) FROM app_user WHERE locked_until"
                      " BETWEEN now () + interval '14 minutes' AND now () + interval '16 minutes'")
            == 1, "for 15 minutes");
  IT_CHECK (s_login (store, "ana.souza@loja.com.br", PASSWORD, &check) == AT_AUTH_LOCKED,
            "locked: even the right password is refused");
  s_sql ("UPDATE app_user SET locked_until = now () - interval '1 second'");
  IT_CHECK (s_login (store, "ana.souza@loja.com.br", PASSWORD, &check) == AT_AUTH_OK,
            "after the lock");
  IT_CHECK (s_scalar ("SELECT failed_logins FROM app_user WHERE locked_until IS NULL") == 0,
            "count and lock reset");
  IT_CHECK (s_login (store, "nobody@loja.com.br", PASSWORD, &check) == AT_AUTH_UNKNOWN
            && check.user_id == 0, "unknown email");
  IT_CHECK (s_login (store, "not an email", PASSWORD, &check) == AT_AUTH_UNKNOWN, "not an email");
}

static void
s_sessions (at_store_t *store, int64_t uid, at_session_tokens_t *kept)
{
  at_session_tokens_t t, other;
  at_session_check_t s;
  size_t swept = 0;
  IT_CHECK (at_store_session_create (store, uid, 3600, &t) == AT_OK, "session");
  IT_CHECK (at_store_session_create (store, uid, 3600, &other) == AT_OK, "another");
  IT_CHECK (at_store_session_lookup (store, t.token, &s) == AT_OK && s.verdict == AT_AUTH_OK
            && s.user_id == uid && s.role == AT_ROLE_AGENT, "looked up");
  IT_CHECK (at_store_session_csrf_ok (&s, t.csrf_token), "its CSRF token");
  IT_CHECK (!at_store_session_csrf_ok (&s, other.csrf_token) && !at_store_session_csrf_ok (&s, ""),
            "another CSRF token");
  IT_CHECK (s_count ("SELECT count(*) FROM user_session WHERE id = sha256 ('%s'::bytea)", t.token)
            == 1, "stored as SHA-256 of the token");
  IT_CHECK (at_store_session_delete (store, t.token) == AT_OK, "signed out");
  IT_CHECK (at_store_session_lookup (store, t.token, &s) == AT_OK && s.verdict == AT_AUTH_UNKNOWN,
            "gone");
  IT_CHECK (at_store_session_delete (store, t.token) == AT_NOTFOUND, "gone twice");
  IT_CHECK (at_store_session_lookup (store, "garbage", &s) == AT_OK
            && s.verdict == AT_AUTH_MALFORMED, "malformed token");
  s_sql ("UPDATE user_session SET expires_at = now () - interval '1 second'");
  IT_CHECK (at_store_session_lookup (store, other.token, &s) == AT_OK
            && s.verdict == AT_AUTH_EXPIRED, "expired");
  IT_CHECK (s_scalar ("SELECT count(*) FROM user_session") == 0, "expired one deleted");
  IT_CHECK (at_store_session_create (store, uid, 60, &t) == AT_OK, "session to sweep");
  s_sql ("UPDATE user_session SET expires_at = now () - interval '1 second'");
  IT_CHECK (at_store_session_sweep (store, &swept) == AT_OK && swept == 1, "swept %zu", swept);
  IT_CHECK (at_store_session_create (store, uid, 3600, kept) == AT_OK, "kept session");
  IT_CHECK (at_store_session_create (store, uid, 0, &t) == AT_INVALID, "ttl 0");
  IT_CHECK (at_store_session_create (store, uid + 1000, 60, &t) == AT_NOTFOUND, "no account");
}

static void
s_disable (at_store_t *store, int64_t uid, const at_session_tokens_t *kept)
{
  s_run_t r;
  at_login_check_t check;
  at_session_check_t s;
  at_session_tokens_t t;
  char id[24];
  s_cli (&r, NULL, "users", "list", NULL);
  IT_CHECK (r.code == 0 && strstr (r.out, "ana.souza@loja.com.br") && strstr (r.out, "agent")
            && strstr (r.out, "active") && !strstr (r.out, "argon2"), "list: %s", r.out);
  s_cli (&r, NULL, "users", "disable", "Ana.Souza@loja.com.br", NULL);
  IT_CHECK (r.code == 0, "disable exited %d: %s", r.code, r.err);
  IT_CHECK (s_login (store, "ana.souza@loja.com.br", PASSWORD, &check) == AT_AUTH_DISABLED,
            "disabled");
  IT_CHECK (at_store_session_lookup (store, kept->token, &s) == AT_OK
            && s.verdict == AT_AUTH_UNKNOWN, "sessions ended");
  IT_CHECK (at_store_session_create (store, uid, 60, &t) == AT_NOTFOUND, "no new session");
  snprintf (id, sizeof id, "%lld", (long long) uid);
  s_cli (&r, NULL, "users", "disable", id, NULL);
  IT_CHECK (r.code == 0 && strstr (r.out, "already"), "disable twice: %d %s", r.code, r.out);
  s_cli (&r, NULL, "users", "disable", "nobody@loja.com.br", NULL);
  IT_CHECK (r.code == 1, "unknown account: %d", r.code);
  s_cli (&r, NULL, "users", "disable", "99999999999999999999", NULL);
  IT_CHECK (r.code == 1, "id beyond bigint: %d", r.code);
  s_cli (&r, NULL, "users", "list", NULL);
  IT_CHECK (r.code == 0 && strstr (r.out, "disabled"), "list: %s", r.out);
}

static void
s_audit (at_store_t *store)
{
  static const struct { const char *action; long long n; } want[] = {
    {"key.create", 2}, {"key.list", 1}, {"key.revoke", 2}, {"user.create", 1},
    {"user.list", 2}, {"user.disable", 2}};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    long long n = s_count ("SELECT count(*) FROM audit_log WHERE actor = 'cli' AND action = '%s'",
                           want[i].action);
    IT_CHECK (n == want[i].n, "%s: %lld audit rows, want %lld", want[i].action, n, want[i].n);
  }
  IT_CHECK (s_scalar ("SELECT count(*) FROM audit_log") == 10, "no other audit rows");
  IT_CHECK (s_scalar ("SELECT count(*) FROM audit_log a JOIN api_key k ON a.target = 'key:' || k.id"
                      " WHERE a.action = 'key.create' AND a.detail->>'name' = k.name") == 2,
            "key.create rows name their key");
  IT_CHECK (s_scalar ("SELECT count(*) FROM audit_log WHERE detail::text LIKE '%horse%'")
            == 0, "a password in the audit log");
  json_t *detail = json_pack ("{s:s}", "why", "test");
  IT_CHECK (at_store_audit (store, "user:1", "session.create", "user:1", detail, "192.0.2.7")
            == AT_OK, "audit with an address");
  IT_CHECK (at_store_audit (store, "key:aaaaaaaaaaaa", "x.y", NULL, NULL, "not-an-ip") == AT_OK,
            "audit without one");
  IT_CHECK (at_store_audit (store, "", "x.y", NULL, NULL, NULL) == AT_INVALID, "no actor");
  json_decref (detail);
  IT_CHECK (s_scalar ("SELECT count(*) FROM audit_log WHERE (addr = '192.0.2.7' AND"
                      " detail->>'why' = 'test') OR (actor LIKE 'key:%' AND addr IS NULL)")
            == 2, "audit rows written as given");
}

int
main (void)
{
  it_require_pg ();
  snprintf (s_db, sizeof s_db, "%s", it_db_create ("auth_store", true));
  s_conn = it_db_connect (s_db);
  /* this test counts keys from none and calls no api: the harness's key goes */
  PQclear (PQexec (s_conn, "DELETE FROM api_key"));
  at_store_t *store = at_store_new (s_db, "test");
  IT_CHECK (store != NULL, "store");
  s_bad_input ();
  s_keys (store);
  int64_t uid = s_user_create ();
  s_passwords (store, uid);
  at_session_tokens_t kept;
  s_sessions (store, uid, &kept);
  s_disable (store, uid, &kept);
  s_audit (store);
  at_store_destroy (&store);
  PQfinish (s_conn);
  printf ("auth store: keys created, verified, listed, revoked, expired; a person signs in, locks"
          " after %d failures, is disabled; sessions; %d CLI runs, 10 audit rows\n",
          AT_AUTH_LOCK_AFTER, s_runs);
  return 0;
}
