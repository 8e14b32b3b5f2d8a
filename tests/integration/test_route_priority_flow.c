/* Priority from what is said, through the running pipeline (api, broker,
 * ingest, route): a threat to go to Procon in an angry tone, repeat contacts
 * about an order that has not moved, a complaint, and a calm question; each
 * ticket's priority and its reasons as GET /v1/tickets/{id} shows them. A
 * customer asking for a person is handed to people with the reason. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it.h"
#include "at_common.h"

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
                            " FROM bus_message WHERE stage = 'route'", 1, WAIT_MS) == 1,
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

int
main (void)
{
  it_require_pg ();
  it_stack_t st;
  it_stack_init (&st, "route_priority_flow", (const char *[]) {"ATENDE_LOG_LEVEL=info", NULL});
  at_strlcpy (s_api, st.api, sizeof s_api);
  s_db = it_db_connect (st.conninfo);
  it_stack_pids_t pids = it_stack_start (&st, "ingest,route", WAIT_MS);
  s_agency_and_tone ();
  s_repeat_contacts ();
  s_calm_and_person ();
  it_stack_stop (&pids);
  PQfinish (s_db);
  printf ("route priority flow: ok\n");
  return 0;
}
