/* at_provider: configured providers, their guards (token bucket, circuit
 * breaker) and their metrics. Guards are per provider and per process: one
 * notify worker process limits its own rate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "at_provider.h"
#include "at_log.h"
#include "at_metrics.h"
#include "at_webhook.h"

#define S_COMP "provider"

struct at_provider {
  char name[AT_PROVIDER_NAME_LEN];
  at_provider_kind_t kind;
  at_provider_conf_t conf;       /* strings owned */
  at_bucket_t bucket;
  at_breaker_t breaker;
  at_provider_metrics_t metrics; /* handles into a registry; NULL: none */
};

/* --- token bucket ------------------------------------------------------- */

void
at_bucket_init (at_bucket_t *b, long rate_per_sec, long burst, int64_t now_ms)
{
  b->rate = rate_per_sec > 0 ? (double) rate_per_sec : 0;
  b->burst = burst > 0 ? (double) burst : (b->rate > 0 ? b->rate : 1);
  b->tokens = b->burst;
  b->last_ms = now_ms;
}

int64_t
at_bucket_take (at_bucket_t *b, int64_t now_ms)
{
  if (b->rate <= 0)
    return 0;
  if (now_ms > b->last_ms) {
    b->tokens += (double) (now_ms - b->last_ms) * b->rate / 1000.0;
    if (b->tokens > b->burst)
      b->tokens = b->burst;
    b->last_ms = now_ms;
  }
  if (b->tokens >= 1.0) {
    b->tokens -= 1.0;
    return 0;
  }
  int64_t wait = (int64_t) ((1.0 - b->tokens) * 1000.0 / b->rate) + 1;
  return wait > 0 ? wait : 1;
}

/* --- circuit breaker ---------------------------------------------------- */

void
at_breaker_init (at_breaker_t *b, long threshold, long cooldown_ms)
{
  memset (b, 0, sizeof *b);
  b->threshold = threshold > 0 ? threshold : 5;
  b->cooldown_ms = cooldown_ms > 0 ? cooldown_ms : 30000;
}

bool
at_breaker_allow (at_breaker_t *b, int64_t now_ms, int64_t *wait_ms)
{
  int64_t wait = 0;
  bool allow = true;
  if (b->state == AT_BREAKER_OPEN) {
    if (now_ms - b->opened_ms >= b->cooldown_ms) {
      b->state = AT_BREAKER_HALF_OPEN;
      b->probing = false;
    } else {
      allow = false;
      wait = b->cooldown_ms - (now_ms - b->opened_ms);
    }
  }
  if (b->state == AT_BREAKER_HALF_OPEN) {
    if (b->probing) {
      allow = false;
      wait = b->cooldown_ms / 4 > 0 ? b->cooldown_ms / 4 : 1;
    } else {
      b->probing = true;   /* this call is the probe */
    }
  }
  if (wait_ms)
    *wait_ms = wait;
  return allow;
}

bool
at_breaker_record (at_breaker_t *b, bool success, int64_t now_ms)
{
  at_breaker_state_t before = b->state;
  if (success) {
    b->failures = 0;
    b->state = AT_BREAKER_CLOSED;
    b->probing = false;
  } else {
    b->failures++;
    if (b->state == AT_BREAKER_HALF_OPEN || b->failures >= b->threshold) {
      if (b->state != AT_BREAKER_OPEN)
        b->opened_total++;
      b->state = AT_BREAKER_OPEN;
      b->opened_ms = now_ms;
      b->probing = false;
    }
  }
  return before != b->state;
}

const char *
at_breaker_state_name (at_breaker_state_t s)
{
  return s == AT_BREAKER_OPEN ? "open" : s == AT_BREAKER_HALF_OPEN ? "half_open" : "closed";
}

/* --- providers ---------------------------------------------------------- */

int
at_provider_kind_parse (const char *text, at_provider_kind_t *out)
{
  static const struct { const char *name; at_provider_kind_t kind; } kinds[] = {
    {"webhook", AT_PROVIDER_WEBHOOK}, {"whatsapp", AT_PROVIDER_WHATSAPP},
    {"twilio", AT_PROVIDER_TWILIO},   {"smtp", AT_PROVIDER_SMTP},
  };
  for (size_t i = 0; text && i < AT_ARRAY_LEN (kinds); i++)
    if (strcmp (text, kinds[i].name) == 0) {
      *out = kinds[i].kind;
      return AT_OK;
    }
  return AT_INVALID;
}

static char *
s_dup (const char *s)
{
  return at_strdup (s ? s : "");
}

/* The settings each kind cannot do without; the name of the first missing. */
static const char *
s_missing (at_provider_kind_t kind, const at_provider_conf_t *c)
{
  if (!c->url || !*c->url)
    return "url";
  switch (kind) {
  case AT_PROVIDER_WEBHOOK:
    return at_webhook_secret_valid (c->secret) ? NULL : "secret (whsec_...)";
  case AT_PROVIDER_WHATSAPP:
    if (!c->account || !*c->account)
      return "phone number id";
    if (!c->api_version || !*c->api_version)
      return "api version";
    return c->token && *c->token ? NULL : "access token";
  case AT_PROVIDER_TWILIO:
    if (!c->account || !*c->account)
      return "account sid";
    if (!c->from || !*c->from)
      return "from";
    return c->token && *c->token ? NULL : "auth token";
  case AT_PROVIDER_SMTP:
    return c->from && *c->from ? NULL : "from address";
  }
  return "kind";
}

at_provider_t *
at_provider_new (const char *name, at_provider_kind_t kind, const at_provider_conf_t *conf)
{
  const char *missing = s_missing (kind, conf);
  if (!name || !*name || strlen (name) >= AT_PROVIDER_NAME_LEN || missing) {
    at_error (S_COMP, "msg=\"provider not configured\" provider=%s missing=\"%s\"",
              name ? name : "", missing ? missing : "name");
    return NULL;
  }
  at_provider_t *self = at_calloc (1, sizeof *self);
  at_strlcpy (self->name, name, sizeof self->name);
  self->kind = kind;
  self->conf = *conf;
  self->conf.url = s_dup (conf->url);
  self->conf.secret = s_dup (conf->secret);
  self->conf.api_version = s_dup (conf->api_version);
  self->conf.account = s_dup (conf->account);
  self->conf.token = s_dup (conf->token);
  self->conf.from = s_dup (conf->from);
  self->conf.status_callback = s_dup (conf->status_callback);
  self->conf.message_id_domain = s_dup (conf->message_id_domain && *conf->message_id_domain
                                          ? conf->message_id_domain : "atende.invalid");
  self->conf.tls = s_dup (conf->tls && *conf->tls ? conf->tls : "all");
  if (self->conf.timeout_ms <= 0)
    self->conf.timeout_ms = 10000;
  at_bucket_init (&self->bucket, conf->rate_per_sec, conf->burst, at_mono_ms ());
  at_breaker_init (&self->breaker, conf->breaker_failures, conf->breaker_cooldown_ms);
  return self;
}

static void
s_free_secret (const char *s)
{
  char *p = (char *) s;
  if (p)
    memset (p, 0, strlen (p));
  free (p);
}

void
at_provider_destroy (at_provider_t **self_p)
{
  if (!self_p || !*self_p)
    return;
  at_provider_t *self = *self_p;
  free ((char *) self->conf.url);
  s_free_secret (self->conf.secret);
  free ((char *) self->conf.api_version);
  free ((char *) self->conf.account);
  s_free_secret (self->conf.token);
  free ((char *) self->conf.from);
  free ((char *) self->conf.status_callback);
  free ((char *) self->conf.tls);
  free ((char *) self->conf.message_id_domain);
  free (self);
  *self_p = NULL;
}

const char *
at_provider_name (const at_provider_t *self)
{
  return self->name;
}

at_provider_kind_t
at_provider_kind (const at_provider_t *self)
{
  return self->kind;
}

const at_provider_conf_t *
at_provider_conf (const at_provider_t *self)
{
  return &self->conf;
}

at_breaker_t *
at_provider_breaker (at_provider_t *self)
{
  return &self->breaker;
}

at_bucket_t *
at_provider_bucket (at_provider_t *self)
{
  return &self->bucket;
}

/* The breaker's series, after its state changed (or when first attached). */
static void
s_breaker_metrics (at_provider_t *self)
{
  const char *const labels[] = {self->name};
  at_metric_set (self->metrics.breaker_open, labels,
                 self->breaker.state == AT_BREAKER_OPEN ? 1 : 0);
  at_metric_set (self->metrics.breaker_opened, labels, (double) self->breaker.opened_total);
}

int
at_provider_admit (at_provider_t *self, int64_t now_ms, int64_t *wait_ms)
{
  int64_t wait = 0;
  at_breaker_state_t before = self->breaker.state;
  if (!at_breaker_allow (&self->breaker, now_ms, &wait)) {
    *wait_ms = wait;
    return AT_BUSY;
  }
  if (before != self->breaker.state) {
    at_info (S_COMP, "msg=\"circuit breaker half-open, probing\" provider=%s", self->name);
    s_breaker_metrics (self);
  }
  wait = at_bucket_take (&self->bucket, now_ms);
  if (wait > 0) {
    if (self->breaker.state == AT_BREAKER_HALF_OPEN)
      self->breaker.probing = false;   /* the probe did not go out */
    *wait_ms = wait;
    return AT_BUSY;
  }
  *wait_ms = 0;
  return AT_OK;
}

void
at_provider_observe (at_provider_t *self, const at_provider_msg_t *m, int64_t now_ms)
{
  const char *outcome = m->outcome == AT_OK ? "ok"
                        : m->outcome == AT_INVALID ? "permanent" : "retryable";
  at_metric_add (self->metrics.calls, (const char *[]) {self->name, outcome}, 1);
  /* A permanent answer is about the message, not the provider's health. */
  bool healthy = m->outcome != AT_AGAIN;
  if (!at_breaker_record (&self->breaker, healthy, now_ms))
    return;
  s_breaker_metrics (self);
  at_log (self->breaker.state == AT_BREAKER_OPEN ? AT_LOG_WARN : AT_LOG_INFO, S_COMP,
          "msg=\"circuit breaker %s\" provider=%s breaker_state=%s failures=%ld"
          " opened_total=%llu last_error=\"%s\"",
          self->breaker.state == AT_BREAKER_OPEN ? "opened" : "closed", self->name,
          at_breaker_state_name (self->breaker.state), self->breaker.failures,
          (unsigned long long) self->breaker.opened_total, m->error);
}

/* --- metrics ------------------------------------------------------------ */

int
at_provider_metrics_register (at_provider_metrics_t *self, at_metrics_t *registry)
{
  *self = (at_provider_metrics_t) {
    .breaker_open = at_metrics_gauge (
        registry, "atende_provider_breaker_open",
        "1 while the provider's circuit breaker is open (calls held back), else 0.", "provider"),
    .breaker_opened = at_metrics_counter (registry, "atende_provider_breaker_opened_total",
                                          "Times the provider's circuit breaker opened.",
                                          "provider"),
    .calls = at_metrics_counter (
        registry, "atende_provider_calls_total",
        "Calls to the provider, by outcome: ok, retryable (tried again later) or permanent"
        " (failed for good).", "provider,outcome"),
  };
  return self->breaker_open && self->breaker_opened && self->calls ? AT_OK : AT_INVALID;
}

void
at_provider_metrics_attach (at_provider_t *self, const at_provider_metrics_t *metrics)
{
  self->metrics = *metrics;
  static const char *const outcomes[] = {"ok", "retryable", "permanent"};
  for (size_t i = 0; i < AT_ARRAY_LEN (outcomes); i++)
    at_metric_touch (self->metrics.calls, (const char *[]) {self->name, outcomes[i]});
  s_breaker_metrics (self);
}
