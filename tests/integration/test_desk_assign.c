/* The desk through the running pipeline (broker, api, ingest, route x2,
 * PostgreSQL): teams and agents made through the api (bad input is a 4xx
 * naming the field, nothing stored); a ticket in a language nobody online
 * speaks waits, then goes out with the match widened; a manual assignment
 * to an offline or a full agent is refused with the reason; transfer to a
 * team and to an agent; a ticket whose assignee does not answer in time
 * goes to another agent, one answered does not; then 200 tickets that
 * need people with small capacities and two route workers, one of them
 * killed with -9 midway: no agent's load ever over its limit, load always
 * the sum of what they hold, no ticket held twice, and every ticket given
 * out as agents resolve theirs. A resolved ticket the customer answers by
 * email goes back to its agent when online, to the queue when away. */
#define _GNU_SOURCE
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "it.h"
#include "at_crypto.h"

#define WAIT_MS 60000
#define WIDEN_S 3
#define REPLY_S 4
#define LOAD_TICKETS 200
#define LOAD_AGENTS 10
#define RELAY_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static it_stack_t s_st;
static PGconn *s_db;

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

/* A refused request: status want and a problem naming field. */
static void
s_refused (const char *method, const char *path, const char *body, long want, const char *field)
{
  json_t *doc = s_call (method, path, body, want);
  const char *f = json_string_value (json_object_get (doc, "field"));
  IT_CHECK (f && strcmp (f, field) == 0, "%s %s: the problem names %s, want %s", method, path,
            f ? f : "nothing", field);
  json_decref (doc);
}

static void
s_wait (long long want, const char *what, const char *sql)
{
  long long got = it_wait_scalar (s_db, sql, want, WAIT_MS);
  IT_CHECK (got >= want, "%s: %lld, want %lld (%s)", what, got, want, sql);
}

/* A user made through the api, then their agent settings: the user id. */
static long long
s_agent (const char *email, const char *langs, const char *skills, const char *teams,
         double limit)
{
  char body[1024], path[64];
  snprintf (body, sizeof body, "{\"email\":\"%s\",\"name\":\"%s\",\"role\":\"agent\","
            "\"password\":\"correct horse battery\"}", email, email);
  json_t *u = s_call ("POST", "/v1/users", body, 201);
  long long id = json_integer_value (json_object_get (u, "id"));
  json_decref (u);
  IT_CHECK (id > 0, "user %s made", email);
  snprintf (path, sizeof path, "/v1/agents/%lld", id);
  snprintf (body, sizeof body, "{\"languages\":%s,\"skills\":%s,\"teams\":%s,"
            "\"capacity\":{\"limit\":%g,\"weights\":{\"email\":0.5}}}", langs, skills, teams,
            limit);
  json_t *a = s_call ("PUT", path, body, 200);
  IT_CHECK (json_integer_value (json_object_get (a, "user_id")) == id, "agent %lld", id);
  json_decref (a);
  return id;
}

static void
s_presence (long long agent, const char *presence)
{
  char path[64], body[64];
  snprintf (path, sizeof path, "/v1/agents/%lld/presence", agent);
  snprintf (body, sizeof body, "{\"presence\":\"%s\"}", presence);
  json_decref (s_call ("PUT", path, body, 200));
}

/* A customer's message on chat (a new customer: a new ticket); its ticket. */
static long long
s_ticket (const char *handle, const char *text)
{
  char body[1024], url[128];
  snprintf (body, sizeof body, "{\"channel\":\"chat\",\"handle\":\"%s\",\"text\":\"%s\","
            "\"provider_message_id\":\"%s\"}", handle, text, handle);
  snprintf (url, sizeof url, "%s/v1/messages", s_st.api);
  char *resp = NULL;
  long st = it_http ("POST", url, "application/json", body, &resp);
  IT_CHECK (st == 202, "message %s: %ld %s", handle, st, resp ? resp : "");
  free (resp);
  char sql[512];
  snprintf (sql, sizeof sql, "SELECT coalesce(max(m.ticket_id), 0) FROM ticket_message m"
            " WHERE m.provider_message_id = '%s'", handle);
  long long id = it_wait_scalar (s_db, sql, 1, WAIT_MS);
  IT_CHECK (id > 0, "ticket of %s", handle);
  return id;
}

static void
s_wait_desk (long long ticket, const char *state, const char *what)
{
  char sql[256];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM desk_ticket WHERE ticket_id = %lld"
            " AND state = '%s'", ticket, state);
  s_wait (1, what, sql);
}

static const char *s_pt = "Estou muito insatisfeito com o atendimento de voces, ninguem me responde";
static const char *s_en = "I am very unhappy with your service, nobody ever answers me";
static const char *s_es = "Estoy muy enojado con ustedes, nadie me contesta nunca jamas";

static long long s_ana, s_bob, s_cris;

static void
s_setup_and_bad_input (void)
{
  json_decref (s_call ("POST", "/v1/teams", "{\"name\":\"support\",\"default\":true}", 201));
  json_decref (s_call ("POST", "/v1/teams", "{\"name\":\"vip\"}", 201));
  s_refused ("POST", "/v1/teams", "{\"name\":\"support\"}", 409, "name");
  s_refused ("POST", "/v1/teams", "{\"name\":\"Bad Name\"}", 422, "name");
  s_ana = s_agent ("ana@shop.example", "[\"pt-BR\"]", "[\"returns\"]", "[\"support\"]", 2);
  s_bob = s_agent ("bob@shop.example", "[\"en\"]", "[]", "[\"support\"]", 2);
  s_cris = s_agent ("cris@shop.example", "[\"pt-BR\",\"en\"]", "[]", "[\"support\",\"vip\"]", 3);
  char path[64];
  snprintf (path, sizeof path, "/v1/agents/%lld", s_ana);
  s_refused ("PUT", path, "{\"teams\":[\"nope\"]}", 422, "teams");
  s_refused ("PUT", path, "{\"capacity\":{\"limit\":-1}}", 422, "capacity.limit");
  s_refused ("PUT", path, "{\"languages\":[\"portugues brasileiro\"]}", 422, "languages");
  snprintf (path, sizeof path, "/v1/agents/%lld/presence", s_ana);
  s_refused ("PUT", path, "{\"presence\":\"busy\"}", 422, "presence");
  IT_CHECK (s_q ("SELECT count(*) FROM agent WHERE 'nope' = ANY (skills) OR cap_limit < 0") == 0,
            "nothing stored on bad input");
  IT_CHECK (s_q ("SELECT count(*) FROM agent WHERE presence = 'offline'") == 3, "all offline");
  json_t *agents = s_call ("GET", "/v1/agents?team=vip", NULL, 200);
  IT_CHECK (json_array_size (json_object_get (agents, "items")) == 1, "one agent in vip");
  json_decref (agents);
}

/* Nobody online: the Spanish ticket waits in the queue; assignment to an
 * offline agent is refused; bob (en) comes online and gets the English
 * one at once and the Spanish one only after twice the widening wait. */
static void
s_flow_match_and_widen (long long *es, long long *en)
{
  *es = s_ticket ("desk-es-1", s_es);
  s_wait_desk (*es, "queued", "the Spanish ticket queued");
  json_t *q = s_call ("GET", "/v1/desk/queue?team=support", NULL, 200);
  IT_CHECK (json_array_size (json_object_get (q, "items")) >= 1, "the queue lists it");
  json_decref (q);
  s_refused ("GET", "/v1/desk/queue?team=nope", NULL, 400, "team");
  char path[64], body[64];
  snprintf (path, sizeof path, "/v1/tickets/%lld/assign", *es);
  snprintf (body, sizeof body, "{\"agent_id\":%lld}", s_ana);
  s_refused ("POST", path, body, 409, "agent_id");
  s_refused ("POST", path, "{\"agent_id\":999999}", 422, "agent_id");
  s_presence (s_bob, "online");
  *en = s_ticket ("desk-en-1", s_en);
  s_wait_desk (*en, "assigned", "the English ticket assigned");
  IT_CHECK (s_q ("SELECT assignee FROM desk_ticket WHERE ticket_id = %lld", *en) == s_bob,
            "to bob, who speaks English");
  s_wait_desk (*es, "assigned", "the Spanish ticket assigned after widening");
  IT_CHECK (s_q ("SELECT count(*) FROM desk_assignment a JOIN desk_ticket d USING (ticket_id)"
                 " WHERE a.ticket_id = %lld AND a.widened = 'language' AND a.agent_id = %lld"
                 " AND a.assigned_at >= d.queued_at + interval '%d seconds'", *es, s_bob,
                 2 * WIDEN_S) == 1, "widened to bob after twice the wait");
}

/* bob holds two chats (limit 2): full. Transfer to vip, then to cris. */
static void
s_flow_manual (long long es, long long en)
{
  long long third = s_ticket ("desk-pt-1", s_pt);
  s_wait_desk (third, "queued", "a third ticket waits (bob is full, nobody speaks pt)");
  char path[64], body[64];
  snprintf (path, sizeof path, "/v1/tickets/%lld/assign", third);
  snprintf (body, sizeof body, "{\"agent_id\":%lld}", s_bob);
  s_refused ("POST", path, body, 409, "agent_id");
  IT_CHECK (s_q ("SELECT count(*) FROM desk_assignment WHERE ticket_id = %lld", third) == 0,
            "nothing assigned on a refusal");
  snprintf (path, sizeof path, "/v1/tickets/%lld/transfer", en);
  s_refused ("POST", path, "{\"team\":\"nope\"}", 422, "team");
  s_refused ("POST", path, "{\"team\":\"vip\",\"agent_id\":1}", 422, "team");
  json_decref (s_call ("POST", path, "{\"team\":\"vip\"}", 202));
  char sql[256];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM desk_ticket d JOIN team t ON t.id = d.team_id"
            " WHERE d.ticket_id = %lld AND t.name = 'vip' AND d.state = 'queued'", en);
  s_wait (1, "transferred to vip, back in a queue", sql);
  IT_CHECK (s_q ("SELECT count(*) FROM desk_assignment WHERE ticket_id = %lld"
                 " AND release_reason = 'transferred'", en) == 1, "bob's assignment ended");
  s_presence (s_cris, "online");
  snprintf (path, sizeof path, "/v1/tickets/%lld/transfer", es);
  snprintf (body, sizeof body, "{\"agent_id\":%lld}", s_cris);
  json_decref (s_call ("POST", path, body, 202));
  snprintf (sql, sizeof sql, "SELECT count(*) FROM desk_assignment WHERE ticket_id = %lld"
            " AND agent_id = %lld AND how = 'transfer' AND released_at IS NULL", es, s_cris);
  s_wait (1, "transferred to cris", sql);
  s_wait_desk (en, "assigned", "vip's ticket goes to cris, the one online in vip");
  snprintf (path, sizeof path, "/v1/tickets/%lld", es);
  json_t *t = s_call ("GET", path, NULL, 200);
  json_t *desk = json_object_get (t, "desk");
  IT_CHECK (json_integer_value (json_object_get (json_object_get (desk, "assignee"), "user_id"))
            == s_cris && strcmp (json_string_value (json_object_get (desk, "state")), "assigned")
            == 0 && json_is_string (json_object_get (desk, "team")),
            "the ticket shows its team and its assignee");
  json_decref (t);
}

/* Resolves, through the api, every ticket agent holds. */
static void
s_resolve_all_of (long long agent)
{
  char sql[128];
  snprintf (sql, sizeof sql, "SELECT ticket_id FROM desk_ticket WHERE assignee = %lld", agent);
  PGresult *res = PQexec (s_db, sql);
  for (int i = 0; i < PQntuples (res); i++) {
    char path[64];
    snprintf (path, sizeof path, "/v1/tickets/%s/resolve", PQgetvalue (res, i, 0));
    json_decref (s_call ("POST", path, "{}", 202));
  }
  PQclear (res);
}

/* Route again with ATENDE_DESK_REPLY_WITHIN_S short: ana gets two
 * tickets and answers one; the other leaves her for another agent. */
static void
s_flow_no_reply (pid_t *route1, pid_t *route2)
{
  it_stop (*route1, SIGTERM, 10000);
  it_stop (*route2, SIGTERM, 10000);
  size_t n = 0;
  while (s_st.env[n])
    n++;
  IT_CHECK (n + 1 < sizeof s_st.env / sizeof s_st.env[0], "room in the env");
  static char reply[64];
  snprintf (reply, sizeof reply, "ATENDE_DESK_REPLY_WITHIN_S=%d", REPLY_S);
  s_st.env[n] = reply;
  s_st.env[n + 1] = NULL;
  *route1 = it_stack_spawn (&s_st, "route-a2", (const char *[]) {"worker", "route", NULL});
  *route2 = it_stack_spawn (&s_st, "route-b2", (const char *[]) {"worker", "route", NULL});
  s_presence (s_ana, "online");
  long long quiet = s_ticket ("desk-pt-quiet", s_pt);
  long long answered = s_ticket ("desk-pt-answered", s_pt);
  char sql[256], path[64];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM desk_assignment WHERE agent_id = %lld"
            " AND ticket_id IN (%lld, %lld)", s_ana, quiet, answered);
  s_wait (2, "both to ana, who speaks pt", sql);
  snprintf (path, sizeof path, "/v1/tickets/%lld/replies", answered);
  json_decref (s_call ("POST", path, "{\"text\":\"Olá, estou vendo o seu caso.\"}", 202));
  snprintf (sql, sizeof sql, "SELECT count(*) FROM desk_assignment WHERE ticket_id = %lld"
            " AND release_reason = 'no_reply'", quiet);
  s_wait (1, "the unanswered one taken back", sql);
  s_resolve_all_of (s_cris);
  snprintf (sql, sizeof sql, "SELECT count(*) FROM desk_assignment WHERE ticket_id = %lld"
            " AND agent_id <> %lld AND released_at IS NULL", quiet, s_ana);
  s_wait (1, "and given to another agent", sql);
  IT_CHECK (s_q ("SELECT count(*) FROM desk_assignment WHERE ticket_id = %lld"
                 " AND release_reason = 'no_reply'", answered) == 0, "the answered one stays");
}

/* The invariants, read from the rows. */
static void
s_invariants (const char *when)
{
  IT_CHECK (s_q ("SELECT count(*) FROM agent a JOIN agent_load l USING (user_id)"
                 " WHERE l.load > a.cap_limit") == 0, "%s: a load over its limit", when);
  IT_CHECK (s_q ("SELECT count(*) FROM agent_load l WHERE l.load <> (SELECT coalesce(sum(weight), 0)"
                 " FROM desk_assignment WHERE agent_id = l.user_id AND released_at IS NULL)"
                 " OR l.tickets <> (SELECT count(*) FROM desk_assignment WHERE agent_id = l.user_id"
                 " AND released_at IS NULL)") == 0, "%s: a load that is not what is held", when);
  IT_CHECK (s_q ("SELECT count(*) FROM (SELECT ticket_id FROM desk_assignment WHERE released_at"
                 " IS NULL GROUP BY ticket_id HAVING count(*) > 1) x") == 0,
            "%s: a ticket held twice", when);
  IT_CHECK (s_q ("SELECT count(*) FROM desk_ticket d WHERE state = 'assigned' AND NOT EXISTS"
                 " (SELECT 1 FROM desk_assignment a WHERE a.id = d.assignment_id AND a.agent_id ="
                 " d.assignee AND a.released_at IS NULL)") == 0, "%s: an assignment without its"
            " log row", when);
  IT_CHECK (s_q ("SELECT count(*) FROM desk_assignment a JOIN desk_ticket d USING (ticket_id)"
                 " JOIN agent g ON g.user_id = a.agent_id WHERE a.widened <> 'language' AND a.how = 'auto'"
                 " AND d.language <> '' AND NOT g.lang_keys @> ARRAY[d.language]") == 0,
            "%s: a ticket given in a language its agent does not speak, unwidened", when);
  IT_CHECK (s_q ("SELECT count(*) FROM desk_assignment a JOIN desk_ticket d USING (ticket_id)"
                 " JOIN agent g ON g.user_id = a.agent_id WHERE a.widened = '' AND a.how = 'auto'"
                 " AND NOT g.skills @> d.skills") == 0, "%s: skills not matched", when);
}

/* Resolves up to n tickets held now, through the api. */
static int
s_resolve_some (int n)
{
  PGresult *res = PQexec (s_db, "SELECT ticket_id FROM desk_ticket WHERE state = 'assigned'"
                                " ORDER BY ticket_id LIMIT 40");
  int done = 0;
  for (int i = 0; i < PQntuples (res) && done < n; i++) {
    char path[64], *resp = NULL, url[128];
    snprintf (path, sizeof path, "/v1/tickets/%s/resolve", PQgetvalue (res, i, 0));
    snprintf (url, sizeof url, "%s%s", s_st.api, path);
    long st = it_http ("POST", url, "application/json", "{}", &resp);
    free (resp);
    done += st == 202;
  }
  PQclear (res);
  return done;
}

/* 200 tickets, ten agents of capacity 2 (20 at once), two route workers,
 * one killed with -9 midway; agents resolve what they hold until every
 * ticket has been given out. */
static void
s_flow_load (pid_t *route2)
{
  char email[64];
  for (int i = 0; i < LOAD_AGENTS; i++) {
    snprintf (email, sizeof email, "load%d@shop.example", i);
    long long id = s_agent (email, i % 2 ? "[\"pt-BR\"]" : "[\"en\",\"pt\"]", "[]",
                            "[\"support\"]", 2);
    s_presence (id, "online");
  }
  long long first = s_q ("SELECT coalesce(max(id), 0) FROM ticket");
  char handle[32];
  for (int i = 0; i < LOAD_TICKETS; i++) {
    snprintf (handle, sizeof handle, "desk-load-%d", i);
    char url[128], body[512], *resp = NULL;
    snprintf (url, sizeof url, "%s/v1/messages", s_st.api);
    snprintf (body, sizeof body, "{\"channel\":\"chat\",\"handle\":\"%s\",\"text\":\"%s\","
              "\"provider_message_id\":\"%s\"}", handle, i % 3 ? s_pt : s_en, handle);
    long st = it_http ("POST", url, "application/json", body, &resp);
    IT_CHECK (st == 202, "load message %d: %ld %s", i, st, resp ? resp : "");
    free (resp);
    if (i == LOAD_TICKETS / 2) {
      kill (*route2, SIGKILL);
      waitpid (*route2, NULL, 0);
      *route2 = it_stack_spawn (&s_st, "route-b3", (const char *[]) {"worker", "route", NULL});
    }
  }
  char sql[256];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM desk_ticket WHERE ticket_id > %lld", first);
  s_wait (LOAD_TICKETS, "all 200 at the desk", sql);
  long long given = 0;
  for (int round = 0; round < 400 && given < LOAD_TICKETS; round++) {
    s_invariants ("under load");
    s_resolve_some (8);
    snprintf (sql, sizeof sql, "SELECT count(DISTINCT ticket_id) FROM desk_assignment"
              " WHERE ticket_id > %lld", first);
    given = it_wait_scalar (s_db, sql, given + 1, 5000);
  }
  IT_CHECK (given == LOAD_TICKETS, "every ticket given out: %lld of %d", given, LOAD_TICKETS);
  s_invariants ("at the end");
  printf ("test_desk_assign: %lld assignments, %lld released for no reply, %lld widened\n",
          s_q ("SELECT count(*) FROM desk_assignment"),
          s_q ("SELECT count(*) FROM desk_assignment WHERE release_reason = 'no_reply'"),
          s_q ("SELECT count(*) FROM desk_assignment WHERE widened <> ''"));
}

/* An email through the relay's door (Standard Webhooks signed): its
 * Message-ID, a reply's In-Reply-To ("" for none). */
static void
s_email (const char *message_id, const char *in_reply_to)
{
  static int seq;
  char raw[1024], reply[160] = "", id[32], ts[24], sig[128], h_id[64], h_ts[48], h_sig[160];
  if (in_reply_to[0])
    snprintf (reply, sizeof reply, "In-Reply-To: <%s>\r\n", in_reply_to);
  snprintf (raw, sizeof raw, "From: reopen@shop.example\r\nTo: atendimento@loja.example\r\n"
            "Subject: Reclamacao\r\nMessage-ID: <%s>\r\n%sMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", message_id, reply, s_pt);
  long long now = (long long) time (NULL);
  snprintf (id, sizeof id, "msg_reopen_%d", ++seq);
  snprintf (ts, sizeof ts, "%lld", now);
  IT_CHECK (at_webhook_sign (RELAY_SECRET, id, now, raw, strlen (raw), sig, sizeof sig) == AT_OK,
            "sign");
  snprintf (h_id, sizeof h_id, "webhook-id: %s", id);
  snprintf (h_ts, sizeof h_ts, "webhook-timestamp: %s", ts);
  snprintf (h_sig, sizeof h_sig, "webhook-signature: %s", sig);
  const char *headers[] = {h_id, h_ts, h_sig, NULL};
  char url[128], *resp = NULL;
  snprintf (url, sizeof url, "%s/v1/channels/email", s_st.api);
  long st = it_http_ex ("POST", url, "message/rfc822", raw, headers, false, &resp, NULL);
  IT_CHECK (st == 202, "email %s: %ld %s", message_id, st, resp ? resp : "");
  free (resp);
}

/* The customer answers a resolved ticket by email (In-Reply-To): it goes
 * back to the agent who had it when they are online and have room, and to
 * the queue when they are away. */
static void
s_flow_reopen (void)
{
  s_email ("reopen-1@mail.example", "");
  char sql[320], path[64], body[64];
  s_wait (1, "the email's ticket at the desk", "SELECT count(*) FROM desk_ticket d JOIN"
          " ticket_message m USING (ticket_id) WHERE m.email_message_id = 'reopen-1@mail.example'");
  long long t = s_q ("SELECT ticket_id FROM ticket_message"
                     " WHERE email_message_id = 'reopen-1@mail.example'");
  /* dora is in vip, not in the ticket's team: support's rounds never give her the
   * ticket by themselves (it waits long enough to be widened to any language, and a
   * ticket already hers makes the transfer a no-op), so the transfer is what does */
  long long dora = s_agent ("dora@shop.example", "[\"pt-BR\"]", "[]", "[\"vip\"]", 40);
  s_presence (dora, "online");
  snprintf (path, sizeof path, "/v1/tickets/%lld/transfer", t);
  snprintf (body, sizeof body, "{\"agent_id\":%lld}", dora);
  json_decref (s_call ("POST", path, body, 202));
  snprintf (sql, sizeof sql, "SELECT count(*) FROM desk_assignment WHERE ticket_id = %lld"
            " AND agent_id = %lld AND how = 'transfer'", t, dora);
  s_wait (1, "transferred to dora", sql);
  snprintf (path, sizeof path, "/v1/tickets/%lld/replies", t);   /* she owes no reply now */
  json_decref (s_call ("POST", path, "{\"text\":\"Resolvido, obrigada.\"}", 202));
  snprintf (sql, sizeof sql, "SELECT count(*) FROM desk_ticket WHERE ticket_id = %lld"
            " AND reply_due_at IS NULL", t);
  s_wait (1, "dora's reply recorded", sql);
  snprintf (path, sizeof path, "/v1/tickets/%lld/resolve", t);
  json_decref (s_call ("POST", path, "{}", 202));
  s_wait_desk (t, "done", "resolved: off the desk");
  s_email ("reopen-2@mail.example", "reopen-1@mail.example");
  snprintf (sql, sizeof sql, "SELECT count(*) FROM desk_assignment WHERE ticket_id = %lld"
            " AND agent_id = %lld AND how = 'reopen'", t, dora);
  s_wait (1, "reopened: back to dora, online with room", sql);
  s_presence (dora, "away");
  json_decref (s_call ("POST", path, "{}", 202));
  s_wait_desk (t, "done", "resolved again");
  s_email ("reopen-3@mail.example", "reopen-1@mail.example");
  snprintf (sql, sizeof sql, "SELECT count(*) FROM desk_ticket WHERE ticket_id = %lld"
            " AND state <> 'done'", t);
  s_wait (1, "reopened again: on the desk", sql);
  IT_CHECK (s_q ("SELECT count(*) FROM desk_assignment WHERE ticket_id = %lld AND agent_id = %lld"
                 " AND how = 'reopen'", t, dora) == 1, "not back to dora while she is away");
  s_invariants ("after the reopenings");
}

int
main (void)
{
  it_require_pg ();
  char widen[64];
  snprintf (widen, sizeof widen, "ATENDE_DESK_WIDEN_AFTER_S=%d", WIDEN_S);
  it_stack_init (&s_st, "desk_assign", (const char *[]) {
      "ATENDE_RETRY_BASE_MS=100", "ATENDE_HEARTBEAT_MS=200", "ATENDE_KB_MIN_SCORE=100",
      "ATENDE_WORKER_LOCK_TIMEOUT_MS=200", widen,
      "ATENDE_WEBHOOK_SECRET=whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
      "ATENDE_WEBHOOK_URL=http://127.0.0.1:9/hooks", "ATENDE_EMAIL_RELAY_SECRET=" RELAY_SECRET,
      NULL});
  s_db = it_db_connect (s_st.conninfo);
  it_stack_pids_t pids = it_stack_start (&s_st, "ingest,notify", WAIT_MS);
  pid_t route1 = it_stack_spawn (&s_st, "route-a", (const char *[]) {"worker", "route", NULL});
  pid_t route2 = it_stack_spawn (&s_st, "route-b", (const char *[]) {"worker", "route", NULL});
  long long es = 0, en = 0;
  s_setup_and_bad_input ();
  s_flow_match_and_widen (&es, &en);
  s_flow_manual (es, en);
  s_flow_no_reply (&route1, &route2);
  s_invariants ("after the flows");
  s_flow_load (&route2);
  s_flow_reopen ();
  it_stop (route1, SIGTERM, 10000);
  it_stop (route2, SIGTERM, 10000);
  it_stack_stop (&pids);
  PQfinish (s_db);
  printf ("test_desk_assign: ok\n");
  return 0;
}
