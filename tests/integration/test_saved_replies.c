/* Saved replies through the real api over HTTP (PostgreSQL; ingest and
 * notify running for a customer, a ticket and an order), as the inbox and a
 * lead use them:
 *   - POST, GET, PUT, DELETE with the answers a user sees (201, 200, 204,
 *     404), each change with one audit row;
 *   - bad input: a 400 or 422 naming the field (title, locale, intent,
 *     body: an unknown {placeholder}, an unclosed brace) or a 409 for a
 *     title the locale has already, and nothing written;
 *   - who may: an agent reads and cannot write (403), a lead writes;
 *   - the list: a locale's replies, those for the asked intent first, then
 *     those for any intent, then the others;
 *   - with ticket=: each reply's text filled with the customer's first name
 *     and their latest order (id, tracking link, expected date the locale's
 *     way); an unknown ticket 404. */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "it.h"

#define WAIT_MS 60000
#define S_PASSWORD "correct horse battery staple"

static it_stack_t s_st;
static PGconn *s_db;

#define s_q(...) it_db_scalarf (s_db, __VA_ARGS__)

static json_t *
s_call (const char *method, const char *path, const char *body, long want)
{
  return it_api_call (s_st.api, method, path, body, want);
}

/* As who (it_sign_in's headers), answering want. */
static void
s_as (char who[2][256], const char *method, const char *path, const char *body, long want)
{
  char url[512], *resp = NULL;
  const char *headers[] = { who[0], who[1], NULL };
  snprintf (url, sizeof url, "%s%s", s_st.api, path);
  long st = it_http_ex (method, url, body ? "application/json" : NULL, body, headers, false,
                        &resp, NULL);
  IT_CHECK (st == want, "%s %s as a person: %ld, want %ld: %.300s", method, path, st, want,
            resp ? resp : "");
  free (resp);
}

static long long
s_create (const char *body)
{
  json_t *doc = s_call ("POST", "/v1/saved-replies", body, 201);
  long long id = json_integer_value (json_object_get (doc, "id"));
  IT_CHECK (id > 0, "a new reply's id: %s", body);
  json_decref (doc);
  return id;
}

/* A refused change: the status, the field named, nothing written. */
static void
s_refused (const char *method, const char *path, const char *body, long status,
           const char *field)
{
  long long rows = s_q ("SELECT count(*) FROM saved_reply");
  long long audit = s_q ("SELECT count(*) FROM audit_log WHERE action LIKE 'saved_reply.%%'");
  char *sum = it_db_text (s_db, "SELECT md5 (string_agg (r::text, ',' ORDER BY id))"
                                " FROM saved_reply r");
  json_t *doc = s_call (method, path, body, status);
  const char *got = json_string_value (json_object_get (doc, "field"));
  IT_CHECK (got && strcmp (got, field) == 0, "%s %s names %s, want %s", method, body,
            got ? got : "(none)", field);
  char *after = it_db_text (s_db, "SELECT md5 (string_agg (r::text, ',' ORDER BY id))"
                                  " FROM saved_reply r");
  IT_CHECK (s_q ("SELECT count(*) FROM saved_reply") == rows
            && s_q ("SELECT count(*) FROM audit_log WHERE action LIKE 'saved_reply.%%'") == audit
            && strcmp (sum ? sum : "", after ? after : "") == 0,
            "%s %s changed something", method, body);
  free (sum);
  free (after);
  json_decref (doc);
}

static void
s_bad_input (long long id)
{
  char path[64];
  snprintf (path, sizeof path, "/v1/saved-replies/%lld", id);
  s_refused ("POST", "/v1/saved-replies", "{\"locale\":\"pt-BR\",\"body\":\"x\"}", 400, "title");
  s_refused ("POST", "/v1/saved-replies", "{\"title\":\"A\",\"locale\":\"fr\",\"body\":\"x\"}",
             422, "locale");
  s_refused ("POST", "/v1/saved-replies", "{\"title\":\"A\",\"locale\":\"en\",\"intent\":"
             "\"refund\",\"body\":\"x\"}", 422, "intent");
  s_refused ("POST", "/v1/saved-replies", "{\"title\":\"A\",\"locale\":\"en\",\"body\":"
             "\"Hi {nome}\"}", 422, "body");
  s_refused ("PUT", path, "{\"title\":\"A\",\"locale\":\"en\",\"body\":\"Hi {first_name\"}",
             422, "body");
  s_refused ("PUT", path, "{\"title\":\"A\",\"locale\":\"en\",\"body\":42}", 400, "body");
  s_refused ("POST", "/v1/saved-replies", "{\"title\":\"Pedido a caminho\",\"locale\":"
             "\"pt-BR\",\"body\":\"outro\"}", 409, "title");
  json_decref (s_call ("PUT", "/v1/saved-replies/999999", "{\"title\":\"A\",\"locale\":\"en\","
                       "\"body\":\"x\"}", 404));
  json_decref (s_call ("DELETE", "/v1/saved-replies/999999", NULL, 404));
  json_decref (s_call ("GET", "/v1/saved-replies?locale=fr", NULL, 400));
  json_decref (s_call ("GET", "/v1/saved-replies?intent=refund", NULL, 400));
  json_decref (s_call ("GET", "/v1/saved-replies?ticket=999999", NULL, 404));
}

/* The titles of the list at path, joined by '|'. */
static void
s_titles (const char *path, char *out, size_t cap)
{
  json_t *doc = s_call ("GET", path, NULL, 200), *item;
  size_t i, used = 0;
  out[0] = '\0';
  json_array_foreach (json_object_get (doc, "items"), i, item) {
    int n = snprintf (out + used, cap - used, "%s%s", i ? "|" : "",
                      json_string_value (json_object_get (item, "title")));
    used += n > 0 && (size_t) n < cap - used ? (size_t) n : 0;
  }
  json_decref (doc);
}

static void
s_order_of_list (void)
{
  char titles[512];
  s_titles ("/v1/saved-replies?locale=pt-BR&intent=complaint", titles, sizeof titles);
  IT_CHECK (strcmp (titles, "Desculpas|Encerramento|Pedido a caminho") == 0,
            "complaint first, then any intent, then the others: %s", titles);
  s_titles ("/v1/saved-replies?locale=en", titles, sizeof titles);
  IT_CHECK (strcmp (titles, "Closing|On its way") == 0, "any intent first: %s", titles);
}

/* A customer with a ticket and a shipped order; the ticket's id. */
static long long
s_customer (void)
{
  const char *body = "{\"status\":\"shipped\",\"event_id\":\"replies-o1\","
                     "\"customer\":{\"channel\":\"chat\",\"handle\":\"replies-1\"},"
                     "\"expected_delivery\":\"2026-12-24\","
                     "\"tracking_url\":\"https://track.example/BR9\"}";
  it_message_send (s_st.api, s_db, "chat", "replies-1", "Bia Souza", "cadê meu pedido?",
                   "replies-m1", WAIT_MS);
  json_decref (s_call ("POST", "/v1/orders/PED-9001/events", body, 202));
  IT_CHECK (it_wait_scalar (s_db, "SELECT count(*) FROM orders WHERE id = 'PED-9001'"
                            " AND customer_id IS NOT NULL", 1, WAIT_MS) == 1, "the order");
  return s_q ("SELECT t.id FROM ticket t JOIN ticket_message m ON m.ticket_id = t.id"
              " WHERE m.provider_message_id = 'replies-m1'");
}

static void
s_filled (long long ticket)
{
  char path[128];
  snprintf (path, sizeof path, "/v1/saved-replies?locale=pt-BR&intent=order_status&ticket=%lld",
            ticket);
  json_t *doc = s_call ("GET", path, NULL, 200);
  json_t *first = json_array_get (json_object_get (doc, "items"), 0);
  const char *text = json_string_value (json_object_get (first, "text"));
  IT_CHECK (text && strcmp (text, "Olá, Bia! Seu pedido PED-9001 está a caminho, entrega"
                           " prevista para 24/12/2026. Rastreio: https://track.example/BR9")
                        == 0, "the reply filled for the ticket: %s", text ? text : "(none)");
  json_decref (doc);
}

int
main (void)
{
  it_require_pg ();
  it_stack_init (&s_st, "saved_replies", (const char *[]) {
      "ATENDE_WEBHOOK_SECRET=whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
      "ATENDE_WEBHOOK_URL=http://127.0.0.1:9/hooks", NULL});
  s_db = it_db_connect (s_st.conninfo);
  it_stack_pids_t pids = it_stack_start (&s_st, "ingest,notify", WAIT_MS);
  long long way = s_create ("{\"title\":\"Pedido a caminho\",\"locale\":\"pt-BR\",\"intent\":"
                            "\"order_status\",\"body\":\"Olá, {first_name}! Seu pedido"
                            " {order_id} está a caminho[, entrega prevista para"
                            " {expected_date}].[ Rastreio: {tracking_url}]\"}");
  s_bad_input (way);
  s_create ("{\"title\":\"Encerramento\",\"locale\":\"pt-BR\",\"intent\":null,"
            "\"body\":\"Até mais, {first_name}!\"}");
  long long gone = s_create ("{\"title\":\"Pedido a caminho\",\"locale\":\"en\",\"body\":\"x\"}");
  char agent[2][256], lead[2][256], path[64];
  it_sign_in (s_st.api, "ana@loja.com.br", "agent", S_PASSWORD, agent);
  it_sign_in (s_st.api, "lia@loja.com.br", "lead", S_PASSWORD, lead);
  s_as (agent, "GET", "/v1/saved-replies?locale=pt-BR", NULL, 200);
  s_as (agent, "POST", "/v1/saved-replies", "{\"title\":\"B\",\"locale\":\"en\",\"body\":\"y\"}",
        403);
  s_as (lead, "POST", "/v1/saved-replies", "{\"title\":\"Desculpas\",\"locale\":\"pt-BR\","
        "\"intent\":\"complaint\",\"body\":\"Sinto muito, {first_name}.\"}", 201);
  s_as (lead, "POST", "/v1/saved-replies", "{\"title\":\"Closing\",\"locale\":\"en\","
        "\"body\":\"Bye, {first_name}!\"}", 201);
  snprintf (path, sizeof path, "/v1/saved-replies/%lld", gone);
  json_decref (s_call ("PUT", path, "{\"title\":\"On its way\",\"locale\":\"en\",\"intent\":"
                       "\"order_status\",\"body\":\"Order {order_id} is on its way.\"}", 200));
  json_t *doc = s_call ("GET", path, NULL, 200);
  IT_CHECK (strcmp (json_string_value (json_object_get (doc, "intent")), "order_status") == 0
            && strcmp (json_string_value (json_object_get (doc, "title")), "On its way") == 0,
            "GET shows the change");
  json_decref (doc);
  s_order_of_list ();
  s_filled (s_customer ());
  json_decref (s_call ("DELETE", path, NULL, 204));
  json_decref (s_call ("GET", path, NULL, 404));
  IT_CHECK (s_q ("SELECT count(*) FROM audit_log WHERE action = 'saved_reply.create'") == 5
            && s_q ("SELECT count(*) FROM audit_log WHERE action = 'saved_reply.update'") == 1
            && s_q ("SELECT count(*) FROM audit_log WHERE action = 'saved_reply.delete'"
                    " AND target = 'saved_reply:%lld'", gone) == 1,
            "one audit row per change");
  it_stack_stop (&pids);
  PQfinish (s_db);
  printf ("test_saved_replies: ok\n");
  return 0;
}
