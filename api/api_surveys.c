/* api_surveys: POST /v1/surveys/{token}, a customer's answer by the signed
 * link of a survey, published to the survey stage. The token's payload is
 * the survey id, signed with cfg->survey_secret (at_token_sign). */
#include <stdlib.h>
#include <string.h>
#include "api_internal.h"
#include "at_crypto.h"
#include "at_json.h"
#include "at_store_survey.h"
#include "domain.pb-c.h"

#define S_COMMENT_MAX 4096

int
api_survey_answer_parse (const char *survey_id, const char *kind, const char *body,
                         size_t len, const char *trace_id, at_msg_t **out, api_problem_t *p)
{
  const char *comment = NULL;
  long long score = 0;
  char key[AT_KEY_LEN];
  int rc = AT_INVALID;
  json_t *obj = api_body_object (body, len, p);
  if (!obj)
    return AT_INVALID;
  int got = at_json_get_int (obj, "score", -1000000, 1000000, &score);
  if (got == AT_NOTFOUND) {
    api_problem (p, 400, "score", "field \"score\" is required");
    goto out;
  }
  if (got != AT_OK) {
    json_t *v = json_object_get (obj, "score");
    if (v && json_is_integer (v))
      api_problem (p, 422, "score", "score out of range");
    else
      api_problem (p, 400, "score", "field \"score\" must be an integer");
    goto out;
  }
  if (api_field_string (obj, "comment", S_COMMENT_MAX, false, &comment, p))
    goto out;
  if (!at_survey_score_valid (kind, (int) score)) {
    api_problem (p, 422, "score", "a %s score is %s", kind,
                 strcmp (kind, "nps") == 0 ? "0 to 10" : "1 to 5");
    goto out;
  }
  Atende__SurveyAnswer answer = ATENDE__SURVEY_ANSWER__INIT;
  answer.survey_id = (char *) survey_id;
  answer.score = (int32_t) score;
  answer.comment = (char *) (comment ? comment : "");
  size_t plen = atende__survey_answer__get_packed_size (&answer);
  uint8_t *payload = at_malloc (plen + 1);
  atende__survey_answer__pack (&answer, payload);
  snprintf (key, sizeof key, "survey:%s", survey_id);
  *out = at_msg_new (AT_STAGE_SURVEY, AT_TYPE_SURVEY_ANSWER, key, trace_id, payload, plen);
  free (payload);
  rc = *out ? AT_OK : api_problem (p, 404, NULL, "no survey with this link");
out:
  json_decref (obj);
  return rc;
}

void
api_surveys_post (api_request_t *req)
{
  api_problem_t p;
  char survey_id[API_PARAM_MAX], kind[8] = "";
  bool answered = false;
  at_msg_t *msg = NULL;
  const char *secret = req->cfg->survey_secret;
  if (!secret || !secret[0]
      || at_token_verify (secret, req->param, survey_id, sizeof survey_id) != AT_OK) {
    api_problem (&p, 404, NULL, "no survey with this link");
    api_reply_problem (req, &p);
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  int rc = at_store_survey_status (store, survey_id, kind, &answered);
  if (rc == AT_NOTFOUND)
    api_problem (&p, 404, NULL, "no survey with this link");
  else if (rc != AT_OK) {
    api_reply_store_failed (req);
    return;
  }
  else if (answered)
    api_problem (&p, 409, NULL, "this survey is answered already");
  else if (api_survey_answer_parse (survey_id, kind, req->body, req->body_len,
                                    api_trace_id (req), &msg, &p) == AT_OK) {
    if (api_publish (req, msg) == AT_OK)
      api_reply_json (req, 202, json_pack ("{s:s, s:s}", "id", msg->id, "status", "accepted"));
    at_msg_destroy (&msg);
    return;
  }
  api_reply_problem (req, &p);
}
