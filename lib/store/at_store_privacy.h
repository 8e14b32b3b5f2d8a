/* Personal data (LGPD/GDPR) in the store (lib/store/store_privacy.c): a
 * customer's export, their erasure, the retention of resolved tickets'
 * texts, and the bus key of a customer's handle (no raw phone or email in
 * bus_message.key or bus_dead.key). */
#ifndef AT_STORE_PRIVACY_H
#define AT_STORE_PRIVACY_H

#include "at_store.h"

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
       bus_pending, bus_dead;
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

/* Retention: the texts (body, full body, attachments) of messages of
 * tickets resolved more than `days` days ago become AT_PRIVACY_ERASED, at
 * most `limit` messages in one transaction of its own. *erased_out: how
 * many (fewer than limit: nothing older is left). days >= 1. */
int at_store_retention_erase (at_store_t *store, long days, long limit, long *erased_out);

#endif
