/* at_meta: Meta's webhook JSON (WhatsApp Cloud API, Messenger, Instagram)
 * into the customer messages and delivery statuses it carries.
 *
 *   object "whatsapp_business_account": entry[].changes[] with field
 *     "messages": value.metadata.phone_number_id (our account),
 *     value.contacts[] (wa_id, profile.name), value.messages[] (id = wamid,
 *     from = wa_id, timestamp, type + text.body / button.text /
 *     interactive.*_reply.title / image|video|document|audio|sticker with an
 *     optional caption, location), value.statuses[] (id = wamid of OUR
 *     message, status sent|delivered|read|failed, recipient_id, timestamp,
 *     errors[0]).
 *   object "page" (Messenger) / "instagram": entry[].id (our page or account),
 *     entry[].messaging[] with sender.id (page-scoped id), recipient.id,
 *     timestamp (ms), message.mid, message.text or message.attachments[];
 *     echoes of our own messages (is_echo) are skipped.
 *
 * Messages with nothing a person could read (reactions, unsupported types,
 * postbacks without title, read receipts) are counted in `skipped`, not
 * refused. The parse is all or nothing: malformed JSON, a wrong type where a
 * field is required, or more than AT_META_ITEMS_MAX items -> AT_INVALID. */
#ifndef AT_META_H
#define AT_META_H

#include "at_common.h"

#define AT_META_ITEMS_MAX 256        /* messages + statuses in one delivery */
#define AT_META_ID_MAX 256           /* wamid, mid, psid, ids */
#define AT_META_NAME_MAX 256
#define AT_META_TEXT_MAX (64 * 1024)

typedef struct {
  char channel[16];                  /* whatsapp | messenger | instagram */
  char account[AT_META_ID_MAX];      /* phone_number_id, page id, instagram id */
  char sender[AT_META_ID_MAX];       /* wa_id or page-scoped id */
  char name[AT_META_NAME_MAX];       /* "" when not given */
  char id[AT_META_ID_MAX];           /* wamid / mid */
  char *text;                        /* owned, 1..AT_META_TEXT_MAX bytes */
  int64_t timestamp_us;              /* 0 when absent */
} at_meta_message_t;

typedef struct {
  char account[AT_META_ID_MAX];      /* phone_number_id */
  char id[AT_META_ID_MAX];           /* wamid of our outbound message */
  char status[16];                   /* sent delivered read failed ... */
  char recipient[AT_META_ID_MAX];
  char error[256];                   /* "code title" of errors[0], "" when none */
  int64_t timestamp_us;
} at_meta_status_t;

typedef struct {
  char object[32];                   /* whatsapp_business_account | page | instagram */
  char account[AT_META_ID_MAX];      /* the first account named (chooses the app secret) */
  at_meta_message_t *messages;
  size_t message_count;
  at_meta_status_t *statuses;
  size_t status_count;
  size_t skipped;
} at_meta_batch_t;

/* Parses body; *out (caller destroys) on AT_OK, else AT_INVALID and a reason. */
int at_meta_parse (const char *body, size_t len, at_meta_batch_t **out, char *reason,
                   size_t reason_cap);
void at_meta_batch_destroy (at_meta_batch_t **self_p);

#endif
