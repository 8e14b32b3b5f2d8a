/* at_channel: the channels customers write on and how their handles map to
 * identities (one customer, many identities). */
#ifndef AT_CHANNEL_H
#define AT_CHANNEL_H

#include "at_common.h"

#define AT_HANDLE_MAX 128

/* email whatsapp sms chat messenger instagram form phone */
bool at_channel_known (const char *channel);
/* The identity kind a channel's handle is: email, phone, whatsapp, chat,
 * messenger, instagram. NULL for an unknown channel. */
const char *at_channel_identity_kind (const char *channel);
/* Normalises a handle for its channel into out: email lower-cased and
 * checked for one '@'; phone numbers to E.164 (+digits; a number without
 * country code gets the default country, see below); others trimmed.
 * AT_INVALID when malformed. */
int at_channel_normalize_handle (const char *channel, const char *handle, char *out, size_t cap);

/* The country calling code ("55", "+1") national numbers get. Called once
 * at start with ATENDE_DEFAULT_PHONE_COUNTRY, before threads start (the
 * value is then only read). AT_INVALID unless 1-3 digits not starting 0. */
int at_channel_set_default_country (const char *code);
const char *at_channel_default_country (void);

/* The same phone number as the identity of the other phone kind: a
 * WhatsApp wa_id "5511987654321" <-> phone "+5511987654321". kind is
 * "phone" or "whatsapp"; NULL for other kinds or a malformed value.
 * *other_kind_out gets the other kind. */
const char *at_channel_phone_twin (const char *kind, const char *value, char *out, size_t cap,
                                   const char **other_kind_out);

#endif
