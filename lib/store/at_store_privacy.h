/* Personal data (LGPD/GDPR) in the store (lib/store/store_privacy.c): a
 * customer's export, their erasure, the retention of resolved tickets'
 * texts, and the bus key of a customer's handle (no raw phone or email in
 * bus_message.key or bus_dead.key). */
#ifndef AT_STORE_PRIVACY_H
#define AT_STORE_PRIVACY_H

#include "at_store.h"
#include "at_msg.h"

#define AT_PRIVACY_ERASED "[erased]"   /* what an erased text becomes */
#define AT_PRIVACY_KEY_LEN 64          /* "<kind>:#<32 hex>" and its NUL, with room */

/* The ordering key of a customer's inbound message: "<kind>:#<hex>", kind the
 * channel's identity kind (at_channel_identity_kind: email and form share
 * "email"), hex the first 16 bytes of HMAC-SHA256(secret, kind ":" handle).
 * The same handle always gives the same key (per-customer order holds); the
 * key holds no handle. handle normalised (at_channel_normalize_handle).
 * secret "" or NULL hashes with an empty key (a guessable phone number can
 * then be found again by brute force: set ATENDE_BUS_KEY_SECRET). Pure.
 * AT_OK, or AT_INVALID (unknown channel, cap too small). */
int at_privacy_bus_key (const char *secret, const char *channel, const char *handle, char *out,
                        size_t cap);

/* Everything the store holds about a customer as one JSON document (text,
 * malloc'd into *json_out): the customer row, customers merged into it,
 * identities, tickets with messages (attachments: metadata), orders with
 * their events, notifications, surveys with answers, and the bus rows
 * (pending and dead) that concern them, payload in base64. secret: the bus
 * key secret (to find their inbound messages by key). AT_OK, AT_NOTFOUND. */
int at_store_privacy_export (at_store_t *store, int64_t customer_id, const char *secret,
                             char **json_out);

/* What an erasure changed, per table (rows). */
typedef struct {
  bool already;          /* erased before and nothing left to change */
  long customers, identities, tickets, messages, attachments, notifications, surveys, orders,
       bus_pending, bus_dead, notes;
} at_privacy_erase_t;

/* Erases a customer in ONE transaction of its own (call it outside any):
 * bus rows that concern them first (pending ones deleted but a
 * ticket.resolve, dead ones deleted), then texts and handles replaced by
 * AT_PRIVACY_ERASED or NULL, identities deleted, the customer row
 * anonymised (erased_at set), and the audit row (actor, action
 * "customer.erase", target "customer:<id>", the counts; addr may be NULL).
 * Counts, times, statuses and scores stay. Idempotent. AT_OK, AT_NOTFOUND,
 * or a store error (nothing changed). */
int at_store_privacy_erase (at_store_t *store, int64_t customer_id, const char *secret,
                            const char *actor, const char *addr, at_privacy_erase_t *out);

/* --- retention (lib/store/store_retention.c) */

/* The scheduled run (workers/survey/retention.c): a message of this type on
 * the survey stage (the stage that has the store at hand and no customer
 * waiting on it), always under this key, empty payload. */
#define AT_RETENTION_TYPE "maintenance.retention"
#define AT_RETENTION_KEY "maintenance:retention"

/* Retention: the texts (body, full body, attachments) of messages of
 * tickets resolved more than `days` days ago become AT_PRIVACY_ERASED, at
 * most `limit` messages, and one audit row (actor, action
 * "retention.erase", target "ticket_message", detail {days, limit,
 * messages, bus_message_id when message_id is not NULL}), in the caller's
 * transaction. *erased_out: how many (fewer than limit: nothing older is
 * left). days >= 1, limit >= 1, actor not empty, or AT_INVALID. */
int at_store_retention_erase_in (at_store_t *store, long days, long limit, const char *actor,
                                 const char *message_id, long *erased_out);
/* The same in one transaction of its own (`atende retention run`). */
int at_store_retention_erase (at_store_t *store, long days, long limit, const char *actor,
                              long *erased_out);

/* The schedule's lock, held until the caller's transaction ends: whoever
 * writes a retention message takes it first and then looks at what is
 * pending, so two writers never both see "none" (and insert two). */
int at_store_retention_lock (at_store_t *store);
/* How many retention messages are pending in bus_message (due or not),
 * leaving out except_id (NULL: none left out). */
int at_store_retention_pending (at_store_t *store, const char *except_id, long *count_out);

/* The run of the interval that holds at_us (unix us): due at at_us, id
 * derived from (interval_s, at_us / interval_s) so that whoever builds the
 * run of the same interval builds the same row; and the run that follows a
 * full batch at once (id derived from run's id, same trace). Both are
 * UUIDs (version 8) from HMAC-SHA256 of the derivation. NULL on bad input. */
at_msg_t *at_retention_msg_at (int64_t at_us, long interval_s, const char *trace_id);
at_msg_t *at_retention_msg_after (const at_msg_t *run);

/* Starts the schedule when none is pending, in one transaction of its
 * own: the lock, the count, and when it is 0 the run due now
 * (at_retention_msg_at) inserted with its shard (shard_count brokers).
 * *started_out: whether a row was inserted. Idempotent and safe from any
 * number of processes at once (each survey worker calls it at start). */
int at_store_retention_start (at_store_t *store, long interval_s, int shard_count,
                              bool *started_out);

#endif
