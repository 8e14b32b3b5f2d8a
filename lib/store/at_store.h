/* at_store: the PostgreSQL connection (libpq). SQL text lives in the
 * lib/store_*.c files as named at_sql_t statements; each is prepared once
 * per connection, on first use, and always run with parameters. */
#ifndef AT_STORE_H
#define AT_STORE_H

#include <libpq-fe.h>
#include "at_common.h"

typedef struct at_store at_store_t;

/* A name starting with AT_SQL_CUSTOM ("!bus_done") marks a statement that is
 * planned for its values at every call, never prepared: for the bus table,
 * whose size swings from empty to millions faster than autoanalyze follows,
 * so that a generic plan made while it looked empty (a sequential scan) is
 * never reused on a full one. */
#define AT_SQL_CUSTOM "!"

typedef struct {
  const char *name;   /* unique across the program, e.g. "ticket_open" */
  const char *text;   /* SQL with $1..$n */
  int nparams;
} at_sql_t;

/* Connects. NULL (logged) when the server cannot be reached. */
at_store_t *at_store_new (const char *conninfo, const char *component);
void at_store_destroy (at_store_t **self_p);
PGconn *at_store_conn (at_store_t *self);

/* True when the connection is up. at_store_reconnect tries once to reset a
 * broken connection (prepared statements are prepared again on use). */
bool at_store_ok (at_store_t *self);
int at_store_reconnect (at_store_t *self);

/* Prepares sql on this connection once (a reconnect forgets it); for a
 * caller that sends it itself (PQsendQueryPrepared), with nothing in flight. */
int at_store_prepare (at_store_t *self, const at_sql_t *sql);
/* True when sql is prepared on this connection (since its last reconnect). */
bool at_store_prepared (at_store_t *self, const at_sql_t *sql);

/* Runs a named statement. values[i] NULL is SQL NULL. lengths/formats may
 * be NULL (all text). On success returns AT_OK and *res_out (caller PQclear);
 * on failure logs once, sets *res_out NULL and returns
 *   AT_CONFLICT  unique violation (23505)
 *   AT_INVALID   other data errors (class 22, 23)
 *   AT_AGAIN     connection lost, serialization failure, deadlock
 *   AT_ERROR     anything else. */
int at_store_exec (at_store_t *self, const at_sql_t *sql, const char *const *values,
                   const int *lengths, const int *formats, PGresult **res_out);
/* Text-parameter shorthand: exactly sql->nparams const char * follow. */
int at_store_q (at_store_t *self, PGresult **res_out, const at_sql_t *sql, ...);
/* As at_store_q, for statements whose result is not needed. */
int at_store_do (at_store_t *self, const at_sql_t *sql, ...);
/* Runs sql with values (text; NULL is SQL NULL) and reads the first column
 * of its first row as an id into *id_out (may be NULL): an INSERT or UPDATE
 * ... RETURNING id. AT_NOTFOUND when there is no row; else as at_store_exec. */
int at_store_id (at_store_t *self, const at_sql_t *sql, const char *const *values,
                 int64_t *id_out);

/* Transactions and savepoints (plain commands, no parameters). */
int at_store_begin (at_store_t *self);
/* BEGIN, and lock waits in this transaction end after lock_timeout_ms
 * (0: no limit) with a conflict (AT_AGAIN) instead of waiting on. */
int at_store_begin_wait (at_store_t *self, int lock_timeout_ms);
/* How many statements have lost a lock or serialization conflict on this
 * connection (deadlock 40P01, lock timeout 55P03, serialization 40001):
 * compare before and after some work to learn whether it lost one. */
uint64_t at_store_conflicts (const at_store_t *self);
int at_store_commit (at_store_t *self);
int at_store_rollback (at_store_t *self);
int at_store_savepoint (at_store_t *self);        /* SAVEPOINT at_sp */
/* Releases the current savepoint and takes a new one, in one round trip. */
int at_store_savepoint_next (at_store_t *self);
int at_store_savepoint_rollback (at_store_t *self);

/* Message of the last failure on this connection ("" if none). */
const char *at_store_last_error (at_store_t *self);

/* Applies the embedded numbered migrations (lib/store/migrations/NNN_*.sql) that
 * are not applied yet, each in its own transaction, under an advisory lock:
 * idempotent and safe when several processes run it at once.
 * *applied_out (optional) gets how many were applied now. */
int at_store_migrate (at_store_t *self, int *applied_out);

#endif
