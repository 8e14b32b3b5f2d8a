/* survey: CSAT after a resolved ticket (the survey, its signed link and the
 * customer's message), and the answers that come back; and the scheduled
 * retention run (retention.c), which this stage carries. */
#include <stdio.h>
#include <string.h>
#include "wrk.h"
#include "retention.h"
#include "at_store_privacy.h"
#include "at_store_survey.h"
#include "at_store_order.h"
#include "at_store_notification.h"
#include "at_crypto.h"
#include "at_log.h"
#include "domain.pb-c.h"

#define S_COMP "survey"
#define S_COMMENT_MAX 2000
#define S_LINK_MAX 512

static const char *const s_invite[][2] = {
  {"pt-BR", "Como foi o nosso atendimento? Responda de 1 a 5: "},
  {"en", "How did we do? Answer from 1 to 5: "},
  {"es", "¿Cómo fue nuestra atención? Responde de 1 a 5: "},
};

static int
s_setup (wrk_ctx_t *ctx, void **stage_state)
{
  const at_config_t *cfg = wrk_ctx_config (ctx);
  if (!cfg->survey_secret || !*cfg->survey_secret) {
    at_error (S_COMP, "msg=\"ATENDE_SURVEY_SECRET is empty: survey links are signed and the"
                      " survey stage cannot start without a secret\"");
    return AT_ERROR;
  }
  *stage_state = NULL;
  return wrk_retention_start (ctx);
}

static const char *
s_invite_text (const char *locale)
{
  for (size_t i = 0; i < AT_ARRAY_LEN (s_invite); i++)
    if (strcmp (locale, s_invite[i][0]) == 0)
      return s_invite[i][1];
  return s_invite[0][1];
}

/* Creates the survey once, and the message that carries its link. */
static int
s_ticket_resolved (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id)
{
  const at_config_t *cfg = wrk_ctx_config (ctx);
  at_store_t *store = wrk_ctx_store (ctx);
  char survey_id[AT_ID_LEN], locale_raw[8], token[256], body[S_LINK_MAX + 128];
  char notification_id[AT_ID_LEN];
  bool created = false;
  int rc = at_store_survey_create_for_ticket (store, ticket_id, survey_id, &created, locale_raw);
  if (rc == AT_NOTFOUND) {
    snprintf (m->reason, sizeof m->reason, "unknown ticket %lld", (long long) ticket_id);
    return AT_INVALID;
  }
  if (rc != AT_OK || !created)
    return rc;
  if (at_token_sign (cfg->survey_secret, survey_id, token, sizeof token) != AT_OK)
    return AT_ERROR;
  const char *locale = at_locale_pick (locale_raw, cfg->default_locale);
  int n = snprintf (body, sizeof body, "%s%s%s", s_invite_text (locale),
                    cfg->survey_url_base ? cfg->survey_url_base : "", token);
  if (n < 0 || (size_t) n >= sizeof body) {
    snprintf (m->reason, sizeof m->reason, "survey link longer than %d bytes", S_LINK_MAX);
    return AT_INVALID;
  }
  rc = at_store_notification_for_ticket (store, ticket_id, "survey", body, notification_id);
  if (rc == AT_NOTFOUND) {
    snprintf (m->reason, sizeof m->reason, "ticket %lld: the customer has no handle on the"
              " ticket's channel", (long long) ticket_id);
    return AT_INVALID;
  }
  if (rc != AT_OK)
    return rc;
  at_msg_t *send = at_notification_send_msg (notification_id, m->msg->trace_id);
  if (!send)
    return AT_ERROR;
  at_info (S_COMP, "msg=\"csat survey sent\" ticket_id=%lld survey_id=%s notification_id=%s"
           " locale=%s", (long long) ticket_id, survey_id, notification_id, locale);
  return wrk_ctx_produce (ctx, &send);
}

static int
s_answer (wrk_ctx_t *ctx, wrk_msg_t *m, const Atende__SurveyAnswer *a)
{
  bool recorded = false;
  if (strlen (a->comment) > S_COMMENT_MAX) {
    snprintf (m->reason, sizeof m->reason, "comment longer than %d bytes", S_COMMENT_MAX);
    return AT_INVALID;
  }
  int rc = at_store_survey_answer (wrk_ctx_store (ctx), a->survey_id, a->score, a->comment,
                                   &recorded);
  if (rc == AT_NOTFOUND)
    snprintf (m->reason, sizeof m->reason, "unknown survey \"%.40s\"", a->survey_id);
  else if (rc == AT_INVALID)
    snprintf (m->reason, sizeof m->reason, "score %d is outside the survey's range",
              (int) a->score);
  if (rc == AT_NOTFOUND)
    return AT_INVALID;
  if (rc == AT_OK)
    at_info (S_COMP, "msg=\"survey answer %s\" survey_id=%s score=%d",
             recorded ? "recorded" : "already recorded", a->survey_id, (int) a->score);
  return rc;
}

static int
s_handle (wrk_ctx_t *ctx, wrk_msg_t *m)
{
  const at_msg_t *msg = m->msg;
  int rc = AT_INVALID;
  if (strcmp (msg->type, AT_TYPE_TICKET_RESOLVED) == 0) {
    Atende__TicketResolved *r = atende__ticket_resolved__unpack (NULL, msg->payload_len,
                                                                 msg->payload);
    if (!r || r->ticket_id <= 0)
      snprintf (m->reason, sizeof m->reason, "payload is not a TicketResolved with a ticket_id");
    else
      rc = s_ticket_resolved (ctx, m, r->ticket_id);
    if (r)
      atende__ticket_resolved__free_unpacked (r, NULL);
  } else if (strcmp (msg->type, AT_TYPE_SURVEY_ANSWER) == 0) {
    Atende__SurveyAnswer *a = atende__survey_answer__unpack (NULL, msg->payload_len,
                                                             msg->payload);
    if (!a)
      snprintf (m->reason, sizeof m->reason, "payload is not a SurveyAnswer");
    else
      rc = s_answer (ctx, m, a);
    if (a)
      atende__survey_answer__free_unpacked (a, NULL);
  } else if (strcmp (msg->type, AT_RETENTION_TYPE) == 0) {
    rc = wrk_retention_handle (ctx, m);
  } else {
    snprintf (m->reason, sizeof m->reason, "survey does not handle type %s", msg->type);
  }
  if (rc != AT_OK && !m->reason[0])
    snprintf (m->reason, sizeof m->reason, "%s", at_store_last_error (wrk_ctx_store (ctx)));
  return rc;
}

const wrk_stage_t wrk_stage_survey = {
  .name = AT_STAGE_SURVEY,
  .setup = s_setup,
  .handle = s_handle,
};
