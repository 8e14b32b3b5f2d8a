/* at_store_sla: SLA calendars, policies, clocks and events in the store
 * (migrations 017, 020; lib/store/store_sla.c for route's side,
 * store_sla_api.c for the api's and the KPIs). All functions run in the
 * caller's transaction; JSON answers are built by PostgreSQL. A deleted
 * calendar or policy keeps its row for the clocks that name it: route still
 * loads such a calendar, but no function below finds either again. */
#ifndef AT_STORE_SLA_H
#define AT_STORE_SLA_H

#include <jansson.h>
#include "at_store.h"
#include "at_calendar.h"

#define AT_SLA_METRICS 3
typedef enum { AT_SLA_FIRST_RESPONSE = 0, AT_SLA_NEXT_RESPONSE, AT_SLA_RESOLUTION } at_sla_metric_t;
/* "first_response" | "next_response" | "resolution" */
const char *at_sla_metric_name (at_sla_metric_t m);

/* A policy's target for one metric: 0 none. */
typedef struct {
  int64_t target_s;
  bool business;                     /* on the calendar, else wall time */
} at_sla_target_t;

typedef struct {
  int64_t id;                        /* 0: the default policy of the settings */
  const char *name;
  const char *priority;              /* normal | high */
  const char *channel;               /* a channel, or "any" */
  int64_t calendar_id;
  at_sla_target_t targets[AT_SLA_METRICS];
} at_sla_policy_t;

/* One clock as stored. */
typedef struct {
  int64_t ticket_id;
  at_sla_metric_t metric;
  int64_t policy_id;                 /* 0: default policy */
  char priority[16];
  int64_t calendar_id;               /* 0: wall time */
  at_clock_t clock;
  char pause_reason[32];             /* "" when not paused */
  int version, cycle, breaches;
  int64_t met_at, breached_at;       /* unix seconds, 0: not */
} at_sla_clock_row_t;

/* --- route ------------------------------------------------------------ */

/* The policy for priority on channel (a channel's own before "any"; a
 * deleted one never): AT_OK and *id_out, targets; AT_NOTFOUND when none. */
int at_store_sla_policy_find (at_store_t *store, const char *priority, const char *channel,
                              int64_t *id_out, int64_t *calendar_id_out,
                              at_sla_target_t targets[AT_SLA_METRICS]);
/* The calendar id with its windows and holidays (caller destroys), deleted
 * or not: a clock keeps counting on the calendar it started on. */
int at_store_sla_calendar_load (at_store_t *store, int64_t id, at_calendar_t **out);
/* The ticket's clocks, locked (FOR UPDATE): rows[metric], present[metric]. */
int at_store_sla_clocks_lock (at_store_t *store, int64_t ticket_id,
                              at_sla_clock_row_t rows[AT_SLA_METRICS],
                              bool present[AT_SLA_METRICS]);
/* Inserts or replaces one clock. */
int at_store_sla_clock_save (at_store_t *store, const at_sla_clock_row_t *row);
/* Records an event: AT_OK, or AT_CONFLICT when a warning or breach of that
 * cycle is recorded already (nothing written). */
int at_store_sla_event (at_store_t *store, int64_t ticket_id, at_sla_metric_t metric, int cycle,
                        const char *kind, const char *detail);
/* ticket.first_response_due = due (unix seconds; 0 leaves it). */
int at_store_sla_first_response_due (at_store_t *store, int64_t ticket_id, int64_t due);
/* The ticket's created_at (unix seconds) and whether automation handed it over. */
int at_store_sla_ticket_times (at_store_t *store, int64_t ticket_id, int64_t *created_out,
                               int64_t *handoff_out);

/* --- api (store_sla_api.c) ------------------------------------------ */

/* A calendar checked by the caller: windows as JSON text
 * [{"weekday":w,"start":m,"end":m}...]. AT_CONFLICT: the name is taken. */
int at_store_sla_calendar_create (at_store_t *store, const char *name, const char *tz,
                                  const char *windows_json, const at_holiday_t *holidays,
                                  size_t n_holidays, int64_t *id_out);
/* Holidays added to a calendar (a day already there keeps its name):
 * AT_NOTFOUND when there is no such calendar; *added_out the new ones. */
int at_store_sla_holidays_add (at_store_t *store, int64_t calendar_id, const at_holiday_t *h,
                               size_t n, long *added_out);
/* Replaces calendar id's name, zone and windows (checked by the caller, as
 * for create) and, when replace_holidays, its holidays by these. The row is
 * locked first. AT_NOTFOUND: no such calendar; AT_CONFLICT: another
 * calendar has this name. */
int at_store_sla_calendar_update (at_store_t *store, int64_t id, const char *name, const char *tz,
                                  const char *windows_json, const at_holiday_t *holidays,
                                  size_t n_holidays, bool replace_holidays);
/* Deletes calendar id (kept for the clocks on it, deleted_at). AT_NOTFOUND:
 * no such calendar; AT_CONFLICT: policies use it, nothing deleted, and
 * *policies_out their [{id, name}] (caller decrefs; NULL otherwise). */
int at_store_sla_calendar_delete (at_store_t *store, int64_t id, json_t **policies_out);
/* One calendar (with holidays) / all calendars (without). AT_NOTFOUND. */
int at_store_sla_calendar_get (at_store_t *store, int64_t id, json_t **out);
int at_store_sla_calendar_list (at_store_t *store, json_t **out);
/* AT_CONFLICT: a policy for this priority and channel exists;
 * AT_NOTFOUND: no such calendar. */
int at_store_sla_policy_create (at_store_t *store, const at_sla_policy_t *p, int64_t *id_out);
/* Locks policy id for a change: AT_OK, or AT_NOTFOUND (no such policy). */
int at_store_sla_policy_lock (at_store_t *store, int64_t id);
/* Replaces policy id's definition (locked first with at_store_sla_policy_lock):
 * as create, AT_NOTFOUND when p->calendar_id names no calendar and
 * AT_CONFLICT when another policy has this priority and channel. */
int at_store_sla_policy_update (at_store_t *store, int64_t id, const at_sla_policy_t *p);
/* Deletes policy id (kept for the clocks started under it, deleted_at):
 * AT_NOTFOUND when there is no such policy. */
int at_store_sla_policy_delete (at_store_t *store, int64_t id);
/* One policy as the list shows it / all of them. AT_NOTFOUND. */
int at_store_sla_policy_get (at_store_t *store, int64_t id, json_t **out);
int at_store_sla_policy_list (at_store_t *store, json_t **out);
/* The ticket's clocks as a JSON array ([] when none). */
int at_store_sla_clocks_json (at_store_t *store, int64_t ticket_id, json_t **out);

/* Share of tickets within each SLA target, by metric, team and channel,
 * over tickets created since since_us (0: all): a clock counts once it is
 * met or breached; within = met without a breach. */
typedef struct {
  char metric[16], team[64], channel[32];   /* team "" : none */
  long long tickets, within;
} at_sla_kpi_t;
#define AT_SLA_KPI_ROWS_MAX 512
int at_store_sla_kpis (at_store_t *store, int64_t since_us, at_sla_kpi_t *rows, size_t cap,
                       size_t *n_out);

#endif
