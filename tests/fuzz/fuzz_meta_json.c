/* Fuzz: Meta's webhook JSON (at_meta_parse) on any bytes. A delivery that
 * parses holds only what the parser promises: known channels, non-empty ids
 * and senders, texts of 1..AT_META_TEXT_MAX bytes, at most
 * AT_META_ITEMS_MAX items; one that does not gives a reason and no batch. */
#include <stdlib.h>
#include <string.h>
#include "at_meta.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char reason[160];
  at_meta_batch_t *batch = NULL;
  if (size > 256 * 1024)
    return 0;
  int rc = at_meta_parse ((const char *) data, size, &batch, reason, sizeof reason);
  if (rc != AT_OK) {
    if (batch || reason[0] == '\0')
      abort ();
    return 0;
  }
  if (!batch || batch->message_count + batch->status_count > AT_META_ITEMS_MAX)
    abort ();
  for (size_t i = 0; i < batch->message_count; i++) {
    const at_meta_message_t *m = &batch->messages[i];
    size_t n = m->text ? strlen (m->text) : 0;
    if (n == 0 || n > AT_META_TEXT_MAX + 16 || !m->id[0] || !m->sender[0])
      abort ();
    if (strcmp (m->channel, "whatsapp") && strcmp (m->channel, "messenger")
        && strcmp (m->channel, "instagram"))
      abort ();
  }
  for (size_t i = 0; i < batch->status_count; i++)
    if (!batch->statuses[i].id[0] || !batch->statuses[i].status[0])
      abort ();
  at_meta_batch_destroy (&batch);
  return 0;
}
