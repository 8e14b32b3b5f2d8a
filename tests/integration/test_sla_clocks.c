/* SLA clocks through the running pipeline (broker, api, ingest, route,
 * notify; PostgreSQL). A calendar open 24x7 (UTC) and policies with short
 * targets: chat normal (first response 4 s business, resolution 8 s
 * business), whatsapp normal (first response 120 s wall, next response
 * 120 s, resolution 600 s business), whatsapp high (first response 60 s
 * wall, resolution 300 s business). Checked as a user sees it (sla_event
 * rows, the ticket's clocks on GET /v1/tickets/{id}, /v1/kpis, /metrics):
 *   - bad calendars and policies: 422 naming the field, nothing stored;
 *   - holidays imported from an iCalendar file;
 *   - a chat ticket nobody answers: one warning, then one breach;
 *   - an agent's reply meets first response, the ticket pending pauses
 *     resolution, the customer's next message resumes it and starts next
 *     response;
 *   - a priority change re-targets keeping the time used;
 *   - a kill -9 of route between the warning and the breach: one breach. */
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

static json_t *
s_call_as (const char *method, const char *path, const char *type, const char *body, long want)
{
  char url[1024], *resp = NULL;
  snprintf (url, sizeof url, "%s%s", s_st.api, path);
  long st = it_http (method, url, type, body, &resp);
  IT_CHECK (st == want, "%s %s: %ld, want %ld: %.400s", method, path, st, want,
            resp ? resp : "");
  json_t *doc = json_loads (resp ? resp : "", JSON_DECODE_ANY, NULL);
  free (resp);
  return doc ? doc : json_object ();
}

static json_t *
s_call (const char *method, const char *path, const char *body, long want)
{
  return s_call_as (method, path, body ? "application/json" : NULL, body, want);
}

static void
s_wait (long long want, const char *what, const char *sql)
{
  long long got = it_wait_scalar (s_db, sql, want, WAIT_MS);
  IT_CHECK (got == want, "%s: %lld, want %lld (%s)", what, got, want, sql);
}

/* Sends a customer's message; its ticket id. */
static long long
s_send (const char *channel, const char *handle, const char *text, const char *pid)
{
  it_message_send (s_st.api, s_db, channel, handle, "Cliente", text, pid, WAIT_MS);
  return s_q ("SELECT ticket_id FROM ticket_message WHERE provider_message_id = '%s'", pid);
}

static void
s_bad (const char *path, const char *body, const char *field)
{
  json_t *doc = s_call ("POST", path, body, 422);
  const char *got = json_string_value (json_object_get (doc, "field"));
  IT_CHECK (got && strcmp (got, field) == 0, "%s %s names %s, want %s", path, body,
            got ? got : "(none)", field);
  json_decref (doc);
}

static long long s_calendar;

static void
s_setup (void)
{
  s_bad ("/v1/calendars", "{\"name\":\"x\",\"timezone\":\"Mars/Olympus\",\"windows\":[{\"days\":"
         "[\"mon\"],\"start\":\"08:00\",\"end\":\"12:00\"}]}", "timezone");
  s_bad ("/v1/calendars", "{\"name\":\"x\",\"timezone\":\"America/Sao_Paulo\",\"windows\":["
         "{\"days\":[\"mon\"],\"start\":\"08:00\",\"end\":\"12:00\"},{\"days\":[\"tue\",\"mon\"],"
         "\"start\":\"11:00\",\"end\":\"13:00\"}]}", "windows");
  s_bad ("/v1/calendars", "{\"name\":\"x\",\"timezone\":\"UTC\",\"windows\":[]}", "windows");
  s_bad ("/v1/sla/policies", "{\"name\":\"p\",\"priority\":\"normal\",\"first_response\":"
         "{\"target_s\":60}}", "calendar_id");
  s_bad ("/v1/sla/policies", "{\"name\":\"p\",\"priority\":\"normal\",\"calendar_id\":999,"
         "\"first_response\":{\"target_s\":60}}", "calendar_id");
  s_bad ("/v1/sla/policies", "{\"name\":\"p\",\"priority\":\"urgent\",\"calendar_id\":1}",
         "priority");
  IT_CHECK (s_q ("SELECT count(*) FROM sla_calendar") == 0, "no calendar stored");
  IT_CHECK (s_q ("SELECT count(*) FROM sla_policy") == 0, "no policy stored");
  json_t *cal = s_call ("POST", "/v1/calendars", "{\"name\":\"always\",\"timezone\":\"UTC\","
                        "\"windows\":[{\"days\":[\"sun\",\"mon\",\"tue\",\"wed\",\"thu\",\"fri\","
                        "\"sat\"],\"start\":\"00:00\",\"end\":\"24:00\"}]}", 201);
  s_calendar = json_integer_value (json_object_get (cal, "id"));
  IT_CHECK (s_calendar > 0 && json_array_size (json_object_get (cal, "windows")) == 7, "7 windows");
  json_decref (cal);
  static const char *const pol[] = {
    "{\"name\":\"chat\",\"priority\":\"normal\",\"channel\":\"chat\",\"calendar_id\":%lld,"
    "\"first_response\":{\"target_s\":4},\"resolution\":{\"target_s\":8}}",
    "{\"name\":\"wa\",\"priority\":\"normal\",\"channel\":\"whatsapp\",\"calendar_id\":%lld,"
    "\"first_response\":{\"target_s\":120,\"time\":\"wall\"},\"next_response\":{\"target_s\":120},"
    "\"resolution\":{\"target_s\":600}}",
    "{\"name\":\"wa high\",\"priority\":\"high\",\"channel\":\"whatsapp\",\"calendar_id\":%lld,"
    "\"first_response\":{\"target_s\":60,\"time\":\"wall\"},\"resolution\":{\"target_s\":300}}",
  };
  char body[512];
  for (size_t i = 0; i < 3; i++) {
    snprintf (body, sizeof body, pol[i], s_calendar);
    json_decref (s_call ("POST", "/v1/sla/policies", body, 201));
  }
  json_decref (s_call ("POST", "/v1/sla/policies", body, 409));
  json_t *list = s_call ("GET", "/v1/sla/policies", NULL, 200);
  IT_CHECK (json_array_size (json_object_get (list, "items")) == 3, "three policies");
  json_decref (list);
  IT_CHECK (s_q ("SELECT count(*) FROM audit_log WHERE action LIKE 'sla.%%'") == 4, "audited");
}

static void
s_ical (void)
{
  static const char ics[] =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
      "BEGIN:VEVENT\r\nUID:a\r\nDTSTART;VALUE=DATE:20261225\r\nSUMMARY:Natal\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:b\r\nDTSTART;VALUE=DATE:20261102\r\nSUMMARY:Finados\r\nEND:VEVENT\r\n"
      "END:VCALENDAR\r\n";
  char path[128];
  snprintf (path, sizeof path, "/v1/calendars/%lld/holidays/ical", s_calendar);
  json_t *doc = s_call_as ("POST", path, "text/calendar", ics, 200);
  IT_CHECK (json_integer_value (json_object_get (doc, "added")) == 2, "two holidays added");
  json_decref (doc);
  json_decref (s_call_as ("POST", path, "text/calendar", "BEGIN:VEVENT\r\nEND:VEVENT\r\n", 422));
  json_decref (s_call_as ("POST", path, "application/json", "{}", 415));
  json_decref (s_call_as ("POST", "/v1/calendars/9999/holidays/ical", "text/calendar", ics, 404));
  snprintf (path, sizeof path, "/v1/calendars/%lld", s_calendar);
  doc = s_call ("GET", path, NULL, 200);
  json_t *h = json_array_get (json_object_get (doc, "holidays"), 0);
  IT_CHECK (strcmp (json_string_value (json_object_get (h, "date")), "2026-11-02") == 0
            && strcmp (json_string_value (json_object_get (h, "name")), "Finados") == 0,
            "holidays listed by date");
  json_decref (doc);
  /* the test calendar must stay open now: the holidays are in the future or past */
  IT_CHECK (s_q ("SELECT count(*) FROM sla_holiday WHERE day = (now () AT TIME ZONE 'UTC')::date")
            == 0, "today is not one of the holidays");
}

/* Nobody answers a chat: one warning (at 2 s), one breach (at 4 s). */
static void
s_flow_breach (void)
{
  long long t = s_send ("chat", "sla-ana", "Tenho uma dúvida sobre a cor do tênis azul", "sla-1");
  char sql[256];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM sla_event WHERE ticket_id = %lld"
            " AND metric = 'resolution' AND kind = 'breach'", t);
  s_wait (1, "resolution breached", sql);
  IT_CHECK (s_q ("SELECT count(*) FROM sla_event WHERE ticket_id = %lld AND metric ="
                 " 'first_response' AND kind = 'warning'", t) == 1, "one warning");
  IT_CHECK (s_q ("SELECT count(*) FROM sla_event WHERE ticket_id = %lld AND metric ="
                 " 'first_response' AND kind = 'breach'", t) == 1, "one breach");
  IT_CHECK (s_q ("SELECT count(*) FROM sla_clock WHERE ticket_id = %lld AND metric ="
                 " 'first_response' AND state = 'breached' AND breaches = 1", t) == 1
            && s_q ("SELECT count(*) FROM ticket WHERE id = %lld AND abs (extract (epoch FROM"
                    " first_response_due - created_at) - 4) <= 1", t) == 1,
            "breached, first_response_due = created_at + 4 s");
  char path[64];
  snprintf (path, sizeof path, "/v1/tickets/%lld", t);
  json_t *doc = s_call ("GET", path, NULL, 200);
  json_t *fr = json_array_get (json_object_get (doc, "sla"), 0);
  IT_CHECK (strcmp (json_string_value (json_object_get (fr, "metric")), "first_response") == 0
            && strcmp (json_string_value (json_object_get (fr, "state")), "breached") == 0
            && json_integer_value (json_object_get (fr, "target_s")) == 4, "clock shown");
  json_decref (doc);
}

/* An agent's reply meets first response; pending pauses resolution; the
 * customer's message resumes it and starts next response. */
static void
s_flow_reply (void)
{
  long long t = s_send ("whatsapp", "+5511987650001", "Quero saber se a loja abre domingo",
                        "sla-2");
  char sql[512], path[64];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM sla_clock WHERE ticket_id = %lld"
            " AND state = 'running'", t);
  s_wait (2, "first response and resolution running", sql);
  snprintf (path, sizeof path, "/v1/tickets/%lld/replies", t);
  json_decref (s_call ("POST", path, "{\"text\":\"Abrimos sim, das 10h às 16h.\"}", 202));
  snprintf (sql, sizeof sql, "SELECT count(*) FROM sla_clock WHERE ticket_id = %lld AND"
            " ((metric = 'first_response' AND state = 'met' AND breaches = 0) OR (metric ="
            " 'resolution' AND state = 'paused' AND pause_reason = 'waiting_customer'))", t);
  s_wait (2, "first response met, resolution paused", sql);
  long long used = s_q ("SELECT consumed_s FROM sla_clock WHERE ticket_id = %lld"
                        " AND metric = 'resolution'", t);
  s_send ("whatsapp", "+5511987650001", "Obrigado! E no feriado também?", "sla-3");
  snprintf (sql, sizeof sql, "SELECT count(*) FROM sla_clock WHERE ticket_id = %lld AND state ="
            " 'running' AND ((metric = 'resolution' AND consumed_s = %lld AND pause_reason IS"
            " NULL) OR (metric = 'next_response' AND cycle = 1 AND target_s = 120))", t, used);
  s_wait (2, "resolution resumed with its time kept, next response running", sql);
  IT_CHECK (s_q ("SELECT count(*) FROM sla_event WHERE ticket_id = %lld AND kind IN ('paused',"
                 " 'resumed') AND metric = 'resolution'", t) == 2, "paused once, resumed once");
}

/* normal -> high: targets of the high policy, the time used kept: the
 * resolution clock (running since creation) is due 300 s after creation. */
static void
s_flow_priority (void)
{
  long long t = s_send ("whatsapp", "+5511987650002", "Qual o horário de atendimento de vocês?",
                        "sla-4");
  char sql[512];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM sla_clock WHERE ticket_id = %lld"
            " AND priority = 'normal' AND state = 'running'", t);
  s_wait (2, "normal clocks", sql);
  s_send ("whatsapp", "+5511987650002", "Se não resolverem vou abrir reclamação no Procon",
          "sla-5");
  snprintf (sql, sizeof sql, "SELECT count(*) FROM sla_clock k JOIN ticket t ON t.id ="
            " k.ticket_id WHERE t.id = %lld AND t.priority = 'high' AND k.priority = 'high' AND"
            " k.metric = 'resolution' AND k.target_s = 300 AND abs (extract (epoch FROM k.due_at"
            " - t.created_at) - 300) <= 2", t);
  s_wait (1, "resolution re-targeted to 300 s from creation", sql);
  IT_CHECK (s_q ("SELECT count(*) FROM sla_clock k JOIN ticket t ON t.id = k.ticket_id WHERE"
                 " t.id = %lld AND k.metric = 'first_response' AND k.target_s = 60 AND"
                 " t.first_response_due = k.due_at AND abs (extract (epoch FROM k.due_at -"
                 " t.created_at) - 60) <= 2", t) == 1, "first response 60 s from creation");
  IT_CHECK (s_q ("SELECT count(*) FROM sla_event WHERE ticket_id = %lld AND kind ="
                 " 'retargeted' AND detail = 'normal->high'", t) == 2, "two clocks re-targeted");
}

/* kill -9 of route after the warning, before the breach: one breach. */
static void
s_flow_crash (void)
{
  long long t = s_send ("chat", "sla-bia", "Vocês entregam em Manaus?", "sla-6");
  char sql[256];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM sla_event WHERE ticket_id = %lld"
            " AND metric = 'first_response' AND kind = 'warning'", t);
  s_wait (1, "warned", sql);
  kill (s_route, SIGKILL);
  waitpid (s_route, NULL, 0);
  s_route = it_stack_spawn (&s_st, "route2", (const char *[]) {"worker", "route", NULL});
  snprintf (sql, sizeof sql, "SELECT count(*) FROM sla_event WHERE ticket_id = %lld"
            " AND metric = 'resolution' AND kind = 'breach'", t);
  s_wait (1, "resolution breached after the restart", sql);
  IT_CHECK (s_q ("SELECT count(*) FROM sla_event WHERE ticket_id = %lld AND kind = 'breach'"
                 " AND metric = 'first_response'", t) == 1, "one first-response breach");
  IT_CHECK (s_q ("SELECT breaches FROM sla_clock WHERE ticket_id = %lld AND metric ="
                 " 'first_response'", t) == 1, "the clock counts one");
}

static void
s_kpis (void)
{
  json_t *k = s_call ("GET", "/v1/kpis", NULL, 200);
  json_t *row;
  size_t i;
  long long tickets = 0, within = 0;      /* over the teams */
  json_array_foreach (json_object_get (k, "sla"), i, row) {
    if (strcmp (json_string_value (json_object_get (row, "metric")), "first_response") == 0
        && strcmp (json_string_value (json_object_get (row, "channel")), "chat") == 0) {
      tickets += json_integer_value (json_object_get (row, "tickets"));
      within += json_integer_value (json_object_get (row, "within"));
    }
  }
  IT_CHECK (tickets == 2 && within == 0, "kpis: chat first response %lld of %lld within target",
            within, tickets);
  json_decref (k);
  char url[256], *text = NULL;
  snprintf (url, sizeof url, "%s/metrics", s_st.api);
  IT_CHECK (it_http ("GET", url, NULL, NULL, &text) == 200, "metrics");
  IT_CHECK (text && strstr (text, "atende_sla_within_target_ratio{metric=\"first_response\",")
            && strstr (text, "channel=\"whatsapp\"} 1"), "gauge: %.3000s", text ? text : "");
  free (text);
}

int
main (void)
{
  it_require_pg ();
  it_stack_init (&s_st, "sla_clocks", (const char *[]) {
      "ATENDE_RETRY_BASE_MS=100", "ATENDE_HEARTBEAT_MS=200", "ATENDE_SLA_WARN_PCT=50",
      "ATENDE_KB_MIN_SCORE=100",
      "ATENDE_WEBHOOK_SECRET=whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
      "ATENDE_WEBHOOK_URL=http://127.0.0.1:9/hooks", NULL});
  s_db = it_db_connect (s_st.conninfo);
  it_stack_pids_t pids = it_stack_start (&s_st, "ingest,notify", WAIT_MS);
  s_route = it_stack_spawn (&s_st, "route", (const char *[]) {"worker", "route", NULL});
  s_setup ();
  s_ical ();
  s_flow_breach ();
  s_flow_reply ();
  s_flow_priority ();
  s_flow_crash ();
  s_kpis ();
  IT_CHECK (s_q ("SELECT count(*) FROM (SELECT 1 FROM sla_event WHERE kind IN ('warning',"
                 " 'breach') GROUP BY ticket_id, metric, cycle, kind HAVING count(*) > 1) d") == 0,
            "no warning or breach twice");
  it_stop (s_route, SIGTERM, 10000);
  it_stack_stop (&pids);
  PQfinish (s_db);
  printf ("test_sla_clocks: ok\n");
  return 0;
}
