/* demo_summary: the demo's closing report. What arrived at the receiver,
 * the answers by intent, by the knowledge base and by self-service, the
 * hand-overs and the priorities (read from the store: lib/store/store_demo.c),
 * the api's KPIs, the throughput and the result. */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "demo_internal.h"

#define S_LINE_MAX 2048
#define S_LABEL 26          /* the values' column */
#define S_WIDTH 100         /* longer lines wrap after a comma */

typedef struct {
  char text[S_LINE_MAX];
  size_t len;
} s_line_t;

static void
s_add (s_line_t *l, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
static void
s_add (s_line_t *l, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  int n = vsnprintf (l->text + l->len, sizeof l->text - l->len, fmt, ap);
  va_end (ap);
  if (n > 0)
    l->len = l->len + (size_t) n < sizeof l->text ? l->len + (size_t) n : sizeof l->text - 1;
}

/* "name n, name n, ..." of a tally ("none" when empty). */
static void
s_add_tally (s_line_t *l, const demo_tally_t *tally, size_t n)
{
  for (size_t i = 0; i < n; i++)
    s_add (l, "%s%s %lld", i ? ", " : "", tally[i].name, tally[i].n);
  if (n == 0)
    s_add (l, "none");
}

/* label: text, aligned like the other lines, wrapped after a comma. */
static void
s_print (const char *label, const s_line_t *l)
{
  char head[S_LABEL + 2];
  snprintf (head, sizeof head, "%s:", label);
  printf ("%-*s", S_LABEL, head);
  size_t col = S_LABEL;
  const char *p = l->text;
  while (*p) {
    const char *comma = strstr (p, ", ");
    size_t word = comma ? (size_t) (comma - p) + 1 : strlen (p);
    if (col > S_LABEL && col + word > S_WIDTH) {
      printf ("\n%*s", S_LABEL, "");
      col = S_LABEL;
      while (*p == ' ')
        p++, word--;
    }
    printf ("%.*s", (int) word, p);
    col += word;
    p += word;
  }
  putchar ('\n');
}

/* The desk (queued, assigned, by agent) and the SLA (warnings, breaches,
 * targets met). */
static void
s_print_desk (const demo_summary_t *s)
{
  s_line_t l = { .len = 0 };
  s_add (&l, "%lld queued for people, %lld assigned (", s->desk_queued, s->desk_assigned);
  s_add_tally (&l, s->by_agent, s->by_agent_n);
  s_add (&l, "), %lld still waiting", s->desk_waiting);
  s_print ("desk", &l);
  l.len = 0;
  s_add (&l, "targets met %lld, warnings %lld, breaches %lld", s->sla_met, s->sla_warnings,
         s->sla_breaches);
  if (s->breach_n) {
    s_add (&l, " (");
    s_add_tally (&l, s->breach, s->breach_n);
    s_add (&l, ")");
  }
  s_add (&l, ", escalated %lld (leads told %lld)", s->escalated, s->leads_told);
  s_print ("SLA", &l);
}

/* Tickets by intent, automatic answers, hand-overs, the knowledge base,
 * the store's requests and the priorities. */
static void
s_print_answers (demo_t *d)
{
  demo_summary_t s;
  if (demo_probe_summary (d->store, d->base.max_ticket_id, &s) != AT_OK) {
    printf ("answers by intent:        (the store did not answer)\n");
    return;
  }
  s_line_t l = { .len = 0 };
  for (int i = 0; i < DEMO_INTENTS; i++)
    s_add (&l, "%s%s %lld", i ? ", " : "", demo_intent_names[i], s.by_intent[i]);
  s_print ("tickets by intent", &l);
  l.len = 0;
  s_add (&l, "%lld (order status %lld, knowledge base %lld, self-service %lld: return %lld,"
         " cancel %lld, payment %lld)", s.auto_total, s.auto_order, s.auto_kb,
         s.auto_return + s.auto_cancel + s.auto_payment, s.auto_return, s.auto_cancel,
         s.auto_payment);
  s_print ("answered automatically", &l);
  l.len = 0;
  s_add (&l, "%lld (", s.handed_over);
  s_add_tally (&l, s.handoff, s.handoff_n);
  s_add (&l, "), %lld more had no automatic answer", s.for_people);
  s_print ("handed to people", &l);
  l.len = 0;
  s_add (&l, "helpful %lld, unhelpful %lld, no result %lld (%lld articles suggested, %lld not"
         " answered yet)", s.kb_helpful, s.kb_unhelpful, s.kb_no_result, s.kb_suggested,
         s.kb_suggested - s.kb_helpful - s.kb_unhelpful);
  s_print ("knowledge base", &l);
  l.len = 0;
  s_add (&l, "%ld delivered, signed (return %ld, cancel %ld); %lld taken by the store",
         demo_receiver_count (d->receiver, "return_request")
           + demo_receiver_count (d->receiver, "cancel_request"),
         demo_receiver_count (d->receiver, "return_request"),
         demo_receiver_count (d->receiver, "cancel_request"), s.requests_sent);
  s_print ("store requests", &l);
  l.len = 0;
  s_add (&l, "%lld (", s.high);
  s_add_tally (&l, s.priority, s.priority_n);
  s_add (&l, ")");
  s_print ("priority high", &l);
  s_print_desk (&s);
}

static void
s_print_kpis (demo_t *d)
{
  char url[DEMO_URL_MAX], *body = NULL;
  snprintf (url, sizeof url, "%s/v1/kpis", d->api_base);
  long status = demo_http_one ("GET", url, NULL, &body);
  json_t *doc = status == 200 && body ? json_loads (body, 0, NULL) : NULL;
  char *pretty = doc ? json_dumps (doc, JSON_INDENT (2) | JSON_PRESERVE_ORDER) : NULL;
  printf ("KPIs (GET /v1/kpis):\n%s\n", pretty ? pretty : "  (unavailable)");
  free (pretty);
  json_decref (doc);
  free (body);
}

void
demo_summary (demo_t *d, bool complete)
{
  demo_receiver_t *r = d->receiver;
  long delivered = demo_receiver_count (r, NULL);
  printf ("\n=== atende demo: %zu customers, seed %llu ===\n", d->customers, d->seed);
  printf ("messages in:              %ld (%ld of them answers to the knowledge base)\n",
          d->messages_sent + d->followups_sent, d->followups_sent);
  printf ("tickets opened:           %lld\n", d->now.tickets);
  s_print_answers (d);
  printf ("agent replies:            %ld\n", d->replies_sent);
  printf ("tickets resolved:         %ld\n", d->resolved);
  printf ("order events:             %ld\n", d->orders_sent);
  printf ("surveys answered:         %ld\n", d->surveys_answered);
  printf ("deliveries verified:      %ld (order_status %ld, auto_reply %ld, reply %ld, survey %ld,"
          " store %ld)\n", delivered, demo_receiver_count (r, "order_status"),
          demo_receiver_count (r, "auto_reply"), demo_receiver_count (r, "reply"),
          demo_receiver_count (r, "survey"), demo_receiver_count (r, "return_request")
            + demo_receiver_count (r, "cancel_request"));
  printf ("redelivered (same id):    %ld\n", demo_receiver_duplicates (r));
  printf ("bad signatures:           %ld\n", demo_receiver_bad_signatures (r));
  if (d->throughput_s > 0)
    printf ("throughput:               %.0f inbound messages/s (%ld in %.2fs, first POST to last "
            "ticket_message committed)\n", (double) d->messages_sent / d->throughput_s,
            d->messages_sent, d->throughput_s);
  if (d->pipeline_s > 0)
    printf ("whole scenario:           %.2fs (first POST to last delivery)\n", d->pipeline_s);
  s_print_kpis (d);
  printf ("result:                   %s\n", complete ? "everything arrived, every signature valid"
                                                    : "INCOMPLETE (see messages above)");
  printf ("logs:                     %s\n", d->logdir);
  printf ("api key:                  %s/api-key (Authorization: Bearer; a day long)\n",
          d->logdir);
}

void
demo_usage (FILE *out)
{
  fputs ("usage: atende demo [--customers N] [--seed S] [--api-port P] [--kb-seed PATH] [--quiet]\n"
         "                   [--keep]\n"
         "  Plays a seeded sales peak against the database in ATENDE_DATABASE_URL (migrated):\n"
         "  starts broker, workers and api as child processes plus a local receiver for the\n"
         "  providers and the store, loads the knowledge base's seed, then reports answers by\n"
         "  intent, deliveries, KPIs and throughput.\n"
         "  --customers N  customers who write in, 1..100000 (default 300)\n"
         "  --seed S       scenario seed (default 42)\n"
         "  --api-port P   port of the api (default: a free one)\n"
         "  --kb-seed PATH knowledge-base articles loaded at start (default " ATENDE_DEMO_KB_SEED
         ";\n                 a missing file is said and skipped)\n"
         "  --quiet        no progress lines, only the summary\n"
         "  --keep         after the summary, keep everything running (the inbox and the\n"
         "                 dashboard open in a browser, the lead's sign-in printed) until Ctrl-C\n"
         "  Exit status 0 only if everything arrived and every signature verified.\n", out);
}

void
demo_keep_banner (const demo_t *d)
{
  printf ("inbox:                    %s/  (sign in as " DEMO_LEAD_EMAIL ", password %s)\n"
          "dashboard:                %s/app/dashboard.html\n"
          "running until Ctrl-C\n", d->api_base,
          d->lead_password[0] ? d->lead_password : "(hers from the run that made her)",
          d->api_base);
  fflush (stdout);
}
