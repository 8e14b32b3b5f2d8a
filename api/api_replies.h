/* api: saved replies (issue 16), the texts an agent inserts into a reply
 * from the inbox (api_replies.c; the store: at_store_reply.h):
 *   GET    /v1/saved-replies?locale=&intent=&ticket=&limit=  {items}: those
 *          for the intent first; with ticket, each item's `text` is its body
 *          with the placeholders filled for that ticket's customer and latest
 *          order (tickets:read)
 *   GET    /v1/saved-replies/{id}                            one (tickets:read)
 *   POST   /v1/saved-replies {title, locale, intent?, body}  201 (templates:write)
 *   PUT    /v1/saved-replies/{id} {the same}                 200 (templates:write)
 *   DELETE /v1/saved-replies/{id}                            204 (templates:write)
 * A change is written with its audit row (saved_reply.create, .update,
 * .delete); a bad field is a 422 naming it, a taken title a 409. */
#ifndef API_REPLIES_H
#define API_REPLIES_H

#include "api_internal.h"
#include "at_store_reply.h"

void api_replies_list (api_request_t *req);
void api_reply_get (api_request_t *req);
void api_replies_post (api_request_t *req);
void api_reply_put (api_request_t *req);
void api_reply_delete (api_request_t *req);

/* The pure part, unit-tested: a body's fields into r (strings borrowed
 * from obj), or AT_INVALID with a 422 (400 for a wrong type) naming the field. */
int api_saved_reply_parse (const json_t *obj, at_reply_t *r, api_problem_t *p);

#endif
