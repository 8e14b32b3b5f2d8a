/* KPIs from ticket facts, through the running pipeline (broker, api, ingest,
 * route, notify, survey; PostgreSQL; a local HTTP server plays the webhook
 * provider), each definition checked against a hand count written here:
 *
 *   T1 whatsapp complaint: one agent reply, resolved, CSAT 5     FCR
 *   T2 whatsapp complaint: two agent replies, resolved, CSAT 3   not FCR
 *   T3 email complaint: one reply, resolved, CSAT 4, the customer
 *      writes again ([#T3] in the subject): reopened, resolved   not FCR
 *   T4 whatsapp "where is my order": answered automatically
 *   T5 whatsapp complaint: nobody answers yet
 *   four more customers' orders delivered, NPS 10, 9, 8, 3 by the
 *   survey link; one of those orders returned
 *
 * so: tickets 5, auto 1/5, resolved 3, reopened 1/3, FCR 1/3, CSAT 2/3
 * satisfied, NPS (2 - 1) / 4 = +25, return rate 1/4, contacts per order
 * 5 tickets / 5 orders, first response p50 in the bucket of the median of
 * the four first responses. Then GET /v1/kpis?by= for every dimension,
 * its 400s, GET /v1/kpis unchanged, and the CSV export with a name that
 * would break a naive CSV. Every wait is on a row, never a sleep. */
#define _GNU_SOURCE
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "it.h"
#include "at_crypto.h"
#include "at_kpi_hist.h"
#include "../fakes/fakes.h"
#include "../fakes/fake_http.c"

#define WAIT_MS 60000
#define SURVEY_KEY "survey-key-0123456789abcdef"
#define COMPLAINT "Estou muito insatisfeito com o atendimento de voces, ninguem me responde"

static it_stack_t s_st;
static PGconn *s_db;

#define s_q(...) it_db_scalarf (s_db, __VA_ARGS__)

static json_t *
s_call (const char *method, const char *path, const char *body, long want)
{
  return it_api_call (s_st.api, method, path, body, want);
}

static void
s_wait (const char *what, long long want, const char *fmt, ...)
{
  char sql[1024];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (sql, sizeof sql, fmt, ap);
  va_end (ap);
  long long got = it_wait_scalar (s_db, sql, want, WAIT_MS);
  IT_CHECK (got >= want, "%s: %lld, want %lld (%s)", what, got, want, sql);
}

/* A customer's message; its ticket once ingest recorded it. */
static long long
s_message (const char *channel, const char *handle, const char *text, const char *subject,
           const char *pid)
{
  char body[1024];
  snprintf (body, sizeof body, "{\"channel\":\"%s\",\"handle\":\"%s\",\"text\":\"%s\","
            "\"provider_message_id\":\"%s\",\"subject\":\"%s\",\"name\":\"Cliente\"}", channel,
            handle, text, pid, subject);
  json_decref (s_call ("POST", "/v1/messages", body, 202));
  s_wait ("message recorded", 1, "SELECT count(*) FROM ticket_message WHERE"
          " provider_message_id = '%s'", pid);
  return s_q ("SELECT ticket_id FROM ticket_message WHERE provider_message_id = '%s'", pid);
}

static void
s_order (const char *id, const char *status, const char *handle, const char *event_id)
{
  char path[128], body[512];
  snprintf (path, sizeof path, "/v1/orders/%s/events", id);
  snprintf (body, sizeof body, "{\"status\":\"%s\",\"event_id\":\"%s\",\"customer\":"
            "{\"channel\":\"whatsapp\",\"handle\":\"%s\",\"name\":\"Cliente\"}}", status,
            event_id, handle);
  json_decref (s_call ("POST", path, body, 202));
  s_wait ("order event applied", 1, "SELECT count(*) FROM order_event WHERE order_id = '%s'"
          " AND event_id = '%s'", id, event_id);
}

static void
s_reply (long long t, int nth)
{
  char path[64];
  snprintf (path, sizeof path, "/v1/tickets/%lld/replies", t);
  json_decref (s_call ("POST", path, "{\"text\":\"Vamos resolver, um momento.\"}", 202));
  s_wait ("agent reply", nth, "SELECT count(*) FROM ticket_message WHERE ticket_id = %lld"
          " AND author = 'agent'", t);
}

static void
s_resolve (long long t, int nth)
{
  char path[64];
  snprintf (path, sizeof path, "/v1/tickets/%lld/resolve", t);
  json_decref (s_call ("POST", path, "{}", 202));
  s_wait ("resolved", nth, "SELECT resolutions FROM ticket_fact WHERE ticket_id = %lld", t);
}

/* The survey's answer through its signed link, recorded by the survey stage. */
static void
s_answer (const char *survey_where, int score)
{
  char sql[256], token[256], path[320], body[32];
  snprintf (sql, sizeof sql, "SELECT id::text FROM survey WHERE %s", survey_where);
  char *id = NULL;
  for (int i = 0; i < WAIT_MS / 20 && !(id = it_db_text (s_db, sql)); i++)
    usleep (20000);                    /* polling for the row, with a deadline */
  IT_CHECK (id, "survey %s sent", survey_where);
  IT_CHECK (at_token_sign (SURVEY_KEY, id, token, sizeof token) == AT_OK, "token");
  snprintf (path, sizeof path, "/v1/surveys/%s", token);
  snprintf (body, sizeof body, "{\"score\":%d}", score);
  json_decref (s_call ("POST", path, body, 202));
  s_wait ("answer recorded", 1, "SELECT count(*) FROM survey_answer WHERE survey_id = '%s'", id);
  free (id);
}

static long long
s_agent (const char *email, const char *name_json)
{
  char body[512], path[64];
  snprintf (body, sizeof body, "{\"email\":\"%s\",\"name\":%s,\"role\":\"agent\","
            "\"password\":\"correct horse battery\"}", email, name_json);
  json_t *u = s_call ("POST", "/v1/users", body, 201);
  long long id = json_integer_value (json_object_get (u, "id"));
  json_decref (u);
  snprintf (path, sizeof path, "/v1/agents/%lld", id);
  json_decref (s_call ("PUT", path, "{\"languages\":[\"pt-BR\"],\"teams\":[\"support\"],"
                       "\"capacity\":{\"limit\":20}}", 200));
  snprintf (path, sizeof path, "/v1/agents/%lld/presence", id);
  json_decref (s_call ("PUT", path, "{\"presence\":\"online\"}", 200));
  return id;
}

static void
s_assigned (long long t)
{
  s_wait ("assigned", 1, "SELECT count(*) FROM desk_ticket WHERE ticket_id = %lld"
          " AND state = 'assigned'", t);
}

typedef struct {
  long long t[5];
} s_tickets_t;

static void
s_build (s_tickets_t *k)
{
  long long ana = s_agent ("ana@loja.example", "\"=Ana \\\"A\\\", Lima\"");
  IT_CHECK (ana > 0, "agent");
  k->t[0] = s_message ("whatsapp", "+5511900000101", COMPLAINT, "", "kpi-1");
  s_assigned (k->t[0]);
  s_reply (k->t[0], 1);
  s_resolve (k->t[0], 1);
  k->t[1] = s_message ("whatsapp", "+5511900000102", COMPLAINT, "", "kpi-2");
  s_assigned (k->t[1]);
  s_reply (k->t[1], 1);
  s_reply (k->t[1], 2);
  s_resolve (k->t[1], 1);
  k->t[2] = s_message ("email", "cliente3@example.com", COMPLAINT, "Atendimento", "kpi-3");
  s_assigned (k->t[2]);
  s_reply (k->t[2], 1);
  s_resolve (k->t[2], 1);
  char subject[64];
  snprintf (subject, sizeof subject, "Re: [#%lld] Atendimento", k->t[2]);
  IT_CHECK (s_message ("email", "cliente3@example.com", "Continua sem funcionar, ninguem"
                       " resolveu o meu problema", subject, "kpi-3b") == k->t[2], "threaded");
  s_wait ("reopened", 1, "SELECT reopenings FROM ticket_fact WHERE ticket_id = %lld", k->t[2]);
  s_assigned (k->t[2]);
  s_resolve (k->t[2], 2);
  s_order ("KPI-4", "shipped", "+5511900000104", "k4-1");
  k->t[3] = s_message ("whatsapp", "+5511900000104", "Oi, cadê meu pedido KPI-4?", "", "kpi-4");
  s_wait ("answered automatically", 1, "SELECT count(*) FROM ticket_fact WHERE ticket_id = %lld"
          " AND auto_answered", k->t[3]);
  k->t[4] = s_message ("whatsapp", "+5511900000105", COMPLAINT, "", "kpi-5");
  s_assigned (k->t[4]);
  char where[64];
  const int csat[3] = {5, 3, 4};
  for (int i = 0; i < 3; i++) {
    snprintf (where, sizeof where, "ticket_id = %lld AND kind = 'csat'", k->t[i]);
    s_answer (where, csat[i]);
  }
  const int nps[4] = {10, 9, 8, 3};
  for (int i = 0; i < 4; i++) {
    char id[16], handle[24];
    snprintf (id, sizeof id, "KPI-N%d", i + 1);
    snprintf (handle, sizeof handle, "+55119000002%02d", i + 1);
    s_order (id, "placed", handle, "p");
    s_order (id, "delivered", handle, "d");
    snprintf (where, sizeof where, "order_id = '%s' AND kind = 'nps'", id);
    s_answer (where, nps[i]);
  }
  s_order ("KPI-N1", "returned", "+5511900000201", "r");
}

static double
s_num (json_t *g, const char *a, const char *b)
{
  json_t *v = json_object_get (g, a);
  if (b)
    v = json_object_get (v, b);
  IT_CHECK (v && (json_is_number (v) || json_is_null (v)), "%s.%s present", a, b ? b : "");
  return json_is_null (v) ? NAN : json_number_value (v);
}

/* A count summed over the groups of an answer: a run across midnight UTC
 * sees two days, and the hand counts are of both. */
static double
s_sum (json_t *doc, const char *a, const char *b)
{
  double sum = 0;
  json_t *g;
  size_t i;
  json_array_foreach (json_object_get (doc, "groups"), i, g)
    sum += s_num (g, a, b);
  return sum;
}

static json_t *
s_kpis (const char *query)
{
  char path[256];
  snprintf (path, sizeof path, "/v1/kpis?%s", query);
  return s_call ("GET", path, NULL, 200);
}

static bool
s_near (double got, double want)
{
  return fabs (got - want) < 1e-9;
}

/* The sum of a field over a dimension's groups, and one group's value. */
static double
s_group_val (json_t *doc, const char *key, const char *a, const char *b)
{
  json_t *gs = json_object_get (doc, "groups"), *g;
  size_t i;
  json_array_foreach (gs, i, g) {
    json_t *k = json_object_get (g, "key");
    if ((key == NULL && json_is_null (k)) || (key && json_is_string (k)
                                              && strcmp (json_string_value (k), key) == 0))
      return s_num (g, a, b);
  }
  return NAN;
}

static void
s_check_day (void)
{
  json_t *doc = s_kpis ("by=day");
  char *text = json_dumps (doc, JSON_COMPACT);
  IT_CHECK (s_sum (doc, "tickets", NULL) == 5, "tickets 5: %.1500s", text);
  IT_CHECK (s_sum (doc, "auto_answered", "tickets") == 1, "auto 1 of 5");
  IT_CHECK (s_sum (doc, "reopen", "resolved") == 3 && s_sum (doc, "reopen", "reopened") == 1,
            "reopened 1 of 3: %.1500s", text);
  IT_CHECK (s_sum (doc, "fcr", "resolved_by_people") == 3 && s_sum (doc, "fcr", "first_contact")
            == 1, "FCR 1 of 3");
  IT_CHECK (s_sum (doc, "csat", "answers") == 3 && s_sum (doc, "csat", "satisfied") == 2,
            "CSAT 2 of 3");
  IT_CHECK (s_sum (doc, "nps", "answers") == 4 && s_sum (doc, "nps", "promoters") == 2
            && s_sum (doc, "nps", "detractors") == 1, "NPS 2 - 1 of 4: %.1500s", text);
  IT_CHECK (s_sum (doc, "orders", "delivered") == 4 && s_sum (doc, "orders", "returned") == 1
            && s_sum (doc, "orders", "placed") == 5, "orders");
  IT_CHECK (s_sum (doc, "handle_seconds", "tickets") == 3, "handle time of three");
  IT_CHECK (s_sum (doc, "first_response_seconds", "count") == 4, "4 first responses");
  free (text);
  json_decref (doc);
  doc = s_kpis ("by=all");                      /* the whole range: one group, the rates */
  text = json_dumps (doc, JSON_COMPACT);
  json_t *g = json_array_get (json_object_get (doc, "groups"), 0);
  IT_CHECK (json_array_size (json_object_get (doc, "groups")) == 1
            && json_is_null (json_object_get (g, "key"))
            && s_num (g, "tickets", NULL) == 5, "by=all: one group of 5: %.1500s", text);
  {
    IT_CHECK (s_near (s_num (g, "auto_answered", "share"), 0.2), "auto 1/5");
    IT_CHECK (s_near (s_num (g, "reopen", "rate"), 1.0 / 3), "reopen rate 1/3");
    IT_CHECK (s_near (s_num (g, "fcr", "rate"), 1.0 / 3), "FCR 1/3");
    IT_CHECK (s_near (s_num (g, "csat", "share"), 2.0 / 3), "CSAT 2/3");
    IT_CHECK (s_near (s_num (g, "nps", "score"), 25), "NPS +25");
    IT_CHECK (s_near (s_num (g, "orders", "return_rate"), 0.25), "return rate 1/4");
    IT_CHECK (s_near (s_num (g, "orders", "contacts_per_order"), 1.0), "5 tickets / 5 orders");
    IT_CHECK (s_num (g, "handle_seconds", "avg") > 0, "handle time");
    json_t *fr = json_object_get (json_object_get (g, "sla"), "first_response");
    IT_CHECK (json_integer_value (json_object_get (fr, "breached")) == 0
              && json_integer_value (json_object_get (fr, "met")) == 3
              && s_near (json_number_value (json_object_get (fr, "hit_rate")), 1.0),
              "first responses met: %s", text);
  }
  free (text);
  json_decref (doc);
  /* first response p50 from the buckets summed over the range, against the
   * median of the raw values counted by hand */
  long long n = s_q ("SELECT count(*) FROM ticket WHERE first_response_at IS NOT NULL");
  IT_CHECK (n == 4, "4 first responses by hand");
  doc = s_kpis ("by=channel");
  double p50 = s_group_val (doc, "whatsapp", "first_response_seconds", "p50");
  /* whatsapp: T1, T2, T4 (email T3 aside): 3 values, the 2nd is the median */
  PGresult *r = PQexec (s_db, "SELECT extract (epoch FROM first_response_at - created_at) FROM ticket"
              " WHERE first_response_at IS NOT NULL AND channel = 'whatsapp' ORDER BY 1");
  IT_CHECK (PQntuples (r) == 3, "3 whatsapp first responses");
  double median = strtod (PQgetvalue (r, 1, 0), NULL);
  PQclear (r);
  int b = at_kpi_hist_bucket (median);
  IT_CHECK (p50 >= at_kpi_hist_lower (b) && p50 <= at_kpi_hist_upper (b),
            "whatsapp p50 %g in the bucket of the median %g", p50, median);
  json_decref (doc);
}

/* p50 and p90 from the buckets against a hand count on spread-out values: the
 * four first responses moved (through the ticket, so the trigger and the
 * refresh of an hour already rolled up run again) to 30 s, 90 s, 600 s and
 * 5000 s. By hand: p50 is the 2nd value (90 s), p90 the 4th (5000 s). */
static void
s_check_percentiles (const s_tickets_t *k)
{
  char sql[512];
  snprintf (sql, sizeof sql, "UPDATE ticket t SET first_response_at = t.created_at"
            " + make_interval (secs => v.s) FROM (VALUES (%lld, 30), (%lld, 90), (%lld, 600),"
            " (%lld, 5000)) AS v (id, s) WHERE t.id = v.id", k->t[0], k->t[1], k->t[2], k->t[3]);
  PGresult *r = PQexec (s_db, sql);
  IT_CHECK (PQresultStatus (r) == PGRES_COMMAND_OK && strtol (PQcmdTuples (r), NULL, 10) == 4, "moved: %s",
            PQerrorMessage (s_db));
  PQclear (r);
  json_t *doc = s_kpis ("by=day");
  if (json_array_size (json_object_get (doc, "groups")) != 1) {
    printf ("percentiles: the run crossed midnight UTC, two days: not checked\n");
    json_decref (doc);
    return;
  }
  json_t *g = json_array_get (json_object_get (doc, "groups"), 0);
  double p50 = s_num (g, "first_response_seconds", "p50");
  double p90 = s_num (g, "first_response_seconds", "p90");
  int b50 = at_kpi_hist_bucket (90), b90 = at_kpi_hist_bucket (5000);
  IT_CHECK (p50 >= at_kpi_hist_lower (b50) && p50 <= at_kpi_hist_upper (b50),
            "p50 %g in the bucket of 90 s [%g, %g]", p50, at_kpi_hist_lower (b50),
            at_kpi_hist_upper (b50));
  IT_CHECK (p90 >= at_kpi_hist_lower (b90) && p90 <= at_kpi_hist_upper (b90),
            "p90 %g in the bucket of 5000 s", p90);
  json_decref (doc);
  doc = s_kpis ("by=hour");                  /* the hours agree with the day */
  double sum = s_sum (doc, "first_response_seconds", "count");
  IT_CHECK (sum == 4, "4 first responses by hour");
  json_decref (doc);
}

static void
s_bad (const char *query, const char *field)
{
  char path[256];
  snprintf (path, sizeof path, "/v1/kpis?%s", query);
  json_t *doc = s_call ("GET", path, NULL, 400);
  const char *got = json_string_value (json_object_get (doc, "field"));
  IT_CHECK (got && strcmp (got, field) == 0, "%s names %s, got %s", query, field,
            got ? got : "(none)");
  json_decref (doc);
}

/* by=day in a time zone: the dates are São Paulo's, every ticket counted once;
 * a range that is not whole days (the daily rollups inside it, the hourly ones
 * at its edges) counts what the whole days count. */
static void
s_check_zone (void)
{
  char *today = it_db_text (s_db, "SELECT to_char (now () AT TIME ZONE 'America/Sao_Paulo',"
                                  " 'YYYY-MM-DD')");
  char *yesterday = it_db_text (s_db, "SELECT to_char ((now () - interval '1 day') AT TIME ZONE"
                                      " 'America/Sao_Paulo', 'YYYY-MM-DD')");
  json_t *doc = s_kpis ("by=day&tz=America/Sao_Paulo"), *g;
  size_t i;
  json_array_foreach (json_object_get (doc, "groups"), i, g) {
    const char *key = json_string_value (json_object_get (g, "key"));
    IT_CHECK (key && (strcmp (key, today) == 0 || strcmp (key, yesterday) == 0),
              "a São Paulo date: %s (today %s)", key ? key : "(none)", today);
  }
  IT_CHECK (s_sum (doc, "tickets", NULL) == 5
            && strcmp (json_string_value (json_object_get (doc, "tz")), "America/Sao_Paulo") == 0
            && strcmp (json_string_value (json_object_get (doc, "grain")), "hour") == 0,
            "by day in São Paulo: 5 tickets");
  json_decref (doc);
  free (today);
  free (yesterday);
  char *since = it_db_text (s_db, "SELECT to_char (date_trunc ('hour', now () - interval"
                                  " '40 days 5 hours', 'UTC') AT TIME ZONE 'UTC',"
                                  " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')");
  char *until = it_db_text (s_db, "SELECT to_char (date_trunc ('hour', now () + interval"
                                  " '2 hours', 'UTC') AT TIME ZONE 'UTC',"
                                  " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')");
  char query[160];
  snprintf (query, sizeof query, "by=channel&since=%s&until=%s", since, until);
  doc = s_kpis (query);
  IT_CHECK (s_group_val (doc, "whatsapp", "tickets", NULL) == 4
            && s_group_val (doc, "email", "tickets", NULL) == 1, "by channel, hours at the edges");
  json_decref (doc);
  free (since);
  free (until);
  s_bad ("by=day&tz=Mars/Olympus_Mons", "tz");
  s_bad ("by=day&tz=..%2Fetc", "tz");
}

static void
s_check_dims (void)
{
  json_t *doc = s_kpis ("by=channel");
  IT_CHECK (s_group_val (doc, "whatsapp", "tickets", NULL) == 4
            && s_group_val (doc, "email", "tickets", NULL) == 1, "by channel");
  IT_CHECK (s_near (s_group_val (doc, "email", "reopen", "rate"), 1.0), "email's reopen");
  IT_CHECK (s_near (s_group_val (doc, "whatsapp", "nps", "score"), 25), "NPS by channel");
  json_decref (doc);
  doc = s_kpis ("by=intent");
  IT_CHECK (s_group_val (doc, "order_status", "tickets", NULL) == 1, "by intent");
  json_decref (doc);
  doc = s_kpis ("by=team");
  char team[24], agent[24];
  snprintf (team, sizeof team, "%lld", s_q ("SELECT id FROM team WHERE name = 'support'"));
  snprintf (agent, sizeof agent, "%lld", s_q ("SELECT id FROM app_user WHERE email ="
                                              " 'ana@loja.example'"));
  IT_CHECK (s_group_val (doc, team, "tickets", NULL) == 4, "by team: the four at the desk");
  json_decref (doc);
  doc = s_kpis ("by=agent");
  IT_CHECK (s_group_val (doc, agent, "tickets", NULL) == 4
            && s_near (s_group_val (doc, agent, "fcr", "rate"), 1.0 / 3), "by agent");
  json_decref (doc);
  doc = s_kpis ("by=hour");
  double sum = 0;
  json_t *g;
  size_t i;
  json_array_foreach (json_object_get (doc, "groups"), i, g)
    sum += s_num (g, "tickets", NULL);
  IT_CHECK (sum == 5 && strcmp (json_string_value (json_object_get (doc, "grain")), "hour") == 0,
            "by hour adds up to 5");
  json_decref (doc);
  s_check_zone ();
}

static void
s_check_doors (void)
{
  s_bad ("by=week", "by");
  s_bad ("by=", "by");
  s_bad ("by=day&since=yesterday", "since");
  s_bad ("by=day&until=2026-13-01T00:00:00Z", "until");
  s_bad ("by=day&since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z", "until");
  s_bad ("by=hour&since=2026-01-01T00:00:00Z&until=2026-12-01T00:00:00Z", "since");
  json_t *doc = s_call ("GET", "/v1/kpis", NULL, 200);     /* the answer without by */
  IT_CHECK (json_integer_value (json_object_get (json_object_get (doc, "tickets"), "opened")) == 5
            && json_object_get (doc, "sla"), "GET /v1/kpis as before");
  json_decref (doc);
  doc = s_kpis ("by=day&since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z");
  IT_CHECK (json_array_size (json_object_get (doc, "groups")) == 0
            && strcmp (json_string_value (json_object_get (doc, "grain")), "day") == 0,
            "an empty day");
  json_decref (doc);
}

/* Pages of 2 facts: each full page names the next in Link rel="next"; the
 * pages hold the 5 facts once each, in order, and the last has no link. */
static void
s_check_csv_pages (void)
{
  char url[512], ids[256] = "";
  const char *auth[] = {it_auth_header (), NULL};
  snprintf (url, sizeof url, "%s/v1/kpis/facts.csv?limit=2", s_st.api);
  int pages = 0, facts = 0;
  while (url[0] && pages < 10) {
    char *resp = NULL, *headers = NULL;
    long st = it_http_ex ("GET", url, NULL, NULL, auth, false, &resp, &headers);
    IT_CHECK (st == 200 && resp, "page %d: %ld", pages, st);
    for (const char *line = strchr (resp, '\n'); line && line[1]; line = strchr (line + 1, '\n')) {
      size_t used = strlen (ids);
      snprintf (ids + used, sizeof ids - used, "%.*s,", (int) strcspn (line + 1, ","), line + 1);
      facts++;
    }
    const char *link = headers ? strcasestr (headers, "\nlink: <") : NULL;
    url[0] = '\0';
    if (link)
      snprintf (url, sizeof url, "%s%.*s", s_st.api, (int) strcspn (link + 8, ">"), link + 8);
    pages++;
    free (resp);
    free (headers);
  }
  char *want = it_db_text (s_db, "SELECT string_agg (ticket_id::text || ',', ''"
                                 " ORDER BY created_at, ticket_id) FROM ticket_fact");
  IT_CHECK (facts == 5 && pages == 3 && want && strcmp (ids, want) == 0,
            "3 pages of 2, 2 and 1 facts, each once in order: %d pages, %d facts, %s (want %s)",
            pages, facts, ids, want ? want : "");
  free (want);
}

static void
s_check_csv (void)
{
  char url[256], *resp = NULL, *headers = NULL;
  snprintf (url, sizeof url, "%s/v1/kpis/facts.csv", s_st.api);
  const char *auth[] = {it_auth_header (), NULL};
  long st = it_http_ex ("GET", url, NULL, NULL, auth, false, &resp, &headers);
  IT_CHECK (st == 200 && headers && strcasestr (headers, "content-type: text/csv"),
            "csv: %ld %s", st, headers ? headers : "");
  int lines = 0;
  for (const char *c = resp; *c; c++)
    lines += *c == '\n';
  IT_CHECK (lines == 6, "header and 5 facts: %d lines\n%s", lines, resp);
  IT_CHECK (strncmp (resp, "ticket_id,created_at,channel,", 29) == 0, "header: %.200s", resp);
  IT_CHECK (strstr (resp, ",\"'=Ana \"\"A\"\", Lima\","), "the name quoted, its quotes"
            " doubled, no formula: %s", resp);
  IT_CHECK (!strcasestr (headers, "\nlink:"), "one page: no next link");
  free (resp);
  free (headers);
  s_check_csv_pages ();
  snprintf (url, sizeof url, "%s/v1/kpis/facts.csv?since=nope", s_st.api);
  IT_CHECK (it_http ("GET", url, NULL, NULL, NULL) == 400, "bad since");
  snprintf (url, sizeof url, "%s/v1/kpis/facts.csv?limit=0", s_st.api);
  IT_CHECK (it_http ("GET", url, NULL, NULL, NULL) == 400, "bad limit");
  snprintf (url, sizeof url, "%s/v1/kpis/facts.csv?after=x", s_st.api);
  IT_CHECK (it_http ("GET", url, NULL, NULL, NULL) == 400, "bad after");
}

int
main (void)
{
  it_require_pg ();
  int port = it_free_port ();
  fake_http_t *http = fake_http_start (port);
  IT_CHECK (http, "fake");
  static char hook[128];
  snprintf (hook, sizeof hook, "ATENDE_WEBHOOK_URL=http://127.0.0.1:%d/hooks", port);
  it_stack_init (&s_st, "kpi_facts", (const char *[]) {
      "ATENDE_RETRY_BASE_MS=100", "ATENDE_HEARTBEAT_MS=200", "ATENDE_KB_MIN_SCORE=100",
      "ATENDE_WEBHOOK_SECRET=whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", hook,
      "ATENDE_PROVIDER_ROUTES=*=webhook", "ATENDE_SURVEY_SECRET=" SURVEY_KEY,
      "ATENDE_NPS_DELAY_H=0", "ATENDE_SURVEY_LOW_CSAT=0", "ATENDE_SURVEY_LOW_NPS=-1",
      "ATENDE_DEFAULT_LOCALE=pt-BR", NULL});
  s_db = it_db_connect (s_st.conninfo);
  it_stack_pids_t pids = it_stack_start (&s_st, "ingest,route,notify,survey", WAIT_MS);
  json_decref (s_call ("POST", "/v1/teams", "{\"name\":\"support\",\"default\":true}", 201));
  s_tickets_t k;
  s_build (&k);
  s_check_day ();
  s_check_dims ();
  s_check_doors ();
  s_check_csv ();
  s_check_percentiles (&k);
  it_stack_stop (&pids);
  fake_http_stop (&http);
  PQfinish (s_db);
  printf ("test_kpi_facts: ok\n");
  return 0;
}
