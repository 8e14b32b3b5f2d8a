/* at_call: a telephone call event told by the store's telephony (answered,
 * missed, voicemail), read from Twilio Voice's callbacks (a form) or from
 * atende's own JSON, and the short text an agent reads on the ticket.
 * Pure: no I/O, no logs; the api's doors check signatures and publish. */
#ifndef AT_CALL_H
#define AT_CALL_H

#include "at_common.h"
#include "at_form.h"

#define AT_CALL_ID_MAX 128             /* bytes of a call id (Twilio's CallSid: 34) */
#define AT_CALL_NUMBER_MAX 64          /* bytes of a phone number as written */
#define AT_CALL_AGENT_MAX 128          /* bytes of the agent's name */
#define AT_CALL_URL_MAX 2048           /* bytes of a recording URL */
#define AT_CALL_TRANSCRIPT_MAX 8192    /* bytes of a voicemail's transcript */
#define AT_CALL_DURATION_MAX 86400     /* seconds */
#define AT_CALL_MESSAGE_ID_MAX (AT_CALL_ID_MAX + 24)
#define AT_CALL_SUMMARY_MAX (AT_CALL_TRANSCRIPT_MAX + AT_CALL_URL_MAX + AT_CALL_AGENT_MAX + 512)

typedef enum {
  AT_CALL_ANSWERED,
  AT_CALL_MISSED,
  AT_CALL_VOICEMAIL,
} at_call_event_t;

typedef struct {
  at_call_event_t event;
  bool outbound;                 /* the store called the customer */
  bool transcription;            /* Twilio's transcription callback: the transcript of a
                                    voicemail already told, its own message */
  bool url_dropped;              /* a recording URL that was not http(s) was left out */
  char call_id[AT_CALL_ID_MAX + 1];
  char customer[AT_CALL_NUMBER_MAX + 1];     /* the customer's number, E.164 */
  char agent[AT_CALL_AGENT_MAX + 1];         /* "" unknown */
  char recording_url[AT_CALL_URL_MAX + 1];   /* "" none; always http(s) */
  char transcript[AT_CALL_TRANSCRIPT_MAX + 1];
  int64_t duration_s;            /* talk time, or the voicemail's length; -1 unknown */
  int64_t occurred_us;           /* 0: unknown (now) */
} at_call_t;

/* atende's JSON (POST /v1/channels/phone):
 *   {"call_id", "event": "answered|missed|voicemail", "from", "to"?,
 *    "direction": "inbound|outbound"?, "occurred_at": RFC 3339?, "duration_s"?,
 *    "agent"?, "recording_url"?, "transcript"?}
 * The customer is "from" on an inbound call (the default), "to" on an
 * outbound one; the number is normalised to E.164 (at_channel). A transcript
 * is kept on a voicemail only. Unknown fields are ignored. AT_OK, or
 * AT_INVALID with the field at fault in field ("" the body as a whole) and
 * a reason. */
int at_call_from_json (const char *body, size_t len, at_call_t *out, char *field,
                       size_t field_cap, char *reason, size_t reason_cap);

/* Twilio Voice's status, recording (<Record action>) and transcription
 * callbacks: CallSid, CallStatus, Direction, From, To, CallDuration,
 * RecordingUrl, RecordingDuration, TranscriptionText, TranscriptionStatus.
 *   a transcription (TranscriptionStatus completed)   voicemail, transcription set
 *   a RecordingUrl                                    voicemail
 *   completed with CallDuration > 0                   answered
 *   completed with 0, no-answer, busy, failed, canceled   missed
 * The customer is From on an inbound call, To on outbound-api. AT_OK;
 * AT_NOTFOUND when there is nothing to tell (ringing, in-progress, a leg
 * between the store and its agents, a failed transcription, a caller whose
 * number is withheld or not a phone number), reason says which; AT_INVALID
 * with the field at fault. A recording URL that is not http(s) is left out
 * (url_dropped). A transcript longer than the cap is cut at a character. */
int at_call_from_twilio (const at_form_t *form, at_call_t *out, char *field, size_t field_cap,
                         char *reason, size_t reason_cap);

/* "answered", "missed", "voicemail". */
const char *at_call_event_name (at_call_event_t event);

/* The dedup key of the event: "call:<call_id>:<event>" ("...:transcript"
 * for a transcription). AT_INVALID when it does not fit. */
int at_call_message_id (const at_call_t *call, char *out, size_t cap);

/* What the agent reads, in locale (pt-BR, en, es; anything else pt-BR):
 *   "Chamada perdida de +55 11 98765-4321"
 *   "Chamada atendida (3 min 12 s) por Ana"
 *   "Mensagem de voz (0:42): <transcript> — gravação: <url>"
 * AT_INVALID when it does not fit in cap (AT_CALL_SUMMARY_MAX always does). */
int at_call_summary (const at_call_t *call, const char *locale, char *out, size_t cap);

#endif
