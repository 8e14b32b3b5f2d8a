/* it: support for integration tests. Tests are plain C programs that exit 0
 * on success; they get from ctest:
 *   ATENDE_TEST_PG   conninfo of the test cluster's maintenance db (started
 *                    by the ctest fixture, see tests/pg.sh)
 *   ATENDE_BIN       path of the atende binary
 * Each test creates its own database, so tests may run in parallel. */
#ifndef IT_H
#define IT_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include <libpq-fe.h>

/* Skips the test (exit 77, which ctest reports as skipped) when the fixture
 * is absent. Then makes stdout line-buffered and starts the watchdog: a test
 * still running after 240 s (ATENDE_TEST_WATCHDOG_S) prints every thread's
 * stack and fails, before ctest's 300 s timeout would kill it silently. */
void it_require_pg (void);
/* Drops and creates database `name` and returns its conninfo (static buffer
 * per call; copy it). Runs `atende migrate` on it when migrate is true, and
 * then creates an admin-scoped API key there for it_http (it_api_key). */
const char *it_db_create (const char *name, bool migrate);
/* Connects or fails the test. */
PGconn *it_db_connect (const char *conninfo);
/* First column of the first row of a query as integer (-1 if no row). */
long long it_db_scalar (PGconn *conn, const char *sql);
/* A bus_message row that is work: due now, or waiting for a retry. A timer
 * a stage set for later on its first attempt (an SLA check, a knowledge-base
 * follow-up, a reply check) is not: "drained" means none of these left. The
 * same rule the broker's sweep applies to a key's head. */
#define IT_BUS_PENDING "(not_before <= now () OR attempt > 1)"
/* it_db_scalar of a printf-formatted query (at most 2 KiB). */
long long it_db_scalarf (PGconn *conn, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* A free TCP port on 127.0.0.1. */
int it_free_port (void);
/* Spawns `atende <args...>` (NULL-terminated) with extra env strings
 * ("K=V", NULL-terminated), logging to <name>.log in the cwd. */
pid_t it_spawn_atende (const char *name, const char *const *args, const char *const *env);
/* What most api tests start: a broker and an api on fresh ports over a
 * fresh database of their own, in an environment for it_spawn_atende. */
typedef struct {
  char conninfo[512];
  char api[64];                /* "http://127.0.0.1:<port>" */
  const char *env[32];         /* NULL-terminated */
  char text_[5][640];          /* the env's own strings */
} it_stack_t;
/* Creates database db_name (migrated) and fills the env: the database, the
 * broker's bind and endpoint, the api's loopback address and port, no
 * broker metrics port, then extra ("K=V", NULL-terminated, may be NULL). */
void it_stack_init (it_stack_t *st, const char *db_name, const char *const *extra);
/* Spawns `atende <args>` (NULL-terminated) in the stack's environment,
 * logging to <name>.log. */
pid_t it_stack_spawn (const it_stack_t *st, const char *name, const char *const *args);
/* Waits up to timeout_ms for the api's /healthz to answer 200. */
bool it_stack_api_up (const it_stack_t *st, int timeout_ms);
/* The processes of a started stack. */
typedef struct {
  pid_t broker, api, workers;   /* workers 0 when none */
} it_stack_pids_t;
/* Spawns the broker, the api and `atende worker <stages>` (NULL: no worker),
 * logging to broker.log, api.log and workers.log, and fails the test unless
 * the api answers /healthz within timeout_ms. */
it_stack_pids_t it_stack_start (const it_stack_t *st, const char *stages, int timeout_ms);
/* SIGTERM to the workers, the api, then the broker (10 s each before
 * SIGKILL); returns the api's waitpid status. */
int it_stack_stop (it_stack_pids_t *pids);
/* Polls cond(arg) every 20 ms until true or timeout_ms passes. */
bool it_wait_until (bool (*cond) (void *arg), void *arg, int timeout_ms);
/* Polls until `sql` returns a scalar >= want, or timeout; returns last value. */
long long it_wait_scalar (PGconn *conn, const char *sql, long long want, int timeout_ms);
/* POSTs a message to <api>/v1/messages with the test's admin key (it must
 * answer 202) and waits up to timeout_ms until ingest recorded it as a
 * ticket_message with that provider_message_id. */
void it_message_send (const char *api, PGconn *db, const char *channel, const char *handle,
                      const char *name, const char *text, const char *provider_id,
                      int timeout_ms);
/* HTTP over loopback with libcurl; returns the status (or -1) and the body
 * in *body_out (malloc'd, may be NULL). Sends the test key (it_api_key) as
 * Authorization: Bearer when there is one. */
long it_http (const char *method, const char *url, const char *content_type,
              const char *body, char **body_out);
/* it_http with extra request headers ("Name: value", NULL-terminated, may
 * be NULL), the test key only when auth, and the answer's header lines in
 * *headers_out (malloc'd, may be NULL). */
long it_http_ex (const char *method, const char *url, const char *content_type, const char *body,
                 const char *const *headers, bool auth, char **body_out, char **headers_out);
/* it_http of api + path with a JSON body (NULL: none) that must answer want
 * (else the test fails, naming the answer); the answer's JSON (an empty
 * object when it has none; the caller decrefs). */
json_t *it_api_call (const char *api, const char *method, const char *path, const char *body,
                     long want);
/* The admin-scoped API key that it_db_create (migrate) made in the last
 * database it migrated ("" before), and "Authorization: Bearer <it>" for
 * tests that build their own requests. */
const char *it_api_key (void);
/* Makes a person (POST /v1/users with the test key: email, role, password)
 * and signs them in: "Cookie: atende_session=..." into who[0] and
 * "X-CSRF-Token: ..." into who[1], request headers for it_http_ex. */
void it_sign_in (const char *api, const char *email, const char *role, const char *password,
                 char who[2][256]);
const char *it_auth_header (void);
/* Fails the test with a message (exit 1). */
#define IT_CHECK(cond, ...) do { if (!(cond)) { it_fail (__FILE__, __LINE__, #cond, __VA_ARGS__); } } while (0)
void it_fail (const char *file, int line, const char *expr, const char *fmt, ...)
    __attribute__ ((noreturn, format (printf, 4, 5)));
/* Added by the harness (extensions, nothing above changed): */
/* Text of the first column of the first row (malloc'd) or NULL if no row. */
char *it_db_text (PGconn *conn, const char *sql);
/* Stops a child started by it_spawn_atende (sig, then SIGKILL after
 * timeout_ms) and forgets it; returns the waitpid status or -1. */
int it_stop (pid_t pid, int sig, int timeout_ms);
#endif
