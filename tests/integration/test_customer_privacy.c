/* Personal data, over real HTTP to a real api + broker + ingest, route and
 * notify (a provider that answers 200): Joana writes from WhatsApp and from
 * email (two customers, merged), her order moves, an agent replies; then
 * GET /v1/customers/{id}/export holds all of it, POST .../erase leaves no
 * row of any table holding her phone, email, name or texts (bus payloads
 * searched as bytes), ticket and notification counts and the KPIs are
 * unchanged, a second erase is harmless and audited, an unknown id is 404
 * and a key without customers:write gets 403. Retention: `atende retention
 * run` erases the texts of a ticket resolved long ago and keeps a recent
 * one's. */
#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include "it.h"
#include "at_store_auth.h"
#include "at_store_privacy.h"

#define WAIT_MS 60000
#define S_HOOK_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define S_KEY_SECRET "privacy-test-key-secret"
#define S_PHONE "5511987654321"
#define S_EMAIL "joana.privada@example.com"

/* What must not survive an erasure: pieces of the phone, the email, the
 * name and her texts (and the agent's, which name her). */
static const char *const s_needles[] = {
  "98765", S_EMAIL, "Joana", "sapato-vermelho", "troca-azul", "Veja-Joana", "rastreio-777",
  "comentario-privado", "anexo-joana", "PIXJOANA",
};

static char s_api[64], s_conninfo[512];
static PGconn *s_db;

#define s_q(...) it_db_scalarf (s_db, __VA_ARGS__)

static json_t *
s_call (const char *method, const char *path, const char *body, long want)
{
  char url[256], *resp = NULL;
  snprintf (url, sizeof url, "%s%s", s_api, path);
  long status = it_http (method, url, body ? "application/json" : NULL, body, &resp);
  IT_CHECK (status == want, "%s %s: %ld, want %ld: %.300s", method, path, status, want,
            resp ? resp : "");
  json_t *doc = json_loads (resp ? resp : "", 0, NULL);
  IT_CHECK (doc != NULL, "%s %s: not JSON: %.300s", method, path, resp ? resp : "");
  free (resp);
  return doc;
}

/* --- a provider that accepts everything */

static enum MHD_Result
s_hook (void *cls, struct MHD_Connection *c, const char *url, const char *method,
        const char *version, const char *data, size_t *size, void **con_cls)
{
  (void) cls, (void) url, (void) method, (void) version, (void) data;
  static int s_marker;
  if (!*con_cls) {
    *con_cls = &s_marker;
    return MHD_YES;
  }
  if (*size > 0) {
    *size = 0;
    return MHD_YES;
  }
  struct MHD_Response *r = MHD_create_response_from_buffer (2, (void *) "{}",
                                                            MHD_RESPMEM_PERSISTENT);
  enum MHD_Result ret = MHD_queue_response (c, 200, r);
  MHD_destroy_response (r);
  return ret;
}

static struct MHD_Daemon *
s_hook_start (char *url, size_t cap)
{
  int port = it_free_port ();
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) port)};
  inet_pton (AF_INET, "127.0.0.1", &addr.sin_addr);
  snprintf (url, cap, "ATENDE_WEBHOOK_URL=http://127.0.0.1:%d/hooks", port);
  return MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t) port, NULL, NULL, s_hook,
                           NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr, MHD_OPTION_END);
}

/* --- Joana's data */

static void
s_send (const char *channel, const char *handle, const char *text, const char *provider_id)
{
  it_message_send (s_api, s_db, channel, handle, "Joana Privada", text, provider_id, WAIT_MS);
}

static long long
s_customer_of (const char *kind, const char *value)
{
  return s_q ("SELECT customer_id FROM identity WHERE kind = '%s' AND value = '%s'", kind, value);
}

/* Nothing due on the bus (SLA checks wait for later), nothing left to
 * send: the KPIs stand still. */
static bool
s_settled (void *arg)
{
  (void) arg;
  return s_q ("SELECT count(*) FROM bus_message WHERE " IT_BUS_PENDING) == 0
         && s_q ("SELECT count(*) FROM notification WHERE status IN ('pending', 'sending')") == 0;
}

/* Two messages, a merge, an order, a reply; a survey answer, an
 * attachment and two dead letters written into the store beside them. */
static long long
s_build (void)
{
  s_send ("whatsapp", S_PHONE, "Meu sapato-vermelho veio errado", "wamid.priv1");
  s_send ("email", S_EMAIL, "Quero a troca-azul, obrigada", "<priv1@example.com>");
  long long joana = s_customer_of ("whatsapp", S_PHONE);
  long long other = s_customer_of ("email", S_EMAIL);
  char path[128], body[512];
  snprintf (path, sizeof path, "/v1/customers/%lld/merge", joana);
  snprintf (body, sizeof body, "{\"from\": %lld}", other);
  json_decref (s_call ("POST", path, body, 200));
  snprintf (body, sizeof body, "{\"status\":\"shipped\",\"event_id\":\"e1\",\"tracking_url\":"
            "\"https://track.example.com/rastreio-777\",\"payment_method\":\"pix\","
            "\"payment_code\":\"00020126360014BR.GOV.BCB.PIX0114PIXJOANA-chave520400005303986"
            "5802BR6304ABCD\",\"customer\":{\"channel\":\"whatsapp\","
            "\"handle\":\"%s\",\"name\":\"Joana Privada\"}}", S_PHONE);
  json_decref (s_call ("POST", "/v1/orders/PRIV-1/events", body, 202));
  long long ticket = s_q ("SELECT ticket_id FROM ticket_message WHERE provider_message_id"
                          " = 'wamid.priv1'");
  snprintf (path, sizeof path, "/v1/tickets/%lld/replies", ticket);
  json_decref (s_call ("POST", path, "{\"text\":\"Veja-Joana, trocamos hoje\"}", 202));
  IT_CHECK (it_wait_scalar (s_db, "SELECT count(*) FROM notification WHERE status = 'delivered'",
                            2, WAIT_MS) >= 2, "reply and order notification delivered");
  IT_CHECK (it_wait_scalar (s_db, "SELECT count(*) FROM orders WHERE id = 'PRIV-1'", 1, WAIT_MS)
            == 1, "order");
  IT_CHECK (it_wait_until (s_settled, NULL, WAIT_MS), "the bus did not settle");
  s_q ("WITH s AS (INSERT INTO survey (id, kind, ticket_id, customer_id) VALUES"
       " (gen_random_uuid (), 'csat', %lld, %lld) RETURNING id)"
       " INSERT INTO survey_answer (survey_id, score, comment) SELECT id, 5,"
       " 'comentario-privado da Joana' FROM s RETURNING 1", ticket, joana);
  s_q ("WITH a AS (INSERT INTO attachment (ticket_message_id, name, content_type, size)"
       " SELECT id, 'anexo-joana.pdf', 'application/pdf', 4 FROM ticket_message"
       " WHERE provider_message_id = 'wamid.priv1' RETURNING id)"
       " INSERT INTO attachment_content SELECT id, '\\x25504446'::bytea FROM a RETURNING 1");
  return joana;
}

/* A dead letter keyed by her hashed key and one by the raw key written
 * before keys were hashed, each with her phone in the payload. */
static void
s_dead_letters (void)
{
  char key[AT_PRIVACY_KEY_LEN];
  IT_CHECK (at_privacy_bus_key (S_KEY_SECRET, "whatsapp", S_PHONE, key, sizeof key) == AT_OK,
            "bus key");
  IT_CHECK (strstr (key, "98765") == NULL && strncmp (key, "whatsapp:#", 10) == 0, "key %s", key);
  s_q ("INSERT INTO bus_dead (id, stage, key, type, attempt, created_at, trace_id, payload, reason)"
       " VALUES (gen_random_uuid (), 'ingest', '%s', 'inbound.message', 8, now (), 't',"
       " convert_to ('%s sapato-vermelho', 'UTF8'), 'test'),"
       " (gen_random_uuid (), 'ingest', 'whatsapp:%s', 'inbound.message', 8, now (), 't',"
       " convert_to ('%s troca-azul', 'UTF8'), 'test'),"
       " (gen_random_uuid (), 'ingest', 'whatsapp:#someoneelse', 'inbound.message', 8, now (),"
       " 't', convert_to ('other', 'UTF8'), 'test') RETURNING 1", key, S_PHONE, S_PHONE, S_PHONE);
  /* two pending rows of her ticket, due in an hour: her text goes, a resolve stays */
  s_q ("INSERT INTO bus_message (id, stage, key, type, created_at, not_before, trace_id, payload)"
       " SELECT gen_random_uuid (), 'route', 'ticket:' || ticket_id, t, now (),"
       " now () + interval '1 hour', 't', convert_to (p, 'UTF8') FROM ticket_message,"
       " (VALUES ('ticket.message', '%s sapato-vermelho'), ('ticket.resolve', 'x')) AS v (t, p)"
       " WHERE provider_message_id = 'wamid.priv1' RETURNING 1", S_PHONE);
}

/* Rows of `table` holding needle: any column as text, bytea as bytes. */
static long long
s_rows_holding (const char *table, const char *needle)
{
  if (strcmp (table, "bus_message") == 0 || strcmp (table, "bus_dead") == 0)
    return s_q ("SELECT count(*) FROM %s b WHERE position (convert_to ('%s', 'UTF8') IN b.payload)"
                " > 0 OR b.key LIKE '%%%s%%' OR coalesce (b.errors::text, '') LIKE '%%%s%%'",
                table, needle, needle, needle);
  if (strcmp (table, "attachment_content") == 0)
    return s_q ("SELECT count(*) FROM attachment_content WHERE position (convert_to ('%s',"
                " 'UTF8') IN content) > 0", needle);
  return s_q ("SELECT count(*) FROM %s t WHERE t::text LIKE '%%%s%%'", table, needle);
}

static const char *const s_tables[] = {
  "customer", "identity", "ticket", "ticket_message", "attachment", "attachment_content",
  "notification", "survey", "survey_answer", "orders", "order_event", "bus_message", "bus_dead",
  "audit_log",
};

/* The planted pending rows among an export's (her ticket's own timers,
 * an SLA check, a follow-up, are hers too and listed besides). */
static size_t
s_pending_planted (const json_t *pending)
{
  size_t i, n = 0;
  json_t *row;
  json_array_foreach (pending, i, row) {
    const char *type = json_string_value (json_object_get (row, "type"));
    n += type && (strcmp (type, "ticket.message") == 0 || strcmp (type, "ticket.resolve") == 0);
  }
  return n;
}

static void
s_export (long long joana)
{
  char path[128];
  snprintf (path, sizeof path, "/v1/customers/%lld/export", joana);
  json_t *doc = s_call ("GET", path, NULL, 200);
  char *text = json_dumps (doc, JSON_COMPACT);
  for (size_t i = 0; i < AT_ARRAY_LEN (s_needles); i++)
    if (strcmp (s_needles[i], "comentario-privado") != 0 && strcmp (s_needles[i], "anexo-joana"))
      IT_CHECK (strstr (text, s_needles[i]) != NULL, "export lacks %s: %.400s", s_needles[i], text);
  IT_CHECK (strstr (text, "comentario-privado") && strstr (text, "anexo-joana"), "survey, file");
  IT_CHECK (json_array_size (json_object_get (doc, "identities")) == 2, "identities");
  IT_CHECK (json_array_size (json_object_get (doc, "tickets")) == 2, "tickets");
  IT_CHECK (json_array_size (json_object_get (doc, "orders")) == 1, "orders");
  IT_CHECK (json_array_size (json_object_get (doc, "notifications")) >= 2, "notifications");
  IT_CHECK (json_array_size (json_object_get (json_object_get (doc, "bus"), "dead")) == 2
            && s_pending_planted (json_object_get (json_object_get (doc, "bus"), "pending")) == 2,
            "her two dead letters (not the other one) and the two pending rows planted");
  free (text);
  json_decref (doc);
  json_decref (s_call ("GET", "/v1/customers/999999/export", NULL, 404));
}

/* The KPIs without what moves by itself. */
static char *
s_kpis (void)
{
  json_t *k = s_call ("GET", "/v1/kpis", NULL, 200);
  char *text = json_dumps (k, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref (k);
  return text;
}

static void
s_forbidden (long long joana)
{
  at_store_t *store = at_store_new (s_conninfo, "it");
  at_auth_key_t key;
  IT_CHECK (store && at_store_key_create (store, "reader", AT_SCOPE_TICKETS_READ, 0, "it", &key)
            == AT_OK, "key");
  at_store_destroy (&store);
  char url[256], bearer[256];
  snprintf (url, sizeof url, "%s/v1/customers/%lld/erase", s_api, joana);
  snprintf (bearer, sizeof bearer, "Authorization: Bearer %s", key.text);
  const char *headers[] = { bearer, NULL };
  long status = it_http_ex ("POST", url, NULL, NULL, headers, false, NULL, NULL);
  IT_CHECK (status == 403, "erase without customers:write: %ld", status);
  snprintf (url, sizeof url, "%s/v1/customers/%lld/export", s_api, joana);
  status = it_http_ex ("GET", url, NULL, NULL, headers, false, NULL, NULL);
  IT_CHECK (status == 403, "export without customers:read: %ld", status);
}

static void
s_erase (long long joana)
{
  long long tickets = s_q ("SELECT count(*) FROM ticket");
  long long notifications = s_q ("SELECT count(*) FROM notification");
  /* the search finds her before: it is not blind */
  IT_CHECK (s_rows_holding ("notification", "98765") >= 2 && s_rows_holding ("customer", "Joana")
            == 2 && s_rows_holding ("bus_dead", "98765") == 2
            && s_rows_holding ("ticket_message", "sapato-vermelho") == 1, "before the erasure");
  char *kpis = s_kpis (), path[128];
  snprintf (path, sizeof path, "/v1/customers/%lld/erase", joana);
  json_t *doc = s_call ("POST", path, NULL, 200);
  json_t *erased = json_object_get (doc, "erased");
  IT_CHECK (!json_is_true (json_object_get (doc, "already_erased"))
            && json_integer_value (json_object_get (erased, "identity")) == 2
            && json_integer_value (json_object_get (erased, "ticket_message")) >= 3
            && json_integer_value (json_object_get (erased, "notification")) >= 2
            && json_integer_value (json_object_get (erased, "customer")) == 2
            && json_integer_value (json_object_get (erased, "bus_dead")) == 2
            && json_integer_value (json_object_get (erased, "bus_message")) == 1, "counts");
  json_decref (doc);
  for (size_t t = 0; t < AT_ARRAY_LEN (s_tables); t++)
    for (size_t n = 0; n < AT_ARRAY_LEN (s_needles); n++)
      IT_CHECK (s_rows_holding (s_tables[t], s_needles[n]) == 0, "%s still holds %s",
                s_tables[t], s_needles[n]);
  IT_CHECK (s_q ("SELECT count(*) FROM bus_dead") == 1, "the other dead letter stays");
  /* ids only, no text of hers: her ticket's resolve and timers, the desk's
   * rounds (keyed by team) */
  IT_CHECK (s_q ("SELECT count(*) FROM bus_message WHERE type = 'ticket.resolve'") == 1
            && s_q ("SELECT count(*) FROM bus_message WHERE type NOT IN ('sla.check',"
                    " 'kb.followup') AND type NOT LIKE 'desk.%%'") == 1,
            "a pending resolve stays (and SLA checks, desk rounds)");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket") == tickets, "tickets kept");
  IT_CHECK (s_q ("SELECT count(*) FROM notification") == notifications, "notifications kept");
  IT_CHECK (s_q ("SELECT score FROM survey_answer") == 5, "the score stays");
  char *after = s_kpis ();
  IT_CHECK (strcmp (kpis, after) == 0, "KPIs moved:\n%s\n%s", kpis, after);
  free (after);
  free (kpis);
  doc = s_call ("POST", path, NULL, 200);
  IT_CHECK (json_is_true (json_object_get (doc, "already_erased")), "second erase");
  json_decref (doc);
  IT_CHECK (s_q ("SELECT count(*) FROM audit_log WHERE action = 'customer.erase' AND target ="
                 " 'customer:%lld' AND actor LIKE 'key:%%'", joana) == 2, "audited");
  json_decref (s_call ("POST", "/v1/customers/999999/erase", NULL, 404));
}

/* Two resolved tickets, one 40 days ago: `atende retention run` with 30
 * days erases the old one's texts only. */
static void
s_retention (const char *const *env_base)
{
  s_send ("email", "velho@example.com", "texto-antigo-ret", "<ret-old@x>");
  s_send ("email", "novo@example.com", "texto-recente-ret", "<ret-new@x>");
  s_q ("UPDATE ticket SET status = 'resolved', resolved_at = now () - interval '40 days'"
       " WHERE id = (SELECT ticket_id FROM ticket_message WHERE provider_message_id ="
       " '<ret-old@x>') RETURNING 1");
  s_q ("UPDATE ticket SET status = 'resolved', resolved_at = now () - interval '1 day'"
       " WHERE id = (SELECT ticket_id FROM ticket_message WHERE provider_message_id ="
       " '<ret-new@x>') RETURNING 1");
  const char *env[16];
  size_t n = 0;
  while (env_base[n] && n < 14) {
    env[n] = env_base[n];
    n++;
  }
  env[n++] = "ATENDE_RETENTION_DAYS=30";
  env[n] = NULL;
  const char *args[] = { "retention", "run", NULL };
  int status = 0;
  pid_t pid = it_spawn_atende ("retention", args, env);
  IT_CHECK (waitpid (pid, &status, 0) == pid && WIFEXITED (status) && WEXITSTATUS (status) == 0,
            "atende retention run");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket_message WHERE body = '[erased]' AND"
                 " provider_message_id = '<ret-old@x>'") == 1, "old text erased");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket_message WHERE body = 'texto-recente-ret'") == 1,
            "recent text kept");
}

int
main (void)
{
  it_require_pg ();
  char hook_env[96];
  struct MHD_Daemon *hook = s_hook_start (hook_env, sizeof hook_env);
  IT_CHECK (hook != NULL, "provider");
  it_stack_t st;
  it_stack_init (&st, "customer_privacy",
                 (const char *[]) {"ATENDE_BUS_KEY_SECRET=" S_KEY_SECRET,
                                   "ATENDE_WEBHOOK_SECRET=" S_HOOK_SECRET, hook_env, NULL});
  at_strlcpy (s_conninfo, st.conninfo, sizeof s_conninfo);
  at_strlcpy (s_api, st.api, sizeof s_api);
  s_db = it_db_connect (s_conninfo);
  it_stack_pids_t pids = it_stack_start (&st, "ingest,route,notify", WAIT_MS);
  long long joana = s_build ();
  s_dead_letters ();
  s_export (joana);
  s_forbidden (joana);
  s_erase (joana);
  s_retention (st.env);
  it_stack_stop (&pids);
  MHD_stop_daemon (hook);
  PQfinish (s_db);
  printf ("customer privacy: ok\n");
  return 0;
}
