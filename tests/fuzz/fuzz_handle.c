/* Fuzz: customers' handles from outside, on every channel. */
#include "at_channel.h"
#include <stdlib.h>
#include <string.h>

static const char *const s_channels[] = {"email", "form", "whatsapp", "sms", "chat", "messenger",
                                         "instagram"};

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char in[512], out[AT_HANDLE_MAX + 1], again[AT_HANDLE_MAX + 1];
  if (size == 0 || size >= sizeof in)
    return 0;
  memcpy (in, data + 1, size - 1);
  in[size - 1] = '\0';
  const char *channel = s_channels[data[0] % 7];
  if (at_channel_normalize_handle (channel, in, out, sizeof out) == AT_OK) {
    /* normalising is idempotent */
    if (at_channel_normalize_handle (channel, out, again, sizeof again) != AT_OK
        || strcmp (out, again) != 0)
      abort ();
  }
  return 0;
}
