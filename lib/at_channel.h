/* at_channel: the channels customers write on and how their handles map to
 * identities (one customer, many identities). */
#ifndef AT_CHANNEL_H
#define AT_CHANNEL_H

#include "at_common.h"

#define AT_HANDLE_MAX 128

/* email whatsapp sms chat messenger instagram form */
bool at_channel_known (const char *channel);
/* The identity kind a channel's handle is: email, phone, whatsapp, chat,
 * messenger, instagram. NULL for an unknown channel. */
const char *at_channel_identity_kind (const char *channel);
/* Normalises a handle for its channel into out: email lower-cased and
 * checked for one '@'; phone numbers to E.164 (+digits; a number without
 * country code gets +55); others trimmed. AT_INVALID when malformed. */
int at_channel_normalize_handle (const char *channel, const char *handle, char *out, size_t cap);

#endif
