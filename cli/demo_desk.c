/* demo_desk: the people behind the bot. Before the customers write, through
 * the api like any lead would, with a setup key (admin, never written down,
 * revoked at the end of the setup): a default team, three agents online
 * (pt-BR with es, pt-BR with en, en with es) with room for a few chats each,
 * the team's lead (told of escalations by mail), a 24x7 calendar and a demo
 * policy that wants high-priority tickets answered within DEMO_DESK_URGENT_S
 * of wall time, and a rule that escalates a breach, so that the summary
 * shows the desk at work and a breach escalated to the lead. */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "demo_internal.h"
#include "at_store_auth.h"
#include "at_crypto.h"

#define S_TEAM "atendimento"
#define S_CALENDAR "demo 24x7"
#define S_LEAD_NAME "Marina Lima"

typedef struct {
  const char *name, *email, *languages;
} s_agent_t;

static const s_agent_t s_lead = {S_LEAD_NAME, DEMO_LEAD_EMAIL, "[\"pt-BR\"]"};

static const s_agent_t s_agents[] = {
  {"Carla Mendes", "carla.mendes@loja.example", "[\"pt-BR\",\"es\"]"},
  {"Rodrigo Alves", "rodrigo.alves@loja.example", "[\"pt-BR\",\"en\"]"},
  {"Bianca Souza", "bianca.souza@loja.example", "[\"en\",\"es\"]"},
};

static const char *
s_str (const json_t *o, const char *key)
{
  const char *v = json_string_value (json_object_get (o, key));
  return v ? v : "";
}

/* One call; the answer's document on a 2xx, {"exists": true} on a 409
 * (there already: a second demo on the same database), else NULL (said on
 * stderr). */
static json_t *
s_call (const char *api_base, const char *method, const char *path, const char *body)
{
  char url[DEMO_URL_MAX], *resp = NULL;
  snprintf (url, sizeof url, "%s%s", api_base, path);
  long status = demo_http_one (method, url, body, &resp);
  json_t *doc = NULL;
  if (status >= 200 && status < 300)
    doc = resp ? json_loads (resp, 0, NULL) : NULL;
  else if (status == 409)
    doc = json_pack ("{s:b}", "exists", true);
  else
    fprintf (stderr, "demo: %s %s refused: %ld %s\n", method, path, status, resp ? resp : "");
  free (resp);
  return doc;
}

/* The id of the item of list (GET path) whose key is value; 0 if none. */
static long long
s_find (const char *api_base, const char *path, const char *key, const char *value)
{
  json_t *doc = s_call (api_base, "GET", path, NULL);
  long long id = 0;
  size_t i;
  json_t *item;
  json_array_foreach (json_object_get (doc, "items"), i, item)
    if (strcmp (s_str (item, key), value) == 0)
      id = json_integer_value (json_object_get (item, "id"));
  json_decref (doc);
  return id;
}

/* The id of the person's user of role (made now with password: *made, or
 * found). */
static long long
s_user (const char *api_base, const s_agent_t *a, const char *role, const char *password,
        bool *made)
{
  char body[512];
  snprintf (body, sizeof body, "{\"email\":\"%s\",\"name\":\"%s\",\"role\":\"%s\","
            "\"languages\":%s,\"password\":\"%s\"}", a->email, a->name, role, a->languages,
            password);
  json_t *doc = s_call (api_base, "POST", "/v1/users", body);
  long long id = json_integer_value (json_object_get (doc, "id"));
  json_decref (doc);
  *made = id > 0;
  return id > 0 ? id : s_find (api_base, "/v1/users", "email", a->email);
}

/* A user, their agent settings, online. */
static bool
s_agent (const char *api_base, const s_agent_t *a)
{
  char password[DEMO_PASSWORD_MAX];
  snprintf (password, sizeof password, "demo-%llx-%llx", (unsigned long long) at_now_us (),
            (unsigned long long) getpid ());
  bool made = false;
  long long id = s_user (api_base, a, "agent", password, &made);
  if (id <= 0)
    return false;
  char path[64], body[512];
  snprintf (path, sizeof path, "/v1/agents/%lld", id);
  snprintf (body, sizeof body, "{\"languages\":%s,\"teams\":[\"" S_TEAM "\"],"
            "\"capacity\":{\"limit\":%d,\"weights\":{\"email\":0.3}}}", a->languages,
            DEMO_DESK_LIMIT);
  json_t *doc = s_call (api_base, "PUT", path, body);
  bool ok = doc != NULL;
  json_decref (doc);
  snprintf (path, sizeof path, "/v1/agents/%lld/presence", id);
  doc = ok ? s_call (api_base, "PUT", path, "{\"presence\":\"online\"}") : NULL;
  ok = doc != NULL;
  json_decref (doc);
  return ok;
}

/* The team's lead: a user of role lead (a new password for this run, into
 * password; "" when she was there from an earlier run), named in the team's
 * leads and in its agents (offline: she takes no ticket, sees the team's). */
static bool
s_team_lead (const char *api_base, char password[DEMO_PASSWORD_MAX])
{
  long long team = s_find (api_base, "/v1/teams", "name", S_TEAM);
  uint8_t raw[12];
  char hex[2 * sizeof raw + 1];
  at_random_bytes (raw, sizeof raw);
  for (size_t i = 0; i < sizeof raw; i++)
    snprintf (hex + 2 * i, 3, "%02x", raw[i]);
  snprintf (password, DEMO_PASSWORD_MAX, "lead-%s", hex);
  bool made = false;
  long long lead = team > 0 ? s_user (api_base, &s_lead, "lead", password, &made) : 0;
  if (!made)
    password[0] = '\0';              /* there from an earlier run: its password is not ours */
  char path[64], body[64];
  snprintf (path, sizeof path, "/v1/teams/%lld/leads", team);
  snprintf (body, sizeof body, "{\"leads\":[%lld]}", lead);
  json_t *doc = lead > 0 ? s_call (api_base, "PUT", path, body) : NULL;
  bool ok = doc != NULL;
  json_decref (doc);
  snprintf (path, sizeof path, "/v1/agents/%lld", lead);
  doc = ok ? s_call (api_base, "PUT", path, "{\"teams\":[\"" S_TEAM "\"]}") : NULL;
  ok = doc != NULL;
  json_decref (doc);
  return ok;
}

/* The calendar (made now, or found by name) and the demo's policy. */
static bool
s_policy (const char *api_base)
{
  json_t *cal = s_call (api_base, "POST", "/v1/calendars", "{\"name\":\"" S_CALENDAR "\","
                        "\"timezone\":\"America/Sao_Paulo\",\"windows\":[{\"days\":[\"sun\","
                        "\"mon\",\"tue\",\"wed\",\"thu\",\"fri\",\"sat\"],\"start\":\"00:00\","
                        "\"end\":\"24:00\"}]}");
  long long id = json_integer_value (json_object_get (cal, "id"));
  json_decref (cal);
  if (id <= 0)
    id = s_find (api_base, "/v1/calendars", "name", S_CALENDAR);
  char body[512];
  snprintf (body, sizeof body, "{\"name\":\"demo: urgent within %d s\",\"priority\":\"high\","
            "\"calendar_id\":%lld,\"first_response\":{\"target_s\":%d,\"time\":\"wall\"}}",
            DEMO_DESK_URGENT_S, id, DEMO_DESK_URGENT_S);
  json_t *pol = id > 0 ? s_call (api_base, "POST", "/v1/sla/policies", body) : NULL;
  json_decref (pol);
  return pol != NULL;
}

int
demo_desk_setup (at_store_t *store, const char *api_base, const char *demo_key, char *note,
                 size_t cap, char lead_password[DEMO_PASSWORD_MAX])
{
  at_auth_key_t key;
  lead_password[0] = '\0';
  at_scopes_t scopes = AT_SCOPE_ADMIN | AT_SCOPE_AGENTS_WRITE | AT_SCOPE_KPIS_READ
                       | AT_SCOPE_TICKETS_READ | AT_SCOPE_TICKETS_WRITE;
  if (at_store_key_create (store, "demo-setup", scopes, 1, "cli", &key) != AT_OK) {
    snprintf (note, cap, "desk not set up (no setup key): tickets for people wait in no queue");
    return AT_ERROR;
  }
  demo_http_key (key.text);
  json_t *team = s_call (api_base, "POST", "/v1/teams", "{\"name\":\"" S_TEAM "\","
                         "\"default\":true}");
  bool ok = team != NULL;
  json_decref (team);
  size_t agents = 0;
  for (size_t i = 0; ok && i < AT_ARRAY_LEN (s_agents); i++)
    agents += s_agent (api_base, &s_agents[i]);
  bool lead = ok && s_team_lead (api_base, lead_password);
  bool policy = ok && s_policy (api_base);
  json_t *rule = policy ? s_call (api_base, "POST", "/v1/rules", "{\"name\":\"demo: escalate"
                                  " a breach\",\"event\":\"sla_breach\",\"actions\":"
                                  "[{\"type\":\"escalate\"}]}") : NULL;
  bool escalate = rule != NULL;
  json_decref (rule);
  demo_http_key (demo_key);
  at_store_key_revoke (store, key.id);
  memset (&key, 0, sizeof key);
  if (policy)
    snprintf (note, cap, "desk: team " S_TEAM ", %zu agents online (room for %d chats each);"
              " SLA policy: high priority answered within %d s (wall time)%s", agents,
              DEMO_DESK_LIMIT, DEMO_DESK_URGENT_S,
              !escalate ? "" : lead ? "; rule: a breach escalates to the lead, " S_LEAD_NAME
                                    : "; rule: a breach escalates");
  else
    snprintf (note, cap, "desk: team " S_TEAM ", %zu agents online; no SLA policy (see above)",
              agents);
  return ok && agents == AT_ARRAY_LEN (s_agents) ? AT_OK : AT_ERROR;
}
