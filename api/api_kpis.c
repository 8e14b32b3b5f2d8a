/* api_kpis: GET /v1/kpis[?since=RFC3339], the service's KPIs computed in SQL
 * from the store (lib/store/store_query.c); with ?by= the KPIs per group over
 * a range (api_kpis_by.c). */
#include <math.h>
#include "api_internal.h"
#include "at_json.h"
#include "at_store_query.h"
#include "at_store_sla.h"
#include <stdlib.h>
#include "at_time.h"

/* A measure, or null when there was nothing to measure. */
static json_t *
s_real (double v)
{
  return isfinite (v) ? json_real (v) : json_null ();
}

static json_t *
s_kpis_json (const at_kpis_t *k)
{
  return json_pack (
      "{s:{s:I, s:I, s:I}, s:{s:I, s:I}, s:{s:I, s:o, s:o, s:o}, s:{s:o, s:o},"
      " s:{s:I, s:o, s:o}, s:o, s:{s:I, s:I, s:I}, s:{s:I, s:I}}",
      "tickets", "opened", k->tickets_opened, "open", k->tickets_open,
      "resolved", k->tickets_resolved,
      "messages", "inbound", k->messages_inbound, "outbound", k->messages_outbound,
      "first_response_seconds", "count", k->first_response_count,
      "avg", s_real (k->first_response_avg), "p50", s_real (k->first_response_p50),
      "p90", s_real (k->first_response_p90),
      "resolution_seconds", "avg", s_real (k->resolution_avg),
      "p50", s_real (k->resolution_p50),
      "csat", "responses", k->csat_responses, "average", s_real (k->csat_average),
      "satisfied_share", s_real (k->csat_satisfied_share),
      "auto_answered_share", s_real (k->auto_answered_share),
      "notifications", "delivered", k->notifications_delivered,
      "pending", k->notifications_pending, "failed", k->notifications_failed,
      "orders", "count", k->orders_count, "delivered", k->orders_delivered);
}

/* Share of tickets within each SLA target by metric, team and channel
 * (lib/store/store_sla_api.c); NULL when the store failed. */
static json_t *
s_sla_json (at_store_t *store, int64_t since_us)
{
  size_t n = 0;
  at_sla_kpi_t *rows = calloc (AT_SLA_KPI_ROWS_MAX, sizeof *rows);
  if (!rows || at_store_sla_kpis (store, since_us, rows, AT_SLA_KPI_ROWS_MAX, &n) != AT_OK) {
    free (rows);
    return NULL;
  }
  json_t *a = json_array ();
  for (size_t i = 0; i < n; i++)
    json_array_append_new (a, json_pack ("{s:s, s:o, s:s, s:I, s:I, s:f}", "metric",
                                         rows[i].metric, "team", rows[i].team[0]
                                         ? json_string (rows[i].team) : json_null (),
                                         "channel", rows[i].channel, "tickets", rows[i].tickets,
                                         "within", rows[i].within, "share",
                                         (double) rows[i].within / (double) rows[i].tickets));
  free (rows);
  return a;
}

void
api_kpis_get (api_request_t *req)
{
  api_problem_t p;
  at_kpis_t kpis;
  int64_t since_us = 0;
  if (api_query (req, "by")) {
    api_kpis_by_get (req);
    return;
  }
  if (req->query_since && at_rfc3339_parse (req->query_since, &since_us) != AT_OK) {
    api_problem (&p, 400, "since", "since must be an RFC 3339 date-time");
    api_reply_problem (req, &p);
    return;
  }
  at_store_t *store = api_store (req);
  if (!store)
    return;
  if (at_query_kpis (store, since_us, &kpis) != AT_OK) {
    api_reply_store_failed (req);
    return;
  }
  json_t *answer = s_kpis_json (&kpis);
  json_t *sla = s_sla_json (store, since_us);
  if (!sla) {
    json_decref (answer);
    api_reply_store_failed (req);
    return;
  }
  json_object_set_new (answer, "sla", sla);
  if (answer && req->query_since)
    json_object_set_new (answer, "since", json_string (req->query_since));
  api_reply_json (req, 200, answer);
}
