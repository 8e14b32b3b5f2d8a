/* Fuzz: the broker's decoding of one command frame (brk_frame_decode), and
 * what the broker then reads out of an accepted command: the envelopes of a
 * Publish and of a Settle's produced messages (at_msg_from_pb). */
#include "brk_frame.h"
#include "at_msg_pb.h"

#include <stdlib.h>
#include <string.h>

static void
s_envelopes (Atende__Bus__Envelope **envs, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    at_msg_t *msg = NULL;
    char reason[160];
    if (envs[i] && at_msg_from_pb (envs[i], &msg, reason, sizeof reason) == AT_OK) {
      if (msg == NULL || msg->id[0] == '\0')
        abort ();   /* accepted means a whole message */
      at_msg_destroy (&msg);
    }
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  Atende__Bus__Command *cmd = NULL;
  brk_reject_t why = BRK_REJECT_N;
  uint64_t correlation = 0;
  char reason[96];
  int rc = brk_frame_decode (data, size, &cmd, &why, &correlation, reason, sizeof reason);
  if (rc != AT_OK) {
    if (cmd != NULL || why >= BRK_REJECT_N || reason[0] == '\0' || strlen (reason) >= sizeof reason)
      abort ();   /* a refusal always says why, and holds nothing */
    return 0;
  }
  if (cmd == NULL || cmd->version != 1)
    abort ();
  if (cmd->body_case == ATENDE__BUS__COMMAND__BODY_PUBLISH)
    s_envelopes (cmd->publish->envelopes, cmd->publish->n_envelopes);
  else if (cmd->body_case == ATENDE__BUS__COMMAND__BODY_SETTLE)
    s_envelopes (cmd->settle->produced, cmd->settle->n_produced);
  atende__bus__command__free_unpacked (cmd, NULL);
  return 0;
}
