/* Scale-out (issue 3, point 7): two brokers, each owning the bus shards of
 * its keys (ATENDE_BROKER_INDEX/COUNT), and three `atende worker` processes
 * per stage on the real pipeline ingest -> route -> notify, delivering
 * through a local receiver of signed webhooks (cli/demo_receiver.h).
 * Publishers route each message by the hash of its key.
 *   - every confirmed message is applied exactly once (ticket_message rows
 *     by the publisher's ids), answered once by route, delivered once to
 *     the receiver (distinct webhook-ids);
 *   - one customer's messages keep their order (the sequence number in the
 *     text, read back in the order ingest wrote them);
 *   - both brokers carried traffic (their /metrics). */
#include <unistd.h>
#include "test_crash_util.h"
#include "demo_receiver.h"

#define CUSTOMERS 60
#define MESSAGES 1200
#define WAIT_MS 50000

static pid_t s_workers[9];

static void
s_start_workers (const pf_bus_t *bus)
{
  const char *stages[] = {AT_STAGE_INGEST, AT_STAGE_ROUTE, AT_STAGE_NOTIFY};
  for (int s = 0; s < 3; s++)
    for (int k = 0; k < 3; k++) {
      char name[32];
      snprintf (name, sizeof name, "worker-%s-%d", stages[s], k);
      s_workers[s * 3 + k] = pf_worker_start (bus, stages[s], name);
    }
}

int
main (void)
{
  it_require_pg ();
  demo_receiver_t *receiver = demo_receiver_new (PF_SECRET, 0);
  IT_CHECK (receiver != NULL, "receiver");
  pf_bus_t bus;
  pf_bus_init (&bus, it_db_create ("scaleout", true), 2);
  at_strlcpy (bus.webhook_url, demo_receiver_url (receiver), sizeof bus.webhook_url);
  PGconn *conn = it_db_connect (bus.db);
  pf_db_prepare (conn, CUSTOMERS);
  pf_broker_start (&bus, 0);
  pf_broker_start (&bus, 1);
  pf_brokers_ready (&bus, WAIT_MS);
  s_start_workers (&bus);

  static pf_load_t load = {.customers = CUSTOMERS, .batch = 1, .rate = 400, .nbrokers = 2,
                           .limit = MESSAGES};
  pf_load_start (&load);
  IT_CHECK (pf_load_wait (&load, MESSAGES, WAIT_MS), "publish %d", MESSAGES);
  pf_load_join (&load);
  pf_count_t c = pf_finish (conn, &load, receiver, "scaleout", WAIT_MS);
  long long order = pf_out_of_order (conn);
  /* Every committed publish counts once, on the one broker that took it:
   * the confirmed ones and those whose confirm came too late for the
   * publisher (unsure) but whose rows were committed and applied. */
  double committed = (double) (c.confirmed + c.unsure_applied);
  /* the brokers refresh their /metrics snapshot periodically: wait for it */
  double pub0 = 0, pub1 = 0;
  for (int64_t until = at_mono_ms () + 5000; at_mono_ms () < until; usleep (50 * 1000)) {
    pub0 = pf_metric (bus.metrics_port[0], "atende_bus_published_total");
    pub1 = pf_metric (bus.metrics_port[1], "atende_bus_published_total");
    if (pub0 + pub1 >= committed)
      break;
  }
  printf ("scaleout: out_of_order=%lld published broker0=%.0f broker1=%.0f\n", order, pub0,
          pub1);
  IT_CHECK (order == 0, "%lld messages applied out of their key's order", order);
  IT_CHECK (pub0 > 0 && pub1 > 0, "both brokers carried publishes (%.0f, %.0f)", pub0, pub1);
  IT_CHECK (pub0 + pub1 == committed, "each message published through exactly one broker"
            " (%.0f + %.0f for %.0f committed)", pub0, pub1, committed);

  for (int i = 8; i >= 0; i--)
    it_stop (s_workers[i], SIGTERM, 15000);
  it_stop (bus.broker[0], SIGTERM, 10000);
  it_stop (bus.broker[1], SIGTERM, 10000);
  demo_receiver_destroy (&receiver);
  pf_ids_free (&load.ok);
  pf_ids_free (&load.maybe);
  PQfinish (conn);
  printf ("scaleout: ok\n");
  return 0;
}
