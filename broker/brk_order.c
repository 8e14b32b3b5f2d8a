/* Per-key order across retries and spills (broker/brk_server.h, proto/README.md
 * "Per-key order"). A message released for a retry, or left in PostgreSQL
 * because its queue was full, becomes its key's blocker: later messages of
 * that stage and key are neither queued nor delivered until it is done or
 * dead-lettered; they wait in PostgreSQL, where the sweep loads each key's
 * run from its head on, in order, and sets the blocker again where the run
 * stops. */
#include "brk_server.h"
#include "at_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
brk_key_name (const char *stage, const char *key, char *out, size_t cap)
{
  snprintf (out, cap, "%s\x1f%s", stage, key);
}

const char *
brk_key_blocker (brk_t *self, const at_msg_t *msg)
{
  if (msg->key[0] == '\0')
    return NULL;
  char name[AT_STAGE_LEN + AT_KEY_LEN + 2];
  brk_key_name (msg->stage, msg->key, name, sizeof name);
  return zhashx_lookup (self->blocked, name);
}

/* A queued message of a blocked key leaves memory: its row waits. */
static void
s_drop_queued (at_msg_t **msg_p, void *arg)
{
  brk_t *self = arg;
  zhashx_delete (self->known, (*msg_p)->id);
}

void
brk_key_block (brk_t *self, const at_msg_t *msg, bool replace)
{
  if (msg->key[0] == '\0')
    return;
  int s = brk_stage_index (self, msg->stage);
  if (s < 0)
    return;
  char name[AT_STAGE_LEN + AT_KEY_LEN + 2];
  brk_key_name (msg->stage, msg->key, name, sizeof name);
  const char *blocker = zhashx_lookup (self->blocked, name);
  if (blocker == NULL || (replace && strcmp (blocker, msg->id) != 0)) {
    zhashx_update (self->blocked, name, strdup (msg->id));   /* frees the old id */
    at_debug ("broker", "msg=\"key blocked\" stage=%s key=\"%s\" id=%s", msg->stage, msg->key,
              msg->id);
  }
  if (replace)   /* a newer message may be queued: it leaves (a spill has none behind it) */
    brk_queue_remove_key (self->stages[s].queue, msg->key, msg->id, s_drop_queued, self);
}

void
brk_key_unblock (brk_t *self, const at_msg_t *msg)
{
  const char *blocker = brk_key_blocker (self, msg);
  if (blocker && strcmp (blocker, msg->id) == 0) {
    char name[AT_STAGE_LEN + AT_KEY_LEN + 2];
    brk_key_name (msg->stage, msg->key, name, sizeof name);
    zhashx_delete (self->blocked, name);
    int s = brk_stage_index (self, msg->stage);
    if (s >= 0)
      self->stages[s].unblocked = true;   /* its followers wait in PostgreSQL: sweep soon */
  }
}

void
brk_key_set (brk_t *self, const char *stage, const char *key, const char *id)
{
  if (key[0] == '\0')
    return;
  char name[AT_STAGE_LEN + AT_KEY_LEN + 2];
  brk_key_name (stage, key, name, sizeof name);
  if (id == NULL)
    zhashx_delete (self->blocked, name);
  else {
    const char *blocker = zhashx_lookup (self->blocked, name);
    if (blocker == NULL || strcmp (blocker, id) != 0)
      zhashx_update (self->blocked, name, strdup (id));   /* frees the old id */
  }
}
