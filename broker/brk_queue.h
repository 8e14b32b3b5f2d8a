/* brk_queue: one stage's FIFO of ready messages in the broker, bounded by
 * its owner, with a take that skips messages whose key is busy (has a
 * message of the same stage in flight) so per-key order is kept. */
#ifndef BRK_QUEUE_H
#define BRK_QUEUE_H

#include "at_msg.h"

typedef struct brk_queue brk_queue_t;

/* True when messages of `key` must not be delivered now. */
typedef bool (brk_key_busy_fn) (const char *key, void *arg);
/* True when `msg` must not be delivered now (its key is busy for it). */
typedef bool (brk_msg_busy_fn) (const at_msg_t *msg, void *arg);
/* Receives a message removed from the queue (takes ownership). */
typedef void (brk_queue_drop_fn) (at_msg_t **msg_p, void *arg);

brk_queue_t *brk_queue_new (void);
/* Destroys the queue and the messages it holds. */
void brk_queue_destroy (brk_queue_t **self_p);

size_t brk_queue_size (const brk_queue_t *self);
/* Payload bytes held. */
size_t brk_queue_bytes (const brk_queue_t *self);

/* Appends (push) or prepends (push_front, for redelivery); takes ownership. */
void brk_queue_push (brk_queue_t *self, at_msg_t **msg_p);
void brk_queue_push_front (brk_queue_t *self, at_msg_t **msg_p);

/* Removes and returns the first message among the first `lookahead` whose
 * key is not busy (busy NULL: none is). An empty key is never busy.
 * NULL when there is none. */
at_msg_t *brk_queue_take (brk_queue_t *self, size_t lookahead, brk_key_busy_fn *busy, void *arg);
/* The same, asking about each message (with a non-empty key) rather than
 * its key. */
at_msg_t *brk_queue_take_msg (brk_queue_t *self, size_t lookahead, brk_msg_busy_fn *busy,
                              void *arg);

/* Removes every message of `key` except the one with id `keep` (may be
 * NULL) and hands each to drop, in queue order. Returns how many. */
size_t brk_queue_remove_key (brk_queue_t *self, const char *key, const char *keep,
                             brk_queue_drop_fn *drop, void *arg);

#endif
