/* at_msg: one bus message (the Envelope of proto/bus.proto) as the program
 * handles it. protobuf-c types stay in at_msg.c and at the doors. */
#ifndef AT_MSG_H
#define AT_MSG_H

#include "at_common.h"

#define AT_ID_LEN 37          /* UUID text + NUL */
#define AT_STAGE_LEN 32
#define AT_KEY_LEN 160
#define AT_TYPE_LEN 64
#define AT_MSG_PAYLOAD_MAX (1024 * 1024)   /* bigger payloads are refused */
#define AT_TYPE_STORE_REQUEST "store.request"   /* notify: StoreRequest (self-service) */
#define AT_TYPE_RULE_WEBHOOK "rule.webhook"     /* notify: RuleWebhook (a rule's action) */
#define AT_TYPE_LEAD_NOTIFY "lead.notify"       /* notify: LeadNotify (an escalation) */

typedef struct {
  char id[AT_ID_LEN];
  char stage[AT_STAGE_LEN];
  char key[AT_KEY_LEN];
  char type[AT_TYPE_LEN];
  uint32_t attempt;
  int64_t created_us;
  int64_t not_before_us;
  char trace_id[AT_ID_LEN];
  uint8_t *payload;           /* owned */
  size_t payload_len;
} at_msg_t;

/* New message with a fresh UUIDv7 id, attempt 1, created now, the given
 * trace id (NULL: a new one). Copies the payload. NULL if a field is too long. */
at_msg_t *at_msg_new (const char *stage, const char *type, const char *key,
                      const char *trace_id, const void *payload, size_t payload_len);
void at_msg_destroy (at_msg_t **self_p);
at_msg_t *at_msg_dup (const at_msg_t *self);

/* Checks the fields a message must have (stage known, id a UUID, sizes). */
int at_msg_validate (const at_msg_t *self, char *reason, size_t reason_cap);

/* Encodes as an Envelope; *out is malloc'd. */
int at_msg_encode (const at_msg_t *self, uint8_t **out, size_t *out_len);
/* Decodes an Envelope; AT_INVALID (reason set) for bytes that do not decode
 * or break at_msg_validate. */
int at_msg_decode (const uint8_t *data, size_t len, at_msg_t **out, char *reason, size_t reason_cap);

/* True for the four stage names. */
bool at_stage_known (const char *stage);

/* A fresh UUIDv7 in text form. */
void at_uuid_v7 (char out[AT_ID_LEN]);
bool at_uuid_valid (const char *text);

#endif
