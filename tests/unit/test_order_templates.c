/* Order-status templates: per locale, optional parts, dates the locale's way. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "notify/templates.h"

static void
test_shipped_all_locales (void **state)
{
  char out[WRK_NOTIFY_TEXT_MAX];
  wrk_notify_vars_t v = {"Ana", "A-1001", "2026-11-24", "https://t.example/x"};
  assert_int_equal (wrk_notify_render ("shipped", "pt-BR", &v, out, sizeof out), AT_OK);
  assert_string_equal (out, "Olá, Ana! O pedido A-1001 foi enviado. Previsão de entrega:"
                            " 24/11/2026. Acompanhe: https://t.example/x");
  assert_int_equal (wrk_notify_render ("shipped", "en", &v, out, sizeof out), AT_OK);
  assert_string_equal (out, "Hi Ana! Order A-1001 has shipped. Expected delivery:"
                            " November 24, 2026. Track it: https://t.example/x");
  assert_int_equal (wrk_notify_render ("shipped", "es", &v, out, sizeof out), AT_OK);
  assert_non_null (strstr (out, "Entrega prevista: 24/11/2026."));
}

static void
test_missing_values_drop_their_part (void **state)
{
  char out[WRK_NOTIFY_TEXT_MAX];
  wrk_notify_vars_t v = {"", "A-1", "", NULL};
  assert_int_equal (wrk_notify_render ("in_transit", "pt-BR", &v, out, sizeof out), AT_OK);
  assert_string_equal (out, "Olá! O pedido A-1 está a caminho.");
}

static void
test_values_are_not_interpreted (void **state)
{
  char out[WRK_NOTIFY_TEXT_MAX];
  wrk_notify_vars_t v = {"[{order_id}]", "A-2", NULL, NULL};
  assert_int_equal (wrk_notify_render ("delivered", "en", &v, out, sizeof out), AT_OK);
  assert_string_equal (out, "Hi [{order_id}]! Order A-2 has been delivered. Enjoy!");
}

static void
test_packed_has_no_message (void **state)
{
  char out[64];
  wrk_notify_vars_t v = {"Ana", "A-3", NULL, NULL};
  assert_int_equal (wrk_notify_render ("packed", "pt-BR", &v, out, sizeof out), AT_NOTFOUND);
  assert_int_equal (wrk_notify_render ("bogus", "pt-BR", &v, out, sizeof out), AT_NOTFOUND);
}

static void
test_too_long_is_refused (void **state)
{
  char out[20];
  wrk_notify_vars_t v = {"Ana", "A-4", NULL, NULL};
  assert_int_equal (wrk_notify_render ("placed", "en", &v, out, sizeof out), AT_INVALID);
}

static void
test_dates (void **state)
{
  char out[48];
  assert_int_equal (wrk_notify_date ("2026-01-05", "en", out, sizeof out), AT_OK);
  assert_string_equal (out, "January 5, 2026");
  assert_int_equal (wrk_notify_date ("2026-01-05", "es", out, sizeof out), AT_OK);
  assert_string_equal (out, "05/01/2026");
  assert_int_equal (wrk_notify_date ("2026-13-05", "en", out, sizeof out), AT_INVALID);
  assert_int_equal (wrk_notify_date ("2026-1-05", "en", out, sizeof out), AT_INVALID);
  assert_int_equal (wrk_notify_date ("2026-01-05x", "en", out, sizeof out), AT_INVALID);
  assert_int_equal (wrk_notify_date ("", "en", out, sizeof out), AT_INVALID);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_shipped_all_locales),
    cmocka_unit_test (test_missing_values_drop_their_part),
    cmocka_unit_test (test_values_are_not_interpreted),
    cmocka_unit_test (test_packed_has_no_message),
    cmocka_unit_test (test_too_long_is_refused),
    cmocka_unit_test (test_dates),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
