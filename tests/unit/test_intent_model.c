/* The intent model (lib/inbound/intent_model.c): the committed model
 * (lib/inbound/intents.model) classifies clear messages of the three
 * languages; bad text is `other` with a low confidence; a malformed model
 * file is refused with its reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "at_intent.h"

static at_intent_model_t *s_model;
static at_intent_text_t *s_text;

static int
s_setup (void **state)
{
  char why[256] = "";
  s_model = at_intent_model_load (AT_INTENT_MODEL_DEFAULT, why, sizeof why);
  if (!s_model)
    fprintf (stderr, "committed model %s: %s\n", AT_INTENT_MODEL_DEFAULT, why);
  s_text = at_intent_text_new ();
  return s_model ? 0 : -1;
}

static int
s_teardown (void **state)
{
  at_intent_model_destroy (&s_model);
  at_intent_text_destroy (&s_text);
  return 0;
}

typedef struct {
  const char *text;
  at_intent_t want, also;   /* also: a second right answer (or the same) */
} case_t;

static const case_t s_cases[] = {
  { "quero cancelar meu pedido", AT_INTENT_CANCEL, AT_INTENT_CANCEL },
  { "fui cobrado duas vezes no cartão", AT_INTENT_PAYMENT, AT_INTENT_PAYMENT },
  { "esse tênis tem no tamanho 42?", AT_INTENT_PRODUCT_QUESTION, AT_INTENT_PRODUCT_QUESTION },
  { "o produto chegou quebrado", AT_INTENT_RETURN_REFUND, AT_INTENT_COMPLAINT },
  { "cadê meu pedido? comprei faz 10 dias", AT_INTENT_ORDER_STATUS, AT_INTENT_ORDER_STATUS },
  { "quero devolver o produto e receber meu dinheiro", AT_INTENT_RETURN_REFUND,
    AT_INTENT_RETURN_REFUND },
  { "¿dónde está mi pedido?", AT_INTENT_ORDER_STATUS, AT_INTENT_ORDER_STATUS },
  { "quiero cancelar mi compra", AT_INTENT_CANCEL, AT_INTENT_CANCEL },
  { "me cobraron dos veces en la tarjeta", AT_INTENT_PAYMENT, AT_INTENT_PAYMENT },
  { "where is my order? it hasn't arrived", AT_INTENT_ORDER_STATUS, AT_INTENT_ORDER_STATUS },
  { "I want a refund for these shoes", AT_INTENT_RETURN_REFUND, AT_INTENT_RETURN_REFUND },
  { "please cancel my order", AT_INTENT_CANCEL, AT_INTENT_CANCEL },
  { "thanks a lot, have a nice day", AT_INTENT_OTHER, AT_INTENT_OTHER },
};

static void
test_clear_messages (void **state)
{
  int failures = 0;
  for (size_t i = 0; i < AT_ARRAY_LEN (s_cases); i++) {
    at_intent_result_t r;
    const char *t = s_cases[i].text;
    at_intent_classify (s_model, s_text, t, strlen (t), AT_LANG_OTHER, 0.3, &r);
    if (r.intent != s_cases[i].want && r.intent != s_cases[i].also) {
      fprintf (stderr, "\"%s\": %s (%.2f), want %s\n", t, at_intent_name (r.intent),
               r.confidence, at_intent_name (s_cases[i].want));
      failures++;
    }
    double sum = 0;
    for (int c = 0; c < AT_INTENT_CLASSES; c++)
      sum += r.probability[c];
    assert_true (sum > 0.999 && sum < 1.001 && r.confidence > 0 && r.confidence <= 1);
  }
  assert_int_equal (failures, 0);
}

/* The demo's finding: an order number's length changed the class ("pedido
 * 1234567 ... Pix" payment, with 8 digits order_status). Now the class and
 * the probabilities are the same for 5, 6, 7, 8 and 12 digits. */
static void
test_order_number_length (void **state)
{
  static const char *const numbers[] = {"12345", "123456", "1234567", "12345678", "123456789012"};
  static const case_t msgs[] = {
    { "Quero pagar o pedido # mas perdi o código do Pix", AT_INTENT_PAYMENT, AT_INTENT_PAYMENT },
    { "cadê meu pedido #? comprei faz 10 dias", AT_INTENT_ORDER_STATUS,
      AT_INTENT_ORDER_STATUS },
    { "quero cancelar o pedido #", AT_INTENT_CANCEL, AT_INTENT_CANCEL },
    { "where is my order #? it hasn't arrived", AT_INTENT_ORDER_STATUS,
      AT_INTENT_ORDER_STATUS },
    { "please cancel my order A-#", AT_INTENT_CANCEL, AT_INTENT_CANCEL },
    { "¿dónde está mi pedido #?", AT_INTENT_ORDER_STATUS, AT_INTENT_ORDER_STATUS },
    { "me cobraron dos veces el pedido #", AT_INTENT_PAYMENT, AT_INTENT_PAYMENT },
  };
  for (size_t m = 0; m < AT_ARRAY_LEN (msgs); m++) {
    const char *hole = strchr (msgs[m].text, '#');
    at_intent_result_t first = {0};
    for (size_t i = 0; i < AT_ARRAY_LEN (numbers); i++) {
      char text[256];
      int n = snprintf (text, sizeof text, "%.*s%s%s", (int) (hole - msgs[m].text),
                        msgs[m].text, numbers[i], hole + 1);
      assert_true (n > 0 && (size_t) n < sizeof text);
      at_intent_result_t r;
      at_intent_classify (s_model, s_text, text, (size_t) n, AT_LANG_OTHER, 0.3, &r);
      if (i == 0)
        first = r;
      if (r.intent != first.intent || r.confidence != first.confidence)
        fail_msg ("\"%s\": %s (%.3f), with %s instead %s (%.3f)", text,
                  at_intent_name (r.intent), r.confidence, numbers[0],
                  at_intent_name (first.intent), first.confidence);
      if (r.intent != msgs[m].want && r.intent != msgs[m].also)
        fail_msg ("\"%s\": %s (%.2f), want %s", text, at_intent_name (r.intent),
                  r.confidence, at_intent_name (msgs[m].want));
    }
  }
}

static void
test_bad_text_is_other (void **state)
{
  static const char *const bad[] = {"", "   ", "\xff\xfe\x00\x01", "onde est\xC3\x28"};
  static const size_t lens[] = {0, 3, 4, 10};
  for (size_t i = 0; i < AT_ARRAY_LEN (bad); i++) {
    at_intent_result_t r;
    at_intent_classify (s_model, s_text, bad[i], lens[i], AT_LANG_OTHER, 0.3, &r);
    assert_int_equal (r.intent, AT_INTENT_OTHER);
    assert_true (r.confidence < 0.3);
  }
  at_intent_result_t r;
  at_intent_classify (s_model, s_text, NULL, 0, AT_LANG_PT, 0.3, &r);
  assert_int_equal (r.intent, AT_INTENT_OTHER);
  /* below the threshold: other, the confidence kept */
  at_intent_classify (s_model, s_text, "pedido", 6, AT_LANG_PT, 1.01, &r);
  assert_int_equal (r.intent, AT_INTENT_OTHER);
  assert_true (r.confidence > 0);
  assert_string_equal (at_intent_name ((at_intent_t) 99), "other");
  at_intent_t parsed;
  assert_int_equal (at_intent_parse ("returns", &parsed), AT_INVALID);
  assert_int_equal (at_intent_parse ("return_refund", &parsed), AT_OK);
  assert_int_equal (parsed, AT_INTENT_RETURN_REFUND);
}

/* Writes bytes to a temporary file; returns its path (static). */
static const char *
s_file (const void *bytes, size_t len)
{
  static char path[64];
  snprintf (path, sizeof path, "/tmp/atende-intent-test-%ld.model", (long) getpid ());
  FILE *f = fopen (path, "wb");
  assert_non_null (f);
  assert_int_equal (fwrite (bytes, 1, len, f), len);
  fclose (f);
  return path;
}

static void
s_refused (const char *path, const char *reason)
{
  char why[256] = "";
  at_intent_model_t *m = at_intent_model_load (path, why, sizeof why);
  assert_null (m);
  if (!strstr (why, reason))
    fail_msg ("why \"%s\" does not say \"%s\"", why, reason);
}

static void
test_malformed_model_refused (void **state)
{
  float weights[(1u << AT_INTENT_BITS_MIN) * AT_INTENT_CLASSES] = {0};
  float bias[AT_INTENT_CLASSES] = {0.1f, 0, 0, 0, 0, 0, 0.5f};
  weights[3 * AT_INTENT_CLASSES + 2] = 1.5f;
  at_intent_model_spec_t spec = {.bits = AT_INTENT_BITS_MIN, .version = "test-1",
                                 .data_sum = "00ff", .weights = weights, .bias = bias};
  char path[64], why[256];
  snprintf (path, sizeof path, "/tmp/atende-intent-ok-%ld.model", (long) getpid ());
  assert_int_equal (at_intent_model_save (&spec, path, why, sizeof why), AT_OK);
  at_intent_model_t *m = at_intent_model_load (path, why, sizeof why);
  assert_non_null (m);
  assert_string_equal (at_intent_model_version (m), "test-1");
  assert_int_equal (at_intent_model_featurizer (m), AT_INTENT_FEATURIZER);
  at_intent_model_destroy (&m);
  /* a model of the older featurizer still loads, and says which it is */
  spec.featurizer = AT_INTENT_FEATURIZER_MIN;
  assert_int_equal (at_intent_model_save (&spec, path, why, sizeof why), AT_OK);
  m = at_intent_model_load (path, why, sizeof why);
  assert_non_null (m);
  assert_int_equal (at_intent_model_featurizer (m), AT_INTENT_FEATURIZER_MIN);
  at_intent_model_destroy (&m);
  spec.featurizer = AT_INTENT_FEATURIZER + 1;
  assert_int_equal (at_intent_model_save (&spec, path, why, sizeof why), AT_ERROR);
  spec.featurizer = 0;
  assert_int_equal (at_intent_model_save (&spec, path, why, sizeof why), AT_OK);
  FILE *f = fopen (path, "rb");
  static unsigned char good[1 << 16];
  size_t len = fread (good, 1, sizeof good, f);
  fclose (f);
  unlink (path);
  assert_true (len > 1024 && len < sizeof good);

  s_refused ("/nonexistent/intents.model", "cannot open");
  s_refused ("", "no path");
  s_refused (s_file ("hello", 5), "size");
  s_refused (s_file (good, len - 1), "bits");          /* truncated */
  unsigned char bad[1 << 16];
  memcpy (bad, good, len);
  bad[0] = 'X';
  s_refused (s_file (bad, len), "magic");
  memcpy (bad, good, len);
  bad[8] = 9;                                          /* format version */
  s_refused (s_file (bad, len), "format version");
  memcpy (bad, good, len);
  bad[len - 100] ^= 0x40;                              /* one weight flipped */
  s_refused (s_file (bad, len), "checksum");
  memcpy (bad, good, len);
  bad[12] = AT_INTENT_FEATURIZER + 1;                  /* featurizer version */
  s_refused (s_file (bad, len), "featurizer version");
  memcpy (bad, good, len);
  bad[24] = 'X';                                       /* first class name */
  s_refused (s_file (bad, len), "class 0");
  unlink (s_file ("", 0));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_clear_messages),
    cmocka_unit_test (test_order_number_length),
    cmocka_unit_test (test_bad_text_is_other),
    cmocka_unit_test (test_malformed_model_refused),
  };
  return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
