/* at_net: address ranges and the client behind trusted proxies. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "at_net.h"
#include "at_common.h"

static void
test_cidr_parse (void **state)
{
  (void) state;
  at_cidr_t c;
  assert_int_equal (at_cidr_parse ("10.0.0.0/8", &c), AT_OK);
  assert_int_equal (c.bits, 8);
  assert_int_equal (at_cidr_parse ("192.168.1.7", &c), AT_OK);
  assert_int_equal (c.bits, 32);
  assert_int_equal (at_cidr_parse ("fd00::/8", &c), AT_OK);
  assert_int_equal (at_cidr_parse ("0.0.0.0/0", &c), AT_OK);
  /* host bits set, prefix out of range, not an address, mapped as a range */
  assert_int_equal (at_cidr_parse ("10.0.0.1/8", &c), AT_INVALID);
  assert_int_equal (at_cidr_parse ("10.0.0.0/33", &c), AT_INVALID);
  assert_int_equal (at_cidr_parse ("10.0.0.0/", &c), AT_INVALID);
  assert_int_equal (at_cidr_parse ("10.0.0.0/8x", &c), AT_INVALID);
  assert_int_equal (at_cidr_parse ("ingress", &c), AT_INVALID);
  assert_int_equal (at_cidr_parse ("", &c), AT_INVALID);
  assert_int_equal (at_cidr_parse ("::ffff:10.0.0.0/104", &c), AT_INVALID);
}

static void
test_cidr_match (void **state)
{
  (void) state;
  at_cidr_t r[2];
  assert_int_equal (at_cidr_parse ("10.0.0.0/8", &r[0]), AT_OK);
  assert_int_equal (at_cidr_parse ("2001:db8::/32", &r[1]), AT_OK);
  assert_true (at_cidr_match (r, 2, "10.200.3.4"));
  assert_true (at_cidr_match (r, 2, "::ffff:10.1.2.3"));   /* mapped counts as IPv4 */
  assert_true (at_cidr_match (r, 2, "2001:db8:1::5"));
  assert_false (at_cidr_match (r, 2, "11.0.0.1"));
  assert_false (at_cidr_match (r, 2, "2001:db9::1"));
  assert_false (at_cidr_match (r, 2, "not an address"));
  assert_false (at_cidr_match (r, 0, "10.0.0.1"));
}

static void
s_expect (const char *peer, const char *header, const char *want)
{
  at_cidr_t r[2];
  char out[AT_NET_ADDR_LEN];
  assert_int_equal (at_cidr_parse ("10.0.0.0/8", &r[0]), AT_OK);
  assert_int_equal (at_cidr_parse ("2001:db8::/32", &r[1]), AT_OK);
  at_net_client (peer, header, r, 2, out, sizeof out);
  assert_string_equal (out, want);
}

static void
test_client (void **state)
{
  (void) state;
  /* no proxy in front, or an untrusted one: the header is not believed */
  s_expect ("203.0.113.9", "1.2.3.4", "203.0.113.9");
  s_expect ("10.0.0.5", NULL, "10.0.0.5");
  /* through the ingress: the hop it appended */
  s_expect ("10.0.0.5", "198.51.100.7", "198.51.100.7");
  /* a client who writes its own header gets no say: read from the right */
  s_expect ("10.0.0.5", "1.1.1.1, 198.51.100.7", "198.51.100.7");
  /* two trusted hops (load balancer, then ingress) */
  s_expect ("10.0.0.5", "198.51.100.7,10.3.3.3", "198.51.100.7");
  s_expect ("10.0.0.5", " 2001:db9::9 ,\t2001:db8::8", "2001:db9::9");
  s_expect ("10.0.0.5", "::ffff:198.51.100.2", "198.51.100.2");
  /* malformed where we look: the last trusted hop stands */
  s_expect ("10.0.0.5", "198.51.100.7, garbage", "10.0.0.5");
  s_expect ("10.0.0.5", "garbage, 10.9.9.9", "10.9.9.9");
  s_expect ("10.0.0.5", "", "10.0.0.5");
  s_expect ("10.0.0.5", ",", "10.0.0.5");
  s_expect ("::ffff:10.0.0.5", "198.51.100.7", "198.51.100.7");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_cidr_parse),
    cmocka_unit_test (test_cidr_match),
    cmocka_unit_test (test_client),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
