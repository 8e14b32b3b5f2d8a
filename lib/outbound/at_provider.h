/* at_provider: the providers notify delivers through (WhatsApp Cloud API,
 * Twilio Messages, SMTP, the signed generic webhook), their guards (a token
 * bucket and a circuit breaker per provider and process) and one sender that
 * runs the calls of a batch concurrently on libcurl's multi interface with
 * connections kept alive from one batch to the next.
 *
 *   lib/outbound/provider.c          providers, settings, guards, metrics
 *   lib/outbound/provider_formats.c  each provider's request and how its answer is read
 *   lib/outbound/provider_http.c     the sender (curl multi) */
#ifndef AT_PROVIDER_H
#define AT_PROVIDER_H

#include "at_common.h"
#include "at_metrics.h"

#define AT_PROVIDER_NAME_LEN 24
#define AT_PROVIDER_ID_LEN 128
#define AT_PROVIDER_ERROR_LEN 256
#define AT_PROVIDER_ANSWER_MAX 4096   /* bytes of an answer kept for parsing */

typedef enum {
  AT_PROVIDER_WEBHOOK,     /* Standard Webhooks POST of atende's JSON */
  AT_PROVIDER_WHATSAPP,    /* POST {base}/{version}/{phone_number_id}/messages, Bearer */
  AT_PROVIDER_TWILIO,      /* POST {base}/2010-04-01/Accounts/{sid}/Messages.json, basic auth */
  AT_PROVIDER_SMTP,        /* libcurl smtp:// or smtps://, STARTTLS required by default */
} at_provider_kind_t;

/* A provider's settings; strings are copied by at_provider_new. */
typedef struct {
  const char *url;               /* webhook: full URL; whatsapp/twilio: base URL; smtp: smtp://host:port */
  const char *secret;            /* webhook: whsec_ secret */
  const char *api_version;       /* whatsapp: v21.0 */
  const char *account;           /* whatsapp: phone number id; twilio: AccountSid; smtp: user */
  const char *token;             /* whatsapp: access token; twilio: auth token; smtp: password */
  const char *from;              /* twilio: From number or MessagingServiceSid (MG...); smtp: From address */
  const char *status_callback;   /* twilio: StatusCallback URL ("" none) */
  const char *tls;               /* smtp: all | try | none */
  const char *message_id_domain; /* smtp: Message-ID <atende.<notification id>@domain> */
  long timeout_ms;
  long rate_per_sec;             /* token bucket: refill rate (0: unlimited) */
  long burst;                    /* token bucket: size */
  long breaker_failures;         /* consecutive failures that open the breaker */
  long breaker_cooldown_ms;      /* open -> half-open after this */
} at_provider_conf_t;

/* --- guards ------------------------------------------------------------- */

typedef struct {
  double tokens, rate, burst;
  int64_t last_ms;
} at_bucket_t;

void at_bucket_init (at_bucket_t *b, long rate_per_sec, long burst, int64_t now_ms);
/* Takes a token: 0 when taken, else the milliseconds until one is there. */
int64_t at_bucket_take (at_bucket_t *b, int64_t now_ms);

typedef enum { AT_BREAKER_CLOSED, AT_BREAKER_OPEN, AT_BREAKER_HALF_OPEN } at_breaker_state_t;

typedef struct {
  at_breaker_state_t state;
  long failures;                 /* consecutive */
  long threshold, cooldown_ms;
  int64_t opened_ms;
  bool probing;                  /* half-open: the one probe is out */
  uint64_t opened_total;
} at_breaker_t;

void at_breaker_init (at_breaker_t *b, long threshold, long cooldown_ms);
/* May a call go now? Open: no until the cool-down has passed, then one probe
 * (half-open). *wait_ms (optional) gets how long until it may. */
bool at_breaker_allow (at_breaker_t *b, int64_t now_ms, int64_t *wait_ms);
/* The outcome of a call that was allowed. Returns true when the state changed. */
bool at_breaker_record (at_breaker_t *b, bool success, int64_t now_ms);
const char *at_breaker_state_name (at_breaker_state_t s);

/* --- messages ----------------------------------------------------------- */

/* One message to one provider, and what came back. */
typedef struct {
  const char *id;                /* notification UUID: the idempotency key */
  const char *kind;              /* reply auto_reply order_status survey */
  const char *channel;
  const char *to;                /* recipient on the channel */
  const char *text;
  const char *subject;           /* email; NULL: a default in locale */
  const char *locale;            /* the customer's (pt-BR en es; NULL: pt-BR) */
  const char *template_name;     /* whatsapp: non-NULL sends this approved template */
  const char *template_lang;     /* whatsapp template language (pt_BR en es) */
  const char *survey_kind;       /* whatsapp, no template: csat | nps sends an interactive
                                    list of scores (ids csat:N, nps:N); NULL: plain text */
  const char *order_id;          /* NULL: none */
  int64_t ticket_id;             /* 0: none */
  int64_t created_us;
  const char *event_type;        /* the webhook body's "type"; NULL: "message.send" */
  /* results */
  int outcome;                   /* AT_OK, AT_AGAIN (retryable), AT_INVALID (permanent) */
  long status;                   /* HTTP status or SMTP reply code; 0: no answer */
  int64_t retry_after_ms;        /* from Retry-After; -1: none */
  char provider_message_id[AT_PROVIDER_ID_LEN];
  char error[AT_PROVIDER_ERROR_LEN];
} at_provider_msg_t;

typedef struct at_provider at_provider_t;

/* NULL (logged) when a required setting of that kind is missing. */
at_provider_t *at_provider_new (const char *name, at_provider_kind_t kind,
                                const at_provider_conf_t *conf);
void at_provider_destroy (at_provider_t **self_p);
const char *at_provider_name (const at_provider_t *self);
at_provider_kind_t at_provider_kind (const at_provider_t *self);
const at_provider_conf_t *at_provider_conf (const at_provider_t *self);
/* webhook whatsapp twilio smtp; AT_INVALID for another name. */
int at_provider_kind_parse (const char *text, at_provider_kind_t *out);
at_breaker_t *at_provider_breaker (at_provider_t *self);
at_bucket_t *at_provider_bucket (at_provider_t *self);
/* The guards before a call: AT_OK, or AT_BUSY with *wait_ms (rate limit or
 * breaker open). */
int at_provider_admit (at_provider_t *self, int64_t now_ms, int64_t *wait_ms);
/* After a call that was admitted: counts it, feeds the breaker, logs state
 * changes. */
void at_provider_observe (at_provider_t *self, const at_provider_msg_t *m, int64_t now_ms);

/* --- metrics (lib/core/at_metrics.h) -------------------------------------- */

/* The providers' families, registered once in a registry and shared by its
 * providers, one series per provider (and outcome):
 *   atende_provider_breaker_open{provider}          gauge: 1 while open, else 0
 *   atende_provider_breaker_opened_total{provider}  counter
 *   atende_provider_calls_total{provider,outcome}   counter: outcome ok, retryable
 *                                                   or permanent */
typedef struct {
  at_metric_t *breaker_open;
  at_metric_t *breaker_opened;
  at_metric_t *calls;
} at_provider_metrics_t;

/* Registers the families in registry (handles owned by it). AT_INVALID
 * (logged) when one could not be (its name taken): that one stays NULL. */
int at_provider_metrics_register (at_provider_metrics_t *self, at_metrics_t *registry);
/* The provider counts in these families from now on (the registry must
 * outlive it); its series are shown at once. Without it a provider counts
 * nothing. */
void at_provider_metrics_attach (at_provider_t *self, const at_provider_metrics_t *metrics);

/* --- formats (lib/outbound/provider_formats.c): pure, unit-tested ---------------- */

/* HTTP status to outcome: 2xx OK; 408, 425, 429, 5xx and no answer AGAIN;
 * other 4xx INVALID. */
int at_provider_classify_http (long status);
/* SMTP reply code to outcome: 2xx OK, 4xx AGAIN, 5xx INVALID, 0 AGAIN. */
int at_provider_classify_smtp (long code);
/* Retry-After: delta-seconds or an HTTP-date, in ms from now_s; -1 when
 * absent or malformed; capped at one day. */
int64_t at_provider_retry_after_ms (const char *value, int64_t now_s);
/* Exponential backoff with jitter (half to full of base*2^(attempt-1),
 * capped at max), never sooner than retry_after_ms. rnd: any random word. */
int64_t at_provider_backoff_ms (int attempt, long base_ms, long max_ms, int64_t retry_after_ms,
                                uint64_t rnd);

/* Request bodies (malloc'd; NULL when a field cannot be written). */
char *at_provider_whatsapp_body (const at_provider_msg_t *m);
char *at_provider_twilio_body (const at_provider_msg_t *m, const char *from,
                               const char *status_callback);
char *at_provider_webhook_body (const at_provider_msg_t *m);
/* An RFC 5322 message (GMime) with CRLF line ends: From, To, Subject
 * (RFC 2047, folded; the default is "<Order> <id>" in m->locale), Date,
 * Message-ID <atende.<notification id>@message_id_domain>, a text/plain
 * UTF-8 body (quoted-printable or base64). NULL for an address or a domain
 * that is not one line of text, or a text over 256 KiB. */
char *at_provider_smtp_message (const at_provider_msg_t *m, const char *from,
                                const char *message_id_domain, int64_t now_us);

/* Reads a provider's answer into m (outcome, provider_message_id, error). */
void at_provider_whatsapp_answer (at_provider_msg_t *m, long status, const char *body, size_t len);
void at_provider_twilio_answer (at_provider_msg_t *m, long status, const char *body, size_t len);
void at_provider_webhook_answer (at_provider_msg_t *m, long status, const char *body, size_t len);

/* --- the sender (lib/outbound/provider_http.c) ----------------------------------- */

typedef struct {
  at_provider_t *provider;
  at_provider_msg_t *msg;
} at_provider_call_t;

typedef struct at_sender at_sender_t;

/* concurrency: calls in flight at once. */
at_sender_t *at_sender_new (long concurrency);
void at_sender_destroy (at_sender_t **self_p);
/* Called while a run waits: done right after each call's answer (record it
 * now: what is recorded as delivered is never sent again), tick about every
 * tick_ms (keep leases alive, flush records). All optional. */
typedef struct {
  void (*done) (at_provider_call_t *call, void *arg);
  void (*tick) (void *arg);
  void *arg;
  long tick_ms;                  /* 0: 200 */
} at_sender_hooks_t;

/* Runs the n calls, fills each message's results. */
int at_sender_run (at_sender_t *self, at_provider_call_t *calls, size_t n,
                   const at_sender_hooks_t *hooks);
/* Connections opened since the sender was created (keep-alive shows as few). */
long at_sender_connects (const at_sender_t *self);

#endif
