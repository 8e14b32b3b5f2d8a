/* The api's rate limits' arithmetic (api/api_limit.h): token buckets and
 * the count of refusals per minute, with the time passed in. The tables
 * and the life of a request: tests/integration/test_api_limits.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "api_limit.h"

#define T0 1000000000LL     /* any monotonic time but 0 */
#define SEC 1000000LL

/* A new bucket is full: burst requests at once, then 429 for about 1/rate. */
static void
test_bucket_burst_then_wait (void **state)
{
  (void) state;
  api_bucket_t b = { 0 };
  for (int i = 0; i < 5; i++)
    assert_int_equal (api_bucket_take (&b, 5, 5, T0), 0);
  assert_int_equal (api_bucket_take (&b, 5, 5, T0), 1);          /* at least 1 s */
  assert_int_equal (api_bucket_take (&b, 5, 5, T0 + SEC / 10), 1);
  assert_int_equal (api_bucket_take (&b, 5, 5, T0 + SEC / 5), 0); /* 200 ms: one token */
  assert_int_equal (api_bucket_take (&b, 5, 5, T0 + SEC / 5), 1);
}

/* Idle for long, a bucket holds burst tokens, no more. */
static void
test_bucket_refills_to_burst (void **state)
{
  (void) state;
  api_bucket_t b = { 0 };
  for (int i = 0; i < 3; i++)
    assert_int_equal (api_bucket_take (&b, 1, 3, T0), 0);
  assert_int_not_equal (api_bucket_take (&b, 1, 3, T0), 0);
  int64_t later = T0 + 3600 * SEC;
  for (int i = 0; i < 3; i++)
    assert_int_equal (api_bucket_take (&b, 1, 3, later), 0);
  assert_int_not_equal (api_bucket_take (&b, 1, 3, later), 0);
  assert_int_equal (api_bucket_take (&b, 1, 3, later + SEC), 0);
}

/* The largest rate and burst the settings allow, after a very long idle: no
 * overflow; a clock that seems to go back (threads) refills nothing. */
static void
test_bucket_extremes (void **state)
{
  (void) state;
  api_bucket_t b = { 0 };
  assert_int_equal (api_bucket_take (&b, 10000000, 100000000, T0), 0);
  assert_int_equal (api_bucket_take (&b, 10000000, 100000000, INT64_MAX / 2), 0);
  assert_true (b.tokens <= 100000000LL * API_LIMIT_TOKEN);
  api_bucket_t c = { 0 };
  assert_int_equal (api_bucket_take (&c, 1, 1, T0), 0);
  assert_int_equal (api_bucket_take (&c, 1, 1, T0 - 10 * SEC), 1);
  assert_int_equal (api_bucket_take (&c, 1, 1, T0 + SEC), 0);
}

static void
test_burst_default (void **state)
{
  (void) state;
  assert_int_equal (api_limit_burst (5, 0), 10);
  assert_int_equal (api_limit_burst (5, 7), 7);
  assert_int_equal (api_limit_burst (20000, 0), 40000);
}

/* max refusals in the minute since the first: blocked until that minute is
 * over, then a new count. */
static void
test_strikes_minute (void **state)
{
  (void) state;
  api_strikes_t s = { 0 };
  assert_int_equal (api_strikes_wait (&s, 3, T0), 0);
  api_strikes_add (&s, T0);
  api_strikes_add (&s, T0 + SEC);
  assert_int_equal (api_strikes_wait (&s, 3, T0 + SEC), 0);
  api_strikes_add (&s, T0 + 2 * SEC);
  assert_int_equal (api_strikes_wait (&s, 3, T0 + 2 * SEC), 58);
  assert_int_equal (api_strikes_wait (&s, 3, T0 + 59 * SEC + 1), 1);
  assert_int_equal (api_strikes_wait (&s, 3, T0 + 60 * SEC), 0);
  api_strikes_add (&s, T0 + 61 * SEC);            /* a new minute */
  assert_int_equal (s.count, 1);
  assert_int_equal (api_strikes_wait (&s, 3, T0 + 61 * SEC), 0);
}

/* Refusals spread wider than a minute never add up to max. */
static void
test_strikes_spread (void **state)
{
  (void) state;
  api_strikes_t s = { 0 };
  for (int i = 0; i < 10; i++) {
    api_strikes_add (&s, T0 + i * 31 * SEC);
    assert_int_equal (api_strikes_wait (&s, 3, T0 + i * 31 * SEC), 0);
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_bucket_burst_then_wait),
    cmocka_unit_test (test_bucket_refills_to_burst),
    cmocka_unit_test (test_bucket_extremes),
    cmocka_unit_test (test_burst_default),
    cmocka_unit_test (test_strikes_minute),
    cmocka_unit_test (test_strikes_spread),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
