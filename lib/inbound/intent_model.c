/* intent_model: the intent model's file and its softmax (at_intent.h).
 *
 * The file, little-endian, every field at a fixed place:
 *   magic        8 bytes "ATINTENT"
 *   format       u32, S_FORMAT
 *   featurizer   u32, the featurizer version of the training run (AT_INTENT_FEATURIZER_MIN
 *                to AT_INTENT_FEATURIZER are read; predictions use that one)
 *   bits         u32, feature space 2^bits
 *   classes      u32, AT_INTENT_CLASSES, then their names, 24 bytes each (NUL padded)
 *   version      64 bytes, the model's version string (NUL padded)
 *   data_sum     64 bytes, hex SHA-256 of the training data
 *   scale, bias  f32 [classes] each
 *   weights      i8 [2^bits][classes] (weight = scale[class] * i8)
 *   checksum     u64, FNV-1a 64 of every byte before it */
#include "at_intent.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define S_MAGIC "ATINTENT"
#define S_FORMAT 1u
#define S_NAME_LEN 24
#define S_SUM_LEN 64
#define S_HEADER (8 + 4 * 4 + AT_INTENT_CLASSES * S_NAME_LEN + AT_INTENT_VERSION_MAX + S_SUM_LEN \
                  + 2 * 4 * AT_INTENT_CLASSES)

struct at_intent_model {
  unsigned bits;
  unsigned featurizer;
  char version[AT_INTENT_VERSION_MAX];
  char data_sum[S_SUM_LEN + 1];
  float scale[AT_INTENT_CLASSES];
  float bias[AT_INTENT_CLASSES];
  int8_t *weights;
};

static uint64_t
s_fnv (const uint8_t *p, size_t n)
{
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

static uint32_t
s_u32 (const uint8_t *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void
s_put_u32 (uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t) (v >> (8 * i));
}

static float
s_f32 (const uint8_t *p)
{
  uint32_t u = s_u32 (p);
  float f;
  memcpy (&f, &u, sizeof f);
  return f;
}

static void
s_put_f32 (uint8_t *p, float f)
{
  uint32_t u;
  memcpy (&u, &f, sizeof u);
  s_put_u32 (p, u);
}

static size_t
s_file_size (unsigned bits)
{
  return S_HEADER + ((size_t) 1 << bits) * AT_INTENT_CLASSES + 8;
}

/* The whole file in memory (bounded by the largest model), or NULL with why. */
static uint8_t *
s_read_all (const char *path, size_t *len, char *why, size_t cap)
{
  FILE *f = path && path[0] ? fopen (path, "rb") : NULL;
  if (!f) {
    snprintf (why, cap, "cannot open '%s': %s", path ? path : "", path && path[0]
              ? strerror (errno) : "no path");
    return NULL;
  }
  struct stat st;
  uint8_t *buf = NULL;
  if (fstat (fileno (f), &st) != 0 || !S_ISREG (st.st_mode)
      || (size_t) st.st_size > s_file_size (AT_INTENT_BITS_MAX) || st.st_size < S_HEADER + 8)
    snprintf (why, cap, "'%s' is not a model file (size)", path);
  else {
    *len = (size_t) st.st_size;
    buf = at_malloc (*len);
    if (fread (buf, 1, *len, f) != *len) {
      snprintf (why, cap, "cannot read '%s'", path);
      free (buf);
      buf = NULL;
    }
  }
  fclose (f);
  return buf;
}

/* Checks the header; fills self's fields but the weights. */
static int
s_parse_header (const uint8_t *b, size_t len, at_intent_model_t *self, char *why, size_t cap)
{
  if (memcmp (b, S_MAGIC, 8) != 0)
    return snprintf (why, cap, "bad magic (not an atende intent model)"), AT_INVALID;
  if (s_u32 (b + 8) != S_FORMAT)
    return snprintf (why, cap, "format version %u, this build reads %u", s_u32 (b + 8),
                     S_FORMAT), AT_INVALID;
  self->featurizer = s_u32 (b + 12);
  if (self->featurizer < AT_INTENT_FEATURIZER_MIN || self->featurizer > AT_INTENT_FEATURIZER)
    return snprintf (why, cap, "featurizer version %u, this build has %u to %u",
                     self->featurizer, AT_INTENT_FEATURIZER_MIN, AT_INTENT_FEATURIZER),
           AT_INVALID;
  self->bits = s_u32 (b + 16);
  if (self->bits < AT_INTENT_BITS_MIN || self->bits > AT_INTENT_BITS_MAX
      || len != s_file_size (self->bits))
    return snprintf (why, cap, "feature bits %u and file size %zu do not match", self->bits,
                     len), AT_INVALID;
  if (s_u32 (b + 20) != AT_INTENT_CLASSES)
    return snprintf (why, cap, "%u classes, expected %d", s_u32 (b + 20), AT_INTENT_CLASSES),
           AT_INVALID;
  const uint8_t *p = b + 24;
  for (int c = 0; c < AT_INTENT_CLASSES; c++, p += S_NAME_LEN)
    if (strnlen ((const char *) p, S_NAME_LEN) == S_NAME_LEN
        || strcmp ((const char *) p, at_intent_name ((at_intent_t) c)) != 0)
      return snprintf (why, cap, "class %d is not %s", c, at_intent_name ((at_intent_t) c)),
             AT_INVALID;
  memcpy (self->version, p, AT_INTENT_VERSION_MAX);
  self->version[AT_INTENT_VERSION_MAX - 1] = '\0';
  p += AT_INTENT_VERSION_MAX;
  memcpy (self->data_sum, p, S_SUM_LEN);
  self->data_sum[S_SUM_LEN] = '\0';
  p += S_SUM_LEN;
  for (int c = 0; c < AT_INTENT_CLASSES; c++) {
    self->scale[c] = s_f32 (p + 4 * c);
    self->bias[c] = s_f32 (p + 4 * (AT_INTENT_CLASSES + c));
    if (!isfinite (self->scale[c]) || !isfinite (self->bias[c]) || self->scale[c] < 0)
      return snprintf (why, cap, "class %d has a bad scale or bias", c), AT_INVALID;
  }
  return AT_OK;
}

at_intent_model_t *
at_intent_model_load (const char *path, char *why, size_t cap)
{
  size_t len = 0;
  uint8_t *b = s_read_all (path, &len, why, cap);
  if (!b)
    return NULL;
  at_intent_model_t *self = at_calloc (1, sizeof *self);
  int rc = s_parse_header (b, len, self, why, cap);
  if (rc == AT_OK) {
    uint64_t want = 0;
    for (int i = 0; i < 8; i++)
      want |= (uint64_t) b[len - 8 + (size_t) i] << (8 * i);
    if (s_fnv (b, len - 8) != want) {
      snprintf (why, cap, "checksum mismatch (truncated or damaged file)");
      rc = AT_INVALID;
    }
  }
  if (rc == AT_OK) {
    size_t n = ((size_t) 1 << self->bits) * AT_INTENT_CLASSES;
    self->weights = at_malloc (n);
    memcpy (self->weights, b + S_HEADER, n);
  }
  free (b);
  if (rc != AT_OK)
    at_intent_model_destroy (&self);
  return self;
}

void
at_intent_model_destroy (at_intent_model_t **self_p)
{
  if (!self_p || !*self_p)
    return;
  free ((*self_p)->weights);
  free (*self_p);
  *self_p = NULL;
}

unsigned
at_intent_model_bits (const at_intent_model_t *self)
{
  return self->bits;
}

unsigned
at_intent_model_featurizer (const at_intent_model_t *self)
{
  return self->featurizer;
}

const char *
at_intent_model_version (const at_intent_model_t *self)
{
  return self->version;
}

const char *
at_intent_model_data_sum (const at_intent_model_t *self)
{
  return self->data_sum;
}

void
at_intent_model_predict (const at_intent_model_t *self, const at_intent_feature_t *f, size_t n,
                         at_intent_result_t *out)
{
  double score[AT_INTENT_CLASSES] = { 0 };
  uint32_t mask = (uint32_t) ((1u << self->bits) - 1);
  for (size_t i = 0; i < n; i++) {
    const int8_t *w = self->weights + (size_t) (f[i].slot & mask) * AT_INTENT_CLASSES;
    for (int c = 0; c < AT_INTENT_CLASSES; c++)
      score[c] += (double) f[i].value * w[c];
  }
  double top = -INFINITY, sum = 0;
  for (int c = 0; c < AT_INTENT_CLASSES; c++) {
    score[c] = self->bias[c] + self->scale[c] * score[c];
    top = score[c] > top ? score[c] : top;
  }
  for (int c = 0; c < AT_INTENT_CLASSES; c++)
    sum += (out->probability[c] = exp (score[c] - top));
  out->intent = AT_INTENT_OTHER;
  out->confidence = 0;
  for (int c = 0; c < AT_INTENT_CLASSES; c++) {
    out->probability[c] /= sum;
    if (n > 0 && out->probability[c] > out->confidence) {
      out->confidence = out->probability[c];
      out->intent = (at_intent_t) c;
    }
  }
  if (n == 0)
    out->confidence = 0;
}

void
at_intent_classify (const at_intent_model_t *self, at_intent_text_t *text_state, const char *text,
                    size_t len, at_lang_t lang, double min_confidence, at_intent_result_t *out)
{
  at_intent_feature_t *f = at_malloc (AT_INTENT_FEATURES_MAX * sizeof *f);
  size_t n = at_intent_text_featurize (text_state, self->featurizer, text, len, lang,
                                       self->bits, f, AT_INTENT_FEATURES_MAX, &out->lang);
  at_intent_model_predict (self, f, n, out);
  free (f);
  if (out->confidence < min_confidence)
    out->intent = AT_INTENT_OTHER;
}

/* ---- writing ---- */

static void
s_header_put (const at_intent_model_spec_t *spec, const float *scale, uint8_t *b)
{
  memcpy (b, S_MAGIC, 8);
  s_put_u32 (b + 8, S_FORMAT);
  s_put_u32 (b + 12, spec->featurizer ? spec->featurizer : AT_INTENT_FEATURIZER);
  s_put_u32 (b + 16, spec->bits);
  s_put_u32 (b + 20, AT_INTENT_CLASSES);
  uint8_t *p = b + 24;
  for (int c = 0; c < AT_INTENT_CLASSES; c++, p += S_NAME_LEN)
    at_strlcpy ((char *) p, at_intent_name ((at_intent_t) c), S_NAME_LEN);
  at_strlcpy ((char *) p, spec->version ? spec->version : "", AT_INTENT_VERSION_MAX);
  p += AT_INTENT_VERSION_MAX;
  memcpy (p, spec->data_sum, strnlen (spec->data_sum, S_SUM_LEN));
  p += S_SUM_LEN;
  for (int c = 0; c < AT_INTENT_CLASSES; c++) {
    s_put_f32 (p + 4 * c, scale[c]);
    s_put_f32 (p + 4 * (AT_INTENT_CLASSES + c), spec->bias[c]);
  }
}

/* Per class: scale = max |w| / 127, weights rounded to int8. */
static void
s_quantise (const at_intent_model_spec_t *spec, size_t slots, float *scale, int8_t *q)
{
  for (int c = 0; c < AT_INTENT_CLASSES; c++) {
    float top = 0;
    for (size_t s = 0; s < slots; s++)
      top = fmaxf (top, fabsf (spec->weights[s * AT_INTENT_CLASSES + (size_t) c]));
    scale[c] = top > 0 ? top / 127.0f : 1.0f;
    for (size_t s = 0; s < slots; s++) {
      long v = lrintf (spec->weights[s * AT_INTENT_CLASSES + (size_t) c] / scale[c]);
      q[s * AT_INTENT_CLASSES + (size_t) c] = (int8_t) (v > 127 ? 127 : v < -127 ? -127 : v);
    }
  }
}

int
at_intent_model_save (const at_intent_model_spec_t *spec, const char *path, char *why,
                      size_t cap)
{
  if (spec->bits < AT_INTENT_BITS_MIN || spec->bits > AT_INTENT_BITS_MAX || !spec->data_sum
      || (spec->featurizer && (spec->featurizer < AT_INTENT_FEATURIZER_MIN
                               || spec->featurizer > AT_INTENT_FEATURIZER)))
    return snprintf (why, cap, "bad model spec"), AT_ERROR;
  size_t slots = (size_t) 1 << spec->bits, len = s_file_size (spec->bits);
  uint8_t *b = at_calloc (1, len);
  float scale[AT_INTENT_CLASSES];
  s_quantise (spec, slots, scale, (int8_t *) (b + S_HEADER));
  s_header_put (spec, scale, b);
  uint64_t sum = s_fnv (b, len - 8);
  for (int i = 0; i < 8; i++)
    b[len - 8 + (size_t) i] = (uint8_t) (sum >> (8 * i));
  char tmp[4096];
  snprintf (tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen (tmp, "wb");
  int rc = AT_OK;
  if (!f || fwrite (b, 1, len, f) != len) {
    snprintf (why, cap, "cannot write '%s': %s", tmp, strerror (errno));
    rc = AT_ERROR;
  }
  if (f && fclose (f) != 0 && rc == AT_OK)
    rc = (snprintf (why, cap, "cannot write '%s'", tmp), AT_ERROR);
  if (rc == AT_OK && rename (tmp, path) != 0)
    rc = (snprintf (why, cap, "cannot rename to '%s': %s", path, strerror (errno)), AT_ERROR);
  free (b);
  return rc;
}
