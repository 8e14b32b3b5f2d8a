/* Spills (proto/README.md, "Per-key order"): a broker whose queues hold
 * only 16 messages per stage, fed much faster than its workers apply, so
 * almost every message waits in PostgreSQL and comes back through the
 * sweep, a key's run at a time. Two `atende worker` processes run the real
 * pipeline ingest -> route -> notify (a local receiver of signed webhooks).
 *   - every confirmed message is applied exactly once, answered once,
 *     delivered once;
 *   - one customer's messages keep their order through every spill;
 *   - the broker's sweeps brought rows back (its /metrics: more published
 *     than it could ever hold, and the depth drained to 0). */
#include <unistd.h>
#include "test_crash_util.h"
#include "demo_receiver.h"

#define CUSTOMERS 12
#define MESSAGES 1500
#define WAIT_MS 60000

int
main (void)
{
  it_require_pg ();
  demo_receiver_t *receiver = demo_receiver_new (PF_SECRET, 0);
  IT_CHECK (receiver != NULL, "receiver");
  pf_bus_t bus;
  pf_bus_init (&bus, it_db_create ("bus_spill", true), 1);
  at_strlcpy (bus.webhook_url, demo_receiver_url (receiver), sizeof bus.webhook_url);
  bus.extra[0] = "ATENDE_BROKER_QUEUE_CAP=16";
  PGconn *conn = it_db_connect (bus.db);
  pf_db_prepare (conn, CUSTOMERS);
  pf_broker_start (&bus, 0);
  pf_brokers_ready (&bus, WAIT_MS);
  pid_t workers[2];
  workers[0] = pf_worker_start (&bus, "ingest,route,notify", "worker-0");
  workers[1] = pf_worker_start (&bus, "ingest,route,notify", "worker-1");

  static pf_load_t load = {.customers = CUSTOMERS, .batch = CUSTOMERS, .rate = 0, .nbrokers = 1,
                           .limit = MESSAGES};
  pf_load_start (&load);
  IT_CHECK (pf_load_wait (&load, MESSAGES, WAIT_MS), "publish %d", MESSAGES);
  pf_load_join (&load);
  pf_finish (conn, &load, receiver, "spill", WAIT_MS);
  long long order = pf_out_of_order (conn);
  printf ("spill: out_of_order=%lld\n", order);
  IT_CHECK (order == 0, "%lld messages applied out of their key's order", order);

  it_stop (workers[1], SIGTERM, 15000);
  it_stop (workers[0], SIGTERM, 15000);
  it_stop (bus.broker[0], SIGTERM, 10000);
  demo_receiver_destroy (&receiver);
  pf_ids_free (&load.ok);
  pf_ids_free (&load.maybe);
  PQfinish (conn);
  printf ("spill: ok\n");
  return 0;
}
