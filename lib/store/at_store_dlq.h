/* at_dlq: the dead letters (table bus_dead): list, show and replay.
 *
 * A dead letter keeps the message (id, stage, key, type, payload), the
 * attempt it died at, its last reason and its failure history (errors: a
 * JSON array of {attempt, at, reason}, the last 20). Replay moves it back
 * into bus_message at attempt 1, keeping its id and history, in one
 * transaction; the broker's sweep then delivers it. Replay is idempotent: a
 * message that is not in bus_dead (never dead, or already replayed) is left
 * as it is and the caller is told where it is. */
#ifndef AT_DLQ_H
#define AT_DLQ_H

#include <jansson.h>
#include "at_store.h"
#include "at_msg.h"

#define AT_DLQ_LIST_MAX 1000          /* rows one list answers at most */
#define AT_DLQ_REPLAY_MAX 100000      /* rows one bulk replay moves at most */
#define AT_DLQ_TIME_LEN 40
#define AT_DLQ_REASON_LEN 1024

typedef struct {
  char id[AT_ID_LEN];
  char stage[AT_STAGE_LEN];
  char key[AT_KEY_LEN];
  char type[AT_TYPE_LEN];
  char trace_id[AT_ID_LEN];
  uint32_t attempt;                   /* the attempt it died at */
  int32_t replays;                    /* times it was replayed before */
  char created_at[AT_DLQ_TIME_LEN];   /* RFC 3339, UTC */
  char dead_at[AT_DLQ_TIME_LEN];
  char reason[AT_DLQ_REASON_LEN];
  size_t payload_len;
  char *errors;                       /* owned: JSON array text */
} at_dlq_entry_t;

/* Where a message is, for replay's answer. */
typedef enum {
  AT_DLQ_UNKNOWN = 0,                 /* in neither table (never seen, or done) */
  AT_DLQ_DEAD,                        /* in bus_dead */
  AT_DLQ_PENDING                      /* in bus_message (e.g. already replayed) */
} at_dlq_where_t;

void at_dlq_entry_clear (at_dlq_entry_t *entry);

/* Dead letters of `stage` (NULL or "": all), newest first, at most limit
 * (1..AT_DLQ_LIST_MAX). *entries_out is owned (free with at_dlq_entries_free). */
int at_dlq_list (at_store_t *store, const char *stage, int limit, at_dlq_entry_t **entries_out,
                 size_t *n_out);
void at_dlq_entries_free (at_dlq_entry_t **entries_p, size_t n);

/* One dead letter by id: AT_OK, AT_NOTFOUND (not dead; *where_out says
 * where it is), AT_INVALID (not a UUID), or a store error. */
int at_dlq_get (at_store_t *store, const char *id, at_dlq_entry_t *entry, at_dlq_where_t *where_out);

/* Replays one dead letter: AT_OK when it moved (now pending at attempt 1),
 * AT_NOTFOUND when it was not dead (nothing changed; *where_out says where it
 * is), AT_INVALID (not a UUID), or a store error (nothing changed).
 * broker_count gives the shard of its key (cfg->broker_count). */
int at_dlq_replay (at_store_t *store, const char *id, int broker_count, at_dlq_where_t *where_out);

/* Replays up to limit (1..AT_DLQ_REPLAY_MAX) dead letters of stage, oldest
 * first, in one transaction. *moved_out gets how many moved. */
int at_dlq_replay_stage (at_store_t *store, const char *stage, int limit, int broker_count,
                         size_t *moved_out);

const char *at_dlq_where_name (at_dlq_where_t where);

/* The entry as a JSON object (the CLI's and the api's shape):
 * {id, stage, key, type, trace_id, attempt, replays, created_at, dead_at,
 *  reason, payload_bytes[, errors: [{attempt, at, reason}]]}. */
json_t *at_dlq_entry_json (const at_dlq_entry_t *entry, bool with_errors);

#endif
