/* Fuzz: the intent featurizer (at_intent_text_features) and the model on
 * any bytes, in each language and guessed. Whatever comes in: no more
 * features than the cap, slots inside the space, sorted and each once, the
 * vector of length 1 (or empty), and a classification whose probabilities
 * sum to 1 (no features: `other`). The first byte picks the language. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "at_intent.h"

#define S_BITS 12

static at_intent_model_t *
s_model (void)
{
  static at_intent_model_t *model;
  if (model)
    return model;
  static float weights[(1u << S_BITS) * AT_INTENT_CLASSES];
  static const float bias[AT_INTENT_CLASSES] = {0, 0, 0, 0, 0, 0, 0.5f};
  for (size_t i = 0; i < AT_ARRAY_LEN (weights); i++)
    weights[i] = (float) ((int) (i * 2654435761u % 200) - 100) / 50.0f;
  at_intent_model_spec_t spec = {.bits = S_BITS, .version = "fuzz", .data_sum = "0",
                                 .weights = weights, .bias = bias};
  char why[256];
  const char *path = "/tmp/atende-fuzz-intent.model";
  if (at_intent_model_save (&spec, path, why, sizeof why) != AT_OK)
    abort ();
  model = at_intent_model_load (path, why, sizeof why);
  if (!model)
    abort ();
  return model;
}

static void
s_check (const at_intent_feature_t *f, size_t n, size_t cap)
{
  double norm = 0;
  if (n > cap)
    abort ();
  for (size_t i = 0; i < n; i++) {
    if (f[i].slot >= (1u << S_BITS) || (i > 0 && f[i - 1].slot >= f[i].slot)
        || !isfinite (f[i].value))
      abort ();
    norm += (double) f[i].value * f[i].value;
  }
  if (n > 0 && fabs (norm - 1.0) > 1e-3)
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static at_intent_text_t *tx;
  static at_intent_feature_t f[AT_INTENT_FEATURES_MAX];
  if (!tx)
    tx = at_intent_text_new ();
  at_lang_t lang = size > 0 ? (at_lang_t) (data[0] % 4) : AT_LANG_OTHER;
  const char *text = size > 0 ? (const char *) data + 1 : "";
  size_t len = size > 0 ? size - 1 : 0;
  size_t cap = size > 1 ? 1 + data[1] % 64 : 1;
  s_check (f, at_intent_text_features (tx, text, len, lang, S_BITS, f, cap, NULL), cap);
  size_t n = at_intent_text_features (tx, text, len, lang, S_BITS, f, AT_INTENT_FEATURES_MAX,
                                      NULL);
  s_check (f, n, AT_INTENT_FEATURES_MAX);
  at_intent_result_t r;
  at_intent_model_predict (s_model (), f, n, &r);
  double sum = 0;
  for (int c = 0; c < AT_INTENT_CLASSES; c++)
    sum += r.probability[c];
  if (fabs (sum - 1.0) > 1e-6 || (n == 0 && r.intent != AT_INTENT_OTHER))
    abort ();
  char stems[512];
  at_intent_text_stems (tx, text, len, lang, stems, sizeof stems);
  if (strlen (stems) >= sizeof stems)
    abort ();
  return 0;
}
