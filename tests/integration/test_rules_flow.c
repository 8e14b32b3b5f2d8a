/* Rules through the running pipeline (broker, api, ingest, route, notify;
 * PostgreSQL), checked as a user sees them (HTTP answers, rows):
 *   - CRUD; bad rules (unknown field, bad op, a rule that fires itself, an
 *     unknown team) are a 422 naming the JSON pointer, nothing stored;
 *   - a complaint gets a team, a priority and a tag by a rule, and the
 *     ticket's log (GET /v1/tickets/{id}/rules) shows why;
 *   - the dry run of a candidate rule over the last tickets equals what
 *     route does when those tickets get the event (a chain included:
 *     set_priority raises priority_changed, which another rule hears);
 *   - an SLA breach rule escalates (a 24x7 calendar, a 1 s target);
 *   - a webhook rule reaches a local receiver, Standard Webhooks signed,
 *     retried after a 500 with the same webhook-id;
 *   - an auto_reply rule says its template (rule_*) as the bot, in the
 *     ticket's language; a rule naming a template that does not exist: 422;
 *   - an order's new status reaches the rules of the customer's open ticket
 *     (order_status_changed, with the order's status as a condition);
 *   - close_after_days resolves a ticket whose customer did not write again,
 *     and leaves one whose customer did;
 *   - the same bus message delivered twice applies its rules once;
 *   - an idle rule (2 s without a message) fires on a quiet ticket. */
#define _GNU_SOURCE
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "it.h"
#include "at_crypto.h"
#include "../fakes/fakes.h"
#include "../fakes/fake_http.c"

#define WAIT_MS 60000
#define S_KEY "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static it_stack_t s_st;
static PGconn *s_db;
static pid_t s_route;
static fake_http_t *s_fake;

#define s_q(...) it_db_scalarf (s_db, __VA_ARGS__)

static json_t *
s_call (const char *method, const char *path, const char *body, long want)
{
  return it_api_call (s_st.api, method, path, body, want);
}

static void
s_bad (const char *method, const char *path, const char *body, const char *field)
{
  json_t *doc = s_call (method, path, body, 422);
  const char *got = json_string_value (json_object_get (doc, "field"));
  IT_CHECK (got && strcmp (got, field) == 0, "%s %s names %s, want %s", path, body,
            got ? got : "(none)", field);
  json_decref (doc);
}

static long long
s_create (const char *body)
{
  json_t *doc = s_call ("POST", "/v1/rules", body, 201);
  long long id = json_integer_value (json_object_get (doc, "id"));
  IT_CHECK (id > 0, "rule id");
  json_decref (doc);
  return id;
}

/* Route took every message due so far. */
static void
s_drained (void)
{
  IT_CHECK (it_wait_scalar (s_db, "SELECT CASE WHEN count(*) = 0 THEN 1 ELSE 0 END"
                            " FROM bus_message WHERE stage = 'route' AND " IT_BUS_PENDING, 1,
                            WAIT_MS) == 1, "route did not drain");
}

/* Sends a customer's message and waits until route handled it; its ticket. */
static long long
s_send (const char *channel, const char *handle, const char *text, const char *pid)
{
  it_message_send (s_st.api, s_db, channel, handle, "Cliente", text, pid, WAIT_MS);
  long long t = s_q ("SELECT ticket_id FROM ticket_message WHERE provider_message_id = '%s'",
                     pid);
  s_drained ();
  IT_CHECK (s_q ("SELECT count(*) FROM ticket WHERE id = %lld AND intent IS NOT NULL", t) == 1,
            "ticket %lld classified", t);
  return t;
}

#define COMPLAINT_RULE \
  "{\"name\":\"complaints\",\"event\":\"intent_set\",\"position\":10,\"conditions\":" \
  "[{\"field\":\"intent\",\"op\":\"eq\",\"value\":\"complaint\"}],\"actions\":" \
  "[{\"type\":\"set_team\",\"team\":\"complaints\"},{\"type\":\"set_priority\",\"priority\":" \
  "\"high\"},{\"type\":\"add_tag\",\"tag\":\"angry\"}]}"

static void
s_crud (void)
{
  json_decref (s_call ("POST", "/v1/teams", "{\"name\":\"support\",\"default\":true}", 201));
  json_decref (s_call ("POST", "/v1/teams", "{\"name\":\"complaints\"}", 201));
  s_bad ("POST", "/v1/rules", "{\"name\":\"x\",\"event\":\"intent_set\",\"conditions\":[{\"field\":"
         "\"intent\",\"op\":\"eq\",\"value\":\"a\"},{\"field\":\"mood\",\"op\":\"eq\",\"value\":"
         "\"b\"}],\"actions\":[{\"type\":\"escalate\"}]}", "/conditions/1/field");
  s_bad ("POST", "/v1/rules", "{\"name\":\"x\",\"event\":\"intent_set\",\"conditions\":[{\"field\":"
         "\"intent\",\"op\":\"like\",\"value\":\"a\"}],\"actions\":[{\"type\":\"escalate\"}]}",
         "/conditions/0/op");
  s_bad ("POST", "/v1/rules", "{\"name\":\"x\",\"event\":\"priority_changed\",\"actions\":"
         "[{\"type\":\"add_tag\",\"tag\":\"t\"},{\"type\":\"set_priority\",\"priority\":"
         "\"high\"}]}",
         "/actions/1");
  s_bad ("POST", "/v1/rules", "{\"name\":\"x\",\"event\":\"intent_set\",\"actions\":[{\"type\":"
         "\"set_team\",\"team\":\"nobody\"}]}", "/actions/0/team");
  s_bad ("POST", "/v1/rules", "{\"name\":\"x\",\"event\":\"when_bored\",\"actions\":[{\"type\":"
         "\"escalate\"}]}", "/event");
  IT_CHECK (s_q ("SELECT count(*) FROM rule") == 0, "nothing stored");
  long long id = s_create ("{\"name\":\"draft\",\"event\":\"message_in\",\"actions\":[{\"type\":"
                           "\"escalate\"}],\"enabled\":false}");
  char path[64];
  snprintf (path, sizeof path, "/v1/rules/%lld", id);
  s_bad ("PUT", path, "{\"name\":\"draft 2\",\"event\":\"message_in\",\"conditions\":[{\"field\":"
         "\"text\",\"op\":\"eq\",\"value\":\"x\"}],\"actions\":[{\"type\":\"escalate\"}]}",
         "/conditions/0/op");
  json_t *doc = s_call ("PUT", path, "{\"name\":\"draft 2\",\"event\":\"message_in\",\"actions\":"
                        "[{\"type\":\"escalate\"}],\"enabled\":false}", 200);
  IT_CHECK (strcmp (json_string_value (json_object_get (doc, "name")), "draft 2") == 0, "renamed");
  json_decref (doc);
  json_decref (s_call ("DELETE", path, NULL, 204));
  json_decref (s_call ("GET", path, NULL, 404));
  json_decref (s_call ("DELETE", path, NULL, 404));
  s_create (COMPLAINT_RULE);
  doc = s_call ("GET", "/v1/rules", NULL, 200);
  IT_CHECK (json_array_size (json_object_get (doc, "items")) == 1, "one rule listed");
  json_decref (doc);
  IT_CHECK (s_q ("SELECT count(*) FROM audit_log WHERE action LIKE 'rule.%%'") == 4, "audited");
}

/* A complaint: team, priority, tag, and the log says why. */
static void
s_complaint (void)
{
  long long t = s_send ("whatsapp", "5511900000101", "Que absurdo!!! Vou no Procon se não"
                        " resolverem hoje", "rc-1");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket WHERE id = %lld AND intent = 'complaint' AND"
                 " priority = 'high' AND 'angry' = ANY (tags)", t) == 1, "complaint tagged");
  IT_CHECK (s_q ("SELECT count(*) FROM desk_ticket d JOIN team tm ON tm.id = d.team_id WHERE"
                 " d.ticket_id = %lld AND tm.name = 'complaints'", t) == 1, "team complaints");
  char path[64];
  snprintf (path, sizeof path, "/v1/tickets/%lld/rules", t);
  json_t *doc = s_call ("GET", path, NULL, 200);
  json_t *run = json_array_get (json_object_get (doc, "items"), 0);
  IT_CHECK (json_array_size (json_object_get (doc, "items")) == 1
            && json_is_true (json_object_get (run, "fired"))
            && strcmp (json_string_value (json_object_get (run, "rule")), "complaints") == 0
            && strcmp (json_string_value (json_object_get (run, "event")), "intent_set") == 0
            && strcmp (json_string_value (json_object_get (run, "why")),
                       "all 1 conditions hold") == 0
            && json_array_size (json_object_get (run, "actions")) == 3, "the log shows it");
  json_decref (doc);
}

#define SIZING_RULE \
  "{\"name\":\"sizing\",\"event\":\"intent_set\",\"position\":20,\"conditions\":" \
  "[{\"field\":\"intent\",\"op\":\"not\",\"value\":\"complaint\"},{\"field\":\"text\"," \
  "\"op\":\"contains\",\"value\":\"TAMANHO\"}],\"actions\":[{\"type\":\"add_tag\",\"tag\":" \
  "\"sizing\"},{\"type\":\"set_priority\",\"priority\":\"high\"}]}"

/* One line per run: rule, event, depth, fired, why. */
static void
s_runs_text (const json_t *runs, const char *chain, char *out, size_t cap)
{
  size_t used = 0;
  const json_t *r;
  size_t i;
  out[0] = '\0';
  json_array_foreach (runs, i, r) {
    const char *c = json_string_value (json_object_get (r, "chain"));
    if (chain && c && strcmp (c, chain) != 0)
      continue;
    const char *name = json_string_value (json_object_get (r, "rule"));
    used += (size_t) snprintf (out + used, used < cap ? cap - used : 0, "%s|%s|%lld|%d|%s\n",
                               name ? name : "-",
                               json_string_value (json_object_get (r, "event")),
                               (long long) json_integer_value (json_object_get (r, "depth")),
                               json_is_true (json_object_get (r, "fired")),
                               json_string_value (json_object_get (r, "why")));
    IT_CHECK (used < cap, "runs fit");
  }
}

/* The dry run of the sizing rule (a candidate) over the last 3 tickets,
 * then the rule saved and each ticket's message again: route's log of that
 * message equals the dry run, ticket by ticket. */
static void
s_dry_run_equals_reality (void)
{
  s_create ("{\"name\":\"sizing urgent\",\"event\":\"priority_changed\",\"position\":30,"
            "\"conditions\":[{\"field\":\"tag\",\"op\":\"eq\",\"value\":\"sizing\"},{\"field\":"
            "\"priority\",\"op\":\"eq\",\"value\":\"high\"}],\"actions\":[{\"type\":\"add_tag\","
            "\"tag\":\"sizing-urgent\"}]}");
  static const char *const handle[3] = {"5511900000201", "5511900000202", "5511900000203"};
  static const char *const text[3] = {"Vocês têm esse vestido no tamanho M?",
                                      "Que absurdo!!! Vou no Procon se não resolverem hoje",
                                      "Vocês entregam em Manaus?"};
  long long t[3];
  char pid[32];
  for (int i = 0; i < 3; i++) {
    snprintf (pid, sizeof pid, "dry-%d-a", i);
    t[i] = s_send ("whatsapp", handle[i], text[i], pid);
  }
  s_bad ("POST", "/v1/rules/dry-run", "{\"event\":\"intent_set\",\"last\":3,\"rule\":{\"name\":"
         "\"x\",\"event\":\"intent_set\",\"actions\":[{\"type\":\"fly\"}]}}",
         "/rule/actions/0/type");
  s_bad ("POST", "/v1/rules/dry-run", "{\"event\":\"intent_set\",\"last\":0}", "/last");
  long long runs_before = s_q ("SELECT count(*) FROM rule_run");
  json_t *dry = s_call ("POST", "/v1/rules/dry-run", "{\"event\":\"intent_set\",\"last\":3,"
                        "\"rule\":" SIZING_RULE "}", 200);
  IT_CHECK (s_q ("SELECT count(*) FROM rule_run") == runs_before
            && s_q ("SELECT count(*) FROM ticket WHERE 'sizing' = ANY (tags)") == 0
            && s_q ("SELECT count(*) FROM rule") == 2, "the dry run changed nothing");
  s_create (SIZING_RULE);
  for (int i = 0; i < 3; i++) {
    snprintf (pid, sizeof pid, "dry-%d-b", i);
    IT_CHECK (s_send ("whatsapp", handle[i], text[i], pid) == t[i], "same ticket");
  }
  json_t *tickets = json_object_get (dry, "tickets");
  IT_CHECK (json_array_size (tickets) == 3, "three tickets in the dry run");
  int fired_sizing = 0;
  for (size_t k = 0; k < 3; k++) {
    json_t *plan = json_array_get (tickets, k);
    long long id = json_integer_value (json_object_get (plan, "ticket_id"));
    char path[64], want[2048], got[2048];
    s_runs_text (json_object_get (plan, "runs"), NULL, want, sizeof want);
    snprintf (path, sizeof path, "/v1/tickets/%lld/rules", id);
    json_t *log = s_call ("GET", path, NULL, 200);
    json_t *items = json_object_get (log, "items"), *last = json_array (), *r;
    const char *msg = NULL;
    size_t i;
    json_array_foreach (items, i, r)            /* the runs of the latest message */
      msg = json_string_value (json_object_get (r, "msg_id"));
    json_array_foreach (items, i, r)
      if (strcmp (json_string_value (json_object_get (r, "msg_id")), msg) == 0)
        json_array_append (last, r);
    s_runs_text (last, "intent_set", got, sizeof got);
    IT_CHECK (strcmp (want, got) == 0, "ticket %lld: dry run\n%s\nreality\n%s", id, want, got);
    fired_sizing += strstr (want, "sizing|intent_set|0|1|") != NULL;
    json_decref (last);
    json_decref (log);
  }
  char *dry_text = json_dumps (dry, JSON_COMPACT);
  IT_CHECK (fired_sizing == 1 && strstr (dry_text, "\"fires\":[\"sizing\",\"sizing urgent\"]"),
            "the sizing rule fires once, its chain too: %s", dry_text);
  free (dry_text);
  IT_CHECK (s_q ("SELECT count(*) FROM ticket WHERE id = %lld AND priority = 'high' AND tags @>"
                 " '{sizing,sizing-urgent}'", t[0]) == 1, "the chain's effects");
  json_decref (dry);
}

static void
s_sla_breach (void)
{
  s_create ("{\"name\":\"escalate breaches\",\"event\":\"sla_breach\",\"conditions\":[{\"field\":"
            "\"channel\",\"op\":\"eq\",\"value\":\"chat\"}],\"actions\":[{\"type\":"
            "\"escalate\"}]}");
  json_t *cal = s_call ("POST", "/v1/calendars", "{\"name\":\"always\",\"timezone\":\"UTC\","
                        "\"windows\":[{\"days\":[\"sun\",\"mon\",\"tue\",\"wed\",\"thu\",\"fri\","
                        "\"sat\"],\"start\":\"00:00\",\"end\":\"24:00\"}]}", 201);
  char body[256];
  snprintf (body, sizeof body, "{\"name\":\"chat\",\"priority\":\"normal\",\"channel\":\"chat\","
            "\"calendar_id\":%lld,\"first_response\":{\"target_s\":1,\"time\":\"wall\"}}",
            (long long) json_integer_value (json_object_get (cal, "id")));
  json_decref (cal);
  json_decref (s_call ("POST", "/v1/sla/policies", body, 201));
  long long t = s_send ("chat", "rules-ana", "Qual o horário da loja no sábado?", "br-1");
  char sql[256];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM ticket WHERE id = %lld AND escalated_at IS"
            " NOT NULL AND 'escalated' = ANY (tags)", t);
  IT_CHECK (it_wait_scalar (s_db, sql, 1, WAIT_MS) == 1, "escalated by the breach rule");
  IT_CHECK (s_q ("SELECT count(*) FROM rule_run r JOIN rule ru ON ru.id = r.rule_id WHERE"
                 " r.ticket_id = %lld AND r.event = 'sla_breach' AND r.fired AND ru.name ="
                 " 'escalate breaches'", t) == 1, "logged once");
}

/* Whether the receiver's request r carries a valid Standard Webhooks
 * signature: v1 = base64 HMAC-SHA256 of "<webhook-id>.<timestamp>.<body>";
 * the fake does not keep webhook-timestamp: the seconds around arrival. */
static bool
s_signed (const fake_request_t *r)
{
  uint8_t key[64], mac[32];
  int key_len = at_base64_decode (S_KEY, strlen (S_KEY), key, sizeof key);
  IT_CHECK (key_len > 0, "secret decodes");
  long long arrived = r->at_us / 1000000;
  for (long long ts = arrived - 30; ts <= arrived + 2; ts++) {
    char text[FAKE_BODY_MAX + 200], want[64];
    int n = snprintf (text, sizeof text, "%s.%lld.%.*s", r->webhook_id, ts, (int) r->body_len,
                      r->body);
    at_hmac_sha256 (key, (size_t) key_len, text, (size_t) n, mac);
    at_base64_encode (mac, sizeof mac, want, sizeof want);
    if (strncmp (r->webhook_signature, "v1,", 3) == 0 && strcmp (r->webhook_signature + 3, want)
        == 0)
      return true;
  }
  return false;
}

static bool
s_two_calls (void *arg)
{
  (void) arg;
  return fake_http_accepted (s_fake, "/store") >= 1 && fake_http_count (s_fake) >= 2;
}

/* A webhook rule: the store's receiver answers 500 once, then 200; both
 * calls signed, with the same webhook-id and Idempotency-Key. */
static void
s_webhook (void)
{
  s_create ("{\"name\":\"tell the store\",\"event\":\"message_in\",\"conditions\":[{\"field\":"
            "\"text\",\"op\":\"contains\",\"value\":\"nota fiscal\"}],\"actions\":[{\"type\":"
            "\"webhook\",\"name\":\"invoice_question\"}]}");
  fake_http_script (s_fake, "/store", 500, NULL, 0, 1);
  long long t = s_send ("whatsapp", "5511900000401", "Preciso da nota fiscal do meu pedido",
                        "wh-1");
  IT_CHECK (it_wait_until (s_two_calls, NULL, WAIT_MS), "the store got the webhook twice");
  fake_request_t a, b;
  IT_CHECK (fake_http_get (s_fake, 0, &a) && fake_http_get (s_fake, 1, &b), "two calls");
  IT_CHECK (a.answered == 500 && b.answered == 200, "500 then 200: %d %d", a.answered, b.answered);
  IT_CHECK (s_signed (&a) && s_signed (&b), "signed: %s", b.webhook_signature);
  IT_CHECK (a.webhook_id[0] && strcmp (a.webhook_id, b.webhook_id) == 0
            && strcmp (b.idempotency_key, b.webhook_id) == 0, "same webhook-id: %s %s %s",
            a.webhook_id, b.webhook_id, b.idempotency_key);
  json_t *doc = json_loadb (b.body, b.body_len, 0, NULL);
  IT_CHECK (doc && strcmp (json_string_value (json_object_get (doc, "type")), "rule.webhook") == 0
            && strcmp (json_string_value (json_object_get (doc, "kind")), "invoice_question") == 0
            && json_integer_value (json_object_get (doc, "ticket_id")) == t, "body: %.*s",
            (int) b.body_len, b.body);
  json_decref (doc);
  IT_CHECK (it_wait_scalar (s_db, "SELECT CASE WHEN count(*) = 0 THEN 1 ELSE 0 END FROM"
                            " bus_message WHERE type = 'rule.webhook'", 1, WAIT_MS) == 1
            && s_q ("SELECT count(*) FROM bus_dead WHERE type = 'rule.webhook'") == 0,
            "the webhook message is done");
  IT_CHECK (fake_http_count (s_fake) == 2, "no third call");
}

static void
s_auto_reply (void)
{
  s_bad ("POST", "/v1/rules", "{\"name\":\"ack\",\"event\":\"message_in\",\"actions\":"
         "[{\"type\":\"add_tag\",\"tag\":\"ack\"},{\"type\":\"auto_reply\",\"template\":"
         "\"rule_nope\"}]}", "/actions/1/template");
  json_decref (s_call ("PUT", "/v1/templates/rule_ack/pt-BR", "{\"body\":\"Recebemos seu"
                       " pedido de retorno[ sobre o pedido {order_id}]. Uma pessoa responde em"
                       " breve.\"}", 201));
  s_create ("{\"name\":\"ack\",\"event\":\"message_in\",\"conditions\":[{\"field\":\"text\","
            "\"op\":\"contains\",\"value\":\"quero um retorno\"}],\"actions\":[{\"type\":"
            "\"auto_reply\",\"template\":\"rule_ack\"}]}");
  long long t = s_send ("whatsapp", "5511900000601", "Oi, quero um retorno de vocês", "ar-1");
  char sql[512];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM ticket_message WHERE ticket_id = %lld AND"
            " direction = 'out' AND author = 'bot' AND body = 'Recebemos seu pedido de retorno."
            " Uma pessoa responde em breve.'", t);
  IT_CHECK (it_wait_scalar (s_db, sql, 1, WAIT_MS) == 1, "the template said");
  s_drained ();
  IT_CHECK (s_q ("%s", sql) == 1, "said once");
}

static void
s_order_status (void)
{
  s_create ("{\"name\":\"shipped follow-up\",\"event\":\"order_status_changed\","
            "\"conditions\":[{\"field\":\"order_status\",\"op\":\"in\",\"value\":[\"shipped\","
            "\"in_transit\"]}],\"actions\":[{\"type\":\"add_tag\",\"tag\":\"shipped\"}]}");
  long long t = s_send ("whatsapp", "5511900000701", "Olá, tudo bem com vocês?", "os-1");
  json_decref (s_call ("POST", "/v1/orders/RULE-1/events", "{\"status\":\"shipped\",\"event_id\":"
                       "\"RULE-1-shipped\",\"customer\":{\"channel\":\"whatsapp\",\"handle\":"
                       "\"5511900000701\",\"name\":\"Cliente\"}}", 202));
  char sql[256];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM ticket WHERE id = %lld AND 'shipped' ="
            " ANY (tags)", t);
  IT_CHECK (it_wait_scalar (s_db, sql, 1, WAIT_MS) == 1, "tagged by the order's status");
  IT_CHECK (s_q ("SELECT count(*) FROM rule_run r JOIN rule ru ON ru.id = r.rule_id WHERE"
                 " r.ticket_id = %lld AND r.event = 'order_status_changed' AND r.fired AND"
                 " ru.name = 'shipped follow-up'", t) == 1, "logged");
}

/* close_after_days (1 day): y gets no answer and is closed by the rule; on
 * x the customer writes again before it is due. The test then moves the
 * closes' due time to now (their rows' not_before), so that what it proves
 * does not hang on how fast a loaded machine is. */
static void
s_close_after (void)
{
  s_create ("{\"name\":\"close quiet\",\"event\":\"message_in\",\"conditions\":[{\"field\":"
            "\"text\",\"op\":\"contains\",\"value\":\"era só isso\"}],\"actions\":[{\"type\":"
            "\"close_after_days\",\"days\":1}]}");
  long long y = s_send ("whatsapp", "5511900000501", "Obrigado, era só isso", "cl-1");
  long long x = s_send ("whatsapp", "5511900000502", "Obrigado, era só isso", "cl-2");
  IT_CHECK (s_send ("whatsapp", "5511900000502", "Ah, e vocês entregam no sábado?", "cl-3") == x,
            "same ticket");
  IT_CHECK (s_q ("SELECT count(*) FROM bus_message WHERE type = 'rule.close'"
                 " AND not_before > now () + interval '23 hours'") == 2, "two closes, a day away");
  s_q ("WITH u AS (UPDATE bus_message SET not_before = now () WHERE type = 'rule.close'"
       " RETURNING 1) SELECT count(*) FROM u");
  IT_CHECK (it_wait_scalar (s_db, "SELECT CASE WHEN count(*) = 0 THEN 1 ELSE 0 END FROM"
                            " bus_message WHERE type IN ('rule.close', 'ticket.resolve')", 1,
                            WAIT_MS) == 1, "the closes came due");
  s_drained ();
  IT_CHECK (s_q ("SELECT count(*) FROM ticket WHERE id = %lld AND status = 'resolved'", y) == 1,
            "y closed by the rule");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket WHERE id = %lld AND status <> 'resolved'", x) == 1,
            "x left open: the customer wrote again");
  IT_CHECK (s_q ("SELECT count(*) FROM bus_dead WHERE type LIKE 'rule.%%'") == 0, "nothing dead");
}

/* The route stage's message of a new customer's text is copied while route
 * is stopped, handled, then put back on the bus as it was (same id): the
 * second delivery finds the rules' log and applies nothing again. */
static void
s_redelivery (void)
{
  it_stop (s_route, SIGTERM, 10000);
  it_message_send (s_st.api, s_db, "whatsapp", "5511900000301", "Cliente",
                   "Tem esse tênis no tamanho 42?", "rd-1", WAIT_MS);
  IT_CHECK (it_wait_scalar (s_db, "SELECT count(*) FROM bus_message WHERE stage = 'route'"
                            " AND type = 'ticket.message'", 1, WAIT_MS) == 1, "waiting for route");
  IT_CHECK (s_q ("CREATE TABLE kept AS SELECT * FROM bus_message WHERE stage = 'route' AND type ="
                 " 'ticket.message'; SELECT count(*) FROM kept") == 1, "kept a copy");
  s_route = it_stack_spawn (&s_st, "route2", (const char *[]) {"worker", "route", NULL});
  s_drained ();
  long long t = s_q ("SELECT ticket_id FROM ticket_message WHERE provider_message_id = 'rd-1'");
  long long runs = s_q ("SELECT count(*) FROM rule_run WHERE ticket_id = %lld", t);
  IT_CHECK (runs >= 2 && s_q ("SELECT count(*) FROM rule_run WHERE ticket_id = %lld AND fired"
                              " AND event = 'priority_changed'", t) == 1, "sizing chain ran: %s",
            it_db_text (s_db, "SELECT string_agg (event || ' ' || fired || ' ' || why, '; ')"
                        " FROM rule_run WHERE ticket_id = (SELECT max (id) FROM ticket)"));
  IT_CHECK (s_q ("INSERT INTO bus_message SELECT * FROM kept RETURNING 1") == 1, "delivered again");
  s_drained ();
  IT_CHECK (s_q ("SELECT count(*) FROM bus_message WHERE id = (SELECT id FROM kept)") == 0
            && s_q ("SELECT count(*) FROM bus_dead WHERE id = (SELECT id FROM kept)") == 0,
            "the copy was handled");
  IT_CHECK (s_q ("SELECT count(*) FROM rule_run WHERE ticket_id = %lld", t) == runs,
            "no rule ran twice");
  IT_CHECK (s_q ("SELECT count(*) FROM (SELECT 1 FROM rule_run GROUP BY msg_id, ticket_id, chain,"
                 " depth, event, rule_id HAVING count(*) > 1) d") == 0, "no run logged twice");
}

static void
s_idle (void)
{
  s_create ("{\"name\":\"nudge\",\"event\":\"idle\",\"after_s\":2,\"conditions\":[{\"field\":"
            "\"text\",\"op\":\"contains\",\"value\":\"alguém aí\"}],\"actions\":[{\"type\":"
            "\"add_tag\",\"tag\":\"waiting\"}]}");
  long long t = s_send ("whatsapp", "5511900000801", "Oi, alguém aí?", "id-1");
  char sql[256];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM ticket WHERE id = %lld AND 'waiting' ="
            " ANY (tags)", t);
  IT_CHECK (it_wait_scalar (s_db, sql, 1, WAIT_MS) == 1, "tagged when idle");
  IT_CHECK (s_q ("SELECT count(*) FROM rule_run r JOIN rule ru ON ru.id = r.rule_id WHERE"
                 " r.ticket_id = %lld AND r.event = 'idle' AND r.fired AND ru.name = 'nudge'", t)
            == 1, "logged once");
}

int
main (void)
{
  it_require_pg ();
  int port = it_free_port ();
  s_fake = fake_http_start (port);
  IT_CHECK (s_fake, "fake server");
  static char store[128];
  snprintf (store, sizeof store, "ATENDE_STORE_WEBHOOK_URL=http://127.0.0.1:%d/store", port);
  it_stack_init (&s_st, "rules_flow", (const char *[]) {
      "ATENDE_RETRY_BASE_MS=100", "ATENDE_HEARTBEAT_MS=200", "ATENDE_KB_MIN_SCORE=100",
      "ATENDE_WEBHOOK_SECRET=whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
      "ATENDE_WEBHOOK_URL=http://127.0.0.1:9/hooks", store,
      "ATENDE_STORE_WEBHOOK_SECRET=whsec_" S_KEY, NULL});
  s_db = it_db_connect (s_st.conninfo);
  it_stack_pids_t pids = it_stack_start (&s_st, "ingest,notify", WAIT_MS);
  s_route = it_stack_spawn (&s_st, "route", (const char *[]) {"worker", "route", NULL});
  s_crud ();
  s_complaint ();
  s_dry_run_equals_reality ();
  s_sla_breach ();
  s_webhook ();
  s_auto_reply ();
  s_order_status ();
  s_close_after ();
  s_redelivery ();
  s_idle ();
  it_stop (s_route, SIGTERM, 10000);
  it_stack_stop (&pids);
  fake_http_stop (&s_fake);
  PQfinish (s_db);
  printf ("test_rules_flow: ok\n");
  return 0;
}
