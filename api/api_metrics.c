/* api_metrics: the api's Prometheus metrics, in one registry
 * (lib/core/at_metrics.h) that the request threads update under its mutex
 * (a handful of additions per request) and GET /metrics renders. Calls no
 * other file of the api: the server names the route of each request. */
#include <pthread.h>
#include <stdio.h>
#include "api_metrics.h"
#include "at_common.h"
#include "at_metrics.h"

static const double s_buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                    0.1, 0.25, 0.5, 1, 2.5, 5, 10 };

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static struct {
  at_metrics_t *registry;
  at_metric_t *requests, *duration, *publish, *auth_refused, *rate_limited, *up, *build;
  at_metric_t *sla_share, *sla_tickets;
} s_metrics;

/* The values that are there from the start (again after a clear). */
static void
s_constants (void)
{
  at_metric_set (s_metrics.up, NULL, 1);
  at_metric_set (s_metrics.build, (const char *[]) { ATENDE_VERSION }, 1);
}

/* Once per process: the families, in the order /metrics shows them. */
static void
s_create (void)
{
  at_metrics_t *reg = at_metrics_new ();
  s_metrics.registry = reg;
  s_metrics.requests = at_metrics_counter (reg, "atende_http_requests_total",
                                           "HTTP requests answered, by route and status.",
                                           "route,code");
  s_metrics.duration = at_metrics_histogram (reg, "atende_http_request_duration_seconds",
                                             "Time to answer a request.", "route", s_buckets,
                                             AT_ARRAY_LEN (s_buckets));
  s_metrics.publish = at_metrics_histogram (reg, "atende_publish_confirm_seconds",
                                            "Time from publish to the broker's confirm.", NULL,
                                            s_buckets, AT_ARRAY_LEN (s_buckets));
  s_metrics.auth_refused = at_metrics_counter (reg, "atende_api_auth_refused_total",
                                               "Requests refused at the door, by reason (missing,"
                                               " malformed, unknown, wrong, revoked, expired,"
                                               " disabled, scope, csrf).",
                                               "reason");
  s_metrics.rate_limited = at_metrics_counter (reg, "atende_api_rate_limited_total",
                                               "Requests answered 429 by a rate limit (key,"
                                               " addr, auth_failures: api/api_limit.h).",
                                               "limit");
  s_metrics.up = at_metrics_gauge (reg, "atende_up", "1 while the api process runs.", NULL);
  s_metrics.build = at_metrics_gauge (reg, "atende_build_info", "Version of the running build.",
                                      "version");
  s_metrics.sla_share = at_metrics_gauge (reg, "atende_sla_within_target_ratio",
                                          "Share of tickets (created within"
                                          " ATENDE_SLA_METRICS_WINDOW_H) whose SLA clock was met"
                                          " without a breach, of those met or breached.",
                                          "metric,team,channel");
  s_metrics.sla_tickets = at_metrics_gauge (reg, "atende_sla_tickets",
                                            "Tickets whose SLA clock was met or breached (the"
                                            " ratio's denominator).", "metric,team,channel");
  s_constants ();
}

static at_metrics_t *
s_registry (void)
{
  pthread_once (&s_once, s_create);
  return s_metrics.registry;
}

void
api_metrics_init (void)
{
  at_metrics_clear (s_registry ());
  s_constants ();
}

void
api_metrics_request (const char *route, int status, double seconds)
{
  s_registry ();
  char code[16];
  snprintf (code, sizeof code, "%d", status);
  at_metric_add (s_metrics.requests, (const char *[]) { route, code }, 1);
  at_metric_observe (s_metrics.duration, (const char *[]) { route }, seconds);
}

void
api_metrics_publish (double seconds)
{
  s_registry ();
  at_metric_observe (s_metrics.publish, NULL, seconds);
}

void
api_metrics_auth_refused (const char *reason)
{
  s_registry ();
  at_metric_add (s_metrics.auth_refused, (const char *[]) { reason }, 1);
}

void
api_metrics_rate_limited (const char *limit)
{
  s_registry ();
  at_metric_add (s_metrics.rate_limited, (const char *[]) { limit }, 1);
}

void
api_metrics_sla_clear (void)
{
  s_registry ();
  at_metric_clear (s_metrics.sla_share);
  at_metric_clear (s_metrics.sla_tickets);
}

void
api_metrics_sla_set (const char *metric, const char *team, const char *channel,
                     long long tickets, long long within)
{
  s_registry ();
  const char *labels[] = { metric, team, channel };
  at_metric_set (s_metrics.sla_tickets, labels, (double) tickets);
  at_metric_set (s_metrics.sla_share, labels, tickets > 0 ? (double) within / (double) tickets
                                                          : 0.0);
}

char *
api_metrics_render (void)
{
  return at_metrics_render (s_registry ());
}
