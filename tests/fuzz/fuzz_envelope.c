/* Fuzz: a bus Envelope from the wire (at_msg_decode), and re-encoding it. */
#include "at_msg.h"
#include <stdlib.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  at_msg_t *msg = NULL;
  char reason[128];
  if (at_msg_decode (data, size, &msg, reason, sizeof reason) == AT_OK) {
    uint8_t *out;
    size_t len;
    at_msg_encode (msg, &out, &len);
    at_msg_t *again = NULL;
    if (at_msg_decode (out, len, &again, reason, sizeof reason) != AT_OK)
      abort ();   /* what we accept we must be able to re-read */
    at_msg_destroy (&again);
    free (out);
    at_msg_destroy (&msg);
  }
  return 0;
}
