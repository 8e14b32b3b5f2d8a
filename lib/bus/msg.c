/* Bus messages: UUIDv7 ids, validation, Envelope encoding (protobuf-c). */
#include "at_msg.h"
#include "at_msg_pb.h"
#include "at_crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_stages[] = {AT_STAGE_INGEST, AT_STAGE_ROUTE, AT_STAGE_NOTIFY,
                                       AT_STAGE_SURVEY};

bool
at_stage_known (const char *stage)
{
  for (size_t i = 0; i < AT_ARRAY_LEN (s_stages); i++)
    if (strcmp (stage, s_stages[i]) == 0)
      return true;
  return false;
}

void
at_uuid_v7 (char out[AT_ID_LEN])
{
  uint8_t b[16];
  uint64_t ms = (uint64_t) (at_now_us () / 1000);
  if (at_random_bytes (b, sizeof b) != AT_OK)
    abort ();   /* no entropy: refusing to make guessable ids */
  for (int i = 0; i < 6; i++)
    b[i] = (uint8_t) (ms >> (8 * (5 - i)));
  b[6] = (uint8_t) (0x70 | (b[6] & 0x0f));
  b[8] = (uint8_t) (0x80 | (b[8] & 0x3f));
  snprintf (out, AT_ID_LEN,
            "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
            b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
            b[15]);
}

bool
at_uuid_valid (const char *text)
{
  if (text == NULL || strlen (text) != 36)
    return false;
  for (int i = 0; i < 36; i++) {
    char c = text[i];
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  }
  return true;
}

static bool
s_fits (const char *s, size_t cap)
{
  return s != NULL && strlen (s) < cap;
}

at_msg_t *
at_msg_new (const char *stage, const char *type, const char *key, const char *trace_id,
            const void *payload, size_t payload_len)
{
  if (!s_fits (stage, AT_STAGE_LEN) || !s_fits (type, AT_TYPE_LEN) || !s_fits (key, AT_KEY_LEN)
      || payload_len > AT_MSG_PAYLOAD_MAX || (trace_id && !s_fits (trace_id, AT_ID_LEN)))
    return NULL;
  at_msg_t *self = at_calloc (1, sizeof *self);
  at_uuid_v7 (self->id);
  at_strlcpy (self->stage, stage, sizeof self->stage);
  at_strlcpy (self->type, type, sizeof self->type);
  at_strlcpy (self->key, key, sizeof self->key);
  if (trace_id && *trace_id)
    at_strlcpy (self->trace_id, trace_id, sizeof self->trace_id);
  else
    at_uuid_v7 (self->trace_id);
  self->attempt = 1;
  self->created_us = at_now_us ();
  self->payload = at_malloc (payload_len);
  if (payload_len)
    memcpy (self->payload, payload, payload_len);
  self->payload_len = payload_len;
  return self;
}

void
at_msg_destroy (at_msg_t **self_p)
{
  if (self_p == NULL || *self_p == NULL)
    return;
  free ((*self_p)->payload);
  free (*self_p);
  *self_p = NULL;
}

at_msg_t *
at_msg_dup (const at_msg_t *self)
{
  at_msg_t *copy = at_malloc (sizeof *copy);
  *copy = *self;
  copy->payload = at_malloc (self->payload_len);
  if (self->payload_len)
    memcpy (copy->payload, self->payload, self->payload_len);
  return copy;
}

int
at_msg_validate (const at_msg_t *self, char *reason, size_t cap)
{
  const char *why = NULL;
  if (!at_uuid_valid (self->id))
    why = "id is not a lower-case UUID";
  else if (!at_stage_known (self->stage))
    why = "unknown stage";
  else if (self->type[0] == '\0')
    why = "type is empty";
  else if (self->key[0] == '\0')
    why = "key is empty";
  else if (self->attempt == 0)
    why = "attempt is 0";
  else if (self->payload_len > AT_MSG_PAYLOAD_MAX)
    why = "payload too large";
  if (why == NULL)
    return AT_OK;
  if (reason)
    at_strlcpy (reason, why, cap);
  return AT_INVALID;
}

void
at_msg_to_pb (const at_msg_t *msg, Atende__Bus__Envelope *pb)
{
  atende__bus__envelope__init (pb);
  pb->id = (char *) msg->id;
  pb->stage = (char *) msg->stage;
  pb->key = (char *) msg->key;
  pb->type = (char *) msg->type;
  pb->attempt = msg->attempt;
  pb->created_us = msg->created_us;
  pb->trace_id = (char *) msg->trace_id;
  pb->payload.data = msg->payload;
  pb->payload.len = msg->payload_len;
  pb->not_before_us = msg->not_before_us;
}

int
at_msg_from_pb (const Atende__Bus__Envelope *pb, at_msg_t **out, char *reason, size_t cap)
{
  *out = NULL;
  const char *why = NULL;
  if (!s_fits (pb->id, AT_ID_LEN) || !s_fits (pb->stage, AT_STAGE_LEN))
    why = "id or stage too long";
  else if (!s_fits (pb->key, AT_KEY_LEN) || !s_fits (pb->type, AT_TYPE_LEN))
    why = "key or type too long";
  else if (!s_fits (pb->trace_id, AT_ID_LEN))
    why = "trace_id too long";
  else if (pb->payload.len > AT_MSG_PAYLOAD_MAX)
    why = "payload too large";
  if (why) {
    if (reason)
      at_strlcpy (reason, why, cap);
    return AT_INVALID;
  }
  at_msg_t *self = at_calloc (1, sizeof *self);
  at_strlcpy (self->id, pb->id, sizeof self->id);
  at_strlcpy (self->stage, pb->stage, sizeof self->stage);
  at_strlcpy (self->key, pb->key, sizeof self->key);
  at_strlcpy (self->type, pb->type, sizeof self->type);
  at_strlcpy (self->trace_id, pb->trace_id, sizeof self->trace_id);
  self->attempt = pb->attempt;
  self->created_us = pb->created_us;
  self->not_before_us = pb->not_before_us;
  self->payload = at_malloc (pb->payload.len);
  if (pb->payload.len)
    memcpy (self->payload, pb->payload.data, pb->payload.len);
  self->payload_len = pb->payload.len;
  if (at_msg_validate (self, reason, cap) != AT_OK) {
    at_msg_destroy (&self);
    return AT_INVALID;
  }
  *out = self;
  return AT_OK;
}

int
at_msg_encode (const at_msg_t *self, uint8_t **out, size_t *out_len)
{
  Atende__Bus__Envelope pb;
  at_msg_to_pb (self, &pb);
  size_t len = atende__bus__envelope__get_packed_size (&pb);
  *out = at_malloc (len);
  *out_len = atende__bus__envelope__pack (&pb, *out);
  return AT_OK;
}

int
at_msg_decode (const uint8_t *data, size_t len, at_msg_t **out, char *reason, size_t cap)
{
  *out = NULL;
  Atende__Bus__Envelope *pb = atende__bus__envelope__unpack (NULL, len, data);
  if (pb == NULL) {
    if (reason)
      at_strlcpy (reason, "envelope does not decode", cap);
    return AT_INVALID;
  }
  int rc = at_msg_from_pb (pb, out, reason, cap);
  atende__bus__envelope__free_unpacked (pb, NULL);
  return rc;
}
