/* rule: checking, matching and planning rules (at_rule.h). Pure: no
 * database, no bus. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "at_rule.h"

#define S_NAME_MAX 80
#define S_VALUE_MAX 200
#define S_IN_MAX 20

static const char *const s_events[] = {"ticket_created", "message_in", "intent_set",
                                       "priority_changed", "sla_warning", "sla_breach",
                                       "order_status_changed", "idle"};
static const char *const s_string_fields[] = {"channel", "intent", "language", "priority",
                                              "order_status", "team"};
static const char *const s_actions[] = {"set_team", "set_priority", "add_tag", "assign",
                                        "escalate", "webhook", "close_after_days",
                                        "auto_reply"};

static bool
s_one_of (const char *s, const char *const *list, size_t n)
{
  for (size_t i = 0; s && i < n; i++)
    if (strcmp (s, list[i]) == 0)
      return true;
  return false;
}

bool
at_rule_template_name_ok (const char *name)
{
  size_t n = name ? strlen (name) : 0;
  if (n < 6 || n > 23 || strncmp (name, "rule_", 5) != 0)
    return false;
  for (size_t i = 5; i < n; i++)
    if (!(islower ((unsigned char) name[i]) || isdigit ((unsigned char) name[i])
          || name[i] == '_'))
      return false;
  return true;
}

bool
at_rule_event_known (const char *name)
{
  return s_one_of (name, s_events, AT_ARRAY_LEN (s_events));
}

static int
s_refuse (char *pointer, char *detail, const char *ptr, const char *why)
{
  at_strlcpy (pointer, ptr, AT_RULE_POINTER_MAX);
  at_strlcpy (detail, why, AT_RULE_DETAIL_MAX);
  return AT_INVALID;
}

static bool
s_short_string (const json_t *v, size_t max)
{
  const char *s = json_string_value (v);
  return s && s[0] && strlen (s) <= max;
}

/* A tag: 1..AT_RULE_TAG_MAX of [a-z0-9_-]. */
static bool
s_tag_ok (const char *s)
{
  size_t n = s ? strlen (s) : 0;
  if (n == 0 || n > AT_RULE_TAG_MAX)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!(islower ((unsigned char) s[i]) || isdigit ((unsigned char) s[i]) || s[i] == '_'
          || s[i] == '-'))
      return false;
  return true;
}

/* The value of a condition as its op wants it: a string, or for in an
 * array of 1..S_IN_MAX strings, or for business_hours a boolean. */
static int
s_check_value (const char *field, const char *op, const json_t *v, const char *base,
               char *pointer, char *detail)
{
  char ptr[AT_RULE_POINTER_MAX];
  snprintf (ptr, sizeof ptr, "%s/value", base);
  if (strcmp (field, "business_hours") == 0)
    return json_is_boolean (v) ? AT_OK
                               : s_refuse (pointer, detail, ptr, "value must be true or false");
  if (strcmp (op, "in") != 0)
    return s_short_string (v, S_VALUE_MAX)
               ? AT_OK : s_refuse (pointer, detail, ptr, "value must be a string of 1 to 200"
                                   " bytes");
  if (!json_is_array (v) || json_array_size (v) == 0 || json_array_size (v) > S_IN_MAX)
    return s_refuse (pointer, detail, ptr, "value of op in must be an array of 1 to 20 strings");
  for (size_t i = 0; i < json_array_size (v); i++)
    if (!s_short_string (json_array_get (v, i), S_VALUE_MAX)) {
      snprintf (ptr, sizeof ptr, "%s/value/%zu", base, i);
      return s_refuse (pointer, detail, ptr, "each value must be a string of 1 to 200 bytes");
    }
  return AT_OK;
}

static int
s_check_condition (const json_t *c, size_t i, char *pointer, char *detail)
{
  char base[40], ptr[AT_RULE_POINTER_MAX];
  snprintf (base, sizeof base, "/conditions/%zu", i);
  if (!json_is_object (c))
    return s_refuse (pointer, detail, base, "a condition is {field, op, value}");
  const char *field = json_string_value (json_object_get (c, "field"));
  const char *op = json_string_value (json_object_get (c, "op"));
  bool text = field && strcmp (field, "text") == 0;
  bool hours = field && strcmp (field, "business_hours") == 0;
  bool tag = field && strcmp (field, "tag") == 0;
  snprintf (ptr, sizeof ptr, "%s/field", base);
  if (!text && !hours && !tag && !s_one_of (field, s_string_fields,
                                            AT_ARRAY_LEN (s_string_fields)))
    return s_refuse (pointer, detail, ptr, "field must be one of channel, intent, language,"
                     " priority, order_status, team, tag, text, business_hours");
  snprintf (ptr, sizeof ptr, "%s/op", base);
  static const char *const ops[] = {"eq", "not", "in", "contains"};
  if (!s_one_of (op, ops, AT_ARRAY_LEN (ops)))
    return s_refuse (pointer, detail, ptr, "op must be one of eq, not, in, contains");
  if (hours && strcmp (op, "eq") != 0)
    return s_refuse (pointer, detail, ptr, "business_hours takes op eq (value true or false)");
  if (text && strcmp (op, "contains") != 0 && strcmp (op, "not") != 0)
    return s_refuse (pointer, detail, ptr, "text takes op contains or not");
  if (tag && strcmp (op, "contains") == 0)
    return s_refuse (pointer, detail, ptr, "tag takes op eq, not or in");
  return s_check_value (field, op, json_object_get (c, "value"), base, pointer, detail);
}

/* An action's own members. */
static int
s_check_action_args (const char *type, const json_t *a, const char *base, char *pointer,
                     char *detail)
{
  char ptr[AT_RULE_POINTER_MAX];
  if (strcmp (type, "set_team") == 0) {
    snprintf (ptr, sizeof ptr, "%s/team", base);
    if (!s_short_string (json_object_get (a, "team"), 63))
      return s_refuse (pointer, detail, ptr, "team must be the name of a team");
  }
  else if (strcmp (type, "set_priority") == 0) {
    const char *p = json_string_value (json_object_get (a, "priority"));
    snprintf (ptr, sizeof ptr, "%s/priority", base);
    if (!p || (strcmp (p, "normal") != 0 && strcmp (p, "high") != 0))
      return s_refuse (pointer, detail, ptr, "priority must be normal or high");
  }
  else if (strcmp (type, "add_tag") == 0) {
    snprintf (ptr, sizeof ptr, "%s/tag", base);
    if (!s_tag_ok (json_string_value (json_object_get (a, "tag"))))
      return s_refuse (pointer, detail, ptr, "tag must be 1 to 40 of a-z, 0-9, _ and -");
  }
  else if (strcmp (type, "auto_reply") == 0) {
    snprintf (ptr, sizeof ptr, "%s/template", base);
    if (!at_rule_template_name_ok (json_string_value (json_object_get (a, "template"))))
      return s_refuse (pointer, detail, ptr, "template must be the name of a rule_ template"
                       " (rule_ and up to 18 of a-z, 0-9, _)");
  }
  else if (strcmp (type, "close_after_days") == 0) {
    const json_t *d = json_object_get (a, "days");
    snprintf (ptr, sizeof ptr, "%s/days", base);
    if (!json_is_number (d) || !(json_number_value (d) > 0) || json_number_value (d) > 365)
      return s_refuse (pointer, detail, ptr, "days must be a number above 0, at most 365");
  }
  else if (strcmp (type, "webhook") == 0) {
    snprintf (ptr, sizeof ptr, "%s/name", base);
    if (!s_tag_ok (json_string_value (json_object_get (a, "name"))))
      return s_refuse (pointer, detail, ptr, "name must be 1 to 40 of a-z, 0-9, _ and -");
  }
  else if (strcmp (type, "assign") == 0) {
    const json_t *id = json_object_get (a, "agent_id");
    snprintf (ptr, sizeof ptr, "%s/agent_id", base);
    if (!json_is_integer (id) || json_integer_value (id) < 1)
      return s_refuse (pointer, detail, ptr, "agent_id must be the id of an agent");
  }
  return AT_OK;
}

static int
s_check_action (const json_t *a, size_t i, char *pointer, char *detail)
{
  char base[40], ptr[AT_RULE_POINTER_MAX];
  snprintf (base, sizeof base, "/actions/%zu", i);
  if (!json_is_object (a))
    return s_refuse (pointer, detail, base, "an action is {type, ...}");
  const char *type = json_string_value (json_object_get (a, "type"));
  snprintf (ptr, sizeof ptr, "%s/type", base);
  if (!s_one_of (type, s_actions, AT_ARRAY_LEN (s_actions)))
    return s_refuse (pointer, detail, ptr, "type must be one of set_team, set_priority,"
                     " add_tag, assign, escalate, webhook, close_after_days, auto_reply");
  return s_check_action_args (type, a, base, pointer, detail);
}

static bool s_condition (const json_t *c, const at_rule_facts_t *f, char *have, size_t cap);

/* A rule listening to priority_changed whose set_priority leaves its
 * conditions on priority true fires itself again. */
static int
s_check_loop (const json_t *rule, char *pointer, char *detail)
{
  const char *event = json_string_value (json_object_get (rule, "event"));
  if (strcmp (event, "priority_changed") != 0)
    return AT_OK;
  const json_t *conditions = json_object_get (rule, "conditions");
  const json_t *a;
  size_t i;
  json_array_foreach (json_object_get (rule, "actions"), i, a) {
    const char *type = json_string_value (json_object_get (a, "type"));
    if (strcmp (type, "set_priority") != 0)
      continue;
    at_rule_facts_t f = {0};
    at_strlcpy (f.priority, json_string_value (json_object_get (a, "priority")),
                sizeof f.priority);
    bool holds = true;
    const json_t *c;
    size_t k;
    char have[64];
    json_array_foreach (conditions, k, c) {
      const char *field = json_string_value (json_object_get (c, "field"));
      if (strcmp (field, "priority") == 0 && !s_condition (c, &f, have, sizeof have))
        holds = false;
    }
    if (holds) {
      char ptr[AT_RULE_POINTER_MAX];
      snprintf (ptr, sizeof ptr, "/actions/%zu", i);
      return s_refuse (pointer, detail, ptr, "this action raises priority_changed, the event"
                       " the rule listens to, and its conditions still hold: it would loop");
    }
  }
  return AT_OK;
}

static int
s_check_head (const json_t *rule, char *pointer, char *detail)
{
  if (!json_is_object (rule))
    return s_refuse (pointer, detail, "", "a rule is a JSON object");
  if (!s_short_string (json_object_get (rule, "name"), S_NAME_MAX))
    return s_refuse (pointer, detail, "/name", "name must be a string of 1 to 80 bytes");
  if (!at_rule_event_known (json_string_value (json_object_get (rule, "event"))))
    return s_refuse (pointer, detail, "/event", "event must be one of ticket_created,"
                     " message_in, intent_set, priority_changed, sla_warning, sla_breach,"
                     " order_status_changed, idle");
  const json_t *pos = json_object_get (rule, "position");
  if (pos && (!json_is_integer (pos) || json_integer_value (pos) < 0
              || json_integer_value (pos) > 1000000))
    return s_refuse (pointer, detail, "/position", "position must be an integer 0..1000000");
  const json_t *en = json_object_get (rule, "enabled");
  if (en && !json_is_boolean (en))
    return s_refuse (pointer, detail, "/enabled", "enabled must be true or false");
  const json_t *after = json_object_get (rule, "after_s");
  bool idle = strcmp (json_string_value (json_object_get (rule, "event")), "idle") == 0;
  if (idle && (!json_is_integer (after) || json_integer_value (after) < 1
               || json_integer_value (after) > AT_RULE_IDLE_MAX_S))
    return s_refuse (pointer, detail, "/after_s", "an idle rule needs after_s: seconds without"
                     " a message, 1..2592000");
  if (!idle && after && !json_is_null (after))
    return s_refuse (pointer, detail, "/after_s", "after_s belongs to idle rules only");
  const char *known[] = {"name", "event", "conditions", "actions", "position", "enabled", "id",
                         "after_s"};
  const char *key;
  const json_t *v;
  json_object_foreach ((json_t *) rule, key, v) {
    if (!s_one_of (key, known, AT_ARRAY_LEN (known))) {
      char ptr[AT_RULE_POINTER_MAX];
      snprintf (ptr, sizeof ptr, "/%.40s", key);
      return s_refuse (pointer, detail, ptr, "a rule has no such member");
    }
  }
  return AT_OK;
}

int
at_rule_check (const json_t *rule, char pointer[AT_RULE_POINTER_MAX],
               char detail[AT_RULE_DETAIL_MAX])
{
  if (s_check_head (rule, pointer, detail) != AT_OK)
    return AT_INVALID;
  const json_t *conditions = json_object_get (rule, "conditions");
  if (conditions && (!json_is_array (conditions)
                     || json_array_size (conditions) > AT_RULE_CONDITIONS_MAX))
    return s_refuse (pointer, detail, "/conditions", "conditions must be an array of at most"
                     " 16 conditions");
  const json_t *actions = json_object_get (rule, "actions");
  if (!json_is_array (actions) || json_array_size (actions) == 0
      || json_array_size (actions) > AT_RULE_ACTIONS_MAX)
    return s_refuse (pointer, detail, "/actions", "actions must be an array of 1 to 8 actions");
  const json_t *x;
  size_t i;
  json_array_foreach (conditions, i, x)
    if (s_check_condition (x, i, pointer, detail) != AT_OK)
      return AT_INVALID;
  json_array_foreach (actions, i, x)
    if (s_check_action (x, i, pointer, detail) != AT_OK)
      return AT_INVALID;
  return s_check_loop (rule, pointer, detail);
}

/* --- matching */

/* ASCII case-insensitive: whether hay contains needle. */
static bool
s_contains_ascii (const char *hay, const char *needle)
{
  size_t n = strlen (needle);
  for (const char *h = hay; *h; h++) {
    size_t k = 0;
    while (k < n && h[k] && tolower ((unsigned char) h[k]) == tolower ((unsigned char) needle[k]))
      k++;
    if (k == n)
      return true;
  }
  return n == 0;
}

/* text case-folded (NFKD) with its combining marks dropped, so "RECLAMAÇÃO",
 * "Reclamação" and "reclamacao" are one text (malloc'd, NUL-terminated;
 * bytes that are not UTF-8 are passed over); NULL when libunistring fails. */
static char *
s_fold (const char *text)
{
  size_t flen = 0, at = 0, out = 0;
  uint8_t *f = u8_casefold ((const uint8_t *) text, strlen (text), NULL, UNINORM_NFKD, NULL,
                            &flen);
  if (!f)
    return NULL;
  char *folded = at_malloc (flen + 1);
  while (at < flen) {
    ucs4_t uc;
    int n = u8_mbtouc (&uc, f + at, flen - at);
    if (n <= 0)
      break;
    if (!uc_is_general_category (uc, UC_CATEGORY_M)) {
      memcpy (folded + out, f + at, (size_t) n);
      out += (size_t) n;
    }
    at += (size_t) n;
  }
  folded[out] = '\0';
  free (f);
  return folded;
}

/* Whether hay contains needle, case and accents folded (s_fold); ASCII
 * case-insensitive when folding fails. */
static bool
s_contains (const char *hay, const char *needle)
{
  char *h = s_fold (hay), *n = h ? s_fold (needle) : NULL;
  if (h && n) {
    bool found = strstr (h, n) != NULL;
    free (h);
    free (n);
    return found;
  }
  free (h);
  return s_contains_ascii (hay, needle);
}

static bool
s_has_tag (const at_rule_facts_t *f, const char *tag)
{
  for (size_t i = 0; i < f->n_tags; i++)
    if (strcmp (f->tags[i], tag) == 0)
      return true;
  return false;
}

static const char *
s_field (const at_rule_facts_t *f, const char *field)
{
  if (strcmp (field, "channel") == 0)
    return f->channel;
  if (strcmp (field, "intent") == 0)
    return f->intent;
  if (strcmp (field, "language") == 0)
    return f->language;
  if (strcmp (field, "priority") == 0)
    return f->priority;
  if (strcmp (field, "order_status") == 0)
    return f->order_status;
  if (strcmp (field, "team") == 0)
    return f->team;
  return f->text;
}

static bool
s_tag_condition (const json_t *c, const char *op, const at_rule_facts_t *f)
{
  const json_t *v = json_object_get (c, "value");
  if (strcmp (op, "in") == 0) {
    const json_t *x;
    size_t i;
    json_array_foreach (v, i, x)
      if (s_has_tag (f, json_string_value (x)))
        return true;
    return false;
  }
  bool has = s_has_tag (f, json_string_value (v));
  return strcmp (op, "not") == 0 ? !has : has;
}

/* Whether one (checked) condition holds; have: what the ticket has. */
static bool
s_condition (const json_t *c, const at_rule_facts_t *f, char *have, size_t cap)
{
  const char *field = json_string_value (json_object_get (c, "field"));
  const char *op = json_string_value (json_object_get (c, "op"));
  const json_t *v = json_object_get (c, "value");
  if (strcmp (field, "business_hours") == 0) {
    snprintf (have, cap, "%s", f->business_hours ? "true" : "false");
    return json_is_true (v) == f->business_hours;
  }
  if (strcmp (field, "tag") == 0) {
    snprintf (have, cap, "%zu tags", f->n_tags);
    return s_tag_condition (c, op, f);
  }
  const char *got = s_field (f, field);
  if (strcmp (field, "text") == 0)
    snprintf (have, cap, "another text");
  else
    snprintf (have, cap, "\"%.40s\"", got);
  if (strcmp (op, "in") == 0) {
    const json_t *x;
    size_t i;
    json_array_foreach (v, i, x)
      if (strcmp (got, json_string_value (x)) == 0)
        return true;
    return false;
  }
  if (strcmp (op, "contains") == 0)
    return s_contains (got, json_string_value (v));
  if (strcmp (field, "text") == 0)              /* not: does not contain */
    return !s_contains (got, json_string_value (v));
  bool eq = strcmp (got, json_string_value (v)) == 0;
  return strcmp (op, "not") == 0 ? !eq : eq;
}

bool
at_rule_matches (const json_t *conditions, const at_rule_facts_t *facts,
                 char why[AT_RULE_WHY_MAX])
{
  const json_t *c;
  size_t i;
  char have[64];
  json_array_foreach (conditions, i, c) {
    if (!s_condition (c, facts, have, sizeof have)) {
      const json_t *v = json_object_get (c, "value");
      char *value = json_dumps (v, JSON_ENCODE_ANY | JSON_COMPACT);
      snprintf (why, AT_RULE_WHY_MAX, "/conditions/%zu failed: %s %s %.80s, the ticket has %s",
                i, json_string_value (json_object_get (c, "field")),
                json_string_value (json_object_get (c, "op")), value ? value : "?", have);
      free (value);
      return false;
    }
  }
  snprintf (why, AT_RULE_WHY_MAX, "all %zu conditions hold", json_array_size (conditions));
  return true;
}

void
at_rule_facts_tag (at_rule_facts_t *facts, const char *tag)
{
  if (!tag || s_has_tag (facts, tag) || facts->n_tags >= AT_RULE_TAGS_MAX)
    return;
  at_strlcpy (facts->tags[facts->n_tags++], tag, AT_RULE_TAG_MAX + 1);
}

/* --- planning */

/* What a fired rule's actions do to the facts; true when the priority
 * changed (priority_changed is raised). */
static bool
s_apply (const json_t *actions, at_rule_facts_t *f)
{
  bool raised = false;
  const json_t *a;
  size_t i;
  json_array_foreach (actions, i, a) {
    const char *type = json_string_value (json_object_get (a, "type"));
    if (strcmp (type, "set_priority") == 0) {
      const char *p = json_string_value (json_object_get (a, "priority"));
      raised = raised || strcmp (p, f->priority) != 0;
      at_strlcpy (f->priority, p, sizeof f->priority);
    }
    else if (strcmp (type, "add_tag") == 0)
      at_rule_facts_tag (f, json_string_value (json_object_get (a, "tag")));
    else if (strcmp (type, "set_team") == 0)
      at_strlcpy (f->team, json_string_value (json_object_get (a, "team")), sizeof f->team);
    else if (strcmp (type, "escalate") == 0)
      at_rule_facts_tag (f, "escalated");
  }
  return raised;
}

static bool
s_fired_before (const at_rule_run_t *runs, size_t n, int64_t id)
{
  for (size_t i = 0; i < n; i++)
    if (runs[i].rule_id == id && runs[i].fired)
      return true;
  return false;
}

static at_rule_run_t *
s_run_add (at_rule_run_t *runs, size_t cap, size_t *n, int64_t id, const char *event, int depth)
{
  if (*n >= cap)
    return NULL;
  at_rule_run_t *r = &runs[(*n)++];
  memset (r, 0, sizeof *r);
  r->rule_id = id;
  r->depth = depth;
  at_strlcpy (r->event, event, sizeof r->event);
  return r;
}

int
at_rule_plan (const json_t *rules, const char *event, at_rule_facts_t *facts,
              at_rule_run_t *runs, size_t cap, size_t *n)
{
  *n = 0;
  for (int depth = 0; event; depth++) {
    const char *next = NULL;
    if (depth >= AT_RULE_DEPTH_MAX) {
      at_rule_run_t *r = s_run_add (runs, cap, n, 0, event, depth);
      if (!r)
        return AT_ERROR;
      snprintf (r->why, sizeof r->why, "chain stopped at depth %d: rules raised %s again",
                depth, event);
      return AT_OK;
    }
    const json_t *rule;
    size_t i;
    json_array_foreach (rules, i, rule) {
      if (strcmp (json_string_value (json_object_get (rule, "event")), event) != 0)
        continue;
      int64_t id = (int64_t) json_integer_value (json_object_get (rule, "id"));
      at_rule_run_t *r = s_run_add (runs, cap, n, id, event, depth);
      if (!r)
        return AT_ERROR;
      r->actions = json_object_get (rule, "actions");
      if (s_fired_before (runs, *n - 1, id)) {
        snprintf (r->why, sizeof r->why, "fired already in this chain");
        continue;
      }
      r->fired = at_rule_matches (json_object_get (rule, "conditions"), facts, r->why);
      if (r->fired && s_apply (r->actions, facts))
        next = "priority_changed";
    }
    event = next;
  }
  return AT_OK;
}
