/* The KPI benchmark's SQL (at_store_kpi_bench.h). */
#include "at_store_kpi_bench.h"

#include <stdio.h>

/* $1 tickets, $2 days. Spread by multiplicative hashing of the id. */
static const at_sql_t SQL_SEED_TICKETS = {"kpi_bench_tickets",
  "WITH c AS (INSERT INTO customer (name) SELECT 'kpi bench' FROM generate_series (1, $1::int)"
  "  RETURNING id)"
  " INSERT INTO ticket (customer_id, channel, status, intent, priority, language, created_at,"
  "  updated_at)"
  " SELECT c.id, (ARRAY['whatsapp', 'email', 'chat', 'sms', 'instagram'])[1 + c.id % 5], 'open',"
  "  (ARRAY['order_status', 'return_refund', 'cancel', 'payment', 'product_question',"
  "   'complaint', 'other'])[1 + (c.id / 5) % 7],"
  "  CASE WHEN c.id % 11 = 0 THEN 'high' ELSE 'normal' END, 'pt', w.at, w.at"
  " FROM c, LATERAL (SELECT now () - make_interval (secs => (c.id * 7919)"
  "  % greatest ($2::int * 86400, 1)) AS at) w", 2};

static const at_sql_t SQL_SEED_ANSWERS = {"kpi_bench_answers",
  "UPDATE ticket SET first_response_at = least (now (), created_at"
  "  + make_interval (secs => 30 + (id * 104729) % 7200)), status = 'resolved',"
  "  resolved_at = least (now (), created_at + make_interval (secs => 30 + (id * 104729) % 7200"
  "   + 600 + (id * 1299709) % 172800))"
  " WHERE id > $1::bigint AND id % 10 <> 0", 1};

static const at_sql_t SQL_SEED_DESK = {"kpi_bench_desk",
  "UPDATE ticket_fact SET team_id = 1 + ticket_id % 5, agent_id = 1 + ticket_id % 200"
  " WHERE ticket_id > $1::bigint", 1};

static const at_sql_t SQL_MAX_TICKET = {"kpi_bench_max_ticket",
  "SELECT coalesce (max (id), 0) FROM ticket", 0};

int
at_store_kpi_bench_seed (at_store_t *store, long n, int days)
{
  char tickets[24], span[16], after[24];
  PGresult *res = NULL;
  snprintf (tickets, sizeof tickets, "%ld", n);
  snprintf (span, sizeof span, "%d", days);
  int rc = at_store_begin (store);
  if (rc == AT_OK)
    rc = at_store_q (store, &res, &SQL_MAX_TICKET);
  if (rc == AT_OK) {
    snprintf (after, sizeof after, "%s", PQgetvalue (res, 0, 0));
    PQclear (res);
    rc = at_store_do (store, &SQL_SEED_TICKETS, tickets, span);
  }
  if (rc == AT_OK)
    rc = at_store_do (store, &SQL_SEED_ANSWERS, after);
  if (rc == AT_OK)
    rc = at_store_do (store, &SQL_SEED_DESK, after);
  if (rc == AT_OK)
    return at_store_commit (store);
  (void) at_store_rollback (store);
  return rc;
}
