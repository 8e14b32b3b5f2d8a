/* api_internal: what the api's handlers share: the request being answered,
 * the answers, the request's fields, the per-thread store and publisher, the
 * bus messages, and the request-body validators (pure functions, fuzzed).
 * The router (api_router.h) and metrics (api_metrics.h) are not theirs. */
#ifndef API_INTERNAL_H
#define API_INTERNAL_H

#include <jansson.h>
#include "at_common.h"
#include "at_config.h"
#include "at_msg.h"
#include "at_store.h"
#include "at_store_auth.h"
#include "at_publisher.h"

#define API_PARAM_MAX 256        /* a path parameter ({id}, {token}) */
#define API_REQUEST_ID_MAX 64
#define API_DETAIL_MAX 256
#define API_REPLY_CAP (8 * 1024 * 1024)   /* largest JSON answer we write */

/* Why a request is refused: an RFC 9457 problem naming the field. */
typedef struct {
  int status;                 /* 400, 404, 409, 413, 415, 422, 503 ... */
  const char *slug;           /* static: "invalid-field", "not-found" ... */
  const char *title;          /* static */
  char detail[API_DETAIL_MAX];
  const char *field;          /* static or NULL */
} api_problem_t;

typedef struct api_request api_request_t;

#define API_BODY_NONE 0
#define API_BODY_JSON 1          /* required */
#define API_BODY_JSON_OPTIONAL 2 /* may be empty */
typedef void (api_handler_fn) (api_request_t *req);

/* What a route needs (api_route_t.scope): one AT_SCOPE_* bit, or one of
 * these. 0 is no declaration: such a route is refused to all but admin
 * (fail closed; tests/integration/test_api_auth.c checks none is left). */
#define API_PUBLIC    (1u << 30)  /* on purpose: checks its own signature or token, or a probe */
#define API_SIGNED_IN (1u << 31)  /* any valid credential, no scope (who am I, sign out) */

typedef struct {
  const char *method;
  const char *pattern;        /* "/v1/tickets/{}/replies": {} matches one segment; a
                                 final "*" the rest of the path (one or more bytes) */
  const char *name;           /* route label in metrics */
  api_handler_fn *handler;
  int body;                   /* API_BODY_*: 415 when a JSON body comes without application/json */
  bool path_secret;           /* the {} holds a credential: logged as "-", never the path */
  at_scopes_t scope;          /* what the caller needs: AT_SCOPE_*, API_PUBLIC, API_SIGNED_IN */
} api_route_t;

/* Who is calling (api_auth.c fills it before the handler runs). */
typedef enum { API_CALLER_NONE = 0, API_CALLER_KEY, API_CALLER_SESSION } api_caller_kind_t;

typedef struct {
  api_caller_kind_t kind;
  at_scopes_t scopes;
  char actor[AT_AUTH_ACTOR_LEN];          /* audit actor: key:<id> or user:<id> */
  char agent[AT_AUTH_NAME_MAX + 1];       /* who an agent's action is recorded under:
                                             the person's name, or key:<id> */
  char key_id[AT_AUTH_KEY_ID_LEN + 1];    /* API_CALLER_KEY */
  at_session_check_t session;             /* API_CALLER_SESSION: user, role, email, name */
  char session_token[AT_AUTH_TOKEN_LEN + 1];  /* the cookie, for sign-out */
} api_caller_t;

struct api_request {
  const at_config_t *cfg;
  const char *method;               /* borrowed from MHD */
  const char *path;
  const char *query_since;          /* ?since=, borrowed, may be NULL */
  const char *content_type;         /* borrowed, may be NULL */
  char param[API_PARAM_MAX];        /* the {} segment, percent-decoded */
  char request_id[API_REQUEST_ID_MAX + 1];
  const api_route_t *route;         /* NULL: no route matched */
  int route_status;                 /* 0, 404 or 405 from routing */
  char allow[32];                   /* methods of the path, for a 405 */
  const char *body;                 /* the body for the handler: NUL-terminated, "" when none */
  size_t body_len;
  bool body_too_large;
  int64_t start_us;                 /* monotonic */
  int status;                       /* of the answer */
  char *reply;                      /* owned answer body */
  const char *reply_type;           /* Content-Type of the answer */
  int retry_after_s;                /* > 0: Retry-After header */
  char location[128];               /* "" or a Location header */
  char link[384];                   /* "" or a Link header (RFC 8288) */
  char set_cookie[192];             /* "" or a Set-Cookie header */
  char etag[48];                    /* "" or an ETag header (quoted) */
  const char *cache_control;        /* NULL or a Cache-Control header (static) */
  api_caller_t caller;              /* who is calling (kind NONE on public routes) */
  char peer[AT_AUTH_ADDR_LEN];      /* the client's address, "" when unknown */
  void *conn;                       /* the MHD connection (api_header) */
};

/* The files of the api call each other in layers, lowest first (a file
 * calls only files of lower layers; tests/check_circles.sh checks it):
 *   api_answer.c   api_metrics.c   api_envelope.c   api_credential.c   call no other
 *   api_request.c  (answer)        api_thread.c       (answer, metrics)
 *   api_auth.c     the door: credentials and scopes (the files above)
 *   api_limit.c    rate limits around the door (answer, metrics, request)
 *   handlers: one file per resource, api_channel_common.c and the
 *             providers' doors above it   (the files above; they read
 *             req->caller, which api_auth.c filled)
 *   api_router.c   the route table: the handlers
 *   api_server.c   MHD, the life of a request: router, request, answer, metrics */

/* --- answers (api_answer.c) */
/* Fills a problem; returns AT_INVALID so validators can `return api_problem (...)`. */
int api_problem (api_problem_t *p, int status, const char *field, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
void api_reply_json (api_request_t *req, int status, json_t *body);   /* steals body */
void api_reply_problem (api_request_t *req, const api_problem_t *problem);
void api_reply_text (api_request_t *req, int status, const char *type, char *text); /* steals */
/* 503 + Retry-After (at least 1 s), detail saying what is unavailable. */
void api_reply_unavailable (api_request_t *req, int retry_after_s, const char *detail);
/* 404 problem document with detail ("no ticket with this id"). */
void api_reply_not_found (api_request_t *req, const char *detail);
/* 503 + Retry-After: 1 after a store failure (logged where it happened). */
void api_reply_store_failed (api_request_t *req);

/* --- credentials in headers, taken apart (api_credential.c; pure) */
#define API_CREDENTIAL_MAX 512   /* longest key or cookie value looked at */
/* "Bearer <token>" (scheme in any case, RFC 6750 b64token): the token into
 * out (NUL-terminated). AT_OK, or AT_INVALID (absent, another scheme,
 * malformed, longer than cap - 1 or API_CREDENTIAL_MAX). */
int api_credential_bearer (const char *header, char *out, size_t cap);
/* The value of cookie `name` in a Cookie header into out. AT_OK,
 * AT_NOTFOUND (no such cookie), AT_INVALID (empty, too long, not cookie
 * octets, or the name twice). */
int api_credential_cookie (const char *header, const char *name, char *out, size_t cap);

/* --- the request (api_request.c) */
/* A request header (case-insensitive name), borrowed from MHD; NULL when absent. */
const char *api_header (const api_request_t *req, const char *name);
/* A query argument (decoded), borrowed from MHD; NULL when absent. */
const char *api_query (const api_request_t *req, const char *name);
/* True when the request's Content-Type is `type` (parameters ignored). */
bool api_content_is (const api_request_t *req, const char *type);
/* The request id when it can be a bus trace id (a UUID), else NULL. */
const char *api_trace_id (const api_request_t *req);
/* Answers text (stolen) of type with an ETag (FNV-1a of the bytes) and
 * cache_control (static, may be NULL): 200, or 304 with no body when the
 * request's If-None-Match names that ETag. For what a page polls. */
void api_reply_tagged (api_request_t *req, const char *type, char *text,
                       const char *cache_control);
/* The same for a JSON document (stolen); 500 when it cannot be written. */
void api_reply_json_tagged (api_request_t *req, json_t *doc, const char *cache_control);
/* Parses a path parameter as a positive id (ticket ids); false otherwise. */
bool api_param_id (const api_request_t *req, int64_t *id_out);
/* Parses the body as a JSON object or fills a 400 problem. */
json_t *api_body_object (const char *body, size_t len, api_problem_t *p);
/* Required / optional strings of 1..max_len characters (bytes). */
int api_field_string (const json_t *obj, const char *field, size_t max_len, bool required,
                      const char **out, api_problem_t *p);

/* --- per-thread resources (api_thread.c) */
/* The calling thread's store, connected lazily and reconnected when broken;
 * NULL (and a 503 answer queued on req) when the database is unreachable. */
at_store_t *api_store (api_request_t *req);
/* Publishes one message and waits for the broker's confirm. AT_OK, or the
 * failure answered on req (503 + Retry-After, 500). */
int api_publish (api_request_t *req, at_msg_t *msg);

/* --- changes with their audit row (api_audit.c) */
typedef int (api_change_fn) (api_request_t *req, at_store_t *store, void *arg);
/* BEGIN; change; the audit row (the caller's actor, action, target, detail,
 * which it steals); COMMIT, or ROLLBACK on any failure (its code returned).
 * target is read after change ran, so change may write it (a new row's id). */
int api_audited (api_request_t *req, at_store_t *store, api_change_fn *change, void *arg,
                 const char *action, const char *target, json_t *detail);

/* --- the door (api_auth.c) */
/* Checks the caller against req->route's need and fills req->caller: true
 * to go on to the handler; false with the answer queued (401, 403, or 503
 * when the store failed). */
bool api_auth_admit (api_request_t *req);

/* --- bus messages more than one door publishes (api_envelope.c) */
struct Atende__InboundMessage;
struct Atende__OrderEvent;
/* The ingest bus message for a checked InboundMessage, keyed by
 * at_privacy_bus_key (key_secret: ATENDE_BUS_KEY_SECRET), never the raw handle;
 * NULL when a field is too long for the envelope. Shared by every inbound door. */
at_msg_t *api_inbound_msg (const struct Atende__InboundMessage *in, const char *key_secret,
                           const char *trace_id);
/* Re-keys an ingest message built below the api with key "<channel>:<handle>"
 * (lib/inbound/email.c) the same way. AT_OK or AT_INVALID. */
int api_inbound_rekey (at_msg_t *msg, const char *key_secret);
/* The notify bus message for a checked OrderEvent (key "order:<order_id>");
 * NULL when the order id is too long for the envelope. */
at_msg_t *api_order_event_msg (const struct Atende__OrderEvent *ev, const char *trace_id);

/* --- body validators: build the bus message or fill the problem (pure). */
int api_inbound_parse (const char *body, size_t len, const char *key_secret,
                       const char *trace_id, at_msg_t **out, api_problem_t *p);
int api_order_event_parse (const char *order_id, const char *body, size_t len,
                           const char *trace_id, at_msg_t **out, api_problem_t *p);
/* An agent's action on a ticket is recorded under `agent` (the caller:
 * req->caller.agent); an "agent" field of the body is ignored. */
int api_reply_parse (int64_t ticket_id, const char *agent, const char *body, size_t len,
                     const char *trace_id, at_msg_t **out, api_problem_t *p);
int api_resolve_parse (int64_t ticket_id, const char *agent, const char *body, size_t len,
                       const char *trace_id, at_msg_t **out, api_problem_t *p);
/* kind "csat" (1..5) or "nps" (0..10). */
int api_survey_answer_parse (const char *survey_id, const char *kind, const char *body,
                             size_t len, const char *trace_id, at_msg_t **out, api_problem_t *p);

/* --- handlers, one file per resource */
void api_messages_post (api_request_t *req);
void api_messages_get (api_request_t *req);
void api_orders_event_post (api_request_t *req);
void api_tickets_get (api_request_t *req);
void api_tickets_reply_post (api_request_t *req);
void api_tickets_resolve_post (api_request_t *req);
void api_surveys_post (api_request_t *req);
void api_kpis_get (api_request_t *req);
void api_kpis_by_get (api_request_t *req);          /* ?by= (api_kpis_by.c) */
void api_kpis_facts_csv_get (api_request_t *req);
void api_kpis_rollup_refresh (api_request_t *req);   /* for /metrics */
void api_health_get (api_request_t *req);
void api_ready_get (api_request_t *req);
void api_metrics_get (api_request_t *req);
void api_session_post (api_request_t *req);
void api_session_get (api_request_t *req);
void api_session_delete (api_request_t *req);

#endif
