/* intents_cv: k-fold cross-validation over the training and validation
 * parts (the test part is never read): each row is in a fold by a salted
 * hash of its text, a model is trained on the other folds, and the row is
 * classified in the language guessed from its text, as route and `eval` do.
 * Repeats use other salts; the figures pool every fold of every repeat. */
#include "intents.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned
s_fold (const char *text, int repeat, int folds)
{
  uint64_t h = 0xcbf29ce484222325ULL;
  h = (h ^ (unsigned) (repeat + 0x5a)) * 0x100000001b3ULL;
  for (const unsigned char *p = (const unsigned char *) text; *p; p++)
    h = (h ^ *p) * 0x100000001b3ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return (unsigned) (h % (uint64_t) folds);
}

/* One fold: trains on the rows of the other folds, classifies this one's. */
static void
s_run_fold (const in_rows_t *rows, const unsigned *fold, unsigned k, const in_params_t *p,
            at_intent_result_t *res)
{
  bool *pick = at_calloc (rows->n ? rows->n : 1, sizeof *pick);
  for (size_t i = 0; i < rows->n; i++)
    pick[i] = rows->rows[i].part != IN_TEST && fold[i] != k;
  in_model_t *m = in_train_picked (rows, pick, p);
  for (size_t i = 0; i < rows->n; i++) {
    const in_row_t *r = &rows->rows[i];
    if (r->part == IN_TEST || fold[i] != k)
      continue;
    in_row_t guessed = *r;
    guessed.f = r->fg, guessed.nf = r->nfg;
    in_model_predict (m, &guessed, &res[i]);
  }
  in_model_destroy (&m);
  free (pick);
}

static void
s_score (const in_rows_t *rows, const at_intent_result_t *res, at_lang_t lang, int own,
         double threshold, in_score_t *s)
{
  for (size_t i = 0; i < rows->n; i++) {
    const in_row_t *r = &rows->rows[i];
    if (r->part == IN_TEST || r->lang != lang || (own >= 0 && r->own != (own > 0)))
      continue;
    at_intent_t got = res[i].confidence < threshold ? AT_INTENT_OTHER : res[i].intent;
    s->confusion[r->label][got]++;
    s->n++;
    s->correct += got == r->label;
  }
}

/* Prints the pooled figures at one threshold per language and their minima
 * (what the target is about); confusion: the matrices too, and the shared
 * and own rows' figures apart. */
static void
s_print (const in_rows_t *rows, at_intent_result_t *const *res, int repeats, double threshold,
         const char *title, bool confusion)
{
  static const at_lang_t langs[] = {AT_LANG_PT, AT_LANG_EN, AT_LANG_ES};
  double min_acc = 1, min_f1 = 1;
  printf ("%-40s", title);
  for (size_t l = 0; l < AT_ARRAY_LEN (langs); l++) {
    in_score_t s;
    memset (&s, 0, sizeof s);
    for (int r = 0; r < repeats; r++)
      s_score (rows, res[r], langs[l], -1, threshold, &s);
    double acc = in_score_accuracy (&s), f1 = in_score_macro_f1 (&s);
    min_acc = acc < min_acc ? acc : min_acc;
    min_f1 = f1 < min_f1 ? f1 : min_f1;
    printf (" %s %.3f/%.3f", at_lang_name (langs[l]), acc, f1);
    if (!confusion)
      continue;
    printf ("\n"), in_score_print (&s, at_lang_name (langs[l]), true);
    for (int own = 0; own <= 1; own++) {
      memset (&s, 0, sizeof s);
      for (int r = 0; r < repeats; r++)
        s_score (rows, res[r], langs[l], own, threshold, &s);
      if (s.n > 0)
        in_score_print (&s, own ? "  own" : "  shared", false);
    }
  }
  printf ("  min %.3f/%.3f\n", min_acc, min_f1);
}

int
in_cv (const in_rows_t *rows, const in_params_t *p, int folds, int repeats, double threshold,
       int detail)
{
  at_intent_result_t *res[8];
  unsigned *fold = at_malloc ((rows->n ? rows->n : 1) * sizeof *fold);
  repeats = repeats < 1 ? 1 : repeats > 8 ? 8 : repeats;
  for (int r = 0; r < repeats; r++) {
    res[r] = at_calloc (rows->n ? rows->n : 1, sizeof *res[r]);
    for (size_t i = 0; i < rows->n; i++)
      fold[i] = s_fold (rows->rows[i].text, r, folds);
    for (int k = 0; k < folds; k++)
      s_run_fold (rows, fold, (unsigned) k, p, res[r]);
  }
  char title[64];
  snprintf (title, sizeof title, "cv %dx%d threshold %.0f%%", repeats, folds, threshold * 100);
  s_print (rows, res, repeats, threshold, title, detail == 2);
  for (int pct = 0; detail == 1 && pct <= 60; pct += 10) {
    snprintf (title, sizeof title, "  threshold %d%%", pct);
    s_print (rows, res, repeats, pct / 100.0, title, false);
  }
  for (size_t i = 0; detail == 3 && i < rows->n; i++) {
    const in_row_t *r = &rows->rows[i];
    at_intent_t got = res[0][i].confidence < threshold ? AT_INTENT_OTHER : res[0][i].intent;
    if (r->part != IN_TEST && got != r->label)
      printf ("%s %s %s -> %s %.2f: %.100s\n", r->own ? "own" : "shared", at_lang_name (r->lang),
              at_intent_name (r->label), at_intent_name (got), res[0][i].confidence, r->text);
  }
  for (int r = 0; r < repeats; r++)
    free (res[r]);
  free (fold);
  return AT_OK;
}
