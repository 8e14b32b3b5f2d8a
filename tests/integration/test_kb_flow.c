/* The knowledge base through the running pipeline (broker, api, ingest,
 * route, notify; PostgreSQL): the demo's seed articles are created through
 * the api (bad input is a 422 naming the field, nothing stored); a
 * customer's question is answered automatically with the best article
 * (an outgoing bot message and its notification, a "suggested" event);
 * "sim" records helpful and sends nothing more; "no" hands the ticket to
 * people (kb_unhelpful, open); a question nothing answers records
 * no_result and is listed by /v1/kb/unanswered; another question instead
 * of the answer hands the ticket over (kb_unanswered) and is not answered
 * again; a kill -9 of route while questions are in flight still gives
 * exactly one answer per question; a question left without "sim/não" is
 * handed over when its delayed kb.followup comes due. */
#define _GNU_SOURCE
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "it.h"

#define WAIT_MS 60000

static it_stack_t s_st;
static PGconn *s_db;
static pid_t s_route;

#define s_q(...) it_db_scalarf (s_db, __VA_ARGS__)

/* A request with the test's admin key that must answer want; its JSON. */
static json_t *
s_call (const char *method, const char *path, const char *body, long want)
{
  char url[1024], *resp = NULL;
  snprintf (url, sizeof url, "%s%s", s_st.api, path);
  long st = it_http (method, url, body ? "application/json" : NULL, body, &resp);
  IT_CHECK (st == want, "%s %s: %ld, want %ld: %.400s", method, path, st, want,
            resp ? resp : "");
  json_t *doc = json_loads (resp ? resp : "", JSON_DECODE_ANY, NULL);
  free (resp);
  return doc ? doc : json_object ();
}

/* The seed file of the demo, beside the sources. */
static json_t *
s_seed (void)
{
  char path[1024];
  const char *here = __FILE__, *cut = strstr (here, "tests/integration/");
  IT_CHECK (cut != NULL, "source path %s", here);
  snprintf (path, sizeof path, "%.*sdeploy/kb/seed.json", (int) (cut - here), here);
  json_error_t err;
  json_t *doc = json_load_file (path, 0, &err);
  IT_CHECK (doc != NULL, "%s: %s", path, err.text);
  return doc;
}

/* Creates the seed's articles through the api: their ids by title. */
static void
s_load_seed (void)
{
  json_t *seed = s_seed (), *a;
  size_t i;
  json_array_foreach (json_object_get (seed, "articles"), i, a) {
    char *body = json_dumps (a, JSON_COMPACT);
    json_t *doc = s_call ("POST", "/v1/kb/articles", body, 201);
    IT_CHECK (json_integer_value (json_object_get (doc, "id")) > 0, "no id for article %zu", i);
    json_decref (doc);
    free (body);
  }
  IT_CHECK (s_q ("SELECT count(*) FROM kb_article") == (long long) i, "%zu articles", i);
  json_decref (seed);
}

static long long
s_article (const char *title)
{
  return s_q ("SELECT id FROM kb_article WHERE title = '%s'", title);
}

/* Bad articles: 422 naming the field, nothing stored. */
static void
s_bad_input (void)
{
  static const struct { const char *body, *field; } bad[] = {
    {"{\"locale\":\"fr\",\"title\":\"t\",\"body\":\"b\"}", "locale"},
    {"{\"locale\":\"en\",\"body\":\"b\"}", "title"},
    {"{\"locale\":\"en\",\"title\":\"\",\"body\":\"b\"}", "title"},
    {"{\"locale\":\"en\",\"title\":\"t\",\"body\":\"b\",\"status\":\"live\"}", "status"},
    {"{\"locale\":\"en\",\"title\":\"t\",\"body\":\"b\",\"tags\":[\"ok\",7]}", "tags"},
    {"{\"locale\":\"en\",\"title\":\"t\",\"body\":\"b\",\"tags\":\"x\"}", "tags"},
  };
  long long before = s_q ("SELECT count(*) FROM kb_article");
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    json_t *doc = s_call ("POST", "/v1/kb/articles", bad[i].body, 422);
    const char *field = json_string_value (json_object_get (doc, "field"));
    IT_CHECK (field && strcmp (field, bad[i].field) == 0, "bad %zu names %s", i,
              field ? field : "(none)");
    json_decref (doc);
  }
  char title[256], body[512];
  memset (title, 'x', 201);
  title[201] = '\0';
  snprintf (body, sizeof body, "{\"locale\":\"en\",\"title\":\"%s\",\"body\":\"b\"}", title);
  json_decref (s_call ("POST", "/v1/kb/articles", body, 422));
  json_decref (s_call ("PUT", "/v1/kb/articles/1", "{\"locale\":\"xx\"}", 422));
  json_decref (s_call ("POST", "/v1/kb/articles", "not json", 400));
  json_decref (s_call ("GET", "/v1/kb/articles/999999", NULL, 404));
  json_decref (s_call ("GET", "/v1/kb/search?locale=en", NULL, 400));
  IT_CHECK (s_q ("SELECT count(*) FROM kb_article") == before, "bad input stored nothing");
  IT_CHECK (s_q ("SELECT count(*) FROM audit_log WHERE action LIKE 'kb.%%'") == before,
            "one audit row per created article");
}

/* Reads, an update, a deletion and an agent's search. */
static void
s_manage (void)
{
  json_t *list = s_call ("GET", "/v1/kb/articles?locale=pt-BR&status=published", NULL, 200);
  IT_CHECK (json_array_size (json_object_get (list, "items")) == 5, "5 published pt-BR");
  json_decref (list);
  long long prazo = s_article ("Prazo de entrega e frete");
  char path[128];
  snprintf (path, sizeof path, "/v1/kb/articles/%lld", prazo);
  json_t *doc = s_call ("GET", path, NULL, 200);
  IT_CHECK (strstr (json_string_value (json_object_get (doc, "body")), "CEP") != NULL, "body");
  json_decref (doc);
  IT_CHECK (s_q ("SELECT count(*) FROM kb_event WHERE kind = 'opened' AND article_id = %lld"
                 " AND actor LIKE 'key:%%'", prazo) == 1, "opened event");
  json_t *search = s_call ("GET", "/v1/kb/search?locale=pt-BR&q=qual%20o%20prazu%20de%20entraga",
                           NULL, 200);
  json_t *first = json_array_get (json_object_get (search, "items"), 0);
  IT_CHECK (json_integer_value (json_object_get (first, "id")) == prazo, "typo search finds it");
  IT_CHECK (json_real_value (json_object_get (first, "score")) >= 0.5, "typo search score");
  json_decref (search);
  long long draft = s_article ("Como cancelar um pedido");
  snprintf (path, sizeof path, "/v1/kb/articles/%lld", draft);
  json_decref (s_call ("PUT", path, "{\"locale\":\"pt-BR\",\"title\":\"Como cancelar um pedido\","
                       "\"body\":\"Antes do envio, cancele em Minha Conta.\",\"tags\":[\"cancelar\"],"
                       "\"status\":\"draft\"}", 200));
  json_decref (s_call ("DELETE", path, NULL, 204));
  json_decref (s_call ("DELETE", path, NULL, 404));
}

/* The ticket of a chat handle. */
static long long
s_ticket (const char *handle)
{
  return s_q ("SELECT t.id FROM ticket t JOIN identity i ON i.customer_id = t.customer_id"
              " WHERE i.kind = 'chat' AND i.value = '%s' ORDER BY t.id DESC LIMIT 1", handle);
}

static long long
s_bot_answers (long long ticket)
{
  return s_q ("SELECT count(*) FROM ticket_message WHERE ticket_id = %lld AND direction = 'out'"
              " AND author = 'bot'", ticket);
}

static void
s_send (const char *handle, const char *text, const char *pid)
{
  it_message_send (s_st.api, s_db, "chat", handle, "Cliente", text, pid, WAIT_MS);
}

/* Waits until sql's scalar is want; fails naming what. */
static void
s_wait (long long want, const char *what, const char *sql)
{
  long long got = it_wait_scalar (s_db, sql, want, WAIT_MS);
  IT_CHECK (got == want, "%s: %lld, want %lld (%s)", what, got, want, sql);
}

/* An article answers; "sim" is helpful and nothing more is sent. */
static void
s_flow_helpful (void)
{
  char sql[512];
  s_send ("kb-ana", "Qual a garantia do liquidificador?", "kb-1");
  long long t = s_ticket ("kb-ana");
  snprintf (sql, sizeof sql, "SELECT count(*) FROM kb_event WHERE ticket_id = %lld"
            " AND kind = 'suggested' AND article_id = %lld", t, s_article ("Garantia dos produtos"));
  s_wait (1, "suggested Garantia dos produtos", sql);
  IT_CHECK (s_bot_answers (t) == 1, "one bot answer");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket_message WHERE ticket_id = %lld AND direction = 'out'"
                 " AND body LIKE '%%Garantia dos produtos%%90 dias%%\"sim\" ou \"não\"%%'", t) == 1,
            "answer text");
  IT_CHECK (s_q ("SELECT count(*) FROM notification WHERE ticket_id = %lld AND kind = 'auto_reply'",
                 t) == 1, "one notification");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket WHERE id = %lld AND status = 'pending'"
                 " AND auto_answered", t) == 1, "pending, answered automatically");
  s_send ("kb-ana", "Sim, obrigada!", "kb-2");
  snprintf (sql, sizeof sql, "SELECT count(*) FROM kb_event WHERE ticket_id = %lld"
            " AND kind = 'helpful'", t);
  s_wait (1, "helpful", sql);
  IT_CHECK (s_bot_answers (t) == 1 && s_q ("SELECT count(*) FROM notification WHERE"
            " ticket_id = %lld", t) == 1, "nothing more sent after sim");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket WHERE id = %lld AND status = 'pending'"
                 " AND handoff_reason IS NULL", t) == 1, "still answered");
}

/* "no" hands the ticket to people. */
static void
s_flow_unhelpful (void)
{
  char sql[512];
  s_send ("kb-john", "Hi, what is the warranty on your blenders? Mine broke", "kb-3");
  long long t = s_ticket ("kb-john");
  snprintf (sql, sizeof sql, "SELECT count(*) FROM kb_event WHERE ticket_id = %lld"
            " AND kind = 'suggested' AND article_id = %lld", t, s_article ("Product warranty"));
  s_wait (1, "suggested Product warranty", sql);
  s_send ("kb-john", "no", "kb-4");
  snprintf (sql, sizeof sql, "SELECT count(*) FROM ticket WHERE id = %lld AND status = 'open'"
            " AND handoff_reason = 'kb_unhelpful' AND NOT auto_answered", t);
  s_wait (1, "handed to people", sql);
  IT_CHECK (s_q ("SELECT count(*) FROM kb_event WHERE ticket_id = %lld AND kind = 'unhelpful'",
                 t) == 1, "unhelpful event");
  IT_CHECK (s_bot_answers (t) == 2 && s_q ("SELECT count(*) FROM ticket_message WHERE"
            " ticket_id = %lld AND author = 'bot' AND body LIKE 'Understood.%%team%%'", t) == 1,
            "after no, only that a person follows");
}

/* Nothing answers: no_result, listed for the team; another question
 * instead of "sim/não" hands the ticket over and is not answered again. */
static void
s_flow_unanswered (void)
{
  char sql[512];
  s_send ("kb-rosa", "Qual o horário da loja física no shopping?", "kb-5");
  s_send ("kb-luis", "qual o horário da loja fisica no shopping?", "kb-6");
  snprintf (sql, sizeof sql, "SELECT count(*) FROM kb_event WHERE kind = 'no_result'");
  s_wait (2, "no_result", sql);
  IT_CHECK (s_bot_answers (s_ticket ("kb-rosa")) == 0, "no answer without an article");
  json_t *doc = s_call ("GET", "/v1/kb/unanswered?limit=10", NULL, 200);
  json_t *first = json_array_get (json_object_get (doc, "items"), 0);
  IT_CHECK (json_integer_value (json_object_get (first, "count")) == 2, "grouped: %s",
            json_dumps (doc, 0));
  IT_CHECK (strstr (json_string_value (json_object_get (first, "question")), "shopping"), "text");
  json_decref (doc);
  json_decref (s_call ("GET", "/v1/kb/unanswered?since=nope", NULL, 400));
  s_send ("kb-eva", "Vocês têm tabela de medidas das camisetas?", "kb-7");
  long long t = s_ticket ("kb-eva");
  snprintf (sql, sizeof sql, "SELECT count(*) FROM kb_event WHERE ticket_id = %lld"
            " AND kind = 'suggested'", t);
  s_wait (1, "suggested medidas", sql);
  s_send ("kb-eva", "Vocês vendem vale-presente?", "kb-8");
  snprintf (sql, sizeof sql, "SELECT count(*) FROM ticket WHERE id = %lld"
            " AND handoff_reason = 'kb_unanswered' AND status = 'open'", t);
  s_wait (1, "kb_unanswered", sql);
  IT_CHECK (s_bot_answers (t) == 1, "not answered again after the handoff");
}

/* kill -9 of route with questions in flight: one answer each. */
static void
s_flow_crash (void)
{
  char handle[32], pid[32], sql[256];
  for (int i = 0; i < 6; i++) {
    snprintf (handle, sizeof handle, "kb-crash-%d", i);
    snprintf (pid, sizeof pid, "kb-crash-%d", i);
    s_send (handle, i % 2 ? "Is there a warranty on headphones?" : "Qual o guia de tamanhos e medidas?",
            pid);
    if (i == 2) {
      kill (s_route, SIGKILL);
      waitpid (s_route, NULL, 0);
      s_route = it_stack_spawn (&s_st, "route2", (const char *[]) {"worker", "route", NULL});
    }
  }
  snprintf (sql, sizeof sql, "SELECT count(*) FROM kb_event e JOIN ticket t ON t.id = e.ticket_id"
            " JOIN identity i ON i.customer_id = t.customer_id WHERE i.value LIKE 'kb-crash-%%'"
            " AND e.kind = 'suggested'");
  s_wait (6, "six suggestions after the crash", sql);
  IT_CHECK (s_q ("SELECT count(*) FROM ticket_message m JOIN ticket t ON t.id = m.ticket_id"
                 " JOIN identity i ON i.customer_id = t.customer_id WHERE i.value LIKE"
                 " 'kb-crash-%%' AND m.author = 'bot'") == 6, "exactly one answer each");
}

/* No "sim/não" in time (route restarted with a wait of one second): the
 * delayed kb.followup hands the ticket to people, once. */
static void
s_flow_no_answer (void)
{
  it_stop (s_route, SIGTERM, 10000);
  size_t n = 0;
  while (s_st.env[n])
    n++;
  IT_CHECK (n + 1 < sizeof s_st.env / sizeof s_st.env[0], "room in the env");
  s_st.env[n] = "ATENDE_KB_ANSWER_WAIT_S=1";
  s_st.env[n + 1] = NULL;
  s_route = it_stack_spawn (&s_st, "route3", (const char *[]) {"worker", "route", NULL});
  s_send ("kb-quiet", "Qual a garantia da air fryer?", "kb-9");
  long long t = s_ticket ("kb-quiet");
  char sql[512];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM ticket WHERE id = %lld AND status = 'open'"
            " AND handoff_reason = 'kb_no_answer'", t);
  s_wait (1, "handed over without an answer", sql);
  IT_CHECK (s_q ("SELECT count(*) FROM kb_event WHERE ticket_id = %lld AND kind = 'suggested'"
                 " AND outcome = 'unanswered' AND answered_at IS NOT NULL", t) == 1,
            "suggestion settled as unanswered");
  IT_CHECK (s_bot_answers (t) == 2, "the answer, then that a person follows");
}

int
main (void)
{
  it_require_pg ();
  it_stack_init (&s_st, "kb_flow", (const char *[]) {
      "ATENDE_RETRY_BASE_MS=100", "ATENDE_HEARTBEAT_MS=200",
      "ATENDE_WEBHOOK_SECRET=whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
      "ATENDE_WEBHOOK_URL=http://127.0.0.1:9/hooks", NULL});
  s_db = it_db_connect (s_st.conninfo);
  it_stack_pids_t pids = it_stack_start (&s_st, "ingest,notify", WAIT_MS);
  s_route = it_stack_spawn (&s_st, "route", (const char *[]) {"worker", "route", NULL});
  s_load_seed ();
  s_bad_input ();
  s_manage ();
  s_flow_helpful ();
  s_flow_unhelpful ();
  s_flow_unanswered ();
  s_flow_crash ();
  s_flow_no_answer ();
  IT_CHECK (s_q ("SELECT count(*) FROM (SELECT ticket_id FROM kb_event WHERE kind = 'suggested'"
                 " GROUP BY ticket_id, message_id HAVING count(*) > 1) d") == 0,
            "no question answered twice");
  it_stop (s_route, SIGTERM, 10000);
  it_stack_stop (&pids);
  PQfinish (s_db);
  printf ("test_kb_flow: ok\n");
  return 0;
}
