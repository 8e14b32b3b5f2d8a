/* The scheduled retention run on the survey stage (retention.c). */
#ifndef WRK_RETENTION_H
#define WRK_RETENTION_H

#include "wrk.h"

/* From the survey stage's setup: starts the schedule when none is pending
 * (at_store_retention_start; nothing when ATENDE_RETENTION_DAYS is 0).
 * AT_OK, or the store's error (the stage does not start). */
int wrk_retention_start (wrk_ctx_t *ctx);

/* Handles one AT_RETENTION_TYPE message inside the loop's transaction. */
int wrk_retention_handle (wrk_ctx_t *ctx, wrk_msg_t *m);

#endif
