/* ingest and route end to end: a broker and `atende worker ingest,route`
 * on a fresh database; messages published on the bus as the api would.
 *   - a Portuguese "cadê meu pedido?" from a customer with an order is
 *     answered automatically: bot message with the order, its status and the
 *     date in dd/mm/aaaa, an auto_reply notification queued for notify, the
 *     ticket pending, first response recorded;
 *   - an English order question without an order waits for an agent, with
 *     intent, language and the normal first-response SLA;
 *   - an urgent Spanish return gets priority high and the urgent SLA;
 *   - the same provider message id twice is one message; a new customer's
 *     locale follows the language of their first message;
 *   - unknown channel, malformed handle, unknown ticket: dead-lettered with
 *     a reason, nothing written;
 *   - an agent's reply is recorded and queued; resolving produces one
 *     ticket.resolved for survey, resolving again nothing more. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "it.h"
#include "at_publisher.h"
#include "at_common.h"
#include "at_config.h"
#include "at_msg.h"
#include "domain.pb-c.h"

#define WAIT_MS 60000

static char s_db[512];
static char s_endpoint[64];
static at_publisher_t *s_pub;
static PGconn *s_conn;

static void
s_publish (at_msg_t *msg)
{
  int retry_after = 0, tries = 0, rc;
  while ((rc = at_publisher_send (s_pub, &msg, 1, &retry_after)) == AT_AGAIN || rc == AT_BUSY) {
    IT_CHECK (++tries < 100, "publish keeps failing rc=%d", rc);
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep (&ts, NULL);
  }
  IT_CHECK (rc == AT_OK, "publish rc=%d", rc);
}

static void
s_send (const char *stage, const char *type, const char *key, const ProtobufCMessage *pb,
        char id_out[AT_ID_LEN])
{
  size_t len = protobuf_c_message_get_packed_size (pb);
  uint8_t *buf = malloc (len ? len : 1);
  protobuf_c_message_pack (pb, buf);
  at_msg_t *msg = at_msg_new (stage, type, key, NULL, buf, len);
  free (buf);
  IT_CHECK (msg != NULL, "at_msg_new %s", type);
  if (id_out)
    memcpy (id_out, msg->id, AT_ID_LEN);
  s_publish (msg);
  at_msg_destroy (&msg);
}

static void
s_inbound (const char *channel, const char *handle, const char *text, const char *provider_id,
           char id_out[AT_ID_LEN])
{
  Atende__InboundMessage in = ATENDE__INBOUND_MESSAGE__INIT;
  in.channel = (char *) channel;
  in.handle = (char *) handle;
  in.text = (char *) text;
  in.provider_message_id = (char *) provider_id;
  in.received_us = at_now_us ();
  char key[AT_KEY_LEN];
  snprintf (key, sizeof key, "%s:%s", channel, handle);
  s_send (AT_STAGE_INGEST, AT_TYPE_INBOUND_MESSAGE, key, &in.base, id_out);
}

static void
s_ticket_cmd (const char *type, long long ticket_id, const char *text, char id_out[AT_ID_LEN])
{
  char key[AT_KEY_LEN];
  snprintf (key, sizeof key, "ticket:%lld", ticket_id);
  if (strcmp (type, AT_TYPE_TICKET_REPLY) == 0) {
    Atende__AgentReply r = ATENDE__AGENT_REPLY__INIT;
    r.ticket_id = ticket_id;
    r.agent = "joana";
    r.text = (char *) text;
    s_send (AT_STAGE_ROUTE, type, key, &r.base, id_out);
  }
  else {
    Atende__TicketResolve r = ATENDE__TICKET_RESOLVE__INIT;
    r.ticket_id = ticket_id;
    r.agent = "joana";
    s_send (AT_STAGE_ROUTE, type, key, &r.base, id_out);
  }
}

#define s_q(...) it_db_scalarf (s_conn, __VA_ARGS__)

/* Waits until ingest and route have nothing left and `dead` messages died. */
static void
s_settle (long long dead)
{
  long long v = it_wait_scalar (s_conn, "SELECT CASE WHEN count(*) = 0 THEN 1 ELSE 0 END"
                                " FROM bus_message WHERE stage IN ('ingest', 'route')"
                                " AND " IT_BUS_PENDING, 1, WAIT_MS);
  IT_CHECK (v == 1, "ingest and route queues drain");
  IT_CHECK (it_wait_scalar (s_conn, "SELECT count(*) FROM bus_dead", dead, WAIT_MS) == dead,
            "dead-lettered: want %lld", dead);
}

static long long
s_ticket_of (const char *handle)
{
  return s_q ("SELECT t.id FROM ticket t JOIN identity i ON i.customer_id = t.customer_id"
              " WHERE i.value = '%s' ORDER BY t.id DESC LIMIT 1", handle);
}

static void
test_auto_answer (void)
{
  s_inbound ("email", "Carla@Example.com.br", "Oi, tudo bem?", "<c1@mail>", NULL);
  s_settle (0);
  long long ticket = s_ticket_of ("carla@example.com.br");
  IT_CHECK (ticket > 0, "ticket for carla (handle normalised)");
  /* notify would have filled this from the store's order events */
  IT_CHECK (s_q ("INSERT INTO orders (id, customer_id, status, status_rank, expected_delivery,"
                 " tracking_url, status_at) SELECT 'PED-555', customer_id, 'in_transit', 4,"
                 " '2026-11-24', 'https://rastreio.example/PED-555', now() FROM ticket"
                 " WHERE id = %lld RETURNING 1", ticket) == 1, "order inserted");
  s_inbound ("email", "carla@example.com.br", "Cadê meu pedido? Já faz uma semana!",
             "<c2@mail>", NULL);
  s_settle (0);
  IT_CHECK (s_q ("SELECT count(*) FROM ticket WHERE id = %lld AND intent = 'order_status'"
                 " AND language = 'pt' AND status = 'pending' AND auto_answered"
                 " AND first_response_at IS NOT NULL", ticket) == 1, "ticket answered");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket_message WHERE ticket_id = %lld AND author = 'bot'"
                 " AND body LIKE '%%PED-555%%' AND body LIKE '%%24/11/2026%%'"
                 " AND body LIKE '%%https://rastreio.example/PED-555%%'", ticket) == 1,
            "bot message with order, date and link");
  IT_CHECK (s_q ("SELECT count(*) FROM notification WHERE ticket_id = %lld AND kind = 'auto_reply'"
                 " AND recipient = 'carla@example.com.br' AND body LIKE '%%PED-555%%'", ticket)
            == 1, "auto_reply notification");
  IT_CHECK (s_q ("SELECT count(*) FROM bus_message WHERE stage = 'notify'"
                 " AND type = 'notification.send'") == 1, "send queued for notify");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket") == 1, "both messages on one ticket");
}

static void
test_routing_without_order (void)
{
  s_inbound ("chat", "visitor-9", "Hi, where is my order? It still hasn't arrived", "chat-1", NULL);
  s_inbound ("whatsapp", "+55 (11) 98888-7777",
             "Es urgente, quiero devolver la chaqueta y el reembolso", "wamid.1", NULL);
  s_inbound ("whatsapp", "5511988887777", "Es urgente, quiero devolver la chaqueta y el reembolso",
             "wamid.1", NULL);   /* the provider retried its webhook */
  s_settle (0);
  long long en = s_ticket_of ("visitor-9"), es = s_ticket_of ("5511988887777");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket WHERE id = %lld AND intent = 'order_status'"
                 " AND intent_confidence BETWEEN 0.3 AND 1"
                 " AND priority = 'normal' AND language = 'en' AND status = 'open'"
                 " AND NOT auto_answered AND first_response_at IS NULL"
                 " AND abs (extract (epoch FROM first_response_due - created_at) - 14400) <= 1",
                 en) == 1,
            "English question waits for an agent");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket WHERE id = %lld AND intent = 'return_refund'"
                 " AND intent_confidence > 0.3"
                 " AND priority = 'high' AND language = 'es'"
                 " AND abs (extract (epoch FROM first_response_due - created_at) - 1800) <= 1",
                 es) == 1,
            "urgent Spanish return");
  IT_CHECK (s_q ("SELECT count(*) FROM customer c JOIN ticket t ON t.customer_id = c.id"
                 " WHERE (t.id = %lld AND c.locale = 'en') OR (t.id = %lld AND c.locale = 'es')",
                 en, es) == 2, "customers' locales from their first messages");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket_message WHERE channel = 'whatsapp'") == 1,
            "the retried webhook is one message");
  IT_CHECK (s_q ("SELECT count(*) FROM bus_message WHERE stage = 'notify'") == 1,
            "nothing sent without an order");
}

static void
test_bad_input (void)
{
  char fax[AT_ID_LEN], mail[AT_ID_LEN], reply[AT_ID_LEN];
  long long tickets = s_q ("SELECT count(*) FROM ticket");
  s_inbound ("fax", "123", "hello", "f1", fax);
  s_inbound ("email", "not-an-address", "hello", "e1", mail);
  s_ticket_cmd (AT_TYPE_TICKET_REPLY, 987654, "Olá!", reply);
  s_settle (3);
  IT_CHECK (s_q ("SELECT count(*) FROM bus_dead WHERE id = '%s' AND reason LIKE '%%channel%%'",
                 fax) == 1, "unknown channel dead-lettered");
  IT_CHECK (s_q ("SELECT count(*) FROM bus_dead WHERE id = '%s' AND reason LIKE '%%handle%%'",
                 mail) == 1, "malformed handle dead-lettered");
  IT_CHECK (s_q ("SELECT count(*) FROM bus_dead WHERE id = '%s' AND reason LIKE '%%unknown ticket%%'",
                 reply) == 1, "reply to an unknown ticket dead-lettered");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket") == tickets, "no ticket written");
}

static void
test_reply_and_resolve (void)
{
  long long en = s_ticket_of ("visitor-9");
  s_ticket_cmd (AT_TYPE_TICKET_REPLY, en, "Hi! Your order ships tomorrow.", NULL);
  s_settle (3);
  IT_CHECK (s_q ("SELECT count(*) FROM ticket WHERE id = %lld AND status = 'pending'"
                 " AND first_response_at IS NOT NULL", en) == 1, "reply recorded on ticket");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket_message WHERE ticket_id = %lld AND author = 'agent'"
                 " AND direction = 'out'", en) == 1, "agent message");
  IT_CHECK (s_q ("SELECT count(*) FROM notification WHERE ticket_id = %lld AND kind = 'reply'"
                 " AND recipient = 'visitor-9'", en) == 1, "reply notification");
  IT_CHECK (s_q ("SELECT count(*) FROM bus_message WHERE stage = 'notify'") == 2, "reply queued");
  s_ticket_cmd (AT_TYPE_TICKET_RESOLVE, en, NULL, NULL);
  s_settle (3);
  s_ticket_cmd (AT_TYPE_TICKET_RESOLVE, en, NULL, NULL);
  s_settle (3);
  IT_CHECK (s_q ("SELECT count(*) FROM ticket WHERE id = %lld AND status = 'resolved'"
                 " AND resolved_at IS NOT NULL", en) == 1, "resolved");
  IT_CHECK (s_q ("SELECT count(*) FROM bus_message WHERE stage = 'survey'"
                 " AND type = 'ticket.resolved' AND key = 'ticket:%lld'", en) == 1,
            "one ticket.resolved for survey");
  /* the customer writes again: a new ticket */
  s_inbound ("chat", "visitor-9", "One more question about sizes", "chat-2", NULL);
  s_settle (3);
  IT_CHECK (s_ticket_of ("visitor-9") != en, "new ticket after resolution");
}

int
main (void)
{
  it_require_pg ();
  at_strlcpy (s_db, it_db_create ("ingest_pipeline", true), sizeof s_db);
  snprintf (s_endpoint, sizeof s_endpoint, "tcp://127.0.0.1:%d", it_free_port ());
  s_conn = it_db_connect (s_db);
  char env_db[600], env_bind[96], env_eps[96];
  snprintf (env_db, sizeof env_db, "ATENDE_DATABASE_URL=%s", s_db);
  snprintf (env_bind, sizeof env_bind, "ATENDE_BROKER_BIND=%s", s_endpoint);
  snprintf (env_eps, sizeof env_eps, "ATENDE_BROKER_ENDPOINTS=%s", s_endpoint);
  const char *env[] = {env_db, env_bind, env_eps, "ATENDE_BROKER_METRICS_PORT=0",
                       "ATENDE_HEARTBEAT_MS=200", "ATENDE_BROKER_SWEEP_MS=100",
                       "ATENDE_MAX_ATTEMPTS=2", "ATENDE_RETRY_BASE_MS=50",
                       "ATENDE_LOG_LEVEL=debug", NULL};
  const char *broker_args[] = {"broker", NULL};
  const char *worker_args[] = {"worker", "ingest,route", NULL};
  pid_t broker = it_spawn_atende ("broker", broker_args, env);
  pid_t worker = it_spawn_atende ("worker", worker_args, env);

  setenv ("ATENDE_BROKER_ENDPOINTS", s_endpoint, 1);
  setenv ("ATENDE_PUBLISH_TIMEOUT_MS", "2000", 1);
  at_config_t *cfg = at_config_from_env ();
  IT_CHECK (cfg != NULL, "config");
  s_pub = at_publisher_new (cfg);
  IT_CHECK (s_pub != NULL, "publisher");

  test_auto_answer ();
  test_routing_without_order ();
  test_bad_input ();
  test_reply_and_resolve ();

  it_stop (worker, SIGTERM, 20000);
  it_stop (broker, SIGTERM, 10000);
  at_publisher_destroy (&s_pub);
  at_config_destroy (&cfg);
  PQfinish (s_conn);
  printf ("ingest pipeline: ok\n");
  return 0;
}
