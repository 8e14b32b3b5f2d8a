/* Orders end to end: an api, a broker, a worker running ingest, route and
 * notify, and a loopback HTTP server playing the provider.
 *   - Shopify webhooks over real HTTP: a bad signature is refused with 401
 *     and nothing is stored; a signed one is applied, and its retry (same
 *     X-Shopify-Event-Id) is not applied or told twice.
 *   - Templates through the api: an unknown {variable} is refused with 422
 *     naming it; a changed template is what customers get; a deleted
 *     translation falls back to the store's default locale.
 *   - Delay detection: an expected date in the past is checked at the end of
 *     that day (store time zone), the order becomes delayed and the customer
 *     is told once; repeated and stale checks do nothing.
 *   - "Where is my order?" about the delayed order is answered from its real
 *     state by the route stage. */
#include <curl/curl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include "it.h"
#include "at_publisher.h"
#include "at_crypto.h"
#include "notify/orders.h"
#include "domain.pb-c.h"

#define S_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define S_SHOPIFY_SECRET "shpss_4f2b9c0e7d"
#define S_SHOP "loja-teste.myshopify.com"
#define WAIT_MS 30000

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static int s_provider_calls;
static char s_db[600], s_endpoint[96], s_hook_url[128], s_api[96];

typedef struct { size_t len; } s_upload_t;

static enum MHD_Result
s_provider (void *cls, struct MHD_Connection *c, const char *url, const char *method,
            const char *version, const char *data, size_t *size, void **con_cls)
{
  if (!*con_cls) {
    *con_cls = calloc (1, sizeof (s_upload_t));
    return MHD_YES;
  }
  if (*size > 0) {
    *size = 0;
    return MHD_YES;
  }
  pthread_mutex_lock (&s_lock);
  s_provider_calls++;
  pthread_mutex_unlock (&s_lock);
  struct MHD_Response *r = MHD_create_response_from_buffer (2, (void *) "{}",
                                                            MHD_RESPMEM_PERSISTENT);
  enum MHD_Result ret = MHD_queue_response (c, 200, r);
  MHD_destroy_response (r);
  return ret;
}

static void
s_completed (void *cls, struct MHD_Connection *c, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
  free (*con_cls);
  *con_cls = NULL;
}

static struct MHD_Daemon *
s_provider_start (void)
{
  int port = it_free_port ();
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons ((uint16_t) port)};
  inet_pton (AF_INET, "127.0.0.1", &addr.sin_addr);
  snprintf (s_hook_url, sizeof s_hook_url, "http://127.0.0.1:%d/hooks", port);
  return MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t) port, NULL, NULL,
                           s_provider, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
                           MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL, MHD_OPTION_END);
}

static pid_t
s_spawn (const char *name, const char *const *args, int api_port)
{
  char env_db[640], env_bind[128], env_eps[128], env_hook[160], env_port[64];
  snprintf (env_db, sizeof env_db, "ATENDE_DATABASE_URL=%s", s_db);
  snprintf (env_bind, sizeof env_bind, "ATENDE_BROKER_BIND=%s", s_endpoint);
  snprintf (env_eps, sizeof env_eps, "ATENDE_BROKER_ENDPOINTS=%s", s_endpoint);
  snprintf (env_hook, sizeof env_hook, "ATENDE_WEBHOOK_URL=%s", s_hook_url);
  snprintf (env_port, sizeof env_port, "ATENDE_API_PORT=%d", api_port);
  const char *env[] = {env_db, env_bind, env_eps, env_hook, env_port,
                       "ATENDE_API_ADDRESS=127.0.0.1", "ATENDE_BROKER_METRICS_PORT=0",
                       "ATENDE_WEBHOOK_SECRET=" S_SECRET,
                       "ATENDE_SHOPIFY_SECRET=other.myshopify.com=nope," S_SHOP "="
                       S_SHOPIFY_SECRET, "ATENDE_TEMPLATE_CACHE_MS=0",
                       "ATENDE_STORE_TIMEZONE=America/Sao_Paulo", "ATENDE_DEFAULT_LOCALE=pt-BR",
                       "ATENDE_HEARTBEAT_MS=200", "ATENDE_MAX_ATTEMPTS=3",
                       "ATENDE_RETRY_BASE_MS=50", "ATENDE_BROKER_SWEEP_MS=100",
                       "ATENDE_LOG_LEVEL=debug", NULL};
  return it_spawn_atende (name, args, env);
}

static size_t
s_sink (char *data, size_t size, size_t n, void *arg)
{
  return size * n;
}

/* POSTs a Shopify webhook signed with secret (NULL: no signature header). */
static long
s_shopify (const char *topic, const char *event_id, const char *body, const char *secret)
{
  char url[160], h_sig[128] = "X-Shopify-Hmac-Sha256: ", h_topic[96], h_event[96];
  uint8_t mac[32];
  snprintf (url, sizeof url, "%s/v1/webhooks/shopify", s_api);
  snprintf (h_topic, sizeof h_topic, "X-Shopify-Topic: %s", topic);
  snprintf (h_event, sizeof h_event, "X-Shopify-Event-Id: %s", event_id);
  struct curl_slist *h = curl_slist_append (NULL, "Content-Type: application/json");
  h = curl_slist_append (h, "X-Shopify-Shop-Domain: " S_SHOP);
  h = curl_slist_append (h, h_topic);
  h = curl_slist_append (h, h_event);
  if (secret) {
    at_hmac_sha256 (secret, strlen (secret), body, strlen (body), mac);
    at_base64_encode (mac, sizeof mac, h_sig + strlen (h_sig), sizeof h_sig - strlen (h_sig));
    h = curl_slist_append (h, h_sig);
  }
  CURL *c = curl_easy_init ();
  long status = -1;
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt (c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_sink);
  curl_easy_setopt (c, CURLOPT_TIMEOUT, 10L);
  if (curl_easy_perform (c) == CURLE_OK)
    curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup (c);
  curl_slist_free_all (h);
  return status;
}

static long
s_http (const char *method, const char *path, const char *body, char **resp)
{
  char url[256];
  snprintf (url, sizeof url, "%s%s", s_api, path);
  return it_http (method, url, body ? "application/json" : NULL, body, resp);
}

static void
s_expect (PGconn *conn, const char *sql, long long want)
{
  long long have = it_wait_scalar (conn, sql, want, WAIT_MS);
  if (have != want) {
    PGresult *r = PQexec (conn, "SELECT coalesce(order_id, '-') || ': ' || body FROM notification"
                                " ORDER BY created_at");
    for (int i = 0; i < PQntuples (r); i++)
      fprintf (stderr, "notification %s\n", PQgetvalue (r, i, 0));
    PQclear (r);
  }
  IT_CHECK (have == want, "%s: want %lld, have %lld", sql, want, have);
}

static void
s_settle (PGconn *conn)
{
  s_expect (conn, "SELECT (count(*) = 0)::int FROM bus_message WHERE not_before <= now()", 1);
}

static void
s_shopify_webhooks (PGconn *conn)
{
  const char *create = "{\"id\": 820982911946154508, \"email\": \"Jon@Example.com\","
                       " \"created_at\": \"2026-11-20T10:00:00-03:00\","
                       " \"customer\": {\"first_name\": \"Jon\", \"last_name\": \"Snow\"}}";
  IT_CHECK (s_shopify ("orders/create", "e-1", create, "wrong-secret") == 401, "bad signature");
  IT_CHECK (s_shopify ("orders/create", "e-1", create, NULL) == 401, "no signature");
  IT_CHECK (it_db_scalar (conn, "SELECT count(*) FROM bus_message") == 0
              && it_db_scalar (conn, "SELECT count(*) FROM orders") == 0,
            "nothing stored on 401");
  IT_CHECK (s_shopify ("orders/create", "e-1", create, S_SHOPIFY_SECRET) == 200, "signed");
  IT_CHECK (s_shopify ("orders/create", "e-1", create, S_SHOPIFY_SECRET) == 200, "retried");
  const char *shipped = "{\"id\": 1, \"order_id\": 820982911946154508, \"status\": \"success\","
                        " \"shipment_status\": \"in_transit\", \"email\": \"jon@example.com\","
                        " \"estimated_delivery_at\": \"2031-05-02T18:00:00Z\","
                        " \"tracking_urls\": [\"https://track.example/1Z\"],"
                        " \"updated_at\": \"2026-11-21T09:00:00-03:00\"}";
  IT_CHECK (s_shopify ("fulfillments/update", "e-2", shipped, S_SHOPIFY_SECRET) == 200, "ful");
  IT_CHECK (s_shopify ("orders/updated", "e-3", create, S_SHOPIFY_SECRET) == 200, "ignored");
  s_expect (conn, "SELECT count(*) FROM order_event WHERE order_id = '820982911946154508'", 2);
  s_settle (conn);
  IT_CHECK (it_db_scalar (conn, "SELECT count(*) FROM orders WHERE id = '820982911946154508'"
                                " AND status = 'in_transit' AND expected_delivery = '2031-05-02'"
                                " AND tracking_url = 'https://track.example/1Z'") == 1,
            "order in transit with its date and tracking");
  IT_CHECK (it_db_scalar (conn, "SELECT count(*) FROM notification WHERE order_id ="
                                " '820982911946154508' AND recipient = 'jon@example.com'") == 2,
            "placed and in transit told once each, the retry not again");
  IT_CHECK (it_db_scalar (conn, "SELECT count(*) FROM bus_message WHERE type ="
                                " 'order.check_delay' AND not_before > now()") == 1,
            "a delay check waits for the end of 2031-05-02");
}

static void
s_order_event (const char *order, const char *body)
{
  char path[128], *resp = NULL;
  snprintf (path, sizeof path, "/v1/orders/%s/events", order);
  long st = s_http ("POST", path, body, &resp);
  IT_CHECK (st == 202, "order event %s: %ld %s", order, st, resp ? resp : "");
  free (resp);
}

static void
s_templates (PGconn *conn)
{
  char *resp = NULL;
  long st = s_http ("PUT", "/v1/templates/placed/en", "{\"body\": \"Hi {first_name}, use"
                    " {coupon_code} on order {order_id}\"}", &resp);
  IT_CHECK (st == 422 && resp && strstr (resp, "coupon_code") && strstr (resp, "\"body\""),
            "unknown variable named: %ld %s", st, resp ? resp : "");
  free (resp);
  st = s_http ("PUT", "/v1/templates/shipped/fr", "{\"body\": \"Salut\"}", NULL);
  IT_CHECK (st == 404, "unknown locale: %ld", st);
  st = s_http ("PUT", "/v1/templates/placed/en", "{\"body\": \"Thanks[ {first_name}], order"
               " {order_id} is in.\"}", &resp);
  IT_CHECK (st == 200 && resp && strstr (resp, "is in."), "replaced: %ld", st);
  free (resp);
  IT_CHECK (s_http ("DELETE", "/v1/templates/placed/es", NULL, NULL) == 204, "deleted");
  IT_CHECK (s_http ("DELETE", "/v1/templates/placed/es", NULL, NULL) == 404, "gone");
  IT_CHECK (s_http ("GET", "/v1/templates/placed/es", NULL, NULL) == 404, "gone");
  IT_CHECK (s_http ("GET", "/v1/templates/placed/en", NULL, &resp) == 200, "get");
  free (resp);
  PQclear (PQexec (conn, "INSERT INTO customer (id, name, locale) VALUES (501, 'Eve Lin', 'en'),"
                         " (502, 'Pilar Ruiz', 'es');"
                         "INSERT INTO identity (customer_id, kind, value) VALUES"
                         " (501, 'email', 'eve@example.com'), (502, 'email', 'pilar@example.com')"));
  s_order_event ("T-EN", "{\"status\": \"placed\", \"customer\": {\"channel\": \"email\","
                 " \"handle\": \"eve@example.com\"}}");
  s_order_event ("T-ES", "{\"status\": \"placed\", \"customer\": {\"channel\": \"email\","
                 " \"handle\": \"pilar@example.com\"}}");
  s_expect (conn, "SELECT count(*) FROM notification WHERE order_id IN ('T-EN', 'T-ES')", 2);
  IT_CHECK (it_db_scalar (conn, "SELECT count(*) FROM notification WHERE order_id = 'T-EN'"
                                " AND body = 'Thanks Eve, order T-EN is in.'") == 1,
            "the edited English template");
  IT_CHECK (it_db_scalar (conn, "SELECT count(*) FROM notification WHERE order_id = 'T-ES'"
                                " AND body = 'Olá, Pilar! Recebemos o seu pedido T-ES. Avisaremos"
                                " cada etapa por aqui.'") == 1,
            "no Spanish translation: the default locale's text");
}

/* A check message as the scheduler would publish it. */
static void
s_publish_check (at_publisher_t *pub, const char *order, const char *date)
{
  at_msg_t *m = wrk_notify_check_msg (order, date, 1, NULL);
  IT_CHECK (m != NULL, "check message");
  int retry = 0, rc = AT_AGAIN;
  for (int i = 0; i < 20 && rc != AT_OK; i++)
    rc = at_publisher_send (pub, &m, 1, &retry);
  IT_CHECK (rc == AT_OK, "publish check: %d", rc);
  at_msg_destroy (&m);
}

static void
s_delay (PGconn *conn, at_publisher_t *pub)
{
  const char *customer = "\"customer\": {\"channel\": \"whatsapp\", \"handle\":"
                         " \"+55 11 98888-7777\", \"name\": \"Ana Souza\"}";
  char body[512];
  snprintf (body, sizeof body, "{\"status\": \"in_transit\", \"event_id\": \"d1\", \"occurred_at\":"
            " \"2024-03-08T12:00:00-03:00\", \"expected_delivery\": \"2024-03-10\","
            " \"tracking_url\": \"https://rastreio.example/D1\", %s}", customer);
  s_order_event ("D-1", body);
  /* the check for 2024-03-10 was due at 2024-03-11 00:00 in Sao Paulo: at once */
  s_expect (conn, "SELECT count(*) FROM orders WHERE id = 'D-1' AND status = 'delayed'"
                  " AND missed_delivery = '2024-03-10' AND expected_delivery IS NULL"
                  " AND status_at = '2024-03-11 03:00:00+00'", 1);
  s_expect (conn, "SELECT count(*) FROM notification WHERE order_id = 'D-1' AND body ="
                  " 'Olá, Ana! O pedido D-1 atrasou (a previsão era 10/03/2024), desculpe."
                  " Acompanhe: https://rastreio.example/D1'", 1);
  s_publish_check (pub, "D-1", "2024-03-10");     /* again: told once */
  s_publish_check (pub, "D-1", "2024-03-02");     /* stale date */
  s_publish_check (pub, "NO-SUCH-ORDER", "2024-03-02");
  s_settle (conn);
  IT_CHECK (it_db_scalar (conn, "SELECT count(*) FROM notification WHERE order_id = 'D-1'") == 2,
            "repeated, stale and orderless checks told nothing");
  /* a carrier's new estimate, later passed as well: told again, once */
  snprintf (body, sizeof body, "{\"status\": \"delayed\", \"event_id\": \"d2\", \"occurred_at\":"
            " \"2024-03-12T09:00:00-03:00\", \"expected_delivery\": \"2024-03-14\", %s}", customer);
  s_order_event ("D-1", body);
  s_expect (conn, "SELECT count(*) FROM notification WHERE order_id = 'D-1'", 4);
  s_settle (conn);
  IT_CHECK (it_db_scalar (conn, "SELECT count(*) FROM notification WHERE order_id = 'D-1'"
                                " AND body LIKE '%Nova previsão de entrega: 14/03/2024.%'") == 1,
            "the new estimate told");
  IT_CHECK (it_db_scalar (conn, "SELECT count(*) FROM notification WHERE order_id = 'D-1'") == 4,
            "in transit, delayed, new estimate; and the missed new estimate once more");
  IT_CHECK (it_db_scalar (conn, "SELECT count(*) FROM orders WHERE id = 'D-1' AND"
                                " missed_delivery = '2024-03-14'") == 1, "second miss recorded");
}

static void
s_where_is_my_order (PGconn *conn)
{
  /* the order is delayed with a new estimate still to come */
  const char *body = "{\"status\": \"delayed\", \"event_id\": \"d3\", \"occurred_at\":"
                     " \"2024-03-16T09:00:00-03:00\", \"expected_delivery\": \"2031-03-20\","
                     " \"customer\": {\"channel\": \"whatsapp\", \"handle\": \"+5511988887777\"}}";
  s_order_event ("D-1", body);
  s_expect (conn, "SELECT count(*) FROM orders WHERE id = 'D-1' AND expected_delivery ="
                  " '2031-03-20'", 1);
  long st = s_http ("POST", "/v1/messages", "{\"channel\": \"whatsapp\", \"handle\":"
                    " \"+5511988887777\", \"text\": \"Oi, onde está meu pedido? Ainda não"
                    " chegou\", \"provider_message_id\": \"wamid.W1\"}", NULL);
  IT_CHECK (st == 202, "inbound: %ld", st);
  s_expect (conn, "SELECT count(*) FROM ticket_message WHERE author = 'bot' AND body LIKE"
                  " '%pedido D-1 está atrasado, pedimos desculpas. Nova previsão de entrega:"
                  " 20/03/2031.%'", 1);
}

int
main (void)
{
  it_require_pg ();
  curl_global_init (CURL_GLOBAL_DEFAULT);
  at_strlcpy (s_db, it_db_create ("orders_lifecycle", true), sizeof s_db);
  snprintf (s_endpoint, sizeof s_endpoint, "tcp://127.0.0.1:%d", it_free_port ());
  struct MHD_Daemon *provider = s_provider_start ();
  IT_CHECK (provider != NULL, "provider");
  PGconn *conn = it_db_connect (s_db);
  int api_port = it_free_port ();
  snprintf (s_api, sizeof s_api, "http://127.0.0.1:%d", api_port);

  const char *broker_args[] = {"broker", NULL};
  const char *worker_args[] = {"worker", "ingest,route,notify", NULL};
  const char *api_args[] = {"api", NULL};
  pid_t broker = s_spawn ("broker", broker_args, api_port);
  pid_t worker = s_spawn ("worker", worker_args, api_port);
  pid_t api = s_spawn ("api", api_args, api_port);
  char ready[160];
  snprintf (ready, sizeof ready, "%s/readyz", s_api);
  for (int i = 0; i < 500 && it_http ("GET", ready, NULL, NULL, NULL) != 200; i++)
    usleep (20000);

  setenv ("ATENDE_BROKER_ENDPOINTS", s_endpoint, 1);
  setenv ("ATENDE_PUBLISH_TIMEOUT_MS", "2000", 1);
  at_config_t *cfg = at_config_from_env ();
  at_publisher_t *pub = cfg ? at_publisher_new (cfg) : NULL;
  IT_CHECK (pub != NULL, "publisher");

  s_shopify_webhooks (conn);
  s_templates (conn);
  s_delay (conn, pub);
  s_where_is_my_order (conn);
  s_settle (conn);
  IT_CHECK (it_db_scalar (conn, "SELECT count(*) FROM bus_dead") == 0, "nothing dead-lettered");
  pthread_mutex_lock (&s_lock);
  int calls = s_provider_calls;
  pthread_mutex_unlock (&s_lock);
  printf ("provider received %d requests\n", calls);

  it_stop (api, SIGTERM, 10000);
  it_stop (worker, SIGTERM, 10000);
  it_stop (broker, SIGTERM, 10000);
  at_publisher_destroy (&pub);
  at_config_destroy (&cfg);
  PQfinish (conn);
  MHD_stop_daemon (provider);
  curl_global_cleanup ();
  printf ("test_orders_lifecycle: ok\n");
  return 0;
}
