/* The intent featurizer (lib/inbound/intent_text.c): folding, stems per
 * language, stable hashed n-grams, bounded work, bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at_intent.h"

#define BITS 18

static at_intent_feature_t s_a[AT_INTENT_FEATURES_MAX], s_b[AT_INTENT_FEATURES_MAX];

static size_t
s_features (at_intent_text_t *tx, const char *text, at_lang_t lang, at_intent_feature_t *out)
{
  return at_intent_text_features (tx, text, text ? strlen (text) : 0, lang, BITS, out,
                                  AT_INTENT_FEATURES_MAX, NULL);
}

static void
s_stems_are (at_intent_text_t *tx, const char *text, at_lang_t lang, const char *want)
{
  char got[256];
  at_intent_text_stems (tx, text, strlen (text), lang, got, sizeof got);
  if (strcmp (got, want) != 0)
    fail_msg ("\"%s\" -> \"%s\", want \"%s\"", text, got, want);
}

static void
test_folding (void **state)
{
  at_intent_text_t *tx = at_intent_text_new ();
  /* case, accents, compatibility forms (NFKC: the ligature, full-width) */
  char plain[256];
  at_intent_text_stems (tx, "cade acao", 9, AT_LANG_PT, plain, sizeof plain);
  s_stems_are (tx, "CADÊ Ação", AT_LANG_PT, plain);
  s_stems_are (tx, "ﬁm ＡＢＣ", AT_LANG_EN, "fim abc");
  s_stems_are (tx, "Straße", AT_LANG_EN, "strass");
  s_stems_are (tx, "pedido nº 48213", AT_LANG_PT, "ped no 0");
  /* the same words with and without accents and capitals: same features */
  size_t na = s_features (tx, "Não recebi a devolução", AT_LANG_PT, s_a);
  size_t nb = s_features (tx, "nao RECEBI a devolucao", AT_LANG_PT, s_b);
  assert_true (na > 0);
  assert_int_equal (na, nb);
  assert_memory_equal (s_a, s_b, na * sizeof s_a[0]);
  at_intent_text_destroy (&tx);
}

static void
test_stems_per_language (void **state)
{
  at_intent_text_t *tx = at_intent_text_new ();
  s_stems_are (tx, "pedidos cancelados", AT_LANG_PT, "ped cancel");
  s_stems_are (tx, "cancelled orders", AT_LANG_EN, "cancel order");
  s_stems_are (tx, "devoluciones pedidas", AT_LANG_ES, "devolu ped");
  /* unknown language: guessed from the text */
  at_lang_t used = AT_LANG_OTHER;
  const char *es = "¿dónde está mi pedido?";
  at_intent_text_features (tx, es, strlen (es), AT_LANG_OTHER, BITS, s_a,
                           AT_INTENT_FEATURES_MAX, &used);
  assert_int_equal (used, AT_LANG_ES);
  at_intent_text_destroy (&tx);
}

static void
test_ngrams_stable (void **state)
{
  at_intent_text_t *tx = at_intent_text_new ();
  size_t n = s_features (tx, "quero cancelar meu pedido", AT_LANG_PT, s_a);
  /* 4 words, 3 bigrams, character 3-5-grams of "<quero>" etc.: at most 4 + 3 + 3 * (5+2) * 4 */
  assert_true (n > 20 && n <= 4 + 3 + 3 * 13 * 4);
  double norm = 0;
  for (size_t i = 0; i < n; i++) {
    assert_true (s_a[i].slot < (1u << BITS));
    assert_true (i == 0 || s_a[i - 1].slot < s_a[i].slot);   /* sorted, each once */
    norm += (double) s_a[i].value * s_a[i].value;
  }
  assert_true (norm > 0.999 && norm < 1.001);
  /* the same text in another state: the same features (hashing has no seed) */
  at_intent_text_t *other = at_intent_text_new ();
  assert_int_equal (s_features (other, "quero cancelar meu pedido", AT_LANG_PT, s_b), n);
  assert_memory_equal (s_a, s_b, n * sizeof s_a[0]);
  /* fewer bits: every slot below the smaller space */
  size_t m = at_intent_text_features (tx, "quero cancelar", 14, AT_LANG_PT, 12, s_b,
                                      AT_INTENT_FEATURES_MAX, NULL);
  for (size_t i = 0; i < m; i++)
    assert_true (s_b[i].slot < (1u << 12));
  at_intent_text_destroy (&other);
  at_intent_text_destroy (&tx);
}

static void
test_bounded_work (void **state)
{
  at_intent_text_t *tx = at_intent_text_new ();
  size_t len = 1024 * 1024;
  char *big = malloc (len + 1);
  for (size_t i = 0; i < len; i++)
    big[i] = "onde está o meu pedido "[i % 24];   /* 'á' is two bytes: cuts land mid-character */
  big[len] = '\0';
  size_t n = at_intent_text_features (tx, big, len, AT_LANG_PT, BITS, s_a,
                                      AT_INTENT_FEATURES_MAX, NULL);
  assert_true (n > 0 && n <= AT_INTENT_FEATURES_MAX);
  /* only the first AT_INTENT_TEXT_MAX bytes count */
  size_t m = at_intent_text_features (tx, big, AT_INTENT_TEXT_MAX + 1, AT_LANG_PT, BITS, s_b,
                                      AT_INTENT_FEATURES_MAX, NULL);
  assert_int_equal (n, m);
  assert_memory_equal (s_a, s_b, n * sizeof s_a[0]);
  /* a small cap is respected */
  assert_true (at_intent_text_features (tx, big, len, AT_LANG_PT, BITS, s_a, 7, NULL) <= 7);
  free (big);
  at_intent_text_destroy (&tx);
}

/* prefix + number + suffix into out. */
static const char *
s_with_number (char *out, size_t cap, const char *prefix, const char *number, const char *suffix)
{
  int n = snprintf (out, cap, "%s%s%s", prefix, number, suffix);
  assert_true (n > 0 && (size_t) n < cap);
  return out;
}

/* A customer's order number must not decide the intent: every number is one
 * "0" whatever its length, so the features of a message are the same with an
 * order number of 5, 6, 7, 8 or 12 digits. */
static void
test_number_length_ignored (void **state)
{
  static const char *const numbers[] = {"48213", "482137", "4821370", "48213705", "482137059931"};
  static const struct {
    const char *prefix, *suffix;
    at_lang_t lang;
  } msgs[] = {
    {"Quero pagar o pedido ", " mas perdi o código do Pix", AT_LANG_PT},
    {"cadê meu pedido #", "? comprei faz 10 dias", AT_LANG_PT},
    {"where is my order ", "? it hasn't arrived", AT_LANG_EN},
    {"please cancel order A-", ", I ordered twice", AT_LANG_EN},
    {"¿dónde está mi pedido nº ", "?", AT_LANG_ES},
    {"quiero devolver el pedido ", "x, llegó roto", AT_LANG_ES},
  };
  at_intent_text_t *tx = at_intent_text_new ();
  char text[256];
  for (size_t m = 0; m < sizeof msgs / sizeof msgs[0]; m++)
    for (int guess = 0; guess < 2; guess++) {
      at_lang_t lang = guess ? AT_LANG_OTHER : msgs[m].lang;
      size_t na = s_features (tx, s_with_number (text, sizeof text, msgs[m].prefix, numbers[0],
                                                 msgs[m].suffix), lang, s_a);
      assert_true (na > 0);
      for (size_t i = 1; i < sizeof numbers / sizeof numbers[0]; i++) {
        size_t nb = s_features (tx, s_with_number (text, sizeof text, msgs[m].prefix,
                                                   numbers[i], msgs[m].suffix), lang, s_b);
        if (nb != na || memcmp (s_a, s_b, na * sizeof s_a[0]) != 0)
          fail_msg ("\"%s\": features differ from those with %s", text, numbers[0]);
      }
    }
  /* separators inside a number, letters around one */
  s_stems_are (tx, "R$ 1.234,56 em 12/05/2025 às 14:30", AT_LANG_PT, "r 0 em 0 as 0");
  s_stems_are (tx, "tamanho 42cm, cód. A-1234, rastreio BR123456789BR", AT_LANG_PT,
               "tamanh 0cm cod a 0 rastrei br0br");
  s_stems_are (tx, "order 123 - 456, 7.", AT_LANG_EN, "order 0 0 0");
  at_intent_text_destroy (&tx);
}

static void
test_bad_input (void **state)
{
  at_intent_text_t *tx = at_intent_text_new ();
  static const char invalid[] = "onde est\xC3\x28 meu pedido \xFF";
  static const char with_nul[] = "cancelar\0pedido";
  static const unsigned char binary[] = {0x00, 0x01, 0x02, 0xfe, 0xff, 0x80, 0x7f};
  assert_int_equal (s_features (tx, NULL, AT_LANG_PT, s_a), 0);
  assert_int_equal (s_features (tx, "", AT_LANG_PT, s_a), 0);
  assert_int_equal (s_features (tx, " \t\n ?!... ", AT_LANG_PT, s_a), 0);
  assert_int_equal (s_features (tx, invalid, AT_LANG_PT, s_a), 0);
  assert_int_equal (at_intent_text_features (tx, with_nul, sizeof with_nul - 1, AT_LANG_PT, BITS,
                                             s_a, AT_INTENT_FEATURES_MAX, NULL), 0);
  assert_int_equal (at_intent_text_features (tx, (const char *) binary, sizeof binary,
                                             AT_LANG_OTHER, BITS, s_a, AT_INTENT_FEATURES_MAX,
                                             NULL), 0);
  /* out-of-range bits: nothing */
  assert_int_equal (at_intent_text_features (tx, "oi", 2, AT_LANG_PT, 40, s_a,
                                             AT_INTENT_FEATURES_MAX, NULL), 0);
  /* mixed languages and scripts: features, no crash */
  assert_true (s_features (tx, "quiero cancel my pedido 注文 🙂 заказ", AT_LANG_OTHER, s_a) > 0);
  at_intent_text_destroy (&tx);
  at_intent_text_destroy (&tx);   /* safe on NULL */
}

/* Featurizer 3 adds a mark for a question ("?" or "¿") and one for the
 * length in words; featurizer 2 (a committed model's) is still computed as it
 * was, and a version outside AT_INTENT_FEATURIZER_MIN..AT_INTENT_FEATURIZER
 * gives no features. */
static void
test_featurizer_versions (void **state)
{
  at_intent_text_t *tx = at_intent_text_new ();
  static const char *const q = "aceitam pix?", *const plain = "aceitam pix";
  size_t n2q = at_intent_text_featurize (tx, 2, q, strlen (q), AT_LANG_PT, BITS, s_a,
                                         AT_INTENT_FEATURES_MAX, NULL);
  size_t n2 = at_intent_text_featurize (tx, 2, plain, strlen (plain), AT_LANG_PT, BITS, s_b,
                                        AT_INTENT_FEATURES_MAX, NULL);
  assert_true (n2 > 0);
  assert_int_equal (n2q, n2);                      /* 2: punctuation is not a feature */
  assert_memory_equal (s_a, s_b, n2 * sizeof s_a[0]);
  size_t n3q = at_intent_text_featurize (tx, 3, q, strlen (q), AT_LANG_PT, BITS, s_a,
                                         AT_INTENT_FEATURES_MAX, NULL);
  size_t n3 = at_intent_text_featurize (tx, 3, plain, strlen (plain), AT_LANG_PT, BITS, s_b,
                                        AT_INTENT_FEATURES_MAX, NULL);
  assert_true (n3 == n2 + 1 || n3 == n2);          /* the length band (a slot may be shared) */
  assert_true (n3q != n3 || memcmp (s_a, s_b, n3 * sizeof s_a[0]) != 0);   /* the "?" mark */
  /* the Spanish opening mark counts as a question too */
  static const char *const es = "¿aceptan tarjeta", *const es_plain = "aceptan tarjeta";
  size_t ne = at_intent_text_featurize (tx, 3, es, strlen (es), AT_LANG_ES, BITS, s_a,
                                        AT_INTENT_FEATURES_MAX, NULL);
  size_t nep = at_intent_text_featurize (tx, 3, es_plain, strlen (es_plain), AT_LANG_ES, BITS,
                                         s_b, AT_INTENT_FEATURES_MAX, NULL);
  assert_true (ne > 0 && (ne != nep || memcmp (s_a, s_b, ne * sizeof s_a[0]) != 0));
  /* at_intent_text_features is the newest featurizer */
  assert_int_equal (s_features (tx, q, AT_LANG_PT, s_b), n3q);
  /* a lone "?" is still nothing; unknown versions: nothing */
  assert_int_equal (at_intent_text_featurize (tx, 3, " ? ", 3, AT_LANG_PT, BITS, s_a,
                                              AT_INTENT_FEATURES_MAX, NULL), 0);
  assert_int_equal (at_intent_text_featurize (tx, AT_INTENT_FEATURIZER_MIN - 1, q, strlen (q),
                                              AT_LANG_PT, BITS, s_a, AT_INTENT_FEATURES_MAX,
                                              NULL), 0);
  assert_int_equal (at_intent_text_featurize (tx, AT_INTENT_FEATURIZER + 1, q, strlen (q),
                                              AT_LANG_PT, BITS, s_a, AT_INTENT_FEATURES_MAX,
                                              NULL), 0);
  at_intent_text_destroy (&tx);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_folding),
    cmocka_unit_test (test_stems_per_language),
    cmocka_unit_test (test_ngrams_stable),
    cmocka_unit_test (test_bounded_work),
    cmocka_unit_test (test_number_length_ignored),
    cmocka_unit_test (test_bad_input),
    cmocka_unit_test (test_featurizer_versions),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
