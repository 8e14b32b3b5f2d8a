/* The PostgreSQL connection: named statements prepared once per connection,
 * transactions, savepoints, error classification, migrations. */
#include "at_store.h"
#include "at_log.h"
#include "at_migrate.h"

#include <czmq.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_PARAMS 32

struct at_store {
  PGconn *conn;
  char *conninfo;
  char *comp;
  zhashx_t *prepared;     /* statement names prepared on this connection */
  char last_error[512];
  uint64_t conflicts;     /* statements that lost a lock or serialization conflict */
};

static void
s_set_error (at_store_t *self, const char *what)
{
  at_strlcpy (self->last_error, what ? what : "", sizeof self->last_error);
  size_t n = strlen (self->last_error);
  while (n > 0 && (self->last_error[n - 1] == '\n' || self->last_error[n - 1] == ' '))
    self->last_error[--n] = '\0';
}

static void
s_notice (void *arg, const char *message)
{
  at_debug ((const char *) arg, "msg=\"postgres notice\" notice=\"%.*s\"", (int) strcspn (message, "\n"),
            message);
}

at_store_t *
at_store_new (const char *conninfo, const char *component)
{
  at_store_t *self = at_calloc (1, sizeof *self);
  self->conninfo = at_strdup (conninfo);
  self->comp = at_strdup (component ? component : "store");
  self->prepared = zhashx_new ();
  self->conn = PQconnectdb (conninfo);
  if (PQstatus (self->conn) != CONNECTION_OK) {
    s_set_error (self, PQerrorMessage (self->conn));
    at_error (self->comp, "msg=\"cannot connect to PostgreSQL\" error=\"%s\"", self->last_error);
    at_store_destroy (&self);
    return NULL;
  }
  PQsetNoticeProcessor (self->conn, s_notice, self->comp);
  return self;
}

void
at_store_destroy (at_store_t **self_p)
{
  if (self_p == NULL || *self_p == NULL)
    return;
  at_store_t *self = *self_p;
  if (self->conn)
    PQfinish (self->conn);
  zhashx_destroy (&self->prepared);
  free (self->conninfo);
  free (self->comp);
  free (self);
  *self_p = NULL;
}

PGconn *
at_store_conn (at_store_t *self)
{
  return self->conn;
}

bool
at_store_ok (at_store_t *self)
{
  return self && self->conn && PQstatus (self->conn) == CONNECTION_OK;
}

int
at_store_reconnect (at_store_t *self)
{
  zhashx_purge (self->prepared);
  PQreset (self->conn);
  if (PQstatus (self->conn) != CONNECTION_OK) {
    s_set_error (self, PQerrorMessage (self->conn));
    return AT_AGAIN;
  }
  at_info (self->comp, "msg=\"reconnected to PostgreSQL\"");
  return AT_OK;
}

const char *
at_store_last_error (at_store_t *self)
{
  return self->last_error;
}

/* Maps a failed result to our codes, logging once. */
static int
s_classify (at_store_t *self, PGresult *res, const char *what)
{
  const char *state = res ? PQresultErrorField (res, PG_DIAG_SQLSTATE) : NULL;
  s_set_error (self, res ? PQresultErrorMessage (res) : PQerrorMessage (self->conn));
  if (PQstatus (self->conn) != CONNECTION_OK || state == NULL) {
    at_warn (self->comp, "msg=\"store connection lost\" stmt=%s error=\"%s\"", what,
             self->last_error);
    return AT_AGAIN;
  }
  if (strcmp (state, "23505") == 0)
    return AT_CONFLICT;   /* expected by callers who race on purpose: no log */
  if (strcmp (state, "55P03") == 0) {   /* a lock wait we limited: the caller steps back */
    self->conflicts++;
    at_debug (self->comp, "msg=\"lock wait timed out\" stmt=%s", what);
    return AT_AGAIN;
  }
  if (strcmp (state, "40001") == 0 || strcmp (state, "40P01") == 0)
    self->conflicts++;
  if (strcmp (state, "40001") == 0 || strcmp (state, "40P01") == 0 || strcmp (state, "55P03") == 0
      || strncmp (state, "08", 2) == 0
      || strcmp (state, "57P01") == 0) {
    at_warn (self->comp, "msg=\"retryable store error\" stmt=%s sqlstate=%s", what, state);
    return AT_AGAIN;
  }
  if (strcmp (state, "25P02") == 0)   /* in failed transaction: the first error was logged */
    return AT_ERROR;
  at_error (self->comp, "msg=\"store error\" stmt=%s sqlstate=%s error=\"%s\"", what, state,
            self->last_error);
  if (strncmp (state, "22", 2) == 0 || strncmp (state, "23", 2) == 0)
    return AT_INVALID;
  return AT_ERROR;
}

static int
s_prepare (at_store_t *self, const at_sql_t *sql)
{
  if (zhashx_lookup (self->prepared, sql->name))
    return AT_OK;
  PGresult *res = PQprepare (self->conn, sql->name, sql->text, sql->nparams, NULL);
  int rc = AT_OK;
  if (PQresultStatus (res) != PGRES_COMMAND_OK)
    rc = s_classify (self, res, sql->name);
  else
    zhashx_insert (self->prepared, sql->name, (void *) sql);
  PQclear (res);
  return rc;
}

int
at_store_prepare (at_store_t *self, const at_sql_t *sql)
{
  return s_prepare (self, sql);
}

bool
at_store_prepared (at_store_t *self, const at_sql_t *sql)
{
  return zhashx_lookup (self->prepared, sql->name) != NULL;
}

int
at_store_exec (at_store_t *self, const at_sql_t *sql, const char *const *values,
               const int *lengths, const int *formats, PGresult **res_out)
{
  *res_out = NULL;
  bool custom = sql->name[0] == AT_SQL_CUSTOM[0];
  int rc = custom ? AT_OK : s_prepare (self, sql);
  if (rc != AT_OK)
    return rc;
  PGresult *res = custom
                    ? PQexecParams (self->conn, sql->text, sql->nparams, NULL, values, lengths,
                                    formats, 0)
                    : PQexecPrepared (self->conn, sql->name, sql->nparams, values, lengths,
                                      formats, 0);
  ExecStatusType st = PQresultStatus (res);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    *res_out = res;
    return AT_OK;
  }
  rc = s_classify (self, res, sql->name);
  PQclear (res);
  return rc;
}

static int
s_q (at_store_t *self, PGresult **res_out, const at_sql_t *sql, va_list ap)
{
  const char *values[S_MAX_PARAMS];
  if (sql->nparams > S_MAX_PARAMS)
    return AT_ERROR;
  for (int i = 0; i < sql->nparams; i++)
    values[i] = va_arg (ap, const char *);
  return at_store_exec (self, sql, values, NULL, NULL, res_out);
}

int
at_store_q (at_store_t *self, PGresult **res_out, const at_sql_t *sql, ...)
{
  va_list ap;
  va_start (ap, sql);
  int rc = s_q (self, res_out, sql, ap);
  va_end (ap);
  return rc;
}

int
at_store_do (at_store_t *self, const at_sql_t *sql, ...)
{
  PGresult *res = NULL;
  va_list ap;
  va_start (ap, sql);
  int rc = s_q (self, &res, sql, ap);
  va_end (ap);
  PQclear (res);
  return rc;
}

int
at_store_id (at_store_t *self, const at_sql_t *sql, const char *const *values, int64_t *id_out)
{
  PGresult *res = NULL;
  int rc = at_store_exec (self, sql, values, NULL, NULL, &res);
  if (rc != AT_OK)
    return rc;
  rc = PQntuples (res) > 0 ? AT_OK : AT_NOTFOUND;
  if (id_out)
    *id_out = rc == AT_OK ? strtoll (PQgetvalue (res, 0, 0), NULL, 10) : 0;
  PQclear (res);
  return rc;
}

static int
s_command (at_store_t *self, const char *text)
{
  PGresult *res = PQexec (self->conn, text);
  int rc = AT_OK;
  if (PQresultStatus (res) != PGRES_COMMAND_OK)
    rc = s_classify (self, res, text);
  PQclear (res);
  return rc;
}

int at_store_begin (at_store_t *self) { return s_command (self, "BEGIN"); }

/* BEGIN and this transaction's lock_timeout in one round trip (a simple
 * query may hold several statements; its result is the last one's). */
int
at_store_begin_wait (at_store_t *self, int lock_timeout_ms)
{
  if (lock_timeout_ms <= 0)
    return at_store_begin (self);
  char text[64];
  snprintf (text, sizeof text, "BEGIN; SET LOCAL lock_timeout = %d", lock_timeout_ms);
  int rc = s_command (self, text);
  if (rc != AT_OK && at_store_ok (self))
    s_command (self, "ROLLBACK");
  return rc;
}

uint64_t
at_store_conflicts (const at_store_t *self)
{
  return self->conflicts;
}
int at_store_commit (at_store_t *self) { return s_command (self, "COMMIT"); }
int at_store_rollback (at_store_t *self) { return s_command (self, "ROLLBACK"); }
int at_store_savepoint (at_store_t *self) { return s_command (self, "SAVEPOINT at_sp"); }
int at_store_savepoint_next (at_store_t *self)
{
  return s_command (self, "RELEASE SAVEPOINT at_sp; SAVEPOINT at_sp");
}
int at_store_savepoint_rollback (at_store_t *self) { return s_command (self, "ROLLBACK TO SAVEPOINT at_sp"); }

/* --- migrations ---------------------------------------------------------- */

#define S_MIGRATE_LOCK "7360201911"   /* advisory lock key: any fixed number */

static const at_sql_t SQL_MIGRATION_TABLE = {"migration_table",
  "CREATE TABLE IF NOT EXISTS schema_migration ("
  " version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())", 0};
static const at_sql_t SQL_MIGRATION_LOCK = {"migration_lock",
  "SELECT pg_advisory_lock(" S_MIGRATE_LOCK ")", 0};
static const at_sql_t SQL_MIGRATION_UNLOCK = {"migration_unlock",
  "SELECT pg_advisory_unlock(" S_MIGRATE_LOCK ")", 0};
static const at_sql_t SQL_MIGRATION_APPLIED = {"migration_applied",
  "SELECT 1 FROM schema_migration WHERE version = $1", 1};
static const at_sql_t SQL_MIGRATION_RECORD = {"migration_record",
  "INSERT INTO schema_migration (version, name) VALUES ($1, $2)", 2};

static int
s_migration_apply (at_store_t *self, const at_migration_t *m, int *applied)
{
  char version[16];
  snprintf (version, sizeof version, "%d", m->version);
  PGresult *res = NULL;
  int rc = at_store_q (self, &res, &SQL_MIGRATION_APPLIED, version);
  if (rc != AT_OK)
    return rc;
  bool done = PQntuples (res) > 0;
  PQclear (res);
  if (done)
    return AT_OK;
  if ((rc = at_store_begin (self)) != AT_OK)
    return rc;
  if ((rc = s_command (self, m->sql)) != AT_OK
      || (rc = at_store_do (self, &SQL_MIGRATION_RECORD, version, m->name)) != AT_OK
      || (rc = at_store_commit (self)) != AT_OK) {
    at_error (self->comp, "msg=\"migration failed\" migration=%s", m->name);
    at_store_rollback (self);
    return rc;
  }
  at_info (self->comp, "msg=\"migration applied\" migration=%s", m->name);
  (*applied)++;
  return AT_OK;
}

int
at_store_migrate (at_store_t *self, int *applied_out)
{
  int applied = 0;
  /* CREATE TABLE IF NOT EXISTS can still race: take the lock first */
  int rc = at_store_do (self, &SQL_MIGRATION_LOCK);
  if (rc != AT_OK)
    return rc;
  rc = at_store_do (self, &SQL_MIGRATION_TABLE);
  for (const at_migration_t *m = at_migrations; rc == AT_OK && m->sql != NULL; m++)
    rc = s_migration_apply (self, m, &applied);
  at_store_do (self, &SQL_MIGRATION_UNLOCK);
  if (applied_out)
    *applied_out = applied;
  return rc;
}
