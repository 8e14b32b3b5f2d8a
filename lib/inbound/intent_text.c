/* intent_text: the featurizer of the intent model (at_intent.h): folded,
 * stemmed words, their bigrams and character n-grams, hashed with a sign;
 * from featurizer 3, a question mark and a length band too. */
#include "at_intent.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>
#include <uninorm.h>
#include <unicase.h>
#include <unictype.h>

#define S_TOKENS_MAX 2048      /* words of a message looked at (4 KiB: at most 2048) */
#define S_NGRAM_MIN 3          /* character n-grams, in characters, boundaries included */
#define S_NGRAM_MAX 5
#define S_KEY_MAX (2 * AT_TOKEN_MAX + 4)

static const char *const s_names[AT_INTENT_CLASSES] = {
  "order_status", "return_refund", "cancel", "payment", "product_question", "complaint", "other",
};

const char *
at_intent_name (at_intent_t intent)
{
  return (unsigned) intent < AT_INTENT_CLASSES ? s_names[intent] : "other";
}

int
at_intent_parse (const char *name, at_intent_t *out)
{
  for (int i = 0; name && i < AT_INTENT_CLASSES; i++)
    if (strcmp (name, s_names[i]) == 0) {
      *out = (at_intent_t) i;
      return AT_OK;
    }
  return AT_INVALID;
}

struct at_intent_text {
  at_stemmer_t *stemmer[4];          /* by at_lang_t; [AT_LANG_OTHER] NULL: words as they are */
  char (*words)[AT_TOKEN_MAX];       /* S_TOKENS_MAX */
  char (*stems)[AT_TOKEN_MAX];
  char *folded;                      /* AT_INTENT_TEXT_MAX * 4 + 1 (NFKD may grow the text) */
};

at_intent_text_t *
at_intent_text_new (void)
{
  at_intent_text_t *self = at_calloc (1, sizeof *self);
  for (int l = AT_LANG_PT; l <= AT_LANG_ES; l++)
    self->stemmer[l] = at_stemmer_new ((at_lang_t) l);
  self->words = at_malloc (S_TOKENS_MAX * AT_TOKEN_MAX);
  self->stems = at_malloc (S_TOKENS_MAX * AT_TOKEN_MAX);
  self->folded = at_malloc (AT_INTENT_TEXT_MAX * 4 + 1);
  return self;
}

void
at_intent_text_destroy (at_intent_text_t **self_p)
{
  if (!self_p || !*self_p)
    return;
  at_intent_text_t *self = *self_p;
  for (int l = 0; l < 4; l++)
    at_stemmer_destroy (&self->stemmer[l]);
  free (self->words);
  free (self->stems);
  free (self->folded);
  free (self);
  *self_p = NULL;
}

/* The first AT_INTENT_TEXT_MAX bytes, never cutting a character. */
static size_t
s_capped_len (const char *text, size_t len)
{
  if (len <= AT_INTENT_TEXT_MAX)
    return len;
  size_t cut = AT_INTENT_TEXT_MAX;
  while (cut > 0 && ((unsigned char) text[cut] & 0xC0) == 0x80)
    cut--;
  return cut;
}

/* A number is one thing whatever its length: a run of digits, with single
 * separators between digits ("1.234,56", "12/05/2025", "123-4"), becomes one
 * '0' appended to out (letters around it kept: "42cm" "0cm", "A-1234" "a-0").
 * *num_end: where the latest number ended in out (SIZE_MAX: none yet). */
static size_t
s_fold_digit (char *folded, size_t out, size_t *num_end)
{
  if (*num_end != SIZE_MAX && out == *num_end)
    return out;                                        /* the same run */
  if (*num_end != SIZE_MAX && out == *num_end + 1 && folded[*num_end] != '\0' &&
      strchr (".,-/:", folded[*num_end]))
    return *num_end;                                   /* "1.234": the separator goes */
  folded[out++] = '0';
  *num_end = out;
  return out;
}

/* Case-folded (NFKD), combining marks dropped, each number one '0', into
 * self->folded. False for invalid UTF-8, a NUL byte or nothing left. */
static bool
s_fold (at_intent_text_t *self, const char *text, size_t len)
{
  if (!text || len == 0 || !at_text_valid_utf8 (text, len))
    return false;
  size_t flen = 0;
  uint8_t *f = u8_casefold ((const uint8_t *) text, len, NULL, UNINORM_NFKD, NULL, &flen);
  if (!f)
    return false;
  size_t at = 0, out = 0, cap = AT_INTENT_TEXT_MAX * 4, num_end = SIZE_MAX;
  while (at < flen) {
    ucs4_t uc;
    int n = u8_mbtouc (&uc, f + at, flen - at);
    if (n <= 0)
      break;
    if (!uc_is_general_category (uc, UC_CATEGORY_M)) {
      if (out + (size_t) n > cap)
        break;
      if (uc_is_digit (uc))
        out = s_fold_digit (self->folded, out, &num_end);
      else {
        memcpy (self->folded + out, f + at, (size_t) n);
        out += (size_t) n;
      }
    }
    at += (size_t) n;
  }
  self->folded[out] = '\0';
  free (f);
  return out > 0;
}

/* Splits, stems; returns the word count and the language used. */
static size_t
s_words (at_intent_text_t *self, const char *text, size_t len, at_lang_t *lang)
{
  size_t n = at_text_tokenize (self->folded, self->words, S_TOKENS_MAX);
  if (*lang == AT_LANG_OTHER) {
    char *raw = at_malloc (len + 1);
    memcpy (raw, text, len);
    raw[len] = '\0';
    *lang = at_text_guess_language (raw);
    free (raw);
  }
  at_stemmer_t *stemmer = (unsigned) *lang < 4 ? self->stemmer[*lang] : NULL;
  for (size_t i = 0; i < n; i++)
    at_stemmer_stem (stemmer, self->words[i], self->stems[i], AT_TOKEN_MAX);
  return n;
}

/* FNV-1a 64 of kind and key, then a 64-bit finaliser (murmur3's) so that
 * the low bits used for the slot are well mixed. */
static uint64_t
s_hash (char kind, const char *key, size_t len)
{
  uint64_t h = 0xcbf29ce484222325ULL;
  h = (h ^ (unsigned char) kind) * 0x100000001b3ULL;
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char) key[i]) * 0x100000001b3ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

typedef struct {
  at_intent_feature_t *out;
  size_t n, cap;
  uint32_t mask;
} s_sink_t;

static void
s_add (s_sink_t *s, char kind, const char *key, size_t len)
{
  if (s->n >= s->cap)
    return;
  uint64_t h = s_hash (kind, key, len);
  s->out[s->n].slot = (uint32_t) (h & s->mask);
  s->out[s->n].value = (h >> 63) ? -1.0f : 1.0f;
  s->n++;
}

/* Character n-grams of "<word>", counted in characters. */
static void
s_add_ngrams (s_sink_t *s, const char *word)
{
  char key[AT_TOKEN_MAX + 2];
  size_t wlen = strlen (word);
  key[0] = '<';
  memcpy (key + 1, word, wlen);
  key[wlen + 1] = '>';
  size_t klen = wlen + 2;
  size_t starts[AT_TOKEN_MAX + 3], nchars = 0;
  for (size_t at = 0; at < klen;) {
    starts[nchars++] = at;
    int n = u8_mblen ((const uint8_t *) key + at, klen - at);
    at += n > 0 ? (size_t) n : 1;
  }
  starts[nchars] = klen;
  for (size_t g = S_NGRAM_MIN; g <= S_NGRAM_MAX; g++)
    for (size_t i = 0; i + g <= nchars; i++)
      s_add (s, 'c', key + starts[i], starts[i + g] - starts[i]);
}

static int
s_slot_cmp (const void *a, const void *b)
{
  uint32_t x = ((const at_intent_feature_t *) a)->slot, y = ((const at_intent_feature_t *) b)->slot;
  return x < y ? -1 : x > y;
}

/* Sorts, merges equal slots (dropping those that cancel out), normalises. */
static size_t
s_finish (at_intent_feature_t *f, size_t n)
{
  qsort (f, n, sizeof *f, s_slot_cmp);
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    if (m > 0 && f[m - 1].slot == f[i].slot)
      f[m - 1].value += f[i].value;
    else
      f[m++] = f[i];
  }
  size_t k = 0;
  double norm = 0;
  for (size_t i = 0; i < m; i++)
    if (f[i].value != 0.0f) {
      f[k++] = f[i];
      norm += (double) f[i].value * f[i].value;
    }
  if (norm > 0) {
    float inv = (float) (1.0 / sqrt (norm));
    for (size_t i = 0; i < k; i++)
      f[i].value *= inv;
  }
  return k;
}

/* Featurizer 3's marks of the whole message: a question mark ("?" or "¿";
 * the tokenizer drops punctuation, and a question is much of what tells a
 * product or payment question from a review) and the length in words, in
 * bands of 1-3, 4-7, 8-15 and 16 or more. */
static void
s_add_marks (s_sink_t *s, const char *folded, size_t words)
{
  if (strchr (folded, '?') || strstr (folded, "\xC2\xBF"))
    s_add (s, 'q', "?", 1);
  char band = words <= 3 ? '1' : words <= 7 ? '2' : words <= 15 ? '3' : '4';
  s_add (s, 'l', &band, 1);
}

size_t
at_intent_text_featurize (at_intent_text_t *self, unsigned featurizer, const char *text,
                          size_t len, at_lang_t lang, unsigned bits, at_intent_feature_t *out,
                          size_t cap, at_lang_t *lang_used)
{
  if (lang_used)
    *lang_used = lang;
  if (!self || !out || bits < AT_INTENT_BITS_MIN || bits > AT_INTENT_BITS_MAX
      || featurizer < AT_INTENT_FEATURIZER_MIN || featurizer > AT_INTENT_FEATURIZER)
    return 0;
  len = text ? s_capped_len (text, len) : 0;
  if (!s_fold (self, text, len))
    return 0;
  size_t n = s_words (self, text, len, &lang);
  if (lang_used)
    *lang_used = lang;
  s_sink_t s = {.out = out, .cap = cap, .mask = (uint32_t) ((1u << bits) - 1)};
  for (size_t i = 0; i < n; i++) {
    s_add (&s, 'w', self->stems[i], strlen (self->stems[i]));
    if (i > 0) {
      char key[S_KEY_MAX];
      int klen = snprintf (key, sizeof key, "%s %s", self->stems[i - 1], self->stems[i]);
      if (klen > 0)
        s_add (&s, 'b', key, (size_t) klen < sizeof key ? (size_t) klen : sizeof key - 1);
    }
    s_add_ngrams (&s, self->words[i]);
  }
  if (featurizer >= 3 && n > 0)
    s_add_marks (&s, self->folded, n);
  return s_finish (out, s.n);
}

size_t
at_intent_text_features (at_intent_text_t *self, const char *text, size_t len, at_lang_t lang,
                         unsigned bits, at_intent_feature_t *out, size_t cap,
                         at_lang_t *lang_used)
{
  return at_intent_text_featurize (self, AT_INTENT_FEATURIZER, text, len, lang, bits, out, cap,
                                   lang_used);
}

size_t
at_intent_text_stems (at_intent_text_t *self, const char *text, size_t len, at_lang_t lang,
                      char *out, size_t cap)
{
  if (!out || cap == 0)
    return 0;
  out[0] = '\0';
  len = text ? s_capped_len (text, len) : 0;
  if (!self || !s_fold (self, text, len))
    return 0;
  size_t n = s_words (self, text, len, &lang), used = 0;
  for (size_t i = 0; i < n; i++) {
    int w = snprintf (out + used, cap - used, "%s%s", i ? " " : "", self->stems[i]);
    if (w < 0 || (size_t) w >= cap - used) {
      out[used] = '\0';
      return i;
    }
    used += (size_t) w;
  }
  return n;
}
