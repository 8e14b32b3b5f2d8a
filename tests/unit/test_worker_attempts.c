/* test_worker_attempts: ATENDE_STAGE_MAX_ATTEMPTS ("notify=12,ingest=5"),
 * parsed with the settings: what each stage gets, and the clear startup
 * refusals of bad input, naming the variable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "at_common.h"
#include "at_config.h"

static at_config_t *
s_load (const char *spec, const char *fallback)
{
  setenv ("ATENDE_STAGE_MAX_ATTEMPTS", spec, 1);
  setenv ("ATENDE_MAX_ATTEMPTS", fallback, 1);
  at_config_t *cfg = at_config_from_env ();
  unsetenv ("ATENDE_STAGE_MAX_ATTEMPTS");
  unsetenv ("ATENDE_MAX_ATTEMPTS");
  return cfg;
}

static void
test_attempts_parse_ok (void **state)
{
  (void) state;
  at_config_t *cfg = s_load ("notify=12,ingest=5", "8");
  assert_non_null (cfg);
  assert_int_equal (at_config_max_attempts (cfg, "notify"), 12);
  assert_int_equal (at_config_max_attempts (cfg, "ingest"), 5);
  assert_int_equal (at_config_max_attempts (cfg, "route"), 8);
  assert_int_equal (at_config_max_attempts (cfg, "survey"), 8);
  at_config_destroy (&cfg);
  cfg = s_load (" route = 1 , survey=1000", "3");
  assert_non_null (cfg);
  assert_int_equal (at_config_max_attempts (cfg, "route"), 1);
  assert_int_equal (at_config_max_attempts (cfg, "survey"), 1000);
  assert_int_equal (at_config_max_attempts (cfg, "notify"), 3);
  at_config_destroy (&cfg);
  /* empty: every stage uses the default */
  cfg = s_load ("", "4");
  assert_non_null (cfg);
  assert_int_equal (at_config_max_attempts (cfg, "ingest"), 4);
  at_config_destroy (&cfg);
}

/* Loads spec with stderr captured into out. */
static at_config_t *
s_load_captured (const char *spec, char *out, size_t cap)
{
  FILE *tmp = tmpfile ();
  assert_non_null (tmp);
  fflush (stderr);
  int saved = dup (STDERR_FILENO);
  dup2 (fileno (tmp), STDERR_FILENO);
  at_config_t *cfg = s_load (spec, "8");
  fflush (stderr);
  dup2 (saved, STDERR_FILENO);
  close (saved);
  rewind (tmp);
  size_t n = fread (out, 1, cap - 1, tmp);
  out[n] = '\0';
  fclose (tmp);
  return cfg;
}

static void
test_attempts_parse_bad (void **state)
{
  (void) state;
  static const struct { const char *spec, *says; } cases[] = {
    {"notify", "is not key=value"},
    {"nosuch=3", "unknown stage"},
    {"notify=0", "[1, 1000]"},
    {"notify=1001", "[1, 1000]"},
    {"notify=x", "[1, 1000]"},
    {"notify=-2", "[1, 1000]"},
    {"notify=3,notify=4", "repeats a key"},
    {"notify=3,", "empty"},
    {",notify=3", "empty"},
    {"notify=3,,route=2", "empty"},
    {"=3", "empty key"},
    {"notify=", "empty value"},
    {"notify=12345678901234567890123456789", "[1, 1000]"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char err[512];
    at_config_t *cfg = s_load_captured (cases[i].spec, err, sizeof err);
    if (cfg != NULL)
      fail_msg ("'%s' was accepted", cases[i].spec);
    if (strstr (err, cases[i].says) == NULL || strstr (err, "ATENDE_STAGE_MAX_ATTEMPTS") == NULL)
      fail_msg ("'%s': error '%s' does not name the variable and say '%s'", cases[i].spec, err,
                cases[i].says);
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
