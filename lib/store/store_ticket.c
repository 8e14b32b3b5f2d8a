/* Tickets and their messages in the store, as ingest and route use them.
 * Every statement runs in the caller's transaction. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at_store_ticket.h"
#include "at_email.h"
#include "at_log.h"
#include "domain.pb-c.h"

#define S_COMP "ticket"

static const at_sql_t SQL_MESSAGE_SEEN = {"ticket_message_seen",
  "SELECT 1 FROM ticket_message WHERE channel = $1 AND provider_message_id = $2"
  " AND direction = 'in'", 2};

/* One customer locked for a ticket decision: its id and where it was merged (0: not). */
static const at_sql_t SQL_CUSTOMER_LOCK = {"ticket_customer_lock",
  "SELECT id, coalesce(merged_into, 0) FROM customer WHERE id = $1 FOR NO KEY UPDATE", 1};

static const at_sql_t SQL_TICKET_FIND_OPEN = {"ticket_find_open",
  "SELECT id FROM ticket WHERE customer_id = $1 AND channel = $2 AND status <> 'resolved'"
  " ORDER BY id DESC LIMIT 1", 2};

static const at_sql_t SQL_TICKET_INSERT = {"ticket_insert",
  "INSERT INTO ticket (customer_id, channel, subject) VALUES ($1, $2, NULLIF($3, ''))"
  " RETURNING id", 3};

#define S_MESSAGE_INSERT \
  "INSERT INTO ticket_message (ticket_id, direction, author, channel, body," \
  " provider_message_id, bus_message_id, language, email_message_id, full_body, html_stripped," \
  " agent)" \
  " VALUES ($1::int8, $2, $3, $4, $5, NULLIF($6, ''), $7::uuid, NULLIF($8, ''), NULLIF($9, '')," \
  " NULLIF($10, ''), $11::boolean, NULLIF($12, '')) RETURNING id"

/* A customer wrote: pending or resolved becomes open again. */
#define S_TICKET_TOUCH \
  "UPDATE ticket SET updated_at = now(), status = 'open'," \
  " resolved_at = CASE WHEN status = 'resolved' THEN NULL ELSE resolved_at END" \
  " WHERE id = $1::int8"

static const at_sql_t SQL_MESSAGE_INSERT = {"ticket_message_insert", S_MESSAGE_INSERT, 12};

/* The same, and the ticket touched: one round trip for what ingest did in
 * two. */
static const at_sql_t SQL_MESSAGE_INSERT_TOUCH = {"ticket_message_insert_touch",
  "WITH m AS (" S_MESSAGE_INSERT "), t AS (" S_TICKET_TOUCH ") SELECT id FROM m", 12};

static const at_sql_t SQL_TICKET_TOUCH_INBOUND = {"ticket_touch_inbound", S_TICKET_TOUCH, 1};

static const at_sql_t SQL_CUSTOMER_LOCALE = {"ticket_customer_locale",
  "UPDATE customer SET locale = $3 WHERE id = $1 AND locale <> $3"
  " AND NOT EXISTS (SELECT 1 FROM ticket WHERE customer_id = $1 AND id <> $2)", 3};

#define S_TICKET_COLUMNS \
  "id, customer_id, channel, status, coalesce(intent, ''), coalesce(priority, '')," \
  " coalesce(language, ''), auto_answered"

static const at_sql_t SQL_TICKET_LOCK = {"ticket_lock",
  "SELECT " S_TICKET_COLUMNS " FROM ticket WHERE id = $1 FOR NO KEY UPDATE", 1};

static const at_sql_t SQL_MESSAGE_LANGUAGE = {"ticket_message_language",
  "SELECT coalesce(language, '') FROM ticket_message WHERE id = $2 AND ticket_id = $1", 2};

static const at_sql_t SQL_TICKET_CLASSIFY = {"ticket_classify",
  "UPDATE ticket SET"
  " intent_confidence = CASE WHEN $2::text <> 'other' OR intent IS NULL OR intent = 'other'"
  "   THEN $7::real ELSE intent_confidence END,"
  " intent = CASE WHEN $2::text <> 'other' OR intent IS NULL THEN $2::text ELSE intent END,"
  " priority = CASE WHEN priority = 'high' THEN 'high' ELSE $3::text END,"
  " priority_reason = NULLIF(array_to_string(ARRAY(SELECT DISTINCT r FROM"
  "   unnest(string_to_array(coalesce(priority_reason, '') || ',' || $8::text, ',')) AS r"
  "   WHERE r <> '' ORDER BY r), ','), ''),"
  " language = CASE WHEN language IS NULL OR language = 'other'"
  "   THEN coalesce(NULLIF($4::text, ''), language) ELSE language END,"
  " first_response_due = coalesce(first_response_due, created_at + make_interval(mins =>"
  "   CASE WHEN priority = 'high' OR $3::text = 'high' THEN $6::int ELSE $5::int END)),"
  " updated_at = now()"
  " WHERE id = $1 RETURNING " S_TICKET_COLUMNS, 8};

static const at_sql_t SQL_REPEAT_CONTACTS = {"ticket_repeat_contacts",
  "SELECT count(*) FROM ticket_message m JOIN ticket t ON t.id = m.ticket_id"
  " JOIN LATERAL (SELECT status_at FROM orders WHERE customer_id = $1"
  "   ORDER BY status_at DESC LIMIT 1) o ON true"
  " WHERE t.customer_id = $1 AND m.direction = 'in'"
  " AND m.created_at > greatest(o.status_at, now() - make_interval(hours => $2::int))", 2};

static const at_sql_t SQL_TICKET_ANSWERED = {"ticket_answered",
  "UPDATE ticket SET first_response_at = coalesce(first_response_at, now()),"
  " status = 'pending', resolved_at = NULL, auto_answered = auto_answered OR $2::boolean,"
  " updated_at = now() WHERE id = $1", 2};

static const at_sql_t SQL_TICKET_HANDOFF = {"ticket_handoff",
  "UPDATE ticket SET handoff_reason = $2, handoff_at = now(), auto_answered = false,"
  " status = CASE WHEN status = 'pending' THEN 'open' ELSE status END, updated_at = now()"
  " WHERE id = $1", 2};

static const at_sql_t SQL_TICKET_RESOLVE = {"ticket_resolve",
  "UPDATE ticket SET status = 'resolved', resolved_at = now(), updated_at = now()"
  " WHERE id = $1 AND status <> 'resolved' RETURNING id", 1};

static const at_sql_t SQL_LATEST_ORDER = {"ticket_latest_order",
  "SELECT id, status, coalesce(to_char(expected_delivery, 'YYYY-MM-DD'), ''),"
  " coalesce(tracking_url, '') FROM orders WHERE customer_id = $1"
  " ORDER BY status_at DESC, updated_at DESC LIMIT 1", 1};

static void
s_id (int64_t id, char out[24])
{
  snprintf (out, 24, "%" PRId64, id);
}

/* Runs a statement expected to return at most one row; AT_NOTFOUND when none. */
static int
s_one_row (at_store_t *store, PGresult **res, int rc)
{
  if (rc != AT_OK)
    return rc;
  if (PQntuples (*res) == 1)
    return AT_OK;
  PQclear (*res);
  *res = NULL;
  return AT_NOTFOUND;
}

int
at_store_ticket_message_seen (at_store_t *store, const char *channel,
                              const char *provider_message_id, bool *seen_out)
{
  *seen_out = false;
  if (!provider_message_id || !*provider_message_id)
    return AT_OK;
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_MESSAGE_SEEN, channel, provider_message_id);
  if (rc != AT_OK)
    return rc;
  *seen_out = PQntuples (res) > 0;
  PQclear (res);
  return AT_OK;
}

int
at_store_ticket_open_or_append (at_store_t *store, int64_t customer_id, const char *channel,
                                const char *subject, int64_t *ticket_id_out, bool *created_out)
{
  char customer[24];
  s_id (customer_id, customer);
  PGresult *res = NULL;
  *created_out = false;
  int rc = s_one_row (store, &res, at_store_q (store, &res, &SQL_CUSTOMER_LOCK, customer));
  if (rc != AT_OK)
    return rc == AT_NOTFOUND ? AT_INVALID : rc;
  PQclear (res);
  rc = s_one_row (store, &res, at_store_q (store, &res, &SQL_TICKET_FIND_OPEN, customer, channel));
  if (rc == AT_NOTFOUND) {
    rc = s_one_row (store, &res, at_store_q (store, &res, &SQL_TICKET_INSERT, customer, channel,
                                             subject ? subject : ""));
    if (rc == AT_NOTFOUND)
      rc = AT_ERROR;
    *created_out = rc == AT_OK;
  }
  if (rc != AT_OK)
    return rc;
  *ticket_id_out = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
  PQclear (res);
  if (*created_out)
    at_info (S_COMP, "msg=\"ticket opened\" ticket_id=%" PRId64 " customer_id=%" PRId64
             " channel=%s", *ticket_id_out, customer_id, channel);
  return AT_OK;
}

int
at_store_ticket_message_add (at_store_t *store, const at_ticket_message_t *m,
                             int64_t *message_id_out)
{
  char ticket[24];
  s_id (m->ticket_id, ticket);
  PGresult *res = NULL;
  int rc = s_one_row (store, &res, at_store_q (store, &res,
                                               m->touch_inbound ? &SQL_MESSAGE_INSERT_TOUCH
                                                                : &SQL_MESSAGE_INSERT, ticket,
                                               m->direction, m->author, m->channel, m->body,
                                               m->provider_message_id ? m->provider_message_id : "",
                                               m->bus_message_id,
                                               m->language ? m->language : "",
                                               m->email_message_id ? m->email_message_id : "",
                                               m->full_body ? m->full_body : "",
                                               m->html_stripped ? "true" : "false",
                                               m->agent ? m->agent : ""));
  if (rc != AT_OK)
    return rc == AT_NOTFOUND ? AT_ERROR : rc;
  if (message_id_out)
    *message_id_out = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
  PQclear (res);
  return AT_OK;
}

int
at_store_ticket_touch_inbound (at_store_t *store, int64_t ticket_id)
{
  char ticket[24];
  s_id (ticket_id, ticket);
  return at_store_do (store, &SQL_TICKET_TOUCH_INBOUND, ticket);
}

int
at_store_ticket_customer_locale (at_store_t *store, int64_t customer_id, int64_t ticket_id,
                                 const char *locale)
{
  char customer[24], ticket[24];
  s_id (customer_id, customer);
  s_id (ticket_id, ticket);
  return at_store_do (store, &SQL_CUSTOMER_LOCALE, customer, ticket, locale);
}

static void
s_ticket_read (PGresult *res, at_ticket_t *out)
{
  memset (out, 0, sizeof *out);
  out->id = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
  out->customer_id = strtoll (PQgetvalue (res, 0, 1), NULL, 10);
  at_strlcpy (out->channel, PQgetvalue (res, 0, 2), sizeof out->channel);
  at_strlcpy (out->status, PQgetvalue (res, 0, 3), sizeof out->status);
  at_strlcpy (out->intent, PQgetvalue (res, 0, 4), sizeof out->intent);
  at_strlcpy (out->priority, PQgetvalue (res, 0, 5), sizeof out->priority);
  at_strlcpy (out->language, PQgetvalue (res, 0, 6), sizeof out->language);
  out->auto_answered = PQgetvalue (res, 0, 7)[0] == 't';
}

int
at_store_ticket_lock (at_store_t *store, int64_t ticket_id, at_ticket_t *out)
{
  char ticket[24];
  s_id (ticket_id, ticket);
  PGresult *res = NULL;
  int rc = s_one_row (store, &res, at_store_q (store, &res, &SQL_TICKET_LOCK, ticket));
  if (rc != AT_OK)
    return rc;
  s_ticket_read (res, out);
  PQclear (res);
  return AT_OK;
}

int
at_store_ticket_message_language (at_store_t *store, int64_t ticket_id, int64_t message_id,
                                  char *out, size_t cap)
{
  char ticket[24], message[24];
  s_id (ticket_id, ticket);
  s_id (message_id, message);
  out[0] = '\0';
  PGresult *res = NULL;
  int rc = s_one_row (store, &res, at_store_q (store, &res, &SQL_MESSAGE_LANGUAGE, ticket, message));
  if (rc != AT_OK)
    return rc;
  at_strlcpy (out, PQgetvalue (res, 0, 0), cap);
  PQclear (res);
  return AT_OK;
}

int
at_store_ticket_classify (at_store_t *store, int64_t ticket_id, const at_ticket_class_t *c,
                          at_ticket_t *out)
{
  char ticket[24], normal[24], high[24], conf[32];
  s_id (ticket_id, ticket);
  double confidence = c->confidence;
  snprintf (conf, sizeof conf, "%.4f", confidence < 0 ? 0 : confidence > 1 ? 1 : confidence);
  s_id (c->sla_normal_min, normal);
  s_id (c->sla_high_min, high);
  PGresult *res = NULL;
  int rc = s_one_row (store, &res, at_store_q (store, &res, &SQL_TICKET_CLASSIFY, ticket,
                                               c->intent, c->priority, c->language, normal, high,
                                               conf, c->priority_reason ? c->priority_reason : ""));
  if (rc != AT_OK)
    return rc;
  s_ticket_read (res, out);
  PQclear (res);
  return AT_OK;
}

int
at_store_ticket_repeat_contacts (at_store_t *store, int64_t customer_id, long window_h,
                                 long *count_out)
{
  char customer[24], window[24];
  s_id (customer_id, customer);
  s_id (window_h, window);
  *count_out = 0;
  PGresult *res = NULL;
  int rc = s_one_row (store, &res, at_store_q (store, &res, &SQL_REPEAT_CONTACTS, customer,
                                               window));
  if (rc != AT_OK)
    return rc;
  *count_out = strtol (PQgetvalue (res, 0, 0), NULL, 10);
  PQclear (res);
  return AT_OK;
}

int
at_store_ticket_answered (at_store_t *store, int64_t ticket_id, bool automatic)
{
  char ticket[24];
  s_id (ticket_id, ticket);
  return at_store_do (store, &SQL_TICKET_ANSWERED, ticket, automatic ? "true" : "false");
}

int
at_store_ticket_handoff (at_store_t *store, int64_t ticket_id, const char *reason)
{
  char ticket[24];
  s_id (ticket_id, ticket);
  return at_store_do (store, &SQL_TICKET_HANDOFF, ticket, reason);
}

int
at_store_ticket_resolve (at_store_t *store, int64_t ticket_id)
{
  char ticket[24];
  s_id (ticket_id, ticket);
  PGresult *res = NULL;
  int rc = s_one_row (store, &res, at_store_q (store, &res, &SQL_TICKET_RESOLVE, ticket));
  if (rc == AT_NOTFOUND)
    return AT_CONFLICT;
  PQclear (res);
  return rc;
}

int
at_store_ticket_latest_order (at_store_t *store, int64_t customer_id, at_ticket_order_t *out)
{
  char customer[24];
  s_id (customer_id, customer);
  memset (out, 0, sizeof *out);
  PGresult *res = NULL;
  int rc = s_one_row (store, &res, at_store_q (store, &res, &SQL_LATEST_ORDER, customer));
  if (rc != AT_OK)
    return rc;
  at_strlcpy (out->id, PQgetvalue (res, 0, 0), sizeof out->id);
  at_strlcpy (out->status, PQgetvalue (res, 0, 1), sizeof out->status);
  at_strlcpy (out->expected_delivery, PQgetvalue (res, 0, 2), sizeof out->expected_delivery);
  if ((size_t) PQgetlength (res, 0, 3) < sizeof out->tracking_url)
    at_strlcpy (out->tracking_url, PQgetvalue (res, 0, 3), sizeof out->tracking_url);
  PQclear (res);
  return AT_OK;
}

/* --- threading --------------------------------------------------------- */


/* $1: Message-IDs, newline-separated, in the order they count; $2: the
 * notification uuid inside each (or an empty line), aligned with $1. */
static const at_sql_t SQL_THREAD_BY_EMAIL_ID = {"ticket_thread_by_email_id",
  "WITH ids AS (SELECT id, ord FROM unnest (string_to_array ($1, E'\\n')) WITH ORDINALITY u (id, ord)),"
  " nids AS (SELECT NULLIF (id, '')::uuid AS id, ord"
  "          FROM unnest (string_to_array ($2, E'\\n')) WITH ORDINALITY u (id, ord))"
  " SELECT ticket_id FROM ("
  "  SELECT m.ticket_id, ids.ord FROM ids JOIN ticket_message m ON m.email_message_id = ids.id"
  "  UNION ALL SELECT n.ticket_id, ids.ord FROM ids"
  "   JOIN notification n ON n.email_message_id = ids.id WHERE n.ticket_id IS NOT NULL"
  "  UNION ALL SELECT n.ticket_id, nids.ord FROM nids"
  "   JOIN notification n ON n.id = nids.id WHERE n.ticket_id IS NOT NULL"
  " ) hit ORDER BY ord, ticket_id DESC LIMIT 1", 2};

static const at_sql_t SQL_THREAD_TICKET_LOCK = {"ticket_thread_ticket_lock",
  "SELECT id FROM ticket WHERE id = $1 FOR NO KEY UPDATE", 1};

static const at_sql_t SQL_THREAD_BY_TAG = {"ticket_thread_by_tag",
  "SELECT id FROM ticket WHERE id = $1 AND customer_id = $2 FOR NO KEY UPDATE", 2};

static const at_sql_t SQL_THREAD_RECENT = {"ticket_thread_recent",
  "SELECT id FROM ticket WHERE customer_id = $1 AND channel = $2 AND status <> 'resolved'"
  " AND updated_at > now() - make_interval (mins => $3::int) ORDER BY id DESC LIMIT 1", 3};

static const at_sql_t SQL_ATTACHMENT_INSERT = {"ticket_attachment_insert",
  "INSERT INTO attachment (ticket_message_id, name, content_type, size)"
  " VALUES ($1, $2, $3, $4) RETURNING id", 4};

static const at_sql_t SQL_ATTACHMENT_CONTENT = {"ticket_attachment_content",
  "INSERT INTO attachment_content (attachment_id, content) VALUES ($1, $2)", 2};

/* Runs a one-column id query: *id_out, or AT_NOTFOUND. */
static int
s_id_query (at_store_t *store, int rc, PGresult **res_p, int64_t *id_out)
{
  PGresult *res = *res_p;
  rc = s_one_row (store, &res, rc);
  if (rc != AT_OK)
    return rc;
  *id_out = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
  PQclear (res);
  return AT_OK;
}

/* Locks the sender, following a merge (one hop: merges re-point). */
static int
s_thread_customer (at_store_t *store, int64_t customer_id, int64_t *out)
{
  for (int hop = 0; hop < 2; hop++) {
    char customer[24];
    s_id (customer_id, customer);
    PGresult *res = NULL;
    int rc = s_one_row (store, &res, at_store_q (store, &res, &SQL_CUSTOMER_LOCK, customer));
    if (rc != AT_OK)
      return rc == AT_NOTFOUND ? AT_INVALID : rc;
    int64_t merged = strtoll (PQgetvalue (res, 0, 1), NULL, 10);
    PQclear (res);
    if (merged == 0) {
      *out = customer_id;
      return AT_OK;
    }
    customer_id = merged;
  }
  return AT_AGAIN;   /* merged again meanwhile: try once more later */
}

static int
s_thread_email (at_store_t *store, const at_ticket_thread_t *q, int64_t customer_id,
                int64_t *ticket_id, at_thread_how_t *how)
{
  char ids[AT_EMAIL_REFERENCES_MAX * AT_EMAIL_ID_MAX + 64] = "";
  char nids[AT_EMAIL_REFERENCES_MAX * AT_ID_LEN + 64] = "";
  size_t used = 0, nused = 0;
  for (size_t i = 0; i < q->n_email_ids && i <= AT_EMAIL_REFERENCES_MAX; i++) {
    const char *id = q->email_ids[i];
    size_t n = strlen (id);
    if (n == 0 || strchr (id, '\n') || used + n + 2 > sizeof ids)
      continue;
    char nid[AT_ID_LEN] = "";
    if (at_email_notification_from_message_id (id, nid) != AT_OK)
      nid[0] = '\0';
    used += (size_t) snprintf (ids + used, sizeof ids - used, "%s%s", used ? "\n" : "", id);
    nused += (size_t) snprintf (nids + nused, sizeof nids - nused, "%s%s",
                                used > n ? "\n" : "", nid);
  }
  PGresult *res = NULL;
  int rc = AT_NOTFOUND;
  if (used > 0)
    rc = s_id_query (store, at_store_q (store, &res, &SQL_THREAD_BY_EMAIL_ID, ids, nids), &res,
                     ticket_id);
  if (rc == AT_OK) {
    char ticket[24];
    s_id (*ticket_id, ticket);
    rc = s_id_query (store, at_store_q (store, &res, &SQL_THREAD_TICKET_LOCK, ticket), &res,
                     ticket_id);
    *how = AT_THREAD_REPLY;
  }
  if (rc == AT_NOTFOUND && q->tag_ticket_id > 0) {
    char ticket[24], customer[24];
    s_id (q->tag_ticket_id, ticket);
    s_id (customer_id, customer);
    rc = s_id_query (store, at_store_q (store, &res, &SQL_THREAD_BY_TAG, ticket, customer), &res,
                     ticket_id);
    *how = AT_THREAD_TAG;
  }
  return rc;
}

static bool
s_conversation_channel (const char *channel)
{
  static const char *const chat_like[] = {"whatsapp", "sms", "chat", "messenger", "instagram",
                                          "phone"};
  for (size_t i = 0; i < AT_ARRAY_LEN (chat_like); i++)
    if (strcmp (channel, chat_like[i]) == 0)
      return true;
  return false;
}

int
at_store_ticket_thread (at_store_t *store, const at_ticket_thread_t *q, int64_t *ticket_id_out,
                        int64_t *customer_id_out, at_thread_how_t *how_out)
{
  int64_t customer_id = 0;
  int rc = s_thread_customer (store, q->customer_id, &customer_id);
  /* from here rc == AT_NOTFOUND means "no ticket yet" */
  if (rc != AT_OK)
    return rc;
  *customer_id_out = customer_id;
  *how_out = AT_THREAD_NEW;
  char customer[24], window[24];
  s_id (customer_id, customer);
  s_id (q->window_min, window);
  PGresult *res = NULL;
  if (strcmp (q->channel, "email") == 0)
    rc = s_thread_email (store, q, customer_id, ticket_id_out, how_out);
  if (rc == AT_NOTFOUND || s_conversation_channel (q->channel)) {
    rc = s_id_query (store, at_store_q (store, &res, &SQL_THREAD_RECENT, customer, q->channel,
                                        window), &res, ticket_id_out);
    *how_out = AT_THREAD_CONVERSATION;
  }
  else if (strcmp (q->channel, "email") != 0) {
    rc = s_id_query (store, at_store_q (store, &res, &SQL_TICKET_FIND_OPEN, customer, q->channel),
                     &res, ticket_id_out);
    *how_out = AT_THREAD_OPEN;
  }
  if (rc != AT_NOTFOUND)
    return rc;
  *how_out = AT_THREAD_NEW;
  rc = s_id_query (store, at_store_q (store, &res, &SQL_TICKET_INSERT, customer, q->channel,
                                      q->subject ? q->subject : ""), &res, ticket_id_out);
  if (rc == AT_NOTFOUND)
    return AT_ERROR;
  if (rc == AT_OK)
    at_info (S_COMP, "msg=\"ticket opened\" ticket_id=%" PRId64 " customer_id=%" PRId64
             " channel=%s", *ticket_id_out, customer_id, q->channel);
  return rc;
}

int
at_store_ticket_attachment_add (at_store_t *store, int64_t message_id, const char *name,
                                const char *content_type, int64_t size, const void *content,
                                size_t content_len)
{
  char message[24], bytes[24], attachment[24];
  s_id (message_id, message);
  s_id (size, bytes);
  PGresult *res = NULL;
  int64_t attachment_id = 0;
  int rc = s_id_query (store, at_store_q (store, &res, &SQL_ATTACHMENT_INSERT, message, name,
                                          content_type, bytes), &res, &attachment_id);
  if (rc != AT_OK || !content)
    return rc == AT_NOTFOUND ? AT_ERROR : rc;
  s_id (attachment_id, attachment);
  const char *values[2] = {attachment, content};
  int lengths[2] = {0, (int) content_len};
  int formats[2] = {0, 1};
  rc = at_store_exec (store, &SQL_ATTACHMENT_CONTENT, values, lengths, formats, &res);
  if (rc == AT_OK)
    PQclear (res);
  return rc;
}

at_msg_t *
at_ticket_handoff_msg (int64_t ticket_id, const char *reason, const char *trace_id)
{
  Atende__TicketHandoff pb = ATENDE__TICKET_HANDOFF__INIT;
  pb.ticket_id = ticket_id;
  pb.reason = (char *) reason;
  uint8_t buf[256];
  size_t len = atende__ticket_handoff__get_packed_size (&pb);
  if (len > sizeof buf)
    return NULL;
  atende__ticket_handoff__pack (&pb, buf);
  char key[AT_KEY_LEN];
  snprintf (key, sizeof key, "ticket:%" PRId64, ticket_id);
  return at_msg_new (AT_STAGE_ROUTE, AT_TYPE_TICKET_HANDOFF, key, trace_id, buf, len);
}
