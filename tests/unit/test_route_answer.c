/* route: the automatic answer to "where is my order", as the customer reads it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "route/answer.h"

static at_ticket_order_t
s_order (const char *id, const char *status, const char *date, const char *url)
{
  at_ticket_order_t o;
  memset (&o, 0, sizeof o);
  at_strlcpy (o.id, id, sizeof o.id);
  at_strlcpy (o.status, status, sizeof o.status);
  at_strlcpy (o.expected_delivery, date, sizeof o.expected_delivery);
  at_strlcpy (o.tracking_url, url, sizeof o.tracking_url);
  return o;
}

static void
test_answer_portuguese (void **state)
{
  char out[WRK_ANSWER_MAX];
  at_ticket_order_t o = s_order ("PED-1234", "in_transit", "2026-11-24",
                                 "https://rastreio.example/BR123");
  assert_int_equal (wrk_route_answer_order (&o, AT_LANG_PT, out, sizeof out), AT_OK);
  assert_string_equal (out, "Olá! Seu pedido PED-1234 está a caminho. Previsão de entrega:"
                            " 24/11/2026. Acompanhe a entrega: https://rastreio.example/BR123");
  /* unknown language: Portuguese */
  char other[WRK_ANSWER_MAX];
  assert_int_equal (wrk_route_answer_order (&o, AT_LANG_OTHER, other, sizeof other), AT_OK);
  assert_string_equal (out, other);
}

static void
test_answer_english_and_spanish (void **state)
{
  char out[WRK_ANSWER_MAX];
  at_ticket_order_t o = s_order ("A-77", "shipped", "2026-12-03", "");
  assert_int_equal (wrk_route_answer_order (&o, AT_LANG_EN, out, sizeof out), AT_OK);
  assert_string_equal (out, "Hi! Your order A-77 has shipped. Expected delivery: December 3, 2026.");
  assert_int_equal (wrk_route_answer_order (&o, AT_LANG_ES, out, sizeof out), AT_OK);
  assert_string_equal (out, "¡Hola! Tu pedido A-77 fue enviado. Entrega prevista: 03/12/2026.");
}

static void
test_answer_delivered_has_no_date (void **state)
{
  char out[WRK_ANSWER_MAX];
  at_ticket_order_t o = s_order ("9", "delivered", "2026-11-20", "https://t.example/9");
  assert_int_equal (wrk_route_answer_order (&o, AT_LANG_PT, out, sizeof out), AT_OK);
  assert_string_equal (out, "Olá! Seu pedido 9 foi entregue.");
  /* a status the table does not know is quoted, not invented */
  o = s_order ("9", "lost_in_space", "", "");
  assert_int_equal (wrk_route_answer_order (&o, AT_LANG_EN, out, sizeof out), AT_OK);
  assert_string_equal (out, "Hi! Your order 9 has the status \"lost_in_space\".");
}

static void
test_answer_bad_fields (void **state)
{
  char out[WRK_ANSWER_MAX];
  /* a malformed date and a non-http link are left out */
  at_ticket_order_t o = s_order ("X1", "placed", "2026-02-30", "javascript:alert(1)");
  assert_int_equal (wrk_route_answer_order (&o, AT_LANG_PT, out, sizeof out), AT_OK);
  assert_string_equal (out, "Olá! Seu pedido X1 foi recebido.");
  /* too small a buffer is refused, not cut */
  char tiny[10];
  assert_int_equal (wrk_route_answer_order (&o, AT_LANG_PT, tiny, sizeof tiny), AT_INVALID);
}

static void
test_answer_dates (void **state)
{
  char out[40];
  assert_int_equal (wrk_route_answer_date ("2028-02-29", AT_LANG_PT, out, sizeof out), AT_OK);
  assert_string_equal (out, "29/02/2028");
  assert_int_equal (wrk_route_answer_date ("2026-01-05", AT_LANG_EN, out, sizeof out), AT_OK);
  assert_string_equal (out, "January 5, 2026");
  assert_int_equal (wrk_route_answer_date ("2027-02-29", AT_LANG_PT, out, sizeof out), AT_INVALID);
  assert_int_equal (wrk_route_answer_date ("2026-13-01", AT_LANG_PT, out, sizeof out), AT_INVALID);
  assert_int_equal (wrk_route_answer_date ("2026-1-011", AT_LANG_PT, out, sizeof out), AT_INVALID);
  assert_int_equal (wrk_route_answer_date ("", AT_LANG_PT, out, sizeof out), AT_INVALID);
  assert_int_equal (wrk_route_answer_date (NULL, AT_LANG_PT, out, sizeof out), AT_INVALID);
  assert_int_equal (wrk_route_answer_date ("2026-11-24", AT_LANG_EN, out, 5), AT_INVALID);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_answer_portuguese),
    cmocka_unit_test (test_answer_english_and_spanish),
    cmocka_unit_test (test_answer_delivered_has_no_date),
    cmocka_unit_test (test_answer_bad_fields),
    cmocka_unit_test (test_answer_dates),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
