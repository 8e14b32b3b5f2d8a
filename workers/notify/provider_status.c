/* notify, notification.status: a provider's delivery report (Twilio status
 * callback, WhatsApp statuses; published by the api's channel endpoints)
 * updates the notification it is about. A report that fails a message
 * already handed over sends the notification again on the next channel. */
#include <stdio.h>
#include <string.h>
#include "notify.h"
#include "at_log.h"
#include "domain.pb-c.h"

#define S_UNKNOWN_ATTEMPTS 4   /* a report may come before the send is recorded */

static int
s_apply (wrk_ctx_t *ctx, wrk_msg_t *m, const Atende__NotificationStatus *pb)
{
  char id[AT_ID_LEN];
  bool fallback = false;
  if (!at_notification_status_normalize (pb->status)) {
    at_debug (WRK_NOTIFY_COMP, "msg=\"delivery report ignored\" provider=%s status=%.32s",
              pb->provider, pb->status);
    return AT_OK;
  }
  int rc = at_store_notification_report (wrk_ctx_store (ctx), pb->provider,
                                         pb->provider_message_id, pb->status, pb->occurred_us,
                                         pb->error, id, &fallback);
  if (rc == AT_NOTFOUND) {
    if (m->msg->attempt < S_UNKNOWN_ATTEMPTS) {
      snprintf (m->reason, sizeof m->reason, "no notification has %s id %.100s yet",
                pb->provider, pb->provider_message_id);
      return AT_AGAIN;
    }
    at_warn (WRK_NOTIFY_COMP, "msg=\"delivery report for an unknown message, dropped\""
             " provider=%s provider_message_id=%.100s status=%.32s", pb->provider,
             pb->provider_message_id, pb->status);
    return AT_OK;
  }
  if (rc != AT_OK) {
    snprintf (m->reason, sizeof m->reason, "recording the delivery report: %s",
              at_store_last_error (wrk_ctx_store (ctx)));
    return rc == AT_INVALID ? AT_INVALID : AT_AGAIN;
  }
  at_info (WRK_NOTIFY_COMP, "msg=\"delivery report\" notification_id=%s provider=%s status=%s"
           " resend=%d", id, pb->provider, at_notification_status_normalize (pb->status),
           fallback);
  if (!fallback)
    return AT_OK;
  at_msg_t *next = at_notification_send_msg (id, m->msg->trace_id);
  return next ? wrk_ctx_produce (ctx, &next) : AT_ERROR;
}

int
wrk_notify_status_handle (wrk_ctx_t *ctx, wrk_msg_t *m)
{
  Atende__NotificationStatus *pb = atende__notification_status__unpack (
      NULL, m->msg->payload_len, m->msg->payload);
  if (!pb || !pb->provider || !*pb->provider || !pb->provider_message_id
      || !*pb->provider_message_id || !pb->status) {
    snprintf (m->reason, sizeof m->reason, "payload is not a NotificationStatus with provider,"
              " provider_message_id and status");
    if (pb)
      atende__notification_status__free_unpacked (pb, NULL);
    return AT_INVALID;
  }
  int rc = s_apply (ctx, m, pb);
  atende__notification_status__free_unpacked (pb, NULL);
  return rc;
}
