/* store_desk: the desk's tables as route uses them (at_store_desk.h), every
 * statement in the caller's transaction. The lock order is always the
 * ticket, then its desk_ticket row, then agent_load rows. The assignment
 * round takes its page of desk_ticket rows with SKIP LOCKED; an agent's
 * agent_load row it locks FOR UPDATE, waiting for a concurrent assignment
 * to the same agent and re-checking the limit on the newest row (skipping
 * it instead would leave a ticket waiting with nobody to ask for a round
 * again). Two rounds of teams that share agents may deadlock: PostgreSQL
 * ends one, and the worker runs it again. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at_store_desk.h"
#include "at_log.h"

#define S_COMP "desk"

/* The weight of one ticket of channel CH for agent alias a: the agent's
 * own, else the default of the channel, else the default "*", else 1.
 * $W is the parameter holding at_store_desk_weights_json. */
#define S_WEIGHT(CH, W) \
  "coalesce ((a.weights ->> " CH ")::numeric, (" W "::jsonb ->> " CH ")::numeric," \
  " (" W "::jsonb ->> '*')::numeric, 1)"

#define S_DESK_COLUMNS \
  "ticket_id, team_id, state, priority_rank, channel, language, cardinality (skills) > 0," \
  " coalesce (assignee, 0), coalesce (assignment_id, 0), coalesce (last_agent, 0)," \
  " coalesce (skip_agent, 0), extract (epoch FROM now () - queued_at)::float8"

/* The default team, else the named one made default (created when missing). */
static const at_sql_t SQL_DEFAULT_TEAM = {"desk_default_team",
  "WITH n AS (INSERT INTO team (name, is_default) SELECT $1, true"
  "           WHERE NOT EXISTS (SELECT 1 FROM team WHERE is_default)"
  "           ON CONFLICT DO NOTHING RETURNING id)"
  " SELECT id FROM n UNION ALL (SELECT id FROM team WHERE is_default)"
  " UNION ALL (SELECT id FROM team WHERE name = $1) LIMIT 1", 1};

static const at_sql_t SQL_TICKET_LOCK = {"desk_ticket_lock",
  "SELECT " S_DESK_COLUMNS " FROM desk_ticket WHERE ticket_id = $1 FOR UPDATE", 1};

static const at_sql_t SQL_ENQUEUE = {"desk_enqueue",
  "INSERT INTO desk_ticket (ticket_id, team_id, state, channel, language, priority_rank)"
  " VALUES ($1, $2, 'queued', $3, at_desk_lang ($4), $5::smallint)"
  " ON CONFLICT (ticket_id) DO UPDATE SET state = 'queued', team_id = EXCLUDED.team_id,"
  " channel = EXCLUDED.channel, language = EXCLUDED.language,"
  " priority_rank = CASE WHEN desk_ticket.state = 'queued'"
  "   THEN least (desk_ticket.priority_rank, EXCLUDED.priority_rank)"
  "   ELSE EXCLUDED.priority_rank END,"
  " queued_at = CASE WHEN desk_ticket.state = 'done' THEN now () ELSE desk_ticket.queued_at END,"
  " skip_agent = CASE WHEN desk_ticket.state = 'done' THEN NULL ELSE desk_ticket.skip_agent END,"
  " assignee = NULL, assignment_id = NULL, weight = 0, reply_due_at = NULL, updated_at = now ()"
  " WHERE desk_ticket.state <> 'assigned'", 5};

static const at_sql_t SQL_RELEASE = {"desk_release",
  "WITH d AS (SELECT ticket_id, assignee, assignment_id, weight FROM desk_ticket"
  "           WHERE ticket_id = $1 AND state = 'assigned' FOR UPDATE),"
  " l AS (UPDATE agent_load l SET load = greatest (l.load - d.weight, 0),"
  "       tickets = greatest (l.tickets - 1, 0), updated_at = now ()"
  "       FROM d WHERE l.user_id = d.assignee RETURNING 1),"
  " x AS (UPDATE desk_assignment a SET released_at = now (), release_reason = $2"
  "       FROM d WHERE a.id = d.assignment_id RETURNING 1)"
  " UPDATE desk_ticket t SET state = $3, assignee = NULL, assignment_id = NULL, weight = 0,"
  " last_agent = d.assignee, skip_agent = CASE WHEN $2 = 'no_reply' THEN d.assignee END,"
  " reply_due_at = NULL, updated_at = now ()"
  " FROM d WHERE t.ticket_id = d.ticket_id RETURNING d.assignee", 3};

static const at_sql_t SQL_DONE = {"desk_done",
  "UPDATE desk_ticket SET state = 'done', updated_at = now ()"
  " WHERE ticket_id = $1 AND state = 'queued'", 1};

static const at_sql_t SQL_QUEUE_PAGE = {"desk_queue_page",
  "SELECT " S_DESK_COLUMNS " FROM desk_ticket WHERE team_id = $1 AND state = 'queued'"
  " ORDER BY priority_rank, queued_at, ticket_id LIMIT $2 FOR UPDATE SKIP LOCKED", 2};

static const at_sql_t SQL_PICK = {"desk_pick",
  "SELECT a.user_id FROM desk_ticket d, agent a JOIN agent_load l ON l.user_id = a.user_id"
  " WHERE d.ticket_id = $2 AND a.presence = 'online' AND a.team_ids @> ARRAY[$1::bigint]"
  " AND ($3 = '' OR a.lang_keys @> ARRAY[$3::text])"
  " AND (NOT $4::boolean OR a.skills @> d.skills) AND a.user_id <> $5::bigint"
  " AND l.load + " S_WEIGHT ("d.channel", "$6") " <= a.cap_limit"
  " ORDER BY (l.load + " S_WEIGHT ("d.channel", "$6") ") / a.cap_limit, l.tickets, a.user_id"
  " LIMIT 1 FOR UPDATE OF l", 6};

/* The load rises only when the agent is online and it still fits, re-read
 * under the row lock (an UPDATE re-checks its WHERE on the newest row). */
static const at_sql_t SQL_ASSIGN = {"desk_assign",
  "WITH d AS (SELECT channel FROM desk_ticket WHERE ticket_id = $1),"
  " w AS (SELECT a.user_id, a.cap_limit, " S_WEIGHT ("d.channel", "$7") " AS w"
  "       FROM agent a, d WHERE a.user_id = $2 AND a.presence = 'online'),"
  " l AS (UPDATE agent_load l SET load = l.load + w.w, tickets = l.tickets + 1,"
  "       updated_at = now () FROM w WHERE l.user_id = w.user_id"
  "       AND l.load + w.w <= w.cap_limit RETURNING l.user_id, w.w),"
  " x AS (INSERT INTO desk_assignment (ticket_id, agent_id, team_id, how, weight, widened, actor)"
  "       SELECT $1, l.user_id, $3, $4, l.w, $5, NULLIF ($6, '') FROM l RETURNING id, weight)"
  " UPDATE desk_ticket t SET state = 'assigned', assignee = $2, assignment_id = x.id,"
  " weight = x.weight, team_id = $3, skip_agent = NULL, last_agent = $2,"
  " reply_due_at = CASE WHEN $8::int > 0 THEN now () + make_interval (secs => $8::int) END,"
  " updated_at = now () FROM x WHERE t.ticket_id = $1 RETURNING x.id", 8};

static const at_sql_t SQL_RETURNING_AGENT = {"desk_returning_agent",
  "SELECT a.user_id FROM desk_ticket d JOIN agent a ON a.user_id = d.last_agent"
  " JOIN agent_load l ON l.user_id = a.user_id"
  " WHERE d.ticket_id = $1 AND a.presence = 'online'"
  " AND l.load + " S_WEIGHT ("d.channel", "$2") " <= a.cap_limit", 2};

static const at_sql_t SQL_REPLY_OWED = {"desk_reply_owed",
  "UPDATE desk_ticket SET reply_due_at = now () + make_interval (secs => $2::int),"
  " updated_at = now () WHERE ticket_id = $1 AND state = 'assigned' AND reply_due_at IS NULL"
  " RETURNING assignment_id", 2};

static const at_sql_t SQL_REPLIED = {"desk_replied",
  "UPDATE desk_ticket SET reply_due_at = NULL, updated_at = now ()"
  " WHERE ticket_id = $1 AND state = 'assigned' AND reply_due_at IS NOT NULL", 1};

/* A second of slack: the delayed check was timed by the worker's clock. */
static const at_sql_t SQL_REPLY_OVERDUE = {"desk_reply_overdue",
  "SELECT 1 FROM desk_ticket WHERE ticket_id = $1 AND state = 'assigned'"
  " AND assignment_id = $2 AND reply_due_at <= now () + interval '1 second'", 2};

static const at_sql_t SQL_AGENT_TEAMS = {"desk_agent_teams",
  "SELECT unnest (team_ids) FROM agent WHERE user_id = $1", 1};

static const at_sql_t SQL_SET_TEAM = {"desk_set_team",
  "UPDATE desk_ticket SET team_id = $2, updated_at = now () WHERE ticket_id = $1", 2};

static const at_sql_t SQL_SET_SKILLS = {"desk_set_skills",
  "UPDATE desk_ticket SET skills = ARRAY (SELECT jsonb_array_elements_text ($2::jsonb)),"
  " updated_at = now () WHERE ticket_id = $1", 2};

static void
s_id (int64_t id, char out[24])
{
  snprintf (out, 24, "%" PRId64, id);
}

static int64_t
s_int64 (const PGresult *res, int row, int col)
{
  return strtoll (PQgetvalue (res, row, col), NULL, 10);
}

int
at_store_desk_weights_json (const at_list_t *weights, char *out, size_t cap, char *reason,
                            size_t reason_cap)
{
  json_t *obj = json_object ();
  int rc = AT_OK;
  for (size_t i = 0; i < weights->n && rc == AT_OK; i++) {
    const at_list_item_t *it = &weights->items[i];
    char *end = NULL;
    double w = it->value ? strtod (it->value, &end) : NAN;
    if (!it->key || !end || *end != '\0' || !(w >= 0 && w <= 1000)) {
      snprintf (reason, reason_cap, "weight of %s is not a number from 0 to 1000",
                it->key ? it->key : "(no channel)");
      rc = AT_INVALID;
    }
    else
      json_object_set_new (obj, it->key, json_real (w));
  }
  char *text = rc == AT_OK ? json_dumps (obj, JSON_COMPACT) : NULL;
  if (rc == AT_OK && (!text || strlen (text) >= cap)) {
    snprintf (reason, reason_cap, "too many weights");
    rc = AT_INVALID;
  }
  if (rc == AT_OK)
    at_strlcpy (out, text, cap);
  free (text);
  json_decref (obj);
  return rc;
}

int
at_store_desk_default_team (at_store_t *store, const char *name, int64_t *team_id_out)
{
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_DEFAULT_TEAM, name);
  if (rc != AT_OK)
    return rc;
  rc = PQntuples (res) == 1 ? AT_OK : AT_AGAIN;   /* lost a race to create it: again */
  if (rc == AT_OK)
    *team_id_out = s_int64 (res, 0, 0);
  PQclear (res);
  return rc;
}

static void
s_desk_row (const PGresult *res, int row, at_desk_ticket_t *out)
{
  memset (out, 0, sizeof *out);
  out->ticket_id = s_int64 (res, row, 0);
  out->team_id = s_int64 (res, row, 1);
  at_strlcpy (out->state, PQgetvalue (res, row, 2), sizeof out->state);
  out->priority_rank = (int) s_int64 (res, row, 3);
  at_strlcpy (out->channel, PQgetvalue (res, row, 4), sizeof out->channel);
  at_strlcpy (out->language, PQgetvalue (res, row, 5), sizeof out->language);
  out->needs_skills = PQgetvalue (res, row, 6)[0] == 't';
  out->assignee = s_int64 (res, row, 7);
  out->assignment_id = s_int64 (res, row, 8);
  out->last_agent = s_int64 (res, row, 9);
  out->skip_agent = s_int64 (res, row, 10);
  out->waited_s = strtod (PQgetvalue (res, row, 11), NULL);
}

int
at_store_desk_ticket_lock (at_store_t *store, int64_t ticket_id, at_desk_ticket_t *out)
{
  char id[24];
  s_id (ticket_id, id);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_TICKET_LOCK, id);
  if (rc != AT_OK)
    return rc;
  rc = PQntuples (res) == 1 ? AT_OK : AT_NOTFOUND;
  if (rc == AT_OK)
    s_desk_row (res, 0, out);
  PQclear (res);
  return rc;
}

int
at_store_desk_enqueue (at_store_t *store, int64_t ticket_id, int64_t team_id,
                       const char *channel, const char *language, int priority_rank)
{
  char id[24], team[24], rank[24];
  s_id (ticket_id, id);
  s_id (team_id, team);
  s_id (priority_rank, rank);
  return at_store_do (store, &SQL_ENQUEUE, id, team, channel, language ? language : "", rank);
}

int
at_store_desk_release (at_store_t *store, int64_t ticket_id, const char *reason,
                       const char *next_state, int64_t *agent_out)
{
  char id[24];
  s_id (ticket_id, id);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_RELEASE, id, reason, next_state);
  if (rc != AT_OK)
    return rc;
  rc = PQntuples (res) == 1 ? AT_OK : AT_NOTFOUND;
  *agent_out = rc == AT_OK ? s_int64 (res, 0, 0) : 0;
  PQclear (res);
  return rc;
}

int
at_store_desk_done (at_store_t *store, int64_t ticket_id)
{
  char id[24];
  s_id (ticket_id, id);
  return at_store_do (store, &SQL_DONE, id);
}

int
at_store_desk_queue_page (at_store_t *store, int64_t team_id, size_t cap, at_desk_ticket_t *out,
                          size_t *n_out)
{
  char team[24], limit[24];
  s_id (team_id, team);
  s_id ((int64_t) (cap < AT_DESK_PAGE_MAX ? cap : AT_DESK_PAGE_MAX), limit);
  PGresult *res = NULL;
  *n_out = 0;
  int rc = at_store_q (store, &res, &SQL_QUEUE_PAGE, team, limit);
  if (rc != AT_OK)
    return rc;
  for (int i = 0; i < PQntuples (res) && (size_t) i < cap; i++)
    s_desk_row (res, i, &out[(*n_out)++]);
  PQclear (res);
  return AT_OK;
}

int
at_store_desk_pick (at_store_t *store, const at_desk_pick_t *q, int64_t *agent_out)
{
  char team[24], ticket[24], skip[24];
  s_id (q->team_id, team);
  s_id (q->ticket_id, ticket);
  s_id (q->skip_agent, skip);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_PICK, team, ticket, q->language ? q->language : "",
                       q->skills ? "true" : "false", skip, q->weights_json);
  if (rc != AT_OK)
    return rc;
  rc = PQntuples (res) == 1 ? AT_OK : AT_NOTFOUND;
  *agent_out = rc == AT_OK ? s_int64 (res, 0, 0) : 0;
  PQclear (res);
  return rc;
}

int
at_store_desk_assign (at_store_t *store, const at_desk_assign_t *a, int64_t *assignment_id_out)
{
  char ticket[24], agent[24], team[24], within[24];
  s_id (a->ticket_id, ticket);
  s_id (a->agent_id, agent);
  s_id (a->team_id, team);
  s_id (a->reply_within_s, within);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_ASSIGN, ticket, agent, team, a->how,
                       a->widened ? a->widened : "", a->actor ? a->actor : "", a->weights_json,
                       within);
  if (rc != AT_OK)
    return rc;
  rc = PQntuples (res) == 1 ? AT_OK : AT_CONFLICT;
  *assignment_id_out = rc == AT_OK ? s_int64 (res, 0, 0) : 0;
  PQclear (res);
  return rc;
}

int
at_store_desk_returning_agent (at_store_t *store, int64_t ticket_id, const char *weights_json,
                               int64_t *agent_out)
{
  char id[24];
  s_id (ticket_id, id);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_RETURNING_AGENT, id, weights_json);
  if (rc != AT_OK)
    return rc;
  *agent_out = PQntuples (res) == 1 ? s_int64 (res, 0, 0) : 0;
  PQclear (res);
  return AT_OK;
}

int
at_store_desk_reply_owed (at_store_t *store, int64_t ticket_id, long s, int64_t *assignment_out)
{
  char id[24], secs[24];
  s_id (ticket_id, id);
  s_id (s, secs);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_REPLY_OWED, id, secs);
  if (rc != AT_OK)
    return rc;
  *assignment_out = PQntuples (res) == 1 ? s_int64 (res, 0, 0) : 0;
  PQclear (res);
  return AT_OK;
}

int
at_store_desk_replied (at_store_t *store, int64_t ticket_id)
{
  char id[24];
  s_id (ticket_id, id);
  return at_store_do (store, &SQL_REPLIED, id);
}

int
at_store_desk_reply_overdue (at_store_t *store, int64_t ticket_id, int64_t assignment_id,
                             bool *overdue_out)
{
  char id[24], assignment[24];
  s_id (ticket_id, id);
  s_id (assignment_id, assignment);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &SQL_REPLY_OVERDUE, id, assignment);
  if (rc != AT_OK)
    return rc;
  *overdue_out = PQntuples (res) == 1;
  PQclear (res);
  return AT_OK;
}

int
at_store_desk_agent_teams (at_store_t *store, int64_t agent_id, int64_t *teams, size_t cap,
                           size_t *n_out)
{
  char id[24];
  s_id (agent_id, id);
  PGresult *res = NULL;
  *n_out = 0;
  int rc = at_store_q (store, &res, &SQL_AGENT_TEAMS, id);
  if (rc != AT_OK)
    return rc;
  for (int i = 0; i < PQntuples (res) && *n_out < cap; i++)
    teams[(*n_out)++] = s_int64 (res, i, 0);
  PQclear (res);
  return AT_OK;
}

int
at_store_desk_ticket_set_team (at_store_t *store, int64_t ticket_id, int64_t team_id)
{
  char id[24], team[24];
  s_id (ticket_id, id);
  s_id (team_id, team);
  return at_store_do (store, &SQL_SET_TEAM, id, team);
}

int
at_store_desk_ticket_set_skills (at_store_t *store, int64_t ticket_id, const char *skills_json)
{
  char id[24];
  s_id (ticket_id, id);
  return at_store_do (store, &SQL_SET_SKILLS, id, skills_json);
}
