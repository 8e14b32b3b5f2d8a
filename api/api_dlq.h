/* api_dlq: the dead letters over HTTP (lib/store/at_store_dlq.h):
 *   GET  /v1/dlq?stage=S&limit=N   newest first (limit 1..1000, default 50)
 *   GET  /v1/dlq/{id}              one, with its failure history
 *   POST /v1/dlq/{id}/replay       back to the bus at attempt 1; 200 replayed,
 *                                  409 not dead (pending: already replayed),
 *                                  404 unknown id */
#ifndef API_DLQ_H
#define API_DLQ_H
#include "api_internal.h"
void api_dlq_list (api_request_t *req);
void api_dlq_get (api_request_t *req);
void api_dlq_replay (api_request_t *req);
#endif
