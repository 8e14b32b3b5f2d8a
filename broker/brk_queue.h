/* brk_queue: one stage's ready messages in the broker, bounded by its
 * owner, in lanes by key. Each lane is FIFO. A lane is busy from the take
 * of one of its messages until its owner frees the key (that message was
 * settled or came back), so a key has at most one message out at a time
 * and keeps its order; take serves the lanes that are not busy in the
 * order they became ready, so one key's backlog never hides another key's
 * messages. The empty key has no order: its lane is never busy. */
#ifndef BRK_QUEUE_H
#define BRK_QUEUE_H

#include "at_msg.h"

typedef struct brk_queue brk_queue_t;

/* Receives a message removed from the queue (takes ownership). */
typedef void (brk_queue_drop_fn) (at_msg_t **msg_p, void *arg);

brk_queue_t *brk_queue_new (void);
/* Destroys the queue and the messages it holds. */
void brk_queue_destroy (brk_queue_t **self_p);
size_t brk_queue_size (const brk_queue_t *self);
/* Payload bytes held. */
size_t brk_queue_bytes (const brk_queue_t *self);
/* Appends to its key's lane; takes ownership. */
void brk_queue_push (brk_queue_t *self, at_msg_t **msg_p);
/* Prepends to its key's lane (a message that came back for redelivery),
 * and that lane, when not busy, is served first; takes ownership. */
void brk_queue_push_front (brk_queue_t *self, at_msg_t **msg_p);
/* Removes and returns the first message of the first ready lane, NULL when
 * no lane is ready. Its lane (a non-empty key) is busy from now on. */
at_msg_t *brk_queue_take (brk_queue_t *self);
/* The key's message out is settled: its lane is ready again (last). */
void brk_queue_free_key (brk_queue_t *self, const char *key);
/* Removes every message of `key` except the one with id `keep` (may be
 * NULL) and hands each to drop, in queue order. Returns how many. */
size_t brk_queue_remove_key (brk_queue_t *self, const char *key, const char *keep,
                             brk_queue_drop_fn *drop, void *arg);
#endif
