/* The order status state machine: ranks, late events, repeats, cancelled,
 * delayed and failed_attempt, and the dedup key of events. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "at_store_order.h"

/* Applies events in order to an in-memory order the way notify does;
 * returns whether the last one applied. */
static bool
s_feed (at_order_current_t *o, const char *status, int64_t at)
{
  at_order_decision_t d;
  int rank = -1;
  assert_int_equal (at_order_decide (o, status, at, &d, &rank), AT_OK);
  if (d == AT_ORDER_APPLY) {
    o->exists = true;
    at_strlcpy (o->status, status, sizeof o->status);
    o->rank = rank;
    o->status_at_us = at;
  }
  return d == AT_ORDER_APPLY;
}

static void
test_happy_path (void **state)
{
  at_order_current_t o = {0};
  const char *flow[] = {"placed", "confirmed", "packed", "shipped", "in_transit",
                        "out_for_delivery", "delivered", "returned"};
  for (size_t i = 0; i < 8; i++) {
    assert_true (s_feed (&o, flow[i], 100 + (int64_t) i));
    assert_string_equal (o.status, flow[i]);
    assert_int_equal (o.rank, (int) i + 1);
  }
}

static void
test_never_shipped_after_delivered (void **state)
{
  at_order_current_t o = {0};
  assert_true (s_feed (&o, "placed", 10));
  assert_true (s_feed (&o, "delivered", 20));
  assert_false (s_feed (&o, "shipped", 30));          /* newer, but lower rank */
  assert_false (s_feed (&o, "in_transit", 40));
  assert_false (s_feed (&o, "out_for_delivery", 50));
  assert_string_equal (o.status, "delivered");
}

static void
test_late_event_not_applied (void **state)
{
  at_order_current_t o = {0};
  assert_true (s_feed (&o, "shipped", 1000));
  assert_false (s_feed (&o, "out_for_delivery", 999)); /* higher rank, but older */
  assert_false (s_feed (&o, "confirmed", 500));
  assert_string_equal (o.status, "shipped");
  assert_int_equal (o.status_at_us, 1000);
  assert_true (s_feed (&o, "in_transit", 1000));       /* same instant is not late */
}

static void
test_repeat_not_applied (void **state)
{
  at_order_current_t o = {0};
  assert_true (s_feed (&o, "shipped", 10));
  assert_false (s_feed (&o, "shipped", 20));
  assert_true (s_feed (&o, "delayed", 30));
  assert_false (s_feed (&o, "delayed", 40));
}

static void
test_delayed_and_failed_attempt_keep_rank (void **state)
{
  at_order_current_t o = {0};
  assert_true (s_feed (&o, "in_transit", 10));
  assert_true (s_feed (&o, "delayed", 20));
  assert_int_equal (o.rank, at_order_status_rank ("in_transit"));
  assert_false (s_feed (&o, "shipped", 25));           /* still lower */
  assert_true (s_feed (&o, "in_transit", 30));         /* back on track */
  assert_true (s_feed (&o, "out_for_delivery", 40));
  assert_true (s_feed (&o, "failed_attempt", 50));
  assert_int_equal (o.rank, at_order_status_rank ("out_for_delivery"));
  assert_true (s_feed (&o, "delivered", 60));
  assert_false (s_feed (&o, "delayed", 70));           /* not after delivered */
  assert_false (s_feed (&o, "failed_attempt", 80));
}

/* A carrier's new estimate: the same status with another expected date. */
static bool
s_feed_dated (at_order_current_t *o, const char *status, int64_t at, const char *expected)
{
  at_order_decision_t d;
  int rank = -1;
  assert_int_equal (at_order_decide_event (o, status, at, expected, &d, &rank), AT_OK);
  if (d == AT_ORDER_APPLY) {
    o->exists = true;
    at_strlcpy (o->status, status, sizeof o->status);
    o->rank = rank;
    o->status_at_us = at;
    if (expected && *expected)
      at_strlcpy (o->expected_delivery, expected, sizeof o->expected_delivery);
  }
  return d == AT_ORDER_APPLY;
}

static void
test_new_estimate_applies (void **state)
{
  at_order_current_t o = {0};
  assert_true (s_feed_dated (&o, "in_transit", 10, "2026-11-24"));
  assert_false (s_feed_dated (&o, "in_transit", 20, "2026-11-24"));   /* same date: repeat */
  assert_false (s_feed_dated (&o, "in_transit", 20, ""));
  assert_true (s_feed_dated (&o, "in_transit", 30, "2026-11-27"));    /* new estimate */
  assert_string_equal (o.expected_delivery, "2026-11-27");
  assert_false (s_feed_dated (&o, "in_transit", 25, "2026-11-29"));   /* late */
  assert_true (s_feed_dated (&o, "delayed", 40, "2026-11-29"));
  assert_true (s_feed_dated (&o, "delayed", 50, "2026-12-01"));       /* slips again */
  assert_false (s_feed_dated (&o, "shipped", 60, "2026-12-09"));      /* lower rank */
  assert_false (at_order_settled (&o));
  assert_true (s_feed_dated (&o, "delivered", 70, ""));
  assert_true (at_order_settled (&o));
  assert_false (s_feed_dated (&o, "delivered", 80, "2026-12-09"));    /* settled */
  assert_false (s_feed_dated (&o, "delayed", 90, "2026-12-09"));
}

static void
test_cancelled (void **state)
{
  at_order_current_t o = {0};
  assert_true (s_feed (&o, "placed", 10));
  assert_true (s_feed (&o, "cancelled", 20));
  assert_false (s_feed (&o, "shipped", 30));           /* nothing after cancelled */
  assert_false (s_feed (&o, "delivered", 40));
  assert_false (s_feed (&o, "delayed", 50));

  at_order_current_t d = {0};
  assert_true (s_feed (&d, "delivered", 10));
  assert_false (s_feed (&d, "cancelled", 20));         /* not after delivered */
  assert_string_equal (d.status, "delivered");
}

static void
test_unknown_status (void **state)
{
  at_order_current_t o = {0};
  at_order_decision_t d;
  int rank;
  assert_int_equal (at_order_decide (&o, "lost", 1, &d, &rank), AT_INVALID);
  assert_int_equal (at_order_decide (&o, "", 1, &d, &rank), AT_INVALID);
  assert_int_equal (at_order_decide (&o, NULL, 1, &d, &rank), AT_INVALID);
  assert_false (at_order_status_known ("SHIPPED"));
  assert_true (at_order_status_known ("failed_attempt"));
  assert_false (at_order_status_known (NULL));
}

static void
test_status_list (void **state)
{
  const char *want[] = {"placed", "confirmed", "packed", "shipped", "in_transit",
                        "out_for_delivery", "delivered", "delayed", "failed_attempt",
                        "cancelled", "returned"};
  for (size_t i = 0; i < AT_ARRAY_LEN (want); i++) {
    assert_string_equal (at_order_status_name (i), want[i]);
    assert_true (at_order_status_known (want[i]));
  }
  assert_null (at_order_status_name (AT_ARRAY_LEN (want)));
  assert_int_equal (at_order_status_rank ("placed"), 1);
  assert_int_equal (at_order_status_rank ("delivered"), 7);
  assert_int_equal (at_order_status_rank ("returned"), 8);
  assert_true (at_order_status_rank ("cancelled") > at_order_status_rank ("returned"));
  assert_int_equal (at_order_status_rank ("delayed"), -1);
  assert_int_equal (at_order_status_rank ("lost"), -1);
}

static void
test_customer_facing (void **state)
{
  assert_false (at_order_status_customer_facing ("packed"));
  assert_true (at_order_status_customer_facing ("placed"));
  assert_true (at_order_status_customer_facing ("delayed"));
  assert_false (at_order_status_customer_facing ("bogus"));
}

static void
test_event_key (void **state)
{
  char key[AT_ORDER_EVENT_KEY_MAX], again[AT_ORDER_EVENT_KEY_MAX];
  assert_int_equal (at_order_event_key ("evt-1", "shipped", 5, key, sizeof key), AT_OK);
  assert_string_equal (key, "evt-1");
  /* without an event id, the same status at the same instant is the same event */
  assert_int_equal (at_order_event_key ("", "shipped", 1700000000000001, key, sizeof key), AT_OK);
  assert_int_equal (at_order_event_key (NULL, "shipped", 1700000000000001, again, sizeof again),
                    AT_OK);
  assert_string_equal (key, again);
  assert_int_equal (at_order_event_key ("", "delivered", 1700000000000001, again, sizeof again),
                    AT_OK);
  assert_string_not_equal (key, again);
  char big[300];
  memset (big, 'x', sizeof big - 1);
  big[sizeof big - 1] = 0;
  assert_int_equal (at_order_event_key (big, "shipped", 1, key, sizeof key), AT_INVALID);
}

static void
test_locale_pick (void **state)
{
  assert_string_equal (at_locale_pick ("en", "pt-BR"), "en");
  assert_string_equal (at_locale_pick ("en-US", "pt-BR"), "en");
  assert_string_equal (at_locale_pick ("es_AR", "pt-BR"), "es");
  assert_string_equal (at_locale_pick ("pt", "en"), "pt-BR");
  assert_string_equal (at_locale_pick ("fr", "es"), "es");
  assert_string_equal (at_locale_pick ("", NULL), "pt-BR");
  assert_string_equal (at_locale_pick ("english", "pt-BR"), "pt-BR");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_happy_path),
    cmocka_unit_test (test_never_shipped_after_delivered),
    cmocka_unit_test (test_late_event_not_applied),
    cmocka_unit_test (test_repeat_not_applied),
    cmocka_unit_test (test_delayed_and_failed_attempt_keep_rank),
    cmocka_unit_test (test_new_estimate_applies),
    cmocka_unit_test (test_cancelled),
    cmocka_unit_test (test_unknown_status),
    cmocka_unit_test (test_status_list),
    cmocka_unit_test (test_customer_facing),
    cmocka_unit_test (test_event_key),
    cmocka_unit_test (test_locale_pick),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
