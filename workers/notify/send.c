/* notify, notification.send: the provider call happens in prepare, outside
 * the worker's transaction, bracketed by two short transactions of its own:
 * "sending, attempt n" is committed before the call and the answer after it.
 * handle then reports each message's outcome to the worker loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "notify.h"
#include "at_webhook.h"
#include "at_json.h"
#include "at_log.h"
#include "domain.pb-c.h"

#define S_BODY_MAX (256 * 1024)

/* m->state of a notification.send message. */
typedef struct {
  int outcome;                 /* AT_OK, AT_AGAIN, AT_INVALID */
  char reason[200];
} s_outcome_t;

/* Per-batch work of one message. */
typedef struct {
  wrk_msg_t *m;
  s_outcome_t *outcome;
  at_notification_job_t job;
  bool claimed;
  char *body;
  at_webhook_request_t result;
} s_item_t;

static void
s_set (s_outcome_t *o, int outcome, const char *reason)
{
  o->outcome = outcome;
  at_strlcpy (o->reason, reason ? reason : "", sizeof o->reason);
}

static void
s_rfc3339 (int64_t us, char out[40])
{
  time_t secs = (time_t) (us / 1000000);
  struct tm tm;
  gmtime_r (&secs, &tm);
  size_t n = strftime (out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (out + n, 40 - n, ".%06dZ", (int) (us % 1000000));
}

/* The JSON the provider gets; NULL when a field cannot be written. */
static char *
s_body (const at_notification_job_t *job)
{
  char created[40];
  s_rfc3339 (job->created_us, created);
  json_t *o = json_object ();
  int bad = json_object_set_new (o, "id", json_string (job->id));
  bad |= json_object_set_new (o, "type", json_string ("message.send"));
  bad |= json_object_set_new (o, "kind", json_string (job->kind));
  bad |= json_object_set_new (o, "channel", json_string (job->channel));
  bad |= json_object_set_new (o, "to", json_string (job->recipient));
  bad |= json_object_set_new (o, "text", json_string (job->body));
  bad |= json_object_set_new (o, "ticket_id",
                              job->ticket_id > 0 ? json_integer (job->ticket_id) : json_null ());
  bad |= json_object_set_new (o, "order_id",
                              job->order_id ? json_string (job->order_id) : json_null ());
  bad |= json_object_set_new (o, "created_at", json_string (created));
  char *text = bad ? NULL : at_json_dump (o, S_BODY_MAX);
  json_decref (o);
  return text;
}

static bool
s_seen_in_batch (const s_item_t *items, size_t count, const char *id)
{
  for (size_t i = 0; i < count; i++)
    if (strcmp (items[i].job.id, id) == 0)
      return true;
  return false;
}

/* Decodes the messages of the batch that are notification.send. */
static size_t
s_collect (wrk_msg_t **msgs, size_t n, s_item_t *items)
{
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    wrk_msg_t *m = msgs[i];
    if (strcmp (m->msg->type, AT_TYPE_NOTIFICATION_SEND) != 0 || m->state)
      continue;
    s_outcome_t *o = at_calloc (1, sizeof *o);
    m->state = o;
    s_set (o, AT_AGAIN, "not delivered");
    Atende__NotificationSend *pb = atende__notification_send__unpack (NULL, m->msg->payload_len,
                                                                      m->msg->payload);
    if (!pb || !at_uuid_valid (pb->notification_id)) {
      s_set (o, AT_INVALID, pb ? "notification_id is not a UUID"
                               : "payload is not a NotificationSend");
    } else if (s_seen_in_batch (items, count, pb->notification_id)) {
      s_set (o, AT_OK, "same notification earlier in this batch");
    } else {
      items[count] = (s_item_t) {.m = m, .outcome = o};
      at_strlcpy (items[count].job.id, pb->notification_id, sizeof items[count].job.id);
      count++;
    }
    if (pb)
      atende__notification_send__free_unpacked (pb, NULL);
  }
  return count;
}

/* Recorded before the call. On a store failure nothing is sent. */
static int
s_begin (at_store_t *store, s_item_t *items, size_t count)
{
  int rc = at_store_begin (store);
  for (size_t i = 0; rc == AT_OK && i < count; i++) {
    char id[AT_ID_LEN];
    at_strlcpy (id, items[i].job.id, sizeof id);
    rc = at_store_notification_begin_send (store, id, &items[i].job);
    if (rc == AT_OK)
      items[i].claimed = true;
    else if (rc == AT_CONFLICT)
      s_set (items[i].outcome, AT_OK, "already delivered");
    else if (rc == AT_NOTFOUND)
      s_set (items[i].outcome, AT_INVALID, "unknown notification");
    if (rc == AT_CONFLICT || rc == AT_NOTFOUND)
      rc = AT_OK;
  }
  if (rc == AT_OK)
    rc = at_store_commit (store);
  if (rc != AT_OK) {
    at_store_rollback (store);
    for (size_t i = 0; i < count; i++) {
      items[i].claimed = false;
      at_notification_job_clear (&items[i].job);
      s_set (items[i].outcome, AT_AGAIN, "store unavailable before delivery");
    }
  }
  return rc;
}

/* Recorded after the call. */
static void
s_end (at_store_t *store, s_item_t *items, size_t count)
{
  int rc = at_store_begin (store);
  for (size_t i = 0; i < count; i++) {
    if (!items[i].claimed)
      continue;
    const at_webhook_request_t *q = &items[i].result;
    if (rc == AT_OK)
      rc = at_store_notification_end_send (store, items[i].job.id, q->outcome, q->http_status,
                                           q->error);
    s_set (items[i].outcome, q->outcome, q->outcome == AT_OK ? "delivered" : q->error);
    at_log (q->outcome == AT_OK ? AT_LOG_INFO : AT_LOG_WARN, WRK_NOTIFY_COMP,
            "msg=\"notification %s\" notification_id=%s message_id=%s attempt=%d"
            " http_status=%ld", q->outcome == AT_OK ? "delivered" : "not delivered",
            items[i].job.id, items[i].m->msg->id, items[i].job.attempts, q->http_status);
  }
  if (rc == AT_OK)
    rc = at_store_commit (store);
  if (rc != AT_OK) {
    at_store_rollback (store);
    for (size_t i = 0; i < count; i++)
      if (items[i].claimed)
        s_set (items[i].outcome, AT_AGAIN, "delivery outcome not recorded; will resend");
  }
}

/* Builds the bodies and POSTs the claimed notifications concurrently; each
 * item's result gets its answer. */
static void
s_deliver (at_webhook_t *client, s_item_t *items, size_t count)
{
  at_webhook_request_t *reqs = at_calloc (count, sizeof *reqs);
  size_t *index = at_calloc (count, sizeof *index);
  size_t nreq = 0;
  for (size_t i = 0; i < count; i++) {
    if (!items[i].claimed)
      continue;
    items[i].body = s_body (&items[i].job);
    if (!items[i].body) {   /* a body that cannot be written is permanent */
      items[i].result.outcome = AT_INVALID;
      at_strlcpy (items[i].result.error, "notification cannot be written as JSON",
                  sizeof items[i].result.error);
      continue;
    }
    index[nreq] = i;
    reqs[nreq++] = (at_webhook_request_t) {.id = items[i].job.id, .body = items[i].body,
                                           .body_len = strlen (items[i].body)};
  }
  at_webhook_deliver (client, reqs, nreq);
  for (size_t r = 0; r < nreq; r++)
    items[index[r]].result = reqs[r];
  free (index);
  free (reqs);
}

int
wrk_notify_send_prepare (wrk_ctx_t *ctx, wrk_msg_t **msgs, size_t n)
{
  at_store_t *store = wrk_ctx_store (ctx);
  at_webhook_t *client = wrk_ctx_stage_state (ctx);
  s_item_t *items = at_calloc (n ? n : 1, sizeof *items);
  size_t count = s_collect (msgs, n, items);
  if (count > 0 && s_begin (store, items, count) == AT_OK) {
    s_deliver (client, items, count);
    s_end (store, items, count);
  }
  for (size_t i = 0; i < count; i++) {
    at_notification_job_clear (&items[i].job);
    free (items[i].body);
  }
  free (items);
  return AT_OK;
}

int
wrk_notify_send_handle (wrk_ctx_t *ctx, wrk_msg_t *m)
{
  const s_outcome_t *o = m->state;
  if (!o) {
    snprintf (m->reason, sizeof m->reason, "delivery was not attempted");
    return AT_AGAIN;
  }
  if (o->outcome != AT_OK)
    snprintf (m->reason, sizeof m->reason, "%s", o->reason);
  return o->outcome;
}
