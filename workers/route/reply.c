/* reply: how route says something to a customer, and the words every
 * automatic answer shares (how to reach a person). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route/route_int.h"
#include "route/sla.h"
#include "at_store_notification.h"
#include "at_log.h"

#define S_COMP "route"

int
wrk_route_bad (wrk_msg_t *m, const char *what, int64_t ticket_id)
{
  snprintf (m->reason, sizeof m->reason, "%s %" PRId64, what, ticket_id);
  return AT_INVALID;
}

int
wrk_route_store_rc (wrk_msg_t *m, int rc, const char *what, int64_t ticket_id)
{
  if (rc == AT_INVALID)
    return wrk_route_bad (m, what, ticket_id);
  return rc == AT_CONFLICT || rc == AT_NOTFOUND ? AT_AGAIN : rc;
}

int
wrk_route_ticket_lock (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id, at_ticket_t *t)
{
  int rc = at_store_ticket_lock (wrk_ctx_store (ctx), ticket_id, t);
  if (rc == AT_NOTFOUND)
    return wrk_route_bad (m, "unknown ticket", ticket_id);
  return rc == AT_OK ? AT_OK : wrk_route_store_rc (m, rc, "ticket lookup failed for", ticket_id);
}

/* Queues a notification.send for notify. */
static int
s_produce_send (wrk_ctx_t *ctx, wrk_msg_t *m, const char *notification_id)
{
  at_msg_t *out = at_notification_send_msg (notification_id, m->msg->trace_id);
  if (!out) {
    at_error (S_COMP, "msg=\"cannot build notification.send\" id=%s notification_id=%s",
              m->msg->id, notification_id);
    return AT_ERROR;
  }
  return wrk_ctx_produce (ctx, &out);
}

int
wrk_route_say (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, const char *author,
               const char *kind, const char *body, const char *language, const char *agent)
{
  at_store_t *store = wrk_ctx_store (ctx);
  char notification_id[AT_ID_LEN];
  int rc = at_store_notification_for_ticket (store, t->id, kind, body, notification_id);
  if (rc != AT_OK)
    return rc;
  at_ticket_message_t tm = {.ticket_id = t->id, .direction = "out", .author = author,
                            .channel = t->channel, .body = body,
                            .bus_message_id = m->msg->id, .language = language,
                            .agent = agent};
  rc = at_store_ticket_message_add (store, &tm, NULL);
  if (rc == AT_OK)
    rc = at_store_ticket_answered (store, t->id, strcmp (author, "bot") == 0);
  if (rc == AT_OK)
    rc = wrk_route_sla_on_answer (ctx, m, t, strcmp (author, "agent") == 0);
  if (rc == AT_OK)
    rc = s_produce_send (ctx, m, notification_id);
  return rc;
}

static const char *const s_hint[3] = {
  "Se preferir falar com uma pessoa, responda \"atendente\".",
  "If you would rather talk to a person, reply \"agent\".",
  "Si prefieres hablar con una persona, responde \"agente\".",
};

const char *
wrk_route_person_hint (at_lang_t lang)
{
  return s_hint[lang == AT_LANG_EN ? 1 : lang == AT_LANG_ES ? 2 : 0];
}

int
wrk_route_say_auto (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, const char *body,
                    at_lang_t lang)
{
  char text[WRK_ROUTE_SAY_MAX];
  int n = snprintf (text, sizeof text, "%s\n\n%s", body, wrk_route_person_hint (lang));
  if (n < 0 || (size_t) n >= sizeof text)
    return AT_INVALID;
  return wrk_route_say (ctx, m, t, "bot", "auto_reply", text, at_lang_name (lang), NULL);
}

/* Asking for a person: the message's words (lower case, accents folded,
 * punctuation gone) are one of these, or start with one of the phrases. Short on purpose: a long message is a question, not a request. */
static const char *const s_person_words[] = {
  "atendente", "humano", "pessoa", "agente", "agent", "human", "person", "operator",
  "operador", "representante", "representative",
};
static const char *const s_person_phrases[] = {
  "falar com atendente", "falar com um atendente", "falar com uma pessoa",
  "falar com um humano", "quero falar com", "talk to a person", "talk to an agent",
  "talk to a human", "speak to a person", "speak to an agent", "hablar con una persona",
  "hablar con un agente", "hablar con un humano", "quiero hablar con",
};

/* The message's words joined by single spaces into out ("" when none). */
static void
s_words (const char *text, char *out, size_t cap)
{
  out[0] = '\0';
  char *norm = at_text_normalize (text, strlen (text));
  if (!norm)
    return;
  char tokens[16][AT_TOKEN_MAX];
  size_t n = at_text_tokenize (norm, tokens, AT_ARRAY_LEN (tokens));
  free (norm);
  size_t used = 0;
  for (size_t i = 0; i < n; i++) {
    int w = snprintf (out + used, cap - used, "%s%s", i ? " " : "", tokens[i]);
    if (w < 0 || (size_t) w >= cap - used)
      return;
    used += (size_t) w;
  }
}

bool
wrk_route_asks_person (const char *text)
{
  char words[256];
  if (!text || strnlen (text, 200) >= 200)
    return false;
  s_words (text, words, sizeof words);
  for (size_t i = 0; i < AT_ARRAY_LEN (s_person_words); i++)
    if (strcmp (words, s_person_words[i]) == 0)
      return true;
  for (size_t i = 0; i < AT_ARRAY_LEN (s_person_phrases); i++)
    if (strncmp (words, s_person_phrases[i], strlen (s_person_phrases[i])) == 0)
      return true;
  return false;
}

int
wrk_route_handoff (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, const char *reason)
{
  int rc = at_store_ticket_handoff (wrk_ctx_store (ctx), t->id, reason);
  if (rc == AT_OK)
    rc = wrk_route_sla_on_handoff (ctx, m, t);
  if (rc == AT_OK)
    at_info (S_COMP, "msg=\"ticket handed to people\" id=%s ticket_id=%" PRId64 " reason=%s",
             m->msg->id, t->id, reason);
  return rc == AT_OK ? AT_OK : wrk_route_store_rc (m, rc, "handoff refused for ticket", t->id);
}

at_lang_t
wrk_route_lang (const at_config_t *cfg, const at_ticket_t *t)
{
  at_lang_t lang = at_lang_parse (t->language);
  if (lang == AT_LANG_OTHER)
    lang = at_lang_parse (cfg->default_locale);
  return lang == AT_LANG_OTHER ? AT_LANG_PT : lang;
}
