/* at_store_kb: the knowledge base in PostgreSQL (lib/store/store_kb.c,
 * migration 014): articles per locale and the events of their use.
 *
 * The score of an article for a question (at_store_kb_search), 0..1:
 *   ft  ts_rank_cd over the article's document (the locale's configuration
 *       over unaccented text; title and tags weigh A, the body B) for the
 *       question's words joined by OR, normalised rank / (rank + 1);
 *   ty  pg_trgm: the question's words of 4 characters or more whose
 *       word_similarity to the title and tags is 0.5 or more (typos) add
 *       that similarity to r, ty = r / (r + 1);
 *   score = greatest (ft, ty). One exact title word scores 0.5, two 0.67.
 * Only published articles of the locale are searched. */
#ifndef AT_STORE_KB_H
#define AT_STORE_KB_H

#include <jansson.h>
#include "at_store.h"

#define AT_KB_TITLE_MAX 200          /* characters */
#define AT_KB_BODY_MAX 20000         /* characters */
#define AT_KB_TAGS_MAX 20
#define AT_KB_TAG_MAX 40             /* characters */
#define AT_KB_QUESTION_MAX 1000      /* bytes of a search question read */
#define AT_KB_LIST_DEFAULT 100
#define AT_KB_LIST_MAX 500
#define AT_KB_SEARCH_MAX 50
#define AT_KB_ANSWER_MAX 3000        /* bytes of an article's body quoted in an answer */

/* An article as written through the api (checked before). */
typedef struct {
  const char *locale;                /* pt-BR | en | es */
  const char *title;
  const char *body;
  const char *status;                /* published | draft */
  const char *const *tags;
  size_t n_tags;
} at_kb_article_t;

/* The best article for a question, as route quotes it. */
typedef struct {
  int64_t id;
  double score, ft, ty;
  char title[4 * AT_KB_TITLE_MAX + 1];
  char body[AT_KB_ANSWER_MAX + 8];   /* cut at a character, "…" appended when cut */
} at_kb_hit_t;

/* --- articles (the api); each runs in the caller's transaction, if any */
int at_store_kb_article_create (at_store_t *store, const at_kb_article_t *a, const char *actor,
                                int64_t *id_out);
/* AT_OK, AT_NOTFOUND or a store error. */
int at_store_kb_article_update (at_store_t *store, int64_t id, const at_kb_article_t *a);
int at_store_kb_article_delete (at_store_t *store, int64_t id);
/* {id, locale, title, body, tags, status, created_at, updated_at, created_by}
 * into *out (owned); AT_NOTFOUND. */
int at_store_kb_article_get (at_store_t *store, int64_t id, json_t **out);
/* The articles (without body), newest first, filtered by locale and status
 * (NULL: any), as a JSON array into *items_out. */
int at_store_kb_article_list (at_store_t *store, const char *locale, const char *status,
                              int limit, json_t **items_out);

/* --- search */
/* Published articles of locale ranked for question, best first, score >= 0
 * and at least one word matching: [{id, locale, title, tags, score, ft, ty,
 * excerpt}] into *items_out. */
int at_store_kb_search (at_store_t *store, const char *locale, const char *question, int limit,
                        json_t **items_out);
/* The best article for question in locale: AT_OK and *out, or AT_NOTFOUND
 * when no published article matches a word (out->score 0). */
int at_store_kb_best (at_store_t *store, const char *locale, const char *question,
                      at_kb_hit_t *out);

/* --- events (route, in the worker's transaction) */
/* True when the ticket was handed to people (handoff_at set). */
int at_store_kb_ticket_handed_off (at_store_t *store, int64_t ticket_id, bool *out);
/* A suggestion awaiting the customer's "sim/não". message_id: the question
 * (0: none); *event_id_out its event. AT_CONFLICT when the ticket already
 * awaits one. */
int at_store_kb_suggested (at_store_t *store, int64_t ticket_id, int64_t message_id,
                           int64_t article_id, const char *locale, double score,
                           int64_t *event_id_out);
/* The suggestion event_id went unanswered: settled as "unanswered" and
 * *expired_out true, when it still awaited (false: answered meanwhile). */
int at_store_kb_expire (at_store_t *store, int64_t ticket_id, int64_t event_id,
                        bool *expired_out);
/* No article scored enough: a no_result event (score: the best, article_id
 * 0: none matched). */
int at_store_kb_no_result (at_store_t *store, int64_t ticket_id, int64_t message_id,
                           int64_t article_id, const char *locale, double score);
/* Whether the ticket awaits a "sim/não"; *article_id_out (may be NULL) gets
 * the article suggested. */
int at_store_kb_awaiting (at_store_t *store, int64_t ticket_id, bool *awaiting,
                          int64_t *article_id_out);
/* Settles the ticket's awaiting suggestion with outcome helpful | unhelpful
 * | unanswered, and for the first two records that event (message_id: the
 * customer's answer). AT_NOTFOUND when none awaits. */
int at_store_kb_settle (at_store_t *store, int64_t ticket_id, int64_t message_id,
                        const char *outcome);
/* Someone (actor) read the article through the api. */
int at_store_kb_opened (at_store_t *store, int64_t article_id, const char *actor);

/* The questions nothing answered since since_us (0: all), grouped by their
 * unaccented lower-case text, most frequent then most recent first:
 * [{question, count, last_at, locale, best_score, ticket_ids}] into
 * *items_out. Erased texts are left out. */
int at_store_kb_unanswered (at_store_t *store, int64_t since_us, int limit, json_t **items_out);

#endif
