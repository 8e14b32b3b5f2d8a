/* at_store_inbox: what the agents' inbox reads and writes (migration 023):
 * the lists of tickets (mine, my teams', unassigned, breaching soon) with
 * their filters and a fingerprint for ETags, internal notes, and snoozing a
 * ticket out of the lists until a time. The api's side only; route never
 * reads these. */
#ifndef AT_STORE_INBOX_H
#define AT_STORE_INBOX_H

#include <jansson.h>
#include "at_store.h"

#define AT_INBOX_LIST_DEFAULT 50
#define AT_INBOX_LIST_MAX 200
#define AT_INBOX_WITHIN_DEFAULT_MIN 60     /* "breaching": due within this */
#define AT_INBOX_WITHIN_MAX_MIN 10080
#define AT_INBOX_NOTE_MAX 65536            /* bytes of a note */
#define AT_INBOX_EXCERPT_CHARS 160         /* of a ticket's last message */

typedef enum {
  AT_INBOX_MINE = 0,         /* assigned to user_id (or resolved by them, with status) */
  AT_INBOX_TEAM,             /* queued or assigned in user_id's teams (a key: every team) */
  AT_INBOX_UNASSIGNED,       /* queued at the desk, any team */
  AT_INBOX_BREACHING,        /* a running SLA clock due within within_min, soonest first */
} at_inbox_view_t;

typedef struct {
  at_inbox_view_t view;
  int64_t user_id;           /* the signed-in person; 0: a key */
  const char *channel;       /* NULL: any */
  const char *intent;
  const char *priority;
  const char *status;        /* NULL: not resolved */
  int within_min;            /* breaching: 1..AT_INBOX_WITHIN_MAX_MIN */
  int limit;                 /* 1..AT_INBOX_LIST_MAX */
} at_inbox_filter_t;

/* The view's tickets, snoozed ones left out, as a JSON array of {id,
 * channel, status, intent, priority, subject, language, customer_id,
 * customer, created_at, desk_state, team, assignee, due_at (the soonest
 * running SLA clock), excerpt (the last message's first characters),
 * messages, notes, escalated (a rule escalated it to the team's leads)}
 * into *items_out (owned). */
int at_store_inbox_list (at_store_t *store, const at_inbox_filter_t *filter, json_t **items_out);

/* A note on ticket_id by author (user_id 0: a key); its id into *id_out.
 * AT_NOTFOUND: no such ticket. Runs in the caller's transaction, if any. */
int at_store_inbox_note_add (at_store_t *store, int64_t ticket_id, int64_t user_id,
                             const char *author, const char *text, int64_t *id_out);

/* What the inbox adds to a ticket's view: {notes: [{id, author, body,
 * created_at}] oldest first, snoozed_until: RFC 3339 UTC or null, subject,
 * escalations: [{rule, event, created_at}] oldest first,
 * customer: {id, name, tickets: their other tickets, orders: [{id, status,
 * expected_delivery, missed_delivery, delay_days, tracking_url,
 * status_at}]}} (the newest ten of each). */
int at_store_inbox_ticket_json (at_store_t *store, int64_t ticket_id, json_t **out);

/* Hides the ticket from the lists until `until` (RFC 3339, checked by the
 * caller; a time past wakes it); AT_NOTFOUND: no such ticket. */
int at_store_inbox_snooze (at_store_t *store, int64_t ticket_id, const char *until);

#endif
