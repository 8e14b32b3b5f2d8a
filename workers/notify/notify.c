/* notify stage (placeholder while being written). */
#include "wrk.h"
static int s_handle (wrk_ctx_t *ctx, wrk_msg_t *m) { (void) ctx; (void) m; return AT_AGAIN; }
const wrk_stage_t wrk_stage_notify = { .name = "notify", .handle = s_handle };
