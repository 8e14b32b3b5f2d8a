/* survey_shared: the surveys' texts and the follow-up ticket of a low score
 * (see survey_shared.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "survey/survey_shared.h"
#include "at_store_survey.h"
#include "at_store_template.h"
#include "at_template.h"
#include "at_order.h"
#include "at_log.h"
#include "domain.pb-c.h"

#define S_COMP "survey"

int
wrk_survey_render (wrk_ctx_t *ctx, const char *event, const char *locale, const char *score,
                   const char *link, char *out, size_t cap)
{
  const at_config_t *cfg = wrk_ctx_config (ctx);
  at_template_row_t *row = at_calloc (1, sizeof *row);
  int rc = at_store_template_get (wrk_ctx_store (ctx), event, locale, row);
  if (rc == AT_NOTFOUND && strcmp (locale, cfg->default_locale) != 0)
    rc = at_store_template_get (wrk_ctx_store (ctx), event, cfg->default_locale, row);
  if (rc == AT_OK) {
    at_template_vars_t vars = {0};
    at_template_survey_t sv = {.store_name = cfg->store_name, .score = score, .link = link};
    rc = at_template_render_survey (row->body, row->locale, &vars, &sv, out, cap);
  }
  free (row);
  return rc;
}

bool
wrk_survey_low (const at_config_t *cfg, const char *kind, int score)
{
  if (strcmp (kind, "csat") == 0)
    return score <= cfg->survey_low_csat;
  return strcmp (kind, "nps") == 0 && score <= cfg->survey_low_nps;
}

/* The team's texts (the store's locale): the ticket's subject and its note. */
static void
s_followup_text (const char *locale, const char *kind, int score, char *subject, size_t scap,
                 char *body, size_t bcap)
{
  const char *name = strcmp (kind, "nps") == 0 ? "NPS" : "CSAT";
  int top = strcmp (kind, "nps") == 0 ? 10 : 5;
  if (strcmp (locale, "en") == 0) {
    snprintf (subject, scap, "Low survey score: %s %d of %d", name, score, top);
    snprintf (body, bcap, "The customer answered the %s survey with %d of %d. Please get in"
              " touch to understand what went wrong and make it right.", name, score, top);
  } else if (strcmp (locale, "es") == 0) {
    snprintf (subject, scap, "Nota baja en la encuesta: %s %d de %d", name, score, top);
    snprintf (body, bcap, "El cliente respondió la encuesta %s con %d de %d. Contáctalo para"
              " entender qué salió mal y resolverlo.", name, score, top);
  } else {
    snprintf (subject, scap, "Nota baixa na pesquisa: %s %d de %d", name, score, top);
    snprintf (body, bcap, "O cliente respondeu a pesquisa %s com nota %d de %d. Entre em"
              " contato para entender o que não foi bem e resolver.", name, score, top);
  }
}

static int
s_route_msg (wrk_ctx_t *ctx, wrk_msg_t *m, const at_survey_followup_t *f, const char *text)
{
  Atende__TicketMessage tm = ATENDE__TICKET_MESSAGE__INIT;
  tm.ticket_id = f->ticket_id;
  tm.message_id = f->message_id;
  tm.customer_id = f->customer_id;
  tm.channel = (char *) f->channel;
  tm.text = (char *) text;
  tm.new_ticket = true;
  size_t len = atende__ticket_message__get_packed_size (&tm);
  uint8_t *payload = at_malloc (len + 1);
  atende__ticket_message__pack (&tm, payload);
  char key[AT_KEY_LEN];
  snprintf (key, sizeof key, "ticket:%" PRId64, f->ticket_id);
  at_msg_t *out = at_msg_new (AT_STAGE_ROUTE, AT_TYPE_TICKET_MESSAGE, key, m->msg->trace_id,
                              payload, len);
  free (payload);
  return out ? wrk_ctx_produce (ctx, &out) : AT_ERROR;
}

int
wrk_survey_followup (wrk_ctx_t *ctx, wrk_msg_t *m, const char *survey_id, const char *kind,
                     int score)
{
  const at_config_t *cfg = wrk_ctx_config (ctx);
  char subject[160], body[400];
  bool created = false;
  at_survey_followup_t f;
  if (!wrk_survey_low (cfg, kind, score))
    return AT_OK;
  s_followup_text (at_locale_pick (cfg->default_locale, "pt-BR"), kind, score, subject,
                   sizeof subject, body, sizeof body);
  int rc = at_store_survey_followup_open (wrk_ctx_store (ctx), survey_id, subject, body,
                                          &created, &f);
  if (rc != AT_OK || !created)
    return rc;
  at_info (S_COMP, "msg=\"low survey score: follow-up ticket opened\" id=%s survey_id=%s"
           " kind=%s score=%d ticket_id=%" PRId64, m->msg->id, survey_id, kind, score,
           f.ticket_id);
  return s_route_msg (ctx, m, &f, body);
}
