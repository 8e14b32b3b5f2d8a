/* notify: which channel a notification goes out on, and whether it goes now.
 * Pure: everything it needs was read with the notification (see
 * at_store_notification_context), so it is unit-tested without a database. */
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "notify.h"

#define S_CANDIDATES_MAX 16

static bool
s_in_list (const char *csv, const char *word)
{
  size_t n = strlen (word);
  for (const char *p = csv; p && *p;) {
    const char *end = strchr (p, ',');
    size_t len = end ? (size_t) (end - p) : strlen (p);
    if (len == n && strncmp (p, word, n) == 0)
      return true;
    p = end ? end + 1 : NULL;
  }
  return false;
}

bool
wrk_notify_template_for (const at_list_t *templates, const char *kind, char *out, size_t cap)
{
  const char *name = templates ? at_list_lookup (templates, kind) : NULL;
  return name != NULL && at_strlcpy (out, name, cap) < cap;
}

static bool
s_is_reply (const char *kind)
{
  return strcmp (kind, "reply") == 0 || strcmp (kind, "auto_reply") == 0;
}

/* Adds channel to the candidate list unless empty or already there. */
static void
s_add (const char **list, size_t *n, const char *channel)
{
  if (!channel || !*channel || *n >= S_CANDIDATES_MAX)
    return;
  for (size_t i = 0; i < *n; i++)
    if (strcmp (list[i], channel) == 0)
      return;
  list[(*n)++] = channel;
}

/* The customer's handle on channel: the notification's own recipient for
 * its own channel, else the identity of the channel's kind. */
static bool
s_recipient (const at_notification_ctx_t *ctx, json_t *identities, const char *channel,
             char *out, size_t cap)
{
  if (strcmp (channel, ctx->channel) == 0 && ctx->recipient && *ctx->recipient)
    return at_strlcpy (out, ctx->recipient, cap) < cap;
  const char *kind = at_channel_identity_kind (channel);
  const char *value = kind ? json_string_value (json_object_get (identities, kind)) : NULL;
  if (!value && strcmp (channel, "whatsapp") == 0)   /* a phone number reaches WhatsApp too */
    value = json_string_value (json_object_get (identities, "phone"));
  if (!value || !*value)
    return false;
  return at_strlcpy (out, value, cap) < cap;
}

static void
s_template_lang (const char *locale, char *out, size_t cap)
{
  if (strncmp (locale, "en", 2) == 0)
    at_strlcpy (out, "en", cap);
  else if (strncmp (locale, "es", 2) == 0)
    at_strlcpy (out, "es", cap);
  else
    at_strlcpy (out, "pt_BR", cap);
}

/* Why each candidate was skipped, appended to out->reason. */
static void
s_note (wrk_choice_t *out, const char *channel, const char *why)
{
  size_t used = strlen (out->reason);
  if (used + 4 < sizeof out->reason)
    snprintf (out->reason + used, sizeof out->reason - used, "%s%s: %s", used ? "; " : "",
              channel, why);
}

/* Tries one channel; true when the message can go there now. */
static bool
s_try (const at_notification_ctx_t *ctx, const wrk_choice_policy_t *policy, json_t *ids,
       const char *channel, wrk_choice_t *out)
{
  if (strcmp (channel, "phone") == 0) {   /* call events: a reply goes by text (fallback) */
    s_note (out, channel, "not a text channel");
    return false;
  }
  if (s_in_list (ctx->failed_channels, channel)) {
    s_note (out, channel, "failed");
    return false;
  }
  if (policy->routable && !policy->routable (policy->routable_arg, channel)) {
    s_note (out, channel, "no provider");
    return false;
  }
  if (!s_recipient (ctx, ids, channel, out->recipient, sizeof out->recipient)) {
    s_note (out, channel, "no identity");
    return false;
  }
  out->template_name[0] = 0;
  if (strcmp (channel, "whatsapp") == 0 && policy->whatsapp_direct && !ctx->whatsapp_window) {
    if (!wrk_notify_template_for (policy->whatsapp_templates, ctx->kind, out->template_name,
                                  sizeof out->template_name)) {
      s_note (out, channel, "outside the 24 h window and no approved template");
      return false;
    }
    s_template_lang (ctx->locale, out->template_lang, sizeof out->template_lang);
  }
  at_strlcpy (out->channel, channel, sizeof out->channel);
  return true;
}

static bool
s_hold (const at_notification_ctx_t *ctx, const wrk_choice_policy_t *policy, wrk_choice_t *out)
{
  if (out->urgent)
    return false;
  if (ctx->quiet && ctx->quiet_until_us > 0) {
    out->action = WRK_CHOICE_HOLD;
    out->hold_until_us = ctx->quiet_until_us;
    at_strlcpy (out->reason, "quiet hours", sizeof out->reason);
    return true;
  }
  bool capped = strcmp (ctx->kind, "order_status") == 0 || strcmp (ctx->kind, "survey") == 0;
  if (capped && policy->cap_count > 0 && ctx->cap_sent >= policy->cap_count
      && ctx->cap_until_us > 0) {
    out->action = WRK_CHOICE_HOLD;
    out->hold_until_us = ctx->cap_until_us + 1000000;
    at_strlcpy (out->reason, "frequency cap", sizeof out->reason);
    return true;
  }
  return false;
}

void
wrk_notify_choose (const at_notification_ctx_t *ctx, const wrk_choice_policy_t *policy,
                   wrk_choice_t *out)
{
  memset (out, 0, sizeof *out);
  out->urgent = s_is_reply (ctx->kind) && ctx->customer_recent;
  if (s_hold (ctx, policy, out))
    return;
  const char *list[S_CANDIDATES_MAX];
  size_t n = 0;
  if (s_is_reply (ctx->kind))
    s_add (list, &n, ctx->channel);
  s_add (list, &n, ctx->preferred_channel);
  s_add (list, &n, ctx->channel);
  for (size_t i = 0; policy->fallback && i < policy->fallback->n; i++)
    s_add (list, &n, policy->fallback->items[i].value);
  json_t *ids = json_loads (ctx->identities_json ? ctx->identities_json : "{}", 0, NULL);
  out->action = WRK_CHOICE_NONE;
  for (size_t i = 0; i < n; i++)
    if (s_try (ctx, policy, ids, list[i], out)) {
      out->action = WRK_CHOICE_SEND;
      out->reason[0] = 0;
      break;
    }
  json_decref (ids);
  if (out->action == WRK_CHOICE_NONE && !out->reason[0])
    at_strlcpy (out->reason, "no channel", sizeof out->reason);
}
