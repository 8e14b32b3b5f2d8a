/* survey_int: what the survey stage's files share (survey.c dispatches and
 * handles CSAT and link answers; survey_send.c sends a survey, the NPS after
 * delivery and the reminder). Everything runs inside the worker's
 * transaction for the message m. */
#ifndef WRK_SURVEY_INT_H
#define WRK_SURVEY_INT_H

#include "wrk.h"
#include "at_store_survey.h"

#define WRK_SURVEY_COMP "survey"

/* A survey to send: the survey row is created already (status sent). */
typedef struct {
  const char *id;
  const char *kind;              /* csat | nps */
  const char *locale;            /* the customer's, picked */
  int64_t ticket_id;             /* csat: its notification goes on the ticket's channel */
  int64_t customer_id;
  const char *order_id;          /* nps */
  const char *channel, *handle;  /* nps: where */
} wrk_survey_out_t;

/* The question (template survey_csat | survey_nps with the signed link), its
 * notification, the notification.send, and the delayed reminder. */
int wrk_survey_send (wrk_ctx_t *ctx, wrk_msg_t *m, const wrk_survey_out_t *s);

/* The policy, then the survey row sent or skipped; *send_out when it is to
 * be sent now (id_out names it). */
int wrk_survey_admit (wrk_ctx_t *ctx, wrk_msg_t *m, at_survey_new_t *s, char id_out[AT_ID_LEN],
                      bool *send_out);

/* survey.nps and survey.remind. */
int wrk_survey_nps (wrk_ctx_t *ctx, wrk_msg_t *m);
int wrk_survey_remind (wrk_ctx_t *ctx, wrk_msg_t *m);

#endif
