/* The core's one growable buffer (at_buf) and one list-setting parser
 * (at_list): caps, overflow, the three list kinds and their refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "at_buf.h"
#include "at_common.h"
#include "at_list.h"

static void
test_buf_grows_and_caps (void **state)
{
  (void) state;
  at_buf_t b;
  at_buf_init (&b, 100);
  for (int i = 0; i < 9; i++)
    at_buf_printf (&b, "%d-", i);
  assert_string_equal (b.data, "0-1-2-3-4-5-6-7-8-");
  assert_false (b.overflow);
  char big[200];
  memset (big, 'x', sizeof big);
  at_buf_put (&b, big, 90);          /* past the cap: dropped whole, overflow set */
  assert_true (b.overflow);
  assert_int_equal (b.len, 18);
  at_buf_puts (&b, "more");          /* nothing more after an overflow */
  assert_int_equal (b.len, 18);
  at_buf_reset (&b);
  at_buf_putc (&b, 'a');
  char *text = at_buf_take (&b);
  assert_string_equal (text, "a");
  assert_null (b.data);
  free (text);
  at_buf_free (&b);
}

static void
test_buf_fixed (void **state)
{
  (void) state;
  char mem[8];
  at_buf_t b;
  at_buf_fixed (&b, mem, sizeof mem);
  at_buf_puts (&b, "abcdefg");       /* 7 + NUL fits */
  assert_false (b.overflow);
  assert_string_equal (mem, "abcdefg");
  at_buf_putc (&b, 'h');
  assert_true (b.overflow);
  assert_string_equal (mem, "abcdefg");
  at_buf_t e;
  at_buf_init (&e, 0);
  char *empty = at_buf_take (&e);    /* nothing written: "" */
  assert_string_equal (empty, "");
  free (empty);
}

static void
test_list_kinds (void **state)
{
  (void) state;
  at_list_t l = {0};
  char why[128];
  assert_int_equal (at_list_parse (&l, " tcp://a:1 , tcp://b:2", AT_LIST_VALUES, why, sizeof why),
                    AT_OK);
  assert_int_equal (l.n, 2);
  assert_string_equal (l.items[1].value, "tcp://b:2");
  assert_true (at_list_has (&l, "tcp://a:1"));
  assert_string_equal (l.text, " tcp://a:1 , tcp://b:2");
  assert_int_equal (at_list_parse (&l, "sms=twilio+webhook2, *=webhook", AT_LIST_PAIRS, why,
                                   sizeof why), AT_OK);
  assert_string_equal (at_list_get (&l, "sms"), "twilio+webhook2");
  assert_string_equal (at_list_lookup (&l, "email"), "webhook");
  assert_null (at_list_get (&l, "email"));
  assert_int_equal (at_list_parse (&l, "s3cr3t==", AT_LIST_SECRETS, why, sizeof why), AT_OK);
  assert_string_equal (at_list_lookup (&l, "anyone"), "s3cr3t==");
  assert_int_equal (at_list_parse (&l, "AC1=t1,*=t2", AT_LIST_SECRETS, why, sizeof why), AT_OK);
  assert_string_equal (at_list_lookup (&l, "AC1"), "t1");
  assert_string_equal (at_list_lookup (&l, "AC9"), "t2");
  assert_int_equal (at_list_parse (&l, "", AT_LIST_PAIRS, why, sizeof why), AT_OK);
  assert_int_equal (l.n, 0);
  assert_null (at_list_lookup (&l, "x"));
  at_list_clear (&l);
}

static void
test_list_refusals (void **state)
{
  (void) state;
  static const struct { const char *text; at_list_kind_t kind; const char *says; } cases[] = {
    {"a,,b", AT_LIST_VALUES, "item 2 is empty"},
    {"a,b,", AT_LIST_VALUES, "item 3 is empty"},
    {"a=b", AT_LIST_VALUES, "plain values"},
    {"sms", AT_LIST_PAIRS, "item 1 ('sms') is not key=value"},
    {"sms=a,sms=b", AT_LIST_PAIRS, "repeats a key"},
    {"=a", AT_LIST_PAIRS, "empty key"},
    {"sms=", AT_LIST_PAIRS, "empty value"},
    {"AC1=topsecret,AC2", AT_LIST_SECRETS, "item 2 is not key=value"},
  };
  for (size_t i = 0; i < AT_ARRAY_LEN (cases); i++) {
    at_list_t l = {0};
    char why[128];
    assert_int_equal (at_list_parse (&l, cases[i].text, cases[i].kind, why, sizeof why),
                      AT_INVALID);
    if (strstr (why, cases[i].says) == NULL)
      fail_msg ("'%s': '%s' does not say '%s'", cases[i].text, why, cases[i].says);
    assert_null (strstr (why, "topsecret"));   /* a secret is never quoted */
    assert_int_equal (l.n, 0);                 /* nothing half parsed */
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_buf_grows_and_caps),
    cmocka_unit_test (test_buf_fixed),
    cmocka_unit_test (test_list_kinds),
    cmocka_unit_test (test_list_refusals),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
