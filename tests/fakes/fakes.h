/* Fake providers for tests: real servers on 127.0.0.1 that record exactly
 * what they were sent and answer as a test tells them.
 *
 *   fake_http  (libmicrohttpd, thread per connection): plays WhatsApp Cloud
 *              API (.../messages), Twilio (.../Messages.json) and generic
 *              webhooks; answers from a script (status, Retry-After, hang),
 *              then a default.
 *   fake_smtp  a tiny SMTP responder (EHLO, MAIL, RCPT, DATA, RSET, NOOP,
 *              QUIT; no TLS): records envelopes and messages; a recipient
 *              containing "reject" gets 550, "later" gets 451.
 *
 * Tests compile them in with #include "../fakes/fake_http.c" (and
 * fake_smtp.c); tests/CMakeLists.txt builds one executable per test file. */
#ifndef FAKES_H
#define FAKES_H

#include <stdbool.h>
#include <stddef.h>

#define FAKE_BODY_MAX 8192
#define FAKE_REQUESTS_MAX 4096

typedef struct {
  char method[8];
  char path[256];
  char authorization[256];
  char content_type[128];
  char idempotency_key[80];
  char webhook_id[80];
  char webhook_signature[160];
  char body[FAKE_BODY_MAX];
  size_t body_len;
  int answered;                 /* status sent back (0: hung up) */
  long long at_us;              /* when it arrived (wall clock) */
} fake_request_t;

typedef struct fake_http fake_http_t;

/* Starts on 127.0.0.1:port; NULL on failure. */
fake_http_t *fake_http_start (int port);
void fake_http_stop (fake_http_t **self_p);
int fake_http_port (const fake_http_t *self);
/* The next `times` requests whose path contains path_part ("" any) get
 * status (0: the connection is closed without an answer after hang_ms),
 * after waiting hang_ms, with Retry-After retry_after (NULL: none). Scripts
 * are used in the order added. */
void fake_http_script (fake_http_t *self, const char *path_part, int status,
                       const char *retry_after, int hang_ms, int times);
/* Message ids the WhatsApp answers carry: unique across runs, as a real
 * provider's (NULL), or this one id every time (a provider that reuses
 * ids). */
void fake_http_fixed_message_id (fake_http_t *self, const char *id);
/* What requests not matched by a script get (default 200, no hang). */
void fake_http_default (fake_http_t *self, int status, int hang_ms);
int fake_http_count (fake_http_t *self);
/* Copy of request i (0-based, arrival order); false when out of range. */
bool fake_http_get (fake_http_t *self, int i, fake_request_t *out);
/* Requests whose path contains path_part ("" any) and answered 2xx. */
int fake_http_accepted (fake_http_t *self, const char *path_part);
/* Idempotency keys accepted (2xx) more than once: messages a customer
 * would have received twice if the provider did not deduplicate. */
int fake_http_accepted_twice (fake_http_t *self);
/* Distinct idempotency keys accepted (2xx) at least once. */
int fake_http_accepted_distinct (fake_http_t *self);
/* TCP connections accepted so far (keep-alive reuse shows as few). */
int fake_http_connections (fake_http_t *self);
void fake_http_dump (fake_http_t *self);
/* Called (under the fake's lock, keep it short) for every request as it
 * arrives, with its path and body: load tools time deliveries with it. */
void fake_http_on_request (fake_http_t *self,
                           void (*cb) (const char *path, const char *body, size_t len, void *arg),
                           void *arg);

typedef struct {
  char mail_from[256];
  char rcpt[256];
  char data[FAKE_BODY_MAX];
  size_t data_len;
} fake_mail_t;

typedef struct fake_smtp fake_smtp_t;

fake_smtp_t *fake_smtp_start (int port);
void fake_smtp_stop (fake_smtp_t **self_p);
int fake_smtp_count (fake_smtp_t *self);
bool fake_smtp_get (fake_smtp_t *self, int i, fake_mail_t *out);
int fake_smtp_connections (fake_smtp_t *self);

#endif
