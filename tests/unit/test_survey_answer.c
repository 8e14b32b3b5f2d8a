/* Survey answers typed in the channel (at_survey_answer_parse): what a
 * customer really writes after "De 0 a 10..." or "Responda de 1 a 5". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include "at_survey_answer.h"

typedef struct {
  const char *text;
  at_survey_reply_t reply;
  int score;                       /* when reply is AT_SURVEY_SCORE or OUT_OF_RANGE */
} s_case_t;

static void
s_run (const s_case_t *cases, size_t n, at_survey_scale_t scale)
{
  for (size_t i = 0; i < n; i++) {
    int score = -7;
    at_survey_reply_t r = at_survey_answer_parse (cases[i].text, strlen (cases[i].text), scale,
                                                  &score);
    if (r != cases[i].reply || (r != AT_SURVEY_NOT_ANSWER && score != cases[i].score))
      fail_msg ("%s \"%s\": reply %d score %d, expected reply %d score %d",
                scale == AT_SURVEY_NPS ? "nps" : "csat", cases[i].text, (int) r, score,
                (int) cases[i].reply, cases[i].score);
  }
}

#define S AT_SURVEY_SCORE
#define R AT_SURVEY_OUT_OF_RANGE
#define N AT_SURVEY_NOT_ANSWER

static void
test_nps (void **state)
{
  (void) state;
  static const s_case_t cases[] = {
    {"9", S, 9}, {"10", S, 10}, {"0", S, 0}, {" 7 ", S, 7}, {"10!", S, 10}, {"10!!!", S, 10},
    {"nota 9", S, 9}, {"Nota 10", S, 10}, {"NOTA: 8", S, 8}, {"dou 8", S, 8},
    {"minha nota é 7", S, 7}, {"Minha nota é 10, obrigado!", S, 10}, {"9/10", S, 9},
    {"9 de 10", S, 9}, {"nota 9 de 10", S, 9}, {"8 out of 10", S, 8}, {"my score is 6", S, 6},
    {"I give it a 9", S, 9}, {"mi nota es 10", S, 10}, {"doy 5", S, 5}, {"dez", S, 10},
    {"nove", S, 9}, {"ten", S, 10}, {"diez", S, 10}, {"zero", S, 0}, {"cero", S, 0},
    {"10 😍", S, 10}, {"💯 10", S, 10}, {"nps:9", S, 9}, {"nps:0", S, 0}, {"nps:10", S, 10},
    {"10 excelente", S, 10}, {"Nota 10!! Valeu", S, 10}, {"5\xEF\xB8\x8F\xE2\x83\xA3", S, 5},
    /* out of range: one number alone */
    {"11", R, 11}, {"nota 11", R, 11}, {"20", R, 20}, {"99", R, 99}, {"nps:11", R, 11},
    /* not answers */
    {"", N, 0}, {"oi", N, 0}, {"obrigado", N, 0}, {"excelente", N, 0}, {"péssimo", N, 0},
    {"⭐⭐⭐⭐⭐", N, 0}, {"entre 7 e 8", N, 0}, {"7 ou 8", N, 0}, {"5 ou 6", N, 0},
    {"7 8", N, 0}, {"9,5", N, 0}, {"8.5", N, 0}, {"100", N, 0}, {"1000", N, 0},
    {"meu pedido 12345 não chegou", N, 0}, {"pedido 123456", N, 0},
    {"cadê meu pedido?", N, 0}, {"não", N, 0}, {"nota 10 mas o produto veio quebrado", N, 0},
    {"chego às 10", N, 0}, {"10 reais", N, 0}, {"👍", N, 0}, {"ok", N, 0},
    {"csat:4", N, 0}, {"nps:x", N, 0}, {"nps:", N, 0}, {"nps:123", N, 0},
    {"quero falar com um atendente", N, 0}, {"10 de 5", N, 0}, {"3 de 4", N, 0},
    {"Olá, gostaria de saber quando chega o meu pedido número 10 que comprei ontem", N, 0},
  };
  s_run (cases, sizeof cases / sizeof cases[0], AT_SURVEY_NPS);
}

static void
test_csat (void **state)
{
  (void) state;
  static const s_case_t cases[] = {
    {"5", S, 5}, {"1", S, 1}, {"4!", S, 4}, {"nota 3", S, 3}, {"4/5", S, 4}, {"5 de 5", S, 5},
    {"⭐⭐⭐⭐", S, 4}, {"★★★", S, 3}, {"⭐", S, 1}, {"⭐⭐⭐⭐⭐ obrigado", S, 5},
    {"5 ⭐", S, 5}, {"5⭐", S, 5}, {"⭐⭐⭐ 3", S, 3}, {"5 estrelas", S, 5}, {"3 stars", S, 3},
    {"péssimo", S, 1}, {"Péssimo!", S, 1}, {"PESSIMO", S, 1}, {"horrível", S, 1},
    {"ruim", S, 2}, {"muito ruim", S, 1}, {"regular", S, 3}, {"bom", S, 4}, {"muito bom", S, 4 + 1},
    {"ótimo", S, 5}, {"Ótimo atendimento", S, 5}, {"excelente", S, 5}, {"excellent", S, 5},
    {"terrible", S, 1}, {"bad", S, 2}, {"good", S, 4}, {"very good", S, 5}, {"great", S, 5},
    {"pésimo", S, 1}, {"malo", S, 2}, {"bueno", S, 4}, {"muy bueno", S, 5}, {"excelente!!", S, 5},
    {"5 ótimo", S, 5}, {"1 péssimo", S, 1}, {"cinco", S, 5}, {"five", S, 5}, {"csat:4", S, 4},
    {"csat:1", S, 1}, {"nota 5, obrigada", S, 5},
    /* out of range */
    {"0", R, 0}, {"6", R, 6}, {"10", R, 10}, {"nota 0", R, 0}, {"csat:9", R, 9}, {"csat:0", R, 0},
    /* not answers */
    {"bom dia", N, 0}, {"boa tarde", N, 0}, {"não foi bom", N, 0}, {"nada bom", N, 0},
    {"5 ruim", N, 0}, {"bom mas ruim", N, 0}, {"ótimo e péssimo", N, 0}, {"⭐⭐⭐ 5", N, 0},
    {"⭐⭐⭐⭐⭐⭐⭐", N, 0}, {"4 ou 5", N, 0}, {"entre 3 e 4", N, 0}, {"👍", N, 0}, {"👎", N, 0},
    {"nps:9", N, 0}, {"o produto chegou quebrado, péssimo", N, 0}, {"quero devolver", N, 0},
    {"4,5", N, 0}, {"100", N, 0}, {"sim", N, 0},
  };
  s_run (cases, sizeof cases / sizeof cases[0], AT_SURVEY_CSAT);
}

static void
test_bytes (void **state)
{
  (void) state;
  int score = 0;
  /* not UTF-8, embedded NUL, too long */
  assert_int_equal (at_survey_answer_parse ("\xff\xfe" "5", 3, AT_SURVEY_CSAT, &score), N);
  assert_int_equal (at_survey_answer_parse ("5\0" "9", 3, AT_SURVEY_NPS, &score), N);
  char long_text[200];
  memset (long_text, ' ', sizeof long_text);
  long_text[0] = '9';
  assert_int_equal (at_survey_answer_parse (long_text, sizeof long_text, AT_SURVEY_NPS, &score), N);
  assert_int_equal (at_survey_answer_parse ("9", 1, AT_SURVEY_NPS, &score), S);
  assert_int_equal (score, 9);
  assert_int_equal (at_survey_answer_parse (NULL, 0, AT_SURVEY_NPS, &score), N);
  assert_int_equal (at_survey_scale_of ("csat"), AT_SURVEY_CSAT);
  assert_int_equal (at_survey_scale_of ("nps"), AT_SURVEY_NPS);
  assert_int_equal (at_survey_scale_of ("ces"), -1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_nps),
    cmocka_unit_test (test_csat),
    cmocka_unit_test (test_bytes),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
