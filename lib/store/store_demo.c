/* store_demo: read-only counts the demo polls to know when the pipeline's
 * work has landed in the store (named statements, parameters only). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "at_store_demo.h"

static const at_sql_t s_counts = { "demo_counts",
  "SELECT (SELECT count(*) FROM ticket_message WHERE direction = 'in'),"
  "       (SELECT count(*) FROM ticket WHERE id > $1::bigint),"
  "       (SELECT count(*) FROM ticket WHERE id > $1::bigint AND intent IS NOT NULL),"
  "       (SELECT count(*) FROM ticket WHERE id > $1::bigint AND auto_answered),"
  "       (SELECT count(*) FROM order_event),"
  "       (SELECT count(*) FROM survey_answer),"
  "       (SELECT coalesce(max(id), 0) FROM ticket)", 1 };

static const at_sql_t s_unanswered = { "demo_unanswered",
  "SELECT id, coalesce(language, '') FROM ticket"
  " WHERE id > $1::bigint AND status <> 'resolved' AND first_response_at IS NULL"
  " AND NOT auto_answered ORDER BY id LIMIT $2::int", 2 };

static const at_sql_t s_open = { "demo_open",
  "SELECT id FROM ticket WHERE id > $1::bigint AND status <> 'resolved' ORDER BY id LIMIT $2::int", 2 };

int
demo_probe_counts (at_store_t *store, int64_t after_ticket, demo_counts_t *out)
{
  char after[24];
  snprintf (after, sizeof after, "%lld", (long long) after_ticket);
  PGresult *res = NULL;
  int rc = at_store_q (store, &res, &s_counts, after);
  if (rc != AT_OK)
    return rc;
  if (PQntuples (res) != 1 || PQnfields (res) != 7) {
    PQclear (res);
    return AT_ERROR;
  }
  long long *fields[] = { &out->inbound, &out->tickets, &out->routed, &out->auto_answered,
                          &out->order_events, &out->survey_answers, &out->max_ticket_id };
  for (int i = 0; i < 7; i++)
    *fields[i] = strtoll (PQgetvalue (res, 0, i), NULL, 10);
  PQclear (res);
  return AT_OK;
}

size_t
demo_probe_unanswered (at_store_t *store, int64_t after, int64_t *ids, char (*langs)[8], size_t cap)
{
  char a[24], c[24];
  snprintf (a, sizeof a, "%lld", (long long) after);
  snprintf (c, sizeof c, "%zu", cap);
  PGresult *res = NULL;
  if (at_store_q (store, &res, &s_unanswered, a, c) != AT_OK)
    return 0;
  size_t n = 0;
  for (int i = 0; i < PQntuples (res) && n < cap; i++, n++) {
    ids[n] = strtoll (PQgetvalue (res, i, 0), NULL, 10);
    at_strlcpy (langs[n], PQgetvalue (res, i, 1), sizeof langs[n]);
  }
  PQclear (res);
  return n;
}

size_t
demo_probe_open (at_store_t *store, int64_t after, int64_t *ids, size_t cap)
{
  char a[24], c[24];
  snprintf (a, sizeof a, "%lld", (long long) after);
  snprintf (c, sizeof c, "%zu", cap);
  PGresult *res = NULL;
  if (at_store_q (store, &res, &s_open, a, c) != AT_OK)
    return 0;
  size_t n = 0;
  for (int i = 0; i < PQntuples (res) && n < cap; i++, n++)
    ids[n] = strtoll (PQgetvalue (res, i, 0), NULL, 10);
  PQclear (res);
  return n;
}
