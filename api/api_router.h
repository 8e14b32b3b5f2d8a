/* api_router: the route table and matching (api_router.c). Only the server
 * (and the tests) use it; the router calls the handlers, never the server. */
#ifndef API_ROUTER_H
#define API_ROUTER_H

#include "api_internal.h"

/* Finds the route for method and path: sets req->route and req->param, or
 * req->route_status to 404 (no path) / 405 (path, other method, with
 * req->allow listing the path's methods). */
void api_route_match (api_request_t *req);
/* The whole route table (*n rows), for the tests that walk it. */
const api_route_t *api_routes (size_t *n);

#endif
