/* bench_dispatch: the broker's dispatch without durability against raw
 * libzmq PUSH/PULL, in the same run, with the same message size.
 *
 *   raw:    one PUSH socket sends N messages of --size bytes over TCP
 *           loopback to one PULL socket (a thread of this process).
 *   broker: `atende broker` with ATENDE_BROKER_DURABLE=0 (confirms on
 *           receipt, never touches PostgreSQL); --publishers threads of
 *           this process publish N envelopes of --size payload bytes in
 *           batches of --batch (at_publisher: Publish, wait for Confirm);
 *           a consumer thread speaks the worker side (Ready, Deliver,
 *           Settle). The clock runs from the first publish to the last
 *           envelope delivered.
 * Prints msg/s of each and the ratio. Target (../shared/design.md):
 * >= 500k msg/s and >= 25% of raw libzmq.
 *
 *   bench_dispatch --atende PATH [--messages N] [--size B] [--batch B]
 *                  [--publishers P] */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/wait.h>
#include "bench_util.h"
#include "at_publisher.h"
#include "at_config.h"
#include "at_proc.h"

typedef struct {
  long messages;
  long size;
  char endpoint[64];
} s_raw_t;

static void *
s_raw_pull (void *arg)
{
  s_raw_t *r = arg;
  void *ctx = zmq_ctx_new ();
  void *pull = zmq_socket (ctx, ZMQ_PULL);
  zmq_connect (pull, r->endpoint);
  char buf[65536];
  for (long i = 0; i < r->messages; i++)
    if (zmq_recv (pull, buf, sizeof buf, 0) < 0 && errno != EINTR)
      break;
  zmq_close (pull);
  zmq_ctx_term (ctx);
  return NULL;
}

/* Raw libzmq PUSH -> PULL: msg/s. */
static double
s_raw (long messages, long size)
{
  s_raw_t r = {.messages = messages, .size = size};
  snprintf (r.endpoint, sizeof r.endpoint, "tcp://127.0.0.1:%d", at_proc_free_port ());
  void *ctx = zmq_ctx_new ();
  void *push = zmq_socket (ctx, ZMQ_PUSH);
  if (zmq_bind (push, r.endpoint) != 0) {
    fprintf (stderr, "bench_dispatch: bind %s: %s\n", r.endpoint, zmq_strerror (errno));
    exit (1);
  }
  char *payload = calloc (1, (size_t) size);
  pthread_t t;
  pthread_create (&t, NULL, s_raw_pull, &r);
  int64_t start = at_mono_us ();
  for (long i = 0; i < messages; i++)
    zmq_send (push, payload, (size_t) size, 0);
  pthread_join (t, NULL);
  int64_t end = at_mono_us ();
  free (payload);
  zmq_close (push);
  zmq_ctx_term (ctx);
  return (double) messages / bench_secs (start, end);
}

typedef struct {
  long messages;   /* this publisher's share */
  long size, batch;
  int index;
  atomic_long *confirmed;
} s_pub_t;

static void *
s_publisher (void *arg)
{
  s_pub_t *p = arg;
  at_config_t *cfg = at_config_from_env ();
  at_publisher_t *pub = cfg ? at_publisher_new (cfg) : NULL;
  if (!pub) {
    fprintf (stderr, "bench_dispatch: no publisher\n");
    exit (1);
  }
  uint8_t *payload = calloc (1, (size_t) p->size);
  at_msg_t **msgs = calloc ((size_t) p->batch, sizeof *msgs);
  for (long i = 0; i < p->batch; i++) {
    char key[32];
    snprintf (key, sizeof key, "k-%d-%ld", p->index, i);   /* distinct keys: no per-key wait */
    msgs[i] = at_msg_new (AT_STAGE_INGEST, AT_TYPE_INBOUND_MESSAGE, key, NULL, payload,
                          (size_t) p->size);
  }
  for (long sent = 0; sent < p->messages;) {
    long n = p->messages - sent < p->batch ? p->messages - sent : p->batch;
    for (long i = 0; i < n; i++)
      at_uuid_v7 (msgs[i]->id);   /* a fresh id per message */
    int retry_after = 0, rc = at_publisher_send (pub, msgs, (size_t) n, &retry_after);
    if (rc == AT_OK) {
      sent += n;
      atomic_fetch_add (p->confirmed, n);
    }
    else if (rc == AT_INVALID) {
      fprintf (stderr, "bench_dispatch: publish refused\n");
      exit (1);
    }
    else
      usleep ((useconds_t) (retry_after > 0 ? retry_after : 1) * 1000);
  }
  for (long i = 0; i < p->batch; i++)
    at_msg_destroy (&msgs[i]);
  free (msgs);
  free (payload);
  at_publisher_destroy (&pub);
  at_config_destroy (&cfg);
  return NULL;
}

static pid_t
s_broker_spawn (const char *atende, const char *endpoint)
{
  static char bind[96], eps[96];
  snprintf (bind, sizeof bind, "ATENDE_BROKER_BIND=%s", endpoint);
  snprintf (eps, sizeof eps, "ATENDE_BROKER_ENDPOINTS=%s", endpoint);
  char *argv[] = {(char *) atende, "broker", NULL};
  char *env[] = {bind, eps, "ATENDE_BROKER_DURABLE=0", "ATENDE_BROKER_BENCHMARK=1",
                 "ATENDE_BROKER_METRICS_PORT=0", "ATENDE_BROKER_QUEUE_CAP=1000000",
                 "ATENDE_BUS_BACKLOG_MAX=100000000", "ATENDE_LOG_LEVEL=warn", NULL};
  pid_t pid = at_proc_spawn (argv, env, "bench_dispatch_broker.log");
  if (pid < 0) {
    fprintf (stderr, "bench_dispatch: cannot start %s broker\n", atende);
    exit (1);
  }
  return pid;
}

/* Through the broker (non-durable): msg/s from first publish to last delivery. */
static double
s_broker (const char *atende, long messages, long size, long batch, int publishers)
{
  char endpoint[64];
  snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", at_proc_free_port ());
  pid_t broker = s_broker_spawn (atende, endpoint);
  setenv ("ATENDE_BROKER_ENDPOINTS", endpoint, 1);
  setenv ("ATENDE_PUBLISH_TIMEOUT_MS", "10000", 1);
  static bench_consumer_t consumer = {.stage = AT_STAGE_INGEST};
  consumer.endpoint = endpoint;
  pthread_t ct;
  pthread_create (&ct, NULL, bench_consumer_main, &consumer);
  /* warm up: one message through, so the broker is up and knows the consumer */
  atomic_long confirmed = 0;
  s_pub_t warm = {.messages = 1, .size = size, .batch = 1, .index = 99, .confirmed = &confirmed};
  s_publisher (&warm);
  while (atomic_load (&consumer.received) < 1)
    usleep (1000);
  atomic_store (&consumer.received, 0);
  s_pub_t pubs[16];
  pthread_t pt[16];
  int64_t start = at_mono_us ();
  for (int i = 0; i < publishers; i++) {
    pubs[i] = (s_pub_t) {.messages = messages / publishers + (i < messages % publishers),
                         .size = size, .batch = batch, .index = i, .confirmed = &confirmed};
    pthread_create (&pt[i], NULL, s_publisher, &pubs[i]);
  }
  for (int i = 0; i < publishers; i++)
    pthread_join (pt[i], NULL);
  int64_t deadline = at_mono_ms () + 120000;
  while (atomic_load (&consumer.received) < messages && at_mono_ms () < deadline)
    usleep (1000);
  long got = atomic_load (&consumer.received);
  int64_t end = consumer.last_us;
  atomic_store (&consumer.stop, true);
  pthread_join (ct, NULL);
  at_proc_stop (broker, SIGTERM, 5000);
  if (got < messages) {
    fprintf (stderr, "bench_dispatch: only %ld of %ld delivered\n", got, messages);
    exit (1);
  }
  return (double) messages / bench_secs (start, end);
}

int
main (int argc, char **argv)
{
  const char *atende = bench_flag_str (argc, argv, "--atende", NULL);
  long messages = bench_flag_long (argc, argv, "--messages", 1000000, 1000, 100000000);
  long size = bench_flag_long (argc, argv, "--size", 200, 1, 65536);
  long batch = bench_flag_long (argc, argv, "--batch", 1000, 1, 100000);
  long publishers = bench_flag_long (argc, argv, "--publishers", 2, 1, 16);
  if (!atende) {
    fprintf (stderr, "usage: %s --atende PATH [--messages N] [--size B] [--batch B]"
                     " [--publishers P]\n", argv[0]);
    return 2;
  }
  bench_print_cmdline (argc, argv);
  double raw = s_raw (messages, size);
  printf ("raw libzmq PUSH/PULL: %ld messages of %ld bytes: %.0f msg/s\n", messages, size, raw);
  fflush (stdout);
  double brk = s_broker (atende, messages, size, batch, (int) publishers);
  printf ("broker, non-durable: %ld messages of %ld bytes, %ld publishers, batch %ld:"
          " %.0f msg/s\n", messages, size, publishers, batch, brk);
  printf ("RESULT dispatch_msg_s=%.0f raw_zmq_msg_s=%.0f ratio=%.3f\n", brk, raw, brk / raw);
  return 0;
}
