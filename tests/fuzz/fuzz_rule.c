/* Fuzz: a rule's JSON as the api receives it (POST /v1/rules), on any
 * bytes: at_rule_check answers the same twice, names a JSON pointer when it
 * refuses ("" for a document that is no object), and a rule it accepts is planned (at_rule_plan) on each event
 * without overrunning its runs, without firing one rule twice in a chain
 * and without going deeper than AT_RULE_DEPTH_MAX. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "at_rule.h"

static const char *const s_events[] = {
  "ticket_created", "message_in", "intent_set", "priority_changed", "sla_warning",
  "sla_breach", "order_status_changed", "idle",
};

static void
s_plan (json_t *rule)
{
  json_t *rules = json_array ();
  json_t *copy = json_deep_copy (rule);
  json_object_set_new (copy, "id", json_integer (1));
  json_array_append_new (rules, copy);
  for (size_t e = 0; e < sizeof s_events / sizeof s_events[0]; e++) {
    at_rule_facts_t facts;
    memset (&facts, 0, sizeof facts);
    snprintf (facts.priority, sizeof facts.priority, "normal");
    snprintf (facts.channel, sizeof facts.channel, "whatsapp");
    snprintf (facts.intent, sizeof facts.intent, "complaint");
    snprintf (facts.text, sizeof facts.text, "quero falar com o procon");
    facts.business_hours = true;
    at_rule_run_t runs[AT_RULE_RUNS_MAX];
    size_t n = 0, fired = 0;
    if (at_rule_plan (rules, s_events[e], &facts, runs, AT_RULE_RUNS_MAX, &n) != AT_OK)
      continue;
    if (n > AT_RULE_RUNS_MAX)
      abort ();
    for (size_t i = 0; i < n; i++) {
      if (runs[i].depth > AT_RULE_DEPTH_MAX)
        abort ();
      fired += runs[i].fired && runs[i].rule_id == 1;
    }
    if (fired > 1)
      abort ();
  }
  json_decref (rules);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  json_t *rule = json_loadb ((const char *) data, size, JSON_DECODE_ANY, NULL);
  if (rule == NULL)
    return 0;
  char p1[AT_RULE_POINTER_MAX], d1[AT_RULE_DETAIL_MAX];
  char p2[AT_RULE_POINTER_MAX], d2[AT_RULE_DETAIL_MAX];
  int a = at_rule_check (rule, p1, d1);
  int b = at_rule_check (rule, p2, d2);
  bool named = json_is_object (rule) ? p1[0] == '/' : p1[0] == '\0';   /* "": the document */
  if (a != b || (a != AT_OK && (!named || strcmp (p1, p2) != 0 || d1[0] == '\0')))
    abort ();
  if (a == AT_OK)
    s_plan (rule);
  json_decref (rule);
  return 0;
}
