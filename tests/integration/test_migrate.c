/* Migrations: two `atende migrate` at once on an empty database both
 * succeed and apply each migration once; a third run applies nothing. */
#include <stdio.h>
#include <sys/wait.h>
#include "it.h"
#include "at_migrate.h"

static int
s_exit_code (pid_t pid)
{
  int status = 0;
  IT_CHECK (waitpid (pid, &status, 0) == pid, "waitpid");
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

int
main (void)
{
  it_require_pg ();
  char conninfo[600], env_db[640];
  snprintf (conninfo, sizeof conninfo, "%s", it_db_create ("migrate_race", false));
  snprintf (env_db, sizeof env_db, "ATENDE_DATABASE_URL=%s", conninfo);
  const char *args[] = {"migrate", NULL};
  const char *env[] = {env_db, NULL};
  long long want = 0;
  while (at_migrations[want].sql != NULL)
    want++;

  pid_t a = it_spawn_atende ("migrate-a", args, env);
  pid_t b = it_spawn_atende ("migrate-b", args, env);
  IT_CHECK (s_exit_code (a) == 0, "first concurrent migrate failed (see migrate-a.log)");
  IT_CHECK (s_exit_code (b) == 0, "second concurrent migrate failed (see migrate-b.log)");
  PGconn *conn = it_db_connect (conninfo);
  long long applied = it_db_scalar (conn, "SELECT count(*) FROM schema_migration");
  IT_CHECK (applied == want, "%lld migrations recorded, want %lld", applied, want);

  pid_t c = it_spawn_atende ("migrate-c", args, env);
  IT_CHECK (s_exit_code (c) == 0, "a third migrate failed (see migrate-c.log)");
  IT_CHECK (it_db_scalar (conn, "SELECT count(*) FROM schema_migration") == want,
            "a third run changed the recorded migrations");
  IT_CHECK (it_db_scalar (conn, "SELECT count(*) FROM pg_tables WHERE tablename = 'bus_message'")
            == 1, "the bus table exists");
  PQfinish (conn);
  printf ("migrate: two at once and a third run: %lld migrations applied once\n", applied);
  return 0;
}
