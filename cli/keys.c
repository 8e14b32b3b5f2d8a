/* `atende keys`: API keys (lib/store/at_store_auth.h, lib/core/at_auth.h),
 * and the bus's CURVE key pairs (README "Bus security").
 *   atende keys create --name NAME --scopes S1,S2 [--expires-days N]
 *   atende keys list
 *   atende keys revoke ID
 *   atende keys curve [broker | publisher | worker:STAGE | worker:*]
 * curve needs no database: it prints a new pair as settings lines.
 * The key is printed once, by create, on stdout; only its hash is stored.
 * Every command that succeeds writes an audit row (actor cli) in the same
 * transaction as its change. Exit codes: 0 done (or nothing to do), 1 unknown
 * key or store failure (nothing written), 2 bad input (nothing written). */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>
#include "access.h"
#include "at_store_access.h"
#include "cli.h"

static const char *s_usage =
  "usage: atende keys create --name NAME --scopes S1,S2 [--expires-days N]   (N: 1..3650)\n"
  "       atende keys list\n"
  "       atende keys revoke ID\n"
  "       atende keys curve [broker | publisher | worker:STAGE | worker:*]\n"
  "scopes: messages:write orders:write tickets:read tickets:write customers:read\n"
  "        customers:write templates:write kpis:read dlq:admin admin kb:write\n";

/* The flags of create, checked; false (said on stderr) when one is wrong. */
static bool
s_create_args (const char *cmd, int argc, char **argv, const char **name, at_scopes_t *scopes,
               long *days)
{
  const char *scope_text = NULL, *days_text = NULL, *field = NULL;
  char why[AT_ACCESS_REASON_MAX];
  cli_flag_t flags[] = {{"--name", true, name}, {"--scopes", true, &scope_text},
                        {"--expires-days", true, &days_text}};
  if (!cli_flags_parse (cmd, argc, argv, flags, AT_ARRAY_LEN (flags), NULL))
    return false;
  if (*name == NULL || scope_text == NULL) {
    fprintf (stderr, "%s: %s is required\n", cmd, *name == NULL ? "--name" : "--scopes");
    return false;
  }
  if (at_access_key_check (*name, scope_text, 0, scopes, &field, why, sizeof why) != AT_OK) {
    fprintf (stderr, "%s: --%s: %s\n", cmd, field, why);
    return false;
  }
  if (days_text && at_parse_long (days_text, 1, AT_AUTH_EXPIRES_DAYS_MAX, days) != AT_OK) {
    fprintf (stderr, "%s: --expires-days must be a whole number of days in [1, %d]\n", cmd,
             AT_AUTH_EXPIRES_DAYS_MAX);
    return false;
  }
  return true;
}

static int
s_create (const at_config_t *cfg, int argc, char **argv)
{
  const char *cmd = "atende keys create", *name = NULL;
  at_scopes_t scopes = 0;
  long days = 0;
  if (!s_create_args (cmd, argc, argv, &name, &scopes, &days)) {
    fputs (s_usage, stderr);
    return 2;
  }
  at_store_t *store = cli_access_begin (cfg, cmd);
  if (store == NULL)
    return 1;
  at_auth_key_t key;
  if (at_store_key_create (store, name, scopes, (int) days, CLI_ACTOR, &key) != AT_OK) {
    fprintf (stderr, "%s: cannot store the key, nothing written: %s\n", cmd,
             at_store_last_error (store));
    return cli_access_abort (&store, 1);
  }
  char target[32];
  snprintf (target, sizeof target, "key:%s", key.id);
  json_t *detail = at_access_key_detail (name, scopes, days);
  int rc = cli_access_commit (store, cmd, "key.create", target, &detail);
  at_store_destroy (&store);
  if (rc == 0) {
    char expiry[48] = "never expires";
    if (days)
      snprintf (expiry, sizeof expiry, "expires in %ld day%s", days, days == 1 ? "" : "s");
    printf ("%s\n", key.text);
    fflush (stdout);
    fprintf (stderr, "created key %s (%s), %s. The key above is shown only now and cannot be "
             "shown again: keep it in a secret store.\n", key.id, name, expiry);
  }
  OPENSSL_cleanse (&key, sizeof key);
  return rc;
}

static int
s_list (const at_config_t *cfg, int argc, char **argv)
{
  const char *cmd = "atende keys list";
  if (!cli_flags_parse (cmd, argc, argv, NULL, 0, NULL))
    return 2;
  at_store_t *store = cli_access_begin (cfg, cmd);
  if (store == NULL)
    return 1;
  at_key_row_t *rows = NULL;
  size_t n = 0;
  if (at_store_key_list (store, AT_AUTH_ROWS_MAX, &rows, &n) != AT_OK) {
    fprintf (stderr, "%s: cannot read the keys: %s\n", cmd, at_store_last_error (store));
    return cli_access_abort (&store, 1);
  }
  json_t *detail = json_pack ("{s:I}", "count", (json_int_t) n);
  int rc = cli_access_commit (store, cmd, "key.list", NULL, &detail);
  at_store_destroy (&store);
  if (rc == 0) {
    printf ("%-12s  %-7s  %-20s  %-20s  %-15s  %-24s  %s\n", "id", "status", "expires",
            "last_used", "last_addr", "name", "scopes");
    for (size_t i = 0; i < n; i++) {
      char scopes[AT_SCOPES_TEXT_MAX];
      at_auth_scopes_format (rows[i].scopes, scopes, sizeof scopes);
      printf ("%-12s  %-7s  %-20s  %-20s  %-15s  %-24.24s  %s\n", rows[i].id, at_access_key_status (&rows[i]),
              rows[i].expires_at[0] ? rows[i].expires_at : "never",
              rows[i].last_used_at[0] ? rows[i].last_used_at : "never",
              rows[i].last_used_addr[0] ? rows[i].last_used_addr : "-", rows[i].name, scopes);
    }
    printf ("%zu key%s\n", n, n == 1 ? "" : "s");
  }
  free (rows);
  return rc;
}

static int
s_revoke (const at_config_t *cfg, int argc, char **argv)
{
  const char *cmd = "atende keys revoke", *id = NULL;
  if (!cli_flags_parse (cmd, argc, argv, NULL, 0, &id) || id == NULL) {
    if (id == NULL)
      fprintf (stderr, "%s: which key? give its id (atende keys list)\n", cmd);
    return 2;
  }
  if (!at_auth_key_id_valid (id)) {
    fprintf (stderr, "%s: '%.64s' is not a key id (12 characters of a-z and 2-7, as atende keys "
             "list shows)\n", cmd, id);
    return 2;
  }
  at_store_t *store = cli_access_begin (cfg, cmd);
  if (store == NULL)
    return 1;
  int rc = at_store_key_revoke (store, id);
  if (rc != AT_OK && rc != AT_CONFLICT) {
    if (rc == AT_NOTFOUND)
      fprintf (stderr, "%s: no key %s; nothing changed\n", cmd, id);
    else
      fprintf (stderr, "%s: failed, nothing changed: %s\n", cmd, at_store_last_error (store));
    return cli_access_abort (&store, 1);
  }
  char target[32];
  snprintf (target, sizeof target, "key:%s", id);
  json_t *detail = json_pack ("{s:b}", "already_revoked", rc == AT_CONFLICT);
  int exit_code = cli_access_commit (store, cmd, "key.revoke", target, &detail);
  at_store_destroy (&store);
  if (exit_code == 0)
    printf (rc == AT_OK ? "revoked key %s: it no longer opens anything\n"
                        : "key %s was revoked already; nothing changed\n", id);
  return exit_code;
}

/* A new CURVE key pair for the bus, printed as the settings it goes into:
 * the broker's (its secret; its public key for every client), or a client's
 * (its pair; its public key for the broker's list under role). */
static int
s_curve (int argc, char **argv)
{
  const char *role = argc > 0 ? argv[0] : NULL;
  if (argc > 1 || (role && strcmp (role, "broker") != 0 && !at_config_curve_role_valid (role))) {
    fprintf (stderr, "atende keys curve: broker, publisher, worker:STAGE or worker:*\n%s", s_usage);
    return 2;
  }
  char pub[AT_CURVE_Z85_LEN + 1], sec[AT_CURVE_Z85_LEN + 1];
  if (zmq_curve_keypair (pub, sec) != 0) {
    fprintf (stderr, "atende keys curve: %s (libzmq without CURVE?)\n", zmq_strerror (errno));
    return 1;
  }
  printf ("# a new CURVE key pair for the bus; the secret goes only into this process's Secret\n");
  if (role == NULL)
    printf ("public=%s\nsecret=%s\n", pub, sec);
  else if (strcmp (role, "broker") == 0)
    printf ("# the broker (every broker of the bus may share it):\n"
            "ATENDE_BUS_CURVE_SECRET=%s\n"
            "# every publisher and worker:\n"
            "ATENDE_BUS_CURVE_SERVER_KEY=%s\n", sec, pub);
  else
    printf ("# this %s:\n"
            "ATENDE_BUS_CURVE_CLIENT_PUBLIC=%s\n"
            "ATENDE_BUS_CURVE_CLIENT_SECRET=%s\n"
            "# the brokers: add to ATENDE_BUS_CURVE_CLIENTS (beside an old key: %s=OLD+NEW)\n"
            "#   %s=%s\n", role, pub, sec, role, role, pub);
  return 0;
}

int
cli_keys (const at_config_t *cfg, int argc, char **argv)
{
  if (argc < 1) {
    fputs (s_usage, stderr);
    return 2;
  }
  if (strcmp (argv[0], "create") == 0)
    return s_create (cfg, argc - 1, argv + 1);
  if (strcmp (argv[0], "list") == 0)
    return s_list (cfg, argc - 1, argv + 1);
  if (strcmp (argv[0], "revoke") == 0)
    return s_revoke (cfg, argc - 1, argv + 1);
  if (strcmp (argv[0], "curve") == 0)
    return s_curve (argc - 1, argv + 1);
  fprintf (stderr, "atende keys: unknown verb '%.32s'\n%s", argv[0], s_usage);
  return 2;
}
