/* The broker's sweep: finds in PostgreSQL the messages it does not hold
 * (after a restart, a spill past its queue, a retry coming due, a blocker
 * gone) and queues each key's run in order (broker/brk_order.c). */
#include "brk_server.h"
#include "at_log.h"
#include "at_store_bus.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_UNBLOCKED_SWEEP_MS 20   /* earliest re-sweep after a key's blocker finished */
#define S_MORE_SWEEP_MS 5         /* earliest re-sweep when the last one left rows behind */
#define S_SWEEP_RUN_MAX 1024      /* rows of one key a sweep reads, at most */

/* One row the sweep found (store_bus.c, SQL_BUS_READY_IDS): rows of a key
 * come together, its head first, in insertion order. */
typedef struct {
  char id[AT_ID_LEN];
  char key[AT_KEY_LEN];
  bool stops;          /* waits for a retry, or lies past the run: it and the rest wait */
  bool held;           /* queued or in flight here already */
  bool wanted;         /* to be read and queued (there is room for it) */
  at_msg_t *msg;       /* read: owned here until queued */
} s_row_t;

typedef struct {
  brk_t *self;
  s_row_t *rows;
  size_t n, cap;
  zhashx_t *wanted;    /* id -> row, of the rows to read */
  int keys;            /* runs found */
} s_sweep_t;

static void
s_sweep_row (const char *id, const char *key, bool stops, void *arg)
{
  s_sweep_t *sw = arg;
  if (sw->n == sw->cap) {
    sw->cap = sw->cap ? sw->cap * 2 : 256;
    sw->rows = at_realloc (sw->rows, sw->cap * sizeof *sw->rows);
  }
  s_row_t *row = &sw->rows[sw->n++];
  memset (row, 0, sizeof *row);
  if (at_strlcpy (row->id, id, sizeof row->id) >= sizeof row->id
      || at_strlcpy (row->key, key, sizeof row->key) >= sizeof row->key)
    row->stops = true;   /* cannot be a message of ours: its key waits */
  else
    row->stops = stops;
  row->held = zhashx_lookup (sw->self->known, id) != NULL;
  if (key[0] == '\0' || sw->n == 1 || strcmp (sw->rows[sw->n - 2].key, key) != 0)
    sw->keys++;
}

/* A row read back: it joins its place in rows. */
static void
s_sweep_msg (at_msg_t **msg_p, void *arg)
{
  s_sweep_t *sw = arg;
  s_row_t *row = zhashx_lookup (sw->wanted, (*msg_p)->id);
  if (row && row->msg == NULL) {
    (*msg_p)->not_before_us = 0;   /* due by the database's clock */
    row->msg = *msg_p;
    *msg_p = NULL;
  }
}

/* One key's run in the sweep's rows: [first, end), and how far it got. */
typedef struct {
  size_t first, end, at;
  bool loaded;         /* rows of it were queued */
  bool stop;           /* a row of it stays in PostgreSQL */
  bool more;           /* ... for want of room or length: sweep again soon */
  bool cut_held;       /* it ends at a row past its length that is held */
  bool over;
} s_run_t;

/* One step of a run: past the rows it holds, queues the next (or stops). */
static void
s_run_step (brk_t *self, const char *stage, s_row_t *rows, s_run_t *r, int run)
{
  while (r->at < r->end && rows[r->at].held && !rows[r->at].stops)
    r->at++;
  if (r->at >= r->end) {
    r->over = true;
    return;
  }
  s_row_t *row = &rows[r->at];
  bool past_run = r->at - r->first >= (size_t) run;
  r->at++;
  if (row->held)   /* and stops: what follows it is held too, or blocked already */
    r->cut_held = r->over = true;
  else if (row->stops || !row->wanted) {
    r->stop = r->over = true;
    r->more = past_run || !row->stops;   /* past the run, or no room: not a retry */
  }
  else if (row->msg) {   /* NULL: done since it was listed */
    if (!r->loaded)
      brk_key_set (self, stage, row->key, NULL);   /* all before it is held */
    r->loaded = true;
    brk_enqueue_swept (self, &row->msg);
    if (zhashx_lookup (self->known, row->id) == NULL)   /* it did not fit */
      r->stop = r->more = r->over = true;
  }
}

/* Queues the runs the sweep found, one row of each in turn, so that the
 * queue's lanes fill evenly, each key's rows in order. The rows a broker holds of a key
 * are always its oldest, up to its blocker if it has one. So for each run:
 *   - held whole: the key is free;
 *   - rows of it loaded, and a row after them stays in PostgreSQL (it waits
 *     for a retry, lies past the run or the room, or did not fit): the key
 *     is blocked by BRK_KEY_IN_STORE, which no Settle clears, only a later
 *     sweep of that key, so nothing newer of it (a confirmed publish, a
 *     produced message) is queued ahead of those rows;
 *   - nothing loaded and cut at a row it holds: as it was.
 * True when rows were left behind for want of room or length. */
static bool
s_sweep_runs (brk_t *self, const char *stage, s_row_t *rows, s_run_t *runs, size_t n_runs,
              int run)
{
  for (bool active = true; active;) {
    active = false;
    for (size_t i = 0; i < n_runs; i++)
      if (!runs[i].over) {
        if (rows[runs[i].first].key[0] == '\0') {   /* no order: one row */
          if (rows[runs[i].first].msg)
            brk_enqueue_swept (self, &rows[runs[i].first].msg);
          runs[i].over = true;
          continue;
        }
        s_run_step (self, stage, rows, &runs[i], run);
        active = true;
      }
  }
  bool more = false;
  for (size_t i = 0; i < n_runs; i++) {
    s_run_t *r = &runs[i];
    const char *key = rows[r->first].key;
    if (key[0] == '\0')
      continue;
    if (r->stop || (r->loaded && r->cut_held))   /* past the cut: unknown */
      brk_key_set (self, stage, key, BRK_KEY_IN_STORE);
    else if (!r->cut_held)
      brk_key_set (self, stage, key, NULL);   /* the whole run is held */
    more |= r->more || (r->loaded && r->cut_held);
  }
  return more;
}

/* The room goes to the runs a row of each at a time, as they are queued:
 * each run's wanted rows are its first ones it does not hold. */
static size_t
s_sweep_want (s_row_t *rows, s_run_t *runs, size_t n_runs, size_t room, const char **ids)
{
  size_t want = 0;
  for (bool active = true; active && want < room;) {
    active = false;
    for (size_t i = 0; i < n_runs && want < room; i++) {
      s_run_t *r = &runs[i];
      while (r->at < r->end && rows[r->at].held && !rows[r->at].stops)
        r->at++;
      if (r->over || r->at >= r->end || rows[r->at].stops) {
        r->over = true;
        continue;
      }
      rows[r->at].wanted = true;
      ids[want++] = rows[r->at].id;
      r->at++;
      active = true;
      if (rows[r->first].key[0] == '\0')
        r->over = true;
    }
  }
  for (size_t i = 0; i < n_runs; i++) {   /* for s_sweep_runs */
    runs[i].at = runs[i].first;
    runs[i].over = false;
  }
  return want;
}

/* Catching up ends when every row of the stage that takes part in key
 * order is held (queued or in flight) or blocks its key in memory: from
 * then on nothing of a key can be queued ahead of an older row. */
static void
s_catch_up (brk_t *self, int s)
{
  brk_stage_t *stage = &self->stages[s];
  size_t prefix = strlen (stage->name);
  int64_t held = (int64_t) (brk_queue_size (stage->queue) + stage->in_flight);
  for (const char *id = zhashx_first (self->blocked); id; id = zhashx_next (self->blocked)) {
    const char *name = zhashx_cursor (self->blocked);
    if (strncmp (name, stage->name, prefix) == 0 && name[prefix] == '\x1f'
        && zhashx_lookup (self->known, id) == NULL)
      held++;
  }
  int64_t count = 0;
  if (at_store_bus_ordered_count (self->store, stage->name, (int) self->cfg->broker_index,
                                  held + 1, &count) != AT_OK) {
    brk_store_lost (self);
    return;
  }
  if (count <= held) {
    stage->catching_up = false;
    at_info ("broker", "msg=\"caught up\" stage=%s held=%" PRId64, stage->name, held);
  }
}

/* Runs: what the stage holds (each key's run starts with its rows held,
 * queued or in flight) and about twice the room, over the keys the last
 * sweep found (heads only until then), so that a sweep reads a bounded
 * number of rows and reaches past what it holds (runs of the room alone,
 * no longer than the rows held of their keys, loaded nothing). */
static size_t
s_run_length (const brk_stage_t *stage, size_t room, size_t queued)
{
  size_t reach = room * 2 + queued + stage->in_flight;
  size_t run = stage->sweep_keys > 0 ? reach / (size_t) stage->sweep_keys : 1;
  return run < 1 ? 1 : run > S_SWEEP_RUN_MAX ? S_SWEEP_RUN_MAX : run;
}

void
brk_sweep (brk_t *self)
{
  for (int s = 0; s < BRK_STAGES && self->durable && brk_store_up (self); s++) {
    brk_stage_t *stage = &self->stages[s];
    size_t queued = brk_queue_size (stage->queue);
    size_t cap = (size_t) self->cfg->broker_queue_cap;
    /* Rows known to wait (the last sweep left some behind) are read once
     * there is room for half a queue of them: a sweep reads about as much
     * to load a few rows as to load thousands. */
    if (queued >= cap || (stage->sweep_more && !stage->unblocked && queued >= cap / 2))
      continue;
    stage->unblocked = false;
    stage->swept_ms = at_mono_ms ();
    /* Heads: the oldest are those the broker holds, look past them. */
    size_t room = cap - queued, heads = room + stage->in_flight;   /* in flight: the oldest */
    if (heads > 10000000)
      heads = 10000000;
    size_t run = s_run_length (stage, room, queued);
    s_sweep_t sw = {.self = self};
    int rc = at_store_bus_ready_ids (self->store, stage->name, (int) self->cfg->broker_index,
                                     (int) heads, (int) run, s_sweep_row, &sw);
    /* the runs: consecutive rows of one key (an empty key: a row alone) */
    s_run_t *runs = at_calloc (sw.n ? sw.n : 1, sizeof *runs);
    size_t n_runs = 0;
    for (size_t i = 0; rc == AT_OK && i < sw.n;) {
      size_t end = i + 1;
      while (end < sw.n && sw.rows[i].key[0] != '\0'
             && strcmp (sw.rows[end].key, sw.rows[i].key) == 0)
        end++;
      runs[n_runs++] = (s_run_t) {.first = i, .end = end, .at = i};
      i = end;
    }
    const char **ids = at_calloc (sw.n ? sw.n : 1, sizeof *ids);
    size_t want = s_sweep_want (sw.rows, runs, n_runs, room, ids);
    sw.wanted = zhashx_new ();
    for (size_t i = 0; i < sw.n; i++)
      if (sw.rows[i].wanted)
        zhashx_insert (sw.wanted, sw.rows[i].id, &sw.rows[i]);
    if (rc == AT_OK && want > 0)
      rc = at_store_bus_fetch (self->store, ids, want, s_sweep_msg, &sw);
    zhashx_destroy (&sw.wanted);
    free (ids);
    bool cut = rc == AT_OK && s_sweep_runs (self, stage->name, sw.rows, runs, n_runs, (int) run);
    free (runs);
    for (size_t i = 0; i < sw.n; i++)
      at_msg_destroy (&sw.rows[i].msg);
    free (sw.rows);
    stage->sweep_keys = sw.keys;
    stage->sweep_took_ms = at_mono_ms () - stage->swept_ms;
    stage->sweep_more = rc == AT_OK && (want >= room || (size_t) sw.keys >= heads || cut);
    if (rc != AT_OK)
      brk_store_lost (self);
    else if (want > 0)
      at_debug ("broker", "msg=\"sweep\" stage=%s rows=%zu keys=%d loaded=%zu run=%zu"
                " took_ms=%" PRId64, stage->name, sw.n, sw.keys, want, run, stage->sweep_took_ms);
    if (rc == AT_OK && stage->catching_up)
      s_catch_up (self, s);
  }
}

bool
brk_sweep_due (const brk_t *self)
{
  int64_t now = at_mono_ms ();
  for (int s = 0; s < BRK_STAGES; s++) {
    const brk_stage_t *st = &self->stages[s];
    /* rows were left behind: again once the queue is half empty; a key's
     * followers wait in PostgreSQL: soon. Either way at most a fifth of the
     * loop's time goes to sweeps. */
    int64_t pause = st->sweep_took_ms * 4;
    if (st->sweep_more && brk_queue_size (st->queue) < (size_t) self->cfg->broker_queue_cap / 2
        && now - st->swept_ms >= (pause > S_MORE_SWEEP_MS ? pause : S_MORE_SWEEP_MS))
      return true;
    if (st->unblocked && now - st->swept_ms >= (pause > S_UNBLOCKED_SWEEP_MS ? pause
                                                                         : S_UNBLOCKED_SWEEP_MS))
      return true;
  }
  return false;
}
