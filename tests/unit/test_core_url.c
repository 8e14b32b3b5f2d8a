/* The core's URL check (at_url, libcurl's URL parser): what counts as an
 * http(s) URL a customer may be sent to, and the tracking link that the
 * route stage's answer includes only when it is one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "at_url.h"
#include "route/answer.h"

static void
test_url_is_web (void **state)
{
  (void) state;
  const char *good[] = {
    "https://rastreio.example/BR123", "http://t.example", "https://t.example:8443/a?b=c#d",
    "HTTPS://T.EXAMPLE/x", "https://[2001:db8::1]/p", "http://127.0.0.1:8080/x",
    "https://user@t.example/", "https://xn--rastreamento-9za.example/x",
  };
  const char *bad[] = {
    "", "ftp://t.example/x", "javascript:alert(1)", "t.example/x", "//t.example/x",
    "http://", "https://t.example:99999/", "https://t.ex ample/",
    "https://t.example/a b", "https://t.example/\r\nX: y", "mailto:a@t.example",
    "file:///etc/passwd", "https:t.example", " https://t.example",
  };
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    if (!at_url_is_web (good[i]))
      fail_msg ("refused: %s", good[i]);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (at_url_is_web (bad[i]))
      fail_msg ("accepted: %s", bad[i]);
  assert_false (at_url_is_web (NULL));
}

static void
test_answer_link_only_when_web (void **state)
{
  (void) state;
  at_ticket_order_t o;
  memset (&o, 0, sizeof o);
  at_strlcpy (o.id, "A-1", sizeof o.id);
  at_strlcpy (o.status, "in_transit", sizeof o.status);
  char out[WRK_ANSWER_MAX];
  at_strlcpy (o.tracking_url, "https://t.example/A-1", sizeof o.tracking_url);
  assert_int_equal (wrk_route_answer_order (&o, AT_LANG_EN, out, sizeof out), AT_OK);
  assert_non_null (strstr (out, "https://t.example/A-1"));
  at_strlcpy (o.tracking_url, "http://", sizeof o.tracking_url);   /* a prefix, no host */
  assert_int_equal (wrk_route_answer_order (&o, AT_LANG_EN, out, sizeof out), AT_OK);
  assert_null (strstr (out, "http"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_url_is_web),
    cmocka_unit_test (test_answer_link_only_when_web),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
