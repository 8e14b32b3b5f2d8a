/* Escalation reaches a team's leads, through the running pipeline (broker,
 * api, ingest, route, notify; PostgreSQL; a local SMTP server plays the
 * mail provider), checked as a lead and an admin see it:
 *   - PUT /v1/teams/{id}/leads refuses what is no lead (a 422 naming
 *     /leads/N, nothing stored) and an unknown team (404);
 *   - a rule escalates a ticket: each lead of its team gets one mail in
 *     their language (subject, the ticket, the rule, the event; nothing the
 *     customer wrote), the escalation and its notices are listed by
 *     GET /v1/escalations; a lead whose server refuses the address (550) is
 *     marked failed at once, one whose server says "later" (451) is retried
 *     and marked failed after the stage's last attempt; no lead.notify is
 *     dead-lettered and nothing stays on the bus;
 *   - a team with no lead: the escalation is recorded with no notice. */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "it.h"
#include "../fakes/fakes.h"
#include "../fakes/fake_http.c"
#include "../fakes/fake_smtp.c"

#define WAIT_MS 60000

static it_stack_t s_st;
static PGconn *s_db;
static fake_smtp_t *s_smtp;

#define s_q(...) it_db_scalarf (s_db, __VA_ARGS__)

static json_t *
s_call (const char *method, const char *path, const char *body, long want)
{
  return it_api_call (s_st.api, method, path, body, want);
}

static void
s_bad (const char *path, const char *body, const char *field)
{
  json_t *doc = s_call ("PUT", path, body, 422);
  const char *got = json_string_value (json_object_get (doc, "field"));
  IT_CHECK (got && strcmp (got, field) == 0, "%s %s names %s, want %s", path, body,
            got ? got : "(none)", field);
  json_decref (doc);
}

static long long
s_user (const char *email, const char *role, const char *languages)
{
  char body[512];
  snprintf (body, sizeof body, "{\"email\":\"%s\",\"name\":\"%s\",\"role\":\"%s\","
            "\"password\":\"correct horse battery\",\"languages\":%s}", email, email, role,
            languages);
  json_t *u = s_call ("POST", "/v1/users", body, 201);
  long long id = json_integer_value (json_object_get (u, "id"));
  json_decref (u);
  IT_CHECK (id > 0, "user %s made", email);
  return id;
}

static long long
s_team (const char *name, bool is_default)
{
  char body[128];
  snprintf (body, sizeof body, "{\"name\":\"%s\",\"default\":%s}", name,
            is_default ? "true" : "false");
  json_t *t = s_call ("POST", "/v1/teams", body, 201);
  long long id = json_integer_value (json_object_get (t, "id"));
  json_decref (t);
  return id;
}

/* The leads' door: what is refused stores nothing. */
static void
s_leads (long long team, long long lead_en, long long lead_pt, long long lead_later,
         long long agent)
{
  char path[64], body[256];
  snprintf (path, sizeof path, "/v1/teams/%lld/leads", team);
  s_bad (path, "{\"leads\":3}", "/leads");
  s_bad (path, "{\"leads\":[1,\"x\"]}", "/leads/1");
  snprintf (body, sizeof body, "{\"leads\":[%lld,%lld]}", lead_en, agent);
  s_bad (path, body, "/leads/1");
  snprintf (body, sizeof body, "{\"leads\":[%lld,999999]}", lead_en);
  s_bad (path, body, "/leads/1");
  json_decref (s_call ("PUT", "/v1/teams/999999/leads", "{\"leads\":[]}", 404));
  IT_CHECK (s_q ("SELECT count(*) FROM team WHERE leads <> '{}'") == 0, "nothing stored");
  snprintf (body, sizeof body, "{\"leads\":[%lld,%lld,%lld]}", lead_pt, lead_en, lead_later);
  json_decref (s_call ("PUT", path, body, 200));
  json_t *doc = s_call ("GET", "/v1/teams", NULL, 200);
  json_t *t = json_array_get (json_object_get (doc, "items"), 1);     /* by name: quiet, support */
  IT_CHECK (json_integer_value (json_object_get (t, "id")) == team
            && json_array_size (json_object_get (t, "leads")) == 3, "GET /v1/teams shows 3 leads");
  json_decref (doc);
  IT_CHECK (s_q ("SELECT count(*) FROM audit_log WHERE action = 'team.leads'") == 1, "audited");
}

/* Nothing of the stage left: no row due or retrying, none dead. */
static void
s_settled (void)
{
  IT_CHECK (it_wait_scalar (s_db, "SELECT CASE WHEN count(*) = 0 THEN 1 ELSE 0 END FROM"
                            " bus_message WHERE " IT_BUS_PENDING, 1, WAIT_MS) == 1,
            "the bus settled");
  IT_CHECK (s_q ("SELECT count(*) FROM bus_dead") == 0, "nothing dead: %s",
            it_db_text (s_db, "SELECT string_agg (type || ': ' || coalesce (reason, ''), '; ')"
                        " FROM bus_dead"));
}

/* The one mail to the English lead. */
static void
s_mail_en (long long ticket)
{
  IT_CHECK (fake_smtp_count (s_smtp) == 1, "one mail accepted, got %d",
            fake_smtp_count (s_smtp));
  fake_mail_t mail;
  IT_CHECK (fake_smtp_get (s_smtp, 0, &mail), "the mail");
  char *w = mail.data;                      /* quoted-printable soft breaks undone */
  for (const char *r = mail.data; *r; r++)
    if (strncmp (r, "=\r\n", 3) == 0)
      r += 2;
    else
      *w++ = *r;
  *w = '\0';
  char subject[128], line[128];
  snprintf (subject, sizeof subject, "Subject: [atende] Ticket #%lld escalated: agency watch",
            ticket);
  snprintf (line, sizeof line, "Ticket #%lld (channel whatsapp, priority high, team support)",
            ticket);
  IT_CHECK (strstr (mail.rcpt, "lead.en@example.com") && strstr (mail.data, subject)
            && strstr (mail.data, line) && strstr (mail.data, "on the event message_in")
            && !strstr (mail.data, "Procon"), "the mail: %s %.900s", mail.rcpt, mail.data);
}

static void
s_escalate (long long team)
{
  json_decref (s_call ("POST", "/v1/rules", "{\"name\":\"agency watch\",\"event\":\"message_in\","
                       "\"conditions\":[{\"field\":\"text\",\"op\":\"contains\",\"value\":"
                       "\"procon\"}],\"actions\":[{\"type\":\"escalate\"}]}", 201));
  it_message_send (s_st.api, s_db, "whatsapp", "5511900000901", "Cliente",
                   "Três semanas esperando, vou abrir reclamação no Procon", "esc-1", WAIT_MS);
  long long t = s_q ("SELECT ticket_id FROM ticket_message WHERE provider_message_id = 'esc-1'");
  IT_CHECK (it_wait_scalar (s_db, "SELECT count(*) FROM escalation_notice WHERE state <>"
                            " 'pending'", 3, WAIT_MS) == 3, "every notice settled: %s",
            it_db_text (s_db, "SELECT string_agg (email || ' ' || state, '; ')"
                        " FROM escalation_notice"));
  s_settled ();
  IT_CHECK (s_q ("SELECT count(*) FROM escalation WHERE ticket_id = %lld AND team_id = %lld"
                 " AND rule_name = 'agency watch' AND event = 'message_in'", t, team) == 1,
            "one escalation");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket WHERE id = %lld AND escalated_at IS NOT NULL"
                 " AND 'escalated' = ANY (tags)", t) == 1, "the ticket escalated");
  IT_CHECK (s_q ("SELECT count(*) FROM escalation_notice WHERE email = 'lead.en@example.com'"
                 " AND state = 'sent' AND sent_at IS NOT NULL AND attempts = 1") == 1, "en sent");
  IT_CHECK (s_q ("SELECT count(*) FROM escalation_notice WHERE email ="
                 " 'lead.pt.reject@example.com' AND state = 'failed' AND attempts = 1"
                 " AND last_error LIKE '%%550%%'") == 1, "pt refused: failed at once");
  IT_CHECK (s_q ("SELECT count(*) FROM escalation_notice WHERE email ="
                 " 'lead.later@example.com' AND state = 'failed' AND attempts = 3") == 1,
            "451: failed after the last attempt");
  s_mail_en (t);
  char path[64];
  snprintf (path, sizeof path, "/v1/escalations?ticket=%lld", t);
  json_t *doc = s_call ("GET", path, NULL, 200);
  json_t *e = json_array_get (json_object_get (doc, "items"), 0);
  json_t *n = json_object_get (e, "notices");
  IT_CHECK (json_array_size (json_object_get (doc, "items")) == 1 && json_array_size (n) == 3
            && strcmp (json_string_value (json_object_get (e, "team")), "support") == 0
            && strcmp (json_string_value (json_object_get (e, "rule")), "agency watch") == 0,
            "listed");
  json_decref (doc);
  json_decref (s_call ("GET", "/v1/escalations?limit=0", NULL, 400));
}

/* A ticket of a team with no lead: recorded, nobody to tell. */
static void
s_no_lead (long long quiet_team)
{
  json_decref (s_call ("POST", "/v1/rules", "{\"name\":\"to quiet\",\"event\":\"message_in\","
                       "\"conditions\":[{\"field\":\"text\",\"op\":\"contains\","
                       "\"value\":\"nota fiscal\"}],\"actions\":[{\"type\":\"set_team\",\"team\":"
                       "\"quiet\"},{\"type\":\"escalate\"}]}", 201));
  it_message_send (s_st.api, s_db, "whatsapp", "5511900000902", "Cliente",
                   "Cadê a nota fiscal?", "esc-2", WAIT_MS);
  long long t = s_q ("SELECT ticket_id FROM ticket_message WHERE provider_message_id = 'esc-2'");
  char sql[256];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM escalation WHERE ticket_id = %lld", t);
  IT_CHECK (it_wait_scalar (s_db, sql, 1, WAIT_MS) == 1, "recorded");
  s_settled ();
  IT_CHECK (s_q ("SELECT count(*) FROM escalation e WHERE ticket_id = %lld AND team_id = %lld"
                 " AND NOT EXISTS (SELECT 1 FROM escalation_notice n WHERE n.escalation_id ="
                 " e.id)", t, quiet_team) == 1, "no notice");
  IT_CHECK (fake_smtp_count (s_smtp) == 1, "no new mail");
}

int
main (void)
{
  it_require_pg ();
  int http_port = it_free_port (), smtp_port = it_free_port ();
  fake_http_t *http = fake_http_start (http_port);
  s_smtp = fake_smtp_start (smtp_port);
  IT_CHECK (http && s_smtp, "fakes");
  static char hook[128], smtp[128];
  snprintf (hook, sizeof hook, "ATENDE_WEBHOOK_URL=http://127.0.0.1:%d/hooks", http_port);
  snprintf (smtp, sizeof smtp, "ATENDE_SMTP_URL=smtp://127.0.0.1:%d", smtp_port);
  it_stack_init (&s_st, "escalation", (const char *[]) {
      "ATENDE_RETRY_BASE_MS=100", "ATENDE_HEARTBEAT_MS=200", "ATENDE_KB_MIN_SCORE=100",
      "ATENDE_WEBHOOK_SECRET=whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", hook, smtp,
      "ATENDE_PROVIDER_ROUTES=email=smtp,*=webhook", "ATENDE_SMTP_TLS=none",
      "ATENDE_SMTP_FROM=loja@example.com", "ATENDE_STAGE_MAX_ATTEMPTS=notify=3",
      "ATENDE_DEFAULT_LOCALE=pt-BR", NULL});
  s_db = it_db_connect (s_st.conninfo);
  it_stack_pids_t pids = it_stack_start (&s_st, "ingest,route,notify", WAIT_MS);
  long long support = s_team ("support", true), quiet = s_team ("quiet", false);
  long long en = s_user ("lead.en@example.com", "lead", "[\"en\"]");
  long long pt = s_user ("lead.pt.reject@example.com", "admin", "[\"pt-BR\"]");
  long long later = s_user ("lead.later@example.com", "lead", "[]");
  long long agent = s_user ("agent@example.com", "agent", "[\"pt-BR\"]");
  s_leads (support, en, pt, later, agent);
  s_escalate (support);
  s_no_lead (quiet);
  it_stack_stop (&pids);
  fake_smtp_stop (&s_smtp);
  fake_http_stop (&http);
  PQfinish (s_db);
  printf ("test_escalation: ok\n");
  return 0;
}
