/* route: reads what a ticket's message is about (the intent model of
 * ATENDE_INTENT_MODEL, loaded at start and again on SIGHUP), sets intent and
 * its confidence, priority, language and the first-response SLA, answers
 * "where is my order" automatically when the customer has an order, and
 * applies agents' replies and resolutions. Runs in the worker's transaction. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route/route_int.h"
#include "at_store_ticket.h"
#include "at_text.h"
#include "at_intent.h"
#include "at_store_notification.h"
#include "at_log.h"
#include "route/answer.h"
#include "route/kb.h"
#include "route/selfservice.h"
#include "route/desk.h"
#include "route/sla.h"
#include "route/survey_reply.h"
#include "route/rules.h"
#include "domain.pb-c.h"

#define S_COMP "route"
#define S_AGENT_MAX 200

/* The stage's state, one per route thread. */
typedef struct {
  at_intent_model_t *model;
  at_intent_text_t *text;
  unsigned reloads;          /* wrk_ctx_reloads when the model was loaded */
} s_route_t;

/* The model of ATENDE_INTENT_MODEL, or NULL (logged with the reason). */
static at_intent_model_t *
s_model_load (const at_config_t *cfg)
{
  char why[256] = "";
  at_intent_model_t *model = at_intent_model_load (cfg->intent_model, why, sizeof why);
  if (!model)
    at_error (S_COMP, "msg=\"intent model refused: ATENDE_INTENT_MODEL must name a model file"
              " written by tools/intents\" path=\"%s\" reason=\"%s\"", cfg->intent_model, why);
  else
    at_info (S_COMP, "msg=\"intent model loaded\" path=\"%s\" version=%s bits=%u",
             cfg->intent_model, at_intent_model_version (model), at_intent_model_bits (model));
  return model;
}

/* Before any thread starts: no model, no route (no silent fallback). */
static int
s_check (const at_config_t *cfg)
{
  at_intent_model_t *model = s_model_load (cfg);
  if (!model) {
    fprintf (stderr, "atende worker: route cannot start: ATENDE_INTENT_MODEL=%s is missing or"
             " not a valid intent model (see the log line above)\n", cfg->intent_model);
    return 1;
  }
  at_intent_model_destroy (&model);
  return 0;
}

static int
s_setup (wrk_ctx_t *ctx, void **stage_state)
{
  s_route_t *self = at_calloc (1, sizeof *self);
  self->reloads = wrk_ctx_reloads (ctx);
  self->model = s_model_load (wrk_ctx_config (ctx));
  self->text = at_intent_text_new ();
  *stage_state = self;
  return self->model ? AT_OK : AT_ERROR;
}

static void
s_teardown (void **stage_state)
{
  s_route_t *self = *stage_state;
  if (!self)
    return;
  at_intent_model_destroy (&self->model);
  at_intent_text_destroy (&self->text);
  free (self);
  *stage_state = NULL;
}

/* After a SIGHUP: the file again; a bad one keeps the model in use. */
static void
s_reload_if_asked (wrk_ctx_t *ctx, s_route_t *self)
{
  unsigned reloads = wrk_ctx_reloads (ctx);
  if (reloads == self->reloads)
    return;
  self->reloads = reloads;
  at_intent_model_t *model = s_model_load (wrk_ctx_config (ctx));
  if (!model) {
    at_error (S_COMP, "msg=\"intent model reload failed, the previous one stays\" version=%s",
              at_intent_model_version (self->model));
    return;
  }
  at_intent_model_destroy (&self->model);
  self->model = model;
}

/* Answers an order-status question from the customer's latest order; with
 * no order known the ticket waits for an agent. */
static int
s_auto_answer (wrk_ctx_t *ctx, wrk_msg_t *m, const at_ticket_t *t)
{
  at_ticket_order_t order;
  int rc = at_store_ticket_latest_order (wrk_ctx_store (ctx), t->customer_id, &order);
  if (rc == AT_NOTFOUND)
    return AT_OK;
  if (rc != AT_OK)
    return wrk_route_store_rc (m, rc, "order lookup failed for ticket", t->id);
  at_lang_t lang = wrk_route_lang (wrk_ctx_config (ctx), t);
  char body[WRK_ANSWER_MAX];
  if (wrk_route_answer_order (&order, lang, body, sizeof body) != AT_OK) {
    at_warn (S_COMP, "msg=\"order answer does not fit, left for an agent\" ticket_id=%" PRId64,
             t->id);
    return AT_OK;
  }
  rc = wrk_route_say_auto (ctx, m, t, body, lang);
  if (rc == AT_NOTFOUND) {
    at_warn (S_COMP, "msg=\"customer has no handle on the ticket's channel, left for an agent\""
             " ticket_id=%" PRId64 " channel=%s", t->id, t->channel);
    return AT_OK;
  }
  if (rc == AT_OK)
    at_info (S_COMP, "msg=\"order status answered\" id=%s ticket_id=%" PRId64 " order_id=%s",
             m->msg->id, t->id, order.id);
  return rc == AT_OK ? AT_OK : wrk_route_store_rc (m, rc, "auto answer refused for ticket", t->id);
}

/* Why the ticket is urgent: what the text says, a complaint the model
 * read, repeat contacts about the same order. */
static int
s_priority_reasons (wrk_ctx_t *ctx, const at_ticket_t *t, const char *text,
                    const at_intent_result_t *intent, unsigned *reasons)
{
  const at_config_t *cfg = wrk_ctx_config (ctx);
  *reasons = at_priority_reasons (text);
  if (intent->intent == AT_INTENT_COMPLAINT)
    *reasons |= AT_PRIORITY_COMPLAINT;
  if (cfg->priority_repeat_contacts <= 0)
    return AT_OK;
  long contacts = 0;
  int rc = at_store_ticket_repeat_contacts (wrk_ctx_store (ctx), t->customer_id,
                                            cfg->priority_repeat_window_h, &contacts);
  if (rc == AT_OK && contacts >= cfg->priority_repeat_contacts)
    *reasons |= AT_PRIORITY_REPEAT;
  return rc;
}

/* Reads the message's intent (the model), priority and language, and
 * records them on the ticket (*t gets the result). */
static int
s_classify (wrk_ctx_t *ctx, wrk_msg_t *m, const Atende__TicketMessage *pb, at_ticket_t *t,
            at_intent_result_t *intent)
{
  at_store_t *store = wrk_ctx_store (ctx);
  const at_config_t *cfg = wrk_ctx_config (ctx);
  char language[16] = "";
  int rc = at_store_ticket_message_language (store, t->id, pb->message_id, language,
                                             sizeof language);
  if (rc != AT_OK && rc != AT_NOTFOUND)
    return wrk_route_store_rc (m, rc, "message lookup failed for ticket", t->id);
  if (language[0] == '\0')
    at_strlcpy (language, at_lang_name (at_text_guess_language (pb->text)), sizeof language);
  s_route_t *self = wrk_ctx_stage_state (ctx);
  s_reload_if_asked (ctx, self);
  const char *text = pb->text ? pb->text : "";
  at_intent_classify (self->model, self->text, text, strnlen (text, AT_TEXT_MAX),
                      at_lang_parse (language), (double) cfg->intent_min_confidence_pct / 100.0,
                      intent);
  unsigned reasons = 0;
  rc = s_priority_reasons (ctx, t, text, intent, &reasons);
  if (rc != AT_OK)
    return wrk_route_store_rc (m, rc, "repeat contacts lookup failed for ticket", t->id);
  char why[AT_PRIORITY_REASONS_TEXT_MAX];
  at_ticket_class_t c = {.intent = at_intent_name (intent->intent),
                         .confidence = intent->confidence,
                         .priority = at_priority_name (reasons ? AT_PRIORITY_HIGH
                                                               : AT_PRIORITY_NORMAL),
                         .priority_reason = at_priority_reasons_text (reasons, why, sizeof why),
                         .language = language, .sla_normal_min = cfg->sla_first_response_min,
                         .sla_high_min = cfg->sla_urgent_first_response_min};
  rc = at_store_ticket_classify (store, t->id, &c, t);
  if (rc == AT_OK)
    rc = wrk_route_sla_on_classified (ctx, m, t);
  if (rc != AT_OK)
    return wrk_route_store_rc (m, rc, "classification refused for ticket", t->id);
  at_debug (S_COMP, "msg=\"ticket classified\" id=%s ticket_id=%" PRId64 " intent=%s"
            " confidence=%.3f priority=%s reasons=%s language=%s", m->msg->id, t->id,
            at_intent_name (intent->intent), intent->confidence, t->priority, why, t->language);
  return AT_OK;
}

/* A customer's message: a request for a person hands the ticket over; an
 * answer to the knowledge base's "sim/não" is recorded; anything else is
 * classified and, by intent, answered automatically (order status, the
 * knowledge base, self-service) or left for people. Phone calls (missed,
 * voicemail, answered) are classified but never answered automatically. */
static int
s_customer_message (wrk_ctx_t *ctx, wrk_msg_t *m, const Atende__TicketMessage *pb,
                    at_ticket_t *t, bool *classified)
{
  const char *text = pb->text ? pb->text : "";
  *classified = false;
  if (wrk_route_asks_person (text))
    return wrk_route_handoff (ctx, m, t, "asked_for_person");
  bool handled = false;
  int rc = wrk_route_survey_reply (ctx, m, t, pb->message_id, text, &handled);
  if (rc == AT_OK && !handled)
    rc = wrk_route_kb_feedback (ctx, m, t, pb->message_id, text, &handled);
  if (rc != AT_OK || handled)
    return rc;
  at_intent_result_t intent;
  rc = s_classify (ctx, m, pb, t, &intent);
  *classified = rc == AT_OK;
  if (rc != AT_OK || strcmp (t->channel, "phone") == 0)
    return rc;                          /* a call is called back by a person */
  switch (intent.intent) {
  case AT_INTENT_ORDER_STATUS:
    return s_auto_answer (ctx, m, t);
  case AT_INTENT_RETURN_REFUND:
  case AT_INTENT_CANCEL:
  case AT_INTENT_PAYMENT:
    return wrk_route_selfservice (ctx, m, t, intent.intent, text);
  case AT_INTENT_OTHER:
  case AT_INTENT_PRODUCT_QUESTION:
    return wrk_route_kb_answer (ctx, m, t, pb->message_id, text);
  default:
    return AT_OK;                       /* complaints go to people */
  }
}

/* The rules' events of a customer's message, in order: ticket_created,
 * message_in, intent_set (it was classified), priority_changed (and that
 * changed the priority it had: the first one is no change). */
static int
s_rules (wrk_ctx_t *ctx, wrk_msg_t *m, const Atende__TicketMessage *pb, const at_ticket_t *t,
         bool classified, const char *priority_before)
{
  const char *events[4];
  size_t n = 0;
  if (pb->new_ticket)
    events[n++] = "ticket_created";
  events[n++] = "message_in";
  if (classified)
    events[n++] = "intent_set";
  if (classified && priority_before[0] && strcmp (priority_before, t->priority) != 0)
    events[n++] = "priority_changed";
  return wrk_route_rules_events (ctx, m, t->id, events, n, true);
}

/* A customer's message on a ticket: the SLA clocks hear of it, it is
 * handled (above), the rules hear of it, and a ticket still open afterwards
 * (nothing answered it automatically, or automation handed it over) goes
 * to the desk. */
static int
s_ticket_message (wrk_ctx_t *ctx, wrk_msg_t *m, const Atende__TicketMessage *pb)
{
  at_store_t *store = wrk_ctx_store (ctx);
  at_ticket_t t;
  bool classified = false;
  int rc = wrk_route_ticket_lock (ctx, m, pb->ticket_id, &t);
  if (rc != AT_OK)
    return rc;
  char priority_before[sizeof t.priority];
  at_strlcpy (priority_before, t.priority, sizeof priority_before);
  rc = wrk_route_sla_on_customer_message (ctx, m, &t);
  if (rc == AT_OK)
    rc = s_customer_message (ctx, m, pb, &t, &classified);
  if (rc == AT_OK)
    rc = s_rules (ctx, m, pb, &t, classified, priority_before);
  if (rc == AT_OK)
    rc = at_store_ticket_lock (store, t.id, &t);     /* what handling left */
  if (rc == AT_OK && strcmp (t.status, "open") == 0)
    rc = wrk_route_desk_needs_person (ctx, m, &t);
  return rc == AT_OK || rc == AT_INVALID ? rc
                                         : wrk_route_store_rc (m, rc, "desk refused ticket", t.id);
}

/* A reply text must be present, bounded and valid UTF-8. */
static bool
s_text_ok (const char *text)
{
  size_t len = strnlen (text, AT_TEXT_MAX + 1);
  char first[8];
  at_text_excerpt (text, 1, first, sizeof first);
  return len <= AT_TEXT_MAX && at_text_valid_utf8 (text, len) && first[0] != '\0';
}

static int
s_ticket_reply (wrk_ctx_t *ctx, wrk_msg_t *m, const Atende__AgentReply *pb)
{
  if (!s_text_ok (pb->text))
    return wrk_route_bad (m, "reply text empty, too long or not UTF-8 for ticket", pb->ticket_id);
  if (strnlen (pb->agent, S_AGENT_MAX + 1) > S_AGENT_MAX)
    return wrk_route_bad (m, "agent name too long for ticket", pb->ticket_id);
  at_ticket_t t;
  int rc = wrk_route_ticket_lock (ctx, m, pb->ticket_id, &t);
  if (rc != AT_OK)
    return rc;
  rc = wrk_route_say (ctx, m, &t, "agent", "reply", pb->text, NULL, pb->agent);
  if (rc == AT_OK)
    rc = wrk_route_desk_on_agent_reply (ctx, m, &t, pb->agent ? pb->agent : "");
  if (rc == AT_OK)                                  /* idle rules count from here */
    rc = wrk_route_rules_events (ctx, m, t.id, NULL, 0, true);
  if (rc == AT_NOTFOUND)
    return wrk_route_bad (m, "customer has no handle on the channel of ticket", t.id);
  if (rc == AT_OK)
    at_info (S_COMP, "msg=\"agent reply recorded\" id=%s ticket_id=%" PRId64, m->msg->id, t.id);
  return rc == AT_OK ? AT_OK : wrk_route_store_rc (m, rc, "reply refused for ticket", t.id);
}

static int
s_ticket_resolve (wrk_ctx_t *ctx, wrk_msg_t *m, const Atende__TicketResolve *pb)
{
  at_store_t *store = wrk_ctx_store (ctx);
  at_ticket_t t;
  int rc = wrk_route_ticket_lock (ctx, m, pb->ticket_id, &t);
  if (rc != AT_OK)
    return rc;
  rc = at_store_ticket_resolve (store, t.id);
  if (rc == AT_CONFLICT)
    return AT_OK;                         /* already resolved: nothing more to do */
  if (rc == AT_OK)
    rc = wrk_route_sla_on_resolve (ctx, m, &t);
  if (rc == AT_OK)
    rc = wrk_route_desk_on_resolve (ctx, m, &t);
  if (rc != AT_OK)
    return wrk_route_store_rc (m, rc, "resolve refused for ticket", t.id);
  Atende__TicketResolved tr = ATENDE__TICKET_RESOLVED__INIT;
  tr.ticket_id = t.id;
  tr.customer_id = t.customer_id;
  tr.channel = t.channel;
  uint8_t buf[128];
  size_t len = atende__ticket_resolved__get_packed_size (&tr);
  if (len > sizeof buf)
    return wrk_route_bad (m, "resolved message too large for ticket", t.id);
  atende__ticket_resolved__pack (&tr, buf);
  char key[AT_KEY_LEN];
  snprintf (key, sizeof key, "ticket:%" PRId64, t.id);
  at_msg_t *out = at_msg_new (AT_STAGE_SURVEY, AT_TYPE_TICKET_RESOLVED, key, m->msg->trace_id,
                              buf, len);
  if (!out)
    return AT_ERROR;
  at_info (S_COMP, "msg=\"ticket resolved\" id=%s ticket_id=%" PRId64, m->msg->id, t.id);
  return wrk_ctx_produce (ctx, &out);
}

/* Another stage gave the ticket to people: recorded, and to the desk. */
static int
s_ticket_handoff (wrk_ctx_t *ctx, wrk_msg_t *m, const Atende__TicketHandoff *pb)
{
  char reason[64];
  if (!pb->reason || strnlen (pb->reason, sizeof reason) >= sizeof reason || !pb->reason[0])
    return wrk_route_bad (m, "handoff without a short reason for ticket", pb->ticket_id);
  at_text_safe_token (pb->reason, reason, sizeof reason);
  at_ticket_t t;
  int rc = wrk_route_ticket_lock (ctx, m, pb->ticket_id, &t);
  if (rc == AT_OK)
    rc = wrk_route_handoff (ctx, m, &t, reason);
  if (rc == AT_OK)
    rc = wrk_route_ticket_lock (ctx, m, t.id, &t);
  if (rc == AT_OK && strcmp (t.status, "open") == 0)
    rc = wrk_route_desk_needs_person (ctx, m, &t);
  return rc;
}

/* Decodes the payload as the type says and applies it. */
static int
s_handle (wrk_ctx_t *ctx, wrk_msg_t *m)
{
  const char *type = m->msg->type;
  char safe[AT_TYPE_LEN];
  size_t len = m->msg->payload_len;
  const uint8_t *data = m->msg->payload;
  int rc = AT_INVALID;
  if (strcmp (type, AT_TYPE_TICKET_MESSAGE) == 0) {
    Atende__TicketMessage *pb = atende__ticket_message__unpack (NULL, len, data);
    if (pb)
      rc = s_ticket_message (ctx, m, pb);
    atende__ticket_message__free_unpacked (pb, NULL);
  }
  else if (strcmp (type, AT_TYPE_TICKET_REPLY) == 0) {
    Atende__AgentReply *pb = atende__agent_reply__unpack (NULL, len, data);
    if (pb)
      rc = s_ticket_reply (ctx, m, pb);
    atende__agent_reply__free_unpacked (pb, NULL);
  }
  else if (strcmp (type, AT_TYPE_TICKET_RESOLVE) == 0) {
    Atende__TicketResolve *pb = atende__ticket_resolve__unpack (NULL, len, data);
    if (pb)
      rc = s_ticket_resolve (ctx, m, pb);
    atende__ticket_resolve__free_unpacked (pb, NULL);
  }
  else if (strcmp (type, AT_TYPE_TICKET_HANDOFF) == 0) {
    Atende__TicketHandoff *pb = atende__ticket_handoff__unpack (NULL, len, data);
    if (pb)
      rc = s_ticket_handoff (ctx, m, pb);
    atende__ticket_handoff__free_unpacked (pb, NULL);
  }
  else if (strcmp (type, AT_TYPE_KB_FOLLOWUP) == 0) {
    Atende__KbFollowup *pb = atende__kb_followup__unpack (NULL, len, data);
    if (pb)
      rc = wrk_route_kb_followup (ctx, m, pb->ticket_id, pb->event_id);
    atende__kb_followup__free_unpacked (pb, NULL);
  }
  else {
    rc = wrk_route_desk_handle (ctx, m, type, data, len);      /* desk.* */
    wrk_sla_fired_t fired = {0};
    if (rc == AT_NOTFOUND)
      rc = wrk_route_sla_handle (ctx, m, type, data, len, &fired);  /* sla.* */
    if (rc == AT_OK && fired.event)                             /* rules hear of it */
      rc = wrk_route_rules_events (ctx, m, fired.ticket_id, &fired.event, 1, false);
    if (rc == AT_NOTFOUND)
      rc = wrk_route_rules_handle (ctx, m, type, data, len);   /* rule.* */
    if (rc == AT_NOTFOUND) {
      snprintf (m->reason, sizeof m->reason, "route does not take type \"%s\"",
                at_text_safe_token (type, safe, sizeof safe));
      return AT_INVALID;
    }
  }
  if (rc == AT_INVALID && m->reason[0] == '\0')
    snprintf (m->reason, sizeof m->reason, "payload does not decode as %s", type);
  return rc;
}

const wrk_stage_t wrk_stage_route = {
  .name = AT_STAGE_ROUTE,
  .check = s_check,
  .setup = s_setup,
  .teardown = s_teardown,
  .handle = s_handle,
};
