/* demo internals: concurrent HTTP (curl multi), the seeded scenario and the
 * database probes the demo uses to know when work has landed. */
#ifndef DEMO_INTERNAL_H
#define DEMO_INTERNAL_H

#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include "at_common.h"
#include "at_auth.h"
#include "at_config.h"
#include "at_store.h"
#include "demo_receiver.h"

/* --- demo_http.c */
#define DEMO_URL_MAX 512
typedef struct {
  const char *method;
  char url[DEMO_URL_MAX];
  char *body;                 /* owned JSON or NULL */
  long status;                /* result: HTTP status or -1 */
  char *response;             /* owned, capped */
} demo_req_t;

/* Runs reqs with up to concurrency at once; retries 503 and transport
 * errors a few times with a pause. Returns how many got a 2xx. Stops early
 * when *stop becomes non-zero. */
size_t demo_http_run (demo_req_t *reqs, size_t n, int concurrency, volatile sig_atomic_t *stop);
void demo_req_free (demo_req_t *reqs, size_t n);
/* The API key every request of the demo sends (Authorization: Bearer). */
void demo_http_key (const char *key);
/* One request (status or -1); *response malloc'd when not NULL. */
long demo_http_one (const char *method, const char *url, const char *body, char **response);

/* --- demo_scenario.c */
/* What a customer writes about: where is my order, a return, anything else,
 * a product question the knowledge base answers, cancelling an order not
 * shipped yet, the boleto or Pix code of an order waiting for payment. */
typedef enum {
  DEMO_TOPIC_ORDER = 0, DEMO_TOPIC_RETURN, DEMO_TOPIC_OTHER, DEMO_TOPIC_KB, DEMO_TOPIC_CANCEL,
  DEMO_TOPIC_PAYMENT
} demo_topic_t;
#define DEMO_ORDER_STEPS 5     /* placed confirmed shipped in_transit delivered */

typedef struct {
  char name[96];
  char channel[16];
  char handle[128];
  char lang[8];                /* pt-BR en es */
  char order_id[24];           /* "": no order */
  int order_steps;             /* statuses this customer's order goes through */
  char expected[16];           /* YYYY-MM-DD */
  demo_topic_t topic;
  char text[512];
  char payment_method[8];      /* "", boleto, pix: on the "placed" event */
  char payment_code[272];
  char payment_due[16];        /* YYYY-MM-DD */
  char followup[64];           /* "": none; the answer to the knowledge base's "sim/não" */
} demo_customer_t;

typedef struct {
  uint64_t s;
} demo_rng_t;

void demo_rng_seed (demo_rng_t *r, uint64_t seed);
uint64_t demo_rng_next (demo_rng_t *r);
/* Uniform in [0, n). */
uint32_t demo_rng_below (demo_rng_t *r, uint32_t n);

/* n customers generated from seed (caller frees). */
demo_customer_t *demo_scenario_customers (size_t n, uint64_t seed);
const char *demo_order_status (int step);
/* JSON body of the step-th order event of c (malloc'd). */
char *demo_scenario_order_event (const demo_customer_t *c, int step, const char *run);
/* JSON body of c's inbound message (malloc'd); provider_message_id
 * "demo-<run>-<index>". */
char *demo_scenario_message (const demo_customer_t *c, size_t index, const char *run);
/* JSON body of c's second message, the answer to the knowledge base
 * (malloc'd; NULL when c has none). */
char *demo_scenario_followup (const demo_customer_t *c, size_t index, const char *run);
/* The customer index of a provider_message_id of demo_scenario_message in
 * this run, or -1. */
long demo_scenario_index (const char *provider_id, const char *run);
/* An agent's reply in the ticket's language (malloc'd JSON). */
char *demo_scenario_agent_reply (demo_rng_t *r, const char *lang);
/* A survey answer, scores skewed to 4-5 (malloc'd JSON). */
char *demo_scenario_survey_answer (demo_rng_t *r);

#include "at_store_demo.h"

/* --- demo_kb.c */
/* Loads the articles of the seed file at path through the api (POST
 * /v1/kb/articles), skipping those there already; a line for the user in
 * note. Returns how many were created, AT_NOTFOUND when the file is missing
 * or not a seed (said in note, not fatal). */
long demo_kb_seed (const char *api_base, const char *path, char *note, size_t cap,
                   volatile sig_atomic_t *stop);
/* The customers whose ticket (> after) awaits their "sim/não" and who
 * answer (demo_customer_t.followup) answer now; how many were accepted. */
size_t demo_kb_followups (at_store_t *store, int64_t after, const demo_customer_t *people,
                          size_t n, const char *run, const char *api_base,
                          volatile sig_atomic_t *stop);

/* --- demo_desk.c */
#define DEMO_DESK_LIMIT 4        /* chats an agent of the demo holds at once */
#define DEMO_DESK_URGENT_S 5     /* the demo policy's first-response target, high priority */
#define DEMO_LEAD_EMAIL "marina.lima@loja.example"
#define DEMO_PASSWORD_MAX 64
/* A default team, three agents online, its lead (signs in to the inbox and
 * the dashboard with DEMO_LEAD_EMAIL and the password written into
 * lead_password), a 24x7 calendar and the demo's SLA policy, through the api
 * with a setup key revoked after; demo_key is the key the demo's requests go
 * on with. A line for the user in note. */
int demo_desk_setup (at_store_t *store, const char *api_base, const char *demo_key, char *note,
                     size_t cap, char lead_password[DEMO_PASSWORD_MAX]);

/* --- demo.c: one run of the demo */
#define DEMO_CHILDREN 6
#define DEMO_ENV_MAX 18
typedef struct {
  const at_config_t *cfg;
  size_t customers;
  unsigned long long seed;
  long api_port;
  bool quiet;
  bool keep;                   /* --keep: stay up after the summary until Ctrl-C */
  char lead_password[DEMO_PASSWORD_MAX];
  char exe[PATH_MAX];
  char kb_seed[PATH_MAX];      /* the knowledge base's seed file */
  char logdir[64];
  char run[40];
  char webhook_secret[80];
  char survey_secret[64];
  char api_key[AT_AUTH_KEY_LEN + 1];   /* the demo's own key (also in <logdir>/api-key) */
  char env[DEMO_ENV_MAX][1200];
  char api_base[64];
  pid_t pids[DEMO_CHILDREN];
  demo_receiver_t *receiver;
  at_store_t *store;
  demo_customer_t *people;
  demo_rng_t rng;
  demo_counts_t base, now;
  int64_t started_ms, last_progress_ms;
  long orders_sent, messages_sent, followups_sent, replies_sent, resolved, surveys_answered;
  long child_died, expect_orders, kb_articles;
  double throughput_s, pipeline_s;
} demo_t;

/* --- demo_summary.c */
/* What arrived, the answers by intent and by the knowledge base (from the
 * store), the KPIs of the api, the throughput and the result. */
void demo_summary (demo_t *d, bool complete);

#ifndef ATENDE_DEMO_KB_SEED
#define ATENDE_DEMO_KB_SEED "deploy/kb/seed.json"
#endif
/* --- demo_summary.c: what the demo says besides the summary */
void demo_usage (FILE *out);
/* --keep: where the inbox and the dashboard are, and the lead's sign-in. */
void demo_keep_banner (const demo_t *d);

#endif
