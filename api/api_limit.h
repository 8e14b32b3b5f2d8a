/* api_limit: how fast one caller may knock (api_limit.c). Token buckets per
 * credential and per client address, and a count of refused credentials
 * per address, shared by all the api's request threads in fixed tables
 * (no allocation per request; old entries are evicted).
 *
 *   per credential  ATENDE_API_RATE_PER_KEY / _BURST_PER_KEY, by the caller's
 *                   actor (key:<id>, user:<id>), checked right after the door
 *                   admits it
 *   per address     ATENDE_API_RATE_PER_ADDR / _BURST_PER_ADDR, for requests
 *                   that come without a credential (public routes, unknown
 *                   paths, protected routes called anonymously) before the
 *                   door, and for credentials the door refused, after it
 *   refusals        ATENDE_API_AUTH_FAILURES_PER_ADDR: that many 401s to a
 *                   presented key, cookie or password from one address within
 *                   a minute, and the address gets 429 on every protected
 *                   route and on signing in (a good key too: the guard is for
 *                   the address) until the minute is over
 * Over a limit: 429, a problem document "rate-limited" naming the limit,
 * Retry-After (whole seconds, at least 1), atende_api_rate_limited_total
 * {limit="key|addr|auth_failures"}. The probes are never limited.
 *
 * Calls api_credential.c, api_request.c, api_answer.c and api_metrics.c;
 * the server calls it. */
#ifndef API_LIMIT_H
#define API_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct api_request api_request_t;

/* --- the arithmetic (pure: the time is passed in, tests/unit/test_api_limit.c) */

#define API_LIMIT_TOKEN 1000000       /* a token, in the bucket's micro-tokens */
#define API_LIMIT_WINDOW_US (60 * 1000000LL)   /* of the refusals' count */

/* A token bucket: rate tokens a second, up to burst; zeroed is unused. */
typedef struct {
  int64_t tokens;                     /* micro-tokens */
  int64_t at_us;                      /* when tokens was last brought up to date */
} api_bucket_t;

/* Takes one token at now_us (a zeroed bucket starts full): 0 when there was
 * one, else the whole seconds until one is back (at least 1). rate >= 1,
 * burst >= 1. */
int api_bucket_take (api_bucket_t *b, long rate, long burst, int64_t now_us);

/* Refusals of one address in the minute since the first of them. */
typedef struct {
  int64_t since_us;                   /* 0: none counted */
  long count;
} api_strikes_t;

/* Counts one refusal at now_us (a new minute when the last one is over). */
void api_strikes_add (api_strikes_t *s, int64_t now_us);
/* 0 while fewer than max refusals are counted in the minute, else the whole
 * seconds until the minute is over (at least 1). max >= 1. */
int api_strikes_wait (const api_strikes_t *s, long max, int64_t now_us);

/* The burst a rate gets when its burst setting is 0: twice the rate. */
long api_limit_burst (long rate, long burst);

/* --- the checks, in the life of a request (api_server.c) */

/* Before the door: the refusals' guard and the address's bucket. False with
 * the 429 answered. */
bool api_limit_before (api_request_t *req);
/* Right after the door admitted req->caller: the credential's bucket. False
 * with the 429 answered. */
bool api_limit_caller (api_request_t *req);
/* Once the answer is decided: a 401 to a presented credential or password
 * is counted against the address; a credential refused at the door takes a
 * token of the address's bucket, and the answer becomes 429 when there is
 * none. */
void api_limit_answered (api_request_t *req);

#endif
