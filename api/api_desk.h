/* api: the desk (api_desk.c, api_desk_assign.c): teams, agents' settings
 * and presence, the queue, manual assignment and transfer. */
#ifndef API_DESK_H
#define API_DESK_H

#include "api_internal.h"
#include "at_store_desk.h"

/* POST /v1/teams {name, default?}; GET /v1/teams */
void api_teams_post (api_request_t *req);
void api_teams_list (api_request_t *req);
/* GET /v1/agents?team=; PUT /v1/agents/{user_id} {teams?, skills?,
 * languages?, capacity?: {limit?, weights?}}; PUT /v1/agents/{user_id}/presence
 * {presence} (the agent themself signed in, or admin) */
void api_agents_list (api_request_t *req);
void api_agent_put (api_request_t *req);
void api_agent_presence_put (api_request_t *req);
/* GET /v1/desk/queue?team=&limit= */
void api_desk_queue_get (api_request_t *req);
/* POST /v1/tickets/{id}/assign {agent_id}; /transfer {team} | {agent_id} */
void api_tickets_assign_post (api_request_t *req);
void api_tickets_transfer_post (api_request_t *req);

/* --- the pure part, unit-tested */

/* An agent's settings from a PUT body: the JSON texts the store takes
 * (owned, NULL when the field is absent: unchanged). */
typedef struct {
  char *teams, *skills, *languages, *weights;
  char limit[32];                   /* "" absent */
} api_desk_agent_body_t;

/* AT_OK with *out filled (free with api_desk_agent_body_clear), or
 * AT_INVALID with the problem naming the field (400 not JSON, 422 a value). */
int api_desk_agent_parse (const char *body, size_t len, api_desk_agent_body_t *out,
                          api_problem_t *p);
void api_desk_agent_body_clear (api_desk_agent_body_t *b);

/* {presence: online|away|offline} into out (static string). */
int api_desk_presence_parse (const char *body, size_t len, const char **out, api_problem_t *p);

/* {agent_id} (assign), or {team} | {agent_id} (transfer, exactly one):
 * *agent_id 0 when a team was given (its name into team). */
int api_desk_target_parse (const char *body, size_t len, bool transfer, int64_t *agent_id,
                           char team[AT_DESK_TEAM_MAX + 1], api_problem_t *p);

/* Whether name is a team name: [a-z0-9][a-z0-9_.-]{0,62}. */
bool api_desk_team_name_ok (const char *name);

#endif
