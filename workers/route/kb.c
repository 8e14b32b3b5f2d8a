/* kb: the knowledge base's automatic answer (see kb.h). Runs in the worker's
 * transaction: the answer, its kb_event row and the bus done-mark commit
 * together or not at all. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route/kb.h"
#include "route/desk.h"
#include "at_store_kb.h"
#include "at_log.h"
#include "domain.pb-c.h"

#define S_COMP "route"
#define S_REPLY_TOKENS 4          /* a longer message is not a "sim/não" */

/* First words that answer "did this solve it?", accents folded. */
static const char *const s_yes[] = {
  "sim", "s", "ss", "yes", "y", "yep", "yeah", "si", "resolveu", "resolvido", "resolvida",
  "ajudou", "solved", "obrigado", "obrigada", "valeu", "thanks", "gracias", "claro",
  "perfeito", "perfecto", "sure",
};
static const char *const s_no[] = {
  "nao", "n", "no", "nope", "nah", "negativo", "not", "didn", "nada", "tampoco",
};

static bool
s_in (const char *word, const char *const *set, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (word, set[i]) == 0)
      return true;
  return false;
}

/* The thumbs of a message without words: 👍 yes, 👎 no. */
static wrk_kb_reply_t
s_thumbs (const char *text)
{
  bool up = strstr (text, "\xF0\x9F\x91\x8D") != NULL;
  bool down = strstr (text, "\xF0\x9F\x91\x8E") != NULL;
  if (up == down)
    return WRK_KB_REPLY_OTHER;
  return up ? WRK_KB_REPLY_YES : WRK_KB_REPLY_NO;
}

wrk_kb_reply_t
wrk_route_kb_reply_kind (const char *text)
{
  if (!text || strnlen (text, 201) > 200)
    return WRK_KB_REPLY_OTHER;
  char *norm = at_text_normalize (text, strlen (text));
  if (!norm)
    return WRK_KB_REPLY_OTHER;
  char tokens[S_REPLY_TOKENS + 1][AT_TOKEN_MAX];
  size_t n = at_text_tokenize (norm, tokens, AT_ARRAY_LEN (tokens));
  free (norm);
  if (n == 0)
    return s_thumbs (text);
  if (n > S_REPLY_TOKENS)
    return WRK_KB_REPLY_OTHER;
  if (s_in (tokens[0], s_no, AT_ARRAY_LEN (s_no)))
    return WRK_KB_REPLY_NO;
  if (s_in (tokens[0], s_yes, AT_ARRAY_LEN (s_yes)))
    return WRK_KB_REPLY_YES;
  return WRK_KB_REPLY_OTHER;
}

static const char *const s_person_follows[3] = {
  "Entendi. Passei a sua pergunta para a nossa equipe, que vai responder por aqui.",
  "Understood. I have passed your question to our team, who will answer here.",
  "Entendido. Pasé tu pregunta a nuestro equipo, que te responderá por aquí.",
};

/* Tells the customer a person follows, then hands the ticket over. A
 * customer without a handle on the channel is handed over all the same. */
static int
s_hand_over (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, const char *reason)
{
  at_lang_t lang = wrk_route_lang (wrk_ctx_config (ctx), t);
  size_t i = lang == AT_LANG_EN ? 1 : lang == AT_LANG_ES ? 2 : 0;
  int rc = wrk_route_say (ctx, m, t, "bot", "auto_reply", s_person_follows[i],
                          at_lang_name (lang), NULL);
  if (rc == AT_OK || rc == AT_NOTFOUND)
    rc = wrk_route_handoff (ctx, m, t, reason);
  return rc;
}

int
wrk_route_kb_feedback (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, int64_t message_id,
                       const char *text, bool *handled)
{
  at_store_t *store = wrk_ctx_store (ctx);
  bool awaiting = false;
  int64_t article_id = 0;
  *handled = false;
  int rc = at_store_kb_awaiting (store, t->id, &awaiting, &article_id);
  if (rc != AT_OK || !awaiting)
    return rc == AT_OK ? AT_OK : wrk_route_store_rc (m, rc, "kb lookup failed for ticket", t->id);
  wrk_kb_reply_t reply = wrk_route_kb_reply_kind (text);
  const char *outcome = reply == WRK_KB_REPLY_YES ? "helpful"
                        : reply == WRK_KB_REPLY_NO ? "unhelpful" : "unanswered";
  rc = at_store_kb_settle (store, t->id, message_id, outcome);
  if (rc == AT_OK && reply == WRK_KB_REPLY_YES)
    rc = at_store_ticket_answered (store, t->id, true);   /* pending again: solved */
  else if (rc == AT_OK && reply == WRK_KB_REPLY_NO)
    rc = s_hand_over (ctx, m, t, "kb_unhelpful");
  else if (rc == AT_OK)
    rc = wrk_route_handoff (ctx, m, t, "kb_unanswered");
  if (rc != AT_OK)
    return wrk_route_store_rc (m, rc, "kb feedback refused for ticket", t->id);
  at_info (S_COMP, "msg=\"kb answer settled\" id=%s ticket_id=%" PRId64 " article_id=%" PRId64
           " outcome=%s", m->msg->id, t->id, article_id, outcome);
  *handled = reply != WRK_KB_REPLY_OTHER;
  return AT_OK;
}

/* The locale of the knowledge base for a language. */
static const char *
s_locale (at_lang_t lang)
{
  return lang == AT_LANG_EN ? "en" : lang == AT_LANG_ES ? "es" : "pt-BR";
}

static const char *const s_intro[3] = {
  "Encontrei este artigo que pode ajudar:",
  "This article may help:",
  "Este artículo puede ayudarte:",
};
static const char *const s_ask[3] = {
  "Isso resolveu? Responda \"sim\" ou \"não\".",
  "Did this solve it? Reply \"yes\" or \"no\".",
  "¿Esto lo resolvió? Responde \"sí\" o \"no\".",
};

/* The answer's text: intro, title, body, the question. AT_INVALID when it
 * does not fit (it always does: AT_KB_ANSWER_MAX leaves room). */
static int
s_compose (const at_kb_hit_t *hit, at_lang_t lang, char *out, size_t cap)
{
  size_t i = lang == AT_LANG_EN ? 1 : lang == AT_LANG_ES ? 2 : 0;
  int n = snprintf (out, cap, "%s\n\n%s\n%s\n\n%s", s_intro[i], hit->title, hit->body, s_ask[i]);
  return n < 0 || (size_t) n >= cap ? AT_INVALID : AT_OK;
}

/* No article good enough: recorded, the ticket left for people. */
static int
s_no_result (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, int64_t message_id,
             const char *locale, const at_kb_hit_t *hit)
{
  int rc = at_store_kb_no_result (wrk_ctx_store (ctx), t->id, message_id, hit->id, locale,
                                  hit->score);
  if (rc != AT_OK)
    return wrk_route_store_rc (m, rc, "kb no_result refused for ticket", t->id);
  at_info (S_COMP, "msg=\"kb found no answer, left for people\" id=%s ticket_id=%" PRId64
           " locale=%s best_article_id=%" PRId64 " score=%.3f", m->msg->id, t->id, locale,
           hit->id, hit->score);
  return AT_OK;
}

/* The kb.followup that hands the ticket over if nobody answers. */
static int
s_produce_followup (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id, int64_t event_id)
{
  Atende__KbFollowup f = ATENDE__KB_FOLLOWUP__INIT;
  f.ticket_id = ticket_id;
  f.event_id = event_id;
  uint8_t payload[64];
  size_t len = atende__kb_followup__pack (&f, payload);
  char key[AT_KEY_LEN];
  snprintf (key, sizeof key, "ticket:%" PRId64, ticket_id);
  at_msg_t *out = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_KB_FOLLOWUP, key, m->msg->trace_id,
                              payload, len);
  if (!out)
    return AT_ERROR;
  out->not_before_us = at_now_us () + (int64_t) wrk_ctx_config (ctx)->kb_answer_wait_s * 1000000;
  return wrk_ctx_produce (ctx, &out);
}

int
wrk_route_kb_answer (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, int64_t message_id,
                     const char *text)
{
  at_store_t *store = wrk_ctx_store (ctx);
  const at_config_t *cfg = wrk_ctx_config (ctx);
  bool handed_off = false;
  int rc = at_store_kb_ticket_handed_off (store, t->id, &handed_off);
  if (rc != AT_OK || handed_off)
    return rc == AT_OK ? AT_OK : wrk_route_store_rc (m, rc, "kb lookup failed for ticket", t->id);
  at_lang_t lang = wrk_route_lang (cfg, t);
  const char *locale = s_locale (lang);
  at_kb_hit_t *hit = at_calloc (1, sizeof *hit);
  char *body = at_malloc (WRK_ROUTE_SAY_MAX);
  rc = at_store_kb_best (store, locale, text, hit);
  if (rc != AT_OK && rc != AT_NOTFOUND) {
    rc = wrk_route_store_rc (m, rc, "kb search failed for ticket", t->id);
    goto out;
  }
  if (rc == AT_NOTFOUND || hit->score * 100.0 < (double) cfg->kb_min_score_pct
      || s_compose (hit, lang, body, WRK_ROUTE_SAY_MAX - 256) != AT_OK) {
    rc = s_no_result (ctx, m, t, message_id, locale, hit);
    goto out;
  }
  rc = wrk_route_say_auto (ctx, m, t, body, lang);
  if (rc == AT_NOTFOUND) {
    at_warn (S_COMP, "msg=\"customer has no handle on the ticket's channel, left for people\""
             " id=%s ticket_id=%" PRId64, m->msg->id, t->id);
    rc = AT_OK;
    goto out;
  }
  int64_t event_id = 0;
  if (rc == AT_OK)
    rc = at_store_kb_suggested (store, t->id, message_id, hit->id, locale, hit->score,
                                &event_id);
  if (rc == AT_OK)
    rc = s_produce_followup (ctx, m, t->id, event_id);
  if (rc != AT_OK) {
    rc = wrk_route_store_rc (m, rc, "kb answer refused for ticket", t->id);
    goto out;
  }
  at_info (S_COMP, "msg=\"kb answered\" id=%s ticket_id=%" PRId64 " article_id=%" PRId64
           " score=%.3f ft=%.3f ty=%.3f locale=%s", m->msg->id, t->id, hit->id, hit->score,
           hit->ft, hit->ty, locale);
out:
  free (body);
  free (hit);
  return rc;
}

int
wrk_route_kb_followup (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id, int64_t event_id)
{
  at_store_t *store = wrk_ctx_store (ctx);
  at_ticket_t t;
  int rc = wrk_route_ticket_lock (ctx, m, ticket_id, &t);
  if (rc != AT_OK)
    return rc;
  bool expired = false;
  rc = at_store_kb_expire (store, t.id, event_id, &expired);
  if (rc == AT_OK && expired)
    rc = s_hand_over (ctx, m, &t, "kb_no_answer");
  if (rc == AT_OK && expired)
    rc = wrk_route_desk_needs_person (ctx, m, &t);
  if (rc != AT_OK)
    return wrk_route_store_rc (m, rc, "kb followup refused for ticket", t.id);
  if (expired)
    at_info (S_COMP, "msg=\"kb answer not answered in time, ticket to people\" id=%s"
             " ticket_id=%" PRId64 " event_id=%" PRId64, m->msg->id, t.id, event_id);
  return AT_OK;
}
