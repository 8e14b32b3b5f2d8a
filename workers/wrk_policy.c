/* wrk_policy: how long a failing message is retried (per-stage maximum
 * attempts), and keeping leases alive during long work (keepalive, pause on
 * drain). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wrk_int.h"
#include "at_log.h"

#define WRK_COMP "worker"
#define WRK_ATTEMPTS_MIN 1
#define WRK_ATTEMPTS_MAX 1000

/* Copies p[0..len) without surrounding blanks into out; false when empty or too long. */
static bool
s_word (const char *p, size_t len, char *out, size_t cap)
{
  while (len > 0 && (*p == ' ' || *p == '\t'))
    p++, len--;
  while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
    len--;
  if (len == 0 || len >= cap)
    return false;
  memcpy (out, p, len);
  out[len] = '\0';
  return true;
}

/* One "stage=N" item into out. */
static int
s_item (const char *p, size_t len, wrk_attempts_t *out, char *err, size_t cap)
{
  const char *eq = memchr (p, '=', len);
  char name[AT_STAGE_LEN], value[24];
  long max = 0;
  if (eq == NULL || !s_word (p, (size_t) (eq - p), name, sizeof name)
      || !s_word (eq + 1, len - (size_t) (eq - p) - 1, value, sizeof value)) {
    snprintf (err, cap, "'%.*s' is not stage=N", (int) (len < 64 ? len : 64), p);
    return AT_INVALID;
  }
  if (wrk_stage_find (name) == NULL) {
    snprintf (err, cap, "unknown stage '%s' (ingest, route, notify, survey)", name);
    return AT_INVALID;
  }
  if (at_parse_long (value, WRK_ATTEMPTS_MIN, WRK_ATTEMPTS_MAX, &max) != AT_OK) {
    snprintf (err, cap, "attempts of %s must be an integer in [%d, %d], got '%s'", name,
              WRK_ATTEMPTS_MIN, WRK_ATTEMPTS_MAX, value);
    return AT_INVALID;
  }
  for (size_t i = 0; i < out->n; i++)
    if (strcmp (out->stage[i], name) == 0) {
      snprintf (err, cap, "stage '%s' given twice", name);
      return AT_INVALID;
    }
  if (out->n == WRK_STAGES_MAX) {
    snprintf (err, cap, "more than %d stages", WRK_STAGES_MAX);
    return AT_INVALID;
  }
  at_strlcpy (out->stage[out->n], name, sizeof out->stage[out->n]);
  out->max[out->n++] = max;
  return AT_OK;
}

int
wrk_attempts_parse (const char *spec, long fallback, wrk_attempts_t *out, char *err,
                    size_t err_cap)
{
  memset (out, 0, sizeof *out);
  out->fallback = fallback;
  if (err_cap > 0)
    err[0] = '\0';
  const char *p = spec ? spec : "";
  while (*p) {
    size_t len = strcspn (p, ",");
    bool blank = true;
    for (size_t i = 0; i < len; i++)
      blank = blank && (p[i] == ' ' || p[i] == '\t');
    if (blank) {
      snprintf (err, err_cap, "empty item in '%.64s'", spec);
      goto fail;
    }
    if (s_item (p, len, out, err, err_cap) != AT_OK)
      goto fail;
    p += len;
    if (*p == ',' && *++p == '\0') {
      snprintf (err, err_cap, "empty item at the end of '%.64s'", spec);
      goto fail;
    }
  }
  return AT_OK;
fail:
  out->n = 0;
  return AT_INVALID;
}

long
wrk_attempts_for (const wrk_attempts_t *attempts, const char *stage)
{
  for (size_t i = 0; stage && i < attempts->n; i++)
    if (strcmp (attempts->stage[i], stage) == 0)
      return attempts->max[i];
  return attempts->fallback;
}

/* ---- leases during long work ---- */

void
wrk_ctx_pause_if_stopping (wrk_ctx_t *ctx)
{
  if (ctx == NULL || ctx->links == NULL || ctx->paused || ctx->stop == NULL
      || !atomic_load (ctx->stop))
    return;
  wrk_links_pause (ctx->links);
  ctx->paused = true;
  if (ctx->metrics)
    wrk_metrics_ready (ctx->metrics, ctx->metrics_index, false);
  at_info (WRK_COMP, "msg=\"draining: no new deliveries\" stage=%s", ctx->stage->name);
}

void
wrk_ctx_keepalive (wrk_ctx_t *ctx)
{
  if (ctx == NULL || ctx->links == NULL)
    return;
  wrk_ctx_pause_if_stopping (ctx);
  int64_t now = at_mono_ms ();
  wrk_links_beat (ctx->links, now);
  /* Renew well before a lease ends: every third of it, at most every heartbeat. */
  int64_t every = ctx->cfg->lease_ms / 3 < ctx->cfg->heartbeat_ms ? ctx->cfg->lease_ms / 3
                                                                   : ctx->cfg->heartbeat_ms;
  if (ctx->batch_n > 0 && now - ctx->extended_ms >= every) {
    size_t head = ctx->ring_head ? *ctx->ring_head : 0;
    size_t count = ctx->ring_count ? *ctx->ring_count : 0;
    wrk_links_extend (ctx->links, ctx->batch, ctx->batch_n, ctx->ring, ctx->ring_cap, head,
                      count);
    ctx->extended_ms = now;
  }
}
