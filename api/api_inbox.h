/* api: the agents' inbox (issue 16): the lists of tickets a person works
 * from and what they do on a ticket besides replying (api_inbox.c), and the
 * page itself, static files from ATENDE_WEB_DIR (api_web.c). */
#ifndef API_INBOX_H
#define API_INBOX_H

#include "api_internal.h"
#include "at_store_inbox.h"

/* GET /v1/tickets?view=mine|team|unassigned|breaching&channel=&intent=
 * &priority=&status=&within=&limit=: {view, items}, with an ETag (the
 * list's fingerprint); If-None-Match with it: 304 and no body. */
void api_inbox_list (api_request_t *req);
/* POST /v1/tickets/{id}/notes {text}: an internal note, never sent: 201 */
void api_inbox_note_post (api_request_t *req);
/* POST /v1/tickets/{id}/snooze {until}: out of the lists until then: 200 */
void api_inbox_snooze_post (api_request_t *req);

/* GET / (index.html) and GET /app/{path}: the inbox page's files. */
void api_web_get (api_request_t *req);

/* --- the pure part, unit-tested */

/* The query's filter into f (strings borrowed from the arguments), or
 * AT_INVALID with a 400 problem naming the argument. user_id: the
 * signed-in person, 0 for a key (view=mine is then a 422). */
typedef const char *(api_arg_fn) (const void *ctx, const char *name);
int api_inbox_filter_parse (api_arg_fn *arg, const void *ctx, int64_t user_id,
                            at_inbox_filter_t *f, api_problem_t *p);

/* Whether rel (a path below the web directory, already percent-decoded)
 * is one we serve: 1..API_WEB_PATH_MAX bytes of [A-Za-z0-9._-] segments
 * joined by single '/', no segment empty or starting with '.' (so never
 * "..", a hidden file, an absolute path, a backslash or a '%'). */
#define API_WEB_PATH_MAX 128
bool api_web_path_ok (const char *rel);
/* The Content-Type of a served file by its extension; NULL: not served. */
const char *api_web_type (const char *rel);

#endif
