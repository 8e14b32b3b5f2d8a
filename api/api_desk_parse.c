/* api_desk_parse: the desk's request bodies checked (api_desk.h), pure:
 * every refusal a problem naming the field, nothing else done. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "api_desk.h"

#define S_WEIGHT_MAX 1000.0
#define S_CHANNEL_MAX 32

bool
api_desk_team_name_ok (const char *name)
{
  size_t n = name ? strlen (name) : 0;
  if (n == 0 || n > AT_DESK_TEAM_MAX || !(islower ((unsigned char) name[0])
                                          || isdigit ((unsigned char) name[0])))
    return false;
  for (size_t i = 1; i < n; i++) {
    unsigned char c = (unsigned char) name[i];
    if (!(islower (c) || isdigit (c) || c == '_' || c == '.' || c == '-'))
      return false;
  }
  return true;
}

/* A language tag as BCP 47 writes the common ones: xx or xxx, then -subtags. */
static bool
s_language_ok (const char *tag)
{
  size_t n = 0;
  while (isalpha ((unsigned char) tag[n]))
    n++;
  if (n < 2 || n > 3)
    return false;
  for (const char *c = tag + n; *c;) {
    if (*c++ != '-')
      return false;
    size_t k = 0;
    while (isalnum ((unsigned char) c[k]))
      k++;
    if (k < 1 || k > 8)
      return false;
    c += k;
  }
  return n > 0;
}

static bool
s_skill_ok (const char *skill)
{
  size_t n = strlen (skill);
  if (n == 0 || n > AT_DESK_SKILL_MAX)
    return false;
  for (const unsigned char *c = (const unsigned char *) skill; *c; c++)
    if (*c < 0x21 || *c == 0x7F || *c == ',' || *c == '"' || *c == '{' || *c == '}')
      return false;
  return true;
}

typedef bool (s_item_ok_fn) (const char *);

/* An optional array field of at most max strings each item_ok: its JSON
 * text into *out (owned), NULL when absent. */
static int
s_array (const json_t *obj, const char *field, size_t max, s_item_ok_fn *item_ok, const char *what,
         char **out, api_problem_t *p)
{
  const json_t *v = json_object_get (obj, field);
  *out = NULL;
  if (!v)
    return AT_OK;
  if (!json_is_array (v) || json_array_size (v) > max)
    return api_problem (p, 422, field, "%s must be an array of at most %zu strings", field, max);
  for (size_t i = 0; i < json_array_size (v); i++) {
    const json_t *item = json_array_get (v, i);
    const char *text = json_string_value (item);
    if (!text || json_string_length (item) != strlen (text) || !item_ok (text))
      return api_problem (p, 422, field, "%s[%zu] must be %s", field, i, what);
  }
  *out = json_dumps (v, JSON_COMPACT);
  return *out ? AT_OK : api_problem (p, 422, field, "%s cannot be read", field);
}

static bool
s_weight_ok (const json_t *v)
{
  return json_is_number (v) && json_number_value (v) >= 0
         && json_number_value (v) <= S_WEIGHT_MAX;
}

static int
s_capacity (const json_t *obj, api_desk_agent_body_t *out, api_problem_t *p)
{
  const json_t *cap = json_object_get (obj, "capacity");
  if (!cap)
    return AT_OK;
  if (!json_is_object (cap))
    return api_problem (p, 422, "capacity", "capacity must be an object {limit, weights}");
  const json_t *limit = json_object_get (cap, "limit"), *weights = json_object_get (cap, "weights");
  if (limit && !s_weight_ok (limit))
    return api_problem (p, 422, "capacity.limit", "capacity.limit must be a number from 0 to 1000");
  if (limit)
    snprintf (out->limit, sizeof out->limit, "%.3f", json_number_value (limit));
  if (!weights)
    return AT_OK;
  if (!json_is_object (weights) || json_object_size (weights) > 32)
    return api_problem (p, 422, "capacity.weights", "capacity.weights must be an object of at"
                        " most 32 channel: weight");
  const char *channel;
  const json_t *w;
  json_object_foreach ((json_t *) weights, channel, w) {
    if (!s_weight_ok (w) || strlen (channel) == 0 || strlen (channel) > S_CHANNEL_MAX
        || !api_desk_team_name_ok (channel))
      return api_problem (p, 422, "capacity.weights", "capacity.weights.%.32s must be a number"
                          " from 0 to 1000 for a channel name", channel);
  }
  out->weights = json_dumps (weights, JSON_COMPACT | JSON_REAL_PRECISION (6));
  return AT_OK;
}

static bool
s_team_item_ok (const char *t)
{
  return api_desk_team_name_ok (t);
}

int
api_desk_agent_parse (const char *body, size_t len, api_desk_agent_body_t *out, api_problem_t *p)
{
  memset (out, 0, sizeof *out);
  json_t *obj = api_body_object (body, len, p);
  if (!obj)
    return AT_INVALID;
  int rc = s_array (obj, "teams", AT_DESK_TEAMS_MAX, s_team_item_ok, "a team name", &out->teams,
                    p);
  if (rc == AT_OK)
    rc = s_array (obj, "skills", AT_DESK_SKILLS_MAX, s_skill_ok,
                  "a tag of 1 to 64 characters without spaces", &out->skills, p);
  if (rc == AT_OK)
    rc = s_array (obj, "languages", AT_DESK_LANGUAGES_MAX, s_language_ok,
                  "a language tag such as pt-BR or en", &out->languages, p);
  if (rc == AT_OK)
    rc = s_capacity (obj, out, p);
  json_decref (obj);
  if (rc != AT_OK)
    api_desk_agent_body_clear (out);
  return rc;
}

void
api_desk_agent_body_clear (api_desk_agent_body_t *b)
{
  free (b->teams);
  free (b->skills);
  free (b->languages);
  free (b->weights);
  memset (b, 0, sizeof *b);
}

int
api_desk_presence_parse (const char *body, size_t len, const char **out, api_problem_t *p)
{
  static const char *const known[] = {"online", "away", "offline"};
  json_t *obj = api_body_object (body, len, p);
  if (!obj)
    return AT_INVALID;
  const char *v = json_string_value (json_object_get (obj, "presence"));
  *out = NULL;
  for (size_t i = 0; v && i < AT_ARRAY_LEN (known); i++)
    if (strcmp (v, known[i]) == 0)
      *out = known[i];
  json_decref (obj);
  return *out ? AT_OK : api_problem (p, 422, "presence", "presence must be online, away or"
                                     " offline");
}

int
api_desk_target_parse (const char *body, size_t len, bool transfer, int64_t *agent_id,
                       char team[AT_DESK_TEAM_MAX + 1], api_problem_t *p)
{
  json_t *obj = api_body_object (body, len, p);
  if (!obj)
    return AT_INVALID;
  const json_t *a = json_object_get (obj, "agent_id"), *t = json_object_get (obj, "team");
  int rc = AT_OK;
  *agent_id = 0;
  team[0] = '\0';
  if (!transfer && t)
    rc = api_problem (p, 422, "team", "assign takes agent_id; to move a ticket to a team use"
                      " /transfer");
  else if (transfer && (a != NULL) == (t != NULL))
    rc = api_problem (p, 422, "team", "transfer takes exactly one of team and agent_id");
  else if (a && (!json_is_integer (a) || json_integer_value (a) <= 0))
    rc = api_problem (p, 422, "agent_id", "agent_id must be a positive integer (a user id)");
  else if (!a && !t)
    rc = api_problem (p, 422, "agent_id", "field \"agent_id\" is required");
  else if (t && !api_desk_team_name_ok (json_string_value (t)))
    rc = api_problem (p, 422, "team", "team must be a team name");
  else if (a)
    *agent_id = json_integer_value (a);
  else
    at_strlcpy (team, json_string_value (t), AT_DESK_TEAM_MAX + 1);
  json_decref (obj);
  return rc;
}
