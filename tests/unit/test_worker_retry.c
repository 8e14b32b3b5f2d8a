/* test_worker_retry: the worker loop's pure parts: retry delays (exponential, capped, with
 * jitter in [delay/2, delay]), stage look-up, produce outside a handler. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "wrk_int.h"

static at_config_t s_cfg;

static void
test_retry_delay_bounds (void **state)
{
  (void) state;
  s_cfg.retry_base_ms = 100;
  s_cfg.retry_max_ms = 1000;
  wrk_ctx_t ctx = {.cfg = &s_cfg, .rng = 7};
  struct { uint32_t attempt; int64_t lo, hi; } cases[] = {
    {1, 50, 100}, {2, 100, 200}, {3, 200, 400}, {4, 400, 800}, {5, 500, 1000},
    {40, 500, 1000}, {1000, 500, 1000},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    int64_t seen_lo = INT64_MAX, seen_hi = 0;
    for (int i = 0; i < 2000; i++) {
      int64_t d = wrk_retry_delay_ms (&ctx, cases[c].attempt);
      assert_in_range (d, cases[c].lo, cases[c].hi);
      seen_lo = d < seen_lo ? d : seen_lo;
      seen_hi = d > seen_hi ? d : seen_hi;
    }
    /* jitter spreads over the range */
    assert_true (seen_hi - seen_lo > (cases[c].hi - cases[c].lo) / 2);
  }
}

static void
test_retry_delay_tiny (void **state)
{
  (void) state;
  s_cfg.retry_base_ms = 1;
  s_cfg.retry_max_ms = 1;
  wrk_ctx_t ctx = {.cfg = &s_cfg, .rng = 0};
  for (uint32_t a = 0; a < 50; a++)
    assert_in_range (wrk_retry_delay_ms (&ctx, a), 0, 1);
}

static void
test_stage_find (void **state)
{
  (void) state;
  assert_ptr_equal (wrk_stage_find ("ingest"), &wrk_stage_ingest);
  assert_ptr_equal (wrk_stage_find ("route"), &wrk_stage_route);
  assert_ptr_equal (wrk_stage_find ("notify"), &wrk_stage_notify);
  assert_ptr_equal (wrk_stage_find ("survey"), &wrk_stage_survey);
  assert_null (wrk_stage_find ("all"));
  assert_null (wrk_stage_find (""));
  assert_null (wrk_stage_find (NULL));
}

static void
test_produce_outside_handle (void **state)
{
  (void) state;
  wrk_ctx_t ctx = {.cfg = &s_cfg};
  at_msg_t *msg = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, "ticket:1", NULL, "x", 1);
  assert_non_null (msg);
  assert_int_equal (wrk_ctx_produce (&ctx, &msg), AT_ERROR);
  assert_null (msg);                      /* ownership taken, freed */
  assert_int_equal (wrk_ctx_produce (&ctx, NULL), AT_INVALID);
}

static void
test_produce_collects (void **state)
{
  (void) state;
  wrk_ctx_t ctx = {.cfg = &s_cfg};
  wrk_item_t item = {0};
  item.m.msg = at_msg_new (AT_STAGE_INGEST, AT_TYPE_INBOUND_MESSAGE, "email:a@b.c", NULL, "x", 1);
  ctx.current = &item;
  for (int i = 0; i < 10; i++) {
    at_msg_t *msg = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, "ticket:1", NULL, "x", 1);
    assert_int_equal (wrk_ctx_produce (&ctx, &msg), AT_OK);
    assert_null (msg);
  }
  assert_int_equal (item.n_produced, 10);
  at_msg_t *bad = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, "ticket:1", NULL, "x", 1);
  at_strlcpy (bad->stage, "nowhere", sizeof bad->stage);
  assert_int_equal (wrk_ctx_produce (&ctx, &bad), AT_INVALID);
  assert_null (bad);
  assert_int_equal (item.n_produced, 10);
  wrk_item_clear (&item);
  assert_null (item.produced);
  assert_null (item.m.msg);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_retry_delay_bounds),
    cmocka_unit_test (test_retry_delay_tiny),
    cmocka_unit_test (test_stage_find),
    cmocka_unit_test (test_produce_outside_handle),
    cmocka_unit_test (test_produce_collects),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
