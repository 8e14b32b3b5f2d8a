/* demo: the sales-peak scenario (see cli/demo.h). Starts the pipeline as
 * child processes of this binary, a receiver in-process standing in for the
 * providers and the store's systems, loads the knowledge base's seed, plays a
 * seeded scenario through the api (customers who answer the knowledge base
 * write twice) and reports what arrived, the answers by intent, the KPIs and
 * the throughput. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <assert.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "demo.h"
#include "demo_internal.h"
#include "demo_receiver.h"
#include "at_crypto.h"
#include "at_log.h"
#include "at_proc.h"
#include "at_store.h"
#include "at_store_auth.h"

/* The knowledge base's seed, found next to the sources (CMakeLists.txt). */

#define S_CONCURRENCY 64
#define S_GRACE_MS 10000

static volatile sig_atomic_t s_stop;

/* Index of each setting in at_config_t.source_ (the settings table's order):
 * --api-port is a settings flag too, so at_config_new may have taken it. */
enum {
#define S_CFG_INDEX(type, field, ...) S_CFG_##field,
  AT_SETTINGS (S_CFG_INDEX)
#undef S_CFG_INDEX
};


static const char *s_child_args[DEMO_CHILDREN][3] = {
  { "broker", NULL, NULL }, { "worker", "ingest", NULL }, { "worker", "route", NULL },
  { "worker", "notify", NULL }, { "worker", "survey", NULL }, { "api", NULL, NULL },
};
static const char *s_child_names[DEMO_CHILDREN] = { "broker", "ingest", "route", "notify", "survey", "api" };

static void
s_on_signal (int sig)
{
  s_stop = 1;
}

static void
s_say (demo_t *d, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static void
s_say (demo_t *d, const char *fmt, ...)
{
  if (d->quiet)
    return;
  va_list ap;
  va_start (ap, fmt);
  printf ("[%6.1fs] ", (double) (at_mono_ms () - d->started_ms) / 1000.0);
  vprintf (fmt, ap);
  putchar ('\n');
  fflush (stdout);
  va_end (ap);
}

static int
s_parse_args (demo_t *d, int argc, char **argv)
{
  d->customers = 300;
  d->seed = 42;
  at_strlcpy (d->kb_seed, ATENDE_DEMO_KB_SEED, sizeof d->kb_seed);
  d->api_port = d->cfg->source_[S_CFG_api_port] != 0 ? d->cfg->api_port : 0;
  for (int i = 1; i < argc; i++) {
    long v;
    bool has_value = i + 1 < argc;
    if (strcmp (argv[i], "--quiet") == 0)
      d->quiet = true;
    else if (strcmp (argv[i], "--keep") == 0)
      d->keep = true;
    else if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0) {
      demo_usage (stdout);
      return AT_NOTFOUND;
    }
    else if (strcmp (argv[i], "--customers") == 0 && has_value
             && at_parse_long (argv[i + 1], 1, 100000, &v) == AT_OK)
      d->customers = (size_t) v, i++;
    else if (strcmp (argv[i], "--seed") == 0 && has_value
             && at_parse_long (argv[i + 1], 0, LONG_MAX, &v) == AT_OK)
      d->seed = (unsigned long long) v, i++;
    else if (strcmp (argv[i], "--api-port") == 0 && has_value
             && at_parse_long (argv[i + 1], 1, 65535, &v) == AT_OK)
      d->api_port = v, i++;
    else if (strcmp (argv[i], "--kb-seed") == 0 && has_value && argv[i + 1][0])
      at_strlcpy (d->kb_seed, argv[++i], sizeof d->kb_seed);
    else {
      demo_usage (stderr);
      fprintf (stderr, "demo: bad argument '%s'\n", argv[i]);
      return AT_INVALID;
    }
  }
  return AT_OK;
}


/* The demo's API key: messages, order events, agents' actions, KPIs and
 * the knowledge base's articles, a day long; kept (mode 0600) in <logdir>/api-key to try the api by hand. */
static int
s_api_key (demo_t *d)
{
  at_auth_key_t key;
  char path[96];
  at_scopes_t scopes = AT_SCOPE_MESSAGES_WRITE | AT_SCOPE_ORDERS_WRITE | AT_SCOPE_TICKETS_READ
                       | AT_SCOPE_TICKETS_WRITE | AT_SCOPE_KPIS_READ | AT_SCOPE_KB_WRITE
                       | AT_SCOPE_TEMPLATES_WRITE;
  if (at_store_key_create (d->store, "demo", scopes, 1, "cli", &key) != AT_OK) {
    fprintf (stderr, "demo: cannot create an API key (is the database migrated?)\n");
    return AT_ERROR;
  }
  demo_http_key (key.text);
  at_strlcpy (d->api_key, key.text, sizeof d->api_key);
  snprintf (path, sizeof path, "%s/api-key", d->logdir);
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  FILE *f = fd >= 0 ? fdopen (fd, "w") : NULL;
  if (f) {
    fprintf (f, "%s\n", key.text);
    fclose (f);
  }
  else if (fd >= 0)
    close (fd);
  memset (&key, 0, sizeof key);
  return AT_OK;
}

/* Secrets, log directory, receiver, store connection, API key. */
static int
s_setup (demo_t *d)
{
  uint8_t key[32];
  char b64[64];
  if (at_random_bytes (key, sizeof key) != AT_OK
      || at_base64_encode (key, sizeof key, b64, sizeof b64) < 0)
    return AT_ERROR;
  snprintf (d->webhook_secret, sizeof d->webhook_secret, "whsec_%s", b64);
  if (at_random_bytes (key, sizeof key) != AT_OK
      || at_base64url_encode (key, sizeof key, d->survey_secret, sizeof d->survey_secret) < 0)
    return AT_ERROR;
  snprintf (d->run, sizeof d->run, "%llu-%llx", d->seed, (unsigned long long) at_now_us ());
  at_strlcpy (d->logdir, "/tmp/atende-demo.XXXXXX", sizeof d->logdir);
  if (!mkdtemp (d->logdir)) {
    fprintf (stderr, "demo: cannot create a log directory: %s\n", strerror (errno));
    return AT_ERROR;
  }
  if (at_proc_self_exe (d->exe, sizeof d->exe) != AT_OK)
    return AT_ERROR;
  d->receiver = demo_receiver_new (d->webhook_secret, 0);
  if (!d->receiver)
    return AT_ERROR;
  d->store = at_store_new (d->cfg->database_url, "demo");
  if (!d->store) {
    fprintf (stderr, "demo: cannot connect to the database (%s); run `atende migrate` first\n",
             d->cfg->database_url);
    return AT_ERROR;
  }
  if (s_api_key (d) != AT_OK)
    return AT_ERROR;
  return demo_probe_counts (d->store, 0, &d->base);
}

static void
s_build_env (demo_t *d, int broker_port, int metrics_port)
{
  const at_config_t *c = d->cfg;
  int n = 0;
  snprintf (d->env[n++], sizeof d->env[0], "ATENDE_DATABASE_URL=%s", c->database_url);
  snprintf (d->env[n++], sizeof d->env[0], "ATENDE_LOG_LEVEL=%s", c->log_level);
  snprintf (d->env[n++], sizeof d->env[0], "ATENDE_BROKER_BIND=tcp://127.0.0.1:%d", broker_port);
  snprintf (d->env[n++], sizeof d->env[0], "ATENDE_BROKER_ENDPOINTS=tcp://127.0.0.1:%d", broker_port);
  snprintf (d->env[n++], sizeof d->env[0], "ATENDE_BROKER_METRICS_PORT=%d", metrics_port);
  snprintf (d->env[n++], sizeof d->env[0], "ATENDE_API_ADDRESS=127.0.0.1");
  snprintf (d->env[n++], sizeof d->env[0], "ATENDE_API_PORT=%ld", d->api_port);
  snprintf (d->env[n++], sizeof d->env[0], "ATENDE_WEBHOOK_URL=%s", demo_receiver_url (d->receiver));
  snprintf (d->env[n++], sizeof d->env[0], "ATENDE_WEBHOOK_SECRET=%s", d->webhook_secret);
  /* the receiver plays the store too: return and cancel requests, same secret */
  snprintf (d->env[n++], sizeof d->env[0], "ATENDE_STORE_WEBHOOK_URL=%s",
            demo_receiver_url (d->receiver));
  snprintf (d->env[n++], sizeof d->env[0], "ATENDE_STORE_WEBHOOK_SECRET=%s", d->webhook_secret);
  snprintf (d->env[n++], sizeof d->env[0], "ATENDE_SURVEY_SECRET=%s", d->survey_secret);
  snprintf (d->env[n++], sizeof d->env[0], "ATENDE_SURVEY_URL_BASE=%s/v1/surveys/", d->api_base);
  /* the whole load comes from one address, S_CONCURRENCY connections at once */
  snprintf (d->env[n++], sizeof d->env[0], "ATENDE_API_CONN_PER_ADDR=0");
  assert (n < DEMO_ENV_MAX);
}

static int
s_start_children (demo_t *d)
{
  int broker_port = at_proc_free_port (), metrics_port = at_proc_free_port ();
  if (d->api_port == 0)
    d->api_port = at_proc_free_port ();
  if (broker_port < 0 || metrics_port < 0 || d->api_port < 0)
    return AT_ERROR;
  snprintf (d->api_base, sizeof d->api_base, "http://127.0.0.1:%ld", d->api_port);
  s_build_env (d, broker_port, metrics_port);
  char *env[DEMO_ENV_MAX + 1] = { 0 };
  for (int i = 0; i < DEMO_ENV_MAX && d->env[i][0]; i++)
    env[i] = d->env[i];
  for (int i = 0; i < DEMO_CHILDREN; i++) {
    char log[128];
    snprintf (log, sizeof log, "%s/%s.log", d->logdir, s_child_names[i]);
    char *argv[] = { d->exe, (char *) s_child_args[i][0], (char *) s_child_args[i][1], NULL };
    d->pids[i] = at_proc_spawn (argv, env, log);
    if (d->pids[i] < 0)
      return AT_ERROR;
  }
  s_say (d, "started broker (tcp://127.0.0.1:%d), 4 workers, api (%s), receiver (%s); logs in %s,"
         " the demo's API key in %s/api-key", broker_port, d->api_base,
         demo_receiver_url (d->receiver), d->logdir, d->logdir);
  return AT_OK;
}

static void
s_stop_children (demo_t *d)
{
  for (int i = DEMO_CHILDREN - 1; i >= 0; i--)   /* api first, broker last */
    if (d->pids[i] > 0)
      kill (d->pids[i], SIGTERM);
  for (int i = DEMO_CHILDREN - 1; i >= 0; i--)
    if (d->pids[i] > 0) {
      at_proc_stop (d->pids[i], 0, S_GRACE_MS);   /* already told: wait, then SIGKILL */
      d->pids[i] = 0;
    }
}

/* A child that exited on its own is a failure the user must hear about. */
static bool
s_children_alive (demo_t *d)
{
  for (int i = 0; i < DEMO_CHILDREN; i++) {
    int status;
    if (d->pids[i] > 0 && waitpid (d->pids[i], &status, WNOHANG) == d->pids[i]) {
      fprintf (stderr, "demo: %s exited (%s %d); see %s/%s.log\n", s_child_names[i],
               WIFEXITED (status) ? "status" : "signal",
               WIFEXITED (status) ? WEXITSTATUS (status) : WTERMSIG (status), d->logdir,
               s_child_names[i]);
      d->pids[i] = 0;
      d->child_died++;
    }
  }
  return d->child_died == 0;
}

static void
s_progress (demo_t *d, const char *what)
{
  s_say (d, "%-22s messages sent=%ld in=%lld tickets=%lld routed=%lld deliveries=%ld",
         what, d->messages_sent, d->now.inbound - d->base.inbound, d->now.tickets,
         d->now.routed, demo_receiver_count (d->receiver, NULL));
}

typedef bool (*s_cond_t) (demo_t *d);

/* Polls the store until cond holds; prints progress every second. */
static bool
s_wait (demo_t *d, const char *what, s_cond_t cond, int timeout_ms)
{
  int64_t deadline = at_mono_ms () + timeout_ms;
  struct timespec tick = { 0, 20 * 1000 * 1000 };
  for (;;) {
    if (demo_probe_counts (d->store, d->base.max_ticket_id, &d->now) != AT_OK)
      at_store_reconnect (d->store);
    else if (cond (d))
      return true;
    if (s_stop || !s_children_alive (d))
      return false;
    if (at_mono_ms () >= deadline) {
      fprintf (stderr, "demo: timed out waiting for %s\n", what);
      s_progress (d, what);
      return false;
    }
    if (at_mono_ms () - d->last_progress_ms >= 1000) {
      s_progress (d, what);
      d->last_progress_ms = at_mono_ms ();
    }
    nanosleep (&tick, NULL);
  }
}

static bool
s_api_ready (demo_t *d)
{
  char url[DEMO_URL_MAX];
  snprintf (url, sizeof url, "%s/readyz", d->api_base);
  return demo_http_one ("GET", url, NULL, NULL) == 200;
}

static bool
s_wait_ready (demo_t *d)
{
  int64_t deadline = at_mono_ms () + 30000;
  while (!s_api_ready (d)) {
    struct timespec tick = { 0, 50 * 1000 * 1000 };
    if (s_stop || !s_children_alive (d) || at_mono_ms () >= deadline) {
      if (!s_stop && d->child_died == 0)
        fprintf (stderr, "demo: the api did not get ready in 30 s; see %s/api.log\n", d->logdir);
      return false;
    }
    nanosleep (&tick, NULL);
  }
  s_say (d, "api ready");
  return true;
}

static bool s_orders_landed (demo_t *d) { return d->now.order_events - d->base.order_events >= d->orders_sent; }
static bool s_inbound_landed (demo_t *d) { return d->now.inbound - d->base.inbound >= d->messages_sent + d->followups_sent; }
static bool s_kb_settled (demo_t *d) { return d->now.kb_settled >= d->followups_sent; }
static bool s_all_routed (demo_t *d) { return d->now.tickets > 0 && d->now.routed >= d->now.tickets; }

static int
s_timeout_ms (demo_t *d)
{
  return 60000 + (int) d->customers * 40;
}

/* Order events, one status at a time so each order's events arrive in order. */
static int
s_play_orders (demo_t *d)
{
  demo_req_t *reqs = at_calloc (d->customers, sizeof *reqs);
  for (int step = 0; step < DEMO_ORDER_STEPS && !s_stop; step++) {
    size_t n = 0;
    for (size_t i = 0; i < d->customers; i++) {
      const demo_customer_t *c = &d->people[i];
      if (!c->order_id[0] || step >= c->order_steps)
        continue;
      reqs[n].method = "POST";
      snprintf (reqs[n].url, DEMO_URL_MAX, "%s/v1/orders/%s/events", d->api_base, c->order_id);
      reqs[n].body = demo_scenario_order_event (c, step, d->run);
      n++;
    }
    size_t ok = demo_http_run (reqs, n, S_CONCURRENCY, &s_stop);
    d->orders_sent += (long) ok;
    if (ok < n)
      fprintf (stderr, "demo: %zu of %zu '%s' events refused (last status %ld)\n", n - ok, n,
               demo_order_status (step), n ? reqs[n - 1].status : 0L);
    for (size_t i = 0; i < n; i++) {
      free (reqs[i].body);
      free (reqs[i].response);
    }
    memset (reqs, 0, d->customers * sizeof *reqs);
    s_say (d, "order events '%s' accepted: %zu", demo_order_status (step), ok);
  }
  free (reqs);
  d->expect_orders = d->orders_sent;
  return s_wait (d, "order events applied", s_orders_landed, s_timeout_ms (d)) ? AT_OK : AT_ERROR;
}

/* Every customer writes; the load goes in concurrently and the clock runs
 * until every message is a committed ticket_message row. */
static int
s_play_messages (demo_t *d)
{
  demo_req_t *reqs = at_calloc (d->customers, sizeof *reqs);
  for (size_t i = 0; i < d->customers; i++) {
    reqs[i].method = "POST";
    snprintf (reqs[i].url, DEMO_URL_MAX, "%s/v1/messages", d->api_base);
    reqs[i].body = demo_scenario_message (&d->people[i], i, d->run);
  }
  int64_t t0 = at_mono_us ();
  size_t ok = demo_http_run (reqs, d->customers, S_CONCURRENCY, &s_stop);
  d->messages_sent = (long) ok;
  if (ok < d->customers)
    fprintf (stderr, "demo: %zu of %zu messages refused\n", d->customers - ok, d->customers);
  demo_req_free (reqs, d->customers);
  s_say (d, "inbound messages accepted: %zu (202)", ok);
  if (!s_wait (d, "messages in tickets", s_inbound_landed, s_timeout_ms (d)))
    return AT_ERROR;
  d->throughput_s = (double) (at_mono_us () - t0) / 1e6;
  s_say (d, "all %ld messages are ticket messages after %.2fs", d->messages_sent, d->throughput_s);
  return s_wait (d, "tickets routed", s_all_routed, s_timeout_ms (d)) ? AT_OK : AT_ERROR;
}

/* Customers answer the knowledge base's "Isso resolveu?" ("sim", "não"):
 * done when route has recorded every answer. */
static int
s_play_followups (demo_t *d)
{
  d->followups_sent = (long) demo_kb_followups (d->store, d->base.max_ticket_id, d->people,
                                                d->customers, d->run, d->api_base, &s_stop);
  s_say (d, "answers to the knowledge base accepted: %ld", d->followups_sent);
  return s_wait (d, "answers to the knowledge base", s_inbound_landed, s_timeout_ms (d))
         && s_wait (d, "knowledge-base answers recorded", s_kb_settled, s_timeout_ms (d))
           ? AT_OK : AT_ERROR;
}

static int
s_post_tickets (demo_t *d, const int64_t *ids, char (*langs)[8], size_t n, const char *action)
{
  demo_req_t *reqs = at_calloc (n ? n : 1, sizeof *reqs);
  for (size_t i = 0; i < n; i++) {
    reqs[i].method = "POST";
    snprintf (reqs[i].url, DEMO_URL_MAX, "%s/v1/tickets/%lld/%s", d->api_base, (long long) ids[i],
              action);
    reqs[i].body = langs ? demo_scenario_agent_reply (&d->rng, langs[i])
                         : strdup ("{\"agent\":\"carla.mendes\"}");
  }
  size_t ok = demo_http_run (reqs, n, S_CONCURRENCY, &s_stop);
  if (ok < n)
    fprintf (stderr, "demo: %zu of %zu %s refused\n", n - ok, n, action);
  demo_req_free (reqs, n);
  return (int) ok;
}

static bool
s_breached (demo_t *d)
{
  return demo_probe_breaches (d->store, d->base.max_ticket_id) > 0;
}

/* The most urgent ticket waits for its breach before its reply (the demo
 * shows one); moved to the end of ids. Whether one is held. */
static bool
s_hold_urgent (demo_t *d, int64_t *ids, char (*langs)[8], size_t n)
{
  int64_t urgent = demo_probe_urgent (d->store, d->base.max_ticket_id);
  for (size_t i = 0; urgent && i + 1 < n; i++)
    if (ids[i] == urgent) {
      char lang[8];
      memcpy (lang, langs[i], sizeof lang);
      ids[i] = ids[n - 1], ids[n - 1] = urgent;
      memcpy (langs[i], langs[n - 1], sizeof lang);
      memcpy (langs[n - 1], lang, sizeof lang);
    }
  return urgent && n > 0 && ids[n - 1] == urgent;
}

/* Agents answer what the bot could not (the most urgent one after its SLA
 * breach), then every ticket is resolved. */
static int
s_play_agents (demo_t *d)
{
  size_t cap = d->customers;
  int64_t *ids = at_calloc (cap, sizeof *ids);
  char (*langs)[8] = at_calloc (cap, sizeof *langs);
  size_t n = demo_probe_unanswered (d->store, d->base.max_ticket_id, ids, langs, cap);
  bool held = s_hold_urgent (d, ids, langs, n);
  d->replies_sent = s_post_tickets (d, ids, langs, n - held, "replies");
  if (held) {
    s_say (d, "ticket %lld (high priority) waits for its SLA breach", (long long) ids[n - 1]);
    s_wait (d, "an SLA breach", s_breached, DEMO_DESK_URGENT_S * 4000);
    d->replies_sent += s_post_tickets (d, ids + n - 1, langs + n - 1, 1, "replies");
  }
  s_say (d, "agents replied to %ld tickets waiting for people (%lld answered automatically)",
         d->replies_sent, d->now.auto_answered);
  n = demo_probe_open (d->store, d->base.max_ticket_id, ids, cap);
  d->resolved = s_post_tickets (d, ids, NULL, n, "resolve");
  s_say (d, "agents resolved %ld tickets", d->resolved);
  free (langs);
  free (ids);
  return s_stop ? AT_ERROR : AT_OK;
}

/* Answers the survey links that reached the receiver, about 3 in 4 of them;
 * done when every resolved ticket's survey arrived. */
static bool
s_surveys_done (demo_t *d)
{
  char link[DEMO_RECEIVER_LINK_MAX];
  while (demo_receiver_take_survey (d->receiver, link, sizeof link, NULL) == AT_OK) {
    if (demo_rng_below (&d->rng, 4) == 0)
      continue;
    char *body = demo_scenario_survey_answer (&d->rng);
    long status = demo_http_one ("POST", link, body, NULL);
    free (body);
    if (status == 202)
      d->surveys_answered++;
    else
      fprintf (stderr, "demo: survey answer refused: %ld %s\n", status, link);
  }
  return demo_receiver_count (d->receiver, "survey") >= d->resolved;
}

static bool
s_all_delivered (demo_t *d)
{
  demo_receiver_t *r = d->receiver;
  return demo_receiver_count (r, "order_status") >= d->expect_orders
         && demo_receiver_count (r, "auto_reply") >= d->now.auto_replies
         && demo_receiver_count (r, "return_request") + demo_receiver_count (r, "cancel_request")
              >= d->now.store_requests
         && demo_receiver_count (r, "reply") >= d->replies_sent
         && demo_receiver_count (r, "survey") >= d->resolved
         && d->now.survey_answers - d->base.survey_answers >= d->surveys_answered;
}

/* The knowledge base's articles, through the api; without them questions
 * go to people. */
static void
s_load_kb (demo_t *d)
{
  char note[PATH_MAX + 160];
  d->kb_articles = demo_kb_seed (d->api_base, d->kb_seed, note, sizeof note, &s_stop);
  if (d->kb_articles == AT_NOTFOUND)
    fprintf (stderr, "demo: %s\n", note);
  else
    s_say (d, "%s", note);
}

static int
s_play (demo_t *d)
{
  if (!s_wait_ready (d))
    return AT_ERROR;
  s_load_kb (d);
  char note[256];
  if (demo_desk_setup (d->store, d->api_base, d->api_key, note, sizeof note,
                       d->lead_password) != AT_OK)
    fprintf (stderr, "demo: %s\n", note);
  else
    s_say (d, "%s", note);
  int64_t t0 = at_mono_us ();
  if (s_play_orders (d) != AT_OK || s_play_messages (d) != AT_OK
      || s_play_followups (d) != AT_OK || s_play_agents (d) != AT_OK)
    return AT_ERROR;
  if (!s_wait (d, "surveys delivered", s_surveys_done, s_timeout_ms (d))
      || !s_wait (d, "all deliveries", s_all_delivered, s_timeout_ms (d)))
    return AT_ERROR;
  d->pipeline_s = (double) (at_mono_us () - t0) / 1e6;
  return AT_OK;
}

/* --keep: everything stays up until Ctrl-C (or a child dies). */
static void
s_keep (demo_t *d)
{
  demo_keep_banner (d);
  while (!s_stop && s_children_alive (d))
    usleep (200 * 1000);
}

int
demo_run (const at_config_t *cfg, int argc, char **argv)
{
  demo_t *d = at_calloc (1, sizeof *d);
  d->cfg = cfg;
  d->started_ms = at_mono_ms ();
  int rc = 1;
  int parsed = s_parse_args (d, argc, argv);
  if (parsed != AT_OK) {
    rc = parsed == AT_NOTFOUND ? 0 : 2;   /* --help, or a bad argument */
    goto out;
  }
  struct sigaction sa = { .sa_handler = s_on_signal };
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  signal (SIGPIPE, SIG_IGN);
  demo_rng_seed (&d->rng, d->seed ^ 0xA7E5DEull);
  d->people = demo_scenario_customers (d->customers, d->seed);
  if (s_setup (d) != AT_OK || s_start_children (d) != AT_OK)
    goto out;
  bool complete = s_play (d) == AT_OK;
  if (s_stop)
    fprintf (stderr, "demo: interrupted, stopping\n");
  demo_summary (d, complete);
  bool clean = demo_receiver_bad_signatures (d->receiver) == 0 && d->child_died == 0;
  rc = s_stop ? 130 : (complete && clean) ? 0 : 1;
  if (d->keep && !s_stop)
    s_keep (d);
out:
  s_stop_children (d);
  demo_receiver_destroy (&d->receiver);
  at_store_destroy (&d->store);
  free (d->people);
  memset (d->api_key, 0, sizeof d->api_key);
  free (d);
  return rc;
}
