/* api_health: GET /healthz (the process runs), GET /readyz (its store
 * answers), GET /metrics (Prometheus text). */
#include "api_internal.h"
#include "api_metrics.h"
#include "at_json.h"
#include "at_store_query.h"
#include "api_sla.h"

void
api_health_get (api_request_t *req)
{
  api_reply_json (req, 200, json_pack ("{s:s}", "status", "ok"));
}

void
api_ready_get (api_request_t *req)
{
  at_store_t *store = api_store (req);
  if (!store)
    return;     /* 503 answered */
  int rc = at_query_ping (store);
  if (rc != AT_OK) {
    api_reply_unavailable (req, 1, "the store does not answer");
    return;
  }
  api_reply_json (req, 200, json_pack ("{s:s}", "status", "ready"));
}

void
api_metrics_get (api_request_t *req)
{
  api_sla_metrics_refresh (req);     /* the SLA gauges, from the store */
  api_kpis_rollup_refresh (req);     /* the KPI rollups' stale hours */
  api_reply_text (req, 200, "text/plain; version=0.0.4; charset=utf-8", api_metrics_render ());
}
