/* The desk's pure parts: widening by waiting time, queue ranks, the
 * language an agent must speak, the widened label; and the api's checks of
 * the desk's request bodies (each refusal names its field). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "route/desk.h"
#include "api_desk.h"

static void
test_widen (void **state)
{
  (void) state;
  assert_int_equal (wrk_route_desk_widen (0, 600), WRK_DESK_WIDEN_NONE);
  assert_int_equal (wrk_route_desk_widen (599.9, 600), WRK_DESK_WIDEN_NONE);
  assert_int_equal (wrk_route_desk_widen (600, 600), WRK_DESK_WIDEN_SKILLS);
  assert_int_equal (wrk_route_desk_widen (1199, 600), WRK_DESK_WIDEN_SKILLS);
  assert_int_equal (wrk_route_desk_widen (1200, 600), WRK_DESK_WIDEN_LANGUAGE);
  assert_int_equal (wrk_route_desk_widen (1e9, 0), WRK_DESK_WIDEN_NONE);   /* never */
  assert_int_equal (wrk_route_desk_widen (-5, 600), WRK_DESK_WIDEN_NONE);
}

static void
test_rank_language (void **state)
{
  (void) state;
  assert_int_equal (wrk_route_desk_rank ("high"), 0);
  assert_int_equal (wrk_route_desk_rank ("normal"), 1);
  assert_int_equal (wrk_route_desk_rank (""), 1);
  assert_int_equal (wrk_route_desk_rank (NULL), 1);
  char out[16];
  wrk_route_desk_language ("pt-BR", out, sizeof out);
  assert_string_equal (out, "pt");
  wrk_route_desk_language ("EN", out, sizeof out);
  assert_string_equal (out, "en");
  wrk_route_desk_language ("other", out, sizeof out);
  assert_string_equal (out, "");
  wrk_route_desk_language ("", out, sizeof out);
  assert_string_equal (out, "");
  wrk_route_desk_language ("p1", out, sizeof out);
  assert_string_equal (out, "");
  assert_string_equal (wrk_route_desk_widened (WRK_DESK_WIDEN_LANGUAGE, true, "pt"), "language");
  assert_string_equal (wrk_route_desk_widened (WRK_DESK_WIDEN_LANGUAGE, true, ""), "skills");
  assert_string_equal (wrk_route_desk_widened (WRK_DESK_WIDEN_SKILLS, false, "pt"), "");
  assert_string_equal (wrk_route_desk_widened (WRK_DESK_WIDEN_NONE, true, "pt"), "");
}

static void
s_refused (const char *body, const char *field)
{
  api_desk_agent_body_t b;
  api_problem_t p;
  assert_int_equal (api_desk_agent_parse (body, strlen (body), &b, &p), AT_INVALID);
  assert_non_null (p.field);
  assert_string_equal (p.field, field);
  assert_null (b.teams);
}

static void
test_agent_body (void **state)
{
  (void) state;
  api_desk_agent_body_t b;
  api_problem_t p;
  const char *ok = "{\"teams\":[\"support\"],\"skills\":[\"returns\",\"b2b\"],"
                   "\"languages\":[\"pt-BR\",\"en\"],\"capacity\":{\"limit\":2.5,"
                   "\"weights\":{\"email\":0.3}}}";
  assert_int_equal (api_desk_agent_parse (ok, strlen (ok), &b, &p), AT_OK);
  assert_string_equal (b.teams, "[\"support\"]");
  assert_string_equal (b.limit, "2.500");
  assert_string_equal (b.weights, "{\"email\":0.3}");
  api_desk_agent_body_clear (&b);
  assert_int_equal (api_desk_agent_parse ("{}", 2, &b, &p), AT_OK);
  assert_null (b.skills);
  assert_string_equal (b.limit, "");
  s_refused ("{\"teams\":\"support\"}", "teams");
  s_refused ("{\"teams\":[\"Bad Team\"]}", "teams");
  s_refused ("{\"skills\":[\"two words\"]}", "skills");
  s_refused ("{\"languages\":[\"portugues\"]}", "languages");
  s_refused ("{\"capacity\":{\"limit\":-1}}", "capacity.limit");
  s_refused ("{\"capacity\":{\"limit\":\"3\"}}", "capacity.limit");
  s_refused ("{\"capacity\":{\"weights\":{\"email\":2000}}}", "capacity.weights");
  s_refused ("{\"capacity\":7}", "capacity");
}

static void
test_targets (void **state)
{
  (void) state;
  api_problem_t p;
  int64_t agent = 0;
  char team[AT_DESK_TEAM_MAX + 1];
  const char *a = "{\"agent_id\":7}", *t = "{\"team\":\"vip\"}", *both = "{\"team\":\"vip\",\"agent_id\":7}";
  assert_int_equal (api_desk_target_parse (a, strlen (a), false, &agent, team, &p), AT_OK);
  assert_int_equal (agent, 7);
  assert_int_equal (api_desk_target_parse (t, strlen (t), true, &agent, team, &p), AT_OK);
  assert_int_equal (agent, 0);
  assert_string_equal (team, "vip");
  assert_int_equal (api_desk_target_parse (t, strlen (t), false, &agent, team, &p), AT_INVALID);
  assert_string_equal (p.field, "team");
  assert_int_equal (api_desk_target_parse (both, strlen (both), true, &agent, team, &p),
                    AT_INVALID);
  assert_int_equal (api_desk_target_parse ("{\"agent_id\":0}", 14, false, &agent, team, &p),
                    AT_INVALID);
  assert_string_equal (p.field, "agent_id");
  const char *presence = NULL;
  assert_int_equal (api_desk_presence_parse ("{\"presence\":\"away\"}", 19, &presence, &p), AT_OK);
  assert_string_equal (presence, "away");
  assert_int_equal (api_desk_presence_parse ("{\"presence\":\"busy\"}", 19, &presence, &p),
                    AT_INVALID);
  assert_string_equal (p.field, "presence");
  assert_true (api_desk_team_name_ok ("support-2"));
  assert_false (api_desk_team_name_ok ("-x"));
  assert_false (api_desk_team_name_ok (""));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_widen),
    cmocka_unit_test (test_rank_language),
    cmocka_unit_test (test_agent_body),
    cmocka_unit_test (test_targets),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
