/* The process-wide ZeroMQ context and the one-frame Command codec
 * (lib/bus/at_zmq.h). */
#include "at_zmq.h"
#include "at_log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static pthread_once_t s_context_once = PTHREAD_ONCE_INIT;
static void *s_context;

static void
s_context_create (void)
{
  s_context = zmq_ctx_new ();
  if (s_context == NULL) {
    at_error ("bus", "msg=\"cannot create ZeroMQ context\" error=\"%s\"", zmq_strerror (errno));
    abort ();
  }
  zmq_ctx_set (s_context, ZMQ_BLOCKY, 0);
}

void *
at_bus_zmq_context (void)
{
  pthread_once (&s_context_once, s_context_create);
  return s_context;
}

const at_bus_curve_t *
at_bus_curve_of (const at_config_t *cfg, at_bus_curve_t *out)
{
  memset (out, 0, sizeof *out);
  if (cfg == NULL || cfg->bus_curve_server_key[0] == '\0')
    return NULL;
  at_strlcpy (out->server, cfg->bus_curve_server_key, sizeof out->server);
  at_strlcpy (out->public_key, cfg->bus_curve_client_public, sizeof out->public_key);
  at_strlcpy (out->secret_key, cfg->bus_curve_client_secret, sizeof out->secret_key);
  return out;
}

/* The CURVE client options: the handshake proves our key to the broker and
 * the broker's to us; the broker's ZAP handler decides whether we get in. */
static int
s_curve_client (void *socket, const at_bus_curve_t *curve)
{
  if (zmq_setsockopt (socket, ZMQ_CURVE_SERVERKEY, curve->server, strlen (curve->server) + 1) != 0
      || zmq_setsockopt (socket, ZMQ_CURVE_PUBLICKEY, curve->public_key,
                         strlen (curve->public_key) + 1) != 0
      || zmq_setsockopt (socket, ZMQ_CURVE_SECRETKEY, curve->secret_key,
                         strlen (curve->secret_key) + 1) != 0) {
    at_error ("bus", "msg=\"cannot set the CURVE keys (libzmq without CURVE?)\" error=\"%s\"",
              zmq_strerror (errno));
    return AT_ERROR;
  }
  return AT_OK;
}

void *
at_bus_dealer_new (const char *endpoint, const at_bus_curve_t *curve)
{
  void *socket = zmq_socket (at_bus_zmq_context (), ZMQ_DEALER);
  if (socket == NULL) {
    at_error ("bus", "msg=\"cannot create socket\" error=\"%s\"", zmq_strerror (errno));
    return NULL;
  }
  int linger = 0, hwm = 100000, ivl = 100, ivl_max = 2000;
  int64_t max_size = AT_BUS_FRAME_MAX;
  zmq_setsockopt (socket, ZMQ_LINGER, &linger, sizeof linger);
  zmq_setsockopt (socket, ZMQ_SNDHWM, &hwm, sizeof hwm);
  zmq_setsockopt (socket, ZMQ_RCVHWM, &hwm, sizeof hwm);
  zmq_setsockopt (socket, ZMQ_MAXMSGSIZE, &max_size, sizeof max_size);
  zmq_setsockopt (socket, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
  zmq_setsockopt (socket, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max);
  if (curve && curve->server[0] && s_curve_client (socket, curve) != AT_OK) {
    zmq_close (socket);
    return NULL;
  }
  if (zmq_connect (socket, endpoint) != 0) {
    at_error ("bus", "msg=\"cannot connect\" endpoint=\"%s\" error=\"%s\"", endpoint,
              zmq_strerror (errno));
    zmq_close (socket);
    return NULL;
  }
  return socket;
}

void
at_bus_socket_close (void **socket_p)
{
  if (socket_p == NULL || *socket_p == NULL)
    return;
  int linger = 0;
  zmq_setsockopt (*socket_p, ZMQ_LINGER, &linger, sizeof linger);
  zmq_close (*socket_p);
  *socket_p = NULL;
}

static void
s_free_msg (void *data, void *hint)
{
  (void) hint;
  free (data);
}

int
at_bus_cmd_send (void *socket, Atende__Bus__Command *cmd, int flags)
{
  cmd->version = AT_BUS_VERSION;
  size_t len = atende__bus__command__get_packed_size (cmd);
  if (len > AT_BUS_FRAME_MAX) {
    at_error ("bus", "msg=\"command too large to send\" bytes=%zu", len);
    return AT_INVALID;
  }
  uint8_t *buf = at_malloc (len ? len : 1);
  atende__bus__command__pack (cmd, buf);
  zmq_msg_t frame;
  if (zmq_msg_init_data (&frame, buf, len, s_free_msg, NULL) != 0) {
    free (buf);
    return AT_ERROR;
  }
  if (zmq_msg_send (&frame, socket, flags) < 0) {
    int err = errno;
    zmq_msg_close (&frame);
    if (err == EAGAIN || err == EHOSTUNREACH || err == EINTR)
      return AT_AGAIN;
    at_warn ("bus", "msg=\"send failed\" error=\"%s\"", zmq_strerror (err));
    return AT_ERROR;
  }
  return AT_OK;
}

int
at_bus_cmd_decode (const void *data, size_t len, Atende__Bus__Command **cmd_out, char *reason,
                   size_t reason_cap)
{
  *cmd_out = NULL;
  if (len > AT_BUS_FRAME_MAX) {
    snprintf (reason, reason_cap, "frame too large");
    return AT_INVALID;
  }
  Atende__Bus__Command *cmd = atende__bus__command__unpack (NULL, len, data);
  if (cmd == NULL) {
    snprintf (reason, reason_cap, "malformed command");
    return AT_INVALID;
  }
  if (cmd->version != AT_BUS_VERSION) {
    snprintf (reason, reason_cap, "unsupported version %u", cmd->version);
    atende__bus__command__free_unpacked (cmd, NULL);
    return AT_INVALID;
  }
  if (cmd->body_case == ATENDE__BUS__COMMAND__BODY__NOT_SET) {
    snprintf (reason, reason_cap, "unknown command");
    atende__bus__command__free_unpacked (cmd, NULL);
    return AT_INVALID;
  }
  *cmd_out = cmd;
  return AT_OK;
}

int
at_bus_cmd_recv (void *socket, Atende__Bus__Command **cmd_out, int flags, char *reason,
                 size_t reason_cap)
{
  *cmd_out = NULL;
  zmq_msg_t frame;
  zmq_msg_init (&frame);
  if (zmq_msg_recv (&frame, socket, flags) < 0) {
    int err = errno;
    zmq_msg_close (&frame);
    if (err == EAGAIN || err == EINTR)
      return AT_AGAIN;
    snprintf (reason, reason_cap, "%s", zmq_strerror (err));
    return AT_ERROR;
  }
  int rc;
  if (zmq_msg_more (&frame)) {
    snprintf (reason, reason_cap, "multi-frame message");
    rc = AT_INVALID;
    /* drain the rest of the message */
    while (zmq_msg_more (&frame) && zmq_msg_recv (&frame, socket, 0) >= 0)
      ;
  }
  else
    rc = at_bus_cmd_decode (zmq_msg_data (&frame), zmq_msg_size (&frame), cmd_out, reason,
                            reason_cap);
  zmq_msg_close (&frame);
  return rc;
}

uint32_t
at_bus_shard (const char *key, uint32_t n)
{
  if (n == 0)
    return 0;
  uint32_t hash = 2166136261u;
  for (const unsigned char *p = (const unsigned char *) key; p && *p; p++) {
    hash ^= *p;
    hash *= 16777619u;
  }
  return hash % n;
}

int
at_bus_shard_of (const char *key, int count)
{
  return count <= 1 ? 0 : (int) at_bus_shard (key, (uint32_t) count);
}
