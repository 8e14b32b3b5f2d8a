/* Self-service, the pure parts: the payment an order event may carry
 * (at_order_payment_check) and {return_days} in an answer's template. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include "at_order.h"
#include "at_template.h"
#include "route/selfservice.h"

#define S_BOLETO "23790.12345 60000.123456 78901.234567 8 12340000012345"
#define S_PIX "00020126580014br.gov.bcb.pix0136123e4567-e12d-34d5-a678-42661417400052040000"

static void
test_payment_check (void **state)
{
  (void) state;
  const char *field, *why;
  assert_int_equal (at_order_payment_check ("", "", &field, &why), AT_OK);
  assert_int_equal (at_order_payment_check (NULL, NULL, &field, &why), AT_OK);
  assert_int_equal (at_order_payment_check ("boleto", S_BOLETO, &field, &why), AT_OK);
  /* 48 digits: a utility bill */
  assert_int_equal (at_order_payment_check ("boleto", "83620000000566780048100018097565"
                                            "7313001589636081", &field, &why), AT_OK);
  assert_int_equal (at_order_payment_check ("pix", S_PIX, &field, &why), AT_OK);
  assert_int_equal (at_order_payment_check ("boleto", "1234", &field, &why), AT_INVALID);
  assert_string_equal (field, "payment_code");
  assert_int_equal (at_order_payment_check ("boleto", S_BOLETO "x", &field, &why), AT_INVALID);
  assert_int_equal (at_order_payment_check ("pix", "hello, pay me", &field, &why), AT_INVALID);
  assert_string_equal (field, "payment_code");
  assert_int_equal (at_order_payment_check ("pix", S_PIX "\n", &field, &why), AT_INVALID);
  assert_int_equal (at_order_payment_check ("card", S_PIX, &field, &why), AT_INVALID);
  assert_string_equal (field, "payment_method");
  assert_int_equal (at_order_payment_check ("", S_PIX, &field, &why), AT_INVALID);
  assert_string_equal (field, "payment_method");
  assert_int_equal (at_order_payment_check ("pix", "", &field, &why), AT_INVALID);
  assert_string_equal (field, "payment_code");
  char long_pix[AT_ORDER_PAYMENT_CODE_MAX + 8];
  memset (long_pix, 'A', sizeof long_pix - 1);
  memcpy (long_pix, "000201", 6);
  long_pix[sizeof long_pix - 1] = 0;
  assert_int_equal (at_order_payment_check ("pix", long_pix, &field, &why), AT_INVALID);
}

/* {return_days} is a placeholder of the renderer, and the answers' events
 * are templates the api lets a store edit. */
static void
test_return_days (void **state)
{
  (void) state;
  char out[128];
  at_template_vars_t v = {.order_id = "P-1", .return_days = "7"};
  assert_int_equal (at_template_render ("em até {return_days} dias, {order_id}[ ({first_name})]",
                                        "pt-BR", &v, out, sizeof out), AT_OK);
  assert_string_equal (out, "em até 7 dias, P-1");
  assert_int_equal (at_template_render ("{return_days} dias", "pt-BR", &v, out, 4), AT_INVALID);
  assert_true (at_template_event_known ("ss_return_opened"));
  assert_true (at_template_event_known ("ss_payment_pix"));
  assert_true (at_template_event_known ("shipped"));
  assert_false (at_template_event_known ("ss_nothing"));
  assert_false (at_template_event_known (NULL));
}

static void
test_locale (void **state)
{
  (void) state;
  assert_string_equal (wrk_route_selfservice_locale (AT_LANG_PT), "pt-BR");
  assert_string_equal (wrk_route_selfservice_locale (AT_LANG_EN), "en");
  assert_string_equal (wrk_route_selfservice_locale (AT_LANG_ES), "es");
  assert_string_equal (wrk_route_selfservice_locale (AT_LANG_OTHER), "pt-BR");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_payment_check),
    cmocka_unit_test (test_return_days),
    cmocka_unit_test (test_locale),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
