/* The broker's ROUTER socket: reading commands, answering, refusing bad
 * input without letting it stop anyone else (proto/README.md). */
#include "brk_server.h"
#include "brk_frame.h"
#include "at_log.h"
#include "at_zmq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_LOGGED_MAX 10000

static void
s_identity_set (brk_identity_t *id, const void *data, size_t len)
{
  static const char hex[] = "0123456789abcdef";
  if (len > BRK_IDENTITY_MAX)
    len = BRK_IDENTITY_MAX;
  memcpy (id->data, data, len);
  id->len = len;
  for (size_t i = 0; i < len; i++) {
    id->hex[2 * i] = hex[id->data[i] >> 4];
    id->hex[2 * i + 1] = hex[id->data[i] & 15];
  }
  id->hex[2 * len] = '\0';
}

/* Logs a refusal once per peer and reason. */
static void
s_log_once (brk_t *self, const brk_identity_t *peer, brk_reject_t why, const char *reason)
{
  char key[2 * BRK_IDENTITY_MAX + 32];
  snprintf (key, sizeof key, "%s %d", peer->hex, (int) why);
  if (zhashx_lookup (self->logged, key))
    return;
  if (zhashx_size (self->logged) >= S_LOGGED_MAX)
    zhashx_purge (self->logged);
  zhashx_insert (self->logged, key, (void *) 1);
  at_warn ("broker", "msg=\"request refused\" peer=%s why=%s reason=\"%.200s\"", peer->hex,
           brk_reject_names[why], reason);
}

int
brk_wire_send (brk_t *self, const brk_identity_t *to, Atende__Bus__Command *cmd)
{
  cmd->version = AT_BUS_VERSION;
  size_t len = atende__bus__command__get_packed_size (cmd);
  if (len > AT_BUS_FRAME_MAX) {
    at_error ("broker", "msg=\"command too large to send\" peer=%s bytes=%zu", to->hex, len);
    return AT_INVALID;
  }
  zmq_msg_t frame;
  zmq_msg_init_size (&frame, len);
  atende__bus__command__pack (cmd, zmq_msg_data (&frame));
  int rc = AT_OK;
  if (zmq_send (self->router, to->data, to->len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
    rc = errno == EAGAIN ? AT_AGAIN : AT_NOTFOUND;   /* full pipe, or peer gone */
  else if (zmq_msg_send (&frame, self->router, ZMQ_DONTWAIT) < 0)
    rc = AT_AGAIN;
  zmq_msg_close (&frame);
  return rc;
}

void
brk_wire_reject (brk_t *self, const brk_identity_t *to, uint64_t correlation, brk_reject_t why,
                 const char *reason)
{
  self->rejected[why]++;
  s_log_once (self, to, why, reason);
  Atende__Bus__Reject reject = ATENDE__BUS__REJECT__INIT;
  reject.correlation = correlation;
  reject.reason = (char *) reason;
  Atende__Bus__Command cmd = ATENDE__BUS__COMMAND__INIT;
  cmd.body_case = ATENDE__BUS__COMMAND__BODY_REJECT;
  cmd.reject = &reject;
  if (brk_wire_send (self, to, &cmd) != AT_OK)
    at_debug ("broker", "msg=\"reject not sent\" peer=%s", to->hex);
}

void
brk_wire_busy (brk_t *self, const brk_identity_t *to, uint64_t correlation,
               uint32_t retry_after_ms, const char *stage)
{
  self->rejected[BRK_REJECT_BUSY]++;
  Atende__Bus__Busy busy = ATENDE__BUS__BUSY__INIT;
  busy.correlation = correlation;
  busy.retry_after_ms = retry_after_ms;
  busy.stage = (char *) stage;
  Atende__Bus__Command cmd = ATENDE__BUS__COMMAND__INIT;
  cmd.body_case = ATENDE__BUS__COMMAND__BODY_BUSY;
  cmd.busy = &busy;
  if (brk_wire_send (self, to, &cmd) != AT_OK)
    at_debug ("broker", "msg=\"busy not sent\" peer=%s", to->hex);
}

void
brk_wire_reconnect (brk_t *self, const brk_identity_t *to)
{
  Atende__Bus__Reconnect reconnect = ATENDE__BUS__RECONNECT__INIT;
  Atende__Bus__Command cmd = ATENDE__BUS__COMMAND__INIT;
  cmd.body_case = ATENDE__BUS__COMMAND__BODY_RECONNECT;
  cmd.reconnect = &reconnect;
  brk_wire_send (self, to, &cmd);
}

/* Decodes one frame, refusing what is not a v1 command a broker accepts. */
static Atende__Bus__Command *
s_frame (brk_t *self, const brk_identity_t *from, const void *data, size_t size)
{
  Atende__Bus__Command *cmd = NULL;
  brk_reject_t why;
  uint64_t correlation = 0;
  char reason[96];
  if (brk_frame_decode (data, size, &cmd, &why, &correlation, reason, sizeof reason) != AT_OK) {
    brk_wire_reject (self, from, correlation, why, reason);
    return NULL;
  }
  return cmd;
}

/* The ZAP user id of the connection a frame came on ("" when none). */
static void
s_roles (zmq_msg_t *frame, char *roles, size_t cap)
{
  const char *user = zmq_msg_gets (frame, "User-Id");
  at_strlcpy (roles, user ? user : "", cap);
}

Atende__Bus__Command *
brk_wire_recv (brk_t *self, brk_identity_t *from, char *roles, size_t roles_cap)
{
  for (;;) {
    zmq_msg_t part;
    zmq_msg_init (&part);
    if (zmq_msg_recv (&part, self->router, ZMQ_DONTWAIT) < 0) {
      zmq_msg_close (&part);
      return NULL;
    }
    s_identity_set (from, zmq_msg_data (&part), zmq_msg_size (&part));
    if (!zmq_msg_more (&part)) {   /* a ROUTER always gives identity + body */
      zmq_msg_close (&part);
      continue;
    }
    if (zmq_msg_recv (&part, self->router, 0) < 0) {
      zmq_msg_close (&part);
      return NULL;
    }
    Atende__Bus__Command *cmd = NULL;
    if (zmq_msg_more (&part)) {
      while (zmq_msg_more (&part) && zmq_msg_recv (&part, self->router, 0) >= 0)
        ;
      brk_wire_reject (self, from, 0, BRK_REJECT_MALFORMED, "a command is one frame");
    }
    else {
      if (self->zap)
        s_roles (&part, roles, roles_cap);
      else if (roles_cap > 0)
        roles[0] = '\0';
      cmd = s_frame (self, from, zmq_msg_data (&part), zmq_msg_size (&part));
    }
    zmq_msg_close (&part);
    if (cmd)
      return cmd;
  }
}
