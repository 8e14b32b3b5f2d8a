/* Personal data (LGPD/GDPR): a customer's export and erasure, and the bus
 * key of a handle (the retention of resolved tickets' texts is in
 * store_retention.c). What an erasure does to each table is written beside
 * its statement; README "Personal data" says it in prose. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at_store_privacy.h"
#include "at_store_auth.h"
#include "at_channel.h"
#include "at_crypto.h"
#include "at_log.h"

#define S_COMP "privacy"
#define S_KEYS_MAX 64          /* identities whose bus keys are looked for */
#define S_KEY_HEX_BYTES 16     /* of the HMAC, in the key */

int
at_privacy_bus_key (const char *secret, const char *channel, const char *handle, char *out,
                    size_t cap)
{
  const char *kind = at_channel_identity_kind (channel);
  char text[AT_HANDLE_MAX + 32];
  uint8_t mac[32];
  if (!kind || !handle || !out || cap < AT_PRIVACY_KEY_LEN)
    return AT_INVALID;
  int n = snprintf (text, sizeof text, "%s:%s", kind, handle);
  if (n < 0 || (size_t) n >= sizeof text)
    return AT_INVALID;
  at_hmac_sha256 (secret ? secret : "", secret ? strlen (secret) : 0, text, (size_t) n, mac);
  int used = snprintf (out, cap, "%s:#", kind);
  for (int i = 0; i < S_KEY_HEX_BYTES; i++)
    used += snprintf (out + used, cap - (size_t) used, "%02x", mac[i]);
  return AT_OK;
}

/* The bus rows of a customer (t: the table's alias; $1 the customer id, $2
 * their inbound keys, text[]): their inbound messages by key (hashed, or a
 * raw "<channel>:<handle>" key written before keys were hashed), and what
 * is keyed by their tickets, surveys, orders and notifications. */
#define S_BUS_OF(t) \
  "(" t ".key = ANY ($2::text[])" \
  " OR (" t ".type = 'inbound.message' AND substr (" t ".key, strpos (" t ".key, ':') + 1)" \
  "     IN (SELECT value FROM identity WHERE customer_id = $1))" \
  " OR " t ".key IN (SELECT 'ticket:' || id FROM ticket WHERE customer_id = $1" \
  "  UNION ALL SELECT 'survey:' || id::text FROM survey WHERE customer_id = $1" \
  "  UNION ALL SELECT 'order:' || id FROM orders WHERE customer_id = $1" \
  "  UNION ALL SELECT 'selfservice:' || id::text FROM selfservice_request" \
  "    WHERE customer_id = $1" \
  "  UNION ALL SELECT 'notification:' || id::text FROM notification WHERE customer_id = $1))"

#define S_BUS_JSON(t) \
  "json_build_object ('id', " t ".id, 'stage', " t ".stage, 'type', " t ".type, 'key', " t ".key," \
  " 'created_at', " t ".created_at, 'payload_base64', encode (" t ".payload, 'base64'))"

static const at_sql_t SQL_EXPORT = {"privacy_export",
  "SELECT json_build_object ("
  " 'exported_at', now (),"
  " 'customer', json_build_object ('id', c.id, 'name', c.name, 'locale', c.locale,"
  "   'timezone', c.timezone, 'preferred_channel', c.preferred_channel,"
  "   'created_at', c.created_at, 'merged_into', c.merged_into, 'merged_at', c.merged_at,"
  "   'erased_at', c.erased_at),"
  " 'merged_customers', coalesce ((SELECT json_agg (json_build_object ('id', m.id,"
  "   'name', m.name, 'created_at', m.created_at, 'merged_at', m.merged_at) ORDER BY m.id)"
  "   FROM customer m WHERE m.merged_into = c.id), '[]'),"
  " 'identities', coalesce ((SELECT json_agg (json_build_object ('kind', i.kind,"
  "   'value', i.value, 'created_at', i.created_at) ORDER BY i.id)"
  "   FROM identity i WHERE i.customer_id = c.id), '[]'),"
  " 'tickets', coalesce ((SELECT json_agg (json_build_object ('id', t.id, 'channel', t.channel,"
  "   'status', t.status, 'subject', t.subject, 'intent', t.intent, 'priority', t.priority,"
  "   'language', t.language, 'created_at', t.created_at, 'first_response_at',"
  "   t.first_response_at, 'resolved_at', t.resolved_at, 'messages', coalesce ((SELECT"
  "   json_agg (json_build_object ('id', tm.id, 'direction', tm.direction, 'author', tm.author,"
  "   'channel', tm.channel, 'body', tm.body, 'full_body', tm.full_body, 'language',"
  "   tm.language, 'created_at', tm.created_at, 'attachments', coalesce ((SELECT json_agg ("
  "   json_build_object ('name', a.name, 'content_type', a.content_type, 'size', a.size)"
  "   ORDER BY a.id) FROM attachment a WHERE a.ticket_message_id = tm.id), '[]'))"
  "   ORDER BY tm.id) FROM ticket_message tm WHERE tm.ticket_id = t.id), '[]')) ORDER BY t.id)"
  "   FROM ticket t WHERE t.customer_id = c.id), '[]'),"
  " 'orders', coalesce ((SELECT json_agg (json_build_object ('id', o.id, 'status', o.status,"
  "   'expected_delivery', o.expected_delivery, 'tracking_url', o.tracking_url,"
  "   'customer_channel', o.customer_channel, 'status_at', o.status_at, 'created_at',"
  "   o.created_at, 'delivered_at', o.delivered_at, 'payment_method', o.payment_method,"
  "   'payment_code', o.payment_code, 'payment_due', o.payment_due, 'events', coalesce ((SELECT json_agg (json_build_object ('event_id',"
  "   e.event_id, 'status', e.status, 'occurred_at', e.occurred_at, 'applied', e.applied)"
  "   ORDER BY e.id) FROM order_event e WHERE e.order_id = o.id), '[]')) ORDER BY o.created_at)"
  "   FROM orders o WHERE o.customer_id = c.id), '[]'),"
  " 'selfservice_requests', coalesce ((SELECT json_agg (json_build_object ('id', r.id,"
  "   'kind', r.kind, 'order_id', r.order_id, 'ticket_id', r.ticket_id, 'state', r.state,"
  "   'created_at', r.created_at) ORDER BY r.created_at)"
  "   FROM selfservice_request r WHERE r.customer_id = c.id), '[]'),"
  " 'notifications', coalesce ((SELECT json_agg (json_build_object ('id', n.id, 'kind', n.kind,"
  "   'channel', n.channel, 'recipient', n.recipient, 'body', n.body, 'status', n.status,"
  "   'ticket_id', n.ticket_id, 'order_id', n.order_id, 'created_at', n.created_at,"
  "   'delivered_at', n.delivered_at) ORDER BY n.created_at)"
  "   FROM notification n WHERE n.customer_id = c.id), '[]'),"
  " 'surveys', coalesce ((SELECT json_agg (json_build_object ('id', s.id, 'kind', s.kind,"
  "   'ticket_id', s.ticket_id, 'created_at', s.created_at, 'answer', (SELECT"
  "   json_build_object ('score', sa.score, 'comment', sa.comment, 'created_at', sa.created_at)"
  "   FROM survey_answer sa WHERE sa.survey_id = s.id)) ORDER BY s.created_at)"
  "   FROM survey s WHERE s.customer_id = c.id), '[]'),"
  " 'bus', json_build_object ("
  "   'pending', coalesce ((SELECT json_agg (" S_BUS_JSON ("b") " ORDER BY b.created_at)"
  "     FROM bus_message b WHERE " S_BUS_OF ("b") "), '[]'),"
  "   'dead', coalesce ((SELECT json_agg (" S_BUS_JSON ("d") " ORDER BY d.dead_at)"
  "     FROM bus_dead d WHERE " S_BUS_OF ("d") "), '[]'))"
  " )::text FROM customer c WHERE c.id = $1", 2};

static const at_sql_t SQL_IDENTITIES = {"privacy_identities",
  "SELECT kind, value FROM identity WHERE customer_id = $1 ORDER BY id LIMIT 64", 1};

/* The erasure, in this order (bus rows first: a worker holding one is
 * waited for, and what it committed is then erased by the statements that
 * follow, each with a fresh snapshot). */
static const at_sql_t SQL_ERASE_LOCK = {"privacy_erase_lock",
  "SELECT erased_at IS NOT NULL FROM customer WHERE id = $1 FOR UPDATE", 1};
/* bus_message: deleted, but what holds no personal data and keeps the
 * desk's promises: a ticket.resolve (the ticket's status), an sla.check and
 * a kb.followup (ids and times only) */
static const at_sql_t SQL_ERASE_BUS = {"privacy_erase_bus",
  "DELETE FROM bus_message b WHERE b.type NOT IN ('ticket.resolve', 'sla.check', 'kb.followup')"
  " AND " S_BUS_OF ("b"), 2};
/* bus_dead: deleted */
static const at_sql_t SQL_ERASE_DEAD = {"privacy_erase_dead",
  "DELETE FROM bus_dead d WHERE " S_BUS_OF ("d"), 2};
/* ticket_message: body -> [erased], full_body, email_message_id -> NULL */
static const at_sql_t SQL_ERASE_MESSAGES = {"privacy_erase_messages",
  "UPDATE ticket_message m SET body = '" AT_PRIVACY_ERASED "', full_body = NULL,"
  " email_message_id = NULL FROM ticket t WHERE t.id = m.ticket_id AND t.customer_id = $1"
  " AND (m.body <> '" AT_PRIVACY_ERASED "' OR m.full_body IS NOT NULL"
  "      OR m.email_message_id IS NOT NULL)", 1};
/* ticket_note: body -> [erased] (agents' notes may quote the person) */
static const at_sql_t SQL_ERASE_NOTES = {"privacy_erase_notes",
  "UPDATE ticket_note n SET body = '" AT_PRIVACY_ERASED "' FROM ticket t"
  " WHERE t.id = n.ticket_id AND t.customer_id = $1 AND n.body <> '" AT_PRIVACY_ERASED "'", 1};
/* attachment_content: deleted; attachment.name -> [erased] (type, size stay) */
static const at_sql_t SQL_ERASE_CONTENTS = {"privacy_erase_contents",
  "DELETE FROM attachment_content ac USING attachment a, ticket_message m, ticket t"
  " WHERE a.id = ac.attachment_id AND m.id = a.ticket_message_id AND t.id = m.ticket_id"
  " AND t.customer_id = $1", 1};
static const at_sql_t SQL_ERASE_ATTACHMENTS = {"privacy_erase_attachments",
  "UPDATE attachment a SET name = '" AT_PRIVACY_ERASED "' FROM ticket_message m, ticket t"
  " WHERE m.id = a.ticket_message_id AND t.id = m.ticket_id AND t.customer_id = $1"
  " AND a.name <> '" AT_PRIVACY_ERASED "'", 1};
/* ticket: subject -> NULL (status, times, channel, intent stay) */
static const at_sql_t SQL_ERASE_TICKETS = {"privacy_erase_tickets",
  "UPDATE ticket SET subject = NULL WHERE customer_id = $1 AND subject IS NOT NULL", 1};
/* notification: recipient, body -> [erased]; last_error, provider_error ->
 * NULL; one not yet sent -> failed (its bus row is gone) */
static const at_sql_t SQL_ERASE_NOTIFICATIONS = {"privacy_erase_notifications",
  "UPDATE notification SET recipient = '" AT_PRIVACY_ERASED "', body = '" AT_PRIVACY_ERASED "',"
  " last_error = NULL, provider_error = NULL,"
  " status = CASE WHEN status IN ('pending', 'sending') THEN 'failed' ELSE status END"
  " WHERE (customer_id = $1 OR ticket_id IN (SELECT id FROM ticket WHERE customer_id = $1)"
  "        OR order_id IN (SELECT id FROM orders WHERE customer_id = $1))"
  " AND (recipient <> '" AT_PRIVACY_ERASED "' OR body <> '" AT_PRIVACY_ERASED "')", 1};
/* survey_answer: comment -> NULL (score stays) */
static const at_sql_t SQL_ERASE_SURVEYS = {"privacy_erase_surveys",
  "UPDATE survey_answer sa SET comment = NULL FROM survey s WHERE s.id = sa.survey_id"
  " AND s.customer_id = $1 AND sa.comment IS NOT NULL", 1};
/* orders: tracking_url, payment_code -> NULL (the row, status and dates stay) */
static const at_sql_t SQL_ERASE_ORDERS = {"privacy_erase_orders",
  "UPDATE orders SET tracking_url = NULL, payment_code = NULL WHERE customer_id = $1"
  " AND (tracking_url IS NOT NULL OR payment_code IS NOT NULL)", 1};
/* identity: deleted */
static const at_sql_t SQL_ERASE_IDENTITIES = {"privacy_erase_identities",
  "DELETE FROM identity WHERE customer_id = $1", 1};
/* customer (and those merged into it): name, timezone, preferred_channel ->
 * NULL, erased_at set (id, locale, created_at stay) */
static const at_sql_t SQL_ERASE_CUSTOMER = {"privacy_erase_customer",
  "UPDATE customer SET name = NULL, timezone = NULL, preferred_channel = NULL,"
  " erased_at = coalesce (erased_at, now ()) WHERE (id = $1 OR merged_into = $1)"
  " AND (name IS NOT NULL OR timezone IS NOT NULL OR preferred_channel IS NOT NULL"
  "      OR erased_at IS NULL)", 1};

/* The inbound keys of a customer's identities as a text[] literal:
 * "{email:#ab..,whatsapp:#cd..}" (kinds and hex need no quoting). */
static int
s_keys_literal (at_store_t *store, const char *id, const char *secret, char *out, size_t cap)
{
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_IDENTITIES, id);
  if (rc != AT_OK)
    return rc;
  size_t used = (size_t) snprintf (out, cap, "{");
  for (int r = 0; r < PQntuples (res) && r < S_KEYS_MAX; r++) {
    char key[AT_PRIVACY_KEY_LEN];
    const char *kind = PQgetvalue (res, r, 0);
    const char *channel = strcmp (kind, "phone") == 0 ? "sms" : kind;
    if (at_privacy_bus_key (secret, channel, PQgetvalue (res, r, 1), key, sizeof key) != AT_OK)
      continue;
    used += (size_t) snprintf (out + used, cap - used, "%s%s", used > 1 ? "," : "", key);
  }
  PQclear (res);
  snprintf (out + used, cap - used, "}");
  return AT_OK;
}

int
at_store_privacy_export (at_store_t *store, int64_t customer_id, const char *secret,
                         char **json_out)
{
  char id[24], keys[S_KEYS_MAX * AT_PRIVACY_KEY_LEN + 4];
  *json_out = NULL;
  snprintf (id, sizeof id, "%" PRId64, customer_id);
  int rc = s_keys_literal (store, id, secret, keys, sizeof keys);
  PGresult *res = NULL;
  if (rc == AT_OK)
    rc = at_store_q (store, &res, &SQL_EXPORT, id, keys);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) == 1)
    *json_out = at_strdup (PQgetvalue (res, 0, 0));
  PQclear (res);
  return *json_out ? AT_OK : AT_NOTFOUND;
}

/* Runs one erasing statement; adds the rows it touched to *count. */
static int
s_erase (at_store_t *store, const at_sql_t *sql, const char *id, const char *keys, long *count)
{
  PGresult *res = NULL;
  int rc = sql->nparams == 2 ? at_store_q (store, &res, sql, id, keys)
                             : at_store_q (store, &res, sql, id);
  if (rc != AT_OK)
    return rc;
  *count += strtol (PQcmdTuples (res), NULL, 10);
  PQclear (res);
  return AT_OK;
}

static int
s_erase_tables (at_store_t *store, const char *id, const char *keys, at_privacy_erase_t *e)
{
  long contents = 0;
  int rc = s_erase (store, &SQL_ERASE_BUS, id, keys, &e->bus_pending);
  if (rc == AT_OK)
    rc = s_erase (store, &SQL_ERASE_DEAD, id, keys, &e->bus_dead);
  if (rc == AT_OK)
    rc = s_erase (store, &SQL_ERASE_MESSAGES, id, NULL, &e->messages);
  if (rc == AT_OK)
    rc = s_erase (store, &SQL_ERASE_NOTES, id, NULL, &e->notes);
  if (rc == AT_OK)
    rc = s_erase (store, &SQL_ERASE_CONTENTS, id, NULL, &contents);
  if (rc == AT_OK)
    rc = s_erase (store, &SQL_ERASE_ATTACHMENTS, id, NULL, &e->attachments);
  if (rc == AT_OK)
    rc = s_erase (store, &SQL_ERASE_TICKETS, id, NULL, &e->tickets);
  if (rc == AT_OK)
    rc = s_erase (store, &SQL_ERASE_NOTIFICATIONS, id, NULL, &e->notifications);
  if (rc == AT_OK)
    rc = s_erase (store, &SQL_ERASE_SURVEYS, id, NULL, &e->surveys);
  if (rc == AT_OK)
    rc = s_erase (store, &SQL_ERASE_ORDERS, id, NULL, &e->orders);
  if (rc == AT_OK)
    rc = s_erase (store, &SQL_ERASE_IDENTITIES, id, NULL, &e->identities);
  if (rc == AT_OK)
    rc = s_erase (store, &SQL_ERASE_CUSTOMER, id, NULL, &e->customers);
  return rc;
}

static json_t *
s_counts_json (const at_privacy_erase_t *e)
{
  return json_pack ("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                    "already_erased", e->already, "customer", (json_int_t) e->customers,
                    "identity", (json_int_t) e->identities, "ticket", (json_int_t) e->tickets,
                    "ticket_message", (json_int_t) e->messages,
                    "ticket_note", (json_int_t) e->notes,
                    "attachment", (json_int_t) e->attachments,
                    "notification", (json_int_t) e->notifications,
                    "survey_answer", (json_int_t) e->surveys, "orders", (json_int_t) e->orders,
                    "bus_message", (json_int_t) e->bus_pending,
                    "bus_dead", (json_int_t) e->bus_dead);
}

/* Locks the customer row: AT_NOTFOUND, or AT_OK and *erased (before). */
static int
s_lock (at_store_t *store, const char *id, bool *erased)
{
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_ERASE_LOCK, id);
  if (rc != AT_OK)
    return rc;
  rc = PQntuples (res) == 1 ? AT_OK : AT_NOTFOUND;
  if (rc == AT_OK)
    *erased = PQgetvalue (res, 0, 0)[0] == 't';
  PQclear (res);
  return rc;
}

int
at_store_privacy_erase (at_store_t *store, int64_t customer_id, const char *secret,
                        const char *actor, const char *addr, at_privacy_erase_t *out)
{
  char id[24], target[40], keys[S_KEYS_MAX * AT_PRIVACY_KEY_LEN + 4];
  bool erased_before = false;
  memset (out, 0, sizeof *out);
  snprintf (id, sizeof id, "%" PRId64, customer_id);
  snprintf (target, sizeof target, "customer:%s", id);
  int rc = at_store_begin (store);
  if (rc != AT_OK)
    return rc;
  rc = s_lock (store, id, &erased_before);
  if (rc == AT_OK)
    rc = s_keys_literal (store, id, secret, keys, sizeof keys);
  if (rc == AT_OK)
    rc = s_erase_tables (store, id, keys, out);
  if (rc == AT_OK) {
    at_privacy_erase_t *e = out;
    e->already = erased_before && e->customers + e->identities + e->tickets + e->messages
                 + e->notes + e->attachments + e->notifications + e->surveys + e->orders + e->bus_pending
                 + e->bus_dead == 0;
    json_t *detail = s_counts_json (out);
    rc = at_store_audit (store, actor, "customer.erase", target, detail, addr);
    json_decref (detail);
  }
  if (rc == AT_OK)
    rc = at_store_commit (store);
  if (rc != AT_OK) {
    at_store_rollback (store);
    memset (out, 0, sizeof *out);
    return rc;
  }
  at_info (S_COMP, "msg=\"customer erased\" customer_id=%s actor=%s messages=%ld "
           "identities=%ld bus_pending=%ld bus_dead=%ld", id, actor, out->messages,
           out->identities, out->bus_pending, out->bus_dead);
  return AT_OK;
}
