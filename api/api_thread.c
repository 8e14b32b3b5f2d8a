/* api_thread: what each of the server's threads keeps for its whole life:
 * one store (libpq connection) and one publisher (ZeroMQ socket), created on
 * first use and reconnected when broken; both belong to one thread, so they
 * are thread-local (see api_server.c on the thread pool). Calls api_answer.c
 * (the 503s) and api_metrics.c (the confirm time). */
#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include "api_internal.h"
#include "api_metrics.h"
#include "at_log.h"

typedef struct {
  at_store_t *store;
  at_publisher_t *publisher;
} s_thread_t;

static pthread_key_t s_thread_key;
static pthread_once_t s_thread_once = PTHREAD_ONCE_INIT;

static void
s_thread_free (void *arg)
{
  s_thread_t *t = arg;
  at_publisher_destroy (&t->publisher);
  at_store_destroy (&t->store);
  free (t);
}

static void
s_thread_key_create (void)
{
  int rc = pthread_key_create (&s_thread_key, s_thread_free);
  assert (rc == 0);
  (void) rc;
}

static s_thread_t *
s_thread (void)
{
  pthread_once (&s_thread_once, s_thread_key_create);
  s_thread_t *t = pthread_getspecific (s_thread_key);
  if (!t) {
    t = at_calloc (1, sizeof *t);
    pthread_setspecific (s_thread_key, t);
  }
  return t;
}

at_store_t *
api_store (api_request_t *req)
{
  s_thread_t *t = s_thread ();
  if (t->store && !at_store_ok (t->store) && at_store_reconnect (t->store) != AT_OK)
    at_store_destroy (&t->store);
  if (!t->store)
    t->store = at_store_new (req->cfg->database_url, "api");
  if (!t->store)
    api_reply_unavailable (req, 1, "the database cannot be reached");
  return t->store;
}

int
api_publish (api_request_t *req, at_msg_t *msg)
{
  s_thread_t *t = s_thread ();
  int retry_after_ms = 0;
  if (!t->publisher)
    t->publisher = at_publisher_new (req->cfg);
  if (!t->publisher) {
    api_reply_unavailable (req, 1, "the bus cannot be reached");
    return AT_AGAIN;
  }
  int64_t start = at_mono_us ();
  int rc = at_publisher_send (t->publisher, &msg, 1, &retry_after_ms);
  if (rc == AT_OK) {
    api_metrics_publish ((double) (at_mono_us () - start) / 1e6);
    return AT_OK;
  }
  if (rc == AT_BUSY)
    api_reply_unavailable (req, (retry_after_ms + 999) / 1000,
                           "the pipeline is busy, retry later");
  else if (rc == AT_AGAIN)
    api_reply_unavailable (req, 1, "the broker did not confirm in time, retry later");
  else {
    api_problem_t p;
    at_error ("api", "msg=\"broker refused a message\" rc=%d message_id=%s request_id=%s", rc,
              msg->id, req->request_id);
    api_problem (&p, 500, NULL, "the broker refused the message");
    api_reply_problem (req, &p);
  }
  return rc;
}
