/* bench_bus's tiny stage (bench/bench_bus_tiny.c): one effect row per
 * message, run by the worker's own batch code (wrk_batch_run: one
 * transaction, the effects, the fenced DELETE of the bus rows), in consumer
 * threads of bench_bus speaking the worker side of the protocol. */
#ifndef BENCH_BUS_TINY_H
#define BENCH_BUS_TINY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

typedef struct {
  const char *db;          /* conninfo */
  const char *endpoint;    /* the broker it takes from */
  bool each;               /* --effects each: one INSERT per message, not the stage's flush */
  atomic_bool stop;
  pthread_t thread;
} bench_tiny_t;

/* Starts a consumer thread; it exits the program if it cannot start. */
void bench_tiny_start (bench_tiny_t *t);
/* Stops it and waits for it. */
void bench_tiny_stop (bench_tiny_t *t);
/* Messages all consumers committed as done so far. */
long bench_tiny_done (void);

#endif
