/* route: what a customer's message says to "did this solve it? (sim/não)". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "route/kb.h"

static void
test_yes (void **state)
{
  (void) state;
  const char *yes[] = {"sim", "Sim!", "s", "SIM, obrigada", "yes", "Yes thanks", "y", "sí",
                       "si", "resolveu", "Resolveu sim", "\xF0\x9F\x91\x8D",
                       " \xF0\x9F\x91\x8D\xF0\x9F\x91\x8D "};
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
    assert_int_equal (wrk_route_kb_reply_kind (yes[i]), WRK_KB_REPLY_YES);
}

static void
test_no (void **state)
{
  (void) state;
  const char *no[] = {"não", "Nao", "NÃO resolveu", "n", "no", "No.", "nope",
                      "\xF0\x9F\x91\x8E", "não ajudou nada"};
  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
    assert_int_equal (wrk_route_kb_reply_kind (no[i]), WRK_KB_REPLY_NO);
}

static void
test_other (void **state)
{
  (void) state;
  const char *other[] = {"", "qual o prazo de entrega?", "no meu pedido veio a cor errada, e agora",
                         "sim mas eu queria saber também do frete grátis",
                         "\xF0\x9F\x91\x8D\xF0\x9F\x91\x8E", "\xff\xfe", "talvez"};
  for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
    assert_int_equal (wrk_route_kb_reply_kind (other[i]), WRK_KB_REPLY_OTHER);
  assert_int_equal (wrk_route_kb_reply_kind (NULL), WRK_KB_REPLY_OTHER);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_yes),
    cmocka_unit_test (test_no),
    cmocka_unit_test (test_other),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
