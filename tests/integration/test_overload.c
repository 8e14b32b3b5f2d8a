/* Backpressure, never a silent drop (reliability contract 7): the ingest
 * stage is bounded to a tiny backlog (ATENDE_BUS_BACKLOG_MAX=40).
 *   1. With no worker, a publisher fills it: the broker answers Busy with a
 *      retry-after, and the api answers 503 with a Retry-After header.
 *   2. A worker starts; a bus publisher (batches of 10, as fast as it can)
 *      and an HTTP client keep overloading the stage, each retrying after
 *      what it was told.
 * At the end every message the broker confirmed or the api accepted (202)
 * was processed exactly once: zero drops, zero doubles (the api's messages
 * carry a provider message id, on which ingest is idempotent: they prove
 * zero drops; the bus publisher's carry none: they also prove no double).
 * Prints the counts. */
#include <curl/curl.h>
#include "test_crash_util.h"

#define BACKLOG 40
#define CUSTOMERS 300
#define PHASE2_BUS 1200
#define PHASE2_HTTP 80
#define WAIT_MS 50000

static int s_api_port;

typedef struct {
  char body[1024];
  size_t len;
  long retry_after;
} s_answer_t;

static size_t
s_on_header (char *buf, size_t size, size_t n, void *arg)
{
  s_answer_t *a = arg;
  size_t len = size * n;
  if (len > 12 && strncasecmp (buf, "Retry-After:", 12) == 0) {
    char value[32];
    size_t vlen = len - 12 < sizeof value - 1 ? len - 12 : sizeof value - 1;
    memcpy (value, buf + 12, vlen);
    value[vlen] = '\0';
    a->retry_after = strtol (value, NULL, 10);
  }
  return len;
}

static size_t
s_on_body (char *buf, size_t size, size_t n, void *arg)
{
  s_answer_t *a = arg;
  size_t len = size * n;
  size_t room = sizeof a->body - 1 - a->len;
  size_t take = len < room ? len : room;
  memcpy (a->body + a->len, buf, take);
  a->len += take;
  a->body[a->len] = '\0';
  return len;
}

/* POSTs one chat message to the api; the status, the Retry-After (-1 when
 * absent) and the accepted id (when 202). */
static long
s_post (int customer, long seq, long *retry_after, char id[AT_ID_LEN])
{
  char url[96], body[256];
  snprintf (url, sizeof url, "http://127.0.0.1:%d/v1/messages", s_api_port);
  snprintf (body, sizeof body, "{\"channel\":\"chat\",\"handle\":\"proof-%d\","
                               "\"provider_message_id\":\"overload-%ld\","
                               "\"text\":\"Cadê meu pedido? seq=%ld\"}", customer, seq, seq);
  s_answer_t a = {.retry_after = -1};
  CURL *c = curl_easy_init ();
  IT_CHECK (c != NULL, "curl");
  struct curl_slist *h = curl_slist_append (NULL, "Content-Type: application/json");
  h = curl_slist_append (h, it_auth_header ());
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt (c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, 20000L);
  curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, s_on_header);
  curl_easy_setopt (c, CURLOPT_HEADERDATA, &a);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_on_body);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, &a);
  long status = -1;
  if (curl_easy_perform (c) == CURLE_OK)
    curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all (h);
  curl_easy_cleanup (c);
  *retry_after = a.retry_after;
  id[0] = '\0';
  const char *p = strstr (a.body, "\"id\"");
  if (status == 202 && p && (p = strchr (p + 4, '"')) != NULL)
    at_strlcpy (id, p + 1, AT_ID_LEN);   /* the 36 characters of the UUID */
  IT_CHECK (status != 202 || at_uuid_valid (id), "202 names the message: %s", a.body);
  return status;
}

/* Phase 1: no worker; the bus and the api say busy once the stage is full. */
static void
s_fill (pf_load_t *load, pf_ids_t *http_ok)
{
  at_config_t *cfg = at_config_from_env ();
  at_publisher_t *pub = at_publisher_new (cfg);
  IT_CHECK (pub != NULL, "publisher");
  int rc = AT_OK, retry_after = 0, n = 0;
  for (; n < 10 * BACKLOG && rc == AT_OK; n++) {
    at_msg_t *msg = pf_inbound (n % CUSTOMERS, ++load->seq);
    rc = at_publisher_send (pub, &msg, 1, &retry_after);
    if (rc == AT_OK)
      pf_ids_add (&load->ok, msg->id);
    at_msg_destroy (&msg);
  }
  printf ("fill: %zu confirmed, then rc=%d retry_after_ms=%d\n", load->ok.n, rc, retry_after);
  IT_CHECK (rc == AT_BUSY, "a full stage answers Busy (rc=%d after %d publishes)", rc, n);
  IT_CHECK (retry_after > 0, "Busy carries a retry-after");
  IT_CHECK (load->ok.n >= BACKLOG && load->ok.n <= BACKLOG + 2, "busy once the backlog is full");
  atomic_store (&load->confirmed, (long) load->ok.n);
  long ra = 0;
  char id[AT_ID_LEN];
  long st = s_post (1, ++load->seq, &ra, id);
  printf ("fill: api answers %ld Retry-After=%ld\n", st, ra);
  IT_CHECK (st == 503 && ra >= 1, "the api answers 503 with Retry-After");
  if (st == 202)
    pf_ids_add (http_ok, id);
  at_publisher_destroy (&pub);
  at_config_destroy (&cfg);
}

/* Phase 2: the HTTP side of the overload, retrying after Retry-After. */
static long
s_http_overload (pf_load_t *load, pf_ids_t *http_ok)
{
  long n503 = 0;
  int64_t deadline = at_mono_ms () + WAIT_MS;
  for (int i = 0; i < PHASE2_HTTP; i++) {
    char id[AT_ID_LEN];
    long ra = 0, st;
    while ((st = s_post (i % CUSTOMERS, 1000000 + i, &ra, id)) == 503) {
      IT_CHECK (ra >= 1, "503 carries Retry-After");
      IT_CHECK (at_mono_ms () < deadline, "the api keeps answering 503");
      n503++;
      pf_nap_ms (ra * 1000);
    }
    IT_CHECK (st == 202, "the api accepts after retrying (status %ld)", st);
    pf_ids_add (http_ok, id);
  }
  return n503;
}

int
main (void)
{
  it_require_pg ();
  curl_global_init (CURL_GLOBAL_DEFAULT);
  pf_bus_t bus;
  pf_bus_init (&bus, it_db_create ("overload", true), 1);
  char backlog[64], api_port[64];
  snprintf (backlog, sizeof backlog, "ATENDE_BUS_BACKLOG_MAX=%d", BACKLOG);
  s_api_port = it_free_port ();
  snprintf (api_port, sizeof api_port, "ATENDE_API_PORT=%d", s_api_port);
  bus.extra[0] = backlog;
  bus.extra[1] = api_port;
  bus.extra[2] = "ATENDE_API_ADDRESS=127.0.0.1";
  bus.extra[3] = "ATENDE_WORKER_CREDIT=16";
  PGconn *conn = it_db_connect (bus.db);
  pf_db_prepare (conn, CUSTOMERS);
  pf_broker_start (&bus, 0);
  pf_brokers_ready (&bus, WAIT_MS);
  pf_env_t e;
  pf_bus_env (&bus, &e);
  const char *api_args[] = {"api", NULL};
  pid_t api = it_spawn_atende ("api", api_args, e.v);
  IT_CHECK (pf_http_up (s_api_port, "/healthz", WAIT_MS), "api up");

  static pf_load_t load = {.customers = CUSTOMERS, .batch = 10};
  pf_ids_t http_ok = {0};
  s_fill (&load, &http_ok);

  pid_t worker = pf_worker_start (&bus, "ingest,route", "worker");
  load.limit = (long) load.ok.n + PHASE2_BUS;
  pf_load_start (&load);
  long n503 = s_http_overload (&load, &http_ok);
  IT_CHECK (pf_load_wait (&load, load.limit, WAIT_MS), "the bus publisher gets through");
  pf_load_join (&load);
  IT_CHECK (pf_wait_drained (conn, "'ingest', 'route'", WAIT_MS), "ingest and route drain");

  for (size_t i = 0; i < http_ok.n; i++)
    pf_ids_add (&load.ok, http_ok.id[i]);
  pf_count_t c = pf_count (conn, &load);
  printf ("overload: bus_busy_answers=%ld http_503_answers=%ld http_accepted=%zu\n",
          atomic_load (&load.busy) + 1, n503 + 1, http_ok.n);
  pf_count_print ("overload", &c);
  pf_count_check (&c);
  /* a confirm later than the publisher's timeout (a loaded machine) leaves
   * its batch unsure; a broker that stays up still commits it, once */
  IT_CHECK (c.unsure_applied == c.unsure, "%lld of %lld unsure messages applied", c.unsure_applied,
            c.unsure);

  it_stop (worker, SIGTERM, 15000);
  it_stop (api, SIGTERM, 10000);
  it_stop (bus.broker[0], SIGTERM, 10000);
  pf_ids_free (&http_ok);
  pf_ids_free (&load.ok);
  pf_ids_free (&load.maybe);
  PQfinish (conn);
  printf ("overload: ok\n");
  return 0;
}
