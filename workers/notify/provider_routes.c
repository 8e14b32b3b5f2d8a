/* notify: the providers of each channel, from ATENDE_PROVIDER_ROUTES
 * ("whatsapp=whatsapp,sms=twilio+webhook2,email=smtp,*=webhook"), each
 * provider created once from its settings, and the one sender (curl multi)
 * they share. Checked at start: a route naming an unknown or unconfigured
 * provider stops the worker with a clear message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "notify.h"
#include "at_channel_sig.h"
#include "at_log.h"

#define S_ROUTES_MAX 16
#define S_PROVIDERS_MAX 8

typedef struct {
  char channel[16];                       /* "*": every channel not listed */
  size_t provider[WRK_NOTIFY_ROUTE_MAX];  /* indexes into providers */
  size_t n;
} s_route_t;

struct wrk_providers {
  at_provider_t *providers[S_PROVIDERS_MAX];
  size_t nproviders;
  s_route_t routes[S_ROUTES_MAX];
  size_t nroutes;
  at_sender_t *sender;
};

/* The settings of a provider by its name. */
static at_provider_t *
s_provider_create (const at_config_t *cfg, const char *name)
{
  at_provider_conf_t c = {
    .timeout_ms = cfg->provider_timeout_ms, .rate_per_sec = cfg->provider_rate_per_sec,
    .burst = cfg->provider_burst, .breaker_failures = cfg->breaker_failures,
    .breaker_cooldown_ms = cfg->breaker_cooldown_ms,
  };
  char token[AT_SIG_SECRET_MAX] = "", callback[1024] = "";
  at_provider_kind_t kind;
  if (strcmp (name, "webhook") == 0 || strcmp (name, "webhook2") == 0) {
    kind = AT_PROVIDER_WEBHOOK;
    c.url = name[7] ? cfg->webhook2_url : cfg->webhook_url;
    c.secret = cfg->webhook_secret;
    if (!name[7])
      c.timeout_ms = cfg->webhook_timeout_ms;
  } else if (strcmp (name, "whatsapp") == 0) {
    kind = AT_PROVIDER_WHATSAPP;
    c.url = cfg->whatsapp_api_url;
    c.api_version = cfg->whatsapp_api_version;
    c.account = cfg->whatsapp_phone_number_id;
    c.token = cfg->whatsapp_token;
  } else if (strcmp (name, "twilio") == 0) {
    kind = AT_PROVIDER_TWILIO;
    c.url = cfg->twilio_api_url;
    c.account = cfg->twilio_account_sid;
    at_sig_secret_lookup (&cfg->twilio_auth_token, cfg->twilio_account_sid, token, sizeof token);
    c.token = token;
    c.from = cfg->twilio_from;
    if (cfg->twilio_status_callback && *cfg->twilio_status_callback)
      at_strlcpy (callback, cfg->twilio_status_callback, sizeof callback);
    else if (cfg->public_url_base && *cfg->public_url_base)
      snprintf (callback, sizeof callback, "%.900s/v1/channels/twilio", cfg->public_url_base);
    c.status_callback = callback;
  } else if (strcmp (name, "smtp") == 0) {
    kind = AT_PROVIDER_SMTP;
    c.url = cfg->smtp_url;
    c.account = cfg->smtp_user;
    c.token = cfg->smtp_password;
    c.from = cfg->smtp_from;
    c.tls = cfg->smtp_tls;
    c.message_id_domain = cfg->email_message_id_domain;
  } else {
    at_error (WRK_NOTIFY_COMP, "msg=\"unknown provider in ATENDE_PROVIDER_ROUTES\" provider=%s"
              " known=\"webhook webhook2 whatsapp twilio smtp\"", name);
    return NULL;
  }
  at_provider_t *p = at_provider_new (name, kind, &c);
  memset (token, 0, sizeof token);
  return p;
}

/* The index of provider `name`, created on first use; -1 on error. */
static long
s_provider_index (wrk_providers_t *self, const at_config_t *cfg, const char *name)
{
  for (size_t i = 0; i < self->nproviders; i++)
    if (strcmp (at_provider_name (self->providers[i]), name) == 0)
      return (long) i;
  if (self->nproviders == S_PROVIDERS_MAX)
    return -1;
  at_provider_t *p = s_provider_create (cfg, name);
  if (!p)
    return -1;
  self->providers[self->nproviders] = p;
  return (long) self->nproviders++;
}

/* One "channel=p1+p2" entry of the (already parsed) route list. */
static int
s_route_parse (wrk_providers_t *self, const at_config_t *cfg, const at_list_item_t *item)
{
  char providers[512];
  if (self->nroutes == S_ROUTES_MAX
      || at_strlcpy (providers, item->value, sizeof providers) >= sizeof providers)
    return AT_INVALID;
  s_route_t *r = &self->routes[self->nroutes];
  if (at_strlcpy (r->channel, item->key, sizeof r->channel) >= sizeof r->channel
      || (strcmp (item->key, "*") != 0 && !at_channel_known (item->key)))
    return AT_INVALID;
  r->n = 0;
  for (char *p = providers; *p;) {
    size_t len = strcspn (p, "+");
    char *next = p[len] ? p + len + 1 : p + len;
    p[len] = 0;
    long idx = *p ? s_provider_index (self, cfg, p) : -1;
    if (idx < 0 || r->n == WRK_NOTIFY_ROUTE_MAX)
      return AT_INVALID;
    r->provider[r->n++] = (size_t) idx;
    p = next;
  }
  self->nroutes++;
  return AT_OK;
}

/* Every provider counts in the families of metrics (shown from the start). */
static void
s_metrics_attach (wrk_providers_t *self, at_metrics_t *metrics)
{
  at_provider_metrics_t families;
  at_provider_metrics_register (&families, metrics);
  for (size_t i = 0; i < self->nproviders; i++)
    at_provider_metrics_attach (self->providers[i], &families);
}

wrk_providers_t *
wrk_providers_new (const at_config_t *cfg, at_metrics_t *metrics)
{
  wrk_providers_t *self = at_calloc (1, sizeof *self);
  for (size_t i = 0; i < cfg->provider_routes.n; i++)
    if (s_route_parse (self, cfg, &cfg->provider_routes.items[i]) != AT_OK)
      goto bad;
  if (self->nroutes == 0)
    goto bad;
  self->sender = at_sender_new (cfg->webhook_concurrency);
  if (!self->sender)
    goto bad;
  if (metrics)
    s_metrics_attach (self, metrics);
  return self;
bad:
  at_error (WRK_NOTIFY_COMP, "msg=\"ATENDE_PROVIDER_ROUTES is not usable: channel=p1+p2,...,"
            "*=p with providers webhook webhook2 whatsapp twilio smtp, each configured\""
            " value=\"%s\"", cfg->provider_routes.text);
  wrk_providers_destroy (&self);
  return NULL;
}

void
wrk_providers_destroy (wrk_providers_t **self_p)
{
  if (!self_p || !*self_p)
    return;
  wrk_providers_t *self = *self_p;
  for (size_t i = 0; i < self->nproviders; i++)
    at_provider_destroy (&self->providers[i]);
  at_sender_destroy (&self->sender);
  free (self);
  *self_p = NULL;
}

size_t
wrk_providers_route (wrk_providers_t *self, const char *channel, at_provider_t **out,
                     size_t cap)
{
  const s_route_t *found = NULL;
  for (size_t i = 0; i < self->nroutes && !found; i++)
    if (strcmp (self->routes[i].channel, channel) == 0)
      found = &self->routes[i];
  for (size_t i = 0; i < self->nroutes && !found; i++)
    if (strcmp (self->routes[i].channel, "*") == 0)
      found = &self->routes[i];
  size_t n = 0;
  for (size_t i = 0; found && i < found->n && n < cap; i++)
    out[n++] = self->providers[found->provider[i]];
  return n;
}

at_sender_t *
wrk_providers_sender (wrk_providers_t *self)
{
  return self->sender;
}

void
wrk_providers_log (wrk_providers_t *self)
{
  for (size_t i = 0; i < self->nproviders; i++) {
    at_provider_t *p = self->providers[i];
    at_breaker_t *b = at_provider_breaker (p);
    at_info (WRK_NOTIFY_COMP, "msg=\"provider state\" provider=%s breaker_state=%s failures=%ld"
             " opened_total=%llu connects=%ld", at_provider_name (p),
             at_breaker_state_name (b->state), b->failures,
             (unsigned long long) b->opened_total, at_sender_connects (self->sender));
  }
}
