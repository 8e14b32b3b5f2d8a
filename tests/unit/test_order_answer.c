/* route's answer to "where is my order?" for a delayed order: the new
 * estimate when a carrier gave one, else the promise to tell it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "route/answer.h"

static at_ticket_order_t
s_order (const char *status, const char *date)
{
  at_ticket_order_t o;
  memset (&o, 0, sizeof o);
  at_strlcpy (o.id, "PED-9", sizeof o.id);
  at_strlcpy (o.status, status, sizeof o.status);
  at_strlcpy (o.expected_delivery, date, sizeof o.expected_delivery);
  at_strlcpy (o.tracking_url, "https://rastreio.example/9", sizeof o.tracking_url);
  return o;
}

static void
test_delayed_without_estimate (void **state)
{
  char out[WRK_ANSWER_MAX];
  at_ticket_order_t o = s_order ("delayed", "");
  assert_int_equal (wrk_route_answer_order (&o, AT_LANG_PT, out, sizeof out), AT_OK);
  assert_string_equal (out, "Olá! Seu pedido PED-9 está atrasado, pedimos desculpas. Avisaremos"
                            " assim que tivermos a nova data de entrega. Acompanhe a entrega:"
                            " https://rastreio.example/9");
  assert_int_equal (wrk_route_answer_order (&o, AT_LANG_EN, out, sizeof out), AT_OK);
  assert_string_equal (out, "Hi! Your order PED-9 is delayed, we are sorry. We will let you know"
                            " the new delivery date as soon as we have it. Track it here:"
                            " https://rastreio.example/9");
}

static void
test_delayed_with_new_estimate (void **state)
{
  char out[WRK_ANSWER_MAX];
  at_ticket_order_t o = s_order ("delayed", "2026-12-02");
  assert_int_equal (wrk_route_answer_order (&o, AT_LANG_ES, out, sizeof out), AT_OK);
  assert_string_equal (out, "¡Hola! Tu pedido PED-9 está retrasado, te pedimos disculpas. Nueva"
                            " entrega prevista: 02/12/2026. Sigue tu envío:"
                            " https://rastreio.example/9");
  assert_int_equal (wrk_route_answer_order (&o, AT_LANG_EN, out, sizeof out), AT_OK);
  assert_non_null (strstr (out, "New expected delivery: December 2, 2026."));
}

static void
test_on_time_unchanged (void **state)
{
  char out[WRK_ANSWER_MAX];
  at_ticket_order_t o = s_order ("in_transit", "");
  assert_int_equal (wrk_route_answer_order (&o, AT_LANG_EN, out, sizeof out), AT_OK);
  assert_string_equal (out, "Hi! Your order PED-9 is in transit. Track it here:"
                            " https://rastreio.example/9");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_delayed_without_estimate),
    cmocka_unit_test (test_delayed_with_new_estimate),
    cmocka_unit_test (test_on_time_unchanged),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
