/* store_desk_api: the desk's tables as the api reads and changes them
 * (at_store_desk.h): teams, agents' settings and presence, the queue, and
 * the check before a manual assignment. Lists are JSON built by PostgreSQL
 * (json_build_object) and parsed here with jansson. Assignment state
 * (desk_ticket, agent_load, desk_assignment) is never written here: route
 * owns it (store_desk.c). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at_store_desk.h"
#include "at_store_json.h"

/* A JSON array parameter as a text[] (NULL stays NULL: unchanged). */
#define S_TEXTS(P) \
  "CASE WHEN " P "::jsonb IS NULL THEN NULL" \
  " ELSE ARRAY (SELECT DISTINCT jsonb_array_elements_text (" P "::jsonb)) END"
/* A JSON array of team names as their ids. */
#define S_TEAMS(P) \
  "CASE WHEN " P "::jsonb IS NULL THEN NULL ELSE ARRAY (SELECT t.id FROM team t" \
  " WHERE t.name IN (SELECT jsonb_array_elements_text (" P "::jsonb)) ORDER BY t.id) END"

#define S_AGENT_JSON \
  "json_build_object ('user_id', u.id, 'name', u.name, 'email', u.email, 'role', u.role," \
  " 'teams', coalesce ((SELECT json_agg (t.name ORDER BY t.name) FROM team t" \
  "   WHERE t.id = ANY (a.team_ids)), '[]'), 'team_ids', a.team_ids, 'skills', a.skills, 'languages', a.languages," \
  " 'capacity', json_build_object ('limit', a.cap_limit, 'weights', a.weights)," \
  " 'presence', a.presence, 'presence_at', a.presence_at, 'load', l.load," \
  " 'tickets', l.tickets)"

static const at_sql_t SQL_TEAM_UNDEFAULT = {"desk_team_undefault",
  "UPDATE team SET is_default = false WHERE is_default AND $1::boolean", 1};

static const at_sql_t SQL_TEAM_CREATE = {"desk_team_create",
  "INSERT INTO team (name, is_default) VALUES ($1, $2::boolean) RETURNING id", 2};

static const at_sql_t SQL_TEAMS_LIST = {"desk_teams_list",
  "SELECT coalesce (json_agg (json_build_object ('id', t.id, 'name', t.name,"
  " 'default', t.is_default, 'leads', t.leads,"
  " 'waiting', (SELECT count (*) FROM desk_ticket d WHERE d.team_id = t.id"
  "             AND d.state = 'queued'),"
  " 'oldest_waiting_s', (SELECT round (extract (epoch FROM now () - min (d.queued_at))::numeric,"
  "             1) FROM desk_ticket d WHERE d.team_id = t.id AND d.state = 'queued'),"
  " 'agents', (SELECT count (*) FROM agent a WHERE a.team_ids @> ARRAY[t.id]),"
  " 'online', (SELECT count (*) FROM agent a WHERE a.team_ids @> ARRAY[t.id]"
  "            AND a.presence = 'online')) ORDER BY t.name), '[]') FROM team t", 0};

static const at_sql_t SQL_TEAM_FIND = {"desk_team_find",
  "SELECT id FROM team WHERE name = $1", 1};

static const at_sql_t SQL_TEAMS_UNKNOWN = {"desk_teams_unknown",
  "SELECT n FROM jsonb_array_elements_text ($1::jsonb) AS n"
  " WHERE NOT EXISTS (SELECT 1 FROM team WHERE name = n) LIMIT 1", 1};

static const at_sql_t SQL_AGENT_PUT = {"desk_agent_put",
  "INSERT INTO agent (user_id, team_ids, skills, languages, cap_limit, weights)"
  " SELECT u.id, coalesce (" S_TEAMS ("$2") ", '{}'), coalesce (" S_TEXTS ("$3") ", '{}'),"
  " coalesce (" S_TEXTS ("$4") ", u.languages), coalesce ($5::numeric, $7::numeric),"
  " coalesce ($6::jsonb, '{}') FROM app_user u WHERE u.id = $1 AND u.disabled_at IS NULL"
  " ON CONFLICT (user_id) DO UPDATE SET team_ids = coalesce (" S_TEAMS ("$2") ", agent.team_ids),"
  " skills = coalesce (" S_TEXTS ("$3") ", agent.skills),"
  " languages = coalesce (" S_TEXTS ("$4") ", agent.languages),"
  " cap_limit = coalesce ($5::numeric, agent.cap_limit),"
  " weights = coalesce ($6::jsonb, agent.weights), updated_at = now () RETURNING user_id", 7};

static const at_sql_t SQL_LOAD_ENSURE = {"desk_load_ensure",
  "INSERT INTO agent_load (user_id) VALUES ($1) ON CONFLICT DO NOTHING", 1};

static const at_sql_t SQL_PRESENCE = {"desk_presence",
  "INSERT INTO agent (user_id, languages, cap_limit, presence)"
  " SELECT u.id, u.languages, $3::numeric, $2 FROM app_user u"
  " WHERE u.id = $1 AND u.disabled_at IS NULL"
  " ON CONFLICT (user_id) DO UPDATE SET presence = $2, presence_at = CASE"
  "   WHEN agent.presence = $2 THEN agent.presence_at ELSE now () END, updated_at = now ()"
  " RETURNING to_json (team_ids)::text", 3};

static const at_sql_t SQL_AGENT_GET = {"desk_agent_get",
  "SELECT " S_AGENT_JSON " FROM agent a JOIN app_user u ON u.id = a.user_id"
  " JOIN agent_load l ON l.user_id = a.user_id WHERE a.user_id = $1", 1};

static const at_sql_t SQL_AGENTS_LIST = {"desk_agents_list",
  "SELECT coalesce (json_agg (" S_AGENT_JSON " ORDER BY a.user_id), '[]')"
  " FROM agent a JOIN app_user u ON u.id = a.user_id JOIN agent_load l ON l.user_id = a.user_id"
  " WHERE $1::bigint = 0 OR a.team_ids @> ARRAY[$1::bigint]", 1};

/* A ticket's place on the desk: its team, queue state, assignee and what
 * it waits for; 'null' when it never needed a person. */
static const at_sql_t SQL_TICKET_DESK = {"desk_ticket_json",
  "SELECT coalesce ((SELECT json_build_object ('team_id', d.team_id, 'team', t.name,"
  " 'state', d.state, 'queued_at', d.queued_at, 'skills', d.skills,"
  " 'assignee', CASE WHEN u.id IS NULL THEN NULL ELSE json_build_object ('user_id', u.id,"
  "   'name', u.name, 'email', u.email) END,"
  " 'reply_due_at', d.reply_due_at)"
  " FROM desk_ticket d JOIN team t ON t.id = d.team_id LEFT JOIN app_user u ON u.id = d.assignee"
  " WHERE d.ticket_id = $1), 'null'::json)", 1};

static const at_sql_t SQL_ASSIGN_CHECK = {"desk_assign_check",
  "SELECT t.status, a.presence, l.load, a.cap_limit,"
  " coalesce ((a.weights ->> t.channel)::numeric, ($3::jsonb ->> t.channel)::numeric,"
  "   ($3::jsonb ->> '*')::numeric, 1), coalesce (d.assignee = $2::bigint, false)"
  " FROM ticket t LEFT JOIN desk_ticket d ON d.ticket_id = t.id"
  " LEFT JOIN agent a ON a.user_id = $2::bigint LEFT JOIN agent_load l ON l.user_id = a.user_id"
  " WHERE t.id = $1", 3};

static const at_sql_t SQL_QUEUE_LIST = {"desk_queue_list",
  "SELECT coalesce (json_agg (json_build_object ('ticket_id', d.ticket_id,"
  " 'priority', CASE d.priority_rank WHEN 0 THEN 'high' ELSE 'normal' END,"
  " 'channel', d.channel, 'language', NULLIF (d.language, ''), 'skills', d.skills,"
  " 'queued_at', d.queued_at,"
  " 'waited_s', round (extract (epoch FROM now () - d.queued_at)::numeric, 3))"
  " ORDER BY d.priority_rank, d.queued_at, d.ticket_id), '[]')"
  " FROM (SELECT * FROM desk_ticket WHERE team_id = $1 AND state = 'queued'"
  "       ORDER BY priority_rank, queued_at, ticket_id LIMIT $2) d", 2};

static void
s_id (int64_t id, char out[24])
{
  snprintf (out, 24, "%" PRId64, id);
}


int
at_store_desk_team_create (at_store_t *store, const char *name, bool is_default, int64_t *id_out)
{
  const char *def = is_default ? "true" : "false";
  int rc = at_store_do (store, &SQL_TEAM_UNDEFAULT, def);
  PGresult *res = NULL;
  if (rc == AT_OK)
    rc = at_store_q (store, &res, &SQL_TEAM_CREATE, name, def);
  if (rc != AT_OK)
    return rc;
  *id_out = strtoll (PQgetvalue (res, 0, 0), NULL, 10);
  PQclear (res);
  return AT_OK;
}

int
at_store_desk_teams_list (at_store_t *store, json_t **items_out)
{
  return at_store_json (store, &SQL_TEAMS_LIST, NULL, items_out);
}

int
at_store_desk_team_find (at_store_t *store, const char *name, int64_t *id_out)
{
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_TEAM_FIND, name);
  if (rc != AT_OK)
    return rc;
  rc = PQntuples (res) == 1 ? AT_OK : AT_NOTFOUND;
  *id_out = rc == AT_OK ? strtoll (PQgetvalue (res, 0, 0), NULL, 10) : 0;
  PQclear (res);
  return rc;
}

int
at_store_desk_teams_unknown (at_store_t *store, const char *names_json, char *unknown, size_t cap)
{
  PGresult *res = NULL;
  unknown[0] = '\0';
  int rc = at_store_q (store, &res, &SQL_TEAMS_UNKNOWN, names_json);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) == 1)
    at_strlcpy (unknown, PQgetvalue (res, 0, 0), cap);
  PQclear (res);
  return AT_OK;
}

int
at_store_desk_agent_put (at_store_t *store, int64_t user_id, const at_desk_agent_t *a)
{
  char id[24], def[24];
  s_id (user_id, id);
  s_id (a->default_limit, def);
  const char *values[] = {id, a->teams_json, a->skills_json, a->languages_json, a->limit,
                          a->weights_json, def};
  PGresult *res = NULL;
  int rc = at_store_exec (store, &SQL_AGENT_PUT, values, NULL, NULL, &res);
  if (rc != AT_OK)
    return rc;
  rc = PQntuples (res) == 1 ? AT_OK : AT_NOTFOUND;
  PQclear (res);
  return rc == AT_OK ? at_store_do (store, &SQL_LOAD_ENSURE, id) : rc;
}

int
at_store_desk_presence_set (at_store_t *store, int64_t user_id, const char *presence,
                            long default_limit, json_t **teams_out)
{
  char id[24], def[24];
  s_id (user_id, id);
  s_id (default_limit, def);
  const char *values[] = {id, presence, def};
  int rc = at_store_json (store, &SQL_PRESENCE, values, teams_out);
  return rc == AT_OK ? at_store_do (store, &SQL_LOAD_ENSURE, id) : rc;
}

int
at_store_desk_agent_get (at_store_t *store, int64_t user_id, json_t **doc_out)
{
  char id[24];
  s_id (user_id, id);
  const char *values[] = {id};
  return at_store_json (store, &SQL_AGENT_GET, values, doc_out);
}

int
at_store_desk_ticket_json (at_store_t *store, int64_t ticket_id, json_t **doc_out)
{
  char id[24];
  s_id (ticket_id, id);
  const char *values[] = {id};
  return at_store_json (store, &SQL_TICKET_DESK, values, doc_out);
}

int
at_store_desk_agents_list (at_store_t *store, int64_t team_id, json_t **items_out)
{
  char id[24];
  s_id (team_id, id);
  const char *values[] = {id};
  return at_store_json (store, &SQL_AGENTS_LIST, values, items_out);
}

/* The reason from the check's row. */
static void
s_why (const PGresult *res, char why[AT_DESK_WHY_MAX], char detail[AT_DESK_DETAIL_MAX])
{
  const char *presence = PQgetvalue (res, 0, 1);
  double load = strtod (PQgetvalue (res, 0, 2), NULL);
  double limit = strtod (PQgetvalue (res, 0, 3), NULL);
  double weight = strtod (PQgetvalue (res, 0, 4), NULL);
  bool already = PQgetvalue (res, 0, 5)[0] == 't';
  why[0] = detail[0] = '\0';
  if (strcmp (PQgetvalue (res, 0, 0), "resolved") == 0) {
    at_strlcpy (why, "resolved", AT_DESK_WHY_MAX);
    at_strlcpy (detail, "the ticket is resolved", AT_DESK_DETAIL_MAX);
  }
  else if (PQgetisnull (res, 0, 1)) {
    at_strlcpy (why, "not_agent", AT_DESK_WHY_MAX);
    at_strlcpy (detail, "no agent with this id (set their settings or presence first)",
                AT_DESK_DETAIL_MAX);
  }
  else if (strcmp (presence, "online") != 0) {
    at_strlcpy (why, "offline", AT_DESK_WHY_MAX);
    snprintf (detail, AT_DESK_DETAIL_MAX, "the agent is %s", presence);
  }
  else if (!already && load + weight > limit + 1e-9) {
    at_strlcpy (why, "full", AT_DESK_WHY_MAX);
    snprintf (detail, AT_DESK_DETAIL_MAX, "the agent is full: load %.3g + this ticket's weight"
              " %.3g is over their limit %.3g", load, weight, limit);
  }
}

int
at_store_desk_assign_check (at_store_t *store, int64_t ticket_id, int64_t agent_id,
                            const char *weights_json, char why[AT_DESK_WHY_MAX],
                            char detail[AT_DESK_DETAIL_MAX])
{
  char ticket[24], agent[24];
  s_id (ticket_id, ticket);
  s_id (agent_id, agent);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_ASSIGN_CHECK, ticket, agent, weights_json);
  if (rc != AT_OK)
    return rc;
  rc = PQntuples (res) == 1 ? AT_OK : AT_NOTFOUND;
  if (rc == AT_OK)
    s_why (res, why, detail);
  PQclear (res);
  return rc;
}

int
at_store_desk_queue_list (at_store_t *store, int64_t team_id, int limit, json_t **items_out)
{
  char team[24], lim[24];
  s_id (team_id, team);
  s_id (limit, lim);
  const char *values[] = {team, lim};
  return at_store_json (store, &SQL_QUEUE_LIST, values, items_out);
}
