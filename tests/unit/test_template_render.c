/* Message templates: rendering (optional parts, dates the locale's way,
 * values not interpreted) and the check made before a template is saved. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "at_template.h"

#define SHIPPED_PT "Olá[, {first_name}]! O pedido {order_id} foi enviado.[ Previsão de entrega:" \
                   " {expected_date}.][ Acompanhe: {tracking_url}]"
#define SHIPPED_EN "Hi[ {first_name}]! Order {order_id} has shipped.[ Expected delivery:" \
                   " {expected_date}.][ Track it: {tracking_url}]"
#define DELAYED_EN "Hi[ {first_name}]! Order {order_id} is delayed[ (it was expected on" \
                   " {expected_date})], sorry.[ New expected delivery: {new_expected_date}.]"

static void
test_render_locales_and_dates (void **state)
{
  char out[512];
  at_template_vars_t v = {"Ana", "A-1001", "https://t.example/x", "2026-11-24", NULL, NULL};
  assert_int_equal (at_template_render (SHIPPED_PT, "pt-BR", &v, out, sizeof out), AT_OK);
  assert_string_equal (out, "Olá, Ana! O pedido A-1001 foi enviado. Previsão de entrega:"
                            " 24/11/2026. Acompanhe: https://t.example/x");
  assert_int_equal (at_template_render (SHIPPED_EN, "en", &v, out, sizeof out), AT_OK);
  assert_string_equal (out, "Hi Ana! Order A-1001 has shipped. Expected delivery:"
                            " November 24, 2026. Track it: https://t.example/x");
}

static void
test_render_new_estimate (void **state)
{
  char out[512];
  at_template_vars_t v = {"Ana", "A-7", NULL, "2026-11-24", "2026-12-02", NULL};
  assert_int_equal (at_template_render (DELAYED_EN, "en", &v, out, sizeof out), AT_OK);
  assert_string_equal (out, "Hi Ana! Order A-7 is delayed (it was expected on November 24,"
                            " 2026), sorry. New expected delivery: December 2, 2026.");
  v.new_expected_date = "";                       /* no estimate known: the part goes */
  assert_int_equal (at_template_render (DELAYED_EN, "en", &v, out, sizeof out), AT_OK);
  assert_string_equal (out, "Hi Ana! Order A-7 is delayed (it was expected on November 24,"
                            " 2026), sorry.");
}

static void
test_missing_values_drop_their_part (void **state)
{
  char out[512];
  at_template_vars_t v = {"", "A-1", NULL, "", NULL, NULL};
  assert_int_equal (at_template_render (SHIPPED_PT, "pt-BR", &v, out, sizeof out), AT_OK);
  assert_string_equal (out, "Olá! O pedido A-1 foi enviado.");
  v.expected_date = "2026-02-30";                 /* not a date: left out, not invented */
  assert_int_equal (at_template_render (SHIPPED_PT, "pt-BR", &v, out, sizeof out), AT_OK);
  assert_string_equal (out, "Olá! O pedido A-1 foi enviado.");
}

static void
test_values_are_not_interpreted (void **state)
{
  char out[512];
  at_template_vars_t v = {"[{order_id}]", "A-2", NULL, NULL, NULL, NULL};
  assert_int_equal (at_template_render ("Hi[ {first_name}]! Order {order_id}.", "en", &v, out,
                                        sizeof out), AT_OK);
  assert_string_equal (out, "Hi [{order_id}]! Order A-2.");
}

static void
test_too_long_is_refused (void **state)
{
  char out[20];
  at_template_vars_t v = {"Ana", "A-4", NULL, NULL, NULL, NULL};
  assert_int_equal (at_template_render (SHIPPED_EN, "en", &v, out, sizeof out), AT_INVALID);
  /* "Order A-4." is 10 bytes: it fits 11 (with the NUL), not 10 */
  assert_int_equal (at_template_render ("Order {order_id}.", "en", &v, out, 11), AT_OK);
  assert_string_equal (out, "Order A-4.");
  assert_int_equal (at_template_render ("Order {order_id}.", "en", &v, out, 10), AT_INVALID);
  assert_int_equal (at_template_render ("", "en", &v, out, 0), AT_INVALID);
}

static void
test_check_names_the_unknown_variable (void **state)
{
  char var[AT_TEMPLATE_VAR_MAX], reason[128];
  assert_int_equal (at_template_check (SHIPPED_PT, var, reason, sizeof reason), AT_OK);
  assert_int_equal (at_template_check (DELAYED_EN, var, reason, sizeof reason), AT_OK);
  assert_int_equal (at_template_check ("Hi {first_name}, {coupon_code} for {order_id}", var,
                                       reason, sizeof reason), AT_INVALID);
  assert_string_equal (var, "coupon_code");
  assert_int_equal (at_template_check ("Olá {Nome}", var, reason, sizeof reason), AT_INVALID);
  assert_string_equal (var, "Nome");
  assert_int_equal (at_template_check ("{}", var, reason, sizeof reason), AT_INVALID);
  assert_string_equal (var, "");
  /* a long name is cut to AT_TEMPLATE_VAR_MAX - 1 bytes, never inside a character */
  char body[AT_TEMPLATE_VAR_MAX + 8] = "{";
  memset (body + 1, 'a', AT_TEMPLATE_VAR_MAX - 2);
  memcpy (body + AT_TEMPLATE_VAR_MAX - 1, "\xc3\xa9}", 4);  /* é across the cut, and the NUL */
  assert_int_equal (at_template_check (body, var, reason, sizeof reason), AT_INVALID);
  assert_int_equal (strlen (var), AT_TEMPLATE_VAR_MAX - 2);
}

static void
test_check_structure (void **state)
{
  char var[AT_TEMPLATE_VAR_MAX], reason[128];
  const char *bad[] = {"", "Hi {first_name", "Hi [ {first_name}", "a ] b", "[[x]]",
                       "caf\xc3", NULL};
  for (int i = 0; bad[i]; i++) {
    assert_int_equal (at_template_check (bad[i], var, reason, sizeof reason), AT_INVALID);
    assert_string_equal (var, "");
    assert_true (reason[0] != 0);
  }
  char big[AT_TEMPLATE_BODY_MAX + 2];
  memset (big, 'a', sizeof big - 1);
  big[sizeof big - 1] = 0;
  assert_int_equal (at_template_check (big, var, reason, sizeof reason), AT_INVALID);
  assert_int_equal (at_template_check (NULL, var, reason, sizeof reason), AT_INVALID);
}

static void
test_dates (void **state)
{
  char out[48];
  assert_int_equal (at_template_date ("2026-01-05", "en", out, sizeof out), AT_OK);
  assert_string_equal (out, "January 5, 2026");
  assert_int_equal (at_template_date ("2026-11-24", "es", out, sizeof out), AT_OK);
  assert_string_equal (out, "24/11/2026");
  assert_int_equal (at_template_date ("2026-11-24", "pt-BR", out, sizeof out), AT_OK);
  assert_string_equal (out, "24/11/2026");
  assert_int_equal (at_template_date ("2028-02-29", "en", out, sizeof out), AT_OK);
  const char *bad[] = {"2027-02-29", "2026-13-05", "2026-1-05", "2026-01-05x", "",
                       "2026-+1-05", "1969-12-31", NULL};
  for (int i = 0; bad[i]; i++)
    assert_int_equal (at_template_date (bad[i], "en", out, sizeof out), AT_INVALID);
  assert_int_equal (at_template_date (NULL, "en", out, sizeof out), AT_INVALID);
}

static void
test_events_and_locales (void **state)
{
  assert_true (at_template_event_known ("delayed"));
  assert_true (at_template_event_known ("in_transit"));
  assert_false (at_template_event_known ("packed"));
  assert_false (at_template_event_known ("bogus"));
  assert_true (at_template_locale_known ("pt-BR"));
  assert_false (at_template_locale_known ("pt"));
  assert_false (at_template_locale_known (NULL));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_render_locales_and_dates),
    cmocka_unit_test (test_render_new_estimate),
    cmocka_unit_test (test_missing_values_drop_their_part),
    cmocka_unit_test (test_values_are_not_interpreted),
    cmocka_unit_test (test_too_long_is_refused),
    cmocka_unit_test (test_check_names_the_unknown_variable),
    cmocka_unit_test (test_check_structure),
    cmocka_unit_test (test_dates),
    cmocka_unit_test (test_events_and_locales),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
