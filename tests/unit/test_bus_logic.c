/* Pure logic of the bus: the broker's queue (per-key skipping, redelivery at
 * the front), the shard hash publishers route by, the one-frame Command
 * codec and the metrics text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "at_msg.h"
#include "at_zmq.h"
#include "brk_frame.h"
#include "brk_metrics.h"
#include "brk_queue.h"

static at_msg_t *
s_msg (const char *key, const char *body)
{
  at_msg_t *m = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, key, NULL, body, strlen (body));
  assert_non_null (m);
  return m;
}

static void
test_queue_fifo_and_bytes (void **state)
{
  (void) state;
  brk_queue_t *q = brk_queue_new ();
  at_msg_t *m1 = s_msg ("a", "one"), *m2 = s_msg ("b", "three");
  brk_queue_push (q, &m1);
  brk_queue_push (q, &m2);
  assert_null (m1);
  assert_int_equal (brk_queue_size (q), 2);
  assert_int_equal (brk_queue_bytes (q), 8);
  at_msg_t *got = brk_queue_take (q);
  assert_memory_equal (got->payload, "one", 3);
  assert_int_equal (brk_queue_bytes (q), 5);
  at_msg_destroy (&got);
  brk_queue_destroy (&q);   /* frees the message left */
  assert_null (q);
}

static void
test_queue_busy_key_waits_in_order (void **state)
{
  (void) state;
  brk_queue_t *q = brk_queue_new ();
  const char *keys[] = {"a", "a", "b", "a", "b"};
  const char *bodies[] = {"a1", "a2", "b1", "a3", "b2"};
  for (int i = 0; i < 5; i++) {
    at_msg_t *m = s_msg (keys[i], bodies[i]);
    brk_queue_push (q, &m);
  }
  /* a1 goes out: "a" is busy, b1 is next; then "b" is busy too */
  at_msg_t *m = brk_queue_take (q);
  assert_memory_equal (m->payload, "a1", 2);
  at_msg_destroy (&m);
  m = brk_queue_take (q);
  assert_memory_equal (m->payload, "b1", 2);
  at_msg_destroy (&m);
  assert_null (brk_queue_take (q));
  /* a1 settled: a2, and a stays busy; b1 settled: b2; then a3 */
  brk_queue_free_key (q, "a");
  m = brk_queue_take (q);
  assert_memory_equal (m->payload, "a2", 2);
  at_msg_destroy (&m);
  assert_null (brk_queue_take (q));
  brk_queue_free_key (q, "b");
  brk_queue_free_key (q, "a");
  const char *want[] = {"b2", "a3"};
  for (int i = 0; i < 2; i++) {
    m = brk_queue_take (q);
    assert_memory_equal (m->payload, want[i], 2);
    at_msg_destroy (&m);
  }
  assert_int_equal (brk_queue_size (q), 0);
  brk_queue_free_key (q, "a");
  brk_queue_free_key (q, "b");
  brk_queue_destroy (&q);
}

/* One key's long backlog does not hide another key's message. */
static void
test_queue_backlog_does_not_hide (void **state)
{
  (void) state;
  brk_queue_t *q = brk_queue_new ();
  for (int i = 0; i < 1000; i++) {
    at_msg_t *m = s_msg ("a", "x");
    brk_queue_push (q, &m);
  }
  at_msg_t *m = s_msg ("b", "y");
  brk_queue_push (q, &m);
  m = brk_queue_take (q);   /* a's first */
  at_msg_destroy (&m);
  m = brk_queue_take (q);
  assert_memory_equal (m->payload, "y", 1);
  at_msg_destroy (&m);
  /* the empty key has no order: never busy */
  for (int i = 0; i < 3; i++) {
    at_msg_t *e = s_msg ("", "e");
    brk_queue_push (q, &e);
  }
  for (int i = 0; i < 3; i++) {
    m = brk_queue_take (q);
    assert_non_null (m);
    assert_memory_equal (m->payload, "e", 1);
    at_msg_destroy (&m);
  }
  assert_null (brk_queue_take (q));
  brk_queue_destroy (&q);
}

static void
test_queue_push_front (void **state)
{
  (void) state;
  brk_queue_t *q = brk_queue_new ();
  at_msg_t *m1 = s_msg ("a", "1"), *m2 = s_msg ("b", "2"), *m3 = s_msg ("b", "3");
  brk_queue_push (q, &m1);
  brk_queue_push (q, &m3);
  brk_queue_push_front (q, &m2);   /* b's lane first, 2 ahead of 3 */
  at_msg_t *m = brk_queue_take (q);
  assert_memory_equal (m->payload, "2", 1);
  at_msg_destroy (&m);
  m = brk_queue_take (q);
  assert_memory_equal (m->payload, "1", 1);
  at_msg_destroy (&m);
  brk_queue_free_key (q, "a");
  brk_queue_destroy (&q);
}

static void
test_shard_stable_and_spread (void **state)
{
  (void) state;
  assert_int_equal (at_bus_shard ("customer-42", 0), 0);
  assert_int_equal (at_bus_shard ("anything", 1), 0);
  /* FNV-1a 32 reference values */
  assert_int_equal (at_bus_shard ("", 0xffffffffu), 2166136261u % 0xffffffffu);
  assert_int_equal (at_bus_shard ("a", 0xffffffffu), 0xe40c292cu % 0xffffffffu);
  assert_int_equal (at_bus_shard ("foobar", 0xffffffffu), 0xbf9cf968u % 0xffffffffu);
  int counts[3] = {0};
  char key[32];
  for (int i = 0; i < 3000; i++) {
    snprintf (key, sizeof key, "order-%d", i);
    uint32_t s = at_bus_shard (key, 3);
    assert_true (s < 3);
    assert_int_equal (s, at_bus_shard (key, 3));
    counts[s]++;
  }
  for (int i = 0; i < 3; i++)
    assert_true (counts[i] > 700);
}

static void
test_cmd_decode_refuses_bad_input (void **state)
{
  (void) state;
  Atende__Bus__Command *cmd = NULL;
  char reason[128];
  const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
  assert_int_equal (at_bus_cmd_decode (junk, sizeof junk, &cmd, reason, sizeof reason), AT_INVALID);
  assert_null (cmd);
  assert_non_null (strstr (reason, "malformed"));

  Atende__Bus__Heartbeat hb = ATENDE__BUS__HEARTBEAT__INIT;
  Atende__Bus__Command c = ATENDE__BUS__COMMAND__INIT;
  c.body_case = ATENDE__BUS__COMMAND__BODY_HEARTBEAT;
  c.heartbeat = &hb;
  uint8_t buf[64];
  c.version = 2;
  size_t len = atende__bus__command__pack (&c, buf);
  assert_int_equal (at_bus_cmd_decode (buf, len, &cmd, reason, sizeof reason), AT_INVALID);
  assert_non_null (strstr (reason, "version"));

  c.version = 1;
  len = atende__bus__command__pack (&c, buf);
  assert_int_equal (at_bus_cmd_decode (buf, len, &cmd, reason, sizeof reason), AT_OK);
  assert_int_equal (cmd->body_case, ATENDE__BUS__COMMAND__BODY_HEARTBEAT);
  atende__bus__command__free_unpacked (cmd, NULL);

  const uint8_t version_only[] = {0x08, 0x01};   /* version 1, no body */
  assert_int_equal (at_bus_cmd_decode (version_only, sizeof version_only, &cmd, reason,
                                       sizeof reason), AT_INVALID);
  assert_non_null (strstr (reason, "unknown command"));
}

static void
test_metrics_render (void **state)
{
  (void) state;
  brk_snapshot_t snap;
  memset (&snap, 0, sizeof snap);
  const char *names[] = {"ingest", "route", "notify", "survey"};
  for (int i = 0; i < BRK_STAGES; i++)
    at_strlcpy (snap.stages[i].name, names[i], sizeof snap.stages[i].name);
  snap.stages[1].depth = 42;
  snap.stages[1].ready = 40;
  snap.stages[1].oldest_age_s = 1.5;
  snap.stages[2].delivered = 7;
  snap.rejected[BRK_REJECT_MALFORMED] = 3;
  snap.workers = 2;
  snap.ready = true;
  char buf[16384];
  size_t len = brk_metrics_render (&snap, buf, sizeof buf);
  assert_int_equal (len, strlen (buf));
  assert_non_null (strstr (buf, "atende_bus_depth{stage=\"route\"} 42\n"));
  assert_non_null (strstr (buf, "atende_bus_ready{stage=\"route\"} 40\n"));
  assert_non_null (strstr (buf, "atende_bus_oldest_age_seconds{stage=\"route\"} 1.500\n"));
  assert_non_null (strstr (buf, "atende_bus_delivered_total{stage=\"notify\"} 7\n"));
  assert_non_null (strstr (buf, "atende_bus_rejected_total{reason=\"malformed\"} 3\n"));
  assert_non_null (strstr (buf, "atende_broker_workers 2\n"));
  assert_non_null (strstr (buf, "atende_ready 1\n"));
  assert_non_null (strstr (buf, "atende_build_info{version=\""));
  char small[100];
  len = brk_metrics_render (&snap, small, sizeof small);
  assert_true (len < sizeof small);
  assert_int_equal (len, strlen (small));
}

static void
test_metrics_histograms (void **state)
{
  (void) state;
  brk_snapshot_t snap;
  memset (&snap, 0, sizeof snap);
  brk_histo_add (&snap.confirm_latency, brk_latency_bounds, 0.0004);   /* <= 0.5 ms */
  brk_histo_add (&snap.confirm_latency, brk_latency_bounds, 0.004);    /* <= 5 ms */
  brk_histo_add (&snap.confirm_latency, brk_latency_bounds, 99);       /* +Inf */
  brk_histo_add (&snap.commit_size, brk_commit_bounds, 150);
  snap.stages[0].dead_lettered = 4;
  at_strlcpy (snap.stages[0].name, "ingest", sizeof snap.stages[0].name);
  snap.shard_count = 2;
  snap.shard_index = 1;
  snap.durable = true;
  char buf[32768];
  brk_metrics_render (&snap, buf, sizeof buf);
  assert_non_null (strstr (buf, "atende_bus_publish_confirm_seconds_bucket{le=\"0.0005\"} 1\n"));
  assert_non_null (strstr (buf, "atende_bus_publish_confirm_seconds_bucket{le=\"0.005\"} 2\n"));
  assert_non_null (strstr (buf, "atende_bus_publish_confirm_seconds_bucket{le=\"5\"} 2\n"));
  assert_non_null (strstr (buf, "atende_bus_publish_confirm_seconds_bucket{le=\"+Inf\"} 3\n"));
  assert_non_null (strstr (buf, "atende_bus_publish_confirm_seconds_count 3\n"));
  assert_non_null (strstr (buf, "atende_bus_commit_messages_bucket{le=\"100\"} 0\n"));
  assert_non_null (strstr (buf, "atende_bus_commit_messages_bucket{le=\"200\"} 1\n"));
  assert_non_null (strstr (buf, "atende_bus_commit_messages_sum 150.000000\n"));
  assert_non_null (strstr (buf, "atende_bus_dead_lettered_total{stage=\"ingest\"} 4\n"));
  assert_non_null (strstr (buf, "atende_broker_shard{index=\"1\",count=\"2\"} 1\n"));
  assert_non_null (strstr (buf, "atende_broker_durable 1\n"));
  assert_non_null (strstr (buf, "atende_draining 0\n"));
}

static void
test_frame_decode (void **state)
{
  (void) state;
  Atende__Bus__Command *cmd = NULL;
  brk_reject_t why;
  uint64_t correlation = 99;
  char reason[96];
  const uint8_t junk[] = {0xde, 0xad, 0xbe, 0xef, 0xff};
  assert_int_equal (brk_frame_decode (junk, sizeof junk, &cmd, &why, &correlation, reason,
                                      sizeof reason), AT_INVALID);
  assert_int_equal (why, BRK_REJECT_MALFORMED);
  assert_null (cmd);
  /* version 2 Publish with correlation 5: refused, correlation kept */
  const uint8_t v2[] = {0x08, 0x02, 0x52, 0x02, 0x08, 0x05};
  assert_int_equal (brk_frame_decode (v2, sizeof v2, &cmd, &why, &correlation, reason,
                                      sizeof reason), AT_INVALID);
  assert_int_equal (why, BRK_REJECT_VERSION);
  assert_int_equal (correlation, 5);
  /* a Confirm sent to a broker */
  const uint8_t confirm[] = {0x08, 0x01, 0x5a, 0x02, 0x08, 0x01};
  assert_int_equal (brk_frame_decode (confirm, sizeof confirm, &cmd, &why, &correlation, reason,
                                      sizeof reason), AT_INVALID);
  assert_int_equal (why, BRK_REJECT_UNKNOWN);
  /* Extend with one id: accepted */
  const uint8_t extend[] = {0x08, 0x01, 0xd2, 0x01, 0x03, 0x0a, 0x01, 'x'};
  assert_int_equal (brk_frame_decode (extend, sizeof extend, &cmd, &why, &correlation, reason,
                                      sizeof reason), AT_OK);
  assert_int_equal (cmd->body_case, ATENDE__BUS__COMMAND__BODY_EXTEND);
  assert_int_equal (cmd->extend->n_ids, 1);
  atende__bus__command__free_unpacked (cmd, NULL);
}

static void
test_shard_of (void **state)
{
  (void) state;
  assert_int_equal (at_bus_shard_of ("customer-42", 1), 0);
  assert_int_equal (at_bus_shard_of ("customer-42", 0), 0);
  for (int i = 0; i < 100; i++) {
    char key[32];
    snprintf (key, sizeof key, "k%d", i);
    assert_int_equal (at_bus_shard_of (key, 3), (int) at_bus_shard (key, 3));
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_queue_fifo_and_bytes),
    cmocka_unit_test (test_queue_busy_key_waits_in_order),
    cmocka_unit_test (test_queue_backlog_does_not_hide),
    cmocka_unit_test (test_queue_push_front),
    cmocka_unit_test (test_shard_stable_and_spread),
    cmocka_unit_test (test_cmd_decode_refuses_bad_input),
    cmocka_unit_test (test_metrics_render),
    cmocka_unit_test (test_metrics_histograms),
    cmocka_unit_test (test_frame_decode),
    cmocka_unit_test (test_shard_of),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
