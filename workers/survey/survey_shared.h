/* What the survey stage and route's survey_reply.c share: the surveys'
 * texts (message templates survey_*) and the follow-up ticket of a low
 * score (workers/survey/survey_shared.c). Both run inside the worker's
 * transaction for the message m. */
#ifndef WRK_SURVEY_SHARED_H
#define WRK_SURVEY_SHARED_H

#include "wrk.h"

#define WRK_SURVEY_TEXT_MAX 2048

/* Renders the template event (survey_nps, survey_thanks, ...) in locale, or
 * in cfg->default_locale when locale has none, with {store_name} set and
 * score / link (NULL: none). AT_NOTFOUND when neither locale has it. */
int wrk_survey_render (wrk_ctx_t *ctx, const char *event, const char *locale, const char *score,
                       const char *link, char *out, size_t cap);

/* True when score on a survey of kind (csat | nps) is low by the settings
 * (ATENDE_SURVEY_LOW_CSAT, ATENDE_SURVEY_LOW_NPS). */
bool wrk_survey_low (const at_config_t *cfg, const char *kind, int score);

/* After an answer was recorded (just now, in this transaction): for a low
 * score, the survey's follow-up ticket once, and a ticket.message for route
 * that puts it before the team (priority high, low_survey_score). Nothing
 * for a score that is not low. */
int wrk_survey_followup (wrk_ctx_t *ctx, wrk_msg_t *m, const char *survey_id, const char *kind,
                         int score);

#endif
