/* bench_bus's tiny stage: see bench_bus_tiny.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_bus_tiny.h"
#include "bench_util.h"
#include "at_msg_pb.h"
#include "at_store.h"
#include "at_store_bench.h"
#include "wrk_int.h"


#define S_TINY_BATCH 512             /* read no more once a batch has this many */
#define S_TINY_CREDIT 1024           /* held at most: a batch never exceeds it */

static atomic_long s_tiny_done;      /* messages the tiny consumers committed as done */

/* The effects of the messages handled since the last flush. */
typedef struct {
  const char *ids[S_TINY_CREDIT];
  size_t n;
  bool each;           /* one INSERT per message in handle instead */
} s_tiny_buf_t;

static int
s_tiny_setup (wrk_ctx_t *ctx, void **state)
{
  (void) ctx;
  *state = at_calloc (1, sizeof (s_tiny_buf_t));
  return AT_OK;
}

static void
s_tiny_teardown (void **state)
{
  free (*state);
  *state = NULL;
}

static int
s_tiny_handle (wrk_ctx_t *ctx, wrk_msg_t *m)
{
  s_tiny_buf_t *buf = wrk_ctx_stage_state (ctx);
  if (!buf->each && buf->n < S_TINY_CREDIT) {
    buf->ids[buf->n++] = m->msg->id;   /* the item outlives the flush */
    return AT_OK;
  }
  return at_store_bench_effect_add (wrk_ctx_store (ctx), m->msg->id) == AT_OK ? AT_OK : AT_AGAIN;
}

/* The buffered effect rows in one INSERT, in the batch's transaction. */
static int
s_tiny_flush (wrk_ctx_t *ctx, bool write)
{
  s_tiny_buf_t *buf = wrk_ctx_stage_state (ctx);
  int rc = AT_OK;
  if (write && buf->n > 0)
    rc = at_store_bench_effect_add_many (wrk_ctx_store (ctx), buf->ids, buf->n) == AT_OK
           ? AT_OK : AT_AGAIN;
  buf->n = 0;
  return rc;
}

static const wrk_stage_t s_tiny_stage = {.name = AT_STAGE_INGEST, .setup = s_tiny_setup,
                                         .teardown = s_tiny_teardown, .handle = s_tiny_handle,
                                         .flush = s_tiny_flush};

static void
s_tiny_settle (void *sock, wrk_item_t *items, size_t n)
{
  char *done[S_TINY_CREDIT], *released[S_TINY_CREDIT];
  size_t nd = 0, nr = 0;
  for (size_t i = 0; i < n; i++) {
    if (items[i].outcome == WRK_OUT_DONE)
      done[nd++] = items[i].m.msg->id;
    else
      released[nr++] = items[i].m.msg->id;
  }
  Atende__Bus__Command cmd = ATENDE__BUS__COMMAND__INIT;
  Atende__Bus__Settle settle = ATENDE__BUS__SETTLE__INIT;
  settle.n_done = nd;
  settle.done = done;
  settle.n_released = nr;
  settle.released = released;
  cmd.body_case = ATENDE__BUS__COMMAND__BODY_SETTLE;
  cmd.settle = &settle;
  at_bus_cmd_send (sock, &cmd, 0);
}

/* Takes what is waiting into items: whole Delivers, until S_TINY_BATCH
 * (everything delivered is held until settled, and the credit bounds it). */
static size_t
s_tiny_take (void *sock, wrk_item_t *items)
{
  size_t n = 0;
  Atende__Bus__Command *cmd = NULL;
  char reason[128];
  while (n < S_TINY_BATCH
         && at_bus_cmd_recv (sock, &cmd, ZMQ_DONTWAIT, reason, sizeof reason) == AT_OK) {
    if (cmd->body_case == ATENDE__BUS__COMMAND__BODY_DELIVER)
      for (size_t i = 0; i < cmd->deliver->n_envelopes && n < S_TINY_CREDIT; i++) {
        memset (&items[n], 0, sizeof items[n]);
        if (at_msg_from_pb (cmd->deliver->envelopes[i], &items[n].m.msg, reason,
                            sizeof reason) == AT_OK)
          n++;
      }
    else if (cmd->body_case == ATENDE__BUS__COMMAND__BODY_RECONNECT)
      bench_send_ready (sock, AT_STAGE_INGEST, S_TINY_CREDIT);
    atende__bus__command__free_unpacked (cmd, NULL);
    cmd = NULL;
  }
  return n;
}

static void *
s_tiny_main (void *arg)
{
  bench_tiny_t *t = arg;
  at_config_t *cfg = at_config_from_env ();
  at_bus_curve_t curve;
  void *sock = at_bus_dealer_new (t->endpoint, at_bus_curve_of (cfg, &curve));
  wrk_ctx_t ctx = {.cfg = cfg, .stage = &s_tiny_stage, .rng = 11};
  ctx.store = at_store_new (t->db, "bench-tiny");
  if (!sock || !ctx.store || s_tiny_stage.setup (&ctx, &ctx.stage_state) != AT_OK
      || bench_send_ready (sock, AT_STAGE_INGEST, S_TINY_CREDIT) != AT_OK) {
    fprintf (stderr, "bench_bus: tiny consumer cannot start\n");
    exit (1);
  }
  ((s_tiny_buf_t *) ctx.stage_state)->each = t->each;
  static __thread wrk_item_t items[S_TINY_CREDIT];
  int64_t beat = 0;
  while (!atomic_load (&t->stop)) {
    if (at_mono_ms () >= beat) {
      bench_send_heartbeat (sock);
      beat = at_mono_ms () + 300;
    }
    zmq_pollitem_t pi = {sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll (&pi, 1, 50) <= 0)
      continue;
    size_t n = s_tiny_take (sock, items);
    if (n == 0)
      continue;
    if (wrk_batch_run (&ctx, items, n) != AT_OK && !at_store_ok (ctx.store))
      at_store_reconnect (ctx.store);
    long done = 0;
    for (size_t i = 0; i < n; i++)
      done += items[i].outcome == WRK_OUT_DONE;
    atomic_fetch_add (&s_tiny_done, done);
    s_tiny_settle (sock, items, n);
    for (size_t i = 0; i < n; i++)
      wrk_item_clear (&items[i]);
  }
  s_tiny_stage.teardown (&ctx.stage_state);
  at_store_destroy (&ctx.store);
  at_bus_socket_close (&sock);
  at_config_destroy (&cfg);
  return NULL;
}

void
bench_tiny_start (bench_tiny_t *t)
{
  atomic_store (&t->stop, false);
  pthread_create (&t->thread, NULL, s_tiny_main, t);
}

void
bench_tiny_stop (bench_tiny_t *t)
{
  atomic_store (&t->stop, true);
  pthread_join (t->thread, NULL);
}

long
bench_tiny_done (void)
{
  return atomic_load (&s_tiny_done);
}
