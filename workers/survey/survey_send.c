/* survey_send: a survey goes out (question, link, notification, reminder),
 * the policy that lets it (one per customer per period, none while one is
 * pending), the NPS after delivery and the one reminder. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "survey/survey_int.h"
#include "survey/survey_shared.h"
#include "at_store_notification.h"
#include "at_channel.h"
#include "at_order.h"
#include "at_crypto.h"
#include "at_log.h"
#include "domain.pb-c.h"

#define S_LINK_MAX 512

static long
s_seconds (const at_config_t *cfg, long hours)
{
  return hours * cfg->survey_hour_s;
}

/* The delayed survey.remind, when reminders are on and come before expiry. */
static int
s_schedule_reminder (wrk_ctx_t *ctx, wrk_msg_t *m, const char *survey_id)
{
  const at_config_t *cfg = wrk_ctx_config (ctx);
  if (cfg->survey_reminder_h <= 0 || cfg->survey_reminder_h >= cfg->survey_expire_h)
    return AT_OK;
  Atende__SurveyRemind r = ATENDE__SURVEY_REMIND__INIT;
  r.survey_id = (char *) survey_id;
  uint8_t payload[64];
  size_t len = atende__survey_remind__pack (&r, payload);
  char key[AT_KEY_LEN];
  snprintf (key, sizeof key, "survey:%s", survey_id);
  at_msg_t *out = at_msg_new (AT_STAGE_SURVEY, AT_TYPE_SURVEY_REMIND, key, m->msg->trace_id,
                              payload, len);
  if (!out)
    return AT_ERROR;
  out->not_before_us = at_now_us ()
                       + (int64_t) s_seconds (cfg, cfg->survey_reminder_h) * 1000000;
  return wrk_ctx_produce (ctx, &out);
}

/* The text of event for survey_id: the template with the signed link. */
static int
s_text (wrk_ctx_t *ctx, wrk_msg_t *m, const char *event, const char *survey_id,
        const char *locale, char *out, size_t cap)
{
  const at_config_t *cfg = wrk_ctx_config (ctx);
  char token[256], link[S_LINK_MAX];
  if (at_token_sign (cfg->survey_secret, survey_id, token, sizeof token) != AT_OK)
    return AT_ERROR;
  int n = snprintf (link, sizeof link, "%s%s", cfg->survey_url_base ? cfg->survey_url_base : "",
                    token);
  if (n < 0 || (size_t) n >= sizeof link) {
    snprintf (m->reason, sizeof m->reason, "survey link longer than %d bytes", S_LINK_MAX);
    return AT_INVALID;
  }
  int rc = wrk_survey_render (ctx, event, locale, NULL, link, out, cap);
  if (rc == AT_NOTFOUND || rc == AT_INVALID)
    snprintf (m->reason, sizeof m->reason, "template %s %s", event,
              rc == AT_NOTFOUND ? "missing" : "does not fit");
  return rc == AT_NOTFOUND ? AT_ERROR : rc;   /* a missing template is configuration */
}

int
wrk_survey_send (wrk_ctx_t *ctx, wrk_msg_t *m, const wrk_survey_out_t *s)
{
  at_store_t *store = wrk_ctx_store (ctx);
  char body[WRK_SURVEY_TEXT_MAX], notification_id[AT_ID_LEN];
  int rc = s_text (ctx, m, strcmp (s->kind, "nps") == 0 ? "survey_nps" : "survey_csat", s->id,
                   s->locale, body, sizeof body);
  if (rc != AT_OK)
    return rc;
  if (s->ticket_id > 0) {
    rc = at_store_notification_for_ticket (store, s->ticket_id, "survey", body, notification_id);
  } else {
    at_notification_t n = {.kind = "survey", .customer_id = s->customer_id,
                           .order_id = s->order_id, .channel = s->channel,
                           .recipient = s->handle, .body = body};
    rc = at_store_notification_create (store, &n, notification_id);
  }
  if (rc == AT_NOTFOUND) {
    snprintf (m->reason, sizeof m->reason, "survey %s: the customer has no handle on the"
              " channel", s->id);
    return AT_INVALID;
  }
  if (rc == AT_OK)
    rc = at_store_survey_sent (store, s->id, notification_id);
  at_msg_t *send = rc == AT_OK ? at_notification_send_msg (notification_id, m->msg->trace_id)
                               : NULL;
  if (rc == AT_OK && !send)
    rc = AT_ERROR;
  if (rc == AT_OK)
    rc = wrk_ctx_produce (ctx, &send);
  if (rc == AT_OK)
    rc = s_schedule_reminder (ctx, m, s->id);
  if (rc == AT_OK)
    at_info (WRK_SURVEY_COMP, "msg=\"%s survey sent\" id=%s survey_id=%s customer_id=%" PRId64
             " ticket_id=%" PRId64 " order_id=\"%s\" notification_id=%s locale=%s", s->kind,
             m->msg->id, s->id, s->customer_id, s->ticket_id, s->order_id ? s->order_id : "",
             notification_id, s->locale);
  return rc;
}

int
wrk_survey_admit (wrk_ctx_t *ctx, wrk_msg_t *m, at_survey_new_t *s, char id_out[AT_ID_LEN],
                  bool *send_out)
{
  const at_config_t *cfg = wrk_ctx_config (ctx);
  at_store_t *store = wrk_ctx_store (ctx);
  char reason[16];
  bool created = false;
  *send_out = false;
  int rc = at_store_survey_policy (store, s->customer_id, cfg->survey_period_days, reason);
  if (rc != AT_OK)
    return rc;
  s->skip_reason = reason;
  s->expires_s = s_seconds (cfg, cfg->survey_expire_h);
  rc = at_store_survey_create (store, s, id_out, &created);
  if (rc != AT_OK || !created)
    return rc;                              /* created by an earlier attempt: done */
  if (*reason)
    at_info (WRK_SURVEY_COMP, "msg=\"%s survey skipped\" id=%s survey_id=%s customer_id=%"
             PRId64 " ticket_id=%" PRId64 " order_id=\"%s\" reason=%s", s->kind, m->msg->id,
             id_out, s->customer_id, s->ticket_id, s->order_id ? s->order_id : "", reason);
  *send_out = !*reason;
  return AT_OK;
}

static int
s_nps_check (const Atende__SurveyNps *n, char *reason, size_t cap)
{
  size_t len = strlen (n->order_id);
  if (len == 0 || len >= AT_SURVEY_ORDER_LEN)
    snprintf (reason, cap, "order_id must have 1..%d bytes", AT_SURVEY_ORDER_LEN - 1);
  else if (n->customer_id <= 0)
    snprintf (reason, cap, "customer_id must be positive");
  else if (!at_channel_known (n->channel) || !*n->handle || strlen (n->handle) > 255)
    snprintf (reason, cap, "channel and handle must name the customer's handle");
  else
    return AT_OK;
  return AT_INVALID;
}

static int
s_nps (wrk_ctx_t *ctx, wrk_msg_t *m, const Atende__SurveyNps *n)
{
  const at_config_t *cfg = wrk_ctx_config (ctx);
  char locale_raw[8], id[AT_ID_LEN];
  bool exists = false, send = false;
  int rc = at_store_survey_order (wrk_ctx_store (ctx), n->order_id, n->customer_id, locale_raw,
                                  &exists);
  if (rc == AT_NOTFOUND) {
    snprintf (m->reason, sizeof m->reason, "unknown customer %" PRId64, n->customer_id);
    return AT_INVALID;
  }
  if (rc != AT_OK || exists)
    return rc;                              /* the order has its NPS (sent or skipped) */
  const char *locale = at_locale_pick (locale_raw, cfg->default_locale);
  at_survey_new_t s = {.kind = "nps", .order_id = n->order_id, .customer_id = n->customer_id,
                       .channel = n->channel, .locale = locale};
  rc = wrk_survey_admit (ctx, m, &s, id, &send);
  if (rc != AT_OK || !send)
    return rc;
  wrk_survey_out_t out = {.id = id, .kind = "nps", .locale = locale,
                          .customer_id = n->customer_id, .order_id = n->order_id,
                          .channel = n->channel, .handle = n->handle};
  return wrk_survey_send (ctx, m, &out);
}

int
wrk_survey_nps (wrk_ctx_t *ctx, wrk_msg_t *m)
{
  Atende__SurveyNps *n = atende__survey_nps__unpack (NULL, m->msg->payload_len,
                                                     m->msg->payload);
  int rc = AT_INVALID;
  if (!n)
    snprintf (m->reason, sizeof m->reason, "payload is not a SurveyNps");
  else if (s_nps_check (n, m->reason, sizeof m->reason) == AT_OK)
    rc = s_nps (ctx, m, n);
  if (n)
    atende__survey_nps__free_unpacked (n, NULL);
  return rc;
}

static int
s_remind (wrk_ctx_t *ctx, wrk_msg_t *m, const char *survey_id)
{
  at_store_t *store = wrk_ctx_store (ctx);
  const at_config_t *cfg = wrk_ctx_config (ctx);
  char body[WRK_SURVEY_TEXT_MAX], id[AT_ID_LEN];
  at_survey_remind_t r;
  bool due = false;
  int rc = at_store_survey_remind_claim (store, survey_id, &due, &r);
  if (rc != AT_OK || !due)
    return rc == AT_NOTFOUND ? AT_OK : rc;  /* answered, expired, reminded: nothing */
  const char *locale = at_locale_pick (r.locale, cfg->default_locale);
  rc = s_text (ctx, m, "survey_reminder", survey_id, locale, body, sizeof body);
  if (rc != AT_OK)
    return rc;
  at_notification_t n = {.kind = "survey", .customer_id = r.customer_id,
                         .ticket_id = r.ticket_id, .order_id = *r.order_id ? r.order_id : NULL,
                         .channel = r.channel, .recipient = r.recipient, .body = body};
  rc = at_store_notification_create (store, &n, id);
  if (rc == AT_OK)
    rc = at_store_survey_reminded (store, survey_id, id);
  at_msg_t *send = rc == AT_OK ? at_notification_send_msg (id, m->msg->trace_id) : NULL;
  if (rc == AT_OK && !send)
    rc = AT_ERROR;
  if (rc == AT_OK)
    rc = wrk_ctx_produce (ctx, &send);
  if (rc == AT_OK)
    at_info (WRK_SURVEY_COMP, "msg=\"survey reminder sent\" id=%s survey_id=%s kind=%s"
             " notification_id=%s", m->msg->id, survey_id, r.kind, id);
  return rc;
}

int
wrk_survey_remind (wrk_ctx_t *ctx, wrk_msg_t *m)
{
  Atende__SurveyRemind *r = atende__survey_remind__unpack (NULL, m->msg->payload_len,
                                                           m->msg->payload);
  int rc = AT_INVALID;
  if (!r || !at_uuid_valid (r->survey_id))
    snprintf (m->reason, sizeof m->reason, "payload is not a SurveyRemind with a survey_id");
  else
    rc = s_remind (ctx, m, r->survey_id);
  if (r)
    atende__survey_remind__free_unpacked (r, NULL);
  return rc;
}
