/* What the channels' integration tests share: a real broker, api and ingest
 * worker on their own database, HTTP with custom headers (libcurl), and the
 * row counts a provider's webhook must change (or not). Header-only: each
 * test_channels_*.c is its own program. */
#ifndef TEST_CHANNELS_SUPPORT_H
#define TEST_CHANNELS_SUPPORT_H

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "it.h"

#define CH_WAIT_MS 30000

typedef struct {
  char api[64];
  char conninfo[512];
  PGconn *db;
  pid_t broker, api_pid, ingest;
} ch_env_t;

typedef struct {
  char *data;
  size_t len;
} ch_buf_t;

static size_t
ch_write (char *ptr, size_t size, size_t n, void *arg)
{
  ch_buf_t *b = arg;
  size_t add = size * n;
  if (b->len + add > 1024 * 1024)
    return 0;
  char *grown = realloc (b->data, b->len + add + 1);
  if (!grown)
    return 0;
  b->data = grown;
  memcpy (b->data + b->len, ptr, add);
  b->len += add;
  b->data[b->len] = '\0';
  return add;
}

/* POST (or GET when body is NULL) to the api with extra headers ("Name: v",
 * NULL-terminated); returns the status, the answer in *resp (may be NULL),
 * its Content-Type in ctype (may be NULL). */
static long
ch_http (const ch_env_t *e, const char *path, const char *content_type, const char *body,
         size_t body_len, const char *const *headers, char **resp, char *ctype, size_t ctype_cap)
{
  char url[512], line[512];
  ch_buf_t buf = { NULL, 0 };
  long status = -1;
  snprintf (url, sizeof url, "%s%s", e->api, path);
  CURL *curl = curl_easy_init ();
  struct curl_slist *list = NULL;
  if (content_type) {
    snprintf (line, sizeof line, "Content-Type: %s", content_type);
    list = curl_slist_append (list, line);
  }
  list = curl_slist_append (list, "Expect:");
  list = curl_slist_append (list, it_auth_header ());   /* for the protected routes it reads */
  for (size_t i = 0; headers && headers[i]; i++)
    list = curl_slist_append (list, headers[i]);
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, ch_write);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, &buf);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, 20000L);
  if (body) {
    curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, (long) body_len);
  }
  if (curl_easy_perform (curl) == CURLE_OK) {
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
    char *type = NULL;
    curl_easy_getinfo (curl, CURLINFO_CONTENT_TYPE, &type);
    if (ctype && ctype_cap)
      snprintf (ctype, ctype_cap, "%s", type ? type : "");
  }
  curl_slist_free_all (list);
  curl_easy_cleanup (curl);
  if (resp)
    *resp = buf.data;
  else
    free (buf.data);
  return status;
}

static bool
ch_up (void *arg)
{
  const ch_env_t *e = arg;
  return ch_http (e, "/healthz", NULL, NULL, 0, NULL, NULL, NULL, 0) == 200;
}

/* A broker, an api and an ingest worker on a fresh database `name`, with
 * extra environment settings (the channels' secrets). */
static void
ch_start (ch_env_t *e, const char *name, const char *const *extra)
{
  static char db_env[600], bind_env[64], ep_env[64], port_env[64];
  const char *env[32];
  size_t n = 0;
  it_require_pg ();
  snprintf (e->conninfo, sizeof e->conninfo, "%s", it_db_create (name, true));
  e->db = it_db_connect (e->conninfo);
  int broker = it_free_port (), port = it_free_port ();
  snprintf (e->api, sizeof e->api, "http://127.0.0.1:%d", port);
  snprintf (db_env, sizeof db_env, "ATENDE_DATABASE_URL=%s", e->conninfo);
  snprintf (bind_env, sizeof bind_env, "ATENDE_BROKER_BIND=tcp://127.0.0.1:%d", broker);
  snprintf (ep_env, sizeof ep_env, "ATENDE_BROKER_ENDPOINTS=tcp://127.0.0.1:%d", broker);
  snprintf (port_env, sizeof port_env, "ATENDE_API_PORT=%d", port);
  env[n++] = db_env;
  env[n++] = bind_env;
  env[n++] = ep_env;
  env[n++] = port_env;
  env[n++] = "ATENDE_API_ADDRESS=127.0.0.1";
  env[n++] = "ATENDE_BROKER_METRICS_PORT=0";
  for (size_t i = 0; extra && extra[i] && n < 31; i++)
    env[n++] = extra[i];
  env[n] = NULL;
  const char *broker_args[] = { "broker", NULL }, *api_args[] = { "api", NULL };
  const char *ingest_args[] = { "worker", "ingest", NULL };
  e->broker = it_spawn_atende ("broker", broker_args, env);
  e->api_pid = it_spawn_atende ("api", api_args, env);
  e->ingest = it_spawn_atende ("ingest", ingest_args, env);
  IT_CHECK (it_wait_until (ch_up, e, CH_WAIT_MS), "api did not come up");
  curl_global_init (CURL_GLOBAL_DEFAULT);
}

static void
ch_stop (ch_env_t *e)
{
  it_stop (e->ingest, SIGTERM, 10000);
  it_stop (e->api_pid, SIGTERM, 10000);
  it_stop (e->broker, SIGTERM, 10000);
  PQfinish (e->db);
}

/* What a user sees of the inbound side: customers, identities, tickets,
 * inbound ticket messages, ingest messages not yet applied, dead letters. */
typedef struct {
  long long customers, identities, tickets, messages, pending, dead, bus;
} ch_counts_t;

static ch_counts_t
ch_counts (const ch_env_t *e)
{
  ch_counts_t c = {
    it_db_scalar (e->db, "SELECT count(*) FROM customer"),
    it_db_scalar (e->db, "SELECT count(*) FROM identity"),
    it_db_scalar (e->db, "SELECT count(*) FROM ticket"),
    it_db_scalar (e->db, "SELECT count(*) FROM ticket_message WHERE direction = 'in'"),
    it_db_scalar (e->db, "SELECT count(*) FROM bus_message WHERE stage = 'ingest'"),
    it_db_scalar (e->db, "SELECT count(*) FROM bus_dead"),
    it_db_scalar (e->db, "SELECT count(*) FROM bus_message"),
  };
  return c;
}

static bool
ch_ingest_idle (void *arg)
{
  const ch_env_t *e = arg;
  return it_db_scalar (e->db, "SELECT count(*) FROM bus_message WHERE stage = 'ingest'") == 0;
}

/* Waits until ingest has applied everything published so far. */
static void
ch_wait_ingested (const ch_env_t *e)
{
  IT_CHECK (it_wait_until (ch_ingest_idle, (void *) e, CH_WAIT_MS), "ingest did not drain");
  IT_CHECK (it_db_scalar (e->db, "SELECT count(*) FROM bus_dead") == 0, "a message was "
            "dead-lettered: %s", it_db_text (e->db, "SELECT reason FROM bus_dead LIMIT 1"));
}

static void
ch_same_counts (const ch_counts_t *a, const ch_counts_t *b, const char *what)
{
  IT_CHECK (a->customers == b->customers && a->identities == b->identities
            && a->tickets == b->tickets && a->messages == b->messages
            && a->pending == b->pending && a->dead == b->dead && a->bus == b->bus,
            "%s changed rows: customers %lld->%lld identities %lld->%lld tickets %lld->%lld "
            "messages %lld->%lld pending %lld->%lld dead %lld->%lld bus %lld->%lld", what, a->customers,
            b->customers, a->identities, b->identities, a->tickets, b->tickets, a->messages,
            b->messages, a->pending, b->pending, a->dead, b->dead, a->bus, b->bus);
}

/* The one row a query names exists (count == want). */
static void
ch_expect (const ch_env_t *e, const char *sql, long long want)
{
  long long got = it_db_scalar (e->db, sql);
  IT_CHECK (got == want, "%s: %lld, want %lld", sql, got, want);
}

#endif
