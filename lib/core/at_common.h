/* at_common: return codes and small helpers every module uses. */
#ifndef AT_COMMON_H
#define AT_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define AT_OK        0
#define AT_ERROR    -1   /* unexpected: logged where found */
#define AT_AGAIN    -2   /* retryable: try again later */
#define AT_BUSY     -3   /* backpressure: a queue is full */
#define AT_INVALID  -4   /* bad input: never retried */
#define AT_NOTFOUND -5
#define AT_CONFLICT -6   /* already exists / already done */
#define AT_STALE    -7   /* fenced: the message is no longer held at this attempt */

#define AT_ARRAY_LEN(a) (sizeof (a) / sizeof ((a)[0]))

/* The stages of the pipeline, as they appear on the bus. */
#define AT_STAGE_INGEST "ingest"
#define AT_STAGE_ROUTE  "route"
#define AT_STAGE_NOTIFY "notify"
#define AT_STAGE_SURVEY "survey"

/* Message types (Envelope.type); payloads are in proto/domain.proto. */
#define AT_TYPE_INBOUND_MESSAGE   "inbound.message"    /* ingest */
#define AT_TYPE_TICKET_MESSAGE    "ticket.message"     /* route */
#define AT_TYPE_TICKET_REPLY      "ticket.reply"       /* route */
#define AT_TYPE_TICKET_RESOLVE    "ticket.resolve"     /* route */
#define AT_TYPE_TICKET_RESOLVED   "ticket.resolved"    /* survey */
#define AT_TYPE_KB_FOLLOWUP       "kb.followup"        /* route, delayed */
#define AT_TYPE_TICKET_HANDOFF    "ticket.handoff"     /* route */
#define AT_TYPE_DESK_ASSIGN       "desk.assign"        /* route, key team:<id> */
#define AT_TYPE_DESK_MANUAL       "desk.manual"        /* route: the api's assign, transfer */
#define AT_TYPE_DESK_REPLY_CHECK  "desk.reply_check"   /* route, delayed */
#define AT_TYPE_SLA_CHECK         "sla.check"          /* route, delayed: warning or breach */
#define AT_TYPE_RULE_CLOSE        "rule.close"         /* route, delayed: close_after_days */
#define AT_TYPE_RULE_REPLY        "rule.reply"         /* route: auto_reply */
#define AT_TYPE_RULE_EVENT        "rule.event"         /* route: an event from another stage */
#define AT_TYPE_RULE_IDLE         "rule.idle"          /* route, delayed: an idle rule's time */
#define AT_TYPE_SURVEY_ANSWER     "survey.answer"      /* survey */
#define AT_TYPE_SURVEY_NPS        "survey.nps"         /* survey, delayed, key order:<id> */
#define AT_TYPE_SURVEY_REMIND     "survey.remind"      /* survey, delayed, key survey:<id> */
#define AT_TYPE_ORDER_EVENT       "order.event"        /* notify */
#define AT_TYPE_NOTIFICATION_SEND "notification.send"  /* notify */

/* Wall clock and monotonic clock, microseconds. */
int64_t at_now_us (void);
int64_t at_mono_us (void);
int64_t at_mono_ms (void);

/* Bounded copy: always NUL-terminates, returns strlen (src). */
size_t at_strlcpy (char *dst, const char *src, size_t cap);

/* Strict decimal parse of a whole string into [min, max]; AT_INVALID otherwise. */
int at_parse_long (const char *text, long min, long max, long *out);

/* Duplicates, aborting on out-of-memory (the only sane answer in a daemon). */
char *at_strdup (const char *s);
/* Copies n bytes of a buffer that need not be NUL-terminated, adding the NUL
 * (strndup may read past n looking for one). */
char *at_strndup (const char *s, size_t n);
void *at_malloc (size_t size);
void *at_calloc (size_t n, size_t size);
void *at_realloc (void *ptr, size_t size);

#endif
