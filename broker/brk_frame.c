/* Decoding one command frame (broker/brk_frame.h). */
#include "brk_frame.h"
#include "at_zmq.h"

#include <stdio.h>

/* The commands a broker receives; the others (Confirm, Deliver...) are
 * refused as unknown. */
static bool
s_accepted (Atende__Bus__Command__BodyCase body)
{
  switch (body) {
  case ATENDE__BUS__COMMAND__BODY_PUBLISH:
  case ATENDE__BUS__COMMAND__BODY_READY:
  case ATENDE__BUS__COMMAND__BODY_SETTLE:
  case ATENDE__BUS__COMMAND__BODY_HEARTBEAT:
  case ATENDE__BUS__COMMAND__BODY_DISCONNECT:
  case ATENDE__BUS__COMMAND__BODY_EXTEND:
    return true;
  default:
    return false;
  }
}

int
brk_frame_decode (const void *data, size_t size, Atende__Bus__Command **cmd_out,
                  brk_reject_t *why, uint64_t *correlation, char *reason, size_t reason_cap)
{
  *cmd_out = NULL;
  *correlation = 0;
  *why = BRK_REJECT_MALFORMED;
  if (size > AT_BUS_FRAME_MAX) {
    *why = BRK_REJECT_OVERSIZE;
    snprintf (reason, reason_cap, "frame of %zu bytes exceeds %d", size, AT_BUS_FRAME_MAX);
    return AT_INVALID;
  }
  Atende__Bus__Command *cmd = atende__bus__command__unpack (NULL, size, data);
  if (cmd == NULL) {
    snprintf (reason, reason_cap, "malformed command");
    return AT_INVALID;
  }
  if (cmd->body_case == ATENDE__BUS__COMMAND__BODY_PUBLISH && cmd->publish)
    *correlation = cmd->publish->correlation;
  if (cmd->version != AT_BUS_VERSION) {
    *why = BRK_REJECT_VERSION;
    snprintf (reason, reason_cap, "unsupported version %u", cmd->version);
  }
  else if (cmd->body_case == ATENDE__BUS__COMMAND__BODY__NOT_SET) {
    *why = BRK_REJECT_UNKNOWN;
    snprintf (reason, reason_cap, "unknown command");
  }
  else if (!s_accepted (cmd->body_case)) {
    *why = BRK_REJECT_UNKNOWN;
    snprintf (reason, reason_cap, "command not accepted by a broker");
  }
  else {
    *cmd_out = cmd;
    return AT_OK;
  }
  atende__bus__command__free_unpacked (cmd, NULL);
  return AT_INVALID;
}
