/* wrk_loop: the shared worker loop (minimal definitions, being written). */
#include <stdio.h>
#include <string.h>
#include "wrk.h"

const at_config_t *wrk_ctx_config (wrk_ctx_t *ctx) { (void) ctx; return NULL; }
at_store_t *wrk_ctx_store (wrk_ctx_t *ctx) { (void) ctx; return NULL; }
void *wrk_ctx_stage_state (wrk_ctx_t *ctx) { (void) ctx; return NULL; }
int wrk_ctx_produce (wrk_ctx_t *ctx, at_msg_t **msg_p) { (void) ctx; at_msg_destroy (msg_p); return AT_ERROR; }
const wrk_stage_t *wrk_stage_find (const char *name) { (void) name; return NULL; }
int wrk_run (const at_config_t *cfg, const char *stages_csv)
{
  (void) cfg; (void) stages_csv;
  fprintf (stderr, "atende worker: not implemented yet\n");
  return 1;
}
