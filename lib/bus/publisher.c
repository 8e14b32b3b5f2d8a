/* The publisher side of the bus protocol (lib/bus/at_publisher.h, proto/README.md):
 * one DEALER per broker endpoint, opened on first use; each message goes to
 * the broker that owns its key (at_bus_shard over the endpoint list, which
 * is in broker-index order), and the call waits for the answers that carry
 * its correlations. */
#include "at_publisher.h"
#include "at_log.h"
#include "at_msg_pb.h"
#include "at_zmq.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define S_MAX_ENDPOINTS 64
#define S_ENDPOINT_LEN 256

struct at_publisher {
  char endpoints[S_MAX_ENDPOINTS][S_ENDPOINT_LEN];
  void *sockets[S_MAX_ENDPOINTS];
  uint32_t n;
  long timeout_ms;
  uint64_t next_correlation;
  at_bus_curve_t curve;        /* server[0] == '\0': plain */
};

/* The endpoint list, parsed with the settings, into self->endpoints. */
static int
s_endpoints (at_publisher_t *self, const at_list_t *list)
{
  for (size_t i = 0; i < list->n; i++) {
    if (self->n == S_MAX_ENDPOINTS
        || at_strlcpy (self->endpoints[self->n], list->items[i].value, S_ENDPOINT_LEN)
             >= S_ENDPOINT_LEN)
      return AT_INVALID;
    self->n++;
  }
  return self->n > 0 ? AT_OK : AT_INVALID;
}

at_publisher_t *
at_publisher_new (const at_config_t *cfg)
{
  at_publisher_t *self = at_calloc (1, sizeof *self);
  if (s_endpoints (self, &cfg->broker_endpoints) != AT_OK) {
    at_error ("bus", "msg=\"bad broker endpoint list\" endpoints=\"%s\"",
              cfg->broker_endpoints.text);
    free (self);
    return NULL;
  }
  self->timeout_ms = cfg->publish_timeout_ms;
  at_bus_curve_of (cfg, &self->curve);
  /* Distinct per process and per publisher, so that a reopened socket never
   * matches an answer meant for someone else. */
  self->next_correlation = ((uint64_t) at_now_us () << 16) ^ ((uint64_t) getpid () << 40)
                           ^ (uint64_t) (uintptr_t) self;
  return self;
}

void
at_publisher_destroy (at_publisher_t **self_p)
{
  if (self_p == NULL || *self_p == NULL)
    return;
  at_publisher_t *self = *self_p;
  for (uint32_t i = 0; i < self->n; i++)
    at_bus_socket_close (&self->sockets[i]);
  free (self);
  *self_p = NULL;
}

/* Builds and sends one Publish; AT_INVALID if it does not fit in a frame. */
static int
s_send_publish (void *socket, at_msg_t *const *msgs, size_t n, uint64_t correlation)
{
  Atende__Bus__Envelope *envs = at_calloc (n, sizeof *envs);
  Atende__Bus__Envelope **ptrs = at_calloc (n, sizeof *ptrs);
  for (size_t i = 0; i < n; i++) {
    atende__bus__envelope__init (&envs[i]);
    at_msg_to_pb (msgs[i], &envs[i]);
    ptrs[i] = &envs[i];
  }
  Atende__Bus__Publish publish = ATENDE__BUS__PUBLISH__INIT;
  publish.correlation = correlation;
  publish.n_envelopes = n;
  publish.envelopes = ptrs;
  Atende__Bus__Command cmd = ATENDE__BUS__COMMAND__INIT;
  cmd.body_case = ATENDE__BUS__COMMAND__BODY_PUBLISH;
  cmd.publish = &publish;
  int rc = at_bus_cmd_send (socket, &cmd, ZMQ_DONTWAIT);
  free (ptrs);
  free (envs);
  return rc;
}

/* Maps the broker's answer to our result; AT_NOTFOUND if it is not ours. */
static int
s_answer (const Atende__Bus__Command *cmd, uint64_t correlation, size_t n, int *retry_after_ms)
{
  switch (cmd->body_case) {
  case ATENDE__BUS__COMMAND__BODY_CONFIRM:
    if (cmd->confirm->correlation != correlation)
      return AT_NOTFOUND;
    if (cmd->confirm->count != n)
      at_warn ("bus", "msg=\"confirm count differs\" sent=%zu confirmed=%u", n,
               cmd->confirm->count);
    return AT_OK;
  case ATENDE__BUS__COMMAND__BODY_BUSY:
    if (cmd->busy->correlation != correlation)
      return AT_NOTFOUND;
    if (retry_after_ms)
      *retry_after_ms = (int) (cmd->busy->retry_after_ms > 600000 ? 600000
                                                                   : cmd->busy->retry_after_ms);
    return AT_BUSY;
  case ATENDE__BUS__COMMAND__BODY_REJECT:
    if (cmd->reject->correlation != correlation)
      return AT_NOTFOUND;
    at_error ("bus", "msg=\"publish rejected\" reason=\"%.200s\"",
              cmd->reject->reason ? cmd->reject->reason : "");
    return AT_INVALID;
  default:
    return AT_NOTFOUND;   /* heartbeats and stale answers */
  }
}

/* Waits for the answer to `correlation` until the deadline. */
static int
s_wait (at_publisher_t *self, void *socket, uint64_t correlation, size_t n, int *retry_after_ms)
{
  int64_t deadline = at_mono_ms () + self->timeout_ms;
  for (;;) {
    int64_t left = deadline - at_mono_ms ();
    if (left <= 0)
      return AT_AGAIN;
    zmq_pollitem_t item = {socket, 0, ZMQ_POLLIN, 0};
    int ready = zmq_poll (&item, 1, (long) left);
    if (ready <= 0)
      continue;   /* timeout or EINTR: the deadline decides */
    Atende__Bus__Command *cmd = NULL;
    char reason[128];
    int rc = at_bus_cmd_recv (socket, &cmd, ZMQ_DONTWAIT, reason, sizeof reason);
    if (rc == AT_INVALID) {
      at_warn ("bus", "msg=\"bad answer from broker ignored\" reason=\"%s\"", reason);
      continue;
    }
    if (rc != AT_OK)
      continue;
    rc = s_answer (cmd, correlation, n, retry_after_ms);
    atende__bus__command__free_unpacked (cmd, NULL);
    if (rc != AT_NOTFOUND)
      return rc;
  }
}

/* Sends one shard's Publish to its broker (opening the socket on first
 * use); *correlation_out is what its answer will carry. */
static int
s_send_shard (at_publisher_t *self, uint32_t shard, at_msg_t *const *msgs, size_t n,
              uint64_t *correlation_out)
{
  if (self->sockets[shard] == NULL)
    self->sockets[shard] = at_bus_dealer_new (self->endpoints[shard], &self->curve);
  if (self->sockets[shard] == NULL)
    return AT_AGAIN;
  *correlation_out = self->next_correlation++;
  return s_send_publish (self->sockets[shard], msgs, n, *correlation_out);
}

/* Waits for one shard's answer. */
static int
s_wait_shard (at_publisher_t *self, uint32_t shard, at_msg_t *const *msgs, size_t n,
              uint64_t correlation, int *retry_after_ms)
{
  int rc = s_wait (self, self->sockets[shard], correlation, n, retry_after_ms);
  if (rc == AT_AGAIN) {
    /* A late Confirm must not be read as the answer to a later publish. */
    at_warn ("bus", "msg=\"no confirm from broker\" endpoint=\"%s\" messages=%zu first_id=%s",
             self->endpoints[shard], n, msgs[0]->id);
    at_bus_socket_close (&self->sockets[shard]);
  }
  return rc;
}

/* The batch's result from its parts': the first failure in shard order,
 * and the longest wait a broker asked for. */
static int
s_worst (int rc, int part_rc, int part_retry, int *retry_after_ms)
{
  if (part_rc == AT_BUSY && retry_after_ms && part_retry > *retry_after_ms)
    *retry_after_ms = part_retry;
  return rc != AT_OK ? rc : part_rc;
}

/* One Publish per broker that owns keys of the batch, all sent before any
 * answer is awaited, so the brokers commit them at the same time. */
static int
s_send_shards (at_publisher_t *self, at_msg_t *const *msgs, size_t n, int *retry_after_ms)
{
  at_msg_t **part = at_calloc (n, sizeof *part);
  size_t first[S_MAX_ENDPOINTS + 1] = {0}, count[S_MAX_ENDPOINTS] = {0};
  uint64_t correlation[S_MAX_ENDPOINTS] = {0};
  int sent[S_MAX_ENDPOINTS] = {0};
  for (size_t i = 0; i < n; i++)
    count[at_bus_shard (msgs[i]->key, self->n)]++;
  for (uint32_t s = 0; s < self->n; s++)
    first[s + 1] = first[s] + count[s];
  for (size_t i = 0, at[S_MAX_ENDPOINTS] = {0}; i < n; i++) {
    uint32_t s = at_bus_shard (msgs[i]->key, self->n);
    part[first[s] + at[s]++] = msgs[i];
  }
  int rc = AT_OK;
  for (uint32_t s = 0; s < self->n; s++)
    if (count[s] > 0) {
      sent[s] = s_send_shard (self, s, part + first[s], count[s], &correlation[s]);
      rc = s_worst (rc, sent[s], 0, retry_after_ms);
    }
  for (uint32_t s = 0; s < self->n; s++)
    if (count[s] > 0 && sent[s] == AT_OK) {
      int retry = 0;
      int part_rc = s_wait_shard (self, s, part + first[s], count[s], correlation[s], &retry);
      rc = s_worst (rc, part_rc, retry, retry_after_ms);
    }
  free (part);
  return rc;
}

int
at_publisher_send (at_publisher_t *self, at_msg_t *const *msgs, size_t n, int *retry_after_ms)
{
  if (retry_after_ms)
    *retry_after_ms = 0;
  if (n == 0)
    return AT_OK;
  for (size_t i = 0; i < n; i++) {
    char reason[128];
    if (msgs[i] == NULL || at_msg_validate (msgs[i], reason, sizeof reason) != AT_OK) {
      at_error ("bus", "msg=\"refusing to publish invalid message\" id=%s reason=\"%s\"",
                msgs[i] ? msgs[i]->id : "-", msgs[i] ? reason : "null message");
      return AT_INVALID;
    }
  }
  if (self->n > 1)
    return s_send_shards (self, msgs, n, retry_after_ms);
  uint64_t correlation = 0;
  int rc = s_send_shard (self, 0, msgs, n, &correlation);
  return rc == AT_OK ? s_wait_shard (self, 0, msgs, n, correlation, retry_after_ms) : rc;
}
