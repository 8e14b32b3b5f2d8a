/* wrk_loop: `atende worker <stages>`: one thread per stage, each with its
 * own PostgreSQL connection and one DEALER per broker. A thread collects
 * delivered messages into batches (up to cfg->worker_batch, waiting at most
 * ~1 ms for more once one is there), runs each batch in one transaction
 * (wrk_batch.c) and settles it with the brokers (wrk_link.c).
 *
 * Signals are blocked in every thread and taken by the main thread with
 * sigtimedwait: SIGTERM/SIGINT set the stop flag; each stage thread then
 * finishes and settles the batch in hand, releases what it holds beyond it,
 * says Disconnect and returns. Past cfg->drain_grace_ms the process exits. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>
#include "wrk_int.h"
#include "at_log.h"
#include "at_msg_pb.h"
#include "at_store_query.h"
#include "at_store_bus.h"
#include "at_zmq.h"

#define WRK_COMP "worker"
#define WRK_COLLECT_MS 1            /* wait for more once one message is there */
#define WRK_BACKOFF_MIN_MS 100
#define WRK_BACKOFF_MAX_MS 5000
#define WRK_FLUSH_MS 500            /* linger for the last Settle and Disconnect */
#define WRK_STOP_POLL_MS 25         /* longest wait between looks at the stop flag */

typedef struct {
  const at_config_t *cfg;
  const wrk_stage_t *stage;
  atomic_bool *stop;
  atomic_uint *reloads;             /* SIGHUPs received */
  atomic_int *finished;             /* threads that returned */
  atomic_int *failed;               /* threads that returned non-zero */
  int rc;                           /* the thread's exit code */
  long max_attempts;                /* this stage's */
  wrk_metrics_t *metrics;
  size_t index;                     /* this stage's row in metrics */
  pthread_t tid;
} wrk_thread_t;

/* A stage thread's state between batches. */
typedef struct {
  wrk_thread_t *thread;
  wrk_ctx_t ctx;
  wrk_links_t *links;
  wrk_item_t *pending;              /* ring of delivered, not yet run */
  size_t cap, head, count;
  int64_t first_ms;                 /* when the oldest pending one came */
  wrk_item_t *batch;                /* cfg->worker_batch items */
  int64_t reconnect_at_ms;          /* store down: next try */
  int64_t backoff_ms;
  uint64_t n_undecodable, n_overflow;
  int ready;                        /* last readiness reported: -1 none, 0, 1 */
  int64_t pinged_ms;                /* last look at the store while idle */
} wrk_stage_loop_t;

static const wrk_stage_t *const s_stages[WRK_STAGES_MAX] = {
  &wrk_stage_ingest, &wrk_stage_route, &wrk_stage_notify, &wrk_stage_survey,
};

const wrk_stage_t *
wrk_stage_find (const char *name)
{
  for (size_t i = 0; name && i < WRK_STAGES_MAX; i++)
    if (s_stages[i]->name && strcmp (s_stages[i]->name, name) == 0)
      return s_stages[i];
  return NULL;
}

/* ---- delivered envelopes ---- */

/* An envelope that does not decode: dead-letter it by id when it has one
 * (the row is then fenced on its attempt), else log and drop it. */
static void
s_undecodable (wrk_stage_loop_t *loop, size_t link, const Atende__Bus__Envelope *env,
               const char *reason)
{
  loop->n_undecodable++;
  const char *id = env->id && at_uuid_valid (env->id) ? env->id : NULL;
  if (id == NULL) {
    if (loop->n_undecodable == 1 || loop->n_undecodable % 1000 == 0)
      at_error (WRK_COMP, "msg=\"undecodable envelope without id, dropped\" stage=%s "
                "reason=\"%s\" undecodable_total=%llu", loop->ctx.stage->name, reason,
                (unsigned long long) loop->n_undecodable);
    return;
  }
  char why[300];
  snprintf (why, sizeof why, "envelope does not decode: %s", reason);
  int rc = at_store_ok (loop->ctx.store)
               ? at_store_bus_dead (loop->ctx.store, id, env->attempt, why) : AT_AGAIN;
  if (rc == AT_OK) {
    loop->ctx.n_dead++;
    wrk_metrics_count (loop->ctx.metrics, loop->ctx.metrics_index, WRK_OUT_DEAD);
    at_error (WRK_COMP, "msg=\"dead-lettered\" stage=%s id=%s attempt=%u reason=\"%s\"",
              loop->ctx.stage->name, id, env->attempt, why);
  }
  else if (rc != AT_STALE)
    at_error (WRK_COMP, "msg=\"undecodable envelope released, store unavailable\" stage=%s "
              "id=%s reason=\"%s\"", loop->ctx.stage->name, id, reason);
  wrk_links_release (loop->links, link, id);
}

static void
s_on_envelope (void *arg, size_t link, const Atende__Bus__Envelope *env)
{
  wrk_stage_loop_t *loop = arg;
  at_msg_t *msg = NULL;
  char reason[256] = "";
  if (at_msg_from_pb (env, &msg, reason, sizeof reason) != AT_OK) {
    s_undecodable (loop, link, env, reason);
    return;
  }
  if (strcmp (msg->stage, loop->ctx.stage->name) != 0 || loop->count == loop->cap) {
    /* Not ours, or more than the credit we gave: the broker forgets it and
     * its sweep offers it again. */
    if (loop->n_overflow++ % 1000 == 0)
      at_warn (WRK_COMP, "msg=\"delivery refused, released\" stage=%s id=%s msg_stage=%s "
               "pending=%zu", loop->ctx.stage->name, msg->id, msg->stage, loop->count);
    wrk_links_release (loop->links, link, msg->id);
    at_msg_destroy (&msg);
    return;
  }
  wrk_item_t *item = &loop->pending[(loop->head + loop->count) % loop->cap];
  memset (item, 0, sizeof *item);
  item->m.msg = msg;
  item->link = link;
  if (loop->count++ == 0)
    loop->first_ms = at_mono_ms ();
}

/* ---- batches ---- */

/* Moves up to worker_batch pending items into loop->batch, runs, settles
 * and frees them. */
static void
s_batch (wrk_stage_loop_t *loop)
{
  size_t n = loop->count < (size_t) loop->thread->cfg->worker_batch
                 ? loop->count : (size_t) loop->thread->cfg->worker_batch;
  for (size_t i = 0; i < n; i++) {
    loop->batch[i] = loop->pending[loop->head];
    loop->head = (loop->head + 1) % loop->cap;
  }
  loop->count -= n;
  loop->first_ms = loop->count ? at_mono_ms () : 0;
  if (wrk_batch_run (&loop->ctx, loop->batch, n) != AT_OK && !at_store_ok (loop->ctx.store))
    loop->reconnect_at_ms = at_mono_ms ();
  loop->pinged_ms = at_mono_ms ();   /* the batch used the store */
  wrk_links_settle (loop->links, loop->batch, n);
  for (size_t i = 0; i < n; i++) {
    if (loop->ctx.stage->release)
      loop->ctx.stage->release (&loop->batch[i].m);
    wrk_item_clear (&loop->batch[i]);
  }
}

/* Releases everything pending (at the end, or while the store is down for
 * too long to keep the broker waiting). */
static void
s_pending_release (wrk_stage_loop_t *loop)
{
  while (loop->count > 0) {
    wrk_item_t *item = &loop->pending[loop->head];
    wrk_links_release (loop->links, item->link, item->m.msg->id);
    wrk_item_clear (item);
    loop->head = (loop->head + 1) % loop->cap;
    loop->count--;
  }
  loop->first_ms = 0;
}

/* The store is down: one reconnect try when due, with backoff. */
static bool
s_store_up (wrk_stage_loop_t *loop, int64_t now)
{
  /* Idle, a broken connection shows only when used: look once per heartbeat. */
  if (at_store_ok (loop->ctx.store) && now - loop->pinged_ms >= loop->thread->cfg->heartbeat_ms) {
    loop->pinged_ms = now;
    if (loop->count == 0)
      at_query_ping (loop->ctx.store);
  }
  if (at_store_ok (loop->ctx.store)) {
    loop->backoff_ms = 0;
    return true;
  }
  if (now < loop->reconnect_at_ms)
    return false;
  if (at_store_reconnect (loop->ctx.store) == AT_OK) {
    loop->backoff_ms = 0;
    return true;
  }
  loop->backoff_ms = loop->backoff_ms ? loop->backoff_ms * 2 : WRK_BACKOFF_MIN_MS;
  if (loop->backoff_ms > WRK_BACKOFF_MAX_MS)
    loop->backoff_ms = WRK_BACKOFF_MAX_MS;
  loop->reconnect_at_ms = now + loop->backoff_ms;
  at_warn (WRK_COMP, "msg=\"store unavailable, retrying\" stage=%s retry_in_ms=%lld "
           "pending=%zu error=\"%s\"", loop->ctx.stage->name, (long long) loop->backoff_ms,
           loop->count, at_store_last_error (loop->ctx.store));
  /* Hand what we hold back: the broker offers it to a worker that can work. */
  s_pending_release (loop);
  return false;
}

static int
s_poll_timeout (wrk_stage_loop_t *loop, int64_t now, bool store_up)
{
  int timeout = wrk_links_next_due_ms (loop->links, now);
  if (timeout > WRK_STOP_POLL_MS)
    timeout = WRK_STOP_POLL_MS;     /* see the stop flag well within 100 ms */
  if (loop->count > 0 && store_up) {
    int64_t left = loop->first_ms + WRK_COLLECT_MS - now;
    if (loop->count >= (size_t) loop->thread->cfg->worker_batch || left < 0)
      left = 0;
    if (left < timeout)
      timeout = (int) left;
  }
  return timeout;
}

/* Tells metrics when this stage's readiness changes. */
static void
s_report_ready (wrk_stage_loop_t *loop, bool store_up)
{
  int ready = store_up && !loop->ctx.paused && wrk_links_up (loop->links);
  if (ready != loop->ready) {
    wrk_metrics_ready (loop->ctx.metrics, loop->ctx.metrics_index, ready);
    loop->ready = ready;
  }
}

/* Draining: Ready with credit 0 to every broker, then keep reading until
 * each has surely read it, running what crossed it; then the rest is run
 * once or released. Bounded by half the grace period. */
static void
s_drain (wrk_stage_loop_t *loop)
{
  const at_config_t *cfg = loop->thread->cfg;
  int64_t until = at_mono_ms () + cfg->drain_grace_ms / 2;
  wrk_ctx_pause_if_stopping (&loop->ctx);
  while (!wrk_links_pause_heard (loop->links) && at_mono_ms () < until) {
    wrk_links_beat (loop->links, at_mono_ms ());
    if (wrk_links_poll (loop->links, 20, s_on_envelope, loop) != AT_OK)
      usleep (10 * 1000);
    if (loop->count > 0 && at_store_ok (loop->ctx.store))
      s_batch (loop);
  }
  while (loop->count > 0 && at_store_ok (loop->ctx.store) && at_mono_ms () < until)
    s_batch (loop);
  wrk_links_poll (loop->links, 0, s_on_envelope, loop);
  s_pending_release (loop);
}

static void
s_loop_run (wrk_stage_loop_t *loop)
{
  const at_config_t *cfg = loop->thread->cfg;
  loop->ready = -1;
  wrk_links_ready (loop->links);
  while (!atomic_load (loop->thread->stop)) {
    int64_t now = at_mono_ms ();
    wrk_links_tick (loop->links, now);
    bool store_up = s_store_up (loop, now);
    if (wrk_links_poll (loop->links, s_poll_timeout (loop, now, store_up), s_on_envelope, loop)
        != AT_OK)
      usleep (10 * 1000);              /* a failing poll must not spin */
    now = at_mono_ms ();
    if (store_up && loop->count > 0
        && (loop->count >= (size_t) cfg->worker_batch || now >= loop->first_ms + WRK_COLLECT_MS))
      s_batch (loop);
    s_report_ready (loop, store_up);
  }
  s_drain (loop);
}

/* ---- a stage thread ---- */

/* Connects the stage's store, retrying with backoff until stop. */
static at_store_t *
s_store_connect (wrk_thread_t *t)
{
  int64_t backoff = WRK_BACKOFF_MIN_MS;
  while (!atomic_load (t->stop)) {
    at_store_t *store = at_store_new (t->cfg->database_url, WRK_COMP);
    if (store)
      return store;
    at_warn (WRK_COMP, "msg=\"store unreachable at start, retrying\" stage=%s retry_in_ms=%lld",
             t->stage->name, (long long) backoff);
    for (int64_t until = at_mono_ms () + backoff; !atomic_load (t->stop) && at_mono_ms () < until;)
      usleep (20 * 1000);
    backoff = backoff * 2 > WRK_BACKOFF_MAX_MS ? WRK_BACKOFF_MAX_MS : backoff * 2;
  }
  return NULL;
}

/* The context a stage's thread starts with (no store, no links yet). */
static void
s_ctx_init (wrk_stage_loop_t *loop, wrk_thread_t *t)
{
  loop->thread = t;
  loop->ctx.cfg = t->cfg;
  loop->ctx.stage = t->stage;
  loop->ctx.rng = (uint64_t) at_now_us () ^ ((uint64_t) getpid () << 32) ^ (uintptr_t) t;
  loop->ctx.max_attempts = t->max_attempts;
  loop->ctx.stop = t->stop;
  loop->ctx.reloads = t->reloads;
  loop->ctx.metrics = t->metrics;
  loop->ctx.metrics_index = t->index;
}

/* Connects to the brokers and sizes the rings; AT_ERROR when no link. */
static int
s_links_open (wrk_stage_loop_t *loop, const char *worker_id)
{
  const at_config_t *cfg = loop->thread->cfg;
  loop->links = wrk_links_new (cfg, loop->thread->stage->name, worker_id);
  if (loop->links == NULL)
    return AT_ERROR;
  loop->cap = (size_t) cfg->worker_credit * wrk_links_size (loop->links) + 64;
  loop->pending = at_calloc (loop->cap, sizeof *loop->pending);
  loop->batch = at_calloc ((size_t) cfg->worker_batch, sizeof *loop->batch);
  loop->ctx.links = loop->links;
  loop->ctx.ring = loop->pending;
  loop->ctx.ring_cap = loop->cap;
  loop->ctx.ring_head = &loop->head;
  loop->ctx.ring_count = &loop->count;
  return AT_OK;
}

static int
s_stage_run (wrk_thread_t *t)
{
  const at_config_t *cfg = t->cfg;
  wrk_stage_loop_t loop = {0};
  s_ctx_init (&loop, t);
  int rc = 1;
  bool setup_done = false;
  loop.ctx.store = s_store_connect (t);
  if (loop.ctx.store == NULL) {
    rc = 0;                          /* stopped before the store came up */
    goto out;
  }
  if (t->stage->setup && t->stage->setup (&loop.ctx, &loop.ctx.stage_state) != AT_OK) {
    at_error (WRK_COMP, "msg=\"stage setup failed, exiting\" stage=%s", t->stage->name);
    goto out;
  }
  setup_done = true;
  char host[64] = "host", worker_id[WRK_ID_MAX];
  gethostname (host, sizeof host - 1);
  host[sizeof host - 1] = '\0';
  snprintf (worker_id, sizeof worker_id, "%s-%ld-%s", host, (long) getpid (), t->stage->name);
  if (s_links_open (&loop, worker_id) != AT_OK)
    goto out;
  at_info (WRK_COMP, "msg=\"stage started\" stage=%s worker_id=%s brokers=%zu credit=%ld "
           "batch=%ld", t->stage->name, worker_id, wrk_links_size (loop.links),
           cfg->worker_credit, cfg->worker_batch);
  s_loop_run (&loop);
  rc = 0;
out:
  wrk_metrics_ready (t->metrics, t->index, false);
  loop.ctx.links = NULL;
  wrk_links_destroy (&loop.links, true, WRK_FLUSH_MS);
  if (setup_done && t->stage->teardown)
    t->stage->teardown (&loop.ctx.stage_state);
  at_info (WRK_COMP, "msg=\"stage stopped\" stage=%s done=%llu retried=%llu dead=%llu "
           "stale=%llu batches=%llu rolled_back=%llu lock_conflicts=%llu undecodable=%llu",
           t->stage->name,
           (unsigned long long) loop.ctx.n_done, (unsigned long long) loop.ctx.n_retried,
           (unsigned long long) loop.ctx.n_dead, (unsigned long long) loop.ctx.n_stale,
           (unsigned long long) loop.ctx.n_batches, (unsigned long long) loop.ctx.n_aborted,
           (unsigned long long) loop.ctx.n_conflicts, (unsigned long long) loop.n_undecodable);
  free (loop.batch);
  free (loop.pending);
  at_store_destroy (&loop.ctx.store);
  return rc;
}

static void *
s_thread_main (void *arg)
{
  wrk_thread_t *t = arg;
  t->rc = s_stage_run (t);
  if (t->rc != 0)
    atomic_fetch_add (t->failed, 1);
  atomic_fetch_add (t->finished, 1);
  return NULL;
}

/* ---- wrk_run ---- */

/* "ingest,route" or "all" into stages; AT_INVALID (said on stderr) else. */
static int
s_parse_stages (const char *csv, const wrk_stage_t **stages, size_t *n_out)
{
  *n_out = 0;
  if (csv && strcmp (csv, "all") == 0) {
    for (size_t i = 0; i < WRK_STAGES_MAX; i++)
      stages[i] = s_stages[i];
    *n_out = WRK_STAGES_MAX;
    return AT_OK;
  }
  at_list_t list = {0};
  char why[128];
  if (at_list_parse (&list, csv, AT_LIST_VALUES, why, sizeof why) != AT_OK) {
    fprintf (stderr, "atende worker: stages '%.64s': %s\n", csv, why);
    return AT_INVALID;
  }
  int rc = AT_OK;
  for (size_t k = 0; k < list.n && rc == AT_OK; k++) {
    const char *name = list.items[k].value;
    const wrk_stage_t *stage = wrk_stage_find (name);
    for (size_t i = 0; stage && i < *n_out; i++)
      if (stages[i] == stage) {
        fprintf (stderr, "atende worker: stage '%s' given twice\n", name);
        rc = AT_INVALID;
      }
    if (stage == NULL) {
      fprintf (stderr, "atende worker: unknown stage '%.64s' (use ingest, route, notify, "
               "survey, a comma list of them, or all)\n", name);
      rc = AT_INVALID;
    }
    else if (rc == AT_OK)
      stages[(*n_out)++] = stage;
  }
  at_list_clear (&list);
  if (rc != AT_OK)
    return rc;
  if (*n_out == 0) {
    fprintf (stderr, "atende worker: which stages? (ingest, route, notify, survey or all)\n");
    return AT_INVALID;
  }
  return AT_OK;
}

/* Waits for the threads, turning SIGTERM/SIGINT into the stop flag and a
 * drain deadline. Returns 0, or 1 when a stage failed or the drain overran. */
static int
s_supervise (const at_config_t *cfg, wrk_thread_t *threads, size_t n, atomic_bool *stop,
             atomic_int *finished, atomic_int *failed, const sigset_t *signals)
{
  int64_t deadline = 0;
  while ((size_t) atomic_load (finished) < n) {
    struct timespec wait = {0, 50 * 1000 * 1000};
    int sig = sigtimedwait (signals, NULL, &wait);
    if (sig == SIGHUP && n > 0) {
      atomic_fetch_add (threads[0].reloads, 1);
      at_info (WRK_COMP, "msg=\"reload asked (SIGHUP)\"");
    }
    if (sig == SIGTERM || sig == SIGINT) {
      if (deadline) {
        at_warn (WRK_COMP, "msg=\"second signal, exiting now\" signal=%d", sig);
        _exit (1);
      }
      at_info (WRK_COMP, "msg=\"draining\" signal=%d grace_ms=%ld", sig, cfg->drain_grace_ms);
    }
    if ((sig == SIGTERM || sig == SIGINT || atomic_load (failed) > 0) && deadline == 0) {
      atomic_store (stop, true);
      deadline = at_mono_ms () + cfg->drain_grace_ms;
    }
    if (deadline && at_mono_ms () > deadline) {
      at_error (WRK_COMP, "msg=\"drain grace exceeded, exiting; unsettled messages will be "
                "redelivered\" grace_ms=%ld", cfg->drain_grace_ms);
      _exit (1);
    }
  }
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    pthread_join (threads[i].tid, NULL);
    if (threads[i].rc != 0)
      rc = threads[i].rc;
  }
  return rc;
}

int
wrk_run (const at_config_t *cfg, const char *stages_csv)
{
  const wrk_stage_t *stages[WRK_STAGES_MAX];
  size_t n = 0;
  if (s_parse_stages (stages_csv, stages, &n) != AT_OK)
    return 2;
  const char *names[WRK_STAGES_MAX];
  for (size_t i = 0; i < n; i++)
    names[i] = stages[i]->name;
  /* Blocked before any thread starts (the metrics server's too), so every
   * thread inherits the mask and SIGTERM waits for the supervisor's sigwait:
   * a thread that left it unblocked would take SIGTERM's default action and
   * kill the process without a drain whenever the supervisor was not waiting
   * at that instant. */
  sigset_t signals;
  sigemptyset (&signals);
  sigaddset (&signals, SIGTERM);
  sigaddset (&signals, SIGINT);
  sigaddset (&signals, SIGHUP);
  pthread_sigmask (SIG_BLOCK, &signals, NULL);
  for (size_t i = 0; i < n; i++)
    if (stages[i]->check && stages[i]->check (cfg) != 0)
      return 1;
  wrk_metrics_t *metrics = wrk_metrics_new (cfg, names, n);
  if (metrics == NULL)
    return 1;

  atomic_bool stop = false;
  atomic_uint reloads = 0;
  atomic_int finished = 0, failed = 0;
  wrk_thread_t threads[WRK_STAGES_MAX];
  size_t started = 0;
  for (; started < n; started++) {
    wrk_thread_t *t = &threads[started];
    *t = (wrk_thread_t) {.cfg = cfg, .stage = stages[started], .stop = &stop, .reloads = &reloads,
                         .finished = &finished, .failed = &failed, .metrics = metrics,
                         .index = started,
                         .max_attempts = at_config_max_attempts (cfg, stages[started]->name)};
    if (pthread_create (&t->tid, NULL, s_thread_main, t) != 0) {
      at_error (WRK_COMP, "msg=\"cannot start thread\" stage=%s error=\"%s\"",
                stages[started]->name, strerror (errno));
      break;
    }
  }
  if (started < n) {
    atomic_store (&stop, true);
    for (size_t i = 0; i < started; i++)
      pthread_join (threads[i].tid, NULL);
    wrk_metrics_destroy (&metrics);
    return 1;
  }
  int rc = s_supervise (cfg, threads, n, &stop, &finished, &failed, &signals);
  /* Every socket is closed with a short linger: let the last Settles and
   * Disconnects leave before the process does. */
  zmq_ctx_term (at_bus_zmq_context ());
  wrk_metrics_destroy (&metrics);
  at_info (WRK_COMP, "msg=\"worker stopped\" rc=%d", rc);
  return rc;
}
