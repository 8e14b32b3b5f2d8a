/* text: normalisation, tokens, language guess, excerpts and stems. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "at_text.h"

static void
s_expect_norm (const char *in, const char *want)
{
  char *out = at_text_normalize (in, strlen (in));
  assert_non_null (out);
  assert_string_equal (out, want);
  free (out);
}

static void
test_text_normalize (void **state)
{
  s_expect_norm ("Cadê MEU Pedido?", "cade meu pedido?");
  s_expect_norm ("Não RECEBI a devolução", "nao recebi a devolucao");
  s_expect_norm ("  ¿Dónde\t\testá   mi\r\npedido?  ", "¿donde esta mi pedido?");
  s_expect_norm ("Ｆｕｌｌｗｉｄｔｈ ﬁle", "fullwidth file");      /* compatibility forms */
  s_expect_norm ("", "");
  /* invalid UTF-8, embedded NUL and oversized text are refused */
  assert_null (at_text_normalize ("ab\xC3\x28", 4));
  assert_null (at_text_normalize ("ab\0cd", 5));
  char *big = calloc (1, AT_TEXT_MAX + 2);
  memset (big, 'a', AT_TEXT_MAX + 1);
  assert_null (at_text_normalize (big, AT_TEXT_MAX + 1));
  char *ok = at_text_normalize (big, AT_TEXT_MAX);
  assert_non_null (ok);
  assert_int_equal (strlen (ok), AT_TEXT_MAX);
  free (ok);
  free (big);
  assert_true (at_text_valid_utf8 ("ação", strlen ("ação")));
  assert_false (at_text_valid_utf8 ("\xFF", 1));
}

static void
test_text_tokenize (void **state)
{
  char tokens[8][AT_TOKEN_MAX];
  size_t n = at_text_tokenize ("where's my order #123-b? ok", tokens, 8);
  assert_int_equal (n, 7);
  assert_string_equal (tokens[0], "where");
  assert_string_equal (tokens[1], "s");
  assert_string_equal (tokens[3], "order");
  assert_string_equal (tokens[4], "123");
  assert_string_equal (tokens[6], "ok");
  /* capped count and capped length */
  n = at_text_tokenize ("a b c d e f g h i j k", tokens, 8);
  assert_int_equal (n, 8);
  char longword[200];
  memset (longword, 'x', sizeof longword - 1);
  longword[sizeof longword - 1] = '\0';
  n = at_text_tokenize (longword, tokens, 8);
  assert_int_equal (n, 1);
  assert_int_equal (strlen (tokens[0]), AT_TOKEN_MAX - 1);
  assert_int_equal (at_text_tokenize ("", tokens, 8), 0);
  assert_int_equal (at_text_tokenize (NULL, tokens, 8), 0);
}

static void
test_text_language (void **state)
{
  assert_int_equal (at_text_guess_language ("Olá, meu pedido ainda não chegou"), AT_LANG_PT);
  assert_int_equal (at_text_guess_language ("Voce pode me ajudar com a troca?"), AT_LANG_PT);
  assert_int_equal (at_text_guess_language ("Hi, where is my order? It has not arrived"),
                    AT_LANG_EN);
  assert_int_equal (at_text_guess_language ("Hola, mi pedido todavía no ha llegado"),
                    AT_LANG_ES);
  assert_int_equal (at_text_guess_language ("¿Dónde está mi paquete? Gracias"), AT_LANG_ES);
  assert_int_equal (at_text_guess_language ("12345"), AT_LANG_OTHER);
  assert_int_equal (at_text_guess_language (""), AT_LANG_OTHER);
  assert_int_equal (at_text_guess_language (NULL), AT_LANG_OTHER);
  assert_int_equal (at_text_guess_language ("\xFF\xFE"), AT_LANG_OTHER);
  assert_string_equal (at_lang_name (AT_LANG_PT), "pt");
  assert_string_equal (at_lang_name (AT_LANG_OTHER), "other");
  assert_int_equal (at_lang_parse ("pt-BR"), AT_LANG_PT);
  assert_int_equal (at_lang_parse ("EN"), AT_LANG_EN);
  assert_int_equal (at_lang_parse ("es_AR"), AT_LANG_ES);
  assert_int_equal (at_lang_parse ("pta"), AT_LANG_OTHER);
  assert_int_equal (at_lang_parse (""), AT_LANG_OTHER);
  assert_int_equal (at_lang_parse (NULL), AT_LANG_OTHER);
}

static void
test_text_excerpt (void **state)
{
  char out[32];
  at_text_excerpt ("  Cadê   meu\npedido?  ", 80, out, sizeof out);
  assert_string_equal (out, "Cadê meu pedido?");
  at_text_excerpt ("ãããããããããã", 4, out, sizeof out);
  assert_string_equal (out, "ãããã");
  /* the byte cap never cuts a character in two */
  at_text_excerpt ("ãããããããããããããããããããããããããããããã", 80, out, 8);
  assert_string_equal (out, "ããã");
  at_text_excerpt ("abc def", 4, out, sizeof out);
  assert_string_equal (out, "abc");
  at_text_excerpt (NULL, 4, out, sizeof out);
  assert_string_equal (out, "");
}

static void
test_text_safe_token (void **state)
{
  char out[8];
  assert_string_equal (at_text_safe_token ("email", out, sizeof out), "email");
  assert_string_equal (at_text_safe_token ("a\"b c\n", out, sizeof out), "a?b?c?");
  assert_string_equal (at_text_safe_token ("0123456789", out, sizeof out), "0123456");
  assert_string_equal (at_text_safe_token (NULL, out, sizeof out), "");
}

static void
test_text_stemmer (void **state)
{
  char out[AT_TOKEN_MAX];
  at_stemmer_t *pt = at_stemmer_new (AT_LANG_PT);
  at_stemmer_t *en = at_stemmer_new (AT_LANG_EN);
  at_stemmer_t *es = at_stemmer_new (AT_LANG_ES);
  assert_non_null (pt);
  assert_null (at_stemmer_new (AT_LANG_OTHER));
  char a[AT_TOKEN_MAX], b[AT_TOKEN_MAX];
  assert_string_equal (at_stemmer_stem (pt, "chegou", a, sizeof a),
                       at_stemmer_stem (pt, "chegar", b, sizeof b));
  assert_string_equal (at_stemmer_stem (en, "refunded", a, sizeof a),
                       at_stemmer_stem (en, "refunds", b, sizeof b));
  assert_string_equal (at_stemmer_stem (es, "llegado", a, sizeof a),
                       at_stemmer_stem (es, "llega", b, sizeof b));
  at_stemmer_stem (pt, "rastreamento", out, 4);
  assert_int_equal (strlen (out), 3);
  at_stemmer_destroy (&pt);
  at_stemmer_destroy (&en);
  at_stemmer_destroy (&es);
  assert_null (pt);
  at_stemmer_destroy (&pt);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_text_normalize),
    cmocka_unit_test (test_text_tokenize),
    cmocka_unit_test (test_text_language),
    cmocka_unit_test (test_text_excerpt),
    cmocka_unit_test (test_text_safe_token),
    cmocka_unit_test (test_text_stemmer),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
