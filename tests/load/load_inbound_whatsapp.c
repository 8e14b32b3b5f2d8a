/* load_inbound_whatsapp: how many WhatsApp messages per second go from
 * HTTP accept to a committed ticket message.
 *
 *   load_inbound_whatsapp --database-url URL [--messages N] [--workers K]
 *                         [--concurrency C] [--customers M] [--api-threads T]
 *
 * Migrates the database, starts a broker, an api and K ingest workers
 * (logs in ./load-*.log), posts N signed WhatsApp Cloud API deliveries (one
 * text message each, from M customers) over C concurrent HTTP connections,
 * and waits until all N ticket messages are committed. Prints the HTTP
 * accept rate and the end-to-end rate. Every run uses fresh wamids, so runs
 * may share a database. A figure, never a test. */
#include <curl/curl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "at_channel_sig.h"
#include "at_common.h"
#include "at_proc.h"

#define S_SECRET "load-app-secret"
#define S_BODY_MAX 1024

typedef struct {
  const char *db_url;
  long messages, workers, concurrency, customers, api_threads;
} s_opts_t;

typedef struct {
  char body[S_BODY_MAX];
  char header[128];
  struct curl_slist *headers;
  long status;
} s_request_t;


static long long
s_scalar (PGconn *db, const char *sql)
{
  PGresult *r = PQexec (db, sql);
  long long v = -1;
  if (PQresultStatus (r) == PGRES_TUPLES_OK && PQntuples (r) == 1)
    v = strtoll (PQgetvalue (r, 0, 0), NULL, 10);
  PQclear (r);
  return v;
}

static size_t
s_discard (char *ptr, size_t size, size_t n, void *arg)
{
  return size * n;
}

static bool
s_healthy (const char *api)
{
  char url[128];
  long status = 0;
  snprintf (url, sizeof url, "%s/healthz", api);
  CURL *c = curl_easy_init ();
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_discard);
  curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, 1000L);
  if (curl_easy_perform (c) == CURLE_OK)
    curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup (c);
  return status == 200;
}

static void
s_build (s_request_t *r, long i, long customers, long run)
{
  long who = i % customers;
  snprintf (r->body, sizeof r->body,
            "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\",\"changes\":[{"
            "\"field\":\"messages\",\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":"
            "{\"display_phone_number\":\"15550000000\",\"phone_number_id\":\"100\"},\"contacts\":"
            "[{\"profile\":{\"name\":\"Cliente %ld\"},\"wa_id\":\"55119%08ld\"}],\"messages\":[{"
            "\"from\":\"55119%08ld\",\"id\":\"wamid.load.%ld.%ld\",\"timestamp\":\"1750000000\","
            "\"type\":\"text\",\"text\":{\"body\":\"Oi, onde est\xc3\xa1 o meu pedido PED-%ld?\"}}]}}]}]}",
            who, who, who, run, i, i);
  char sig[80];
  at_sig_meta_sign (S_SECRET, r->body, strlen (r->body), sig, sizeof sig);
  snprintf (r->header, sizeof r->header, "X-Hub-Signature-256: %s", sig);
  r->headers = curl_slist_append (NULL, r->header);
  r->headers = curl_slist_append (r->headers, "Content-Type: application/json");
  r->headers = curl_slist_append (r->headers, "Expect:");
}

static CURL *
s_easy (const char *url, s_request_t *r)
{
  CURL *c = curl_easy_init ();
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, r->headers);
  curl_easy_setopt (c, CURLOPT_POSTFIELDS, r->body);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_discard);
  curl_easy_setopt (c, CURLOPT_PRIVATE, r);
  curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, 30000L);
  return c;
}

/* Posts every request, concurrency at a time; returns how many got 200. */
static long
s_post_all (const char *url, s_request_t *reqs, long n, long concurrency)
{
  CURLM *multi = curl_multi_init ();
  curl_multi_setopt (multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, concurrency);
  long next = 0, done = 0, ok = 0;
  int running = 0;
  while (done < n) {
    while (next < n && next - done < concurrency)
      curl_multi_add_handle (multi, s_easy (url, &reqs[next++]));
    curl_multi_perform (multi, &running);
    curl_multi_poll (multi, NULL, 0, 100, NULL);
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read (multi, &left))) {
      if (m->msg != CURLMSG_DONE)
        continue;
      s_request_t *r = NULL;
      curl_easy_getinfo (m->easy_handle, CURLINFO_PRIVATE, (char **) &r);
      curl_easy_getinfo (m->easy_handle, CURLINFO_RESPONSE_CODE, &r->status);
      ok += r->status == 200;
      curl_multi_remove_handle (multi, m->easy_handle);
      curl_easy_cleanup (m->easy_handle);
      done++;
    }
  }
  curl_multi_cleanup (multi);
  return ok;
}

static int
s_parse (int argc, char **argv, s_opts_t *o)
{
  *o = (s_opts_t) { NULL, 5000, 1, 32, 1000, 8 };
  for (int i = 1; i + 1 < argc; i += 2) {
    long *field = NULL;
    if (strcmp (argv[i], "--database-url") == 0) {
      o->db_url = argv[i + 1];
      continue;
    }
    field = strcmp (argv[i], "--messages") == 0 ? &o->messages
            : strcmp (argv[i], "--workers") == 0 ? &o->workers
            : strcmp (argv[i], "--concurrency") == 0 ? &o->concurrency
            : strcmp (argv[i], "--customers") == 0 ? &o->customers
            : strcmp (argv[i], "--api-threads") == 0 ? &o->api_threads : NULL;
    if (!field || at_parse_long (argv[i + 1], 1, 10000000, field) != AT_OK)
      return AT_INVALID;
  }
  return o->db_url && o->workers <= 16 ? AT_OK : AT_INVALID;
}

static pid_t
s_spawn (const char *const *args, char **env, const char *log)
{
  char *argv[8];
  size_t n = 0;
  argv[n++] = (char *) ATENDE_BIN_PATH;
  for (size_t i = 0; args[i] && n < 7; i++)
    argv[n++] = (char *) args[i];
  argv[n] = NULL;
  return at_proc_spawn (argv, env, log);
}

/* Migrates, then starts a broker, an api and o->workers ingest workers;
 * returns how many processes are in pids (0 on failure). */
static size_t
s_start (const s_opts_t *o, char *api, size_t api_cap, pid_t *pids)
{
  static char db_env[1024], bind_env[64], ep_env[64], port_env[64], threads_env[64];
  int broker = at_proc_free_port (), port = at_proc_free_port ();
  snprintf (db_env, sizeof db_env, "ATENDE_DATABASE_URL=%s", o->db_url);
  snprintf (bind_env, sizeof bind_env, "ATENDE_BROKER_BIND=tcp://127.0.0.1:%d", broker);
  snprintf (ep_env, sizeof ep_env, "ATENDE_BROKER_ENDPOINTS=tcp://127.0.0.1:%d", broker);
  snprintf (port_env, sizeof port_env, "ATENDE_API_PORT=%d", port);
  snprintf (threads_env, sizeof threads_env, "ATENDE_API_THREADS=%ld", o->api_threads);
  char *env[] = { db_env, bind_env, ep_env, port_env, threads_env,
                  "ATENDE_API_ADDRESS=127.0.0.1", "ATENDE_BROKER_METRICS_PORT=0",
                  "ATENDE_LOG_LEVEL=warn", "ATENDE_META_APP_SECRET=" S_SECRET,
                  /* one address posting thousands a second to a public route,
                   * over C connections: the api's per-address limits off */
                  "ATENDE_API_RATE_PER_ADDR=0", "ATENDE_API_CONN_PER_ADDR=0", NULL };
  const char *migrate[] = { "migrate", "--wait", "10", NULL };
  pid_t m = s_spawn (migrate, env, "load-migrate.log");
  if (m < 0 || at_proc_stop (m, 0, 60000) != 0) {   /* signal 0: only waits */
    fprintf (stderr, "atende migrate failed, see load-migrate.log\n");
    return 0;
  }
  const char *broker_args[] = { "broker", NULL }, *api_args[] = { "api", NULL };
  const char *ingest_args[] = { "worker", "ingest", NULL };
  size_t np = 0;
  pids[np++] = s_spawn (broker_args, env, "load-broker.log");
  pids[np++] = s_spawn (api_args, env, "load-api.log");
  for (long i = 0; i < o->workers; i++)
    pids[np++] = s_spawn (ingest_args, env, "load-ingest.log");
  snprintf (api, api_cap, "http://127.0.0.1:%d", port);
  for (int i = 0; i < 300 && !s_healthy (api); i++)
    usleep (50 * 1000);
  return np;
}

int
main (int argc, char **argv)
{
  s_opts_t o;
  char api[64], url[128], sql[256];
  pid_t pids[18];
  if (s_parse (argc, argv, &o) != AT_OK) {
    fprintf (stderr, "usage: %s --database-url URL [--messages N] [--workers K<=16] "
             "[--concurrency C] [--customers M] [--api-threads T]\n", argv[0]);
    return 2;
  }
  PGconn *db = PQconnectdb (o.db_url);
  if (PQstatus (db) != CONNECTION_OK) {
    fprintf (stderr, "database: %s", PQerrorMessage (db));
    return 1;
  }
  curl_global_init (CURL_GLOBAL_DEFAULT);
  size_t np = s_start (&o, api, sizeof api, pids);
  if (np == 0)
    return 1;
  snprintf (url, sizeof url, "%s/v1/channels/whatsapp", api);
  s_request_t *reqs = calloc ((size_t) o.messages, sizeof *reqs);
  long run = (long) (at_now_us () / 1000);
  for (long i = 0; i < o.messages; i++)
    s_build (&reqs[i], i, o.customers, run);
  snprintf (sql, sizeof sql, "SELECT count(*) FROM ticket_message WHERE channel = 'whatsapp'"
            " AND direction = 'in' AND provider_message_id LIKE 'wamid.load.%ld.%%'", run);
  int64_t t0 = at_mono_us ();
  long ok = s_post_all (url, reqs, o.messages, o.concurrency);
  int64_t t_http = at_mono_us ();
  long long committed = 0;
  int64_t deadline = t_http + 300 * 1000000LL;
  while ((committed = s_scalar (db, sql)) < ok && at_mono_us () < deadline)
    usleep (5000);
  int64_t t_commit = at_mono_us ();
  double http_s = (double) (t_http - t0) / 1e6, all_s = (double) (t_commit - t0) / 1e6;
  printf ("inbound_whatsapp messages=%ld accepted=%ld committed=%lld workers=%ld "
          "concurrency=%ld customers=%ld api_threads=%ld\n", o.messages, ok, committed,
          o.workers, o.concurrency, o.customers, o.api_threads);
  printf ("  http_accept_per_s=%.0f  accept_to_committed_ticket_message_per_s=%.0f  "
          "wall_s=%.2f\n", ok / http_s, committed / all_s, all_s);
  for (size_t i = np; i > 0; i--)
    at_proc_stop (pids[i - 1], SIGTERM, 10000);
  for (long i = 0; i < o.messages; i++)
    curl_slist_free_all (reqs[i].headers);
  free (reqs);
  PQfinish (db);
  return committed == o.messages ? 0 : 1;
}
