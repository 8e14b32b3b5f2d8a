/* at_store_desk: the desk's tables (migration 016): teams, agents' settings
 * and presence, each agent's load, the queue of tickets that need a person
 * and the assignment log. route's side (store_desk.c) runs in the worker's
 * transaction; the api's side (store_desk_api.c) answers the api.
 *
 * The invariants: an agent's load (agent_load.load) is the sum of the
 * weights of the tickets assigned to them, written only with that row
 * locked, and never above their limit (at_store_desk_assign refuses);
 * a ticket has at most one open assignment (a unique index). */
#ifndef AT_STORE_DESK_H
#define AT_STORE_DESK_H

#include <jansson.h>
#include "at_store.h"
#include "at_list.h"

#define AT_DESK_TEAM_MAX 63         /* bytes of a team name: [a-z0-9][a-z0-9_.-]* */
#define AT_DESK_SKILLS_MAX 32       /* skills of an agent or a ticket */
#define AT_DESK_SKILL_MAX 64        /* bytes of one skill */
#define AT_DESK_LANGUAGES_MAX 16
#define AT_DESK_TEAMS_MAX 16        /* teams of one agent */
#define AT_DESK_PAGE_MAX 256        /* queued tickets looked at per assignment round */
#define AT_DESK_WEIGHTS_JSON_MAX 2048
#define AT_DESK_QUEUE_LIST_MAX 500

/* A ticket at the desk, as the assignment reads it. */
typedef struct {
  int64_t ticket_id;
  int64_t team_id;
  char state[16];                   /* queued | assigned | done */
  int priority_rank;                /* 0 high, 1 normal */
  char channel[32];
  char language[16];                /* primary subtag, "" any */
  bool needs_skills;                /* skills is not empty */
  int64_t assignee;                 /* 0: none */
  int64_t assignment_id;
  int64_t last_agent;               /* 0: none */
  int64_t skip_agent;               /* 0: none */
  double waited_s;                  /* since queued_at */
} at_desk_ticket_t;

/* What to match an agent on (at_store_desk_pick). */
typedef struct {
  int64_t team_id;
  int64_t ticket_id;                /* its channel and required skills */
  const char *language;             /* "" or NULL: any (widened, or not known) */
  bool skills;                      /* false: skills not required (widened) */
  int64_t skip_agent;               /* 0: none */
  const char *weights_json;         /* at_store_desk_weights_json */
} at_desk_pick_t;

/* The default weights of ATENDE_DESK_CHANNEL_WEIGHTS (channel=weight, "*"
 * the rest) as the JSON object the statements take. AT_INVALID when a
 * weight is not a number in 0..1000 (reason names it). */
int at_store_desk_weights_json (const at_list_t *weights, char *out, size_t cap, char *reason,
                                size_t reason_cap);

/* --- route: all in the caller's transaction --------------------------- */

/* The team new tickets go to: the one marked default, else the one named
 * name (created and marked default). */
int at_store_desk_default_team (at_store_t *store, const char *name, int64_t *team_id_out);

/* Reads and locks a ticket's desk row: AT_NOTFOUND when it has none. */
int at_store_desk_ticket_lock (at_store_t *store, int64_t ticket_id, at_desk_ticket_t *out);

/* Into its team's queue (a new row, or again): state queued, no assignee.
 * queued_at is kept while it was queued or assigned (it has been waiting),
 * now when it was done (reopened). priority_rank never rises above what
 * it was while queued. */
int at_store_desk_enqueue (at_store_t *store, int64_t ticket_id, int64_t team_id,
                           const char *channel, const char *language, int priority_rank);

/* Ends the ticket's assignment (reason resolved | no_reply | reassigned |
 * transferred): the agent's load and tickets down by its weight, the log
 * row closed, the ticket's state to next_state (done | queued; queued keeps
 * queued_at; no_reply also sets skip_agent). *agent_out gets who had it.
 * AT_NOTFOUND when it was not assigned (nothing changed). */
int at_store_desk_release (at_store_t *store, int64_t ticket_id, const char *reason,
                           const char *next_state, int64_t *agent_out);

/* A queued ticket leaves the queue (resolved before anyone took it). */
int at_store_desk_done (at_store_t *store, int64_t ticket_id);

/* Up to cap queued tickets of team, high priority first then the longest
 * waiting, locked (FOR UPDATE SKIP LOCKED: rows another transaction holds
 * are passed over). */
int at_store_desk_queue_page (at_store_t *store, int64_t team_id, size_t cap,
                              at_desk_ticket_t *out, size_t *n_out);

/* The least-loaded eligible agent for a ticket: online, in the team,
 * speaking its language, with its skills (unless q says otherwise), not
 * skip_agent, whose load + the ticket's weight fits their limit; their
 * agent_load row locked (FOR UPDATE: a row another transaction holds is
 * waited for and checked again). AT_NOTFOUND: none. */
int at_store_desk_pick (at_store_t *store, const at_desk_pick_t *q, int64_t *agent_out);

typedef struct {
  int64_t ticket_id, agent_id, team_id;
  const char *how;                  /* auto | manual | transfer | reopen */
  const char *widened;              /* "" | skills | language */
  const char *actor;                /* NULL for auto */
  const char *weights_json;
  long reply_within_s;              /* > 0: the agent owes a reply by then */
} at_desk_assign_t;

/* Gives the ticket to the agent: load + weight (the ticket's channel's)
 * checked against the limit and the agent online in the same statement
 * that raises it, the log row, the ticket assigned. AT_CONFLICT (nothing
 * written) when the agent is not online or it does not fit. */
int at_store_desk_assign (at_store_t *store, const at_desk_assign_t *a,
                          int64_t *assignment_id_out);

/* The agent whose last ticket this was, if they are online and it fits
 * (*agent_out 0 otherwise). */
int at_store_desk_returning_agent (at_store_t *store, int64_t ticket_id, const char *weights_json,
                                   int64_t *agent_out);

/* A customer wrote on an assigned ticket: a reply is owed within s seconds
 * (when none was owed already); *assignment_out its assignment, 0 when
 * nothing changed. */
int at_store_desk_reply_owed (at_store_t *store, int64_t ticket_id, long s,
                              int64_t *assignment_out);

/* An agent answered: no reply owed. */
int at_store_desk_replied (at_store_t *store, int64_t ticket_id);

/* Whether assignment is still the ticket's and its reply is overdue. */
int at_store_desk_reply_overdue (at_store_t *store, int64_t ticket_id, int64_t assignment_id,
                                 bool *overdue_out);

/* The teams of an agent (up to cap). */
int at_store_desk_agent_teams (at_store_t *store, int64_t agent_id, int64_t *teams, size_t cap,
                               size_t *n_out);

/* For rules: the ticket's team and required skills (a queued ticket stays
 * queued; the caller asks for an assignment round). */
int at_store_desk_ticket_set_team (at_store_t *store, int64_t ticket_id, int64_t team_id);
int at_store_desk_ticket_set_skills (at_store_t *store, int64_t ticket_id,
                                     const char *skills_json);

/* --- api (store_desk_api.c): each statement on its own ---------------- */

typedef struct {
  const char *teams_json;           /* JSON array of team names, NULL: unchanged */
  const char *skills_json;          /* JSON array, NULL: unchanged */
  const char *languages_json;       /* JSON array, NULL: unchanged (new: the user's) */
  const char *limit;                /* decimal text, NULL: unchanged (new: default) */
  const char *weights_json;         /* JSON object channel -> weight, NULL: unchanged */
  long default_limit;
} at_desk_agent_t;

/* Creates a team; AT_CONFLICT when the name is taken. is_default moves
 * the default mark to it. */
int at_store_desk_team_create (at_store_t *store, const char *name, bool is_default,
                               int64_t *id_out);
/* Teams with their waiting tickets and agents online: [{id, name, default,
 * waiting, agents, online}]. */
int at_store_desk_teams_list (at_store_t *store, json_t **items_out);
int at_store_desk_team_find (at_store_t *store, const char *name, int64_t *id_out);
/* The first name of a JSON array of team names that is no team (into
 * unknown, "" when all are known). */
int at_store_desk_teams_unknown (at_store_t *store, const char *names_json, char *unknown,
                                 size_t cap);

/* Creates or changes an agent's settings (and their load row).
 * AT_NOTFOUND: no such enabled user. */
int at_store_desk_agent_put (at_store_t *store, int64_t user_id, const at_desk_agent_t *a);
/* Presence now; the agent's row is made when missing. *teams_out (owned)
 * the agent's team ids as a JSON array. AT_NOTFOUND: no such enabled user. */
int at_store_desk_presence_set (at_store_t *store, int64_t user_id, const char *presence,
                                long default_limit, json_t **teams_out);
/* One agent / all agents (team_id 0) as JSON: {user_id, name, email, role,
 * teams, skills, languages, capacity {limit, weights}, presence,
 * presence_at, load, tickets}. */
int at_store_desk_agent_get (at_store_t *store, int64_t user_id, json_t **doc_out);
/* A ticket's desk state as JSON (team, state, assignee, reply_due_at), or
 * JSON null when it was never queued. */
int at_store_desk_ticket_json (at_store_t *store, int64_t ticket_id, json_t **doc_out);
int at_store_desk_agents_list (at_store_t *store, int64_t team_id, json_t **items_out);

/* Why the agent cannot take the ticket now: why "" (they can),
 * "not_agent" (no agent row), "offline" (away or offline), "full" (load +
 * the ticket's weight over the limit), "resolved" (the ticket is); detail
 * says it with the figures. AT_NOTFOUND: no such ticket. */
#define AT_DESK_WHY_MAX 24
#define AT_DESK_DETAIL_MAX 160
int at_store_desk_assign_check (at_store_t *store, int64_t ticket_id, int64_t agent_id,
                                const char *weights_json, char why[AT_DESK_WHY_MAX],
                                char detail[AT_DESK_DETAIL_MAX]);

/* The team's waiting tickets in the order they will be taken, up to limit:
 * [{ticket_id, priority, channel, language, skills, queued_at, waited_s}]. */
int at_store_desk_queue_list (at_store_t *store, int64_t team_id, int limit,
                              json_t **items_out);

/* --- bench/bench_assign.c (store_desk_bench.c) -------------------------- */

/* A default team "bench" with agents online (capacity limit, pt-BR or
 * pt-BR and en), and tickets waiting in its queue (chat, one in ten email;
 * pt or en; one in twenty high). For a freshly migrated database. */
int at_store_desk_bench_seed (at_store_t *store, long agents, long limit, long tickets);

#endif
