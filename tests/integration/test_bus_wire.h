/* Helpers shared by the tests/integration/test_bus_*.c tests: a broker
 * process, and a client speaking the bus protocol by hand (proto/README.md). */
#ifndef TEST_BUS_WIRE_H
#define TEST_BUS_WIRE_H

#include "it.h"
#include "at_publisher.h"
#include "at_msg_pb.h"
#include "at_zmq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

typedef struct {
  char endpoint[64];
  int metrics_port;
  pid_t pid;
} tb_broker_t;

/* Starts `atende broker` on a fresh port with conninfo and extra env
 * ("K=V" strings, NULL-terminated), and waits for /healthz. */
static inline void
tb_broker_start (tb_broker_t *b, const char *logname, const char *conninfo,
                 const char *const *extra)
{
  if (b->endpoint[0] == '\0') {
    snprintf (b->endpoint, sizeof b->endpoint, "tcp://127.0.0.1:%d", it_free_port ());
    b->metrics_port = it_free_port ();
  }
  static char env[16][640];
  const char *envp[24];
  int n = 0;
  snprintf (env[n], sizeof env[n], "ATENDE_DATABASE_URL=%s", conninfo);
  envp[n] = env[n], n++;
  snprintf (env[n], sizeof env[n], "ATENDE_BROKER_BIND=%s", b->endpoint);
  envp[n] = env[n], n++;
  snprintf (env[n], sizeof env[n], "ATENDE_BROKER_METRICS_PORT=%d", b->metrics_port);
  envp[n] = env[n], n++;
  envp[n++] = "ATENDE_BROKER_SWEEP_MS=50";
  for (int i = 0; extra && extra[i] && n < 22; i++)
    envp[n++] = extra[i];
  envp[n] = NULL;
  const char *args[] = {"broker", NULL};
  b->pid = it_spawn_atende (logname, args, envp);
}

static inline long
tb_broker_http (const tb_broker_t *b, const char *path, char **body_out)
{
  char url[96];
  snprintf (url, sizeof url, "http://127.0.0.1:%d%s", b->metrics_port, path);
  return it_http ("GET", url, NULL, NULL, body_out);
}

static inline bool
tb_ready (void *arg)
{
  return tb_broker_http (arg, "/readyz", NULL) == 200;
}

static inline bool
tb_not_ready (void *arg)
{
  return tb_broker_http (arg, "/readyz", NULL) == 503;
}

/* Value of one sample line of /metrics ("name{labels}"), -1 if absent. */
static inline double
tb_metric (const tb_broker_t *b, const char *sample)
{
  char *body = NULL;
  double value = -1;
  if (tb_broker_http (b, "/metrics", &body) == 200 && body) {
    size_t len = strlen (sample);
    for (char *line = body; line && *line; line = strchr (line, '\n') ? strchr (line, '\n') + 1 : NULL)
      if (strncmp (line, sample, len) == 0 && line[len] == ' ') {
        value = strtod (line + len + 1, NULL);
        break;
      }
  }
  free (body);
  return value;
}

/* Polls /metrics until the sample is >= want (the snapshot lags the loop
 * by up to 100 ms); returns the last value read. */
static inline double
tb_wait_metric (const tb_broker_t *b, const char *sample, double want, int timeout_ms)
{
  int64_t deadline = at_mono_ms () + timeout_ms;
  double value = tb_metric (b, sample);
  while (value < want && at_mono_ms () < deadline) {
    zmq_pollitem_t none[1];
    zmq_poll (none, 0, 20);
    value = tb_metric (b, sample);
  }
  return value;
}

static inline Atende__Bus__Command *
tb_recv (void *socket, int timeout_ms)
{
  int64_t deadline = at_mono_ms () + timeout_ms;
  for (;;) {
    int64_t left = deadline - at_mono_ms ();
    if (left <= 0)
      return NULL;
    zmq_pollitem_t item = {socket, 0, ZMQ_POLLIN, 0};
    if (zmq_poll (&item, 1, (long) left) <= 0)
      continue;
    Atende__Bus__Command *cmd = NULL;
    char reason[128];
    int rc = at_bus_cmd_recv (socket, &cmd, ZMQ_DONTWAIT, reason, sizeof reason);
    IT_CHECK (rc == AT_OK || rc == AT_AGAIN, "bad command from broker: %s", reason);
    if (rc == AT_OK)
      return cmd;
  }
}

/* Waits for a command of one kind, dropping others. */
static inline Atende__Bus__Command *
tb_recv_kind (void *socket, Atende__Bus__Command__BodyCase kind, int timeout_ms)
{
  int64_t deadline = at_mono_ms () + timeout_ms;
  while (at_mono_ms () < deadline) {
    Atende__Bus__Command *cmd = tb_recv (socket, (int) (deadline - at_mono_ms ()));
    if (cmd == NULL)
      return NULL;
    if (cmd->body_case == kind)
      return cmd;
    atende__bus__command__free_unpacked (cmd, NULL);
  }
  return NULL;
}

static inline void
tb_send (void *socket, Atende__Bus__Command *cmd)
{
  IT_CHECK (at_bus_cmd_send (socket, cmd, 0) == AT_OK, "send to broker");
}

static inline void
tb_ready_cmd (void *socket, const char *stage, uint32_t credit, const char *worker_id)
{
  char *stages[] = {(char *) stage};
  Atende__Bus__Ready ready = ATENDE__BUS__READY__INIT;
  ready.n_stages = 1;
  ready.stages = stages;
  ready.credit = credit;
  ready.worker_id = (char *) worker_id;
  Atende__Bus__Command cmd = ATENDE__BUS__COMMAND__INIT;
  cmd.body_case = ATENDE__BUS__COMMAND__BODY_READY;
  cmd.ready = &ready;
  tb_send (socket, &cmd);
}

static inline void
tb_heartbeat (void *socket)
{
  Atende__Bus__Heartbeat hb = ATENDE__BUS__HEARTBEAT__INIT;
  Atende__Bus__Command cmd = ATENDE__BUS__COMMAND__INIT;
  cmd.body_case = ATENDE__BUS__COMMAND__BODY_HEARTBEAT;
  cmd.heartbeat = &hb;
  tb_send (socket, &cmd);
}

static inline void
tb_settle (void *socket, char **done, size_t n)
{
  Atende__Bus__Settle settle = ATENDE__BUS__SETTLE__INIT;
  settle.n_done = n;
  settle.done = done;
  Atende__Bus__Command cmd = ATENDE__BUS__COMMAND__INIT;
  cmd.body_case = ATENDE__BUS__COMMAND__BODY_SETTLE;
  cmd.settle = &settle;
  tb_send (socket, &cmd);
}

/* A Settle that names produced messages only (as a worker sends after
 * inserting them in its transaction). */
static inline void
tb_settle_produced (void *socket, at_msg_t *const *msgs, size_t n)
{
  Atende__Bus__Envelope envs[8], *env_ps[8];
  IT_CHECK (n <= 8, "at most 8 produced envelopes");
  for (size_t i = 0; i < n; i++) {
    atende__bus__envelope__init (&envs[i]);
    at_msg_to_pb (msgs[i], &envs[i]);
    env_ps[i] = &envs[i];
  }
  Atende__Bus__Settle settle = ATENDE__BUS__SETTLE__INIT;
  settle.n_produced = n;
  settle.produced = env_ps;
  Atende__Bus__Command cmd = ATENDE__BUS__COMMAND__INIT;
  cmd.body_case = ATENDE__BUS__COMMAND__BODY_SETTLE;
  cmd.settle = &settle;
  tb_send (socket, &cmd);
}

static inline void
tb_extend (void *socket, char **ids, size_t n)
{
  Atende__Bus__Extend extend = ATENDE__BUS__EXTEND__INIT;
  extend.n_ids = n;
  extend.ids = ids;
  Atende__Bus__Command cmd = ATENDE__BUS__COMMAND__INIT;
  cmd.body_case = ATENDE__BUS__COMMAND__BODY_EXTEND;
  cmd.extend = &extend;
  tb_send (socket, &cmd);
}

/* Publishes until confirmed (AT_BUSY / AT_AGAIN retried) or timeout_ms
 * pass; false when the broker rejected it. */
static inline bool
tb_publish_or_reject (at_publisher_t *pub, at_msg_t **msgs, size_t n, int timeout_ms)
{
  int64_t deadline = at_mono_ms () + timeout_ms;
  for (;;) {
    int retry_after = 0;
    int rc = at_publisher_send (pub, msgs, n, &retry_after);
    if (rc == AT_OK)
      return true;
    if (rc != AT_AGAIN && rc != AT_BUSY)
      return false;
    IT_CHECK (at_mono_ms () < deadline, "publish not confirmed in time");
    if (rc == AT_BUSY) {
      zmq_pollitem_t none[1];
      zmq_poll (none, 0, retry_after > 200 ? 200 : retry_after);   /* as told by Busy */
    }
  }
}

/* Publishes until confirmed (AT_BUSY / AT_AGAIN retried) or 30 s pass. */
static inline void
tb_publish (at_publisher_t *pub, at_msg_t **msgs, size_t n)
{
  IT_CHECK (tb_publish_or_reject (pub, msgs, n, 30000), "publish rejected");
}

#endif
