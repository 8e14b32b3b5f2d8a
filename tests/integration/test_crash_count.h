/* The end of a crash, load or scale-out proof (included by
 * test_crash_util.h, after the bus, the database and the load it counts):
 * waits for the stages to drain, counts what was confirmed, applied, lost
 * and doubled, and reads the brokers' /readyz and /metrics. */
#ifndef TEST_CRASH_COUNT_H
#define TEST_CRASH_COUNT_H

/* --- the end: counts */

/* it_wait_until condition: every notification (conn) was delivered. */
static PF_UNUSED bool
pf_all_delivered (void *conn)
{
  return pf_q (conn, "SELECT count(*) FROM notification WHERE status <> 'delivered'") == 0;
}

/* Messages of one customer that ingest wrote before an earlier one (the
 * sequence number pf_inbound puts in the text, read back in the order
 * ingest wrote them). */
static PF_UNUSED long long
pf_out_of_order (PGconn *conn)
{
  return it_db_scalar (conn,
    "SELECT count(*) FROM (SELECT substring (m.body FROM 'seq=([0-9]+)')::bigint AS seq,"
    " lag (substring (m.body FROM 'seq=([0-9]+)')::bigint) OVER (PARTITION BY t.customer_id"
    " ORDER BY m.id) AS prev FROM ticket_message m JOIN ticket t ON t.id = m.ticket_id"
    " WHERE m.author = 'customer') x WHERE prev IS NOT NULL AND seq < prev");
}

typedef struct {
  long long confirmed, applied, lost, doubled, unsure, unsure_applied, stray, redelivered, dead;
  long long bot, notifications, delivered;
} pf_count_t;

/* Waits until the stages (an SQL list: "'ingest', 'route'") are empty:
 * nothing pending, nothing waiting for a retry (timers may wait). */
static PF_UNUSED bool
pf_wait_drained (PGconn *conn, const char *stages, int timeout_ms)
{
  char sql[256];
  snprintf (sql, sizeof sql, "SELECT CASE WHEN count(*) = 0 THEN 1 ELSE 0 END"
                             " FROM bus_message WHERE stage IN (%s) AND " IT_BUS_PENDING, stages);
  return it_wait_scalar (conn, sql, 1, timeout_ms) == 1;
}

/* Counts effects by the publisher's ids: the customer's ticket_message rows
 * carry the ingest message id, the bot's answers the route message id. */
static PF_UNUSED pf_count_t
pf_count (PGconn *conn, const pf_load_t *load)
{
  pf_count_t c = {0};
  pf_ids_store (conn, "pf_ok", &load->ok);
  pf_ids_store (conn, "pf_maybe", &load->maybe);
  c.confirmed = (long long) load->ok.n;
  c.unsure = (long long) load->maybe.n;
  c.applied = it_db_scalar (conn, "SELECT count(DISTINCT m.bus_message_id) FROM ticket_message m"
                                  " JOIN pf_ok o ON o.id = m.bus_message_id");
  c.lost = it_db_scalar (conn, "SELECT count(*) FROM pf_ok o WHERE NOT EXISTS (SELECT 1"
                               " FROM ticket_message m WHERE m.bus_message_id = o.id)");
  c.unsure_applied = it_db_scalar (conn, "SELECT count(DISTINCT m.bus_message_id) FROM"
                                         " ticket_message m JOIN pf_maybe u ON u.id ="
                                         " m.bus_message_id");
  c.doubled = it_db_scalar (conn, "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) n FROM"
                                  " ticket_message WHERE bus_message_id IS NOT NULL"
                                  " GROUP BY bus_message_id HAVING count(*) > 1) d");
  c.stray = it_db_scalar (conn, "SELECT count(*) FROM ticket_message m WHERE author = 'customer'"
                                " AND NOT EXISTS (SELECT 1 FROM pf_ok o WHERE o.id ="
                                " m.bus_message_id) AND NOT EXISTS (SELECT 1 FROM pf_maybe u"
                                " WHERE u.id = m.bus_message_id)");
  c.redelivered = it_db_scalar (conn, "SELECT count(DISTINCT id) FROM pf_attempt");
  c.dead = it_db_scalar (conn, "SELECT count(*) FROM bus_dead");
  c.bot = it_db_scalar (conn, "SELECT count(*) FROM ticket_message WHERE author = 'bot'");
  c.notifications = it_db_scalar (conn, "SELECT count(*) FROM notification");
  c.delivered = it_db_scalar (conn, "SELECT count(*) FROM notification"
                                    " WHERE status = 'delivered'");
  return c;
}

static PF_UNUSED void
pf_count_print (const char *what, const pf_count_t *c)
{
  printf ("%s: confirmed=%lld applied=%lld lost=%lld doubled=%lld redelivered=%lld"
          " unsure=%lld unsure_applied=%lld stray=%lld dead=%lld\n", what, c->confirmed,
          c->applied, c->lost, c->doubled, c->redelivered, c->unsure, c->unsure_applied,
          c->stray, c->dead);
  fflush (stdout);
}

/* The promises: every confirmed message applied once, nothing twice,
 * nothing that nobody published, nothing dead-lettered. */
static PF_UNUSED void
pf_count_check (const pf_count_t *c)
{
  IT_CHECK (c->lost == 0, "%lld confirmed messages lost", c->lost);
  IT_CHECK (c->applied == c->confirmed, "applied %lld of %lld confirmed", c->applied,
            c->confirmed);
  IT_CHECK (c->doubled == 0, "%lld messages applied twice", c->doubled);
  IT_CHECK (c->stray == 0, "%lld effects of messages nobody published", c->stray);
  IT_CHECK (c->dead == 0, "%lld messages dead-lettered", c->dead);
}

/* Route answered every customer message once (each asks for an order). */
static PF_UNUSED void
pf_count_check_answers (PGconn *conn, const pf_count_t *c)
{
  long long customer = it_db_scalar (conn, "SELECT count(*) FROM ticket_message"
                                           " WHERE author = 'customer'");
  printf ("answers: customer_messages=%lld bot_answers=%lld notifications=%lld delivered=%lld\n",
          customer, c->bot, c->notifications, c->delivered);
  IT_CHECK (c->bot == customer, "route answered %lld of %lld messages", c->bot, customer);
  IT_CHECK (c->notifications == c->bot, "%lld notifications for %lld answers", c->notifications,
            c->bot);
}

/* The end of a proof through ingest -> route -> notify: waits until the
 * stages are empty and every notification is delivered, then prints and
 * checks the counts: each confirmed message applied, answered and notified
 * exactly once, the receiver got every notification, every signature valid. */
static PF_UNUSED pf_count_t
pf_finish (PGconn *conn, const pf_load_t *load, demo_receiver_t *receiver, const char *what,
           int wait_ms)
{
  IT_CHECK (pf_wait_drained (conn, "'ingest', 'route', 'notify'", wait_ms), "pipeline drains");
  IT_CHECK (it_wait_until (pf_all_delivered, conn, wait_ms), "every notification delivered");
  pf_count_t c = pf_count (conn, load);
  pf_count_print (what, &c);
  pf_count_check (&c);
  pf_count_check_answers (conn, &c);
  long distinct = demo_receiver_count (receiver, NULL);
  long bad = demo_receiver_bad_signatures (receiver);
  printf ("%s: webhooks distinct=%ld sent_again=%ld bad_signatures=%ld\n", what, distinct,
          demo_receiver_duplicates (receiver), bad);
  IT_CHECK (distinct == c.notifications, "receiver got %ld of %lld notifications", distinct,
            c.notifications);
  IT_CHECK (bad == 0, "signatures verify");
  return c;
}

/* Waits for the broker's /metrics on port to answer (it is up). */
static PF_UNUSED bool
pf_http_up (int port, const char *path, int timeout_ms)
{
  char url[128];
  snprintf (url, sizeof url, "http://127.0.0.1:%d%s", port, path);
  int64_t deadline = at_mono_ms () + timeout_ms;
  while (at_mono_ms () < deadline) {
    if (it_http ("GET", url, NULL, NULL, NULL) == 200)
      return true;
    pf_nap_ms (50);
  }
  return false;
}

/* Waits until every broker of the bus answers /readyz with 200 (it reaches
 * PostgreSQL and serves), as a deployment's readiness probe gates traffic.
 * A proof that publishes before then races the brokers' start: on a loaded
 * machine a publish sent to a broker still starting outlives the test
 * publisher's 1 s timeout and comes back unsure. */
static PF_UNUSED void
pf_brokers_ready (const pf_bus_t *bus, int timeout_ms)
{
  for (int i = 0; i < bus->nbrokers; i++)
    IT_CHECK (pf_http_up (bus->metrics_port[i], "/readyz", timeout_ms), "broker %d ready", i);
}

/* Sum of a metric's samples on a broker's /metrics (-1: not there). */
static PF_UNUSED double
pf_metric (int port, const char *name)
{
  char url[128], *body = NULL;
  snprintf (url, sizeof url, "http://127.0.0.1:%d/metrics", port);
  if (it_http ("GET", url, NULL, NULL, &body) != 200 || !body) {
    free (body);
    return -1;
  }
  double sum = -1;
  size_t len = strlen (name);
  char *next = NULL;
  for (char *line = body; line && *line; line = next) {
    char *nl = strchr (line, '\n');
    next = nl ? nl + 1 : NULL;
    if (strncmp (line, name, len) != 0 || (line[len] != ' ' && line[len] != '{'))
      continue;
    char *sp = nl ? nl : line + strlen (line);
    while (sp > line && sp[-1] != ' ')
      sp--;
    if (sp > line)   /* the value follows the line's last space */
      sum = (sum < 0 ? 0 : sum) + strtod (sp, NULL);
  }
  free (body);
  return sum;
}

#endif
