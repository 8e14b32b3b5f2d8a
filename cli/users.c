/* `atende users`: the people who sign in (lib/store/at_store_auth.h).
 *   atende users create --email E --name N --role agent|lead|admin
 *                       [--languages pt-BR,en] [--teams a,b] [--password-stdin]
 *   atende users list
 *   atende users disable ID|EMAIL
 * The password comes from stdin, one line (a terminal is asked twice, without
 * echo); never from the command line, where ps and shell histories show it.
 * Every command that succeeds writes an audit row (actor cli) in the same
 * transaction as its change. Exit codes: 0 done (or nothing to do), 1 unknown
 * account, existing email or store failure (nothing written), 2 bad input. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "access.h"
#include "at_store_access.h"
#include "cli.h"

#define S_PASSWORD_CAP (AT_AUTH_PASSWORD_MAX + 3)   /* the line, "\r\n" and NUL */

static const char *s_usage =
  "usage: atende users create --email E --name N --role agent|lead|admin\n"
  "                           [--languages pt-BR,en] [--teams a,b] [--password-stdin]\n"
  "                           (the password: one line on stdin, 12 to 256 characters)\n"
  "       atende users list\n"
  "       atende users disable ID|EMAIL\n";

/* The flags of create, checked; false (said on stderr) when one is wrong. */
static bool
s_create_args (const char *cmd, int argc, char **argv, at_access_user_t *u)
{
  const char *email = NULL, *name = NULL, *role = NULL, *languages = NULL, *teams = NULL,
             *stdin_flag = NULL, *field = NULL;
  char why[AT_ACCESS_REASON_MAX] = "";
  cli_flag_t flags[] = {{"--email", true, &email}, {"--name", true, &name},
                        {"--role", true, &role}, {"--languages", true, &languages},
                        {"--teams", true, &teams}, {"--password-stdin", false, &stdin_flag}};
  for (int i = 0; i < argc; i++)
    if (strncmp (argv[i], "--password", 10) == 0 && strcmp (argv[i], "--password-stdin") != 0) {
      fprintf (stderr, "%s: %.10s is not taken on the command line (ps and shell histories "
               "show it): give the password on stdin\n", cmd, argv[i]);
      return false;
    }
  if (!cli_flags_parse (cmd, argc, argv, flags, AT_ARRAY_LEN (flags), NULL))
    return false;
  if (at_access_user_check (email, name, role, languages, teams, u, &field, why, sizeof why)
      != AT_OK) {
    fprintf (stderr, "%s: --%s: %s\n", cmd, field, why);
    return false;
  }
  return true;
}

/* One line from stdin into out; a terminal is prompted without echo. */
static bool
s_read_line (const char *prompt, char out[S_PASSWORD_CAP])
{
  struct termios old, quiet;
  bool tty = isatty (STDIN_FILENO) && tcgetattr (STDIN_FILENO, &old) == 0;
  if (tty) {
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t) ECHO;
    fputs (prompt, stderr);
    tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  bool ok = fgets (out, S_PASSWORD_CAP, stdin) != NULL;
  if (tty) {
    tcsetattr (STDIN_FILENO, TCSAFLUSH, &old);
    fputc ('\n', stderr);
  }
  size_t n = ok ? strlen (out) : 0;
  if (n > 0 && out[n - 1] == '\n')
    out[--n] = '\0';
  else if (n >= S_PASSWORD_CAP - 1)
    ok = false;   /* no end of line within the cap: too long */
  if (n > 0 && out[n - 1] == '\r')
    out[--n] = '\0';
  return ok;
}

/* The password from stdin, checked; false (said on stderr) when wrong. */
static bool
s_read_password (const char *cmd, char out[S_PASSWORD_CAP])
{
  char again[S_PASSWORD_CAP], why[128];
  bool ok = s_read_line ("password: ", out);
  if (!ok || out[0] == '\0') {
    fprintf (stderr, "%s: the password (stdin) %s\n", cmd,
             ok || feof (stdin) ? "is missing: give it as one line on stdin"
                                : "is longer than 256 bytes");
    return false;
  }
  if (at_auth_password_check (out, why, sizeof why) != AT_OK) {
    fprintf (stderr, "%s: %s (read from stdin)\n", cmd, why);
    return false;
  }
  if (isatty (STDIN_FILENO) && (!s_read_line ("again: ", again) || strcmp (out, again) != 0)) {
    fprintf (stderr, "%s: the two passwords differ\n", cmd);
    ok = false;
  }
  OPENSSL_cleanse (again, sizeof again);
  return ok;
}

static int
s_create (const at_config_t *cfg, int argc, char **argv)
{
  const char *cmd = "atende users create";
  at_access_user_t u = {0};
  char password[S_PASSWORD_CAP];
  if (!s_create_args (cmd, argc, argv, &u)) {
    fputs (s_usage, stderr);
    return 2;
  }
  if (!s_read_password (cmd, password)) {
    OPENSSL_cleanse (password, sizeof password);
    return 2;
  }
  at_store_t *store = cli_access_begin (cfg, cmd);
  int64_t id = 0;
  at_user_fields_t fields = at_access_user_fields (&u);
  int stored = store ? at_store_user_create (store, &fields, password, &id) : AT_ERROR;
  OPENSSL_cleanse (password, sizeof password);
  if (store == NULL)
    return 1;
  if (stored != AT_OK) {
    if (stored == AT_CONFLICT)
      fprintf (stderr, "%s: an account with email %s exists; nothing written\n", cmd, u.email);
    else
      fprintf (stderr, "%s: cannot store the account, nothing written: %s\n", cmd,
               at_store_last_error (store));
    return cli_access_abort (&store, 1);
  }
  char target[32];
  snprintf (target, sizeof target, "user:%lld", (long long) id);
  json_t *detail = at_access_user_detail (&u);
  int rc = cli_access_commit (store, cmd, "user.create", target, &detail);
  at_store_destroy (&store);
  if (rc == 0)
    printf ("created user %lld %s (%s)\n", (long long) id, u.email, at_auth_role_name (u.role));
  return rc;
}

static void
s_print_users (const at_user_row_t *rows, size_t n)
{
  time_t now = time (NULL);
  printf ("%-6s  %-8s  %-6s  %-32s  %-24s  %-14s  %s\n", "id", "status", "role", "email", "name",
          "languages", "teams");
  for (size_t i = 0; i < n; i++) {
    const at_user_row_t *r = &rows[i];
    const char *status = at_access_user_status (r, now);
    printf ("%-6lld  %-8s  %-6s  %-32s  %-24.24s  %-14s  %s\n", (long long) r->id, status,
            at_auth_role_name (r->role), r->email, r->name, r->languages[0] ? r->languages : "-",
            r->teams[0] ? r->teams : "-");
  }
  printf ("%zu user%s\n", n, n == 1 ? "" : "s");
}

static int
s_list (const at_config_t *cfg, int argc, char **argv)
{
  const char *cmd = "atende users list";
  if (!cli_flags_parse (cmd, argc, argv, NULL, 0, NULL))
    return 2;
  at_store_t *store = cli_access_begin (cfg, cmd);
  if (store == NULL)
    return 1;
  at_user_row_t *rows = NULL;
  size_t n = 0;
  if (at_store_user_list (store, AT_AUTH_ROWS_MAX, &rows, &n) != AT_OK) {
    fprintf (stderr, "%s: cannot read the accounts: %s\n", cmd, at_store_last_error (store));
    return cli_access_abort (&store, 1);
  }
  json_t *detail = json_pack ("{s:I}", "count", (json_int_t) n);
  int rc = cli_access_commit (store, cmd, "user.list", NULL, &detail);
  at_store_destroy (&store);
  if (rc == 0)
    s_print_users (rows, n);
  free (rows);
  return rc;
}

static int
s_disable (const at_config_t *cfg, int argc, char **argv)
{
  const char *cmd = "atende users disable", *who = NULL;
  if (!cli_flags_parse (cmd, argc, argv, NULL, 0, &who))
    return 2;
  size_t len = who ? strlen (who) : 0;
  if (len == 0 || len > AT_AUTH_EMAIL_MAX
      || (strspn (who, "0123456789") != len && strchr (who, '@') == NULL)) {
    fprintf (stderr, "%s: give the account's id (digits) or email, as atende users list shows\n",
             cmd);
    return 2;
  }
  at_store_t *store = cli_access_begin (cfg, cmd);
  if (store == NULL)
    return 1;
  int64_t id = 0;
  int rc = at_store_user_disable (store, who, &id);
  if (rc != AT_OK && rc != AT_CONFLICT) {
    if (rc == AT_NOTFOUND)
      fprintf (stderr, "%s: no account %.64s; nothing changed\n", cmd, who);
    else
      fprintf (stderr, "%s: failed, nothing changed: %s\n", cmd, at_store_last_error (store));
    return cli_access_abort (&store, 1);
  }
  char target[32];
  snprintf (target, sizeof target, "user:%lld", (long long) id);
  json_t *detail = json_pack ("{s:b}", "already_disabled", rc == AT_CONFLICT);
  int exit_code = cli_access_commit (store, cmd, "user.disable", target, &detail);
  at_store_destroy (&store);
  if (exit_code == 0)
    printf (rc == AT_OK ? "disabled user %lld: signed out everywhere, cannot sign in\n"
                        : "user %lld was disabled already; nothing changed\n", (long long) id);
  return exit_code;
}

int
cli_users (const at_config_t *cfg, int argc, char **argv)
{
  if (argc < 1) {
    fputs (s_usage, stderr);
    return 2;
  }
  if (strcmp (argv[0], "create") == 0)
    return s_create (cfg, argc - 1, argv + 1);
  if (strcmp (argv[0], "list") == 0)
    return s_list (cfg, argc - 1, argv + 1);
  if (strcmp (argv[0], "disable") == 0)
    return s_disable (cfg, argc - 1, argv + 1);
  fprintf (stderr, "atende users: unknown verb '%.32s'\n%s", argv[0], s_usage);
  return 2;
}
