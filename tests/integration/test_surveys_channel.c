/* Surveys people answer, through the running pipeline (api, broker, a worker
 * with ingest, route and notify, a second worker with survey, a loopback
 * server playing the WhatsApp Cloud API). Delays use ATENDE_SURVEY_HOUR_S=2:
 * an "hour" of the survey settings is 2 s here (NPS 1 h -> 2 s, reminder
 * 2 h -> 4 s, expiry 60 h -> 120 s). What a user would see:
 *   - A wrote on WhatsApp (window open), order delivered -> the NPS after
 *     the delay as an interactive list (ids nps:10..nps:1); "nota 9" typed:
 *     recorded once (source channel) and thanked; "10" afterwards: "already
 *     recorded", still one answer, score 9; "11" on a pending survey is
 *     covered by the unit tests;
 *   - A's second delivered order: NPS skipped, reason period;
 *   - B never wrote (window closed): the approved template; B's second
 *     order while the first waits: skipped, reason pending; one reminder,
 *     never a second;
 *   - C's ticket resolved -> CSAT as a list (csat:5..1); "péssimo" -> score 1
 *     and exactly one follow-up ticket (complaint, high, low_survey_score);
 *   - D: kill -9 of the survey worker around its NPS and of the route worker
 *     around its answer: one survey, one answer, one follow-up, one thanks. */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "it.h"
#include "../fakes/fakes.h"
#include "../fakes/fake_http.c"

#define WAIT_MS 40000
#define S_A "+5511911120001"
#define S_B "+5511911120002"
#define S_C "+5511911120003"
#define S_D "+5511911120004"

static it_stack_t s_st;
static PGconn *s_db;
static fake_http_t *s_fake;

#define s_q(...) it_db_scalarf (s_db, __VA_ARGS__)

static long long
s_wait (long long want, const char *fmt, const char *arg)
{
  char sql[1024];
  snprintf (sql, sizeof sql, fmt, arg);
  return it_wait_scalar (s_db, sql, want, WAIT_MS);
}

static void
s_event (const char *order, const char *status, const char *handle)
{
  char url[256], at[40], body[1024], *resp = NULL;
  time_t now = time (NULL);
  struct tm tm;
  gmtime_r (&now, &tm);
  strftime (at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
  snprintf (url, sizeof url, "%s/v1/orders/%s/events", s_st.api, order);
  snprintf (body, sizeof body, "{\"status\":\"%s\",\"event_id\":\"%s-%s\",\"occurred_at\":\"%s\","
            "\"customer\":{\"channel\":\"whatsapp\",\"handle\":\"%s\",\"name\":\"Cliente\"}}",
            status, order, status, at, handle);
  long st = it_http ("POST", url, "application/json", body, &resp);
  IT_CHECK (st == 202, "order event %s %s: %ld %s", order, status, st, resp ? resp : "");
  free (resp);
}

static void
s_delivered (const char *order, const char *handle)
{
  s_event (order, "placed", handle);
  s_event (order, "delivered", handle);
}

/* The customer's id by their WhatsApp handle (digits). */
static long long
s_customer (const char *handle)
{
  return s_q ("SELECT customer_id FROM identity WHERE kind = 'whatsapp' AND value = '%s'",
              handle + 1);
}

/* The WhatsApp request the fake got for notification id (parsed). */
static json_t *
s_request (const char *notification_id)
{
  fake_request_t r;
  for (int i = 0; fake_http_get (s_fake, i, &r); i++)
    if (strcmp (r.idempotency_key, notification_id) == 0 && strstr (r.path, "/graph/"))
      return json_loadb (r.body, r.body_len, 0, NULL);
  return NULL;
}

/* The survey notification of survey order/ticket, delivered. */
static char *
s_survey_notification (const char *where)
{
  char sql[512];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM survey s JOIN notification n ON"
            " n.id = s.notification_id WHERE %s AND n.status = 'delivered'", where);
  IT_CHECK (it_wait_scalar (s_db, sql, 1, WAIT_MS) == 1, "survey delivered: %s", where);
  snprintf (sql, sizeof sql, "SELECT notification_id::text FROM survey s WHERE %s", where);
  return it_db_text (s_db, sql);
}

static void
s_list_has (const char *notification_id, const char *first_id, size_t rows, const char *type)
{
  json_t *j = s_request (notification_id);
  IT_CHECK (j, "no WhatsApp request for %s", notification_id);
  const char *t = json_string_value (json_object_get (j, "type"));
  IT_CHECK (t && strcmp (t, type) == 0, "type %s, want %s", t ? t : "-", type);
  if (strcmp (type, "interactive") == 0) {
    json_t *inter = json_object_get (j, "interactive");
    json_t *sec = json_array_get (json_object_get (json_object_get (inter, "action"),
                                                   "sections"), 0);
    json_t *list = json_object_get (sec, "rows");
    const char *id = json_string_value (json_object_get (json_array_get (list, 0), "id"));
    IT_CHECK (json_array_size (list) == rows && id && strcmp (id, first_id) == 0,
              "list rows %zu first %s", json_array_size (list), id ? id : "-");
    const char *body = json_string_value (json_object_get (json_object_get (inter, "body"),
                                                           "text"));
    IT_CHECK (body && strstr (body, first_id[0] == 'n' ? "De 0 a 10" : "Responda de 1 a 5"),
              "question text %s", body ? body : "-");
  } else {
    const char *name = json_string_value (json_object_get (json_object_get (j, "template"),
                                                           "name"));
    IT_CHECK (name && strcmp (name, "survey_invite") == 0, "template %s", name ? name : "-");
  }
  json_decref (j);
}

/* The customer writes on WhatsApp; waits until route handled it. */
static void
s_write (const char *handle, const char *text, const char *pid)
{
  it_message_send (s_st.api, s_db, "whatsapp", handle, "Cliente", text, pid, WAIT_MS);
  char sql[256];
  snprintf (sql, sizeof sql, "SELECT (count(*) = 0)::int FROM bus_message WHERE stage IN"
            " ('ingest', 'route') AND " IT_BUS_PENDING);
  IT_CHECK (it_wait_scalar (s_db, sql, 1, WAIT_MS) == 1, "route settled after %s", pid);
}

static long long
s_last_body_has (long long customer, const char *needle)
{
  char sql[512];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM notification WHERE customer_id = %lld AND"
            " kind = 'auto_reply' AND body LIKE '%%%s%%'", customer, needle);
  return it_wait_scalar (s_db, sql, 1, WAIT_MS);
}

static void
s_nps_answered_once (void)
{
  s_write (S_A, "oi, tudo bem?", "wa-a1");                 /* the 24 h window opens */
  s_delivered ("NPS-A1", S_A);
  char *n = s_survey_notification ("s.order_id = 'NPS-A1' AND s.status = 'sent'");
  s_list_has (n, "nps:10", 10, "interactive");
  free (n);
  long long a = s_customer (S_A);
  s_write (S_A, "nota 9", "wa-a2");
  IT_CHECK (s_q ("SELECT count(*) FROM survey_answer x JOIN survey s ON s.id = x.survey_id"
                 " WHERE s.order_id = 'NPS-A1' AND x.score = 9 AND x.source = 'channel'") == 1,
            "nota 9 recorded");
  IT_CHECK (s_last_body_has (a, "Registramos a sua nota 9") == 1, "thanked");
  s_write (S_A, "10", "wa-a3");
  IT_CHECK (s_last_body_has (a, "nota 9 já está registrada") == 1, "already recorded said");
  IT_CHECK (s_q ("SELECT count(*) FROM survey_answer x JOIN survey s ON s.id = x.survey_id"
                 " WHERE s.customer_id = %lld", a) == 1, "one answer");
  s_delivered ("NPS-A2", S_A);
  IT_CHECK (s_wait (1, "SELECT count(*) FROM survey WHERE order_id = '%s' AND status ="
                    " 'skipped' AND skip_reason = 'period'", "NPS-A2") == 1, "period skip");
  IT_CHECK (s_q ("SELECT count(*) FROM survey WHERE customer_id = %lld AND reminded_at IS NOT NULL"
                 " AND reminder_notification_id IS NOT NULL", a) <= 1, "at most one reminder");
}

static void
s_template_pending_reminder (void)
{
  s_delivered ("NPS-B1", S_B);
  char *n = s_survey_notification ("s.order_id = 'NPS-B1'");
  s_list_has (n, NULL, 0, "template");
  free (n);
  s_delivered ("NPS-B2", S_B);
  IT_CHECK (s_wait (1, "SELECT count(*) FROM survey WHERE order_id = '%s' AND status ="
                    " 'skipped' AND skip_reason = 'pending'", "NPS-B2") == 1, "pending skip");
  IT_CHECK (s_wait (1, "SELECT count(*) FROM survey s JOIN notification n ON n.id ="
                    " s.reminder_notification_id WHERE s.order_id = '%s' AND n.status ="
                    " 'delivered'", "NPS-B1") == 1, "reminder delivered");
  IT_CHECK (s_wait (1, "SELECT (count(*) = 0)::int FROM bus_message WHERE type ="
                    " '%s'", "survey.remind") == 1, "no reminder left on the bus");
  long long b = s_customer (S_B);
  IT_CHECK (s_q ("SELECT count(*) FROM notification WHERE customer_id = %lld AND kind ="
                 " 'survey'", b) == 2, "question and one reminder");
}

static long long
s_resolve_csat (const char *handle, const char *pid)
{
  s_write (handle, "meu pedido chegou, obrigado", pid);
  long long t = s_q ("SELECT ticket_id FROM ticket_message WHERE provider_message_id = '%s'",
                     pid);
  char url[256];
  snprintf (url, sizeof url, "%s/v1/tickets/%lld/resolve", s_st.api, t);
  IT_CHECK (it_http ("POST", url, "application/json", "{\"agent\":\"carla\"}", NULL) == 202,
            "resolve %lld", t);
  return t;
}

static void
s_csat_low (void)
{
  long long t = s_resolve_csat (S_C, "wa-c1");
  char where[64];
  snprintf (where, sizeof where, "s.ticket_id = %lld", t);
  char *n = s_survey_notification (where);
  s_list_has (n, "csat:5", 5, "interactive");
  free (n);
  s_write (S_C, "péssimo", "wa-c2");
  long long c = s_customer (S_C);
  IT_CHECK (s_q ("SELECT count(*) FROM survey_answer x JOIN survey s ON s.id = x.survey_id"
                 " WHERE s.ticket_id = %lld AND x.score = 1", t) == 1, "péssimo = 1");
  char sql[512];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM ticket WHERE customer_id = %lld AND intent ="
            " 'complaint' AND priority = 'high' AND priority_reason LIKE '%%low_survey_score%%'",
            c);
  IT_CHECK (it_wait_scalar (s_db, sql, 1, WAIT_MS) == 1, "one follow-up ticket");
  IT_CHECK (s_last_body_has (c, "a nossa equipe vai entrar em contato") == 1, "told");
}

/* kill -9 of the survey worker while D's NPS is due, of the route worker
 * right after D's answer: nothing doubles. */
static void
s_crash (it_stack_pids_t *pids, pid_t *survey)
{
  s_write (S_D, "olá", "wa-d1");
  s_delivered ("NPS-D1", S_D);
  IT_CHECK (s_wait (1, "SELECT count(*) FROM bus_message WHERE type = 'survey.nps' AND key ="
                    " 'order:%s'", "NPS-D1") == 1, "nps scheduled");
  IT_CHECK (it_stop (*survey, SIGKILL, 1000) >= 0, "survey worker killed");
  static const char *sargs[] = {"worker", "survey", NULL};
  *survey = it_stack_spawn (&s_st, "survey2", sargs);
  char *n = s_survey_notification ("s.order_id = 'NPS-D1'");
  free (n);
  it_message_send (s_st.api, s_db, "whatsapp", S_D, "Cliente", "nps:3", "wa-d2", WAIT_MS);
  IT_CHECK (it_stop (pids->workers, SIGKILL, 1000) >= 0, "route worker killed");
  static const char *wargs[] = {"worker", "ingest,route,notify", NULL};
  pids->workers = it_stack_spawn (&s_st, "workers2", wargs);
  long long d = s_customer (S_D);
  char sql[512];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM ticket WHERE customer_id = %lld AND"
            " priority_reason LIKE '%%low_survey_score%%'", d);
  IT_CHECK (it_wait_scalar (s_db, sql, 1, WAIT_MS) == 1, "follow-up after the crash");
  IT_CHECK (s_last_body_has (d, "Obrigado pela sua nota 3") == 1, "thanked after the crash");
  s_write (S_D, "ok", "wa-d3");
  IT_CHECK (s_q ("SELECT count(*) FROM survey WHERE customer_id = %lld", d) == 1, "one survey");
  IT_CHECK (s_q ("SELECT count(*) FROM survey_answer x JOIN survey s ON s.id = x.survey_id"
                 " WHERE s.customer_id = %lld", d) == 1, "one answer");
  IT_CHECK (s_q ("%s", sql) == 1, "one follow-up");
  IT_CHECK (s_q ("SELECT count(*) FROM notification WHERE customer_id = %lld AND body LIKE"
                 " '%%Obrigado pela sua nota 3%%'", d) == 1, "one thanks");
}

int
main (void)
{
  it_require_pg ();
  int port = it_free_port ();
  s_fake = fake_http_start (port);
  IT_CHECK (s_fake, "fake server");
  static char wa[128], hook[128];
  snprintf (wa, sizeof wa, "ATENDE_WHATSAPP_API_URL=http://127.0.0.1:%d/graph", port);
  snprintf (hook, sizeof hook, "ATENDE_WEBHOOK_URL=http://127.0.0.1:%d/hooks", port);
  const char *extra[] = {wa, hook, "ATENDE_WEBHOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                         "ATENDE_PROVIDER_ROUTES=whatsapp=whatsapp,*=webhook",
                         "ATENDE_WHATSAPP_PHONE_NUMBER_ID=1234567890",
                         "ATENDE_WHATSAPP_TOKEN=EAAtoken",
                         "ATENDE_WHATSAPP_TEMPLATES=survey=survey_invite,*=generic_update",
                         "ATENDE_SURVEY_SECRET=survey-key-0123456789abcdef",
                         "ATENDE_SURVEY_HOUR_S=2", "ATENDE_NPS_DELAY_H=1",
                         "ATENDE_SURVEY_REMINDER_H=2", "ATENDE_SURVEY_EXPIRE_H=60",
                         "ATENDE_STORE_NAME=Loja Exemplo", "ATENDE_RETRY_BASE_MS=50",
                         "ATENDE_TEMPLATE_CACHE_MS=0", "ATENDE_LOG_LEVEL=debug",
                         "ATENDE_BROKER_SWEEP_MS=100", "ATENDE_DEFAULT_LOCALE=pt-BR",
                         "ATENDE_HEARTBEAT_MS=200", NULL};
  it_stack_init (&s_st, "surveys_channel", extra);
  s_db = it_db_connect (s_st.conninfo);
  it_stack_pids_t pids = it_stack_start (&s_st, "ingest,route,notify", WAIT_MS);
  static const char *sargs[] = {"worker", "survey", NULL};
  pid_t survey = it_stack_spawn (&s_st, "survey", sargs);
  s_nps_answered_once ();
  s_template_pending_reminder ();
  s_csat_low ();
  s_crash (&pids, &survey);
  IT_CHECK (s_q ("SELECT count(*) FROM bus_dead") == 0, "no dead letters");
  it_stop (survey, SIGTERM, 10000);
  it_stack_stop (&pids);
  PQfinish (s_db);
  fake_http_stop (&s_fake);
  printf ("surveys in the channel: ok\n");
  return 0;
}
