/* Surveys in the store (lib/store/store_survey.c): CSAT after a resolved ticket,
 * NPS after a delivered order; at most one sent per customer per period and
 * none while one is pending (the policy, migration 018); each answered at
 * most once, by the signed link or typed in the channel; one reminder; one
 * follow-up ticket for a low score. Everything runs in the caller's
 * transaction. */
#ifndef AT_SURVEY_H
#define AT_SURVEY_H

#include "at_store.h"
#include "at_msg.h"

#define AT_SURVEY_CHANNEL_LEN 16
#define AT_SURVEY_ORDER_LEN 128

/* Looks a survey up by id (UUID text). kind_out gets "csat" or "nps",
 * *answered_out whether an answer is recorded. AT_NOTFOUND if none
 * (also for a survey_id that is not a UUID). */
int at_store_survey_status (at_store_t *store, const char *survey_id, char kind_out[8],
                            bool *answered_out);

/* The range of scores a survey kind accepts; false for an unknown kind. */
bool at_survey_score_valid (const char *kind, int score);

/* Records an answer once: *recorded_out false when one was already there.
 * AT_NOTFOUND for an unknown survey, AT_INVALID for a score outside the
 * kind's range (csat 1..5, nps 0..10). comment may be NULL. source: link |
 * channel; message_id: the customer's message (0: none). */
int at_store_survey_answer_from (at_store_t *store, const char *survey_id, int score,
                                 const char *comment, const char *source, int64_t message_id,
                                 bool *recorded_out);
/* The same from the link. */
int at_store_survey_answer (at_store_t *store, const char *survey_id, int score,
                            const char *comment, bool *recorded_out);

/* --- sending: the policy and the survey row ------------------------------ */

/* What a CSAT needs of its ticket: customer, channel, locale, and whether
 * the ticket has its survey already. AT_NOTFOUND for an unknown ticket. */
typedef struct {
  int64_t customer_id;
  char channel[AT_SURVEY_CHANNEL_LEN];
  char locale[8];
  bool exists;
} at_survey_ticket_t;
int at_store_survey_ticket (at_store_t *store, int64_t ticket_id, at_survey_ticket_t *out);

/* The customer's locale and whether the order has its NPS already. */
int at_store_survey_order (at_store_t *store, const char *order_id, int64_t customer_id,
                           char locale_out[8], bool *exists_out);

/* Serializes the policy per customer (a transaction-scoped advisory lock),
 * then says why a survey must not be sent now: "pending" (a sent survey
 * neither answered nor expired), "period" (one sent within period_days), or
 * "" (send it). */
int at_store_survey_policy (at_store_t *store, int64_t customer_id, long period_days,
                            char reason_out[16]);

typedef struct {
  const char *kind;                /* csat | nps */
  int64_t ticket_id;               /* csat; 0: none */
  const char *order_id;            /* nps; NULL: none */
  int64_t customer_id;
  const char *channel;
  const char *locale;
  const char *skip_reason;         /* NULL or "": sent; else skipped (period | pending) */
  long expires_s;                  /* sent: pending for this many seconds */
} at_survey_new_t;

/* Inserts the survey once per ticket (csat) or order (nps): id_out gets its
 * UUID and *created_out is true, or false when it existed (nothing done). */
int at_store_survey_create (at_store_t *store, const at_survey_new_t *s, char id_out[AT_ID_LEN],
                            bool *created_out);
/* The notification that carried the survey (kind survey), for notify and
 * the channel answers. */
int at_store_survey_sent (at_store_t *store, const char *survey_id, const char *notification_id);

/* The survey kind ("csat" | "nps") a survey notification (invite or
 * reminder) asks about: AT_NOTFOUND when the notification is no survey's. */
int at_store_survey_kind_of_notification (at_store_t *store, const char *notification_id,
                                          char kind_out[8]);

/* --- the reminder ----------------------------------------------------------- */

typedef struct {
  char kind[8];
  char locale[8];
  char channel[AT_SURVEY_CHANNEL_LEN];
  char recipient[256];
  char order_id[AT_SURVEY_ORDER_LEN];
  int64_t customer_id, ticket_id;
} at_survey_remind_t;

/* Claims the one reminder: *due_out true (and out filled) when the survey
 * was sent, is neither answered nor expired and had no reminder yet; the
 * claim is recorded (reminded_at), so it is never given twice. */
int at_store_survey_remind_claim (at_store_t *store, const char *survey_id, bool *due_out,
                                  at_survey_remind_t *out);
int at_store_survey_reminded (at_store_t *store, const char *survey_id,
                              const char *notification_id);

/* --- answers typed in the channel ----------------------------------------- */

/* The customer's latest survey sent on channel that is either waiting
 * (answered false: not answered, not expired) or answered within the last
 * expire_s seconds (answered true, score the recorded one). AT_NOTFOUND
 * when there is none. */
typedef struct {
  char id[AT_ID_LEN];
  char kind[8];
  char locale[8];
  bool answered;
  int score;
} at_survey_waiting_t;
int at_store_survey_waiting (at_store_t *store, int64_t customer_id, const char *channel,
                             long expire_s, at_survey_waiting_t *out);

/* --- the follow-up ticket of a low score ------------------------------------ */

/* Opens the survey's follow-up ticket once (for the customer, on the
 * survey's channel, status open, subject and a first message by the bot):
 * *created_out false when it has one already. */
typedef struct {
  int64_t ticket_id, message_id, customer_id;
  char channel[AT_SURVEY_CHANNEL_LEN];
} at_survey_followup_t;
int at_store_survey_followup_open (at_store_t *store, const char *survey_id, const char *subject,
                                   const char *body, bool *created_out, at_survey_followup_t *out);

/* Whether message_id of ticket_id is the first message of a survey's
 * follow-up ticket: *found_out, with the survey's kind, score and locale. */
int at_store_survey_followup_of (at_store_t *store, int64_t ticket_id, int64_t message_id,
                                 bool *found_out, char kind_out[8], int *score_out,
                                 char locale_out[8]);

/* The delayed survey.nps message of a delivered order (key order:<id>,
 * not before due_us); NULL when a field is too long for the bus. */
at_msg_t *at_survey_nps_msg (const char *order_id, int64_t customer_id, const char *channel,
                             const char *handle, int64_t due_us, const char *trace_id);

#endif
