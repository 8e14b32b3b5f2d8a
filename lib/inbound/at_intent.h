/* at_intent: what a customer's message is about, by a linear model.
 *
 *   featurizer  (intent_text.c) the first AT_INTENT_TEXT_MAX bytes of UTF-8
 *               text, NFKD + case folded + combining marks dropped (accent
 *               folding), every number one "0" whatever its length (digits
 *               with single separators between them: "1.234,56", "12/05";
 *               letters around it kept: "42cm" is "0cm"), split into words, each word Snowball-stemmed in the
 *               message's language (pt, en, es; guessed when unknown); the
 *               features are word unigrams and bigrams of the stems and
 *               character 3- to 5-grams of each word with its boundaries
 *               ("<pedido>"), hashed (FNV-1a 64) into 2^bits slots with a
 *               sign from the hash, merged and L2-normalised.
 *   model       (intent_model.c) multinomial logistic regression (softmax)
 *               over those features: one weight per slot and class, stored
 *               as int8 with a scale per class, one bias per class. A
 *               versioned binary file, written by tools/intents.
 *
 * Training (tools/intents) and serving (route) call the same featurizer, so
 * they never drift. Any input is safe: empty, binary or invalid UTF-8 text
 * has no features, and a model gives it `other` with a low confidence. */
#ifndef AT_INTENT_H
#define AT_INTENT_H

#include <stdint.h>

#include "at_common.h"
#include "at_text.h"

/* The classes, in the model file's order. */
typedef enum {
  AT_INTENT_ORDER_STATUS = 0,
  AT_INTENT_RETURN_REFUND,
  AT_INTENT_CANCEL,
  AT_INTENT_PAYMENT,
  AT_INTENT_PRODUCT_QUESTION,
  AT_INTENT_COMPLAINT,
  AT_INTENT_OTHER,
} at_intent_t;
#define AT_INTENT_CLASSES 7

/* "order_status" "return_refund" "cancel" "payment" "product_question"
 * "complaint" "other". */
const char *at_intent_name (at_intent_t intent);
/* The class of a name; AT_INVALID when it is none of them. */
int at_intent_parse (const char *name, at_intent_t *out);

/* ---- featurizer ---- */

#define AT_INTENT_TEXT_MAX 4096        /* bytes of a message looked at */
#define AT_INTENT_FEATURES_MAX 16384   /* features of one message, at most */
#define AT_INTENT_BITS_MIN 10
#define AT_INTENT_BITS_MAX 24
#define AT_INTENT_FEATURIZER 3         /* version: a model records the one it was trained with;
                                          2: a number is one "0" (1: one "0" per digit);
                                          3: and a feature for a "?" or "¿" and one for the
                                          length (1-3, 4-7, 8-15, 16+ words) */
#define AT_INTENT_FEATURIZER_MIN 2     /* the oldest one this build still computes */

typedef struct {
  uint32_t slot;     /* < 2^bits */
  float value;       /* signed, the vector has length 1 */
} at_intent_feature_t;

/* Stemmers for the three languages (one per thread: not shareable). */
typedef struct at_intent_text at_intent_text_t;
at_intent_text_t *at_intent_text_new (void);
void at_intent_text_destroy (at_intent_text_t **self_p);

/* The features of text[0..len) (not NUL-terminated) into out[0..cap), sorted
 * by slot, each slot once. lang: the message's language, AT_LANG_OTHER to
 * guess it; *lang_used (optional) gets the one used. Returns the count (0 for
 * empty, invalid or binary text). */
size_t at_intent_text_features (at_intent_text_t *self, const char *text, size_t len,
                                at_lang_t lang, unsigned bits, at_intent_feature_t *out,
                                size_t cap, at_lang_t *lang_used);

/* The same with featurizer version featurizer (AT_INTENT_FEATURIZER_MIN to
 * AT_INTENT_FEATURIZER: a model's, at_intent_model_featurizer); 0 features
 * for another. at_intent_text_features is this with AT_INTENT_FEATURIZER. */
size_t at_intent_text_featurize (at_intent_text_t *self, unsigned featurizer, const char *text,
                                 size_t len, at_lang_t lang, unsigned bits,
                                 at_intent_feature_t *out, size_t cap, at_lang_t *lang_used);

/* The normalised words of text (case and accents folded, stems in lang),
 * space separated, into out (cap bytes). For tests and for explaining a
 * classification in a log line. Returns the number of words. */
size_t at_intent_text_stems (at_intent_text_t *self, const char *text, size_t len,
                             at_lang_t lang, char *out, size_t cap);

/* ---- model ---- */

#define AT_INTENT_VERSION_MAX 64       /* bytes of a model's version string, with NUL */

typedef struct at_intent_model at_intent_model_t;

typedef struct {
  at_intent_t intent;                  /* the most probable class */
  double confidence;                   /* its softmax probability, 0..1 */
  double probability[AT_INTENT_CLASSES];
  at_lang_t lang;                      /* the language the text was read in */
} at_intent_result_t;

/* Loads a model file. NULL when it cannot be read or is not a valid model;
 * why (cap bytes) says which (missing, bad magic, version, size, checksum). */
at_intent_model_t *at_intent_model_load (const char *path, char *why, size_t cap);
void at_intent_model_destroy (at_intent_model_t **self_p);
unsigned at_intent_model_bits (const at_intent_model_t *self);
unsigned at_intent_model_featurizer (const at_intent_model_t *self);   /* its featurizer */
const char *at_intent_model_version (const at_intent_model_t *self);
const char *at_intent_model_data_sum (const at_intent_model_t *self);   /* hex SHA-256 */

/* Classifies features (from at_intent_text_featurize with the model's
 * featurizer and bits).
 * No features: `other`. */
void at_intent_model_predict (const at_intent_model_t *self, const at_intent_feature_t *f,
                              size_t n, at_intent_result_t *out);

/* Featurizes and classifies text[0..len); min_confidence (0..1): a most
 * probable class below it becomes `other` (its confidence kept). */
void at_intent_classify (const at_intent_model_t *self, at_intent_text_t *text_state,
                         const char *text, size_t len, at_lang_t lang, double min_confidence,
                         at_intent_result_t *out);

/* ---- writing a model (tools/intents) ---- */

typedef struct {
  unsigned bits;
  unsigned featurizer;                 /* the one trained with; 0: AT_INTENT_FEATURIZER */
  const char *version;                 /* e.g. "2025-01-31.1" */
  const char *data_sum;                /* hex SHA-256 of the training data */
  const float *weights;                /* [slot * AT_INTENT_CLASSES + class] */
  const float *bias;                   /* [AT_INTENT_CLASSES] */
} at_intent_model_spec_t;

/* Writes a model file (quantising the weights to int8 per class); AT_OK or
 * AT_ERROR with why. */
int at_intent_model_save (const at_intent_model_spec_t *spec, const char *path, char *why,
                          size_t cap);

#endif
