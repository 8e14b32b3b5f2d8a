/* Surveys in the store (placeholder while being written). */
#include "at_survey.h"
int at_store_survey_status (at_store_t *store, const char *survey_id, char kind_out[8], bool *answered_out)
{ (void) store; (void) survey_id; kind_out[0] = 0; *answered_out = false; return AT_NOTFOUND; }
