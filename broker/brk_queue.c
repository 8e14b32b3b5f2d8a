/* One stage's ready messages in lanes by key (broker/brk_queue.h). */
#include "brk_queue.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  zlistx_t *msgs;          /* of at_msg_t *, owned */
  void *ready;             /* its handle in the ready list, NULL when not in it */
  bool busy;               /* a message of it is out */
} s_lane_t;

struct brk_queue {
  zhashx_t *lanes;         /* key -> s_lane_t, owned */
  zlistx_t *ready;         /* of s_lane_t *: not busy, not empty, in the order they became so */
  size_t size, bytes;
};

static void
s_lane_destroy (void **item)
{
  s_lane_t *lane = *item;
  if (lane == NULL)
    return;
  for (at_msg_t *msg = zlistx_first (lane->msgs); msg; msg = zlistx_next (lane->msgs))
    at_msg_destroy (&msg);
  zlistx_destroy (&lane->msgs);
  free (lane);
  *item = NULL;
}

brk_queue_t *
brk_queue_new (void)
{
  brk_queue_t *self = at_calloc (1, sizeof *self);
  self->lanes = zhashx_new ();
  zhashx_set_destructor (self->lanes, s_lane_destroy);
  self->ready = zlistx_new ();
  return self;
}

void
brk_queue_destroy (brk_queue_t **self_p)
{
  if (self_p == NULL || *self_p == NULL)
    return;
  brk_queue_t *self = *self_p;
  zlistx_destroy (&self->ready);
  zhashx_destroy (&self->lanes);   /* frees the lanes and their messages */
  free (self);
  *self_p = NULL;
}

size_t
brk_queue_size (const brk_queue_t *self)
{
  return self->size;
}

size_t
brk_queue_bytes (const brk_queue_t *self)
{
  return self->bytes;
}

static s_lane_t *
s_lane (brk_queue_t *self, const char *key)
{
  s_lane_t *lane = zhashx_lookup (self->lanes, key);
  if (lane == NULL) {
    lane = at_calloc (1, sizeof *lane);
    lane->msgs = zlistx_new ();
    zhashx_insert (self->lanes, key, lane);
  }
  return lane;
}

/* An empty lane that is not busy is forgotten. */
static void
s_lane_settle (brk_queue_t *self, const char *key, s_lane_t *lane)
{
  if (zlistx_size (lane->msgs) > 0)
    return;
  if (lane->ready) {
    zlistx_delete (self->ready, lane->ready);
    lane->ready = NULL;
  }
  if (!lane->busy)
    zhashx_delete (self->lanes, key);   /* frees lane */
}

void
brk_queue_push (brk_queue_t *self, at_msg_t **msg_p)
{
  at_msg_t *msg = *msg_p;
  s_lane_t *lane = s_lane (self, msg->key);
  zlistx_add_end (lane->msgs, msg);
  self->size++;
  self->bytes += msg->payload_len;
  if (!lane->busy && lane->ready == NULL)
    lane->ready = zlistx_add_end (self->ready, lane);
  *msg_p = NULL;
}

void
brk_queue_push_front (brk_queue_t *self, at_msg_t **msg_p)
{
  at_msg_t *msg = *msg_p;
  s_lane_t *lane = s_lane (self, msg->key);
  zlistx_add_start (lane->msgs, msg);
  self->size++;
  self->bytes += msg->payload_len;
  if (!lane->busy) {
    if (lane->ready)
      zlistx_move_start (self->ready, lane->ready);
    else
      lane->ready = zlistx_add_start (self->ready, lane);
  }
  *msg_p = NULL;
}

at_msg_t *
brk_queue_take (brk_queue_t *self)
{
  s_lane_t *lane = zlistx_first (self->ready);
  if (lane == NULL)
    return NULL;
  at_msg_t *msg = zlistx_first (lane->msgs);
  zlistx_detach_cur (lane->msgs);
  self->size--;
  self->bytes -= msg->payload_len;
  if (msg->key[0] == '\0') {   /* no order: the lane takes its turn again */
    if (zlistx_size (lane->msgs) > 0)
      zlistx_move_end (self->ready, lane->ready);
    else
      s_lane_settle (self, "", lane);
    return msg;
  }
  zlistx_delete (self->ready, lane->ready);
  lane->ready = NULL;
  lane->busy = true;
  return msg;
}

void
brk_queue_free_key (brk_queue_t *self, const char *key)
{
  s_lane_t *lane = zhashx_lookup (self->lanes, key);
  if (lane == NULL || !lane->busy)
    return;
  lane->busy = false;
  if (zlistx_size (lane->msgs) > 0)
    lane->ready = zlistx_add_end (self->ready, lane);
  else
    s_lane_settle (self, key, lane);
}

size_t
brk_queue_remove_key (brk_queue_t *self, const char *key, const char *keep,
                      brk_queue_drop_fn *drop, void *arg)
{
  s_lane_t *lane = zhashx_lookup (self->lanes, key);
  if (lane == NULL)
    return 0;
  size_t n = 0;
  for (at_msg_t *msg = zlistx_first (lane->msgs); msg; msg = zlistx_next (lane->msgs)) {
    if (keep && strcmp (msg->id, keep) == 0)
      continue;
    zlistx_detach_cur (lane->msgs);   /* the cursor moves back: iteration goes on */
    self->size--;
    self->bytes -= msg->payload_len;
    drop (&msg, arg);
    at_msg_destroy (&msg);
    n++;
  }
  s_lane_settle (self, key, lane);
  return n;
}
