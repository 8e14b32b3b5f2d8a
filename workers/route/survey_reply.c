/* survey_reply: survey answers typed in the channel (see survey_reply.h),
 * and the first message of a low score's follow-up ticket, which is put
 * before the team here (complaint, priority high, low_survey_score).
 *
 * With a survey waiting on this channel (sent, not answered, not expired):
 *   an answer ("nota 9", "⭐⭐⭐⭐", "péssimo", the WhatsApp list's "nps:9")
 *     is recorded once and thanked; a low score opens its follow-up ticket;
 *   one number outside the scale ("11", "0" for CSAT) gets the range, and
 *     nothing is recorded;
 *   anything else is a normal message.
 * With a survey answered within ATENDE_SURVEY_EXPIRE_H: another answer gets
 * "your score N is already recorded" (nothing recorded again). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "route/survey_reply.h"
#include "route/sla.h"
#include "survey/survey_shared.h"
#include "at_store_survey.h"
#include "at_survey_answer.h"
#include "at_order.h"
#include "at_log.h"

#define S_COMP "route"

/* pt-BR -> pt: the ticket's language as route writes it. */
static const char *
s_language (const char *locale)
{
  return strncmp (locale, "en", 2) == 0 ? "en" : strncmp (locale, "es", 2) == 0 ? "es" : "pt";
}

/* The follow-up ticket of a low score, before the team. */
static int
s_followup_classify (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, const char *kind,
                     int score, const char *locale)
{
  const at_config_t *cfg = wrk_ctx_config (ctx);
  char why[AT_PRIORITY_REASONS_TEXT_MAX];
  at_ticket_t after;
  at_ticket_class_t c = {.intent = "complaint", .confidence = 1.0, .priority = "high",
                         .priority_reason = at_priority_reasons_text (AT_PRIORITY_LOW_SURVEY,
                                                                      why, sizeof why),
                         .language = s_language (at_locale_pick (locale, cfg->default_locale)),
                         .sla_normal_min = cfg->sla_first_response_min,
                         .sla_high_min = cfg->sla_urgent_first_response_min};
  int rc = at_store_ticket_classify (wrk_ctx_store (ctx), t->id, &c, &after);
  if (rc == AT_OK)
    rc = wrk_route_sla_on_classified (ctx, m, &after);
  if (rc != AT_OK)
    return wrk_route_store_rc (m, rc, "survey follow-up refused for ticket", t->id);
  at_info (S_COMP, "msg=\"survey follow-up ticket queued for the team\" id=%s ticket_id=%"
           PRId64 " kind=%s score=%d priority=high reason=%s", m->msg->id, t->id, kind, score,
           why);
  return AT_OK;
}

/* Says the template event (with score) to the customer on the ticket. */
static int
s_say (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, const char *event, const char *locale,
       int score)
{
  char body[WRK_SURVEY_TEXT_MAX], score_text[16];
  snprintf (score_text, sizeof score_text, "%d", score);
  const char *picked = at_locale_pick (locale, wrk_ctx_config (ctx)->default_locale);
  int rc = wrk_survey_render (ctx, event, picked, score_text, NULL, body, sizeof body);
  if (rc == AT_NOTFOUND || rc == AT_INVALID) {
    at_warn (S_COMP, "msg=\"survey text missing, nothing said\" id=%s ticket_id=%" PRId64
             " event=%s", m->msg->id, t->id, event);
    return AT_OK;
  }
  if (rc == AT_OK)
    rc = wrk_route_say (ctx, m, t, "bot", "auto_reply", body, s_language (picked), NULL);
  if (rc == AT_NOTFOUND)
    return AT_OK;                         /* no handle on the channel: recorded all the same */
  return rc == AT_OK ? AT_OK : wrk_route_store_rc (m, rc, "survey reply refused for ticket", t->id);
}

/* A score for the waiting survey w: recorded once, thanked, followed up. */
static int
s_record (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, int64_t message_id,
          const at_survey_waiting_t *w, int score)
{
  bool recorded = false;
  int rc = at_store_survey_answer_from (wrk_ctx_store (ctx), w->id, score, NULL, "channel",
                                        message_id, &recorded);
  if (rc != AT_OK)
    return wrk_route_store_rc (m, rc, "survey answer refused for ticket", t->id);
  at_info (S_COMP, "msg=\"survey answer %s\" id=%s survey_id=%s kind=%s score=%d source=channel"
           " ticket_id=%" PRId64 " message_id=%" PRId64, recorded ? "recorded" : "already recorded",
           m->msg->id, w->id, w->kind, score, t->id, message_id);
  if (!recorded)
    return s_say (ctx, m, t, "survey_already", w->locale, score);
  rc = wrk_survey_followup (ctx, m, w->id, w->kind, score);
  if (rc != AT_OK)
    return wrk_route_store_rc (m, rc, "survey follow-up refused for ticket", t->id);
  bool low = wrk_survey_low (wrk_ctx_config (ctx), w->kind, score);
  return s_say (ctx, m, t, low ? "survey_low_thanks" : "survey_thanks", w->locale, score);
}

int
wrk_route_survey_reply (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t, int64_t message_id,
                        const char *text, bool *handled)
{
  at_store_t *store = wrk_ctx_store (ctx);
  const at_config_t *cfg = wrk_ctx_config (ctx);
  char kind[8], locale[8];
  int score = -1;
  bool followup = false;
  *handled = false;
  int rc = at_store_survey_followup_of (store, t->id, message_id, &followup, kind, &score, locale);
  if (rc != AT_OK)
    return wrk_route_store_rc (m, rc, "survey lookup failed for ticket", t->id);
  if (followup) {
    *handled = true;
    return s_followup_classify (ctx, m, t, kind, score, locale);
  }
  size_t len = strnlen (text, AT_SURVEY_ANSWER_MAX + 1);
  if (len == 0 || len > AT_SURVEY_ANSWER_MAX)
    return AT_OK;                         /* never an answer: no look-up */
  at_survey_waiting_t w;
  rc = at_store_survey_waiting (store, t->customer_id, t->channel,
                                cfg->survey_expire_h * cfg->survey_hour_s, &w);
  if (rc == AT_NOTFOUND)
    return AT_OK;
  if (rc != AT_OK)
    return wrk_route_store_rc (m, rc, "survey lookup failed for ticket", t->id);
  int scale = at_survey_scale_of (w.kind);
  at_survey_reply_t reply = scale < 0 ? AT_SURVEY_NOT_ANSWER
                            : at_survey_answer_parse (text, len, (at_survey_scale_t) scale, &score);
  if (reply == AT_SURVEY_NOT_ANSWER)
    return AT_OK;
  *handled = true;
  if (w.answered)
    return s_say (ctx, m, t, "survey_already", w.locale, w.score);
  if (reply == AT_SURVEY_OUT_OF_RANGE) {
    at_info (S_COMP, "msg=\"survey answer out of range, range told\" id=%s survey_id=%s kind=%s"
             " score=%d ticket_id=%" PRId64, m->msg->id, w.id, w.kind, score, t->id);
    return s_say (ctx, m, t, scale == AT_SURVEY_NPS ? "survey_range_nps" : "survey_range_csat",
                  w.locale, score);
  }
  return s_record (ctx, m, t, message_id, &w, score);
}
