/* Surveys in the store (lib/store/store_survey.c): CSAT after a resolved ticket,
 * NPS after a delivered order; each answered at most once. */
#ifndef AT_SURVEY_H
#define AT_SURVEY_H

#include "at_store.h"
#include "at_msg.h"

/* Looks a survey up by id (UUID text). kind_out gets "csat" or "nps",
 * *answered_out whether an answer is recorded. AT_NOTFOUND if none
 * (also for a survey_id that is not a UUID). */
int at_store_survey_status (at_store_t *store, const char *survey_id, char kind_out[8],
                            bool *answered_out);

/* Creates the csat survey of a ticket (one per ticket). id_out gets its
 * UUID; *created_out is false (and id_out the existing survey's id) when the
 * ticket already has one. locale_out gets the customer's stored locale.
 * AT_NOTFOUND for an unknown ticket. */
int at_store_survey_create_for_ticket (at_store_t *store, int64_t ticket_id,
                                       char id_out[AT_ID_LEN], bool *created_out,
                                       char locale_out[8]);

/* Records an answer once: *recorded_out false when one was already there.
 * AT_NOTFOUND for an unknown survey, AT_INVALID for a score outside the
 * kind's range (csat 1..5, nps 0..10). comment may be NULL. */
int at_store_survey_answer (at_store_t *store, const char *survey_id, int score,
                            const char *comment, bool *recorded_out);

/* The range of scores a survey kind accepts; false for an unknown kind. */
bool at_survey_score_valid (const char *kind, int score);

#endif
