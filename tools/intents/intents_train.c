/* intents_train: multinomial logistic regression by stochastic gradient
 * descent with L2 (weights kept as scale * w, so the decay costs nothing per
 * step; Bottou's learning rate eta0 / (1 + eta0 * l2 * t)), a fixed seed for
 * the order of the rows; and the scores of a classifier. */
#include "intents.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct in_model {
  unsigned featurizer;          /* the rows' featurizer, recorded in the file */
  unsigned bits;
  float *w;                     /* [slot * classes + class], times wscale */
  double wscale;
  float bias[AT_INTENT_CLASSES];
};

static uint64_t
s_next (uint64_t *x)
{
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

static void
s_scores (const in_model_t *m, const in_row_t *r, double *p)
{
  double top = -INFINITY, sum = 0;
  for (int c = 0; c < AT_INTENT_CLASSES; c++)
    p[c] = 0;
  for (size_t i = 0; i < r->nf; i++) {
    const float *w = m->w + (size_t) r->f[i].slot * AT_INTENT_CLASSES;
    for (int c = 0; c < AT_INTENT_CLASSES; c++)
      p[c] += (double) r->f[i].value * w[c];
  }
  for (int c = 0; c < AT_INTENT_CLASSES; c++) {
    p[c] = m->bias[c] + m->wscale * p[c];
    top = p[c] > top ? p[c] : top;
  }
  for (int c = 0; c < AT_INTENT_CLASSES; c++)
    sum += (p[c] = exp (p[c] - top));
  for (int c = 0; c < AT_INTENT_CLASSES; c++)
    p[c] /= sum;
}

/* Folds wscale into the weights (before it underflows, and at the end). */
static void
s_fold_scale (in_model_t *m)
{
  size_t n = ((size_t) 1 << m->bits) * AT_INTENT_CLASSES;
  for (size_t i = 0; i < n; i++)
    m->w[i] = (float) (m->w[i] * m->wscale);
  m->wscale = 1.0;
}

static void
s_step (in_model_t *m, const in_row_t *r, double eta, double l2, double weight)
{
  double p[AT_INTENT_CLASSES];
  s_scores (m, r, p);
  m->wscale *= 1.0 - eta * l2;
  if (m->wscale < 1e-6)
    s_fold_scale (m);
  for (int c = 0; c < AT_INTENT_CLASSES; c++) {
    double g = weight * (p[c] - (c == (int) r->label ? 1.0 : 0.0));
    m->bias[c] -= (float) (eta * g * 0.1);
    double k = eta * g / m->wscale;
    for (size_t i = 0; i < r->nf; i++)
      m->w[(size_t) r->f[i].slot * AT_INTENT_CLASSES + (size_t) c] -= (float) (k * r->f[i].value);
  }
}

/* The weight of each language and class: the rows of a thin class count
 * more, (n_lang / (classes present * n_lang_class))^balance. */
static void
s_class_weights (const in_rows_t *rows, const size_t *order, size_t n, double balance,
                 double weight[4][AT_INTENT_CLASSES])
{
  long count[4][AT_INTENT_CLASSES] = {{0}};
  for (size_t i = 0; i < n; i++)
    count[rows->rows[order[i]].lang & 3][rows->rows[order[i]].label]++;
  for (int l = 0; l < 4; l++) {
    long total = 0;
    int present = 0;
    for (int c = 0; c < AT_INTENT_CLASSES; c++)
      total += count[l][c], present += count[l][c] > 0;
    for (int c = 0; c < AT_INTENT_CLASSES; c++)
      weight[l][c] = count[l][c] > 0
        ? pow ((double) total / ((double) present * (double) count[l][c]), balance) : 1.0;
  }
}

/* Adds the weights (scale folded in) to the running sum of an average. */
static void
s_accumulate (in_model_t *m, float *sum, float *bias_sum)
{
  size_t n = ((size_t) 1 << m->bits) * AT_INTENT_CLASSES;
  for (size_t i = 0; i < n; i++)
    sum[i] += (float) (m->w[i] * m->wscale);
  for (int c = 0; c < AT_INTENT_CLASSES; c++)
    bias_sum[c] += m->bias[c];
}

in_model_t *
in_train (const in_rows_t *rows, unsigned parts, const in_params_t *p)
{
  bool *pick = at_calloc (rows->n ? rows->n : 1, sizeof *pick);
  for (size_t i = 0; i < rows->n; i++)
    pick[i] = (parts & (1u << rows->rows[i].part)) != 0;
  in_model_t *m = in_train_picked (rows, pick, p);
  free (pick);
  return m;
}

/* Per slot, (1 + log ((rows + 1) / (rows with the slot + 1)))^power over
 * the picked rows: inverse document frequency; NULL when power is 0. */
static float *
s_idf (const in_rows_t *rows, const bool *pick, unsigned bits, double power)
{
  if (power <= 0)
    return NULL;
  size_t slots = (size_t) 1 << bits;
  uint32_t *df = at_calloc (slots, sizeof *df);
  double total = 0;
  for (size_t i = 0; i < rows->n; i++) {
    if (!pick[i])
      continue;
    total++;
    for (size_t k = 0; k < rows->rows[i].nf; k++)
      df[rows->rows[i].f[k].slot]++;
  }
  float *idf = at_malloc (slots * sizeof *idf);
  for (size_t s = 0; s < slots; s++)
    idf[s] = (float) pow (1.0 + log ((total + 1.0) / (df[s] + 1.0)), power);
  free (df);
  return idf;
}

/* The rows with every feature times its slot's idf (the same rows, features
 * copied), or the rows themselves when idf is NULL. */
static in_rows_t
s_rows_scaled (const in_rows_t *rows, const bool *pick, const float *idf)
{
  in_rows_t scaled = *rows;
  if (!idf)
    return scaled;
  scaled.rows = at_calloc (rows->n ? rows->n : 1, sizeof *scaled.rows);
  for (size_t i = 0; i < rows->n; i++) {
    const in_row_t *r = &rows->rows[i];
    scaled.rows[i] = *r;
    scaled.rows[i].f = NULL, scaled.rows[i].fg = NULL;
    if (!pick[i])
      continue;
    scaled.rows[i].f = at_malloc ((r->nf ? r->nf : 1) * sizeof *r->f);
    for (size_t k = 0; k < r->nf; k++)
      scaled.rows[i].f[k] = (at_intent_feature_t) {.slot = r->f[k].slot,
                                                   .value = r->f[k].value * idf[r->f[k].slot]};
  }
  return scaled;
}

static in_model_t *s_train_scaled (const in_rows_t *rows, const bool *pick, const in_params_t *p);

/* With p->idf_power, trains on features scaled by their idf, then folds the
 * idf into the weights, so that the model reads the featurizer's vectors as
 * they are (route's model file does not change form). */
in_model_t *
in_train_picked (const in_rows_t *rows, const bool *pick, const in_params_t *p)
{
  float *idf = s_idf (rows, pick, p->bits, p->idf_power);
  in_rows_t scaled = s_rows_scaled (rows, pick, idf);
  in_model_t *m = s_train_scaled (&scaled, pick, p);
  if (idf) {
    size_t slots = (size_t) 1 << p->bits;
    for (size_t s = 0; s < slots; s++)
      for (int c = 0; c < AT_INTENT_CLASSES; c++)
        m->w[s * AT_INTENT_CLASSES + (size_t) c] *= idf[s];
    for (size_t i = 0; i < rows->n; i++)
      free (scaled.rows[i].f);
    free (scaled.rows);
  }
  free (idf);
  return m;
}

static in_model_t *
s_train_scaled (const in_rows_t *rows, const bool *pick, const in_params_t *p)
{
  in_model_t *m = at_calloc (1, sizeof *m);
  m->featurizer = p->featurizer;
  m->bits = p->bits;
  m->w = at_calloc (((size_t) 1 << p->bits) * AT_INTENT_CLASSES, sizeof *m->w);
  m->wscale = 1.0;
  size_t *order = at_malloc ((rows->n ? rows->n : 1) * sizeof *order), n = 0;
  for (size_t i = 0; i < rows->n; i++)
    if (pick[i])
      order[n++] = i;
  uint64_t rng = p->seed ? p->seed : 0x9e3779b97f4a7c15ULL;
  long t = 0;
  double weight[4][AT_INTENT_CLASSES];
  s_class_weights (rows, order, n, p->balance, weight);
  size_t slots = ((size_t) 1 << p->bits) * AT_INTENT_CLASSES;
  float *sum = p->average_from > 0 ? at_calloc (slots, sizeof *sum) : NULL;
  float bias_sum[AT_INTENT_CLASSES] = {0};
  int averaged = 0;
  for (int e = 0; e < p->epochs; e++) {
    for (size_t i = n; i > 1; i--) {          /* Fisher-Yates, fixed seed */
      size_t j = (size_t) (s_next (&rng) % i), tmp = order[i - 1];
      order[i - 1] = order[j];
      order[j] = tmp;
    }
    for (size_t i = 0; i < n; i++, t++) {
      const in_row_t *r = &rows->rows[order[i]];
      s_step (m, r, p->eta0 / (1.0 + p->eta0 * p->l2 * (double) t), p->l2,
              weight[r->lang & 3][r->label]);
    }
    if (sum && e + 1 >= p->average_from)
      s_accumulate (m, sum, bias_sum), averaged++;
  }
  s_fold_scale (m);
  if (sum && averaged > 0) {
    for (size_t i = 0; i < slots; i++)
      m->w[i] = sum[i] / (float) averaged;
    for (int c = 0; c < AT_INTENT_CLASSES; c++)
      m->bias[c] = bias_sum[c] / (float) averaged;
  }
  free (sum);
  free (order);
  return m;
}

void
in_model_destroy (in_model_t **self_p)
{
  if (!self_p || !*self_p)
    return;
  free ((*self_p)->w);
  free (*self_p);
  *self_p = NULL;
}

void
in_model_predict (const in_model_t *m, const in_row_t *r, at_intent_result_t *out)
{
  s_scores (m, r, out->probability);
  out->intent = AT_INTENT_OTHER;
  out->confidence = 0;
  for (int c = 0; c < AT_INTENT_CLASSES && r->nf > 0; c++)
    if (out->probability[c] > out->confidence) {
      out->confidence = out->probability[c];
      out->intent = (at_intent_t) c;
    }
}

int
in_model_save (const in_model_t *m, const char *path, const char *version, const char *data_sum)
{
  at_intent_model_spec_t spec = {.bits = m->bits, .featurizer = m->featurizer, .version = version, .data_sum = data_sum,
                                 .weights = m->w, .bias = m->bias};
  char why[256];
  if (at_intent_model_save (&spec, path, why, sizeof why) != AT_OK) {
    fprintf (stderr, "atende-intents: %s\n", why);
    return AT_ERROR;
  }
  return AT_OK;
}

/* ---- scores ---- */

void
in_score (const in_rows_t *rows, in_part_t part, at_lang_t lang, int own, const void *model,
          in_predict_fn predict, double min_confidence, in_score_t *out)
{
  memset (out, 0, sizeof *out);
  for (size_t i = 0; i < rows->n; i++) {
    const in_row_t *r = &rows->rows[i];
    if (r->part != part || (lang != AT_LANG_OTHER && r->lang != lang)
        || (own >= 0 && r->own != (own > 0)))
      continue;
    at_intent_result_t res;
    predict (model, r, &res);
    if (res.confidence < min_confidence)
      res.intent = AT_INTENT_OTHER;
    out->confusion[r->label][res.intent]++;
    out->n++;
    out->correct += res.intent == r->label;
  }
}

double
in_score_accuracy (const in_score_t *s)
{
  return s->n ? (double) s->correct / (double) s->n : 0;
}

double
in_score_macro_f1 (const in_score_t *s)
{
  double sum = 0;
  int classes = 0;
  for (int c = 0; c < AT_INTENT_CLASSES; c++) {
    long tp = s->confusion[c][c], gold = 0, pred = 0;
    for (int k = 0; k < AT_INTENT_CLASSES; k++) {
      gold += s->confusion[c][k];
      pred += s->confusion[k][c];
    }
    if (gold == 0 && pred == 0)
      continue;
    classes++;
    sum += gold + pred ? 2.0 * (double) tp / (double) (gold + pred) : 0;
  }
  return classes ? sum / classes : 0;
}

void
in_score_print (const in_score_t *s, const char *title, bool confusion)
{
  printf ("%-10s n=%-5ld accuracy=%.3f macro_f1=%.3f\n", title, s->n, in_score_accuracy (s),
          in_score_macro_f1 (s));
  if (!confusion)
    return;
  static const char *const abbr[AT_INTENT_CLASSES] = {"order", "return", "cancel", "payment",
                                                      "product", "complain", "other"};
  printf ("  gold \\ predicted");
  for (int c = 0; c < AT_INTENT_CLASSES; c++)
    printf (" %8s", abbr[c]);
  printf ("\n");
  for (int g = 0; g < AT_INTENT_CLASSES; g++) {
    printf ("  %-16s", at_intent_name ((at_intent_t) g));
    for (int c = 0; c < AT_INTENT_CLASSES; c++)
      printf (" %8ld", s->confusion[g][c]);
    printf ("\n");
  }
}
