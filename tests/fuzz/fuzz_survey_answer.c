/* Fuzz: survey answers typed in the channel (at_survey_answer_parse) on any
 * bytes, on both scales. Whatever comes in: a score only inside the scale,
 * an out-of-range reply only for 0..99 outside it, the same answer twice. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "at_survey_answer.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  for (int s = 0; s < 2; s++) {
    at_survey_scale_t scale = s == 0 ? AT_SURVEY_CSAT : AT_SURVEY_NPS;
    int score = -1, again = -1;
    at_survey_reply_t r = at_survey_answer_parse ((const char *) data, size, scale, &score);
    if (at_survey_answer_parse ((const char *) data, size, scale, &again) != r || again != score)
      abort ();
    int low = scale == AT_SURVEY_NPS ? 0 : 1, top = scale == AT_SURVEY_NPS ? 10 : 5;
    if (r == AT_SURVEY_SCORE && (score < low || score > top))
      abort ();
    if (r == AT_SURVEY_OUT_OF_RANGE && ((score >= low && score <= top) || score < 0 || score > 99))
      abort ();
    if (r == AT_SURVEY_NOT_ANSWER && score != -1)
      abort ();
  }
  return 0;
}
