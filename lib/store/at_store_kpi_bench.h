/* The KPI benchmark's SQL (lib/store/store_kpi_bench.c): a history of
 * tickets whose facts and rollups the dashboard reads. Only bench/bench_kpi
 * uses it; nothing here runs in production. */
#ifndef AT_STORE_KPI_BENCH_H
#define AT_STORE_KPI_BENCH_H

#include "at_store.h"

/* n tickets (one new customer each) created over the last `days` days, in
 * one transaction, through the ticket table's own triggers (ticket_fact,
 * kpi_dirty): five channels, the seven intents, one in eleven high; then,
 * for nine in ten, a first response 30 s to 2 h after creation and a
 * resolution 10 min to 2 days after it (never in the future), and a team
 * (1 of 5) and an agent (1 of 200) on the fact. Deterministic: the same
 * n and days give the same history. */
int at_store_kpi_bench_seed (at_store_t *store, long n, int days);

#endif
