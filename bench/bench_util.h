/* bench_util: what the benchmarks share: flags, spawning `atende`, a
 * protocol-speaking consumer (Ready, Deliver, Settle), percentiles.
 * Header only (static functions); each benchmark is one program. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "at_common.h"
#include "at_msg.h"
#include "at_proc.h"
#include "at_zmq.h"

#define BENCH_UNUSED __attribute__ ((unused))

/* Prints the command line, so a figure can be reproduced. */
static BENCH_UNUSED void
bench_print_cmdline (int argc, char **argv)
{
  printf ("command:");
  for (int i = 0; i < argc; i++)
    printf (" %s", argv[i]);
  printf ("\n");
  fflush (stdout);
}

/* --name value: the long value of a flag, or def; exits on a bad value. */
static BENCH_UNUSED long
bench_flag_long (int argc, char **argv, const char *name, long def, long lo, long hi)
{
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp (argv[i], name) == 0) {
      long v = 0;
      if (at_parse_long (argv[i + 1], lo, hi, &v) != AT_OK) {
        fprintf (stderr, "%s: %s takes a number in %ld..%ld\n", argv[0], name, lo, hi);
        exit (2);
      }
      return v;
    }
  return def;
}

static BENCH_UNUSED const char *
bench_flag_str (int argc, char **argv, const char *name, const char *def)
{
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp (argv[i], name) == 0)
      return argv[i + 1];
  return def;
}

static BENCH_UNUSED double
bench_secs (int64_t from_us, int64_t to_us)
{
  return (double) (to_us - from_us) / 1e6;
}

static BENCH_UNUSED int
bench_cmp_i64 (const void *a, const void *b)
{
  int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
  return x < y ? -1 : x > y;
}

/* The p-th percentile (0..100) of n sorted values. */
static BENCH_UNUSED int64_t
bench_percentile (const int64_t *sorted, size_t n, double p)
{
  if (n == 0)
    return 0;
  size_t i = (size_t) (p / 100.0 * (double) (n - 1) + 0.5);
  return sorted[i < n ? i : n - 1];
}

/* --- a consumer speaking the worker side of the protocol: Ready with a
 * large credit, counts what is delivered, Settles it as done at once. */

typedef struct {
  const char *endpoint;
  const at_bus_curve_t *curve;   /* NULL: plain (the benchmarks' brokers run without CURVE) */
  const char *stage;
  atomic_long received;
  atomic_bool stop;
  int64_t last_us;           /* when the last envelope came */
} bench_consumer_t;

static BENCH_UNUSED int
bench_send_ready (void *sock, const char *stage, uint32_t credit)
{
  Atende__Bus__Command cmd = ATENDE__BUS__COMMAND__INIT;
  Atende__Bus__Ready ready = ATENDE__BUS__READY__INIT;
  char *stages[] = {(char *) stage};
  ready.n_stages = 1;
  ready.stages = stages;
  ready.credit = credit;
  ready.worker_id = "bench-consumer";
  cmd.body_case = ATENDE__BUS__COMMAND__BODY_READY;
  cmd.ready = &ready;
  return at_bus_cmd_send (sock, &cmd, 0);
}

static BENCH_UNUSED void
bench_send_heartbeat (void *sock)
{
  Atende__Bus__Command cmd = ATENDE__BUS__COMMAND__INIT;
  Atende__Bus__Heartbeat hb = ATENDE__BUS__HEARTBEAT__INIT;
  cmd.body_case = ATENDE__BUS__COMMAND__BODY_HEARTBEAT;
  cmd.heartbeat = &hb;
  at_bus_cmd_send (sock, &cmd, ZMQ_DONTWAIT);
}

/* Settles every envelope of a Deliver as done. */
static BENCH_UNUSED void
bench_settle (void *sock, const Atende__Bus__Deliver *d)
{
  char **ids = malloc ((d->n_envelopes ? d->n_envelopes : 1) * sizeof *ids);
  if (!ids)
    return;
  for (size_t i = 0; i < d->n_envelopes; i++)
    ids[i] = d->envelopes[i]->id;
  Atende__Bus__Command cmd = ATENDE__BUS__COMMAND__INIT;
  Atende__Bus__Settle settle = ATENDE__BUS__SETTLE__INIT;
  settle.n_done = d->n_envelopes;
  settle.done = ids;
  cmd.body_case = ATENDE__BUS__COMMAND__BODY_SETTLE;
  cmd.settle = &settle;
  at_bus_cmd_send (sock, &cmd, 0);
  free (ids);
}

static BENCH_UNUSED void *
bench_consumer_main (void *arg)
{
  bench_consumer_t *c = arg;
  void *sock = at_bus_dealer_new (c->endpoint, c->curve);
  if (!sock || bench_send_ready (sock, c->stage, 100000) != AT_OK) {
    fprintf (stderr, "bench consumer: cannot reach %s\n", c->endpoint);
    at_bus_socket_close (&sock);
    return NULL;
  }
  int64_t beat = 0;
  while (!atomic_load (&c->stop)) {
    if (at_mono_ms () >= beat) {
      bench_send_heartbeat (sock);
      beat = at_mono_ms () + 200;
    }
    zmq_pollitem_t pi = {sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll (&pi, 1, 50) <= 0)
      continue;
    Atende__Bus__Command *cmd = NULL;
    char reason[128];
    while (at_bus_cmd_recv (sock, &cmd, ZMQ_DONTWAIT, reason, sizeof reason) == AT_OK) {
      if (cmd->body_case == ATENDE__BUS__COMMAND__BODY_DELIVER) {
        bench_settle (sock, cmd->deliver);
        atomic_fetch_add (&c->received, (long) cmd->deliver->n_envelopes);
        c->last_us = at_mono_us ();
      }
      else if (cmd->body_case == ATENDE__BUS__COMMAND__BODY_RECONNECT)
        bench_send_ready (sock, c->stage, 100000);
      atende__bus__command__free_unpacked (cmd, NULL);
      cmd = NULL;
    }
  }
  at_bus_socket_close (&sock);
  return NULL;
}

#endif
