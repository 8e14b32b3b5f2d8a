/* Crash of the broker (reliability contract 1 and 4): under a steady
 * publish load, the broker is SIGKILLed three times and restarted on the
 * same endpoint; two `atende worker ingest,route` keep working through it.
 * At the end every publish the broker confirmed was applied exactly once
 * (ticket_message rows by the publisher's message ids, route's answers),
 * publishes it never answered were applied at most once, nothing twice.
 * Prints the counts. PF_RATE=<messages per second> changes the load
 * (default 400). */
#include "test_crash_util.h"

#define CUSTOMERS 200
#define KILLS 3
#define STEP 300       /* confirmed messages between two kills */
#define WAIT_MS 45000

int
main (void)
{
  it_require_pg ();
  pf_bus_t bus;
  pf_bus_init (&bus, it_db_create ("crash_broker", true), 1);
  PGconn *conn = it_db_connect (bus.db);
  pf_db_prepare (conn, CUSTOMERS);
  pf_broker_start (&bus, 0);
  pid_t w1 = pf_worker_start (&bus, "ingest,route", "worker1");
  pid_t w2 = pf_worker_start (&bus, "ingest,route", "worker2");

  static pf_load_t load = {.customers = CUSTOMERS, .batch = 10, .rate = 400};
  const char *rate = getenv ("PF_RATE");   /* to reproduce at other loads */
  long r = 0;
  if (rate && at_parse_long (rate, 1, 100000, &r) == AT_OK)
    load.rate = (int) r;
  pf_load_start (&load);
  for (int k = 1; k <= KILLS; k++) {
    long want = atomic_load (&load.confirmed) + STEP;
    IT_CHECK (pf_load_wait (&load, want, WAIT_MS), "load reaches %ld before kill %d", want, k);
    it_stop (bus.broker[0], SIGKILL, 5000);
    int64_t down = at_mono_ms ();
    pf_broker_start (&bus, 0);
    IT_CHECK (pf_http_up (bus.metrics_port[0], "/readyz", WAIT_MS), "broker %d back", k);
    printf ("kill %d: broker SIGKILLed at %ld confirmed, serving again after %lld ms\n", k,
            atomic_load (&load.confirmed), (long long) (at_mono_ms () - down));
    fflush (stdout);
  }
  long want = atomic_load (&load.confirmed) + STEP;
  IT_CHECK (pf_load_wait (&load, want, WAIT_MS), "load goes on after the last restart");
  pf_load_join (&load);
  IT_CHECK (pf_wait_drained (conn, "'ingest', 'route'", WAIT_MS), "ingest and route drain");

  pf_count_t c = pf_count (conn, &load);
  printf ("publishes=%ld busy=%ld\n", atomic_load (&load.publishes), atomic_load (&load.busy));
  pf_count_print ("crash_broker", &c);
  pf_count_check (&c);
  pf_count_check_answers (conn, &c);
  IT_CHECK (c.unsure_applied <= c.unsure, "unsure messages applied at most once");

  it_stop (w1, SIGTERM, 15000);
  it_stop (w2, SIGTERM, 15000);
  it_stop (bus.broker[0], SIGTERM, 10000);
  pf_ids_free (&load.ok);
  pf_ids_free (&load.maybe);
  PQfinish (conn);
  printf ("crash broker: ok\n");
  return 0;
}
