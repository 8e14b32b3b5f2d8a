/* api_channels: the providers' inbound webhooks (one file per provider
 * family) and what they share: the 401 answer, the public URL a provider
 * signs, and publishing a customer's message or a delivery status.
 *
 *   GET  /v1/channels/whatsapp    Meta's hub.challenge handshake
 *   POST /v1/channels/whatsapp    WhatsApp Cloud API (messages, statuses)
 *   GET|POST /v1/channels/messenger, /v1/channels/instagram   Meta pages
 *   POST /v1/channels/twilio      Twilio SMS and WhatsApp (form or JSON body)
 *   POST /v1/channels/mailgun     Mailgun inbound route (parsed form)
 *   POST /v1/channels/chat        the store's web chat (own JSON, Standard Webhooks)
 *   POST /v1/channels/form        the store's contact form (same)
 *   POST /v1/channels/twilio/voice  Twilio Voice call callbacks (channel "phone")
 *   POST /v1/channels/phone       the store's telephony (own JSON, Standard Webhooks)
 *
 * A bad or missing signature gets 401 and nothing is stored or published.
 * The doors call api_channel_common.c and the request, answer and thread
 * files below it (api_internal.h), never each other. */
#ifndef API_CHANNELS_H
#define API_CHANNELS_H

#include "api_internal.h"
#include "at_form.h"

#define API_CHANNEL_TYPE_NOTIFICATION_STATUS "notification.status"   /* stage notify */

/* One customer message as a door read it (borrowed strings; name, subject
 * may be NULL). */
typedef struct {
  const char *channel;
  const char *handle;
  const char *name;
  const char *text;
  const char *provider_message_id;
  const char *subject;
  int64_t received_us;          /* 0: now */
} api_channel_inbound_t;

/* Normalises the handle, checks the text (UTF-8, not empty, capped) and
 * publishes an InboundMessage exactly as POST /v1/messages does. AT_INVALID:
 * the message is unusable (logged, nothing answered: the caller skips it);
 * another failure: the answer (503/500) is already set on req. */
int api_channel_publish (api_request_t *req, const api_channel_inbound_t *in);

/* Publishes a provider's delivery report of one of OUR messages as a
 * NotificationStatus for notify. Same results as api_channel_publish. */
int api_channel_publish_status (api_request_t *req, const char *provider,
                                const char *provider_message_id, const char *status,
                                int64_t occurred_us, const char *error);

/* X-Twilio-Signature over the public URL (api_channel_public_url) with the
 * auth token of the form's AccountSid: over the sorted POST parameters of a
 * form, or bodySHA256 for a JSON body (json true). parsed is the result of
 * reading the body: a body that did not parse was not signed by Twilio.
 * false: a 401 is already set on req. */
bool api_channel_twilio_signed (api_request_t *req, const at_form_t *form, bool json,
                                int parsed);

/* Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature) over
 * the body with secret (the setting named setting), the timestamp within
 * ATENDE_INBOUND_TOLERANCE_S, an id of at most id_max bytes. false: a 401
 * is already set on req. */
bool api_channel_standard_signed (api_request_t *req, const char *secret, const char *setting,
                                  size_t id_max);

/* 401 problem document: "detail" says what is wrong, never a secret. */
void api_channel_unauthorized (api_request_t *req, const char *detail);
/* A 400/415/503 problem in one line. */
void api_channel_refuse (api_request_t *req, int status, const char *detail);
/* The URL the provider called: public_url_base + path + "?" + the query
 * arguments re-encoded (RFC 3986 unreserved characters kept). AT_INVALID
 * when public_url_base is not set or the URL is longer than cap. */
int api_channel_public_url (const api_request_t *req, char *out, size_t cap);

/* Handlers */
void api_channel_meta_verify (api_request_t *req);     /* GET, all three Meta paths */
void api_channel_whatsapp_post (api_request_t *req);
void api_channel_messenger_post (api_request_t *req);
void api_channel_instagram_post (api_request_t *req);
void api_channel_twilio_post (api_request_t *req);
void api_channel_mailgun_post (api_request_t *req);
void api_channel_chat_post (api_request_t *req);
void api_channel_form_post (api_request_t *req);
void api_channel_twilio_voice_post (api_request_t *req);   /* api_channel_voice.c */
void api_channel_phone_post (api_request_t *req);          /* api_channel_voice.c */

#endif
