/* test_worker_attempts: ATENDE_STAGE_MAX_ATTEMPTS ("notify=12,ingest=5"): what
 * parses, what each stage gets, and the clear refusals of bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "wrk_int.h"

static void
test_attempts_parse_ok (void **state)
{
  (void) state;
  wrk_attempts_t a;
  char err[160];
  assert_int_equal (wrk_attempts_parse ("notify=12,ingest=5", 8, &a, err, sizeof err), AT_OK);
  assert_int_equal (wrk_attempts_for (&a, "notify"), 12);
  assert_int_equal (wrk_attempts_for (&a, "ingest"), 5);
  assert_int_equal (wrk_attempts_for (&a, "route"), 8);
  assert_int_equal (wrk_attempts_for (&a, "survey"), 8);
  assert_int_equal (wrk_attempts_parse (" route = 1 , survey=1000", 3, &a, err, sizeof err), AT_OK);
  assert_int_equal (wrk_attempts_for (&a, "route"), 1);
  assert_int_equal (wrk_attempts_for (&a, "survey"), 1000);
  assert_int_equal (wrk_attempts_for (&a, "notify"), 3);
  /* empty: every stage uses the default */
  assert_int_equal (wrk_attempts_parse ("", 8, &a, err, sizeof err), AT_OK);
  assert_int_equal (wrk_attempts_for (&a, "notify"), 8);
  assert_int_equal (wrk_attempts_parse (NULL, 4, &a, err, sizeof err), AT_OK);
  assert_int_equal (wrk_attempts_for (&a, "ingest"), 4);
}

static void
test_attempts_parse_bad (void **state)
{
  (void) state;
  static const struct { const char *spec, *says; } cases[] = {
    {"notify", "stage=N"},
    {"nosuch=3", "unknown stage"},
    {"notify=0", "[1, 1000]"},
    {"notify=1001", "[1, 1000]"},
    {"notify=x", "[1, 1000]"},
    {"notify=-2", "[1, 1000]"},
    {"notify=3,notify=4", "twice"},
    {"notify=3,", "empty"},
    {",notify=3", "empty"},
    {"notify=3,,route=2", "empty"},
    {"=3", "stage=N"},
    {"notify=", "stage=N"},
    {"notify=12345678901234567890123456789", "stage=N"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    wrk_attempts_t a;
    char err[160] = "";
    assert_int_equal (wrk_attempts_parse (cases[i].spec, 8, &a, err, sizeof err), AT_INVALID);
    if (strstr (err, cases[i].says) == NULL)
      fail_msg ("'%s': error '%s' does not say '%s'", cases[i].spec, err, cases[i].says);
    assert_int_equal (wrk_attempts_for (&a, "notify"), 8);   /* nothing half applied */
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_attempts_parse_ok),
    cmocka_unit_test (test_attempts_parse_bad),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
