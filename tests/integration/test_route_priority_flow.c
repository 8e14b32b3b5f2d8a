/* Priority from what is said, through the running pipeline (api, broker,
 * ingest, route): a threat to go to Procon in an angry tone, repeat contacts
 * about an order that has not moved, a complaint, and a calm question; each
 * ticket's priority and its reasons as GET /v1/tickets/{id} shows them. A
 * customer asking for a person is handed to people with the reason. The
 * intent model: route refuses to start without a valid one, and on SIGHUP
 * reads its file again, keeping the model in use when the new file is bad. */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "it.h"
#include "at_common.h"
#include "at_intent.h"

#define WAIT_MS 60000

static char s_api[64];
static PGconn *s_db;

#define s_q(...) it_db_scalarf (s_db, __VA_ARGS__)

/* The ticket of a handle's identity (its latest). */
static long long
s_ticket_of (const char *handle)
{
  return s_q ("SELECT t.id FROM ticket t JOIN identity i ON i.customer_id = t.customer_id"
              " WHERE i.value = '%s' ORDER BY t.id DESC LIMIT 1", handle);
}

/* Waits until route classified every message of the ticket so far. */
static void
s_wait_routed (long long ticket, int messages)
{
  IT_CHECK (it_wait_scalar (s_db, "SELECT CASE WHEN count(*) = 0 THEN 1 ELSE 0 END"
                            " FROM bus_message WHERE stage = 'route' AND " IT_BUS_PENDING, 1,
                            WAIT_MS) == 1,
            "route did not drain");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket_message WHERE ticket_id = %lld AND direction = 'in'",
                 ticket) == messages, "ticket %lld: %d messages", ticket, messages);
  IT_CHECK (s_q ("SELECT count(*) FROM ticket WHERE id = %lld AND priority IS NOT NULL", ticket)
            == 1, "ticket %lld classified", ticket);
}

/* GET /v1/tickets/{id}: priority and its reasons as a comma list. */
static void
s_expect (long long ticket, const char *priority, const char *reasons)
{
  char url[128], *body = NULL, got[128] = "";
  snprintf (url, sizeof url, "%s/v1/tickets/%lld", s_api, ticket);
  IT_CHECK (it_http ("GET", url, NULL, NULL, &body) == 200, "GET ticket %lld", ticket);
  json_t *doc = json_loads (body, 0, NULL);
  IT_CHECK (doc != NULL, "ticket json: %s", body);
  json_t *a = json_object_get (doc, "priority_reasons"), *v;
  size_t i;
  json_array_foreach (a, i, v) {
    size_t used = strlen (got);
    snprintf (got + used, sizeof got - used, "%s%s", used ? "," : "", json_string_value (v));
  }
  const char *p = json_string_value (json_object_get (doc, "priority"));
  IT_CHECK (p && strcmp (p, priority) == 0 && strcmp (got, reasons) == 0,
            "ticket %lld: priority %s reasons [%s], want %s [%s]", ticket, p ? p : "null", got,
            priority, reasons);
  json_decref (doc);
  free (body);
}

static void
s_send (const char *handle, const char *text, const char *provider_id)
{
  it_message_send (s_api, s_db, "whatsapp", handle, "Cliente", text, provider_id, WAIT_MS);
}

static void
s_agency_and_tone (void)
{
  s_send ("5511900000001", "Que absurdo!!! Vou no Procon se não resolverem hoje", "p-1");
  long long t = s_ticket_of ("5511900000001");
  s_wait_routed (t, 1);
  s_expect (t, "high", "agency,complaint,negative_tone");
}

/* Three messages since the order last moved: the third raises priority. */
static void
s_repeat_contacts (void)
{
  s_send ("5511900000002", "Oi, bom dia", "r-1");
  long long t = s_ticket_of ("5511900000002");
  s_wait_routed (t, 1);
  s_expect (t, "normal", "");
  IT_CHECK (s_q ("INSERT INTO orders (id, customer_id, status, status_rank, status_at)"
                 " SELECT 'PRIO-1', customer_id, 'shipped', 3, now() - interval '1 hour'"
                 " FROM ticket WHERE id = %lld RETURNING 1", t) == 1, "order");
  s_send ("5511900000002", "cadê meu pedido?", "r-2");
  s_wait_routed (t, 2);
  s_expect (t, "normal", "");
  s_send ("5511900000002", "e aí, cadê meu pedido", "r-3");
  s_wait_routed (t, 3);
  s_expect (t, "high", "repeat_contact");
}

static void
s_calm_and_person (void)
{
  s_send ("5511900000003", "Vocês têm esse vestido no tamanho M?", "c-1");
  long long t = s_ticket_of ("5511900000003");
  s_wait_routed (t, 1);
  s_expect (t, "normal", "");
  s_send ("5511900000003", "Quero falar com um atendente", "c-2");
  IT_CHECK (it_wait_scalar (s_db, "SELECT count(*) FROM ticket WHERE handoff_reason ="
                            " 'asked_for_person' AND status = 'open'", 1, WAIT_MS) == 1,
            "handed to people");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket_message WHERE ticket_id = %lld AND direction ="
                 " 'out'", t) == s_q ("SELECT count(*) FROM ticket_message WHERE ticket_id ="
                                     " %lld AND direction = 'out' AND created_at < (SELECT"
                                     " handoff_at FROM ticket WHERE id = %lld)", t, t),
            "nothing said after the handoff");
}

/* Copies the committed model to path (or writes garbage when bad). */
static void
s_model_file (const char *path, bool bad)
{
  FILE *out = fopen (path, "wb");
  IT_CHECK (out != NULL, "%s", path);
  if (bad)
    fputs ("ATINTENT but not a model at all\n", out);
  else {
    FILE *in = fopen (AT_INTENT_MODEL_DEFAULT, "rb");
    IT_CHECK (in != NULL, "%s", AT_INTENT_MODEL_DEFAULT);
    char buf[65536];
    size_t n;
    while ((n = fread (buf, 1, sizeof buf, in)) > 0)
      IT_CHECK (fwrite (buf, 1, n, out) == n, "copy");
    fclose (in);
  }
  IT_CHECK (fclose (out) == 0, "%s", path);
}

/* How many lines of a log hold needle. */
static int
s_log_count (const char *log, const char *needle)
{
  FILE *f = fopen (log, "r");
  char line[4096];
  int n = 0;
  while (f && fgets (line, sizeof line, f))
    n += strstr (line, needle) != NULL;
  if (f)
    fclose (f);
  return n;
}

static bool
s_hup_seen (void *arg)
{
  return s_log_count ("workers.log", "reload asked (SIGHUP)") > *(int *) arg;
}

/* A message classified after the SIGHUP (once the worker said it saw it)
 * makes route read the file. */
static void
s_sighup (pid_t workers, const char *handle, const char *pid)
{
  int before = s_log_count ("workers.log", "reload asked (SIGHUP)");
  IT_CHECK (kill (workers, SIGHUP) == 0, "SIGHUP");
  IT_CHECK (it_wait_until (s_hup_seen, &before, WAIT_MS), "the worker did not see the SIGHUP");
  s_send (handle, "cadê meu pedido?", pid);
  long long t = s_ticket_of (handle);
  IT_CHECK (it_wait_scalar (s_db, "SELECT CASE WHEN count(*) = 0 THEN 1 ELSE 0 END"
                            " FROM bus_message WHERE stage = 'route' AND " IT_BUS_PENDING, 1,
                            WAIT_MS) == 1,
            "route did not drain");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket WHERE id = %lld AND intent = 'order_status'", t)
            == 1, "classified by the model in use");
}

/* Logs are appended to across runs of the test: counts are compared with
 * the ones before. */
static void
s_model_reload (pid_t workers)
{
  const char *kept = "intent model reload failed, the previous one stays";
  const char *loaded = "msg=\"intent model loaded\"";
  int kept_before = s_log_count ("workers.log", kept);
  s_model_file ("model.bin", true);
  s_sighup (workers, "5511900000004", "m-1");
  IT_CHECK (s_log_count ("workers.log", kept) == kept_before + 1,
            "a bad file keeps the model (workers.log)");
  int loaded_before = s_log_count ("workers.log", loaded);
  s_model_file ("model.bin", false);
  s_sighup (workers, "5511900000005", "m-2");
  IT_CHECK (s_log_count ("workers.log", loaded) == loaded_before + 1,
            "loaded again (workers.log)");
  s_model_file ("broken.bin", true);
  const char *refused = "route cannot start: ATENDE_INTENT_MODEL=broken.bin";
  int refused_before = s_log_count ("route_bad_model.log", refused);
  it_stack_t bad;
  it_stack_init (&bad, "route_priority_bad_model",
                 (const char *[]) {"ATENDE_INTENT_MODEL=broken.bin", NULL});
  pid_t route = it_stack_spawn (&bad, "route_bad_model",
                                (const char *[]) {"worker", "route", NULL});
  int status = it_stop (route, 0, 30000);
  IT_CHECK (WIFEXITED (status) && WEXITSTATUS (status) != 0, "route started with a bad model: %d",
            status);
  IT_CHECK (s_log_count ("route_bad_model.log", refused) == refused_before + 1,
            "the reason on stderr");
}

int
main (void)
{
  it_require_pg ();
  it_stack_t st;
  s_model_file ("model.bin", false);
  it_stack_init (&st, "route_priority_flow", (const char *[]) {"ATENDE_LOG_LEVEL=info",
                                                               "ATENDE_INTENT_MODEL=model.bin",
                                                               NULL});
  at_strlcpy (s_api, st.api, sizeof s_api);
  s_db = it_db_connect (st.conninfo);
  it_stack_pids_t pids = it_stack_start (&st, "ingest,route", WAIT_MS);
  s_agency_and_tone ();
  s_repeat_contacts ();
  s_calm_and_person ();
  s_model_reload (pids.workers);
  it_stack_stop (&pids);
  PQfinish (s_db);
  printf ("route priority flow: ok\n");
  return 0;
}
