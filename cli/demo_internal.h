/* demo internals: concurrent HTTP (curl multi), the seeded scenario and the
 * database probes the demo uses to know when work has landed. */
#ifndef DEMO_INTERNAL_H
#define DEMO_INTERNAL_H

#include <signal.h>
#include <stdint.h>
#include "at_common.h"
#include "at_auth.h"
#include "at_store.h"

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
typedef enum { DEMO_TOPIC_ORDER = 0, DEMO_TOPIC_RETURN, DEMO_TOPIC_OTHER } demo_topic_t;
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
/* JSON body of c's inbound message (malloc'd). */
char *demo_scenario_message (const demo_customer_t *c, size_t index, const char *run);
/* An agent's reply in the ticket's language (malloc'd JSON). */
char *demo_scenario_agent_reply (demo_rng_t *r, const char *lang);
/* A survey answer, scores skewed to 4-5 (malloc'd JSON). */
char *demo_scenario_survey_answer (demo_rng_t *r);

#include "at_store_demo.h"

#endif
