/* The production topology as processes, rolled as Kubernetes would roll it.
 *
 * Two brokers (ATENDE_BROKER_INDEX 0 and 1 of ATENDE_BROKER_COUNT 2), two
 * workers per stage and two apis run with the production overlay's settings:
 * deploy/k8s/base/config/<role>.env with deploy/k8s/overlays/production/config/
 * <role>.env merged over it, the same files kustomize turns into the ConfigMaps.
 * Only placement differs from a pod (what a Service, a Secret or a pod IP gives
 * in a cluster): database URL, bind addresses and ports, broker endpoints,
 * secrets, the provider's URL.
 *
 * A client posts inbound messages through the apis (round robin over the
 * "ready endpoints" list, as a Service would) while every process is replaced:
 *   - workers and apis: start the replacement, wait until it is registered or
 *     ready, take the old one out (apis: out of the endpoints list), SIGTERM it;
 *   - brokers: SIGTERM, then the replacement on the same address (on loopback
 *     two processes cannot bind one port; in a cluster each pod has its IP).
 * Every SIGTERMed process must exit 0 within the drain grace + 10 s. The client
 * retries a 503 after its Retry-After; any other failure is counted.
 * Asserts: no request failed outside Retry-After, every accepted message is in
 * a ticket exactly once, the bus ends empty, nothing dead-lettered. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "it.h"
#include "at_zmq.h"
#include "demo_receiver.h"

#define S_ENV_MAX 64
#define S_KV_MAX 600
#define S_WAIT_MS 60000
#define S_MESSAGES_MIN 120          /* the client goes on until the roll ends */
#define S_MESSAGES_MAX 3000
#define S_CUSTOMERS 60
#define S_APIS 2
#define S_STAGES 4
#define S_SECRET "whsec_dG9wb2xvZ3ktdGVzdC1ub3QtYS1yZWFsLWtleS0wMQ=="

typedef struct {
  char kv[S_ENV_MAX][S_KV_MAX];
  const char *ptrs[S_ENV_MAX + 1];
  int n;
} s_env_t;

static char s_root[512];
static char s_db_url[512];
static int s_bus_port[2], s_broker_metrics[2];
static long s_drain_ms = 10000;
static demo_receiver_t *s_receiver;
static int s_serial;                    /* log names */
static const char *const s_stages[S_STAGES] = { "ingest", "route", "notify", "survey" };

/* The "ready endpoints" of the api Service. */
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static int s_api_ports[S_APIS + 1];
static int s_api_count;
static atomic_bool s_stop_client;
static atomic_long s_accepted, s_retried, s_failed;
static char s_first_failure[512];

static void
s_env_set (s_env_t *e, const char *name, const char *value)
{
  size_t len = strlen (name);
  for (int i = 0; i < e->n; i++)
    if (strncmp (e->kv[i], name, len) == 0 && e->kv[i][len] == '=') {
      snprintf (e->kv[i], S_KV_MAX, "%s=%s", name, value);
      return;
    }
  IT_CHECK (e->n < S_ENV_MAX, "too many settings");
  snprintf (e->kv[e->n++], S_KV_MAX, "%s=%s", name, value);
}

static void
s_env_setf (s_env_t *e, const char *name, int value)
{
  char v[32];
  snprintf (v, sizeof v, "%d", value);
  s_env_set (e, name, v);
}

/* KEY=VALUE lines of an env file (kustomize's configMapGenerator format). */
static void
s_env_load (s_env_t *e, const char *rel)
{
  char path[1024], line[S_KV_MAX];
  snprintf (path, sizeof path, "%s/%s", s_root, rel);
  FILE *f = fopen (path, "r");
  IT_CHECK (f != NULL, "cannot read %s", path);
  while (fgets (line, sizeof line, f)) {
    line[strcspn (line, "\r\n")] = '\0';
    char *eq = strchr (line, '=');
    if (line[0] == '#' || eq == NULL)
      continue;
    *eq = '\0';
    IT_CHECK (strncmp (line, "ATENDE_", 7) == 0, "%s: %s is not an atende setting", rel, line);
    s_env_set (e, line, eq + 1);
  }
  fclose (f);
}

static const char *const *
s_env_ptrs (s_env_t *e)
{
  for (int i = 0; i < e->n; i++)
    e->ptrs[i] = e->kv[i];
  e->ptrs[e->n] = NULL;
  return e->ptrs;
}

/* The production environment of a role, then its placement on loopback. */
static void
s_role_env (s_env_t *e, const char *role)
{
  char rel[256];
  memset (e, 0, sizeof *e);
  s_env_load (e, "deploy/k8s/base/config/common.env");
  snprintf (rel, sizeof rel, "deploy/k8s/base/config/%s.env", role);
  s_env_load (e, rel);
  s_env_load (e, "deploy/k8s/overlays/production/config/common.env");
  snprintf (rel, sizeof rel, "deploy/k8s/overlays/production/config/%s.env", role);
  s_env_load (e, rel);
  char endpoints[128];
  snprintf (endpoints, sizeof endpoints, "tcp://127.0.0.1:%d,tcp://127.0.0.1:%d", s_bus_port[0],
            s_bus_port[1]);
  s_env_set (e, "ATENDE_DATABASE_URL", s_db_url);
  s_env_set (e, "ATENDE_BROKER_ENDPOINTS", endpoints);
  s_env_set (e, "ATENDE_WEBHOOK_URL", demo_receiver_url (s_receiver));
  s_env_set (e, "ATENDE_WEBHOOK_SECRET", S_SECRET);
  s_env_set (e, "ATENDE_SURVEY_SECRET", "topology-survey-key-0123456789abcdef");
}

static pid_t
s_spawn (const char *what, const char *const *args, s_env_t *e)
{
  char name[64];
  snprintf (name, sizeof name, "%02d-%s", s_serial++, what);
  return it_spawn_atende (name, args, s_env_ptrs (e));
}

static pid_t
s_broker_start (int i)
{
  s_env_t e;
  char bind[64];
  s_role_env (&e, "broker");
  snprintf (bind, sizeof bind, "tcp://127.0.0.1:%d", s_bus_port[i]);
  s_env_set (&e, "ATENDE_BROKER_BIND", bind);
  s_env_setf (&e, "ATENDE_BROKER_METRICS_PORT", s_broker_metrics[i]);
  s_env_setf (&e, "ATENDE_BROKER_INDEX", i);      /* as deploy/k8s/base/broker.yaml */
  s_env_setf (&e, "ATENDE_BROKER_COUNT", 2);
  static const char *args[] = { "broker", NULL };
  return s_spawn (i ? "broker1" : "broker0", args, &e);
}

/* A worker with its /healthz /readyz on metrics_port (the pod's probes). */
static pid_t
s_worker_start (const char *stage, int metrics_port)
{
  s_env_t e;
  s_role_env (&e, "worker");
  s_env_setf (&e, "ATENDE_WORKER_METRICS_PORT", metrics_port);
  const char *args[] = { "worker", stage, NULL };
  return s_spawn (stage, args, &e);
}

static pid_t
s_api_start (int port)
{
  s_env_t e;
  char base[64];
  s_role_env (&e, "api");
  s_env_set (&e, "ATENDE_API_ADDRESS", "127.0.0.1");
  s_env_setf (&e, "ATENDE_API_PORT", port);
  snprintf (base, sizeof base, "http://127.0.0.1:%d/v1/surveys/", port);
  s_env_set (&e, "ATENDE_SURVEY_URL_BASE", base);
  static const char *args[] = { "api", NULL };
  return s_spawn ("api", args, &e);
}

static bool
s_http_ok (void *arg)
{
  return it_http ("GET", arg, NULL, NULL, NULL) == 200;
}

static void
s_wait_ready (int port, const char *what)
{
  char url[64];
  snprintf (url, sizeof url, "http://127.0.0.1:%d/readyz", port);
  IT_CHECK (it_wait_until (s_http_ok, url, S_WAIT_MS), "%s not ready on %d", what, port);
}

/* SIGTERM, then the process must drain and exit 0 in time. */
static void
s_terminate (pid_t pid, const char *what)
{
  int status = it_stop (pid, SIGTERM, (int) s_drain_ms + 10000);
  IT_CHECK (status != -1 && WIFEXITED (status) && WEXITSTATUS (status) == 0,
            "%s (pid %d) did not drain and exit 0 on SIGTERM (status %d%s)", what, (int) pid,
            status, status != -1 && WIFSIGNALED (status) ? ", killed by a signal" : "");
}

/* --- the client: the store's channels posting through the api Service */

typedef struct {
  long retry_after_s;
} s_headers_t;

static size_t
s_on_header (char *buf, size_t size, size_t n, void *arg)
{
  s_headers_t *h = arg;
  size_t len = size * n;
  if (len > 12 && strncasecmp (buf, "Retry-After:", 12) == 0)
    h->retry_after_s = strtol (buf + 12, NULL, 10);
  return len;
}

static size_t
s_discard (char *buf, size_t size, size_t n, void *arg)
{
  (void) buf;
  (void) arg;
  return size * n;
}

static long
s_post (int port, const char *body, long *retry_after_s)
{
  char url[96];
  snprintf (url, sizeof url, "http://127.0.0.1:%d/v1/messages", port);
  CURL *c = curl_easy_init ();
  IT_CHECK (c != NULL, "curl_easy_init");
  struct curl_slist *hdrs = curl_slist_append (NULL, "Content-Type: application/json");
  hdrs = curl_slist_append (hdrs, "Expect:");
  hdrs = curl_slist_append (hdrs, it_auth_header ());
  s_headers_t h = { -1 };
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt (c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, s_on_header);
  curl_easy_setopt (c, CURLOPT_HEADERDATA, &h);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_discard);
  long status = -1;
  if (curl_easy_perform (c) == CURLE_OK)
    curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all (hdrs);
  curl_easy_cleanup (c);
  *retry_after_s = h.retry_after_s;
  return status;
}

static int
s_pick_api (unsigned *rr)
{
  pthread_mutex_lock (&s_lock);
  int port = s_api_count ? s_api_ports[(*rr)++ % (unsigned) s_api_count] : 0;
  pthread_mutex_unlock (&s_lock);
  return port;
}

/* True while port is one of the api endpoints clients are given. */
static bool
s_api_listed (int port)
{
  pthread_mutex_lock (&s_lock);
  bool listed = false;
  for (int k = 0; k < s_api_count; k++)
    listed = listed || s_api_ports[k] == port;
  pthread_mutex_unlock (&s_lock);
  return listed;
}

static void
s_failure (const char *fmt, long a, long b)
{
  atomic_fetch_add (&s_failed, 1);
  pthread_mutex_lock (&s_lock);
  if (s_first_failure[0] == '\0')
    snprintf (s_first_failure, sizeof s_first_failure, fmt, a, b);
  pthread_mutex_unlock (&s_lock);
}

/* One message, retried on 503 + Retry-After (at most 30 times). */
static void
s_send (long i, unsigned *rr)
{
  char pid[32], handle[32], name[48], text[128];
  snprintf (pid, sizeof pid, "topo-%ld", i);
  snprintf (handle, sizeof handle, "chat-topology-%ld", i % S_CUSTOMERS);
  snprintf (name, sizeof name, "Cliente %ld", i % S_CUSTOMERS);
  snprintf (text, sizeof text, "Oi! Quero trocar o tamanho do tênis, é possível? (%ld)", i);
  json_t *doc = json_pack ("{s:s,s:s,s:s,s:s,s:s}", "channel", "chat", "handle", handle, "name",
                           name, "text", text, "provider_message_id", pid);
  char *body = json_dumps (doc, JSON_COMPACT);
  json_decref (doc);
  for (int attempt = 0; attempt < 30; attempt++) {
    int port = s_pick_api (rr);
    long retry_after = -1, st = s_post (port, body, &retry_after);
    if (st < 0 && !s_api_listed (port))
      continue;   /* picked just before the roll took it out of the endpoints: a load
                   * balancer sends the next connection to a pod that is listed */
    if (st == 202) {
      atomic_fetch_add (&s_accepted, 1);
      break;
    }
    if (st == 503 && retry_after >= 0 && retry_after <= 60) {
      atomic_fetch_add (&s_retried, 1);
      struct timespec ts = { retry_after > 0 ? retry_after : 0, retry_after > 0 ? 0 : 200000000 };
      nanosleep (&ts, NULL);          /* the server's Retry-After, not a guess */
      continue;
    }
    s_failure ("message %ld: HTTP %ld without a usable Retry-After", i, st);
    break;
  }
  free (body);
}

static void *
s_client (void *arg)
{
  (void) arg;
  unsigned rr = 0;
  long i = 0;
  for (; i < S_MESSAGES_MAX && (i < S_MESSAGES_MIN || !atomic_load (&s_stop_client)); i++) {
    s_send (i, &rr);
    struct timespec pace = { 0, 20 * 1000 * 1000 };   /* a steady 50 msg/s at most */
    nanosleep (&pace, NULL);
  }
  return (void *) i;
}

static bool
s_accepted_at_least (void *arg)
{
  return atomic_load (&s_accepted) >= *(long *) arg;
}

/* --- the rolling update */

static void
s_roll_brokers (pid_t *brokers)
{
  for (int i = 0; i < 2; i++) {
    s_terminate (brokers[i], i ? "broker 1" : "broker 0");
    brokers[i] = s_broker_start (i);
    s_wait_ready (s_broker_metrics[i], "replacement broker");
  }
}

static void
s_roll_workers (pid_t workers[S_STAGES][2])
{
  for (int s = 0; s < S_STAGES; s++)
    for (int k = 0; k < 2; k++) {
      int port = it_free_port ();
      pid_t fresh = s_worker_start (s_stages[s], port);
      s_wait_ready (port, "replacement worker");
      s_terminate (workers[s][k], s_stages[s]);
      workers[s][k] = fresh;
    }
}

static void
s_roll_apis (pid_t *apis)
{
  for (int k = 0; k < S_APIS; k++) {
    int port = it_free_port ();
    pid_t fresh = s_api_start (port);
    s_wait_ready (port, "replacement api");
    pthread_mutex_lock (&s_lock);
    int old = s_api_ports[k];
    s_api_ports[k] = port;            /* endpoints: the new pod in, the old one out */
    pthread_mutex_unlock (&s_lock);
    (void) old;
    s_terminate (apis[k], "api");
    apis[k] = fresh;
  }
}

static void
s_find_root (void)
{
  const char *env = getenv ("ATENDE_SOURCE_DIR");
  if (env) {
    snprintf (s_root, sizeof s_root, "%s", env);
  } else {
    snprintf (s_root, sizeof s_root, "%s", __FILE__);
    char *cut = strstr (s_root, "/tests/integration/");
    if (cut == NULL || s_root[0] != '/') {
      fprintf (stderr, "SKIP: cannot locate the source tree (set ATENDE_SOURCE_DIR)\n");
      exit (77);
    }
    *cut = '\0';
  }
  char probe[600];
  snprintf (probe, sizeof probe, "%s/deploy/k8s/overlays/production/config/worker.env", s_root);
  if (access (probe, R_OK) != 0) {
    fprintf (stderr, "SKIP: %s not found\n", probe);
    exit (77);
  }
}

/* The first pending bus row, for the failure message: stage, type, key,
 * attempt, seconds overdue, last error. */
static const char *
s_first_pending (PGconn *db)
{
  static char text[512];
  PGresult *res = PQexec (db, "SELECT stage || ' ' || type || ' key=' || key || ' attempt='"
                              " || attempt || ' overdue_s=' || round (extract (epoch FROM"
                              " now () - not_before)) || ' error=' || coalesce (last_error, '')"
                              " FROM bus_message WHERE " IT_BUS_PENDING " ORDER BY not_before"
                              " LIMIT 1");
  snprintf (text, sizeof text, "%s", PQresultStatus (res) == PGRES_TUPLES_OK && PQntuples (res)
            ? PQgetvalue (res, 0, 0) : "(none)");
  PQclear (res);
  return text;
}

/* Every row left (the timers route produced: SLA checks, the desk's later
 * rounds) sits in the shard of the broker that owns its key: the one whose
 * sweep will find it when it is due. */
static void
s_check_shards (PGconn *db)
{
  PGresult *res = PQexec (db, "SELECT key, shard FROM bus_message");
  IT_CHECK (PQresultStatus (res) == PGRES_TUPLES_OK, "bus rows: %s", PQerrorMessage (db));
  int wrong = 0;
  for (int i = 0; i < PQntuples (res); i++) {
    long shard = -1;
    IT_CHECK (at_parse_long (PQgetvalue (res, i, 1), 0, 63, &shard) == AT_OK, "shard %s",
              PQgetvalue (res, i, 1));
    wrong += at_bus_shard_of (PQgetvalue (res, i, 0), 2) != shard;
  }
  IT_CHECK (wrong == 0, "%d of %d bus rows in another broker's shard", wrong, PQntuples (res));
  printf ("deploy topology: %d timers left on the bus, each in its key's shard\n",
          PQntuples (res));
  PQclear (res);
}

static void
s_wait_done (PGconn *db, long accepted)
{
  char sql[256];
  snprintf (sql, sizeof sql,
            "SELECT count(DISTINCT provider_message_id) FROM ticket_message"
            " WHERE direction = 'in' AND provider_message_id LIKE 'topo-%%'");
  long long in = it_wait_scalar (db, sql, accepted, 120000);
  IT_CHECK (in == accepted, "lost: %ld accepted, %lld in tickets", accepted, in);
  long long rows = it_db_scalar (db, "SELECT count(*) FROM ticket_message WHERE direction = 'in'"
                                     " AND provider_message_id LIKE 'topo-%'");
  IT_CHECK (rows == in, "applied twice: %lld rows for %lld messages", rows, in);
  IT_CHECK (it_wait_scalar (db, "SELECT 1 - least(count(*), 1) FROM bus_message WHERE "
                            IT_BUS_PENDING, 1, 120000) == 1,
            "the bus did not empty: %lld pending, the first: %s",
            it_db_scalar (db, "SELECT count(*) FROM bus_message WHERE " IT_BUS_PENDING),
            s_first_pending (db));
  s_check_shards (db);
  long long dead = it_db_scalar (db, "SELECT count(*) FROM bus_dead");
  IT_CHECK (dead == 0, "%lld messages dead-lettered", dead);
  printf ("deploy topology: accepted=%ld in_tickets=%lld duplicated=%lld dead=%lld retried_503=%ld "
          "failed=%ld deliveries=%ld webhook_duplicates=%ld\n",
          accepted, in, rows - in, dead, atomic_load (&s_retried), atomic_load (&s_failed),
          demo_receiver_count (s_receiver, NULL), demo_receiver_duplicates (s_receiver));
}

/* The drain grace the production overlay gives workers (how long a SIGTERM
 * may take), and the brokers' ports. */
static void
s_prepare (void)
{
  s_env_t probe;
  s_role_env (&probe, "worker");
  for (int i = 0; i < probe.n; i++)
    if (strncmp (probe.kv[i], "ATENDE_DRAIN_GRACE_MS=", 22) == 0)
      s_drain_ms = strtol (probe.kv[i] + 22, NULL, 10);
  for (int i = 0; i < 2; i++) {
    s_bus_port[i] = it_free_port ();
    s_broker_metrics[i] = it_free_port ();
  }
}

/* Brokers, then two workers per stage, then the apis, each ready before the
 * next role starts; the apis are the endpoints clients are given. */
static void
s_start_all (pid_t brokers[2], pid_t workers[S_STAGES][2], pid_t apis[S_APIS])
{
  for (int i = 0; i < 2; i++)
    brokers[i] = s_broker_start (i);
  for (int i = 0; i < 2; i++)
    s_wait_ready (s_broker_metrics[i], "broker");
  int worker_ports[S_STAGES][2];
  for (int s = 0; s < S_STAGES; s++)
    for (int k = 0; k < 2; k++) {
      worker_ports[s][k] = it_free_port ();
      workers[s][k] = s_worker_start (s_stages[s], worker_ports[s][k]);
    }
  for (int s = 0; s < S_STAGES; s++)
    for (int k = 0; k < 2; k++)
      s_wait_ready (worker_ports[s][k], s_stages[s]);
  for (int k = 0; k < S_APIS; k++) {
    s_api_ports[k] = it_free_port ();
    apis[k] = s_api_start (s_api_ports[k]);
  }
  for (int k = 0; k < S_APIS; k++)
    s_wait_ready (s_api_ports[k], "api");
  s_api_count = S_APIS;
}

/* The client posts while brokers, workers and apis are replaced in turn;
 * returns how many messages it sent. */
static long
s_roll_under_load (pid_t brokers[2], pid_t workers[S_STAGES][2], pid_t apis[S_APIS])
{
  pthread_t client;
  IT_CHECK (pthread_create (&client, NULL, s_client, NULL) == 0, "client thread");
  long warm = 30;
  IT_CHECK (it_wait_until (s_accepted_at_least, &warm, S_WAIT_MS), "no message accepted (%s)",
            s_first_failure);
  s_roll_brokers (brokers);
  s_roll_workers (workers);
  s_roll_apis (apis);
  atomic_store (&s_stop_client, true);
  void *sent = NULL;
  pthread_join (client, &sent);
  return (long) (intptr_t) sent;
}

/* No request failed outside Retry-After, every accepted message is in a
 * ticket exactly once, and every message sent was accepted. */
static void
s_check_accounted (PGconn *db, long sent)
{
  IT_CHECK (atomic_load (&s_failed) == 0, "%ld requests failed outside Retry-After; first: %s",
            atomic_load (&s_failed), s_first_failure);
  s_wait_done (db, atomic_load (&s_accepted));
  IT_CHECK (atomic_load (&s_accepted) == sent, "sent %ld, accepted %ld",
            sent, atomic_load (&s_accepted));
}

/* Every process drains and exits 0: apis, workers, brokers. */
static void
s_stop_all (pid_t brokers[2], pid_t workers[S_STAGES][2], pid_t apis[S_APIS])
{
  for (int k = 0; k < S_APIS; k++)
    s_terminate (apis[k], "api");
  for (int s = 0; s < S_STAGES; s++)
    for (int k = 0; k < 2; k++)
      s_terminate (workers[s][k], s_stages[s]);
  for (int i = 0; i < 2; i++)
    s_terminate (brokers[i], "broker");
}

int
main (void)
{
  it_require_pg ();
  s_find_root ();
  curl_global_init (CURL_GLOBAL_DEFAULT);
  snprintf (s_db_url, sizeof s_db_url, "%s", it_db_create ("deploy_topology", true));
  PGconn *db = it_db_connect (s_db_url);
  s_receiver = demo_receiver_new (S_SECRET, 0);
  IT_CHECK (s_receiver != NULL, "receiver");
  s_prepare ();

  pid_t brokers[2], workers[S_STAGES][2], apis[S_APIS];
  s_start_all (brokers, workers, apis);
  long sent = s_roll_under_load (brokers, workers, apis);
  s_check_accounted (db, sent);
  s_stop_all (brokers, workers, apis);

  demo_receiver_destroy (&s_receiver);
  PQfinish (db);
  curl_global_cleanup ();
  return 0;
}
