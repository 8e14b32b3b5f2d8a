/* store_desk_bench: the rows bench/bench_assign.c starts from (declared in
 * at_store_desk.h): agents online in one default team and tickets waiting
 * in its queue, made in bulk by PostgreSQL (generate_series). Never used by
 * the program itself. */
#include <inttypes.h>
#include <stdio.h>

#include "at_store_desk.h"

static const at_sql_t SQL_SEED_AGENTS = {"desk_bench_agents",
  "WITH t AS (INSERT INTO team (name, is_default) VALUES ('bench', true) RETURNING id),"
  " u AS (INSERT INTO app_user (email, name, role, password_hash)"
  "       SELECT 'bench-agent-' || g || '@bench.invalid', 'agent ' || g, 'agent', 'x'"
  "       FROM generate_series (1, $1::int) AS g RETURNING id),"
  " a AS (INSERT INTO agent (user_id, team_ids, languages, cap_limit, presence)"
  "       SELECT u.id, ARRAY[t.id], CASE WHEN u.id % 2 = 0 THEN '{pt-BR}'::text[]"
  "       ELSE '{pt-BR,en}'::text[] END, $2::numeric, 'online' FROM u, t RETURNING user_id)"
  " INSERT INTO agent_load (user_id) SELECT user_id FROM a", 2};

static const at_sql_t SQL_SEED_TICKETS = {"desk_bench_tickets",
  "WITH c AS (INSERT INTO customer (name) VALUES ('bench') RETURNING id),"
  " k AS (INSERT INTO ticket (customer_id, channel, language, priority)"
  "       SELECT c.id, CASE WHEN g % 10 = 0 THEN 'email' ELSE 'chat' END,"
  "       CASE WHEN g % 3 = 0 THEN 'en' ELSE 'pt' END,"
  "       CASE WHEN g % 20 = 0 THEN 'high' ELSE 'normal' END"
  "       FROM c, generate_series (1, $1::int) AS g RETURNING id, channel, language, priority)"
  " INSERT INTO desk_ticket (ticket_id, team_id, state, channel, language, priority_rank,"
  " queued_at)"
  " SELECT k.id, (SELECT id FROM team WHERE name = 'bench'), 'queued', k.channel, k.language,"
  " CASE WHEN k.priority = 'high' THEN 0 ELSE 1 END,"
  " now () - make_interval (secs => ($1::int - k.id % $1::int)) FROM k", 1};

int
at_store_desk_bench_seed (at_store_t *store, long agents, long limit, long tickets)
{
  char n[24], lim[24], t[24];
  snprintf (n, sizeof n, "%ld", agents);
  snprintf (lim, sizeof lim, "%ld", limit);
  snprintf (t, sizeof t, "%ld", tickets);
  int rc = at_store_do (store, &SQL_SEED_AGENTS, n, lim);
  return rc == AT_OK ? at_store_do (store, &SQL_SEED_TICKETS, t) : rc;
}
