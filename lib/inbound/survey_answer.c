/* A survey answer typed in the channel (see at_survey_answer.h).
 *
 * The text is cut into tokens: words (letters folded to lower-case ASCII,
 * accents dropped), numbers (digits; a decimal is refused), "/", stars.
 * Other characters (spaces, punctuation, other emoji) separate tokens. Every
 * word must be a score word (CSAT), a number word, or a word that goes with
 * a score ("nota", "dou", "obrigado"); one unknown word and the message is
 * not an answer. Then: one score, or agreeing ones ("5 ótimo", "9/10",
 * "nota 9 de 10"), is the answer. */
#include <string.h>
#include <unistr.h>
#include "at_survey_answer.h"
#include "at_common.h"

#define S_WORD_MAX 24
#define S_TOKENS_MAX 12

typedef enum { S_WORD, S_NUMBER, S_SLASH } s_kind_t;

typedef struct {
  s_kind_t kind;
  char word[S_WORD_MAX + 1];
  int number;                   /* S_NUMBER: value (capped at 1000) */
  int digits;
} s_token_t;

typedef struct {
  s_token_t tok[S_TOKENS_MAX];
  int n;
  int stars;
  bool refuse;                  /* a decimal, a thumb, too many tokens, a word too long */
} s_scan_t;

/* Words that go with a score and say nothing else. */
static const char *const s_fillers[] = {
  "nota", "notas", "dou", "daria", "dar", "minha", "meu", "e", "eu", "a", "o", "um", "uma",
  "de", "ponto", "pontos", "estrela", "estrelas", "obrigado", "obrigada", "obg", "vlw", "valeu",
  "pra", "para", "voces", "vcs", "vc", "voce", "sua", "seu", "atendimento", "resposta", "ta",
  "la", "aqui", "vai", "fica",
  "my", "score", "rating", "rate", "i", "give", "it", "is", "of", "out", "star", "stars",
  "thanks", "thank", "you", "ty", "would", "points", "point", "grade",
  "mi", "doy", "le", "calificacion", "puntuacion", "puntaje", "puntos", "estrella",
  "estrellas", "gracias", "es", "un", "su", "les",
};

/* CSAT words and their scores; "muito"/"very"/"muy" make 2 a 1 and 4 a 5. */
static const struct { const char *word; int score; } s_score_words[] = {
  {"pessimo", 1}, {"pessima", 1}, {"horrivel", 1}, {"terrivel", 1}, {"terrible", 1},
  {"awful", 1}, {"horrible", 1}, {"pesimo", 1}, {"pesima", 1}, {"horrendo", 1},
  {"ruim", 2}, {"bad", 2}, {"poor", 2}, {"malo", 2}, {"mala", 2},
  {"regular", 3}, {"razoavel", 3}, {"mediano", 3}, {"average", 3}, {"fair", 3},
  {"bom", 4}, {"boa", 4}, {"good", 4}, {"bueno", 4}, {"buena", 4}, {"bien", 4},
  {"otimo", 5}, {"otima", 5}, {"excelente", 5}, {"excellent", 5}, {"great", 5},
  {"perfeito", 5}, {"perfeita", 5}, {"perfect", 5}, {"excelent", 5}, {"maravilhoso", 5},
  {"amazing", 5}, {"perfecto", 5}, {"perfecta", 5}, {"genial", 5},
};

static const char *const s_intensifiers[] = { "muito", "very", "muy", "super" };

/* Number words 0..10 in the three languages (index = value). */
static const char *const s_numbers[][3] = {
  {"zero", "zero", "cero"}, {"um", "one", "uno"}, {"dois", "two", "dos"},
  {"tres", "three", "tres"}, {"quatro", "four", "cuatro"}, {"cinco", "five", "cinco"},
  {"seis", "six", "seis"}, {"sete", "seven", "siete"}, {"oito", "eight", "ocho"},
  {"nove", "nine", "nueve"}, {"dez", "ten", "diez"},
};

static bool
s_in (const char *word, const char *const *list, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (word, list[i]) == 0)
      return true;
  return false;
}

/* A Latin letter folded to lower-case ASCII, or 0. */
static char
s_fold (ucs4_t c)
{
  static const struct { ucs4_t from, to; char ascii; } ranges[] = {
    {0xE0, 0xE5, 'a'}, {0xC0, 0xC5, 'a'}, {0xE7, 0xE7, 'c'}, {0xC7, 0xC7, 'c'},
    {0xE8, 0xEB, 'e'}, {0xC8, 0xCB, 'e'}, {0xEC, 0xEF, 'i'}, {0xCC, 0xCF, 'i'},
    {0xF2, 0xF6, 'o'}, {0xD2, 0xD6, 'o'}, {0xF9, 0xFC, 'u'}, {0xD9, 0xDC, 'u'},
    {0xF1, 0xF1, 'n'}, {0xD1, 0xD1, 'n'},
  };
  if (c >= 'a' && c <= 'z')
    return (char) c;
  if (c >= 'A' && c <= 'Z')
    return (char) (c - 'A' + 'a');
  for (size_t i = 0; i < AT_ARRAY_LEN (ranges); i++)
    if (c >= ranges[i].from && c <= ranges[i].to)
      return ranges[i].ascii;
  return 0;
}

static s_token_t *
s_push (s_scan_t *s, s_kind_t kind)
{
  if (s->n >= S_TOKENS_MAX) {
    s->refuse = true;
    return NULL;
  }
  s_token_t *t = &s->tok[s->n++];
  memset (t, 0, sizeof *t);
  t->kind = kind;
  return t;
}

/* One code point into the scan; cur is the token being built (or NULL). */
static s_token_t *
s_feed (s_scan_t *s, s_token_t *cur, ucs4_t c, ucs4_t next)
{
  char letter = s_fold (c);
  if (letter) {
    if (!cur || cur->kind != S_WORD)
      cur = s_push (s, S_WORD);
    size_t len = cur ? strlen (cur->word) : 0;
    if (cur && len < S_WORD_MAX)
      cur->word[len] = letter;
    else if (cur)
      s->refuse = true;
    return cur;
  }
  if (c >= '0' && c <= '9') {
    if (!cur || cur->kind != S_NUMBER)
      cur = s_push (s, S_NUMBER);
    if (cur) {
      cur->number = cur->number * 10 + (int) (c - '0');
      cur->number = cur->number > 1000 ? 1000 : cur->number;
      cur->digits++;
    }
    return cur;
  }
  if ((c == '.' || c == ',') && cur && cur->kind == S_NUMBER && next >= '0' && next <= '9')
    s->refuse = true;                    /* 9.5, 8,5: not a score */
  else if (c == '/')
    s_push (s, S_SLASH);
  else if (c == 0x2B50 || c == 0x2605 || c == 0x1F31F)
    s->stars++;                          /* ⭐ ★ 🌟 */
  else if (c == 0x1F44D || c == 0x1F44E)
    s->refuse = true;                    /* 👍 👎: "ok" as often as a score */
  return NULL;
}

static bool
s_scan (const uint8_t *p, size_t len, s_scan_t *s)
{
  memset (s, 0, sizeof *s);
  s_token_t *cur = NULL;
  size_t i = 0;
  while (i < len && !s->refuse) {
    ucs4_t c = 0, next = 0;
    int n = u8_mbtouc (&c, p + i, len - i);
    if (n <= 0)
      return false;
    if (i + (size_t) n < len)
      u8_mbtouc (&next, p + i + n, len - i - n);
    cur = s_feed (s, cur, c, next);
    i += (size_t) n;
  }
  return !s->refuse;
}

/* "csat:4" / "nps:9": the WhatsApp list's row ids, the whole text. */
static bool
s_list_id (const char *text, size_t len, at_survey_scale_t scale, at_survey_reply_t *reply,
           int *score)
{
  const char *prefix = scale == AT_SURVEY_NPS ? "nps:" : "csat:";
  size_t plen = strlen (prefix);
  if (len <= plen || len > plen + 2 || memcmp (text, prefix, plen) != 0)
    return false;
  int v = 0;
  for (size_t i = plen; i < len; i++) {
    if (text[i] < '0' || text[i] > '9')
      return false;
    v = v * 10 + (text[i] - '0');
  }
  *score = v;
  *reply = (scale == AT_SURVEY_NPS ? v <= 10 : v >= 1 && v <= 5) ? AT_SURVEY_SCORE
                                                                  : AT_SURVEY_OUT_OF_RANGE;
  return true;
}

/* The meaning of the words: *word_score (CSAT words; -1 none, -2 two that
 * disagree), number words appended to numbers. False for an unknown word. */
static bool
s_words (s_scan_t *s, at_survey_scale_t scale, int *word_score, int numbers[4], int *nn)
{
  bool intense = false;
  *word_score = -1;
  for (int i = 0; i < s->n; i++) {
    s_token_t *t = &s->tok[i];
    if (t->kind == S_NUMBER) {
      if (t->digits > 3)
        return false;                    /* an order number, a phone: not a score */
      if (*nn < 4)
        numbers[(*nn)++] = t->number;
      continue;
    }
    if (t->kind != S_WORD)
      continue;
    int value = -1;
    for (int v = 0; v <= 10 && value < 0; v++)
      if (s_in (t->word, s_numbers[v], 3))
        value = v;
    /* "um"/"uma"/"un" are articles as often as numbers: fillers */
    if (value == 1 && (strcmp (t->word, "um") == 0))
      value = -1;
    if (value >= 0) {
      if (*nn < 4)
        numbers[(*nn)++] = value;
      continue;
    }
    if (s_in (t->word, s_intensifiers, AT_ARRAY_LEN (s_intensifiers))) {
      intense = true;
      continue;
    }
    int ws = -1;
    for (size_t k = 0; k < AT_ARRAY_LEN (s_score_words) && ws < 0; k++)
      if (strcmp (t->word, s_score_words[k].word) == 0)
        ws = s_score_words[k].score;
    if (ws < 0 && !s_in (t->word, s_fillers, AT_ARRAY_LEN (s_fillers)))
      return false;
    if (ws >= 0 && scale == AT_SURVEY_CSAT) {
      ws = intense && ws == 2 ? 1 : intense && ws == 4 ? 5 : ws;
      *word_score = *word_score == -1 || *word_score == ws ? ws : -2;
    }
  }
  return true;
}

/* "9/10", "9 de 10": two numbers, the second the scale's top. */
static int
s_out_of (const int numbers[4], int nn, int top)
{
  if (nn == 2 && numbers[1] == top && numbers[0] <= top)
    return numbers[0];
  return -1;
}

at_survey_reply_t
at_survey_answer_parse (const char *text, size_t len, at_survey_scale_t scale, int *score_out)
{
  at_survey_reply_t reply = AT_SURVEY_NOT_ANSWER;
  s_scan_t s;
  int numbers[4], nn = 0, word_score = -1, score = -1;
  *score_out = -1;
  if (!text || len == 0 || len > AT_SURVEY_ANSWER_MAX || u8_check ((const uint8_t *) text, len))
    return AT_SURVEY_NOT_ANSWER;
  if (s_list_id (text, len, scale, &reply, &score)) {
    *score_out = score;
    return reply;
  }
  if (!s_scan ((const uint8_t *) text, len, &s) || !s_words (&s, scale, &word_score, numbers, &nn))
    return AT_SURVEY_NOT_ANSWER;
  int top = scale == AT_SURVEY_NPS ? 10 : 5;
  int stars = scale == AT_SURVEY_CSAT ? s.stars : 0;
  if (s.stars > 0 && scale == AT_SURVEY_NPS)
    return AT_SURVEY_NOT_ANSWER;          /* NPS is a number */
  if (nn == 1)
    score = numbers[0];
  else if (nn == 2)
    score = s_out_of (numbers, nn, top);
  else if (nn > 2)
    return AT_SURVEY_NOT_ANSWER;
  if (nn == 2 && score < 0)
    return AT_SURVEY_NOT_ANSWER;          /* "entre 7 e 8", "5 ou 6" */
  if (stars > 0 && score < 0)
    score = stars;                        /* ⭐⭐⭐⭐ */
  else if (stars > 1 && stars != score)
    return AT_SURVEY_NOT_ANSWER;          /* "5 ⭐⭐⭐": which one? */
  if (word_score == -2 || (word_score >= 0 && score >= 0 && word_score != score))
    return AT_SURVEY_NOT_ANSWER;          /* "5 ruim" */
  if (score < 0)
    score = word_score;
  if (score < 0)
    return AT_SURVEY_NOT_ANSWER;
  if (score >= (scale == AT_SURVEY_NPS ? 0 : 1) && score <= top)
    reply = AT_SURVEY_SCORE;
  else if (score < 100 && stars == 0)
    reply = AT_SURVEY_OUT_OF_RANGE;
  if (reply != AT_SURVEY_NOT_ANSWER)
    *score_out = score;                   /* -1 stays for a message that is no answer */
  return reply;
}

int
at_survey_scale_of (const char *kind)
{
  if (kind && strcmp (kind, "csat") == 0)
    return AT_SURVEY_CSAT;
  if (kind && strcmp (kind, "nps") == 0)
    return AT_SURVEY_NPS;
  return -1;
}
