/* One stage's FIFO of ready messages (broker/brk_queue.h). */
#include "brk_queue.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

struct brk_queue {
  zlistx_t *list;     /* of at_msg_t *, owned */
  size_t bytes;
};

brk_queue_t *
brk_queue_new (void)
{
  brk_queue_t *self = at_calloc (1, sizeof *self);
  self->list = zlistx_new ();
  return self;
}

void
brk_queue_destroy (brk_queue_t **self_p)
{
  if (self_p == NULL || *self_p == NULL)
    return;
  brk_queue_t *self = *self_p;
  at_msg_t *msg = zlistx_first (self->list);
  while (msg) {
    at_msg_destroy (&msg);
    msg = zlistx_next (self->list);
  }
  zlistx_destroy (&self->list);
  free (self);
  *self_p = NULL;
}

size_t
brk_queue_size (const brk_queue_t *self)
{
  return zlistx_size (self->list);
}

size_t
brk_queue_bytes (const brk_queue_t *self)
{
  return self->bytes;
}

void
brk_queue_push (brk_queue_t *self, at_msg_t **msg_p)
{
  self->bytes += (*msg_p)->payload_len;
  zlistx_add_end (self->list, *msg_p);
  *msg_p = NULL;
}

void
brk_queue_push_front (brk_queue_t *self, at_msg_t **msg_p)
{
  self->bytes += (*msg_p)->payload_len;
  zlistx_add_start (self->list, *msg_p);
  *msg_p = NULL;
}

typedef struct {
  brk_key_busy_fn *busy;
  void *arg;
} s_key_arg_t;

static bool
s_key_busy (const at_msg_t *msg, void *arg)
{
  s_key_arg_t *a = arg;
  return a->busy (msg->key, a->arg);
}

at_msg_t *
brk_queue_take (brk_queue_t *self, size_t lookahead, brk_key_busy_fn *busy, void *arg)
{
  s_key_arg_t a = {busy, arg};
  return brk_queue_take_msg (self, lookahead, busy ? s_key_busy : NULL, &a);
}

at_msg_t *
brk_queue_take_msg (brk_queue_t *self, size_t lookahead, brk_msg_busy_fn *busy, void *arg)
{
  size_t seen = 0;
  for (at_msg_t *msg = zlistx_first (self->list); msg && seen < lookahead;
       msg = zlistx_next (self->list), seen++) {
    if (busy && msg->key[0] && busy (msg, arg))
      continue;
    zlistx_detach_cur (self->list);
    self->bytes -= msg->payload_len;
    return msg;
  }
  return NULL;
}

size_t
brk_queue_remove_key (brk_queue_t *self, const char *key, const char *keep,
                      brk_queue_drop_fn *drop, void *arg)
{
  size_t n = 0;
  for (at_msg_t *msg = zlistx_first (self->list); msg; msg = zlistx_next (self->list)) {
    if (strcmp (msg->key, key) != 0 || (keep && strcmp (msg->id, keep) == 0))
      continue;
    zlistx_detach_cur (self->list);   /* the cursor moves back: iteration goes on */
    self->bytes -= msg->payload_len;
    drop (&msg, arg);
    at_msg_destroy (&msg);
    n++;
  }
  return n;
}
