/* at_channel_sig: the signature schemes of the providers whose webhooks
 * atende accepts. Every check runs on the raw bytes received and compares in
 * constant time. Results: AT_OK, AT_INVALID (missing, malformed or wrong
 * signature), AT_STALE (a timestamp outside the replay window).
 *
 *   Meta (WhatsApp, Messenger, Instagram)  X-Hub-Signature-256: "sha256=" + hex
 *       HMAC-SHA256(app secret, body)
 *   Twilio  X-Twilio-Signature: base64 HMAC-SHA1(auth token, URL + the POST
 *       parameters sorted by name, each name followed by its value); for a
 *       JSON body the URL carries bodySHA256 = hex SHA-256(body) and no
 *       parameters are appended. Checked with the URL as given, with the
 *       scheme's default port added (:443, :80) and with it removed.
 *   Mailgun  signature = hex HMAC-SHA256(signing key, timestamp + token)
 *   Standard Webhooks (own JSON): at_webhook_verify in at_crypto.h */
#ifndef AT_CHANNEL_SIG_H
#define AT_CHANNEL_SIG_H

#include "at_common.h"
#include "at_form.h"
#include "at_list.h"

#define AT_SIG_SECRET_MAX 256
#define AT_SIG_URL_MAX 2048

/* The secret of one channel account from a SECRETS setting (at_list.h):
 * a plain secret (every account) or "account=secret,account2=secret2" where
 * "*=secret" applies to accounts not listed. AT_NOTFOUND when the setting is
 * empty or lists neither the account nor "*". */
int at_sig_secret_lookup (const at_list_t *secrets, const char *account, char *out, size_t cap);

/* Meta: header is the X-Hub-Signature-256 value (NULL: missing). */
int at_sig_meta_verify (const char *app_secret, const void *body, size_t len,
                        const char *header);
/* Writes "sha256=<hex>" (for tests and load tools); AT_ERROR if cap < 72. */
int at_sig_meta_sign (const char *app_secret, const void *body, size_t len, char *out,
                      size_t cap);

/* Twilio, form body: the base64 signature of url + sorted params. */
int at_sig_twilio_sign (const char *auth_token, const char *url, const at_form_t *params,
                        char *out, size_t cap);
int at_sig_twilio_verify (const char *auth_token, const char *url, const at_form_t *params,
                          const char *header);
/* Twilio, JSON body: url must hold bodySHA256 = hex SHA-256 of body. */
int at_sig_twilio_verify_body (const char *auth_token, const char *url, const void *body,
                               size_t len, const char *header);
/* Lower-case hex SHA-256 (65 bytes with NUL). */
void at_sig_sha256_hex (const void *data, size_t len, char out[65]);

/* Mailgun: timestamp (unix seconds, decimal) within window_s of now_s. */
int at_sig_mailgun_verify (const char *signing_key, const char *timestamp, const char *token,
                           const char *signature, long long now_s, long window_s);
int at_sig_mailgun_sign (const char *signing_key, const char *timestamp, const char *token,
                         char out[65]);

#endif
