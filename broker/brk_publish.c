/* The broker's publish path: group commit. Publishes read in one wake-up
 * are inserted in ONE transaction; each publisher is confirmed only after
 * COMMIT, and only then are the messages queued for delivery. */
#include "brk_server.h"
#include "at_log.h"
#include "at_msg_pb.h"
#include "at_store_bus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#define S_STORE_RETRY_AFTER_MS 1000
#define S_BACKLOG_RETRY_AFTER_MS 500
#define S_BACKOFF_MAX_MS 5000

bool
brk_store_up (brk_t *self)
{
  if (self->store && at_store_ok (self->store))
    return true;
  int64_t now = at_mono_ms ();
  if (now < self->store_retry_ms)
    return false;
  int rc = AT_AGAIN;
  if (self->store == NULL) {
    self->store = at_store_new (self->cfg->database_url, "broker");
    rc = self->store ? AT_OK : AT_AGAIN;
  }
  else
    rc = at_store_reconnect (self->store);
  if (rc == AT_OK) {
    self->store_backoff_ms = 0;
    return true;
  }
  brk_store_lost (self);
  return false;
}

void
brk_store_lost (brk_t *self)
{
  int backoff = self->store_backoff_ms ? self->store_backoff_ms * 2 : 100;
  self->store_backoff_ms = backoff > S_BACKOFF_MAX_MS ? S_BACKOFF_MAX_MS : backoff;
  self->store_retry_ms = at_mono_ms () + self->store_backoff_ms;
  if (self->store && at_store_ok (self->store))
    return;   /* a statement failed but the connection is fine */
  at_warn ("broker", "msg=\"store unavailable\" retry_in_ms=%d", self->store_backoff_ms);
}

bool
brk_publish_full (const brk_t *self)
{
  return self->batch_len >= (size_t) self->cfg->publish_batch_max;
}

static bool
s_text_ok (const char *text)
{
  return text == NULL || u8_check ((const uint8_t *) text, strlen (text)) == NULL;
}

/* Checks one envelope; AT_OK with *msg_out, or the refusal and its reason. */
static int
s_envelope (brk_t *self, const Atende__Bus__Envelope *env, at_msg_t **msg_out, brk_reject_t *why,
            char *reason, size_t cap)
{
  *msg_out = NULL;
  *why = BRK_REJECT_INVALID;
  if (env == NULL) {
    snprintf (reason, cap, "empty envelope");
    return AT_INVALID;
  }
  if (env->payload.len > AT_MSG_PAYLOAD_MAX) {
    *why = BRK_REJECT_OVERSIZE;
    snprintf (reason, cap, "payload of %zu bytes exceeds %d", env->payload.len, AT_MSG_PAYLOAD_MAX);
    return AT_INVALID;
  }
  if (!s_text_ok (env->id) || !s_text_ok (env->stage) || !s_text_ok (env->key)
      || !s_text_ok (env->type) || !s_text_ok (env->trace_id)) {
    snprintf (reason, cap, "a text field is not UTF-8");
    return AT_INVALID;
  }
  char why_text[160] = "";
  if (at_msg_from_pb (env, msg_out, why_text, sizeof why_text) != AT_OK || *msg_out == NULL) {
    snprintf (reason, cap, "invalid envelope: %s", why_text);
    return AT_INVALID;
  }
  if (brk_stage_index (self, (*msg_out)->stage) < 0) {
    snprintf (reason, cap, "unknown stage");
    at_msg_destroy (msg_out);
    return AT_INVALID;
  }
  return AT_OK;
}

static void
s_batch_append (brk_t *self, at_msg_t *msg)
{
  if (self->batch_len == self->batch_cap) {
    self->batch_cap = self->batch_cap ? self->batch_cap * 2 : 256;
    self->batch = realloc (self->batch, self->batch_cap * sizeof *self->batch);
    if (self->batch == NULL)
      abort ();
  }
  self->batch[self->batch_len++] = msg;
}

/* Drops the envelopes appended since `first` (a publish refused midway). */
static void
s_batch_truncate (brk_t *self, size_t first)
{
  while (self->batch_len > first)
    at_msg_destroy (&self->batch[--self->batch_len]);
}

void
brk_publish_add (brk_t *self, const brk_identity_t *from, const Atende__Bus__Publish *pub)
{
  if (!brk_store_up (self)) {
    brk_wire_busy (self, from, pub->correlation, S_STORE_RETRY_AFTER_MS, "");
    return;
  }
  size_t first = self->batch_len;
  for (size_t i = 0; i < pub->n_envelopes; i++) {
    at_msg_t *msg = NULL;
    brk_reject_t why;
    char reason[256];
    if (s_envelope (self, pub->envelopes[i], &msg, &why, reason, sizeof reason) != AT_OK) {
      s_batch_truncate (self, first);
      brk_wire_reject (self, from, pub->correlation, why, reason);
      return;
    }
    brk_stage_t *stage = &self->stages[brk_stage_index (self, msg->stage)];
    if (stage->db_depth + stage->published_recent >= self->cfg->bus_backlog_max) {
      at_msg_destroy (&msg);
      s_batch_truncate (self, first);
      brk_wire_busy (self, from, pub->correlation, S_BACKLOG_RETRY_AFTER_MS, stage->name);
      return;
    }
    s_batch_append (self, msg);
  }
  if (self->pending_len == self->pending_cap) {
    self->pending_cap = self->pending_cap ? self->pending_cap * 2 : 64;
    self->pending = realloc (self->pending, self->pending_cap * sizeof *self->pending);
    if (self->pending == NULL)
      abort ();
  }
  brk_pending_t *p = &self->pending[self->pending_len++];
  p->identity = *from;
  p->correlation = pub->correlation;
  p->first = first;
  p->count = self->batch_len - first;
}

/* BEGIN; insert; COMMIT. Rolls back on failure. */
static int
s_commit (brk_t *self, size_t first, size_t count)
{
  int rc = at_store_begin (self->store);
  if (rc == AT_OK)
    rc = at_store_bus_insert (self->store, self->batch + first, count, NULL);
  if (rc == AT_OK)
    rc = at_store_commit (self->store);
  else if (at_store_ok (self->store))
    at_store_rollback (self->store);
  return rc;
}

/* Confirms one committed publish and queues its messages. */
static void
s_confirm (brk_t *self, const brk_pending_t *p)
{
  Atende__Bus__Confirm confirm = ATENDE__BUS__CONFIRM__INIT;
  confirm.correlation = p->correlation;
  confirm.count = (uint32_t) p->count;
  Atende__Bus__Command cmd = ATENDE__BUS__COMMAND__INIT;
  cmd.body_case = ATENDE__BUS__COMMAND__BODY_CONFIRM;
  cmd.confirm = &confirm;
  if (brk_wire_send (self, &p->identity, &cmd) != AT_OK)
    at_warn ("broker", "msg=\"confirm not sent: publisher will retry\" peer=%s",
             p->identity.hex);
  for (size_t i = p->first; i < p->first + p->count; i++) {
    brk_stage_t *stage = &self->stages[brk_stage_index (self, self->batch[i]->stage)];
    stage->published++;
    stage->published_recent++;
    brk_enqueue (self, &self->batch[i]);
  }
}

/* The grouped insert was refused: commit each publish alone, so one bad
 * publisher does not fail the others. */
static void
s_flush_one_by_one (brk_t *self)
{
  for (size_t k = 0; k < self->pending_len; k++) {
    brk_pending_t *p = &self->pending[k];
    int rc = s_commit (self, p->first, p->count);
    if (rc == AT_OK)
      s_confirm (self, p);
    else if (rc == AT_INVALID) {
      char reason[256];
      snprintf (reason, sizeof reason, "store refused the messages: %.200s",
                at_store_last_error (self->store));
      brk_wire_reject (self, &p->identity, p->correlation, BRK_REJECT_STORE, reason);
    }
    else {
      brk_store_lost (self);
      brk_wire_busy (self, &p->identity, p->correlation, S_STORE_RETRY_AFTER_MS, "");
    }
  }
}

void
brk_publish_flush (brk_t *self)
{
  if (self->pending_len == 0)
    goto out;
  int rc = brk_store_up (self) ? s_commit (self, 0, self->batch_len) : AT_AGAIN;
  if (rc == AT_OK) {
    for (size_t k = 0; k < self->pending_len; k++)
      s_confirm (self, &self->pending[k]);
    at_debug ("broker", "msg=\"group commit\" publishes=%zu messages=%zu", self->pending_len,
              self->batch_len);
  }
  else if (rc == AT_INVALID)
    s_flush_one_by_one (self);
  else {
    /* Unknown outcome (the connection may have died during COMMIT): the
     * publishers retry, and ON CONFLICT makes a retry of a committed row harmless. */
    brk_store_lost (self);
    for (size_t k = 0; k < self->pending_len; k++)
      brk_wire_busy (self, &self->pending[k].identity, self->pending[k].correlation,
                     S_STORE_RETRY_AFTER_MS, "");
  }
out:
  s_batch_truncate (self, 0);
  self->pending_len = 0;
}
