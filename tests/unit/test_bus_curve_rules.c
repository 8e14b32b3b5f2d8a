/* The CURVE bus's rules without a socket: the settings that turn it on
 * (Z85 keys, the broker's list of admitted keys by role, a client's pair,
 * each refused at load naming its variable) and which commands each role
 * may send (broker/brk_access.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "at_common.h"
#include "at_config.h"
#include "brk_access.h"

static char s_pub[2][AT_CURVE_Z85_LEN + 1], s_sec[2][AT_CURVE_Z85_LEN + 1];

static int
s_setup (void **state)
{
  (void) state;
  for (int i = 0; i < 2; i++)
    if (zmq_curve_keypair (s_pub[i], s_sec[i]) != 0)
      return -1;
  return 0;
}

static const char *const s_vars[] = {"ATENDE_BUS_CURVE_SECRET", "ATENDE_BUS_CURVE_CLIENTS",
                                      "ATENDE_BUS_CURVE_SERVER_KEY",
                                      "ATENDE_BUS_CURVE_CLIENT_PUBLIC",
                                      "ATENDE_BUS_CURVE_CLIENT_SECRET"};

static void
s_clear (void)
{
  for (size_t i = 0; i < sizeof s_vars / sizeof s_vars[0]; i++)
    unsetenv (s_vars[i]);
}

/* Loads the settings from the environment; returns whether they loaded and
 * what went to stderr in `said`. */
static bool
s_load (char *said, size_t cap)
{
  fflush (stderr);
  FILE *capture = tmpfile ();
  int saved = dup (STDERR_FILENO);
  dup2 (fileno (capture), STDERR_FILENO);
  at_config_t *cfg = at_config_from_env ();
  fflush (stderr);
  dup2 (saved, STDERR_FILENO);
  close (saved);
  rewind (capture);
  size_t n = fread (said, 1, cap - 1, capture);
  said[n] = '\0';
  fclose (capture);
  bool ok = cfg != NULL;
  at_config_destroy (&cfg);
  s_clear ();
  return ok;
}

static void
test_z85_keys (void **state)
{
  (void) state;
  unsigned char key[AT_CURVE_KEY_BYTES], keys[4][AT_CURVE_KEY_BYTES];
  size_t n = 0;
  assert_int_equal (at_config_curve_key (s_pub[0], key), AT_OK);
  char shorter[AT_CURVE_Z85_LEN + 2];
  snprintf (shorter, sizeof shorter, "%.39s", s_pub[0]);
  assert_int_equal (at_config_curve_key (shorter, key), AT_INVALID);
  snprintf (shorter, sizeof shorter, "%sx", s_pub[0]);
  assert_int_equal (at_config_curve_key (shorter, key), AT_INVALID);
  char bad[AT_CURVE_Z85_LEN + 1];
  memcpy (bad, s_pub[0], sizeof bad);
  bad[7] = '"';   /* not a Z85 character */
  assert_int_equal (at_config_curve_key (bad, key), AT_INVALID);
  char two[2 * AT_CURVE_Z85_LEN + 2], three_bad[2 * AT_CURVE_Z85_LEN + 2];
  snprintf (two, sizeof two, "%s+%s", s_pub[0], s_pub[1]);
  assert_int_equal (at_config_curve_keys (two, keys, 4, &n), AT_OK);
  assert_int_equal (n, 2);
  assert_int_equal (at_config_curve_keys (two, keys, 1, &n), AT_INVALID);   /* over the cap */
  snprintf (three_bad, sizeof three_bad, "%s-%s", s_pub[0], s_pub[1]);
  assert_int_equal (at_config_curve_keys (three_bad, keys, 4, &n), AT_INVALID);
  snprintf (three_bad, sizeof three_bad, "%s+", s_pub[0]);
  assert_int_equal (at_config_curve_keys (three_bad, keys, 4, &n), AT_INVALID);
  assert_true (at_config_curve_role_valid ("worker:notify"));
  assert_true (at_config_curve_role_valid ("worker:*"));
  assert_false (at_config_curve_role_valid ("worker:billing"));
  assert_false (at_config_curve_role_valid ("admin"));
}

static void
test_settings (void **state)
{
  (void) state;
  char said[1024], list[256];
  s_clear ();
  assert_true (s_load (said, sizeof said));   /* off: the default */

  setenv ("ATENDE_BUS_CURVE_SECRET", s_sec[0], 1);
  assert_false (s_load (said, sizeof said));
  assert_non_null (strstr (said, "ATENDE_BUS_CURVE_CLIENTS"));

  setenv ("ATENDE_BUS_CURVE_SECRET", "not-a-key", 1);
  assert_false (s_load (said, sizeof said));
  assert_non_null (strstr (said, "ATENDE_BUS_CURVE_SECRET"));

  snprintf (list, sizeof list, "publisher=%s+%s,worker:notify=%s,worker:*=%s", s_pub[0],
            s_pub[1], s_pub[0], s_pub[1]);
  setenv ("ATENDE_BUS_CURVE_SECRET", s_sec[0], 1);
  setenv ("ATENDE_BUS_CURVE_CLIENTS", list, 1);
  assert_true (s_load (said, sizeof said));

  snprintf (list, sizeof list, "admin=%s", s_pub[0]);
  setenv ("ATENDE_BUS_CURVE_SECRET", s_sec[0], 1);
  setenv ("ATENDE_BUS_CURVE_CLIENTS", list, 1);
  assert_false (s_load (said, sizeof said));
  assert_non_null (strstr (said, "ATENDE_BUS_CURVE_CLIENTS"));

  snprintf (list, sizeof list, "publisher=%.39s", s_pub[0]);
  setenv ("ATENDE_BUS_CURVE_SECRET", s_sec[0], 1);
  setenv ("ATENDE_BUS_CURVE_CLIENTS", list, 1);
  assert_false (s_load (said, sizeof said));
  assert_non_null (strstr (said, "ATENDE_BUS_CURVE_CLIENTS"));
}

static void
test_client_pair (void **state)
{
  (void) state;
  char said[1024];
  setenv ("ATENDE_BUS_CURVE_SERVER_KEY", s_pub[0], 1);
  assert_false (s_load (said, sizeof said));
  assert_non_null (strstr (said, "ATENDE_BUS_CURVE_CLIENT_PUBLIC"));

  setenv ("ATENDE_BUS_CURVE_SERVER_KEY", s_pub[0], 1);
  setenv ("ATENDE_BUS_CURVE_CLIENT_PUBLIC", s_pub[1], 1);
  assert_false (s_load (said, sizeof said));
  assert_non_null (strstr (said, "ATENDE_BUS_CURVE_CLIENT_SECRET"));

  setenv ("ATENDE_BUS_CURVE_CLIENT_PUBLIC", s_pub[1], 1);
  setenv ("ATENDE_BUS_CURVE_CLIENT_SECRET", s_sec[1], 1);
  assert_false (s_load (said, sizeof said));   /* a pair without the server key */
  assert_non_null (strstr (said, "ATENDE_BUS_CURVE_SERVER_KEY"));

  setenv ("ATENDE_BUS_CURVE_SERVER_KEY", s_pub[0], 1);
  setenv ("ATENDE_BUS_CURVE_CLIENT_PUBLIC", s_pub[0], 1);   /* not the public of s_sec[1] */
  setenv ("ATENDE_BUS_CURVE_CLIENT_SECRET", s_sec[1], 1);
  assert_false (s_load (said, sizeof said));
  assert_non_null (strstr (said, "ATENDE_BUS_CURVE_CLIENT_PUBLIC"));

  setenv ("ATENDE_BUS_CURVE_SERVER_KEY", s_pub[0], 1);
  setenv ("ATENDE_BUS_CURVE_CLIENT_PUBLIC", s_pub[1], 1);
  setenv ("ATENDE_BUS_CURVE_CLIENT_SECRET", s_sec[1], 1);
  assert_true (s_load (said, sizeof said));
}

/* roles may send body (with Ready's stages) */
static bool
s_may (const char *roles, Atende__Bus__Command__BodyCase body, const char *stage1,
       const char *stage2)
{
  char *stages[2] = {(char *) stage1, (char *) stage2};
  Atende__Bus__Ready ready = ATENDE__BUS__READY__INIT;
  ready.stages = stages;
  ready.n_stages = stage2 ? 2 : stage1 ? 1 : 0;
  Atende__Bus__Publish publish = ATENDE__BUS__PUBLISH__INIT;
  Atende__Bus__Settle settle = ATENDE__BUS__SETTLE__INIT;
  Atende__Bus__Command cmd = ATENDE__BUS__COMMAND__INIT;
  cmd.body_case = body;
  if (body == ATENDE__BUS__COMMAND__BODY_READY)   /* the bodies share a union */
    cmd.ready = &ready;
  else if (body == ATENDE__BUS__COMMAND__BODY_PUBLISH)
    cmd.publish = &publish;
  else if (body == ATENDE__BUS__COMMAND__BODY_SETTLE)
    cmd.settle = &settle;
  char reason[200] = "";
  int rc = brk_access_check (roles, &cmd, reason, sizeof reason);
  if (rc != AT_OK)
    assert_non_null (strstr (reason, "forbidden"));
  return rc == AT_OK;
}

static void
test_roles (void **state)
{
  (void) state;
  const int pub = ATENDE__BUS__COMMAND__BODY_PUBLISH, ready = ATENDE__BUS__COMMAND__BODY_READY;
  const int settle = ATENDE__BUS__COMMAND__BODY_SETTLE, beat = ATENDE__BUS__COMMAND__BODY_HEARTBEAT;
  const int extend = ATENDE__BUS__COMMAND__BODY_EXTEND, bye = ATENDE__BUS__COMMAND__BODY_DISCONNECT;
  assert_true (s_may ("publisher", pub, NULL, NULL));
  assert_false (s_may ("publisher", ready, "ingest", NULL));
  assert_false (s_may ("publisher", settle, NULL, NULL));
  assert_false (s_may ("publisher", beat, NULL, NULL));
  assert_true (s_may ("worker:notify", ready, "notify", NULL));
  assert_false (s_may ("worker:notify", ready, "ingest", NULL));
  assert_false (s_may ("worker:notify", ready, "notify", "ingest"));
  assert_true (s_may ("worker:notify", ready, NULL, NULL));   /* no stage: brk_on_ready refuses it */
  assert_false (s_may ("publisher", ready, NULL, NULL));
  assert_false (s_may ("worker:notify", pub, NULL, NULL));
  assert_true (s_may ("worker:notify", settle, NULL, NULL));
  assert_true (s_may ("worker:notify", extend, NULL, NULL));
  assert_true (s_may ("worker:notify", beat, NULL, NULL));
  assert_true (s_may ("worker:notify", bye, NULL, NULL));
  assert_true (s_may ("worker:*", ready, "ingest", "survey"));
  assert_true (s_may ("publisher,worker:route", pub, NULL, NULL));
  assert_true (s_may ("publisher,worker:route", ready, "route", NULL));
  assert_false (s_may ("publisher,worker:route", ready, "notify", NULL));
  assert_false (s_may ("worker:notifyx", ready, "notify", NULL));
  assert_false (s_may ("", pub, NULL, NULL));
  assert_false (s_may (NULL, beat, NULL, NULL));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_z85_keys),
    cmocka_unit_test (test_settings),
    cmocka_unit_test (test_client_pair),
    cmocka_unit_test (test_roles),
  };
  return cmocka_run_group_tests (tests, s_setup, NULL);
}
