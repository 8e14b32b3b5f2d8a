/* Retention as a scheduled message on the bus, with real PostgreSQL, a real
 * broker and two real survey workers started at once (no CLI call):
 *  - the workers start the schedule themselves (ATENDE_RETENTION_DAYS=30,
 *    a batch of 2): the texts of a ticket resolved 40 days ago (3 messages:
 *    a full batch, then the rest at once) are erased, a ticket resolved
 *    yesterday and an open one keep theirs, audit rows (actor "retention")
 *    count the 3 messages, and exactly one run is pending afterwards, the
 *    next interval's, even with two workers and a third one started later;
 *  - with ATENDE_RETENTION_DAYS=0 the pending run, once due, ends without a
 *    successor; `atende retention schedule` (twice) makes one run again,
 *    which a worker started with retention on takes up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "it.h"

#define WAIT_MS 90000
#define S_RUN "type = 'maintenance.retention'"

static PGconn *s_db;
static char s_env_db[600], s_env_bind[64], s_env_ep[64];

#define s_q(...) it_db_scalarf (s_db, __VA_ARGS__)

typedef struct {
  const char *sql;
  long long want;
} s_eq_t;

static bool
s_is (void *arg)
{
  const s_eq_t *eq = arg;
  return it_db_scalar (s_db, eq->sql) == eq->want;
}

/* Waits until sql gives exactly want. */
static void
s_wait_eq (const char *sql, long long want, const char *what)
{
  s_eq_t eq = { sql, want };
  IT_CHECK (it_wait_until (s_is, &eq, WAIT_MS), "%s: %s gave %lld, want %lld", what, sql,
            it_db_scalar (s_db, sql), want);
}

typedef struct {
  const char *path, *needle;
} s_log_t;

static bool
s_logged (void *arg)
{
  const s_log_t *l = arg;
  char buf[65536];
  FILE *f = fopen (l->path, "r");
  if (!f)
    return false;
  size_t n = fread (buf, 1, sizeof buf - 1, f);
  fclose (f);
  buf[n] = '\0';
  return strstr (buf, l->needle) != NULL;
}

/* A ticket of customer 1 with n messages "<text>-<i>", resolved `resolved`
 * ago (SQL interval; NULL: open). Returns its id. */
static long long
s_ticket (const char *resolved, const char *text, int n)
{
  long long id = resolved
    ? s_q ("INSERT INTO ticket (customer_id, channel, status, resolved_at) VALUES (1, 'email',"
           " 'resolved', now () - interval '%s') RETURNING id", resolved)
    : s_q ("INSERT INTO ticket (customer_id, channel) VALUES (1, 'email') RETURNING id");
  IT_CHECK (id > 0, "ticket");
  for (int i = 0; i < n; i++)
    IT_CHECK (s_q ("INSERT INTO ticket_message (ticket_id, direction, author, channel, body,"
                   " full_body) VALUES (%lld, 'in', 'customer', 'email', '%s-%d', '%s-%d full')"
                   " RETURNING 1", id, text, i, text, i) == 1, "message");
  return id;
}

static pid_t
s_worker (const char *name, const char *days)
{
  const char *env[] = { s_env_db, s_env_bind, s_env_ep, "ATENDE_BROKER_METRICS_PORT=0",
                        "ATENDE_SURVEY_SECRET=retention-test-survey-key-0123456789",
                        "ATENDE_RETENTION_BATCH=2", days, "ATENDE_LOG_LEVEL=debug",
                        "ATENDE_RETRY_BASE_MS=100", NULL };
  const char *args[] = { "worker", "survey", NULL };
  char log[64];
  snprintf (log, sizeof log, "%s.log", name);
  unlink (log);   /* logs are appended to: look only at this run's */
  return it_spawn_atende (name, args, env);
}

/* Two workers, a run due now, texts erased in two runs, one successor. */
static void
s_scheduled_run (long long old_id, long long new_id, long long open_id)
{
  pid_t a = s_worker ("survey-a", "ATENDE_RETENTION_DAYS=30");
  pid_t b = s_worker ("survey-b", "ATENDE_RETENTION_DAYS=30");
  char sql[512];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM ticket_message WHERE ticket_id = %lld AND"
            " body = '[erased]' AND full_body IS NULL", old_id);
  s_wait_eq (sql, 3, "the old ticket's texts erased by the scheduled runs");
  /* the run that erased the last one produced the next interval's in its transaction */
  s_wait_eq ("SELECT count(*) FROM bus_message WHERE " S_RUN
             " AND not_before > now () + interval '1 hour'", 1, "the next run, a day on");
  IT_CHECK (s_q ("SELECT count(*) FROM bus_message WHERE " S_RUN) == 1, "one schedule");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket_message WHERE ticket_id = %lld AND body LIKE"
                 " 'recente-%%'", new_id) == 1, "yesterday's ticket keeps its text");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket_message WHERE ticket_id = %lld AND body ="
                 " 'aberto-0'", open_id) == 1, "the open ticket keeps its text");
  IT_CHECK (s_q ("SELECT coalesce (sum ((detail->>'messages')::int), -1) FROM audit_log WHERE"
                 " actor = 'retention' AND action = 'retention.erase'") == 3, "audited");
  IT_CHECK (s_q ("SELECT count(*) FROM audit_log WHERE actor = 'retention' AND"
                 " (detail->>'bus_message_id') IS NOT NULL") >= 2, "a row per run");
  /* a third worker starting finds the pending run and adds none */
  pid_t c = s_worker ("survey-c", "ATENDE_RETENTION_DAYS=30");
  s_log_t l = { "survey-c.log", "retention schedule already pending" };
  IT_CHECK (it_wait_until (s_logged, &l, WAIT_MS), "survey-c did not look at the schedule");
  IT_CHECK (s_q ("SELECT count(*) FROM bus_message WHERE " S_RUN) == 1, "still one schedule");
  IT_CHECK (s_q ("SELECT count(*) FROM bus_dead WHERE " S_RUN) == 0, "no dead run");
  it_stop (c, 15, 20000);
  it_stop (b, 15, 20000);
  it_stop (a, 15, 20000);
}

/* `atende retention schedule` with retention on: exit 0. */
static void
s_schedule_cli (void)
{
  const char *env[] = { s_env_db, "ATENDE_RETENTION_DAYS=30", NULL };
  const char *args[] = { "retention", "schedule", NULL };
  int status = 0;
  pid_t pid = it_spawn_atende ("schedule", args, env);
  IT_CHECK (waitpid (pid, &status, 0) == pid && WIFEXITED (status) && WEXITSTATUS (status) == 0,
            "atende retention schedule");
}

/* Retention off: the due run ends the schedule; `atende retention schedule`
 * (twice: one run) and a worker with retention on take it up again. */
static void
s_off_then_on (void)
{
  pid_t off = s_worker ("survey-off", "ATENDE_RETENTION_DAYS=0");
  s_log_t l = { "survey-off.log", "no schedule" };
  IT_CHECK (it_wait_until (s_logged, &l, WAIT_MS), "survey-off did not start");
  IT_CHECK (s_q ("UPDATE bus_message SET not_before = now () WHERE " S_RUN " RETURNING 1") == 1,
            "make the run due");
  s_wait_eq ("SELECT count(*) FROM bus_message WHERE " S_RUN, 0, "the run ends the schedule");
  it_stop (off, 15, 20000);
  s_schedule_cli ();
  s_schedule_cli ();
  IT_CHECK (s_q ("SELECT count(*) FROM bus_message WHERE " S_RUN) == 1, "scheduled once");
  pid_t on = s_worker ("survey-on", "ATENDE_RETENTION_DAYS=30");
  s_wait_eq ("SELECT count(*) FROM bus_message WHERE " S_RUN
             " AND not_before > now () + interval '1 hour'", 1, "restarted, ran, next pending");
  IT_CHECK (s_q ("SELECT count(*) FROM bus_message WHERE " S_RUN) == 1, "one schedule again");
  it_stop (on, 15, 20000);
}

int
main (void)
{
  it_require_pg ();
  char conninfo[512];
  snprintf (conninfo, sizeof conninfo, "%s", it_db_create ("retention_bus", true));
  s_db = it_db_connect (conninfo);
  int port = it_free_port ();
  snprintf (s_env_db, sizeof s_env_db, "ATENDE_DATABASE_URL=%s", conninfo);
  snprintf (s_env_bind, sizeof s_env_bind, "ATENDE_BROKER_BIND=tcp://127.0.0.1:%d", port);
  snprintf (s_env_ep, sizeof s_env_ep, "ATENDE_BROKER_ENDPOINTS=tcp://127.0.0.1:%d", port);
  IT_CHECK (s_q ("INSERT INTO customer (id, name) VALUES (1, 'Cliente') RETURNING id") == 1,
            "customer");
  long long old_id = s_ticket ("40 days", "antigo", 3);
  long long new_id = s_ticket ("1 day", "recente", 1);
  long long open_id = s_ticket (NULL, "aberto", 1);
  IT_CHECK (s_q ("SELECT count(*) FROM bus_message WHERE " S_RUN) == 0, "no schedule yet");
  const char *env[] = { s_env_db, s_env_bind, s_env_ep, "ATENDE_BROKER_METRICS_PORT=0", NULL };
  const char *broker_args[] = { "broker", NULL };
  pid_t brk = it_spawn_atende ("broker", broker_args, env);
  s_scheduled_run (old_id, new_id, open_id);
  s_off_then_on ();
  it_stop (brk, 15, 20000);
  PQfinish (s_db);
  printf ("retention bus: ok\n");
  return 0;
}
