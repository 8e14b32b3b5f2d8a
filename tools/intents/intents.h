/* tools/intents: training and evaluation of route's intent model
 * (lib/inbound/at_intent.h), with the featurizer route serves with.
 *   intents_data.c   CSV files (lang,label,text), the split, the data's checksum
 *   intents_train.c  softmax regression by SGD with L2, metrics
 *   intents_cv.c     k-fold cross-validation over the training and validation parts
 *   intents.c        the command: train, tune, valid, cv, eval */
#ifndef INTENTS_H
#define INTENTS_H

#include "at_intent.h"

#define IN_TEXT_MAX 4096        /* bytes of a row's text kept */
#define IN_ROWS_MAX 200000

/* Which part of the data a row is in, by a hash of its text: the same text
 * is always in the same part, whatever file it comes from. */
typedef enum { IN_TRAIN = 0, IN_VALID, IN_TEST } in_part_t;
#define IN_TEST_PCT 20          /* held out for eval, never trained on */
#define IN_VALID_PCT 15         /* for tuning; trained on by `train` */

typedef struct {
  at_lang_t lang;
  at_intent_t label;
  in_part_t part;
  char *text;
  at_intent_feature_t *f;       /* set by in_rows_featurize */
  size_t nf;
  at_intent_feature_t *fg;      /* in the language guessed from the text (cross-validation) */
  size_t nfg;
  at_lang_t lang_read;          /* the language the featurizer used */
  bool own;                     /* from this repository's own data (tools/intents/data) */
} in_row_t;

typedef struct {
  in_row_t *rows;
  size_t n, cap;
  char sum[65];                 /* hex SHA-256 of the files read, in order */
  int files_read, files_missing;
} in_rows_t;

/* Reads a comma list of CSV files. A missing file is skipped with a note
 * when optional is true (the shared data), an error otherwise. */
int in_rows_load (in_rows_t *rows, const char *csv_list, bool optional_missing);
void in_rows_clear (in_rows_t *rows);
/* Features of every row (featurizer version featurizer) for a 2^bits space:
 * in the row's language, or, for the parts in guess_parts (a mask of
 * 1 << in_part_t), in the language guessed from the text as route does when
 * a message has none. */
void in_rows_featurize (in_rows_t *rows, unsigned featurizer, unsigned bits,
                        unsigned guess_parts);
/* Also the features of every row in the guessed language, into fg. */
void in_rows_featurize_guessed (in_rows_t *rows, unsigned featurizer, unsigned bits);

typedef struct {
  unsigned featurizer;          /* AT_INTENT_FEATURIZER_MIN..AT_INTENT_FEATURIZER */
  unsigned bits;
  int epochs;
  double l2;
  double eta0;
  uint64_t seed;
  double balance;               /* class weights (n_lang / (classes * n_lang_class))^balance */
  int average_from;             /* > 0: weights averaged over the epochs from this one on */
  double idf_power;             /* > 0: features scaled by idf^power in training (folded into
                                   the weights after), 0: as they are */
} in_params_t;

/* Trains on the rows whose part is in parts (a bit mask of 1 << in_part_t). */
typedef struct in_model in_model_t;
in_model_t *in_train (const in_rows_t *rows, unsigned parts, const in_params_t *p);
/* Trains on the rows i with pick[i]. */
in_model_t *in_train_picked (const in_rows_t *rows, const bool *pick, const in_params_t *p);
void in_model_destroy (in_model_t **self_p);
void in_model_predict (const in_model_t *m, const in_row_t *r, at_intent_result_t *out);
int in_model_save (const in_model_t *m, const char *path, const char *version,
                   const char *data_sum);

/* A classifier of rows: a trained in_model_t or a loaded model file. */
typedef void (*in_predict_fn) (const void *model, const in_row_t *r, at_intent_result_t *out);

typedef struct {
  long confusion[AT_INTENT_CLASSES][AT_INTENT_CLASSES];   /* [gold][predicted] */
  long n, correct;
} in_score_t;

/* Scores the rows of part in language lang (AT_LANG_OTHER: all); own: 1 only
 * the own data's rows, 0 only the shared data's, -1 both. */
void in_score (const in_rows_t *rows, in_part_t part, at_lang_t lang, int own,
               const void *model, in_predict_fn predict, double min_confidence,
               in_score_t *out);
double in_score_accuracy (const in_score_t *s);
/* Mean F1 over the classes that are in the gold labels or the predictions. */
double in_score_macro_f1 (const in_score_t *s);
void in_score_print (const in_score_t *s, const char *title, bool confusion);

/* k-fold cross-validation over the training and validation parts (rows
 * featurized by in_rows_featurize_guessed): prints each language's pooled
 * accuracy and macro-F1 at threshold; detail 1: at other thresholds too,
 * 2: with the confusion matrices, 3: with the misread rows (first repeat). */
int in_cv (const in_rows_t *rows, const in_params_t *p, int folds, int repeats, double threshold,
           int detail);

#endif
