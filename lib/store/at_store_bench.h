/* The benchmarks' SQL (lib/store/store_bench.c): the tiny stage's effect table,
 * backlog rows, counts and PostgreSQL's commit statistics. Only bench/ uses
 * it; nothing here runs in production. */
#ifndef AT_STORE_BENCH_H
#define AT_STORE_BENCH_H

#include <stddef.h>
#include "at_store.h"

/* Creates (if needed) bench_effect, the tiny stage's effect rows. */
int at_store_bench_effect_table (at_store_t *store);
/* One effect row for a bus message id. */
int at_store_bench_effect_add (at_store_t *store, const char *msg_id);
/* One effect row for each of n ids, in one statement. */
int at_store_bench_effect_add_many (at_store_t *store, const char *const *msg_ids, size_t n);
/* Inserts n waiting survey rows (trace_id 'backlog') in one statement. */
int at_store_bench_backlog_add (at_store_t *store, long n);
int at_store_bench_backlog_clear (at_store_t *store);
/* Drops what a stage left in the bus (the benchmark runs no later stage). */
int at_store_bench_stage_clear (at_store_t *store, const char *stage);
/* Pending rows of a stage; -1 on error. */
long long at_store_bench_stage_count (at_store_t *store, const char *stage);
/* Transactions committed in this database so far (after flushing statistics). */
long long at_store_bench_commits (at_store_t *store);
/* VACUUM ANALYZE bus_message, so a backlog's statistics are current. */
int at_store_bench_vacuum (at_store_t *store);

#endif
