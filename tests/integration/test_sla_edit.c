/* SLA calendars and policies changed and deleted through the real api, over
 * HTTP, with ingest and route running (PostgreSQL). Checked as a user sees
 * it (answers, GET, audit rows, the tickets' clocks and sla_event rows):
 *   - PUT /v1/calendars/{id}: GET shows the change; holidays absent keep the
 *     calendar's, a list replaces them; a 422 (windows, timezone, name)
 *     leaves the old definition as it was; 404 unknown; 409 a taken name;
 *   - who may: a key with kpis:read but not admin, and an agent, get 403; a
 *     signed-in lead may;
 *   - PUT /v1/sla/policies/{id}: a clock already started keeps its target;
 *     a new ticket and a priority change (re-target) take the policy as it
 *     is now; 422 (priority, calendar_id of a deleted calendar), 409, 404;
 *   - DELETE: a used calendar 409 naming its policy, nothing deleted; the
 *     policy 204 (then 404), the calendar 204, GET 404; a clock running
 *     under them still reaches its breach (its sla.check already on the
 *     bus), another is met by an agent's reply (route loads the deleted
 *     calendar); a new ticket falls back to the settings' default; the
 *     priority and channel are free for a new policy;
 *   - one audit row per change (sla.calendar.update, sla.calendar.delete,
 *     sla.policy.update, sla.policy.delete). */
#define _GNU_SOURCE
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "it.h"

#define WAIT_MS 60000
#define S_PASSWORD "correct horse battery staple"
#define S_FIRST_S 25      /* the chat policy's first response: T1 breaches this long after */

static it_stack_t s_st;
static PGconn *s_db;

#define s_q(...) it_db_scalarf (s_db, __VA_ARGS__)

typedef struct {
  long status;
  json_t *doc;
  char *body, *headers;
} s_answer_t;

/* A request with the test's admin key (headers NULL) or with headers only. */
static s_answer_t
s_http (const char *method, const char *path, const char *body, const char *const *headers)
{
  char url[512];
  s_answer_t a = {0};
  snprintf (url, sizeof url, "%s%s", s_st.api, path);
  a.status = it_http_ex (method, url, body ? "application/json" : NULL, body, headers,
                         headers == NULL, &a.body, &a.headers);
  a.doc = json_loads (a.body ? a.body : "", JSON_DECODE_ANY, NULL);
  return a;
}

static void
s_free (s_answer_t *a)
{
  json_decref (a->doc);
  free (a->body);
  free (a->headers);
}

/* As the admin key, answering want; the answer's JSON. */
static json_t *
s_call (const char *method, const char *path, const char *body, long want)
{
  s_answer_t a = s_http (method, path, body, NULL);
  IT_CHECK (a.status == want, "%s %s: %ld, want %ld: %.400s", method, path, a.status, want,
            a.body ? a.body : "");
  json_t *doc = a.doc ? json_incref (a.doc) : json_object ();
  s_free (&a);
  return doc;
}

static long long
s_id (json_t *doc)
{
  long long id = json_integer_value (json_object_get (doc, "id"));
  json_decref (doc);
  IT_CHECK (id > 0, "an id");
  return id;
}

static long long
s_audit (void)
{
  return s_q ("SELECT count(*) FROM audit_log");
}

/* A refusal (status) naming field that changes nothing: path's GET answers
 * the same before and after, and no audit row. */
static void
s_refused (const char *method, const char *path, const char *body, long status,
           const char *field)
{
  json_t *before = s_call ("GET", path, NULL, 200);
  long long audit = s_audit ();
  json_t *doc = s_call (method, path, body, status);
  const char *got = json_string_value (json_object_get (doc, "field"));
  IT_CHECK (got && strcmp (got, field) == 0, "%s %s %s names %s, want %s", method, path, body,
            got ? got : "(none)", field);
  json_decref (doc);
  json_t *after = s_call ("GET", path, NULL, 200);
  IT_CHECK (json_equal (before, after) && s_audit () == audit, "%s %s %s changed something",
            method, path, body);
  json_decref (before);
  json_decref (after);
}

#define S_OFFICE \
  "{\"name\":\"%s\",\"timezone\":\"%s\",\"windows\":[{\"days\":[\"mon\",\"tue\",\"wed\"," \
  "\"thu\",\"fri\"],\"start\":\"08:00\",\"end\":\"12:00\"},{\"days\":[\"mon\",\"tue\",\"wed\"," \
  "\"thu\",\"fri\"],\"start\":\"13:00\",\"end\":\"%s\"}]%s}"
#define S_ALWAYS \
  "{\"name\":\"%s\",\"timezone\":\"UTC\",\"windows\":[{\"days\":[\"sun\",\"mon\",\"tue\"," \
  "\"wed\",\"thu\",\"fri\",\"sat\"],\"start\":\"00:00\",\"end\":\"24:00\"}]}"

static long long s_office, s_always, s_always2;
static char s_office_path[64];

static void
s_calendar_put (void)
{
  char body[1024];
  snprintf (body, sizeof body, S_OFFICE, "office", "America/Sao_Paulo", "18:00",
            ",\"holidays\":[\"2026-12-25\"]");
  s_office = s_id (s_call ("POST", "/v1/calendars", body, 201));
  snprintf (s_office_path, sizeof s_office_path, "/v1/calendars/%lld", s_office);
  snprintf (body, sizeof body, S_ALWAYS, "always");
  s_always = s_id (s_call ("POST", "/v1/calendars", body, 201));
  snprintf (body, sizeof body, S_ALWAYS, "always too");
  s_always2 = s_id (s_call ("POST", "/v1/calendars", body, 201));
  /* the shift now ends at 17:00, Recife's time, and a new holiday list */
  snprintf (body, sizeof body, S_OFFICE, "office 2027", "America/Recife", "17:00",
            ",\"holidays\":[\"2027-01-01\",{\"date\":\"2027-12-25\",\"name\":\"Natal\"}]");
  json_t *put = s_call ("PUT", s_office_path, body, 200);
  json_t *got = s_call ("GET", s_office_path, NULL, 200);
  IT_CHECK (json_equal (put, got), "PUT answers the calendar as GET shows it");
  json_t *w = json_array_get (json_object_get (got, "windows"), 1);
  json_t *h = json_object_get (got, "holidays");
  IT_CHECK (strcmp (json_string_value (json_object_get (got, "timezone")), "America/Recife") == 0
            && strcmp (json_string_value (json_object_get (got, "name")), "office 2027") == 0
            && json_array_size (json_object_get (got, "windows")) == 10
            && strcmp (json_string_value (json_object_get (w, "end")), "17:00") == 0
            && json_array_size (h) == 2
            && strcmp (json_string_value (json_object_get (json_array_get (h, 1), "name")),
                       "Natal") == 0, "the calendar changed");
  json_decref (put);
  json_decref (got);
  /* holidays absent: kept; [] : none */
  snprintf (body, sizeof body, S_OFFICE, "office 2027", "America/Recife", "18:00", "");
  got = s_call ("PUT", s_office_path, body, 200);
  IT_CHECK (json_array_size (json_object_get (got, "holidays")) == 2, "holidays kept");
  json_decref (got);
  /* refusals: nothing changes */
  s_refused ("PUT", s_office_path, "{\"name\":\"office 2027\",\"timezone\":\"UTC\","
             "\"windows\":[{\"days\":[\"mon\"],\"start\":\"08:00\",\"end\":\"12:00\"},"
             "{\"days\":[\"tue\",\"mon\"],\"start\":\"11:00\",\"end\":\"13:00\"}]}", 422,
             "windows");
  snprintf (body, sizeof body, S_OFFICE, "office 2027", "Mars/Olympus", "18:00", "");
  s_refused ("PUT", s_office_path, body, 422, "timezone");
  snprintf (body, sizeof body, S_OFFICE, "", "America/Recife", "18:00", "");
  s_refused ("PUT", s_office_path, body, 422, "name");
  snprintf (body, sizeof body, S_OFFICE, "office 2027", "America/Recife", "18:00",
            ",\"holidays\":[\"2027-02-30\"]");
  s_refused ("PUT", s_office_path, body, 422, "holidays");
  snprintf (body, sizeof body, S_OFFICE, "always", "America/Recife", "18:00", "");
  s_refused ("PUT", s_office_path, body, 409, "name");
  json_decref (s_call ("PUT", "/v1/calendars/999999", body, 404));
  IT_CHECK (s_q ("SELECT count(*) FROM audit_log WHERE action = 'sla.calendar.update'"
                 " AND target = 'sla_calendar:%lld'", s_office) == 2, "two updates audited");
}

/* method path as headers: want. */
static void
s_as (const char *const *headers, const char *method, const char *path, const char *body,
      long want)
{
  s_answer_t a = s_http (method, path, body, headers);
  IT_CHECK (a.status == want, "%s %s as %.30s: %ld, want %ld: %.300s", method, path, headers[0],
            a.status, want, a.body ? a.body : "");
  s_free (&a);
}

static void
s_who_may (void)
{
  char body[1024], bearer[2][160];
  static const char *const scopes[2] = {"kpis:read", "tickets:read"};
  for (int i = 0; i < 2; i++) {
    snprintf (body, sizeof body, "{\"name\":\"painel %d\",\"scopes\":[\"%s\"]}", i, scopes[i]);
    json_t *made = s_call ("POST", "/v1/keys", body, 201);
    snprintf (bearer[i], sizeof bearer[i], "Authorization: Bearer %s",
              json_string_value (json_object_get (made, "key")));
    json_decref (made);
  }
  snprintf (body, sizeof body, S_OFFICE, "office lead", "America/Sao_Paulo", "18:00", "");
  json_t *before = s_call ("GET", s_office_path, NULL, 200);
  static const char sla_audit[] = "SELECT count(*) FROM audit_log WHERE action LIKE 'sla.%'";
  long long audit = it_db_scalar (s_db, sla_audit);
  for (int i = 0; i < 2; i++) {
    const char *key[] = {bearer[i], NULL};
    s_as (key, "PUT", s_office_path, body, 403);
    s_as (key, "DELETE", s_office_path, NULL, 403);
    s_as (key, "DELETE", "/v1/sla/policies/1", NULL, 403);
    s_as (key, "PUT", "/v1/sla/policies/1", "{}", 403);
  }
  char agent[2][256], lead[2][256];
  it_sign_in (s_st.api, "beto@loja.com.br", "agent", S_PASSWORD, agent);
  it_sign_in (s_st.api, "lia@loja.com.br", "lead", S_PASSWORD, lead);
  const char *as_agent[] = {agent[0], agent[1], NULL};
  s_as (as_agent, "PUT", s_office_path, body, 403);
  s_as (as_agent, "DELETE", s_office_path, NULL, 403);
  json_t *after = s_call ("GET", s_office_path, NULL, 200);
  IT_CHECK (json_equal (before, after) && it_db_scalar (s_db, sla_audit) == audit,
            "a refused caller changed something");
  json_decref (before);
  json_decref (after);
  const char *as_lead[] = {lead[0], lead[1], NULL};
  s_as (as_lead, "PUT", s_office_path, body, 200);
  IT_CHECK (s_q ("SELECT count(*) FROM audit_log a JOIN app_user u ON a.actor = 'user:' || u.id"
                 " WHERE a.action = 'sla.calendar.update' AND u.email = 'lia@loja.com.br'") == 1,
            "the lead's update audited under the lead");
}

/* Sends a customer's message; its ticket id. */
static long long
s_send (const char *channel, const char *handle, const char *text, const char *pid)
{
  it_message_send (s_st.api, s_db, channel, handle, "Cliente", text, pid, WAIT_MS);
  return s_q ("SELECT ticket_id FROM ticket_message WHERE provider_message_id = '%s'", pid);
}

static void
s_wait (long long want, const char *what, const char *fmt, long long ticket)
{
  char sql[1024];
  snprintf (sql, sizeof sql, fmt, ticket);
  long long got = it_wait_scalar (s_db, sql, want, WAIT_MS);
  IT_CHECK (got == want, "%s: %lld, want %lld (%s)", what, got, want, sql);
}

#define S_WA \
  "{\"name\":\"%s\",\"priority\":\"%s\",\"channel\":\"whatsapp\",\"calendar_id\":%lld," \
  "\"first_response\":{\"target_s\":%d,\"time\":\"wall\"},\"resolution\":{\"target_s\":%d}}"

/* A changed policy: new tickets and a priority change take it. */
static void
s_policy_put (void)
{
  char body[1024], path[64], high_path[64];
  snprintf (body, sizeof body, S_WA, "wa", "normal", s_always2, 1200, 7200);
  long long wa = s_id (s_call ("POST", "/v1/sla/policies", body, 201));
  snprintf (body, sizeof body, S_WA, "wa high", "high", s_always2, 900, 3600);
  long long high = s_id (s_call ("POST", "/v1/sla/policies", body, 201));
  snprintf (path, sizeof path, "/v1/sla/policies/%lld", wa);
  snprintf (high_path, sizeof high_path, "/v1/sla/policies/%lld", high);
  snprintf (body, sizeof body, S_WA, "wa 2027", "normal", s_always2, 1800, 7200);
  json_t *put = s_call ("PUT", path, body, 200);
  json_t *got = s_call ("GET", path, NULL, 200);
  IT_CHECK (json_equal (put, got) && json_integer_value (json_object_get (json_object_get (
                got, "first_response"), "target_s")) == 1800, "the policy changed");
  json_decref (put);
  json_decref (got);
  snprintf (body, sizeof body, S_WA, "wa high 2027", "high", s_always2, 600, 3600);
  json_decref (s_call ("PUT", high_path, body, 200));
  snprintf (body, sizeof body, S_WA, "wa", "urgent", s_always2, 60, 60);
  s_refused ("PUT", path, body, 422, "priority");
  snprintf (body, sizeof body, S_WA, "wa", "normal", 999999LL, 60, 60);
  s_refused ("PUT", path, body, 422, "calendar_id");
  snprintf (body, sizeof body, S_WA, "wa", "high", s_always2, 60, 60);
  s_refused ("PUT", path, body, 409, "channel");
  json_decref (s_call ("PUT", "/v1/sla/policies/999999", body, 404));
  long long t = s_send ("whatsapp", "+5511987650101", "Qual o horário de atendimento de vocês?", "ed-1");
  s_wait (1, "a new ticket on the changed policy", "SELECT count(*) FROM sla_clock WHERE"
          " ticket_id = %lld AND metric = 'first_response' AND state = 'running' AND"
          " target_s = 1800", t);
  s_send ("whatsapp", "+5511987650101", "Se não resolverem vou abrir reclamação no Procon",
          "ed-2");
  s_wait (1, "re-targeted to the changed high policy", "SELECT count(*) FROM sla_clock WHERE"
          " ticket_id = %lld AND metric = 'first_response' AND priority = 'high' AND"
          " target_s = 600", t);
  IT_CHECK (s_q ("SELECT count(*) FROM audit_log WHERE action = 'sla.policy.update' AND target"
                 " IN ('sla_policy:%lld', 'sla_policy:%lld')", wa, high) == 2, "audited");
}

static long long s_chat, s_t1, s_t2;
static char s_pol_path[64], s_cal_path[64];

/* Two chat tickets' clocks started under a policy that then changes: they
 * keep their target and due time. */
static void
s_started (void)
{
  char body[1024];
  snprintf (body, sizeof body, "{\"name\":\"chat\",\"priority\":\"normal\",\"channel\":\"chat\","
            "\"calendar_id\":%lld,\"first_response\":{\"target_s\":%d},\"resolution\":"
            "{\"target_s\":3600}}", s_always, S_FIRST_S);
  s_chat = s_id (s_call ("POST", "/v1/sla/policies", body, 201));
  snprintf (s_pol_path, sizeof s_pol_path, "/v1/sla/policies/%lld", s_chat);
  snprintf (s_cal_path, sizeof s_cal_path, "/v1/calendars/%lld", s_always);
  long long t1 = s_t1 = s_send ("chat", "ed-ana", "Tenho uma dúvida sobre a cor do tênis azul", "ed-3");
  long long t2 = s_t2 = s_send ("chat", "ed-bia", "Vocês entregam em Manaus?", "ed-4");
  static const char running[] = "SELECT count(*) FROM sla_clock WHERE ticket_id = %lld AND"
                                " state = 'running'";
  s_wait (2, "t1's clocks running", running, t1);
  s_wait (2, "t2's clocks running", running, t2);
  long long due = s_q ("SELECT extract (epoch FROM due_at)::bigint FROM sla_clock WHERE"
                       " ticket_id = %lld AND metric = 'first_response'", t1);
  /* changed: the clocks started keep their targets and due times */
  snprintf (body, sizeof body, "{\"name\":\"chat\",\"priority\":\"normal\",\"channel\":\"chat\","
            "\"calendar_id\":%lld,\"first_response\":{\"target_s\":3600}}", s_always);
  json_decref (s_call ("PUT", s_pol_path, body, 200));
  IT_CHECK (s_q ("SELECT count(*) FROM sla_clock WHERE ticket_id = %lld AND metric ="
                 " 'first_response' AND target_s = %d AND policy_id = %lld AND extract (epoch"
                 " FROM due_at)::bigint = %lld", t1, S_FIRST_S, s_chat, due) == 1,
            "target kept");
}

/* The calendar is the policy's: 409 naming it, nothing deleted; then the
 * policy goes, and the calendar. */
static void
s_deletes (void)
{
  char body[1024];
  const char *pol_path = s_pol_path, *cal_path = s_cal_path;
  long long chat = s_chat;
  s_answer_t a = s_http ("DELETE", cal_path, NULL, NULL);
  json_t *named = json_array_get (json_object_get (a.doc, "policies"), 0);
  IT_CHECK (a.status == 409 && json_integer_value (json_object_get (named, "id")) == chat
            && strcmp (json_string_value (json_object_get (named, "name")), "chat") == 0
            && strcmp (json_string_value (json_object_get (a.doc, "field")), "policies") == 0
            && strstr (json_string_value (json_object_get (a.doc, "detail")), "(chat)")
            && strstr (a.headers, "application/problem+json"), "409: %ld %s", a.status, a.body);
  s_free (&a);
  json_decref (s_call ("GET", cal_path, NULL, 200));
  json_decref (s_call ("DELETE", pol_path, NULL, 204));
  json_decref (s_call ("DELETE", pol_path, NULL, 404));
  json_decref (s_call ("GET", pol_path, NULL, 404));
  snprintf (body, sizeof body, "{\"name\":\"chat\",\"priority\":\"normal\",\"channel\":"
            "\"chat\",\"calendar_id\":%lld,\"first_response\":{\"target_s\":60}}", s_always2);
  json_decref (s_call ("PUT", pol_path, body, 404));
  json_decref (s_call ("DELETE", cal_path, NULL, 204));
  json_decref (s_call ("GET", cal_path, NULL, 404));
  json_decref (s_call ("DELETE", cal_path, NULL, 404));
  snprintf (body, sizeof body, S_ALWAYS, "always");
  json_decref (s_call ("PUT", cal_path, body, 404));
  char url[256], *text = NULL;
  snprintf (url, sizeof url, "%s%s/holidays/ical", s_st.api, cal_path);
  long st = it_http ("POST", url, "text/calendar", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
                     "BEGIN:VEVENT\r\nUID:a\r\nDTSTART;VALUE=DATE:20271225\r\nEND:VEVENT\r\n"
                     "END:VCALENDAR\r\n", &text);
  IT_CHECK (st == 404, "holidays for a deleted calendar: %ld %s", st, text ? text : "");
  free (text);
  json_t *list = s_call ("GET", "/v1/calendars", NULL, 200);
  IT_CHECK (json_array_size (json_object_get (list, "items")) == 2, "two calendars listed");
  json_decref (list);
  list = s_call ("GET", "/v1/sla/policies", NULL, 200);
  IT_CHECK (json_array_size (json_object_get (list, "items")) == 2, "two policies listed");
  json_decref (list);
  /* a deleted calendar is no policy's */
  snprintf (body, sizeof body, "{\"name\":\"x\",\"priority\":\"high\",\"channel\":\"chat\","
            "\"calendar_id\":%lld,\"first_response\":{\"target_s\":60}}", s_always);
  json_decref (s_call ("POST", "/v1/sla/policies", body, 422));
}

/* The clocks under the deleted policy and calendar go on. */
static void
s_after (void)
{
  char body[1024];
  long long t1 = s_t1, t2 = s_t2, chat = s_chat;
  /* t2: an agent answers; route meets first response and pauses resolution
   * on the deleted calendar */
  char path[64];
  snprintf (path, sizeof path, "/v1/tickets/%lld/replies", t2);
  json_decref (s_call ("POST", path, "{\"text\":\"Pode sim, das 10h às 20h.\"}", 202));
  s_wait (2, "t2 answered under the deleted policy", "SELECT count(*) FROM sla_clock WHERE"
          " ticket_id = %lld AND ((metric = 'first_response' AND met_at IS NOT NULL) OR"
          " (metric = 'resolution' AND state = 'paused'))", t2);
  /* t1: nobody answers; its breach comes at its due time, after the delete */
  s_wait (1, "t1 breached after its policy and calendar went", "SELECT count(*) FROM sla_event"
          " WHERE ticket_id = %lld AND metric = 'first_response' AND kind = 'breach'", t1);
  IT_CHECK (s_q ("SELECT count(*) FROM sla_event e, sla_policy p WHERE e.ticket_id = %lld AND"
                 " e.kind = 'breach' AND p.id = %lld AND e.created_at > p.deleted_at", t1, chat)
            == 1, "the breach came after the delete");
  snprintf (path, sizeof path, "/v1/tickets/%lld", t1);
  json_t *doc = s_call ("GET", path, NULL, 200);
  json_t *fr = json_array_get (json_object_get (doc, "sla"), 0);
  IT_CHECK (strcmp (json_string_value (json_object_get (fr, "state")), "breached") == 0
            && json_integer_value (json_object_get (fr, "policy_id")) == chat
            && json_integer_value (json_object_get (fr, "calendar_id")) == s_always,
            "the ticket shows the clock under its deleted policy and calendar");
  json_decref (doc);
  /* a new chat ticket: no policy now, the settings' default (240 min, wall) */
  long long t3 = s_send ("chat", "ed-caio", "Qual o horário da loja?", "ed-5");
  s_wait (1, "the default clock", "SELECT count(*) FROM sla_clock WHERE ticket_id = %lld AND"
          " metric = 'first_response' AND policy_id IS NULL AND calendar_id IS NULL AND"
          " target_s = 14400", t3);
  /* the priority and channel are free again */
  snprintf (body, sizeof body, "{\"name\":\"chat\",\"priority\":\"normal\",\"channel\":\"chat\","
            "\"calendar_id\":%lld,\"first_response\":{\"target_s\":60}}", s_always2);
  json_decref (s_call ("POST", "/v1/sla/policies", body, 201));
  IT_CHECK (s_q ("SELECT count(*) FROM audit_log WHERE (action = 'sla.policy.delete' AND target ="
                 " 'sla_policy:%lld') OR (action = 'sla.calendar.delete' AND target ="
                 " 'sla_calendar:%lld')", chat, s_always) == 2, "the deletes audited once each");
}

int
main (void)
{
  it_require_pg ();
  it_stack_init (&s_st, "sla_edit", (const char *[]) {
      "ATENDE_RETRY_BASE_MS=100", "ATENDE_HEARTBEAT_MS=200", "ATENDE_KB_MIN_SCORE=100",
      "ATENDE_WEBHOOK_SECRET=whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
      "ATENDE_WEBHOOK_URL=http://127.0.0.1:9/hooks", NULL});
  s_db = it_db_connect (s_st.conninfo);
  it_stack_pids_t pids = it_stack_start (&s_st, "ingest,route,notify", WAIT_MS);
  s_calendar_put ();
  s_who_may ();
  s_policy_put ();
  s_started ();
  s_deletes ();
  s_after ();
  IT_CHECK (s_q ("SELECT count(*) FROM (SELECT 1 FROM sla_event WHERE kind IN ('warning',"
                 " 'breach') GROUP BY ticket_id, metric, cycle, kind HAVING count(*) > 1) d") == 0,
            "no warning or breach twice");
  it_stack_stop (&pids);
  PQfinish (s_db);
  printf ("test_sla_edit: ok\n");
  return 0;
}
