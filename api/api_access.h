/* api: the admin's doors (scope admin): API keys and accounts
 * (api_access.c), the audit log (api_audit.c).
 *   POST   /v1/keys             {name, scopes: [...], expires_days?}: 201 with the key
 *                               text, shown only in this answer (plus id, name, scopes,
 *                               expires_at)
 *   GET    /v1/keys             every key: never a secret nor a hash
 *   DELETE /v1/keys/{id}        revokes: 204; 404 unknown; 409 revoked before. Each api
 *                               thread's key cache may admit it for up to
 *                               ATENDE_API_KEY_CACHE_MS more
 *   POST   /v1/users            {email, name, role, password, languages?, teams?}: 201 with
 *                               the account (never the password nor its hash); 409 the
 *                               email exists
 *   GET    /v1/users            every account
 *   POST   /v1/users/{id}/disable  200; 404 unknown; 409 disabled before
 *   GET    /v1/audit?actor=&action=&since=&until=&before=&limit=
 *                               newest first: {items, next} (next: pass as before=)
 * Each change is written with its audit row (actor: the caller, addr: the
 * peer) in one transaction; listings are audited too, as the CLI's are.
 * Bad input: a 400/422 problem naming the field, nothing written. The
 * checks and JSON shapes are the CLI's (lib/store/at_store_access.h). */
#ifndef API_ACCESS_H
#define API_ACCESS_H

#include "api_internal.h"

void api_keys_post (api_request_t *req);
void api_keys_list (api_request_t *req);
void api_keys_delete (api_request_t *req);
void api_users_post (api_request_t *req);
void api_users_list (api_request_t *req);
void api_users_disable (api_request_t *req);
void api_audit_list (api_request_t *req);

#endif
