/* desk_assign: one desk.assign round for a team, in the worker's
 * transaction: the team's oldest queued tickets (high priority first),
 * locked with SKIP LOCKED, each offered to the least-loaded eligible agent
 * (their agent_load row locked FOR UPDATE, the load raised in the
 * same statement that checks it against the limit), until
 * ATENDE_DESK_ASSIGN_BATCH tickets are given out (then another round is
 * asked for), the page is done, or too many in a row found nobody. */
#include <inttypes.h>
#include <stdlib.h>

#include "route/desk_int.h"
#include "at_log.h"

#define S_COMP WRK_DESK_COMP
#define S_MISSES_MAX 64          /* tickets in a row nobody can take: stop the round */

typedef struct {
  wrk_ctx_t *ctx;
  wrk_msg_t *m;
  const char *weights;
  long assigned;
} s_round_t;

/* Offers one ticket: AT_OK assigned, AT_NOTFOUND nobody eligible. */
static int
s_offer (s_round_t *r, const at_desk_ticket_t *t)
{
  const at_config_t *cfg = wrk_ctx_config (r->ctx);
  at_store_t *store = wrk_ctx_store (r->ctx);
  wrk_desk_widen_t w = wrk_route_desk_widen (t->waited_s, cfg->desk_widen_after_s);
  at_desk_pick_t q = {.team_id = t->team_id, .ticket_id = t->ticket_id,
                      .language = w == WRK_DESK_WIDEN_LANGUAGE ? "" : t->language,
                      .skills = t->needs_skills && w == WRK_DESK_WIDEN_NONE,
                      .skip_agent = t->skip_agent, .weights_json = r->weights};
  int64_t agent = 0, assignment = 0;
  int rc = at_store_desk_pick (store, &q, &agent);
  if (rc != AT_OK)
    return rc;
  at_desk_assign_t a = {.ticket_id = t->ticket_id, .agent_id = agent, .team_id = t->team_id,
                        .how = "auto",
                        .widened = wrk_route_desk_widened (w, t->needs_skills, t->language),
                        .weights_json = r->weights, .reply_within_s = cfg->desk_reply_within_s};
  rc = at_store_desk_assign (store, &a, &assignment);
  if (rc == AT_CONFLICT)
    return AT_NOTFOUND;              /* cannot happen under the lock; counted as a miss */
  if (rc == AT_OK)
    rc = wrk_route_desk_ask_reply_check (r->ctx, r->m, t->ticket_id, assignment);
  if (rc == AT_OK)
    at_info (S_COMP, "msg=\"ticket assigned\" id=%s ticket_id=%" PRId64 " agent_id=%" PRId64
             " team_id=%" PRId64 " assignment_id=%" PRId64 " waited_s=%.1f widened=%s",
             r->m->msg->id, t->ticket_id, agent, t->team_id, assignment, t->waited_s,
             a.widened[0] ? a.widened : "-");
  return rc;
}

int
wrk_route_desk_round (wrk_ctx_t *ctx, wrk_msg_t *m, int64_t team_id)
{
  const at_config_t *cfg = wrk_ctx_config (ctx);
  char weights[AT_DESK_WEIGHTS_JSON_MAX];
  int rc = wrk_route_desk_weights (ctx, weights);
  if (rc != AT_OK)
    return rc;
  size_t cap = (size_t) cfg->desk_assign_batch * 4;
  cap = cap < AT_DESK_PAGE_MAX ? cap : AT_DESK_PAGE_MAX;
  at_desk_ticket_t *page = at_calloc (cap, sizeof *page);
  size_t n = 0, misses = 0;
  s_round_t r = {.ctx = ctx, .m = m, .weights = weights};
  rc = at_store_desk_queue_page (wrk_ctx_store (ctx), team_id, cap, page, &n);
  for (size_t i = 0; rc == AT_OK && i < n && r.assigned < cfg->desk_assign_batch
                     && misses < S_MISSES_MAX; i++) {
    rc = s_offer (&r, &page[i]);
    misses = rc == AT_NOTFOUND ? misses + 1 : 0;
    r.assigned += rc == AT_OK;
    rc = rc == AT_NOTFOUND ? AT_OK : rc;
  }
  free (page);
  if (rc == AT_OK && r.assigned >= cfg->desk_assign_batch)
    rc = wrk_route_desk_ask_round (ctx, m, team_id, "more", 0);   /* there may be more */
  if (rc == AT_OK)
    at_debug (S_COMP, "msg=\"assignment round\" id=%s team_id=%" PRId64 " looked=%zu"
              " assigned=%ld", m->msg->id, team_id, n, r.assigned);
  return rc;
}
