/* Self-service through the running pipeline (api, broker, a worker with
 * ingest, route and notify, a loopback server playing both the customers'
 * provider and the store's systems), per flow an order event in, a
 * customer's message in, and what a user would see:
 *   - return within the window (pt): one answer with the next step and the
 *     person line, one return request sent_to_store, one signed store
 *     webhook (Standard Webhooks checked, webhook-id = request id); asking
 *     again: "in progress", still one request and one webhook; the returned
 *     event confirms it;
 *   - return outside the window (en): explained in English, handed to
 *     people, no request;
 *   - cancel before shipped (es), the store answering 500 first: one
 *     request, delivered on the retry with the same webhook-id; asking twice:
 *     one request; the cancelled event confirms it and the customer is told
 *     exactly once, in Spanish, on the ticket;
 *   - cancel after shipped: the return path, no request;
 *   - payment: the boleto line and the Pix code sent again; no code: to
 *     people; a bad code at the api: 422 naming payment_code, nothing stored;
 *   - kill -9 of the worker during the store's call: one request, one
 *     answer, the store's calls all with the same webhook-id. */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "it.h"
#include "at_crypto.h"
#include "../fakes/fakes.h"
#include "../fakes/fake_http.c"

#define WAIT_MS 30000
#define S_KEY "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define S_SECRET "whsec_" S_KEY
#define S_BOLETO "23790.12345 60000.123456 78901.234567 8 12340000012345"
#define S_PIX "00020126580014br.gov.bcb.pix0136123e4567-e12d-34d5-a678-426614174000" \
              "5204000053039865802BR5913LOJA EXEMPLO6009SAO PAULO62070503***6304ABCD"

static it_stack_t s_st;
static PGconn *s_db;
static fake_http_t *s_fake;

#define s_q(...) it_db_scalarf (s_db, __VA_ARGS__)

/* "YYYY-MM-DDTHH:MM:SSZ" or "YYYY-MM-DD" of now + days, UTC. */
static void
s_date (int days, bool with_time, char *out, size_t cap)
{
  time_t t = time (NULL) + (time_t) days * 86400;
  struct tm tm;
  gmtime_r (&t, &tm);
  strftime (out, cap, with_time ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d", &tm);
}

/* POSTs an order event; extra is more JSON members (",\"k\":v" or ""). */
static long
s_event_status (const char *order, const char *status, int days, const char *channel,
                const char *handle, const char *extra, char **resp)
{
  char url[256], at[40], body[1024];
  s_date (days, true, at, sizeof at);
  snprintf (url, sizeof url, "%s/v1/orders/%s/events", s_st.api, order);
  snprintf (body, sizeof body, "{\"status\":\"%s\",\"event_id\":\"%s-%s\",\"occurred_at\":\"%s\","
            "\"customer\":{\"channel\":\"%s\",\"handle\":\"%s\",\"name\":\"Cliente Teste\"}%s}",
            status, order, status, at, channel, handle, extra);
  return it_http ("POST", url, "application/json", body, resp);
}

static void
s_event (const char *order, const char *status, int days, const char *channel,
         const char *handle, const char *extra)
{
  char *resp = NULL;
  long st = s_event_status (order, status, days, channel, handle, extra, &resp);
  IT_CHECK (st == 202, "order event %s %s: %ld %s", order, status, st, resp ? resp : "");
  free (resp);
  char sql[256];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM order_event WHERE order_id = '%s'"
            " AND event_id = '%s-%s'", order, order, status);
  IT_CHECK (it_wait_scalar (s_db, sql, 1, WAIT_MS) == 1, "event %s %s not applied", order,
            status);
}

/* Nothing due left on the bus: every stage has done what it could. */
static void
s_settle (void)
{
  long long have = it_wait_scalar (s_db, "SELECT (count(*) = 0)::int FROM bus_message"
                                         " WHERE not_before <= now()", 1, WAIT_MS);
  IT_CHECK (have == 1, "the bus did not settle");
}

/* Sends a customer's message and waits until everything it caused is done;
 * returns its ticket. */
static long long
s_say (const char *channel, const char *handle, const char *text, const char *pid)
{
  it_message_send (s_st.api, s_db, channel, handle, "Cliente Teste", text, pid, WAIT_MS);
  s_settle ();
  return s_q ("SELECT ticket_id FROM ticket_message WHERE provider_message_id = '%s'", pid);
}

/* The latest answer on a ticket (malloc'd). */
static char *
s_answer (long long ticket)
{
  char sql[256];
  snprintf (sql, sizeof sql, "SELECT body FROM notification WHERE ticket_id = %lld"
            " ORDER BY created_at DESC LIMIT 1", ticket);
  char *body = it_db_text (s_db, sql);
  IT_CHECK (body != NULL, "no answer on ticket %lld", ticket);
  return body;
}

static void
s_answer_has (long long ticket, const char *a, const char *b)
{
  char *body = s_answer (ticket);
  IT_CHECK (strstr (body, a) && (!b || strstr (body, b)), "ticket %lld answer lacks \"%s\"%s%s:"
            " %s", ticket, a, b ? " or " : "", b ? b : "", body);
  free (body);
}

static int
s_store_calls (void)
{
  int n = 0;
  fake_request_t r;
  for (int i = 0; fake_http_get (s_fake, i, &r); i++)
    n += strstr (r.path, "/store") != NULL;
  return n;
}

/* The k-th call to the store's webhook, its Standard Webhooks signature
 * checked: v1 = base64 HMAC-SHA256 of "<webhook-id>.<timestamp>.<body>" with
 * the secret's key; the fake does not keep webhook-timestamp, so the
 * seconds around the arrival are tried. */
static void
s_store_call (int k, fake_request_t *out)
{
  fake_request_t r;
  int seen = -1;
  for (int i = 0; fake_http_get (s_fake, i, &r); i++)
    if (strstr (r.path, "/store") && ++seen == k)
      break;
  IT_CHECK (seen == k, "no store call %d", k);
  uint8_t key[64], mac[32];
  int key_len = at_base64_decode (S_KEY, strlen (S_KEY), key, sizeof key);
  IT_CHECK (key_len > 0, "secret decodes");
  bool ok = false;
  long long arrived = r.at_us / 1000000;
  for (long long ts = arrived - 30; !ok && ts <= arrived + 2; ts++) {
    char signed_text[FAKE_BODY_MAX + 200], want[64];
    int n = snprintf (signed_text, sizeof signed_text, "%s.%lld.%.*s", r.webhook_id, ts,
                      (int) r.body_len, r.body);
    at_hmac_sha256 (key, (size_t) key_len, signed_text, (size_t) n, mac);
    at_base64_encode (mac, sizeof mac, want, sizeof want);
    ok = strncmp (r.webhook_signature, "v1,", 3) == 0
         && strcmp (r.webhook_signature + 3, want) == 0;
  }
  IT_CHECK (ok, "store webhook signature does not verify: %s", r.webhook_signature);
  *out = r;
}

/* The store call k is about request id, of kind, for order. */
static void
s_store_call_is (int k, const char *id, const char *kind, const char *order)
{
  fake_request_t r;
  s_store_call (k, &r);
  json_t *doc = json_loadb (r.body, r.body_len, 0, NULL);
  IT_CHECK (doc, "store body is JSON: %s", r.body);
  IT_CHECK (strcmp (r.webhook_id, id) == 0 && strcmp (r.idempotency_key, id) == 0,
            "webhook-id %s, Idempotency-Key %s, want %s", r.webhook_id, r.idempotency_key, id);
  const char *got_kind = json_string_value (json_object_get (doc, "kind"));
  const char *got_order = json_string_value (json_object_get (doc, "order_id"));
  const char *got_id = json_string_value (json_object_get (doc, "id"));
  const char *got_type = json_string_value (json_object_get (doc, "type"));
  IT_CHECK (got_type && strcmp (got_type, "store.request") == 0, "store body type: %s", r.body);
  IT_CHECK (got_kind && strcmp (got_kind, kind) == 0 && got_order
              && strcmp (got_order, order) == 0 && got_id && strcmp (got_id, id) == 0,
            "store body: %s", r.body);
  json_decref (doc);
}

static char *
s_request_id (const char *order, const char *kind)
{
  char sql[256];
  snprintf (sql, sizeof sql, "SELECT id::text FROM selfservice_request WHERE order_id = '%s'"
            " AND kind = '%s' ORDER BY created_at LIMIT 1", order, kind);
  char *id = it_db_text (s_db, sql);
  IT_CHECK (id != NULL, "no %s request for %s", kind, order);
  return id;
}

static void
s_return_in_window (void)
{
  const char *wa = "+5511911110001";
  s_event ("R-1", "placed", -6, "whatsapp", wa, "");
  s_event ("R-1", "delivered", -2, "whatsapp", wa, "");
  long long t = s_say ("whatsapp", wa, "quero devolver o produto", "wa-r1");
  IT_CHECK (s_q ("SELECT count(*) FROM selfservice_request WHERE order_id = 'R-1' AND kind ="
                 " 'return' AND state = 'sent_to_store' AND ticket_id = %lld", t) == 1,
            "one return request sent to the store");
  IT_CHECK (s_q ("SELECT count(*) FROM notification WHERE ticket_id = %lld"
                 " AND kind = 'auto_reply'", t) == 1, "one answer");
  s_answer_has (t, "devolução do pedido R-1", "responda \"atendente\"");
  IT_CHECK (s_store_calls () == 1, "one store webhook");
  char *id = s_request_id ("R-1", "return");
  s_store_call_is (0, id, "return_request", "R-1");
  /* asking again: in progress, nothing new for the store */
  s_say ("whatsapp", wa, "oi, quero devolver o produto que chegou", "wa-r2");
  IT_CHECK (s_q ("SELECT count(*) FROM selfservice_request WHERE order_id = 'R-1'") == 1,
            "still one request");
  s_answer_has (t, "já está em andamento", "atendente");
  IT_CHECK (s_store_calls () == 1, "still one store webhook");
  s_event ("R-1", "returned", 0, "whatsapp", wa, "");
  s_settle ();
  IT_CHECK (s_q ("SELECT count(*) FROM selfservice_request WHERE id = '%s'"
                 " AND state = 'confirmed'", id) == 1, "returned confirms the return");
  free (id);
}

static void
s_return_outside_window (void)
{
  const char *mail = "late.buyer@example.com";
  s_event ("R-2", "placed", -30, "email", mail, "");
  s_event ("R-2", "delivered", -20, "email", mail, "");
  long long t = s_say ("email", mail, "I want to return the item", "em-r2");
  s_answer_has (t, "has ended", "our team");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket WHERE id = %lld AND handoff_reason ="
                 " 'return_outside_window' AND status = 'open'", t) == 1, "to people");
  IT_CHECK (s_q ("SELECT count(*) FROM selfservice_request WHERE order_id = 'R-2'") == 0,
            "no request");
  IT_CHECK (s_store_calls () == 1, "no store webhook");
}

static void
s_cancel_before_shipped (void)
{
  const char *wa = "+5491122223333";
  s_event ("C-1", "placed", -1, "whatsapp", wa, "");
  fake_http_script (s_fake, "/store", 500, NULL, 0, 1);
  long long t = s_say ("whatsapp", wa, "quiero cancelar mi pedido", "wa-c1");
  IT_CHECK (it_wait_scalar (s_db, "SELECT count(*) FROM selfservice_request WHERE order_id ="
                            " 'C-1' AND state = 'sent_to_store' AND attempts = 2", 1, WAIT_MS)
              == 1, "cancel request sent on the second attempt");
  s_answer_has (t, "cancelación del pedido C-1", "responde \"agente\"");
  char *id = s_request_id ("C-1", "cancel");
  IT_CHECK (s_store_calls () == 3, "500 then 200 (with the return's call before)");
  s_store_call_is (1, id, "cancel_request", "C-1");
  s_store_call_is (2, id, "cancel_request", "C-1");
  s_say ("whatsapp", wa, "quiero cancelar mi pedido por favor", "wa-c2");
  s_answer_has (t, "ya fue solicitada", "agente");
  IT_CHECK (s_q ("SELECT count(*) FROM selfservice_request WHERE order_id = 'C-1'") == 1,
            "one cancel request");
  IT_CHECK (s_store_calls () == 3, "no new store call");
  s_event ("C-1", "cancelled", 0, "whatsapp", wa, "");
  s_settle ();
  IT_CHECK (s_q ("SELECT count(*) FROM selfservice_request WHERE id = '%s'"
                 " AND state = 'confirmed'", id) == 1, "cancelled confirms the cancel");
  IT_CHECK (s_q ("SELECT count(*) FROM notification n JOIN ticket t ON t.customer_id ="
                 " n.customer_id WHERE t.id = %lld AND n.body ILIKE '%%cancela%%'"
                 " AND n.created_at >= (SELECT received_at FROM order_event WHERE event_id ="
                 " 'C-1-cancelled')", t) == 1, "told once that it is cancelled");
  s_answer_has (t, "fue confirmada", "agente");
  IT_CHECK (s_q ("SELECT count(*) FROM notification WHERE ticket_id = %lld AND status ="
                 " 'delivered'", t) == 3, "the three answers delivered");
  free (id);
}

static void
s_cancel_after_shipped (void)
{
  const char *wa = "+5511911110004";
  s_event ("S-1", "placed", -3, "whatsapp", wa, "");
  s_event ("S-1", "shipped", -1, "whatsapp", wa, "");
  long long t = s_say ("whatsapp", wa, "quero cancelar meu pedido", "wa-s1");
  s_answer_has (t, "já foi enviado", "quero devolver");
  s_answer_has (t, "atendente", NULL);
  IT_CHECK (s_q ("SELECT count(*) FROM selfservice_request WHERE order_id = 'S-1'") == 0,
            "no request");
  IT_CHECK (s_store_calls () == 3, "no store call");
}

static void
s_payment (void)
{
  char due[16], extra[512];
  s_date (3, false, due, sizeof due);
  const char *wa = "+5511911110005", *wa2 = "+5511911110006";
  snprintf (extra, sizeof extra, ",\"payment_method\":\"boleto\",\"payment_code\":\"%s\","
            "\"payment_due\":\"%s\"", S_BOLETO, due);
  s_event ("P-1", "placed", 0, "whatsapp", wa, extra);
  long long t = s_say ("whatsapp", wa, "preciso da segunda via do boleto", "wa-p1");
  s_answer_has (t, "segunda via do boleto do pedido P-1", "\n\n" S_BOLETO "\n\nSe preferir");
  IT_CHECK (s_q ("SELECT count(*) FROM selfservice_request WHERE order_id = 'P-1' AND state ="
                 " 'answered'") == 1, "payment request recorded");
  snprintf (extra, sizeof extra, ",\"payment_method\":\"pix\",\"payment_code\":\"%s\"", S_PIX);
  s_event ("P-2", "placed", 0, "email", "pix.buyer@example.com", extra);
  t = s_say ("email", "pix.buyer@example.com", "I need the pix code again to pay", "em-p2");
  s_answer_has (t, "Pix code for order P-2", S_PIX);
  s_answer_has (t, "reply \"agent\"", NULL);
  s_event ("P-3", "placed", 0, "whatsapp", wa2, "");
  t = s_say ("whatsapp", wa2, "preciso da segunda via do boleto", "wa-p3");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket WHERE id = %lld AND handoff_reason ="
                 " 'payment_no_code'", t) == 1, "no code: to people");
  IT_CHECK (s_q ("SELECT count(*) FROM notification WHERE ticket_id = %lld", t) == 0,
            "nothing said without a code");
  /* a bad code is refused at the door, naming the field, nothing stored */
  long long before = s_q ("SELECT count(*) FROM order_event");
  char *resp = NULL;
  long st = s_event_status ("P-4", "placed", 0, "whatsapp", wa2, ",\"payment_method\":\"pix\","
                            "\"payment_code\":\"not a pix code\"", &resp);
  IT_CHECK (st == 422 && resp && strstr (resp, "payment_code"), "422 naming payment_code: %ld"
            " %s", st, resp ? resp : "");
  free (resp);
  resp = NULL;
  st = s_event_status ("P-4", "placed", 0, "whatsapp", wa2, ",\"payment_code\":\"" S_BOLETO
                       "\"", &resp);
  IT_CHECK (st == 422 && resp && strstr (resp, "payment_method"), "422 naming payment_method:"
            " %ld %s", st, resp ? resp : "");
  free (resp);
  s_settle ();
  IT_CHECK (s_q ("SELECT count(*) FROM order_event") == before
              && s_q ("SELECT count(*) FROM orders WHERE id = 'P-4'") == 0, "nothing stored");
}

/* kill -9 of the worker while the store's webhook is being called: after
 * a new worker takes over, one request, one answer, and every call the
 * store got carries the same webhook-id (at least once, de-duplicable). */
static void
s_crash (it_stack_pids_t *pids)
{
  const char *wa = "+5511911110007";
  s_event ("K-1", "placed", 0, "whatsapp", wa, "");
  int before = s_store_calls ();
  fake_http_script (s_fake, "/store", 200, NULL, 5000, 1);
  it_message_send (s_st.api, s_db, "whatsapp", wa, "Cliente Teste", "quero cancelar meu pedido",
                   "wa-k1", WAIT_MS);
  IT_CHECK (it_wait_scalar (s_db, "SELECT count(*) FROM selfservice_request WHERE order_id ="
                            " 'K-1' AND attempts = 1", 1, WAIT_MS) == 1, "call under way");
  IT_CHECK (it_stop (pids->workers, SIGKILL, 1000) >= 0, "worker killed");
  static const char *args[] = {"worker", "ingest,route,notify", NULL};
  pids->workers = it_stack_spawn (&s_st, "workers2", args);
  IT_CHECK (it_wait_scalar (s_db, "SELECT count(*) FROM selfservice_request WHERE order_id ="
                            " 'K-1' AND state = 'sent_to_store'", 1, WAIT_MS) == 1,
            "sent by the new worker");
  s_settle ();
  long long t = s_q ("SELECT ticket_id FROM ticket_message WHERE provider_message_id = 'wa-k1'");
  IT_CHECK (s_q ("SELECT count(*) FROM selfservice_request WHERE order_id = 'K-1'") == 1,
            "one request");
  IT_CHECK (s_q ("SELECT count(*) FROM notification WHERE ticket_id = %lld", t) == 1,
            "one answer");
  char *id = s_request_id ("K-1", "cancel");
  int calls = s_store_calls () - before;
  IT_CHECK (calls >= 1, "the store was called");
  for (int k = 0; k < calls; k++)
    s_store_call_is (before + k, id, "cancel_request", "K-1");
  free (id);
}

int
main (void)
{
  it_require_pg ();
  int port = it_free_port ();
  s_fake = fake_http_start (port);
  IT_CHECK (s_fake, "fake server");
  static char hook[128], store[128];
  snprintf (hook, sizeof hook, "ATENDE_WEBHOOK_URL=http://127.0.0.1:%d/hooks", port);
  snprintf (store, sizeof store, "ATENDE_STORE_WEBHOOK_URL=http://127.0.0.1:%d/store", port);
  const char *extra[] = {hook, store, "ATENDE_WEBHOOK_SECRET=" S_SECRET,
                         "ATENDE_STORE_WEBHOOK_SECRET=" S_SECRET, "ATENDE_RETRY_BASE_MS=50",
                         "ATENDE_TEMPLATE_CACHE_MS=0", "ATENDE_LOG_LEVEL=debug",
                         "ATENDE_BROKER_SWEEP_MS=100", "ATENDE_DEFAULT_LOCALE=pt-BR",
                         "ATENDE_STORE_TIMEZONE=America/Sao_Paulo", "ATENDE_HEARTBEAT_MS=200",
                         NULL};
  it_stack_init (&s_st, "selfservice_flow", extra);
  s_db = it_db_connect (s_st.conninfo);
  it_stack_pids_t pids = it_stack_start (&s_st, "ingest,route,notify", WAIT_MS);
  s_return_in_window ();
  s_return_outside_window ();
  s_cancel_before_shipped ();
  s_cancel_after_shipped ();
  s_payment ();
  IT_CHECK (s_q ("SELECT count(*) FROM bus_dead") == 0, "no dead letters");
  IT_CHECK (fake_http_accepted_twice (s_fake) == 0, "nothing accepted twice");
  s_crash (&pids);
  IT_CHECK (s_q ("SELECT count(*) FROM bus_dead") == 0, "no dead letters after the crash");
  it_stack_stop (&pids);
  PQfinish (s_db);
  fake_http_stop (&s_fake);
  printf ("selfservice flows: ok\n");
  return 0;
}
