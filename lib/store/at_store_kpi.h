/* at_store_kpi: the KPIs a lead's dashboard reads (lib/store/store_kpi.c):
 * groups of ticket facts by day, hour, channel, intent, team or agent over a
 * range, from the hourly and daily rollups of migration 022 (refreshed
 * first, so an answer counts every fact committed before it began), and the
 * facts themselves for an export. README "KPIs: facts, rollups, definitions". */
#ifndef AT_STORE_KPI_H
#define AT_STORE_KPI_H

#include "at_store.h"
#include "at_kpi_hist.h"

#define AT_KPI_GROUPS_MAX 1000        /* groups in one answer */
#define AT_KPI_FACTS_MAX 100000       /* fact rows in one export */

enum { AT_KPI_SLA_FIRST_RESPONSE, AT_KPI_SLA_NEXT_RESPONSE, AT_KPI_SLA_RESOLUTION,
       AT_KPI_SLA_METRICS };

typedef struct {
  char key[64];              /* by=day: YYYY-MM-DD; hour: YYYY-MM-DDTHH:00:00Z; else the
                                value (a channel, an intent, a team's or agent's id; "": none) */
  char name[128];            /* by=team, agent: the team's or person's name ("" unknown) */
  long long tickets;
  long long fr_n, res_n;     /* tickets with a first response; resolved at least once */
  int64_t fr_hist[AT_KPI_HIST_BUCKETS], res_hist[AT_KPI_HIST_BUCKETS];
  long long people_resolved; /* first resolved after at least one agent reply */
  long long fcr;             /* first contact resolutions */
  long long reopened, reopenings;
  long long auto_answered;
  double handle_s;           /* sum over tickets with handle time */
  long long handle_n;
  long long csat_n, csat_good;                   /* answers; of them 4 and 5 */
  long long sla_met[AT_KPI_SLA_METRICS], sla_breached[AT_KPI_SLA_METRICS];
  long long nps_n, promoters, detractors;        /* by day, hour, channel */
  long long placed, delivered, returned;         /* orders, by day and hour */
} at_kpi_group_t;

/* The question: by one of day, hour, channel, intent, team, agent; a range
 * [since_us, until_us) in unix microseconds; tz the IANA zone whose dates
 * by=day groups by (NULL or "UTC": UTC; checked by the caller). The store
 * widens the range to whole buckets (since down, until up: to the UTC day
 * when both are whole UTC days, by is not hour and, in another zone than
 * UTC, not day; else to the hour) and says which in grain and the range.
 * Whole UTC days inside the range are read from the daily rollups, the rest
 * from the hourly ones. */
typedef struct {
  const char *by;
  int64_t since_us, until_us;
  const char *tz;
  const char *grain;         /* out: "day" or "hour" */
} at_kpi_query_t;

/* Refreshes the rollups, then fills rows[0..cap) ordered by key, *n_out.
 * AT_INVALID for an unknown by or an empty range; else a store error. */
int at_store_kpi_groups (at_store_t *store, at_kpi_query_t *q, at_kpi_group_t *rows, size_t cap,
                         size_t *n_out);

/* The rollups' refresh alone (what a read does first): *hours_out hours
 * recomputed (may be NULL). */
int at_store_kpi_refresh (at_store_t *store, long *hours_out);

/* The export: the header's column names, then each fact created in
 * [since_us, until_us), oldest first (by creation, then ticket id), after
 * the fact of ticket after_id when it is > 0 (the last of the page before:
 * a cursor), at most limit (1..AT_KPI_FACTS_MAX; else that). row gets the
 * row's fields (NULL: none; fields[0] is the ticket id) and stops the walk
 * with a nonzero answer, which is returned. */
#define AT_KPI_FACT_COLUMNS 23
extern const char *const at_kpi_fact_columns[AT_KPI_FACT_COLUMNS];
typedef int (*at_kpi_fact_fn) (void *arg, const char *const *fields);
int at_store_kpi_facts (at_store_t *store, int64_t since_us, int64_t until_us, int64_t after_id,
                        int limit, at_kpi_fact_fn row, void *arg);

#endif
