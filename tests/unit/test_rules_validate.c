/* Rules' pure part (at_rule.h): the checker names the JSON pointer of what
 * is wrong (unknown event, field, op, action; wrong value types; a rule
 * that fires itself), conditions match and say why not, and a plan stops
 * chains (a rule fires once per chain, depth AT_RULE_DEPTH_MAX). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "at_rule.h"

static json_t *
s_json (const char *text)
{
  json_error_t err;
  json_t *v = json_loads (text, 0, &err);
  if (!v)
    fail_msg ("bad test JSON: %s: %s", text, err.text);
  return v;
}

/* The pointer at_rule_check names ("" when the rule is good). */
static void
s_refused (const char *rule, const char *want)
{
  json_t *v = s_json (rule);
  char pointer[AT_RULE_POINTER_MAX] = "", detail[AT_RULE_DETAIL_MAX] = "";
  int rc = at_rule_check (v, pointer, detail);
  if (want[0] == '\0' && rc != AT_OK)
    fail_msg ("%s refused at %s: %s", rule, pointer, detail);
  if (want[0] != '\0') {
    assert_int_equal (rc, AT_INVALID);
    if (strcmp (pointer, want) != 0)
      fail_msg ("%s named %s, want %s (%s)", rule, pointer, want, detail);
    assert_true (detail[0] != '\0');
  }
  json_decref (v);
}

#define HEAD "{\"name\":\"r\",\"event\":\"intent_set\","

static void
test_check_good (void **state)
{
  (void) state;
  s_refused (HEAD "\"conditions\":[{\"field\":\"intent\",\"op\":\"eq\",\"value\":\"complaint\"},"
             "{\"field\":\"channel\",\"op\":\"in\",\"value\":[\"email\",\"chat\"]},"
             "{\"field\":\"text\",\"op\":\"contains\",\"value\":\"procon\"},"
             "{\"field\":\"tag\",\"op\":\"not\",\"value\":\"vip\"},"
             "{\"field\":\"business_hours\",\"op\":\"eq\",\"value\":false}],"
             "\"actions\":[{\"type\":\"set_team\",\"team\":\"complaints\"},"
             "{\"type\":\"set_priority\",\"priority\":\"high\"},{\"type\":\"add_tag\","
             "\"tag\":\"angry\"},{\"type\":\"assign\",\"agent_id\":3},{\"type\":\"escalate\"},"
             "{\"type\":\"webhook\",\"name\":\"vip_complaint\"},{\"type\":\"close_after_days\","
             "\"days\":2.5},{\"type\":\"auto_reply\",\"template\":\"rule_vip_ack\"}]}",
             "");
  s_refused (HEAD "\"actions\":[{\"type\":\"escalate\"}],\"position\":10,\"enabled\":false}", "");
  s_refused ("{\"name\":\"r\",\"event\":\"idle\",\"after_s\":86400,\"actions\":[{\"type\":"
             "\"escalate\"}]}", "");
  /* listens to priority_changed, sets high only while normal: no loop */
  s_refused ("{\"name\":\"r\",\"event\":\"priority_changed\",\"conditions\":[{\"field\":"
             "\"priority\",\"op\":\"eq\",\"value\":\"normal\"}],\"actions\":[{\"type\":"
             "\"set_priority\",\"priority\":\"high\"}]}", "");
}

static void
test_check_refusals (void **state)
{
  (void) state;
  s_refused ("{\"event\":\"intent_set\",\"actions\":[{\"type\":\"escalate\"}]}", "/name");
  s_refused ("{\"name\":\"r\",\"event\":\"ticket_deleted\",\"actions\":[{\"type\":\"escalate\"}]}",
             "/event");
  s_refused (HEAD "\"actions\":[]}", "/actions");
  s_refused (HEAD "\"conditions\":{},\"actions\":[{\"type\":\"escalate\"}]}", "/conditions");
  s_refused (HEAD "\"conditions\":[{\"field\":\"intent\",\"op\":\"eq\",\"value\":\"x\"},"
             "{\"field\":\"mood\",\"op\":\"eq\",\"value\":\"x\"}],\"actions\":[{\"type\":"
             "\"escalate\"}]}", "/conditions/1/field");
  s_refused (HEAD "\"conditions\":[{\"field\":\"intent\",\"op\":\"like\",\"value\":\"x\"}],"
             "\"actions\":[{\"type\":\"escalate\"}]}", "/conditions/0/op");
  s_refused (HEAD "\"conditions\":[{\"field\":\"intent\",\"op\":\"eq\",\"value\":3}],"
             "\"actions\":[{\"type\":\"escalate\"}]}", "/conditions/0/value");
  s_refused (HEAD "\"conditions\":[{\"field\":\"intent\",\"op\":\"in\",\"value\":[\"a\",2]}],"
             "\"actions\":[{\"type\":\"escalate\"}]}", "/conditions/0/value/1");
  s_refused (HEAD "\"conditions\":[{\"field\":\"business_hours\",\"op\":\"eq\",\"value\":"
             "\"yes\"}],\"actions\":[{\"type\":\"escalate\"}]}", "/conditions/0/value");
  s_refused (HEAD "\"conditions\":[{\"field\":\"text\",\"op\":\"eq\",\"value\":\"x\"}],"
             "\"actions\":[{\"type\":\"escalate\"}]}", "/conditions/0/op");
  s_refused (HEAD "\"actions\":[{\"type\":\"escalate\"},{\"type\":\"delete\"}]}",
             "/actions/1/type");
  s_refused (HEAD "\"actions\":[{\"type\":\"set_priority\",\"priority\":\"urgent\"}]}",
             "/actions/0/priority");
  s_refused (HEAD "\"actions\":[{\"type\":\"add_tag\",\"tag\":\"Not A Tag\"}]}",
             "/actions/0/tag");
  s_refused (HEAD "\"actions\":[{\"type\":\"assign\",\"agent_id\":\"3\"}]}",
             "/actions/0/agent_id");
  s_refused (HEAD "\"actions\":[{\"type\":\"set_team\"}]}", "/actions/0/team");
  s_refused (HEAD "\"actions\":[{\"type\":\"webhook\",\"name\":\"\"}]}", "/actions/0/name");
  s_refused (HEAD "\"actions\":[{\"type\":\"auto_reply\",\"template\":\"ss_cancel_done\"}]}",
             "/actions/0/template");
  s_refused (HEAD "\"actions\":[{\"type\":\"close_after_days\",\"days\":0}]}",
             "/actions/0/days");
  s_refused (HEAD "\"actions\":[{\"type\":\"close_after_days\",\"days\":\"3\"}]}",
             "/actions/0/days");
  s_refused (HEAD "\"actions\":[{\"type\":\"escalate\"}],\"colour\":1}", "/colour");
  s_refused (HEAD "\"actions\":[{\"type\":\"escalate\"}],\"position\":-1}", "/position");
  s_refused ("{\"name\":\"r\",\"event\":\"idle\",\"actions\":[{\"type\":\"escalate\"}]}",
             "/after_s");
  s_refused ("{\"name\":\"r\",\"event\":\"idle\",\"after_s\":0,\"actions\":[{\"type\":"
             "\"escalate\"}]}", "/after_s");
  s_refused (HEAD "\"after_s\":60,\"actions\":[{\"type\":\"escalate\"}]}", "/after_s");
}

static void
test_check_loop (void **state)
{
  (void) state;
  /* sets the priority it listens to with no condition against it: loops */
  s_refused ("{\"name\":\"r\",\"event\":\"priority_changed\",\"actions\":[{\"type\":"
             "\"add_tag\",\"tag\":\"x\"},{\"type\":\"set_priority\",\"priority\":\"high\"}]}",
             "/actions/1");
  /* its condition on priority holds for the priority it sets: loops */
  s_refused ("{\"name\":\"r\",\"event\":\"priority_changed\",\"conditions\":[{\"field\":"
             "\"priority\",\"op\":\"in\",\"value\":[\"high\",\"normal\"]}],\"actions\":[{\"type\":"
             "\"set_priority\",\"priority\":\"high\"}]}", "/actions/0");
}

static at_rule_facts_t
s_facts (void)
{
  at_rule_facts_t f;
  memset (&f, 0, sizeof f);
  at_strlcpy (f.channel, "email", sizeof f.channel);
  at_strlcpy (f.intent, "complaint", sizeof f.intent);
  at_strlcpy (f.priority, "normal", sizeof f.priority);
  at_strlcpy (f.text, "Vou reclamar no PROCON amanhã", sizeof f.text);
  at_rule_facts_tag (&f, "vip");
  f.business_hours = true;
  return f;
}

static void
test_matches (void **state)
{
  (void) state;
  at_rule_facts_t f = s_facts ();
  char why[AT_RULE_WHY_MAX];
  json_t *c = s_json ("[{\"field\":\"intent\",\"op\":\"eq\",\"value\":\"complaint\"},"
                      "{\"field\":\"text\",\"op\":\"contains\",\"value\":\"procon\"},"
                      "{\"field\":\"tag\",\"op\":\"eq\",\"value\":\"vip\"},"
                      "{\"field\":\"business_hours\",\"op\":\"eq\",\"value\":true}]");
  assert_true (at_rule_matches (c, &f, why));
  assert_string_equal (why, "all 4 conditions hold");
  json_decref (c);
  c = s_json ("[{\"field\":\"intent\",\"op\":\"eq\",\"value\":\"complaint\"},"
              "{\"field\":\"channel\",\"op\":\"in\",\"value\":[\"chat\",\"whatsapp\"]}]");
  assert_false (at_rule_matches (c, &f, why));
  assert_non_null (strstr (why, "/conditions/1 failed"));
  assert_non_null (strstr (why, "\"email\""));
  json_decref (c);
  c = s_json ("[{\"field\":\"text\",\"op\":\"contains\",\"value\":\"RECLAMAÇÃO\"}]");
  at_strlcpy (f.text, "vou abrir uma reclamacao no Reclame Aqui", sizeof f.text);
  assert_true (at_rule_matches (c, &f, why));      /* case and accents folded */
  at_strlcpy (f.text, "Quero fazer uma Reclamação", sizeof f.text);
  assert_true (at_rule_matches (c, &f, why));
  at_strlcpy (f.text, "reclamei ontem", sizeof f.text);
  assert_false (at_rule_matches (c, &f, why));
  at_strlcpy (f.text, "\xff\xfe reclamação", sizeof f.text);     /* bad bytes passed over */
  assert_true (at_rule_matches (c, &f, why));
  json_decref (c);
  f = s_facts ();
  c = s_json ("[{\"field\":\"tag\",\"op\":\"not\",\"value\":\"vip\"}]");
  assert_false (at_rule_matches (c, &f, why));
  json_decref (c);
  c = s_json ("[{\"field\":\"text\",\"op\":\"not\",\"value\":\"obrigado\"},"
              "{\"field\":\"order_status\",\"op\":\"eq\",\"value\":\"shipped\"}]");
  assert_false (at_rule_matches (c, &f, why));
  assert_non_null (strstr (why, "/conditions/1 failed"));
  json_decref (c);
}

/* A: intent_set -> high; B: priority_changed (normal was not) -> tag;
 * C and D raise priority_changed at each other: each fires once. */
static void
test_plan_chain (void **state)
{
  (void) state;
  json_t *rules = s_json (
      "[{\"id\":1,\"event\":\"intent_set\",\"conditions\":[{\"field\":\"intent\",\"op\":\"eq\","
      "\"value\":\"complaint\"}],\"actions\":[{\"type\":\"set_priority\",\"priority\":\"high\"}]},"
      "{\"id\":2,\"event\":\"priority_changed\",\"conditions\":[{\"field\":\"priority\",\"op\":"
      "\"eq\",\"value\":\"high\"}],\"actions\":[{\"type\":\"add_tag\",\"tag\":\"urgent\"},"
      "{\"type\":\"set_priority\",\"priority\":\"normal\"}]},"
      "{\"id\":3,\"event\":\"priority_changed\",\"conditions\":[{\"field\":\"priority\",\"op\":"
      "\"eq\",\"value\":\"normal\"}],\"actions\":[{\"type\":\"set_priority\",\"priority\":"
      "\"high\"}]}]");
  at_rule_facts_t f = s_facts ();
  at_rule_run_t runs[AT_RULE_RUNS_MAX];
  size_t n = 0;
  assert_int_equal (at_rule_plan (rules, "intent_set", &f, runs, AT_RULE_RUNS_MAX, &n), AT_OK);
  /* depth 0: 1 fires (normal -> high); depth 1: 2 fires (-> normal), 3 fires (-> high);
   * depth 2: both fired already in this chain: nothing raised, the chain ends */
  assert_int_equal (n, 5);
  assert_true (runs[0].rule_id == 1 && runs[0].fired && runs[0].depth == 0);
  assert_true (runs[1].rule_id == 2 && runs[1].fired && runs[1].depth == 1);
  assert_true (runs[2].rule_id == 3 && runs[2].fired && runs[2].depth == 1);
  assert_true (runs[3].rule_id == 2 && !runs[3].fired && runs[3].depth == 2);
  assert_string_equal (runs[3].why, "fired already in this chain");
  assert_true (runs[4].rule_id == 3 && !runs[4].fired);
  assert_string_equal (f.priority, "high");
  assert_int_equal (f.n_tags, 2);
  /* no rule listens: nothing */
  assert_int_equal (at_rule_plan (rules, "sla_breach", &f, runs, AT_RULE_RUNS_MAX, &n), AT_OK);
  assert_int_equal (n, 0);
  json_decref (rules);
}

/* Rules that raise priority_changed for each other, each once (rule k
 * needs the tag of rule k-1 and adds its own): the guard stops the chain
 * at AT_RULE_DEPTH_MAX with a logged reason. */
static void
test_plan_depth (void **state)
{
  (void) state;
  json_t *rules = json_array ();
  for (int k = 5; k >= 0; k--) {
    char text[512], need[96] = "";
    if (k > 0)
      snprintf (need, sizeof need, "{\"field\":\"tag\",\"op\":\"eq\",\"value\":\"t%d\"},",
                k - 1);
    snprintf (text, sizeof text, "{\"id\":%d,\"event\":\"priority_changed\",\"conditions\":"
              "[%s{\"field\":\"tag\",\"op\":\"not\",\"value\":\"t%d\"}],\"actions\":"
              "[{\"type\":\"add_tag\",\"tag\":\"t%d\"},{\"type\":\"set_priority\","
              "\"priority\":\"%s\"}]}", 10 + k, need, k, k, k % 2 == 0 ? "high" : "normal");
    json_array_append_new (rules, s_json (text));
  }
  at_rule_facts_t f = s_facts ();
  at_rule_run_t runs[AT_RULE_RUNS_MAX];
  size_t n = 0;
  assert_int_equal (at_rule_plan (rules, "priority_changed", &f, runs, AT_RULE_RUNS_MAX, &n),
                    AT_OK);
  assert_true (n > 0);
  assert_int_equal (runs[n - 1].rule_id, 0);
  assert_int_equal (runs[n - 1].depth, AT_RULE_DEPTH_MAX);
  assert_non_null (strstr (runs[n - 1].why, "chain stopped at depth 4"));
  for (size_t i = 0; i + 1 < n; i++)
    assert_true (runs[i].depth < AT_RULE_DEPTH_MAX);
  /* too small a cap: AT_ERROR, never past it */
  assert_int_equal (at_rule_plan (rules, "priority_changed", &f, runs, 2, &n), AT_ERROR);
  assert_true (n <= 2);
  json_decref (rules);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_check_good),
    cmocka_unit_test (test_check_refusals),
    cmocka_unit_test (test_check_loop),
    cmocka_unit_test (test_matches),
    cmocka_unit_test (test_plan_chain),
    cmocka_unit_test (test_plan_depth),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
