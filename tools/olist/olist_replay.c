/* atende-olist-replay: the Olist order sample replayed through a running
 * pipeline. Starts a broker, N notify workers and an api (the `atende`
 * binary) on 127.0.0.1, plus a local receiver standing in for the providers;
 * posts every order event to POST /v1/orders/{id}/events in simulated-time
 * order, and plays the scheduler of delay checks (ATENDE_DELAY_CHECKS=external)
 * by publishing each order.check_delay when the simulated clock reaches the
 * end of its expected day. Per order, events and checks keep their order
 * (one in flight per order; the bus keeps per-key order).
 *
 *   ATENDE_DATABASE_URL=<empty database> atende-olist-replay [--data DIR]
 *       [--orders N] [--workers N] [--concurrency N]
 *
 * The api wants a key: the replay makes one (scope orders:write, a day long,
 * named olist-replay) in that database and sends it as Authorization: Bearer.
 *
 * Prints figures as key=value lines. Exit 77 (skipped) without the data. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "olist.h"
#include "at_publisher.h"
#include "at_config.h"
#include "at_json.h"
#include "at_store_order.h"
#include "at_proc.h"
#include "at_store.h"
#include "at_store_auth.h"
#include "demo_receiver.h"
#include "notify/orders.h"

#define S_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define S_WORKERS_MAX 16
#define S_CONC_MAX 256
#define S_DRAIN_S 600

typedef struct {
  const olist_t *data;
  char api[64];
  CURLM *multi;
  CURL *easy[S_CONC_MAX];
  int concurrency;
  at_publisher_t *pub;
  long long events_sent, events_retried, events_failed, checks_sent;
} s_replay_t;


/* The JSON body of one order event. */
static char *
s_event_body (const olist_t *d, const olist_item_t *it)
{
  const olist_order_t *o = &d->orders[it->order];
  char event_id[96], handle[96];
  snprintf (event_id, sizeof event_id, "%s%s:%s", it->synthesized ? "synthesized:" : "",
            o->id, it->status);
  snprintf (handle, sizeof handle, "%s@olist.example", o->customer);
  json_t *b = json_pack ("{s:s, s:s, s:s, s:{s:s, s:s}}", "status", it->status, "event_id",
                         event_id, "occurred_at", it->occurred_at, "customer", "channel",
                         "email", "handle", handle);
  if (b && o->expected[0] && strcmp (it->status, "delivered") != 0
      && strcmp (it->status, "cancelled") != 0)
    json_object_set_new (b, "expected_delivery", json_string (o->expected));
  char *text = b ? at_json_dump (b, 4096) : NULL;
  json_decref (b);
  return text;
}

static size_t
s_sink (char *data, size_t size, size_t n, void *arg)
{
  return size * n;
}

/* Posts events items[0..n) (distinct orders) concurrently; retries 503s. */
static void
s_post_events (s_replay_t *r, const olist_item_t *const *items, size_t n)
{
  char *bodies[S_CONC_MAX] = {0};
  for (size_t base = 0; base < n; base += (size_t) r->concurrency) {
    size_t k = n - base < (size_t) r->concurrency ? n - base : (size_t) r->concurrency;
    bool pending[S_CONC_MAX] = {0};
    for (int attempt = 0; attempt < 50; attempt++) {
      int added = 0, running = 0;
      for (size_t i = 0; i < k; i++) {
        if (attempt > 0 && !pending[i])
          continue;
        const olist_item_t *it = items[base + i];
        char url[256];
        snprintf (url, sizeof url, "%s/v1/orders/%s/events", r->api,
                  r->data->orders[it->order].id);
        if (!bodies[i])
          bodies[i] = s_event_body (r->data, it);
        CURL *e = r->easy[i];
        curl_easy_setopt (e, CURLOPT_URL, url);
        curl_easy_setopt (e, CURLOPT_POSTFIELDS, bodies[i] ? bodies[i] : "{}");
        curl_multi_add_handle (r->multi, e);
        pending[i] = true;
        added++;
      }
      if (added == 0)
        break;
      do {
        curl_multi_perform (r->multi, &running);
        if (running)
          curl_multi_poll (r->multi, NULL, 0, 1000, NULL);
      } while (running);
      for (size_t i = 0; i < k; i++) {
        if (!pending[i])
          continue;
        long status = 0;
        curl_easy_getinfo (r->easy[i], CURLINFO_RESPONSE_CODE, &status);
        curl_multi_remove_handle (r->multi, r->easy[i]);
        pending[i] = status == 503 || status == 0;
        r->events_sent += status == 202;
        r->events_failed += status != 202 && !pending[i];
        r->events_retried += pending[i];
      }
      if (attempt > 0)
        usleep (20000);
    }
    for (size_t i = 0; i < k; i++) {
      free (bodies[i]);
      bodies[i] = NULL;
    }
  }
}

static void
s_publish_checks (s_replay_t *r, const olist_item_t *const *items, size_t n)
{
  at_msg_t **msgs = at_calloc (n, sizeof *msgs);
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    const olist_order_t *o = &r->data->orders[items[i]->order];
    msgs[m] = wrk_notify_check_msg (o->id, o->expected, items[i]->at_us, NULL);
    if (msgs[m])
      msgs[m]->not_before_us = 0;   /* due now in simulated time; the bus orders by not_before */
    m += msgs[m] != NULL;
  }
  int rc = AT_AGAIN, retry_ms = 0;
  for (int attempt = 0; attempt < 100 && rc != AT_OK && rc != AT_INVALID; attempt++) {
    rc = at_publisher_send (r->pub, msgs, m, &retry_ms);
    if (rc != AT_OK)
      usleep ((useconds_t) (retry_ms > 0 ? retry_ms : 50) * 1000);
  }
  if (rc == AT_OK)
    r->checks_sent += (long long) m;
  else
    fprintf (stderr, "olist-replay: %zu delay checks not published (rc %d)\n", m, rc);
  for (size_t i = 0; i < m; i++)
    at_msg_destroy (&msgs[i]);
  free (msgs);
}

/* Runs the timeline: maximal runs of one kind with distinct orders go together. */
static void
s_timeline (s_replay_t *r)
{
  const olist_t *d = r->data;
  const olist_item_t **batch = at_calloc (d->n_items + 1, sizeof *batch);
  unsigned char *in_batch = at_calloc (d->n_orders + 1, 1);
  size_t n = 0;
  olist_kind_t kind = OLIST_EVENT;
  for (size_t i = 0; i <= d->n_items; i++) {
    const olist_item_t *it = i < d->n_items ? &d->items[i] : NULL;
    if (n > 0 && (!it || it->kind != kind || in_batch[it->order])) {
      if (kind == OLIST_EVENT)
        s_post_events (r, batch, n);
      else
        s_publish_checks (r, batch, n);
      for (size_t j = 0; j < n; j++)
        in_batch[batch[j]->order] = 0;
      n = 0;
    }
    if (!it)
      break;
    kind = it->kind;
    batch[n++] = it;
    in_batch[it->order] = 1;
  }
  free (in_batch);
  free (batch);
}

typedef struct { const olist_t *d; long long late, never, early; } s_truth_t;

static void
s_truth_one (const char *order_id, void *arg)
{
  s_truth_t *t = arg;
  for (size_t i = 0; i < t->d->n_orders; i++)
    if (strcmp (t->d->orders[i].id, order_id) == 0) {
      t->late += t->d->orders[i].late;
      t->never += t->d->orders[i].never_delivered;
      t->early += !t->d->orders[i].late && !t->d->orders[i].never_delivered;
      return;
    }
}

static void
s_report (at_store_t *store, const olist_t *d, const s_replay_t *r, demo_receiver_t *rx,
          double send_s, double total_s)
{
  at_order_stats_t st;
  s_truth_t truth = {d, 0, 0, 0};
  if (at_store_order_stats (store, &st) != AT_OK
      || at_store_order_delayed_each (store, s_truth_one, &truth) != AT_OK) {
    fprintf (stderr, "olist-replay: the store could not be read\n");
    return;
  }
  printf ("orders=%zu events=%lld synthesized_events=%zu delay_checks=%lld\n", d->n_orders,
          r->events_sent, d->n_synthesized, r->checks_sent);
  printf ("events_failed=%lld api_503_retries=%lld\n", r->events_failed, r->events_retried);
  printf ("late_in_data=%zu never_delivered_in_data=%zu\n", d->n_late, d->n_never_delivered);
  printf ("delays_detected=%lld delays_told=%lld detected_late=%lld detected_never_delivered=%lld"
          " detected_on_time=%lld\n", st.orders_delayed, st.orders_delay_told, truth.late,
          truth.never, truth.early);
  printf ("notifications=%lld delivered=%lld still_open=%lld per_order_avg=%.2f"
          " per_order_max=%lld\n", st.notifications, st.notifications_delivered,
          st.notifications_open, st.orders ? (double) st.notifications / (double) st.orders : 0,
          st.notifications_max_per_order);
  printf ("receiver_deliveries=%ld receiver_duplicates=%ld receiver_bad_signatures=%ld\n",
          demo_receiver_count (rx, NULL), demo_receiver_duplicates (rx),
          demo_receiver_bad_signatures (rx));
  printf ("send_seconds=%.2f events_per_second=%.0f total_seconds=%.2f"
          " notifications_delivered_per_second=%.0f\n", send_s,
          send_s > 0 ? (double) r->events_sent / send_s : 0, total_s,
          total_s > 0 ? (double) st.notifications_delivered / total_s : 0);
}

typedef struct {
  pid_t broker, api, workers[S_WORKERS_MAX];
  int n_workers;
} s_procs_t;

static pid_t
s_spawn (const char *what, const char *stages, char *const *env)
{
  char log[128];
  snprintf (log, sizeof log, "olist-replay-%s.log", what);
  char *argv[] = {(char *) OLIST_ATENDE_BIN, (char *) (stages ? "worker" : what),
                  (char *) stages, NULL};
  return at_proc_spawn (argv, env, log);
}

static bool
s_api_ready (const char *api)
{
  char url[128];
  long status = 0;
  snprintf (url, sizeof url, "%s/readyz", api);
  CURL *e = curl_easy_init ();
  curl_easy_setopt (e, CURLOPT_URL, url);
  curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, s_sink);
  curl_easy_setopt (e, CURLOPT_TIMEOUT, 2L);
  if (curl_easy_perform (e) == CURLE_OK)
    curl_easy_getinfo (e, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup (e);
  return status == 200;
}

/* Starts broker, workers and api; false if the api never gets ready. */
static bool
s_start (s_procs_t *p, int workers, const char *receiver_url, int api_port, int bus_port,
         const char *api)
{
  char bind[64], eps[80], port[48], hook[160];
  snprintf (bind, sizeof bind, "ATENDE_BROKER_BIND=tcp://127.0.0.1:%d", bus_port);
  snprintf (eps, sizeof eps, "ATENDE_BROKER_ENDPOINTS=tcp://127.0.0.1:%d", bus_port);
  snprintf (port, sizeof port, "ATENDE_API_PORT=%d", api_port);
  snprintf (hook, sizeof hook, "ATENDE_WEBHOOK_URL=%s", receiver_url);
  char *env[] = {bind, eps, port, hook, "ATENDE_API_ADDRESS=127.0.0.1",
                 "ATENDE_BROKER_METRICS_PORT=0", "ATENDE_WEBHOOK_SECRET=" S_SECRET,
                 "ATENDE_DELAY_CHECKS=external",
                 "ATENDE_API_CONN_PER_ADDR=0", /* --concurrency up to 256 from one address */
                 NULL};
  p->broker = s_spawn ("broker", NULL, env);
  p->n_workers = workers;
  for (int i = 0; i < workers; i++)
    p->workers[i] = s_spawn ("worker", "notify", env);
  p->api = s_spawn ("api", NULL, env);
  for (int i = 0; i < 500; i++) {
    if (s_api_ready (api))
      return true;
    usleep (20000);
  }
  return false;
}

static void
s_stop (s_procs_t *p)
{
  if (p->api > 0)
    at_proc_stop (p->api, SIGTERM, 10000);
  for (int i = 0; i < p->n_workers; i++)
    if (p->workers[i] > 0)
      at_proc_stop (p->workers[i], SIGTERM, 10000);
  if (p->broker > 0)
    at_proc_stop (p->broker, SIGTERM, 10000);
}

/* Waits until every notification is settled and notify's queue is empty. */
static void
s_drain (at_store_t *store)
{
  at_order_stats_t st;
  for (int i = 0; i < S_DRAIN_S * 20; i++) {
    if (at_store_order_stats (store, &st) == AT_OK && st.notifications_open == 0
        && st.notify_backlog == 0)
      return;
    usleep (50000);
  }
  fprintf (stderr, "olist-replay: still draining after %d s\n", S_DRAIN_S);
}

static int
s_args (int argc, char **argv, const char **dir, long *orders, long *workers, long *conc)
{
  for (int i = 1; i < argc; i += 2) {   /* every option takes a value */
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp (argv[i], "--data") == 0 && v)
      *dir = v;
    else if (strcmp (argv[i], "--orders") == 0 && v && at_parse_long (v, 0, 100000, orders) == 0)
      ;
    else if (strcmp (argv[i], "--workers") == 0 && v
             && at_parse_long (v, 1, S_WORKERS_MAX, workers) == 0)
      ;
    else if (strcmp (argv[i], "--concurrency") == 0 && v
             && at_parse_long (v, 1, S_CONC_MAX, conc) == 0)
      ;
    else {
      fprintf (stderr, "usage: atende-olist-replay [--data DIR] [--orders N] [--workers 1..%d]"
                       " [--concurrency 1..%d]\n", S_WORKERS_MAX, S_CONC_MAX);
      return AT_INVALID;
    }
  }
  return AT_OK;
}

/* An empty, migrated store: a replay on top of an earlier one would only be deduplicated. */
static at_store_t *
s_store (const at_config_t *cfg)
{
  at_order_stats_t st;
  at_store_t *store = at_store_new (cfg->database_url, "olist-replay");
  if (!store || at_store_migrate (store, NULL) != AT_OK || at_store_order_stats (store, &st)
      != AT_OK) {
    fprintf (stderr, "olist-replay: cannot use the database in ATENDE_DATABASE_URL\n");
    at_store_destroy (&store);
    return NULL;
  }
  if (st.orders > 0) {
    fprintf (stderr, "olist-replay: the database already holds %lld orders; give an empty one\n",
             st.orders);
    at_store_destroy (&store);
  }
  return store;
}

/* "Authorization: Bearer <key>" of a new orders:write key (or no header,
 * and the api answers 401, when the store cannot make one). */
static const char *
s_auth_header (at_store_t *store)
{
  static char line[AT_AUTH_KEY_LEN + 32];
  at_auth_key_t key;
  if (at_store_key_create (store, "olist-replay", AT_SCOPE_ORDERS_WRITE, 1, "olist-replay", &key)
      != AT_OK) {
    fprintf (stderr, "olist-replay: cannot create an API key\n");
    return "X-No-Key: 1";
  }
  snprintf (line, sizeof line, "Authorization: Bearer %s", key.text);
  memset (&key, 0, sizeof key);
  return line;
}

static void
s_run (s_replay_t *r, at_store_t *store, demo_receiver_t *rx, const at_config_t *cfg)
{
  r->multi = curl_multi_init ();
  for (int i = 0; i < r->concurrency; i++) {
    r->easy[i] = curl_easy_init ();
    curl_easy_setopt (r->easy[i], CURLOPT_WRITEFUNCTION, s_sink);
    curl_easy_setopt (r->easy[i], CURLOPT_TIMEOUT, 30L);
  }
  struct curl_slist *h = curl_slist_append (NULL, "Content-Type: application/json");
  h = curl_slist_append (h, s_auth_header (store));
  for (int i = 0; i < r->concurrency; i++)
    curl_easy_setopt (r->easy[i], CURLOPT_HTTPHEADER, h);
  int64_t t0 = at_mono_us ();
  s_timeline (r);
  double send_s = (double) (at_mono_us () - t0) / 1e6;
  s_drain (store);
  double total_s = (double) (at_mono_us () - t0) / 1e6;
  s_report (store, r->data, r, rx, send_s, total_s);
  for (int i = 0; i < r->concurrency; i++)
    curl_easy_cleanup (r->easy[i]);
  curl_slist_free_all (h);
  curl_multi_cleanup (r->multi);
}

int
main (int argc, char **argv)
{
  const char *dir = OLIST_DEFAULT_DIR;
  long max_orders = 0, workers = 1, conc = 32;
  olist_t *data = NULL;
  if (s_args (argc, argv, &dir, &max_orders, &workers, &conc) != AT_OK)
    return 2;
  int rc = olist_load (dir, (size_t) max_orders, &data);
  if (rc == AT_NOTFOUND) {
    printf ("olist-replay: skipped: no Olist sample in %s\n", dir);
    return 77;
  }
  at_config_t *cfg = at_config_from_env ();
  at_store_t *store = cfg ? s_store (cfg) : NULL;
  demo_receiver_t *rx = store ? demo_receiver_new (S_SECRET, 0) : NULL;
  s_procs_t procs = {0};
  s_replay_t r = {.data = data, .concurrency = (int) conc};
  int bus_port = at_proc_free_port (), api_port = at_proc_free_port ();
  snprintf (r.api, sizeof r.api, "http://127.0.0.1:%d", api_port);
  curl_global_init (CURL_GLOBAL_DEFAULT);
  rc = 1;
  if (!rx || bus_port < 0 || api_port < 0
      || !s_start (&procs, (int) workers, demo_receiver_url (rx), api_port, bus_port, r.api)) {
    fprintf (stderr, "olist-replay: the pipeline did not start (see olist-replay-*.log)\n");
    goto out;
  }
  char endpoint[64];
  snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", bus_port);
  setenv ("ATENDE_BROKER_ENDPOINTS", endpoint, 1);
  at_config_t *pub_cfg = at_config_from_env ();
  r.pub = pub_cfg ? at_publisher_new (pub_cfg) : NULL;
  if (r.pub) {
    printf ("workers=%ld concurrency=%ld data=%s\n", workers, conc, dir);
    s_run (&r, store, rx, cfg);
    rc = 0;
  }
  at_publisher_destroy (&r.pub);
  at_config_destroy (&pub_cfg);
out:
  s_stop (&procs);
  demo_receiver_destroy (&rx);
  at_store_destroy (&store);
  at_config_destroy (&cfg);
  olist_destroy (&data);
  curl_global_cleanup ();
  return rc;
}
