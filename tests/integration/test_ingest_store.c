/* ingest's store functions against a fresh, migrated database:
 *   - resolving the same identity twice gives one customer; email and web
 *     form share the email identity; the same name on two identities is two
 *     customers (never merged on a name);
 *   - two workers resolving one new identity at once end with one customer;
 *   - two messages on one channel append to one ticket; another channel, or
 *     a resolved ticket, opens a new one;
 *   - the same provider message id twice writes one row;
 *   - classification keeps the highest priority and sets the SLA due once;
 *   - the latest order is the one with the latest status. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it.h"
#include "at_channel.h"
#include "at_store_customer.h"
#include "at_log.h"
#include "at_store.h"
#include "at_store_ticket.h"

static char s_db[512];

static long long
s_count (PGconn *conn, const char *sql)
{
  return it_db_scalar (conn, sql);
}

static void
s_exec (PGconn *conn, const char *sql)
{
  PGresult *res = PQexec (conn, sql);
  IT_CHECK (PQresultStatus (res) == PGRES_COMMAND_OK || PQresultStatus (res) == PGRES_TUPLES_OK,
            "%s: %s", sql, PQerrorMessage (conn));
  PQclear (res);
}

static void
test_customer_resolve (at_store_t *store, PGconn *check)
{
  int64_t a = 0, b = 0, c = 0, d = 0, e = 0;
  IT_CHECK (at_store_customer_resolve (store, "email", "ana@example.com.br", "Ana", &a) == AT_OK,
            "resolve a");
  IT_CHECK (at_store_customer_resolve (store, "email", "ana@example.com.br", "Ana Souza", &b)
            == AT_OK, "resolve b");
  IT_CHECK (a > 0 && a == b, "same identity, same customer: %" PRId64 " %" PRId64, a, b);
  IT_CHECK (at_store_customer_resolve (store, "form", "ana@example.com.br", NULL, &c) == AT_OK,
            "resolve form");
  IT_CHECK (c == a, "web form and email share the email identity");
  IT_CHECK (at_store_customer_resolve (store, "whatsapp", "5511987654321", "Ana", &d) == AT_OK,
            "resolve whatsapp");
  IT_CHECK (d != a, "same name on another identity is another customer");
  IT_CHECK (s_count (check, "SELECT count(*) FROM customer") == 2, "two customers");
  IT_CHECK (s_count (check, "SELECT count(*) FROM identity") == 2, "two identities");
  IT_CHECK (s_count (check, "SELECT count(*) FROM customer WHERE name = 'Ana'") == 2,
            "names kept as given first");
  char handle[AT_HANDLE_MAX + 1];
  IT_CHECK (at_store_customer_handle (store, d, "whatsapp", handle, sizeof handle) == AT_OK
            && strcmp (handle, "5511987654321") == 0, "handle back: %s", handle);
  IT_CHECK (at_store_customer_handle (store, d, "email", handle, sizeof handle) == AT_NOTFOUND,
            "no email handle");
  IT_CHECK (at_store_customer_resolve (store, "fax", "123", NULL, &e) == AT_INVALID,
            "unknown channel refused");
  IT_CHECK (at_store_customer_resolve (store, "email", "", NULL, &e) == AT_INVALID,
            "empty handle refused");
}

typedef struct {
  int rc;
  int64_t customer_id;
} s_racer_t;

static void *
s_racer (void *arg)
{
  s_racer_t *r = arg;
  at_store_t *store = at_store_new (s_db, "test-racer");
  IT_CHECK (store != NULL, "racer connects");
  IT_CHECK (at_store_begin (store) == AT_OK, "racer begin");
  r->rc = at_store_customer_resolve (store, "chat", "visitor-42", "Visitante", &r->customer_id);
  IT_CHECK (at_store_commit (store) == AT_OK, "racer commit");
  at_store_destroy (&store);
  return NULL;
}

/* Two transactions create one new identity at once: one customer results,
 * and the loser's customer row is gone. */
static void
test_customer_race (at_store_t *store, PGconn *check)
{
  long long before = s_count (check, "SELECT count(*) FROM customer");
  int64_t first = 0;
  IT_CHECK (at_store_begin (store) == AT_OK, "begin");
  IT_CHECK (at_store_customer_resolve (store, "chat", "visitor-42", "Visitante", &first) == AT_OK,
            "first resolve");
  s_racer_t racer = { 0 };
  pthread_t thread;
  IT_CHECK (pthread_create (&thread, NULL, s_racer, &racer) == 0, "thread");
  /* the racer waits on our uncommitted identity row */
  long long waiting = it_wait_scalar (check,
      "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
      " AND query LIKE '%INSERT INTO customer%'", 1, 30000);
  IT_CHECK (waiting >= 1, "racer blocked on the identity");
  IT_CHECK (at_store_commit (store) == AT_OK, "commit");
  pthread_join (thread, NULL);
  IT_CHECK (racer.rc == AT_OK, "racer resolved: %d", racer.rc);
  IT_CHECK (racer.customer_id == first, "one customer for one identity: %" PRId64 " %" PRId64,
            racer.customer_id, first);
  IT_CHECK (s_count (check, "SELECT count(*) FROM customer") == before + 1,
            "no orphan customer left");
}

static int64_t
s_add (at_store_t *store, int64_t ticket_id, const char *channel, const char *provider_id,
       const char *bus_id, int want)
{
  at_ticket_message_t m = {.ticket_id = ticket_id, .direction = "in", .author = "customer",
                           .channel = channel, .body = "cadê meu pedido?",
                           .provider_message_id = provider_id, .bus_message_id = bus_id,
                           .language = "pt"};
  int64_t id = 0;
  int rc = at_store_ticket_message_add (store, &m, &id);
  IT_CHECK (rc == want, "message add %s: rc %d want %d", provider_id, rc, want);
  return id;
}

static void
test_tickets (at_store_t *store, PGconn *check)
{
  int64_t customer = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0;
  bool created = false, seen = true;
  IT_CHECK (at_store_customer_resolve (store, "email", "bia@example.com", "Bia", &customer)
            == AT_OK, "customer");
  IT_CHECK (at_store_ticket_open_or_append (store, customer, "email", "Pedido 123", &t1, &created)
            == AT_OK && created, "ticket opened");
  s_add (store, t1, "email", "<m1@mail>", "018f0000-0000-7000-8000-000000000001", AT_OK);
  IT_CHECK (at_store_ticket_open_or_append (store, customer, "email", "Re: Pedido 123", &t2,
                                            &created) == AT_OK && !created, "appended");
  IT_CHECK (t2 == t1, "same ticket for two messages on one channel");
  s_add (store, t2, "email", "<m2@mail>", "018f0000-0000-7000-8000-000000000002", AT_OK);
  IT_CHECK (at_store_ticket_touch_inbound (store, t2) == AT_OK, "touch");
  IT_CHECK (s_count (check, "SELECT count(*) FROM ticket WHERE subject = 'Pedido 123'") == 1,
            "one ticket with the first subject");

  /* the same provider id: seen, and a second row is refused */
  IT_CHECK (at_store_ticket_message_seen (store, "email", "<m1@mail>", &seen) == AT_OK && seen,
            "m1 seen");
  IT_CHECK (at_store_ticket_message_seen (store, "chat", "<m1@mail>", &seen) == AT_OK && !seen,
            "per channel");
  s_add (store, t1, "email", "<m1@mail>", "018f0000-0000-7000-8000-000000000003", AT_CONFLICT);
  IT_CHECK (s_count (check, "SELECT count(*) FROM ticket_message WHERE provider_message_id ="
                            " '<m1@mail>'") == 1, "one row for one provider id");
  IT_CHECK (s_count (check, "SELECT count(*) FROM ticket_message") == 2, "two rows in all");

  /* another channel opens another ticket; a resolved ticket is not reused */
  IT_CHECK (at_store_ticket_open_or_append (store, customer, "chat", "", &t3, &created) == AT_OK
            && created && t3 != t1, "chat ticket");
  at_ticket_t t;
  IT_CHECK (at_store_ticket_lock (store, t1, &t) == AT_OK && strcmp (t.status, "open") == 0,
            "lock");
  IT_CHECK (at_store_ticket_resolve (store, t1) == AT_OK, "resolve");
  IT_CHECK (at_store_ticket_resolve (store, t1) == AT_CONFLICT, "resolve twice");
  IT_CHECK (at_store_ticket_open_or_append (store, customer, "email", "Outro", &t4, &created)
            == AT_OK && created && t4 != t1, "new ticket after resolve");
  IT_CHECK (at_store_ticket_lock (store, 999999, &t) == AT_NOTFOUND, "unknown ticket");
}

/* Repeat contacts count the customer's messages since the latest order
 * last changed, within the window: older ones and answers do not count. */
static void
test_repeat_contacts (at_store_t *store, PGconn *check, int64_t customer, int64_t ticket)
{
  char sql[512];
  snprintf (sql, sizeof sql, "INSERT INTO ticket_message (ticket_id, direction, author, channel,"
            " body, created_at) VALUES"
            " (%" PRId64 ", 'in', 'customer', 'sms', 'before the order moved', now() - interval '1 hour'),"
            " (%" PRId64 ", 'in', 'customer', 'sms', 'cade?', now()),"
            " (%" PRId64 ", 'in', 'customer', 'sms', 'cade, cade', now()),"
            " (%" PRId64 ", 'out', 'bot', 'sms', 'an answer', now())",
            ticket, ticket, ticket, ticket);
  s_exec (check, "UPDATE orders SET status_at = now() - interval '30 minutes' WHERE id = 'P-2'");
  s_exec (check, sql);
  long n = -1;
  IT_CHECK (at_store_ticket_repeat_contacts (store, customer, 72, &n) == AT_OK && n == 2,
            "two messages since the order moved: %ld", n);
  s_exec (check, "UPDATE orders SET status_at = now() - interval '5 days' WHERE id = 'P-2'");
  IT_CHECK (at_store_ticket_repeat_contacts (store, customer, 72, &n) == AT_OK && n == 3,
            "three within the window: %ld", n);
  IT_CHECK (at_store_ticket_repeat_contacts (store, customer + 1000, 72, &n) == AT_OK && n == 0,
            "no order, no repeat: %ld", n);
}

/* A resolved ticket, then a message that touches it in the same statement
 * (at_ticket_message_t.touch_inbound, ingest's way): open again, updated. */
static void
test_touch_with_message (at_store_t *store, PGconn *check, int64_t ticket)
{
  char sql[512];
  snprintf (sql, sizeof sql, "UPDATE ticket SET status = 'resolved', resolved_at = now (),"
            " updated_at = now () - interval '1 hour' WHERE id = %" PRId64, ticket);
  PQclear (PQexec (check, sql));
  at_ticket_message_t m = {.ticket_id = ticket, .direction = "in", .author = "customer",
                           .channel = "email", .body = "e agora?", .language = "pt",
                           .provider_message_id = "<touch@mail>",
                           .bus_message_id = "018f0000-0000-7000-8000-0000000000f1",
                           .touch_inbound = true};
  int64_t message = 0;
  IT_CHECK (at_store_ticket_message_add (store, &m, &message) == AT_OK && message > 0,
            "message added with the touch");
  snprintf (sql, sizeof sql, "SELECT count(*) FROM ticket WHERE id = %" PRId64 " AND status ="
            " 'open' AND resolved_at IS NULL AND updated_at > now () - interval '1 minute'",
            ticket);
  IT_CHECK (s_count (check, sql) == 1, "message with the touch: open again, updated");
}

static void
test_classify_and_orders (at_store_t *store, PGconn *check)
{
  int64_t customer = 0, ticket = 0;
  bool created = false;
  IT_CHECK (at_store_customer_resolve (store, "sms", "+5521999990000", NULL, &customer) == AT_OK,
            "customer");
  IT_CHECK (at_store_ticket_open_or_append (store, customer, "sms", "x", &ticket, &created)
            == AT_OK, "ticket");
  at_ticket_t t;
  at_ticket_class_t c = {.intent = "order_status", .confidence = 0.9, .priority = "high",
                         .priority_reason = "urgent,agency", .language = "pt",
                         .sla_normal_min = 240, .sla_high_min = 30};
  IT_CHECK (at_store_ticket_classify (store, ticket, &c, &t) == AT_OK, "classify");
  IT_CHECK (strcmp (t.intent, "order_status") == 0 && strcmp (t.priority, "high") == 0
            && strcmp (t.language, "pt") == 0, "fields: %s %s %s", t.intent, t.priority,
            t.language);
  c = (at_ticket_class_t) {.intent = "other", .confidence = 0.2, .priority = "normal",
                           .priority_reason = "complaint,agency", .language = "en",
                           .sla_normal_min = 240, .sla_high_min = 30};
  IT_CHECK (at_store_ticket_classify (store, ticket, &c, &t) == AT_OK, "classify again");
  IT_CHECK (strcmp (t.intent, "order_status") == 0 && strcmp (t.priority, "high") == 0
            && strcmp (t.language, "pt") == 0, "kept: %s %s %s", t.intent, t.priority,
            t.language);
  char sql[256];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM ticket WHERE id = %" PRId64
            " AND priority_reason = 'agency,complaint,urgent'", ticket);
  IT_CHECK (s_count (check, sql) == 1, "reasons: each once, those of both classifications");
  snprintf (sql, sizeof sql, "SELECT extract(epoch FROM first_response_due - created_at)::int"
            " FROM ticket WHERE id = %" PRId64, ticket);
  IT_CHECK (s_count (check, sql) == 30 * 60, "due = created + 30 min");

  at_ticket_order_t o;
  IT_CHECK (at_store_ticket_latest_order (store, customer, &o) == AT_NOTFOUND, "no order yet");
  snprintf (sql, sizeof sql, "INSERT INTO orders (id, customer_id, status, status_rank,"
            " expected_delivery, tracking_url, status_at) VALUES"
            " ('P-1', %" PRId64 ", 'delivered', 6, NULL, NULL, now() - interval '10 days'),"
            " ('P-2', %" PRId64 ", 'in_transit', 4, '2026-11-24', 'https://t.example/P-2', now())",
            customer, customer);
  s_exec (check, sql);
  IT_CHECK (at_store_ticket_latest_order (store, customer, &o) == AT_OK, "order");
  IT_CHECK (strcmp (o.id, "P-2") == 0 && strcmp (o.status, "in_transit") == 0
            && strcmp (o.expected_delivery, "2026-11-24") == 0
            && strcmp (o.tracking_url, "https://t.example/P-2") == 0, "latest: %s", o.id);
  IT_CHECK (at_store_ticket_answered (store, ticket, true) == AT_OK, "answered");
  snprintf (sql, sizeof sql, "SELECT count(*) FROM ticket WHERE id = %" PRId64
            " AND status = 'pending' AND auto_answered AND first_response_at IS NOT NULL", ticket);
  IT_CHECK (s_count (check, sql) == 1, "answered ticket pending");
  IT_CHECK (at_store_ticket_touch_inbound (store, ticket) == AT_OK, "touch");
  snprintf (sql, sizeof sql, "SELECT count(*) FROM ticket WHERE id = %" PRId64
            " AND status = 'open'", ticket);
  IT_CHECK (s_count (check, sql) == 1, "customer wrote again: open");
  test_repeat_contacts (store, check, customer, ticket);
  test_touch_with_message (store, check, ticket);
}

int
main (void)
{
  it_require_pg ();
  at_log_set_level (AT_LOG_WARN);
  at_strlcpy (s_db, it_db_create ("ingest_store", true), sizeof s_db);
  PGconn *check = it_db_connect (s_db);
  at_store_t *store = at_store_new (s_db, "test");
  IT_CHECK (store != NULL, "store connects");
  test_customer_resolve (store, check);
  test_customer_race (store, check);
  test_tickets (store, check);
  test_classify_and_orders (store, check);
  at_store_destroy (&store);
  PQfinish (check);
  printf ("ok\n");
  return 0;
}
