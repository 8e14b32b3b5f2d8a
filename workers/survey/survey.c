/* survey: CSAT after a resolved ticket and NPS after a delivered order
 * (survey_send.c), within the policy (one per customer per period, none
 * while one is pending); the answers that come back by the signed link (the
 * channel's go through route, workers/route/survey_reply.c); a low score's
 * follow-up ticket (survey_shared.c); one reminder; and the scheduled
 * retention run (retention.c), which this stage carries. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "wrk.h"
#include "retention.h"
#include "survey/survey_int.h"
#include "survey/survey_shared.h"
#include "at_store_privacy.h"
#include "at_order.h"
#include "at_log.h"
#include "domain.pb-c.h"

#define S_COMP WRK_SURVEY_COMP
#define S_COMMENT_MAX 2000

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

/* The ticket's CSAT once: sent, or skipped by the policy. */
static int
s_ticket_resolved (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t ticket_id)
{
  const at_config_t *cfg = wrk_ctx_config (ctx);
  at_survey_ticket_t t;
  char id[AT_ID_LEN];
  bool send = false;
  int rc = at_store_survey_ticket (wrk_ctx_store (ctx), ticket_id, &t);
  if (rc == AT_NOTFOUND) {
    snprintf (m->reason, sizeof m->reason, "unknown ticket %lld", (long long) ticket_id);
    return AT_INVALID;
  }
  if (rc != AT_OK || t.exists)
    return rc;
  const char *locale = at_locale_pick (t.locale, cfg->default_locale);
  at_survey_new_t s = {.kind = "csat", .ticket_id = ticket_id, .customer_id = t.customer_id,
                       .channel = t.channel, .locale = locale};
  rc = wrk_survey_admit (ctx, m, &s, id, &send);
  if (rc != AT_OK || !send)
    return rc;
  wrk_survey_out_t out = {.id = id, .kind = "csat", .locale = locale, .ticket_id = ticket_id,
                          .customer_id = t.customer_id};
  return wrk_survey_send (ctx, m, &out);
}

static int
s_answer (wrk_ctx_t *ctx, wrk_msg_t *m, const Atende__SurveyAnswer *a)
{
  char kind[8];
  bool recorded = false, answered = false;
  if (strlen (a->comment) > S_COMMENT_MAX) {
    snprintf (m->reason, sizeof m->reason, "comment longer than %d bytes", S_COMMENT_MAX);
    return AT_INVALID;
  }
  at_store_t *store = wrk_ctx_store (ctx);
  int rc = at_store_survey_status (store, a->survey_id, kind, &answered);
  if (rc == AT_OK)
    rc = at_store_survey_answer_from (store, a->survey_id, a->score, a->comment, "link", 0,
                                      &recorded);
  if (rc == AT_NOTFOUND)
    snprintf (m->reason, sizeof m->reason, "unknown survey \"%.40s\"", a->survey_id);
  else if (rc == AT_INVALID)
    snprintf (m->reason, sizeof m->reason, "score %d is outside the survey's range",
              (int) a->score);
  if (rc == AT_NOTFOUND)
    return AT_INVALID;
  if (rc == AT_OK && recorded)
    rc = wrk_survey_followup (ctx, m, a->survey_id, kind, a->score);
  if (rc == AT_OK)
    at_info (S_COMP, "msg=\"survey answer %s\" id=%s survey_id=%s kind=%s score=%d source=link",
             recorded ? "recorded" : "already recorded", m->msg->id, a->survey_id, kind,
             (int) a->score);
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
  } else if (strcmp (msg->type, AT_TYPE_SURVEY_NPS) == 0) {
    rc = wrk_survey_nps (ctx, m);
  } else if (strcmp (msg->type, AT_TYPE_SURVEY_REMIND) == 0) {
    rc = wrk_survey_remind (ctx, m);
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
