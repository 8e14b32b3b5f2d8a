/* api: the knowledge base (api_kb.c). */
#ifndef API_KB_H
#define API_KB_H

#include "api_internal.h"
#include "at_store_kb.h"

/* POST /v1/kb/articles; GET /v1/kb/articles?locale=&status=&limit= */
void api_kb_articles_post (api_request_t *req);
void api_kb_articles_list (api_request_t *req);
/* GET (records an "opened" event), PUT, DELETE /v1/kb/articles/{id} */
void api_kb_article_get (api_request_t *req);
void api_kb_article_put (api_request_t *req);
void api_kb_article_delete (api_request_t *req);
/* GET /v1/kb/search?q=&locale=&limit= */
void api_kb_search_get (api_request_t *req);
/* GET /v1/kb/unanswered?since=&limit= */
void api_kb_unanswered_get (api_request_t *req);

/* --- the pure part, unit-tested */
/* An article's JSON body {locale, title, body, tags?, status?} checked into
 * *a (strings borrowed from *obj_out, which the caller frees; tags point
 * into tags[AT_KB_TAGS_MAX]); status defaults to draft. AT_OK, or
 * AT_INVALID with the problem naming the field (400 not JSON, 422 a value). */
int api_kb_article_parse (const char *body, size_t len, json_t **obj_out, at_kb_article_t *a,
                          const char *tags[AT_KB_TAGS_MAX], api_problem_t *p);

#endif
