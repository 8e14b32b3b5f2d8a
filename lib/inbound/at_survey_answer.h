/* A survey answer typed in the channel (pure, unit-tested, fuzzed):
 * "5", "nota 9", "10!", "dou 8", "9/10", "⭐⭐⭐⭐", "péssimo", "muito bom",
 * the WhatsApp list's ids "csat:4" / "nps:9", in Portuguese, English and
 * Spanish. A message is an answer only when all of it is: a score and words
 * that go with one ("nota", "minha nota é", "obrigado"). Anything else (two
 * scores, "entre 7 e 8", "5 ou 6", a decimal, a negation, a sentence, more
 * than AT_SURVEY_ANSWER_MAX bytes) is not an answer: the message goes on as
 * a normal one. */
#ifndef AT_SURVEY_ANSWER_H
#define AT_SURVEY_ANSWER_H

#include <stddef.h>

#define AT_SURVEY_ANSWER_MAX 80     /* bytes: a longer message is never an answer */

typedef enum {
  AT_SURVEY_CSAT,                   /* 1..5: numbers, stars, words */
  AT_SURVEY_NPS,                    /* 0..10: numbers only */
} at_survey_scale_t;

typedef enum {
  AT_SURVEY_NOT_ANSWER,             /* a normal message */
  AT_SURVEY_SCORE,                  /* *score_out holds the score */
  AT_SURVEY_OUT_OF_RANGE,           /* one number (0..99) alone, outside the scale: say the range */
} at_survey_reply_t;

/* Reads text[0..len) (UTF-8, need not be NUL-terminated) as an answer on
 * scale. */
at_survey_reply_t at_survey_answer_parse (const char *text, size_t len, at_survey_scale_t scale,
                                          int *score_out);

/* "csat" | "nps" -> the scale; -1 for another kind. */
int at_survey_scale_of (const char *kind);

#endif
