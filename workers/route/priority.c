/* priority: why a customer's message is urgent (urgency words, threats to
 * go to a consumer agency or to court, a negative tone), from keywords and
 * phrases in Portuguese, English and Spanish matched on Snowball stems of
 * the normalised text, and angry emoji. A pure function of the text
 * (at_text.h). What the message is about is the intent model's
 * (lib/inbound/at_intent.h); repeat contacts are the store's. */
#include "at_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#define S_URGENT 0            /* the classes of rules, one bit of at_priority_reasons each */
#define S_AGENCY 1
#define S_NEGATIVE 2
#define S_CLASSES 3
#define S_WORDS_MAX 4
#define S_TOKENS_MAX 1024     /* tokens of a message looked at */
#define S_FUZZY_MIN_LEN 6     /* words this long also match with one typo */

/* A phrase: words separated by one space, each matched on its stem;
 * "=word" matches the normalised word exactly, "word*" as a prefix. */
typedef struct {
  at_lang_t lang;
  int cls;
  int weight;
  const char *phrase;
} s_entry_t;

#define U S_URGENT
#define A S_AGENCY
#define N S_NEGATIVE
static const s_entry_t s_entries[] = {
  /* urgency */
  { AT_LANG_PT, U, 1, "urgente" },            { AT_LANG_PT, U, 1, "urgencia" },
  { AT_LANG_PT, U, 1, "=cancelar" },          { AT_LANG_EN, U, 1, "urgent" },
  { AT_LANG_EN, U, 1, "=asap" },              { AT_LANG_EN, U, 1, "immediately" },
  { AT_LANG_ES, U, 1, "urgente" },            { AT_LANG_ES, U, 1, "inmediato" },
  /* a consumer agency, a court, a lawyer, public exposure */
  { AT_LANG_PT, A, 1, "=procon" },            { AT_LANG_PT, A, 1, "reclame aqui" },
  { AT_LANG_PT, A, 1, "=reclameaqui" },       { AT_LANG_PT, A, 1, "consumidor gov" },
  { AT_LANG_PT, A, 1, "=consumidorgov" },     { AT_LANG_PT, A, 1, "advogado" },
  { AT_LANG_PT, A, 1, "juizado" },            { AT_LANG_PT, A, 1, "=processar" },
  { AT_LANG_PT, A, 1, "acao judicial" },      { AT_LANG_PT, A, 1, "pequenas causas" },
  { AT_LANG_PT, A, 1, "justica" },            { AT_LANG_PT, A, 1, "denunciar" },
  { AT_LANG_EN, A, 1, "lawyer" },             { AT_LANG_EN, A, 1, "attorney" },
  { AT_LANG_EN, A, 1, "=sue" },               { AT_LANG_EN, A, 1, "better business bureau" },
  { AT_LANG_EN, A, 1, "=bbb" },               { AT_LANG_EN, A, 1, "small claims" },
  { AT_LANG_EN, A, 1, "chargeback" },         { AT_LANG_EN, A, 1, "trading standards" },
  { AT_LANG_ES, A, 1, "=profeco" },           { AT_LANG_ES, A, 1, "abogado" },
  { AT_LANG_ES, A, 1, "=demandar" },            { AT_LANG_ES, A, 1, "denuncia" },
  { AT_LANG_ES, A, 1, "=sernac" },
  /* a negative tone */
  { AT_LANG_PT, N, 1, "absurdo" },            { AT_LANG_PT, N, 1, "pessimo" },
  { AT_LANG_PT, N, 1, "descaso" },            { AT_LANG_PT, N, 1, "horrivel" },
  { AT_LANG_PT, N, 1, "vergonha" },           { AT_LANG_PT, N, 1, "ridiculo" },
  { AT_LANG_PT, N, 1, "palhacada" },          { AT_LANG_PT, N, 1, "lixo" },
  { AT_LANG_PT, N, 1, "enganado" },           { AT_LANG_PT, N, 1, "=golpe" },
  { AT_LANG_PT, N, 1, "decepcionado" },       { AT_LANG_PT, N, 1, "decepcao" },
  { AT_LANG_PT, N, 1, "nunca mais compro" },  { AT_LANG_PT, N, 1, "desrespeito" },
  { AT_LANG_PT, N, 1, "inaceitavel" },        { AT_LANG_PT, N, 1, "revoltado" },
  { AT_LANG_PT, N, 1, "=roubo" },             { AT_LANG_PT, N, 1, "=fraude" },
  { AT_LANG_EN, N, 1, "complaint" },          { AT_LANG_EN, N, 1, "terrible" },
  { AT_LANG_EN, N, 1, "unacceptable" },       { AT_LANG_EN, N, 1, "awful" },
  { AT_LANG_EN, N, 1, "=worst" },             { AT_LANG_EN, N, 1, "ridiculous" },
  { AT_LANG_EN, N, 1, "=scam" },              { AT_LANG_EN, N, 1, "disgusting" },
  { AT_LANG_EN, N, 1, "=fraud" },             { AT_LANG_EN, N, 1, "never again" },
  { AT_LANG_EN, N, 1, "furious" },            { AT_LANG_EN, N, 1, "disappointed" },
  { AT_LANG_EN, N, 1, "=useless" },           { AT_LANG_EN, N, 1, "=rip off" },
  { AT_LANG_ES, N, 1, "queja" },              { AT_LANG_ES, N, 1, "pesimo" },
  { AT_LANG_ES, N, 1, "inaceptable" },        { AT_LANG_ES, N, 1, "horrible" },
  { AT_LANG_ES, N, 1, "verguenza" },          { AT_LANG_ES, N, 1, "=estafa" },
  { AT_LANG_ES, N, 1, "=basura" },            { AT_LANG_ES, N, 1, "nunca mas" },
  { AT_LANG_ES, N, 1, "decepcionado" },       { AT_LANG_ES, N, 1, "=timo" },
  { AT_LANG_ES, N, 1, "indignado" },          { AT_LANG_ES, N, 1, "=fraude" },
};
#undef U
#undef A
#undef N


typedef enum { S_STEM = 0, S_EXACT, S_PREFIX } s_mode_t;

typedef struct {
  at_lang_t lang;
  int cls;
  int weight;
  int nwords;
  s_mode_t mode[S_WORDS_MAX];
  char word[S_WORDS_MAX][AT_TOKEN_MAX];
  char stem[S_WORDS_MAX][AT_TOKEN_MAX];
} s_rule_t;

/* Compiled once (pthread_once), read-only afterwards. */
static s_rule_t s_rules[AT_ARRAY_LEN (s_entries)];
static size_t s_rules_n;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void
s_compile_entry (const s_entry_t *e, at_stemmer_t *stemmer, s_rule_t *r)
{
  r->lang = e->lang;
  r->cls = e->cls;
  r->weight = e->weight;
  char copy[256];
  at_strlcpy (copy, e->phrase, sizeof copy);
  char *save = NULL;
  for (char *w = strtok_r (copy, " ", &save); w && r->nwords < S_WORDS_MAX;
       w = strtok_r (NULL, " ", &save)) {
    int i = r->nwords++;
    size_t len = strlen (w);
    r->mode[i] = S_STEM;
    if (w[0] == '=') {
      r->mode[i] = S_EXACT;
      w++;
      len--;
    }
    else if (len > 0 && w[len - 1] == '*') {
      r->mode[i] = S_PREFIX;
      w[--len] = '\0';
    }
    at_strlcpy (r->word[i], w, AT_TOKEN_MAX);
    at_stemmer_stem (stemmer, r->word[i], r->stem[i], AT_TOKEN_MAX);
  }
}

static int
s_rule_cmp (const void *a, const void *b)
{
  const s_rule_t *ra = a, *rb = b;
  if (ra->nwords != rb->nwords)
    return rb->nwords - ra->nwords;   /* longer phrases first */
  return rb->weight - ra->weight;
}

static void
s_compile (void)
{
  at_stemmer_t *stemmers[4] = { NULL, at_stemmer_new (AT_LANG_PT), at_stemmer_new (AT_LANG_EN),
                                at_stemmer_new (AT_LANG_ES) };
  for (size_t i = 0; i < AT_ARRAY_LEN (s_entries); i++)
    s_compile_entry (&s_entries[i], stemmers[s_entries[i].lang], &s_rules[s_rules_n++]);
  qsort (s_rules, s_rules_n, sizeof s_rules[0], s_rule_cmp);
  for (int l = 1; l < 4; l++)
    at_stemmer_destroy (&stemmers[l]);
}

/* At most one edit (insertion, deletion, substitution or transposition). */
static bool
s_one_edit (const char *a, const char *b)
{
  size_t la = strlen (a), lb = strlen (b);
  if (la < S_FUZZY_MIN_LEN || lb < S_FUZZY_MIN_LEN || (la > lb ? la - lb : lb - la) > 1)
    return false;
  size_t i = 0;
  while (i < la && i < lb && a[i] == b[i])
    i++;
  if (i == la && i == lb)
    return true;
  if (la == lb) {
    if (strcmp (a + i + 1, b + i + 1) == 0)
      return true;                                     /* substitution */
    return i + 1 < la && a[i] == b[i + 1] && a[i + 1] == b[i]
           && strcmp (a + i + 2, b + i + 2) == 0;      /* transposition */
  }
  return la > lb ? strcmp (a + i + 1, b + i) == 0 : strcmp (a + i, b + i + 1) == 0;
}

typedef struct {
  size_t n;
  char (*tokens)[AT_TOKEN_MAX];
  char (*stems[4])[AT_TOKEN_MAX];   /* by at_lang_t; [0] unused */
} s_text_t;

static bool
s_word_matches (const s_text_t *t, const s_rule_t *r, int w, size_t at)
{
  const char *tok = t->tokens[at];
  switch (r->mode[w]) {
  case S_EXACT:
    return strcmp (tok, r->word[w]) == 0;
  case S_PREFIX:
    return strncmp (tok, r->word[w], strlen (r->word[w])) == 0;
  default:
    return strcmp (t->stems[r->lang][at], r->stem[w]) == 0 || s_one_edit (tok, r->word[w]);
  }
}

/* Adds the rule's weight for each place it matches that no longer phrase of
 * the same class already took. */
static void
s_score_rule (const s_text_t *t, const s_rule_t *r, bool (*taken)[S_CLASSES], int *score)
{
  for (size_t at = 0; at + (size_t) r->nwords <= t->n; at++) {
    bool match = true;
    for (int w = 0; w < r->nwords && match; w++)
      match = !taken[at + (size_t) w][r->cls] && s_word_matches (t, r, w, at + (size_t) w);
    if (!match)
      continue;
    for (int w = 0; w < r->nwords; w++)
      taken[at + (size_t) w][r->cls] = true;
    score[r->cls] += r->weight;
  }
}

static void
s_text_fill (s_text_t *t, const char *norm)
{
  t->tokens = at_malloc (S_TOKENS_MAX * AT_TOKEN_MAX);
  t->n = at_text_tokenize (norm, t->tokens, S_TOKENS_MAX);
  for (int l = 1; l < 4; l++) {
    at_stemmer_t *stemmer = at_stemmer_new ((at_lang_t) l);
    t->stems[l] = at_malloc ((t->n ? t->n : 1) * AT_TOKEN_MAX);
    for (size_t i = 0; i < t->n; i++)
      at_stemmer_stem (stemmer, t->tokens[i], t->stems[l][i], AT_TOKEN_MAX);
    at_stemmer_destroy (&stemmer);
  }
}

static void
s_text_free (s_text_t *t)
{
  free (t->tokens);
  for (int l = 1; l < 4; l++)
    free (t->stems[l]);
}

/* Angry faces (UTF-8): 😡 🤬 😠 👎 😤. */
static const char *const s_angry[] = {
  "\xF0\x9F\x98\xA1", "\xF0\x9F\xA4\xAC", "\xF0\x9F\x98\xA0", "\xF0\x9F\x91\x8E",
  "\xF0\x9F\x98\xA4",
};

unsigned
at_priority_reasons (const char *text)
{
  if (!text)
    return 0;
  char *norm = at_text_normalize (text, strnlen (text, AT_TEXT_MAX + 1));
  if (!norm)
    return 0;
  pthread_once (&s_once, s_compile);
  s_text_t t = { 0 };
  s_text_fill (&t, norm);
  bool (*taken)[S_CLASSES] = at_calloc (t.n ? t.n : 1, sizeof *taken);
  int score[S_CLASSES] = { 0 };
  for (size_t i = 0; i < s_rules_n; i++)
    s_score_rule (&t, &s_rules[i], taken, score);
  free (taken);
  s_text_free (&t);
  free (norm);
  for (size_t i = 0; i < AT_ARRAY_LEN (s_angry) && score[S_NEGATIVE] == 0; i++)
    if (strstr (text, s_angry[i]))
      score[S_NEGATIVE]++;
  return (score[S_URGENT] > 0 ? AT_PRIORITY_URGENT : 0u)
         | (score[S_AGENCY] > 0 ? AT_PRIORITY_AGENCY : 0u)
         | (score[S_NEGATIVE] > 0 ? AT_PRIORITY_NEGATIVE : 0u);
}

const char *
at_priority_reasons_text (unsigned reasons, char *out, size_t cap)
{
  static const char *const names[AT_PRIORITY_REASONS] = {
    "urgent", "agency", "negative_tone", "complaint", "repeat_contact", "low_survey_score",
  };
  size_t used = 0;
  out[0] = '\0';
  for (int i = 0; i < AT_PRIORITY_REASONS; i++) {
    if (!(reasons & (1u << i)))
      continue;
    int n = snprintf (out + used, cap - used, "%s%s", used ? "," : "", names[i]);
    if (n < 0 || (size_t) n >= cap - used) {
      out[used] = '\0';                 /* whole names only */
      break;
    }
    used += (size_t) n;
  }
  return out;
}

int
at_priority_classify (const char *text)
{
  return at_priority_reasons (text) ? AT_PRIORITY_HIGH : AT_PRIORITY_NORMAL;
}

const char *
at_priority_name (int priority)
{
  return priority == AT_PRIORITY_HIGH ? "high" : "normal";
}
