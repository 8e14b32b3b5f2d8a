/* The broker's two PostgreSQL connections: the sync one ("broker": stats,
 * sweep, lease fences) and the commit one ("broker-commit": the publish
 * path's group commits). Whether they are up, and the reconnection backoff
 * after a loss, which every part of the loop asks about. */
#include "brk_server.h"
#include "at_log.h"
#include "at_store_bus.h"

#include <string.h>

#define S_BACKOFF_MAX_MS 5000
#define S_LOCK_TIMEOUT_MS 200

/* (Re)opens one connection; false while PostgreSQL is unreachable. The
 * sync connection ("broker") gets a short lock_timeout: its statements run
 * in the loop's one thread and must never wait long on a worker's row lock
 * (the lease fence skips locked rows; this bounds anything else). */
static bool
s_connect (brk_t *self, at_store_t **store_p, const char *name)
{
  if (*store_p && at_store_ok (*store_p))
    return true;
  if (*store_p == NULL)
    *store_p = at_store_new (self->cfg->database_url, name);
  else if (at_store_reconnect (*store_p) != AT_OK)
    return false;
  if (*store_p == NULL)
    return false;
  if (strcmp (name, "broker") == 0
      && at_store_bus_session (*store_p, S_LOCK_TIMEOUT_MS) != AT_OK)
    return at_store_ok (*store_p);   /* the timeout is a safeguard: serve without it */
  return true;
}

bool
brk_store_up (brk_t *self)
{
  if (!self->durable)
    return false;
  if (self->store && at_store_ok (self->store) && self->commit_store
      && at_store_ok (self->commit_store))
    return true;
  if (at_mono_ms () < self->store_retry_ms)
    return false;
  /* The sync connection was lost: the idle commit connection went with the
   * server too, though libpq cannot know before using it. Reset it as well
   * (never under a statement in flight). */
  bool was_lost = self->store != NULL && !at_store_ok (self->store);
  bool up = s_connect (self, &self->store, "broker");
  if (up && was_lost && self->n_commits == 0 && self->commit_store)
    up = at_store_reconnect (self->commit_store) == AT_OK;
  up = up && (self->n_commits > 0 || s_connect (self, &self->commit_store, "broker-commit"));
  if (up) {
    self->store_backoff_ms = 0;
    return true;
  }
  brk_store_lost (self);
  return false;
}

/* A statement or a reconnection failed. The next reconnection is tried one
 * backoff later (doubling up to 5 s) from the first failure of an attempt:
 * failures heard while the broker already waits to reconnect (every lease
 * it cannot fence, every publish it refuses) are the same outage and never
 * postpone the reconnection (they once pushed it 5 s further at each lease
 * expiry tick, so the bus stayed down as long as a lease waited). */
void
brk_store_lost (brk_t *self)
{
  if (self->store && at_store_ok (self->store) && self->commit_store
      && at_store_ok (self->commit_store))
    return;   /* a statement failed but both connections are fine */
  int64_t now = at_mono_ms ();
  if (now < self->store_retry_ms)
    return;   /* already waiting for the next reconnection */
  int backoff = self->store_backoff_ms ? self->store_backoff_ms * 2 : 100;
  self->store_backoff_ms = backoff > S_BACKOFF_MAX_MS ? S_BACKOFF_MAX_MS : backoff;
  self->store_retry_ms = now + self->store_backoff_ms;
  at_warn ("broker", "msg=\"store unavailable\" retry_in_ms=%d", self->store_backoff_ms);
}

