/* api_limit: rate limits of the api (what, and why: api_limit.h).
 *
 * Three tables, one per limit (credentials' buckets, addresses' buckets,
 * addresses' refusals), each a fixed array of S_SETS sets of S_WAYS entries:
 * a key (the actor, or the address) hashes to one set, with a hash seeded
 * at random per process so no one can aim many keys at one set; a new key
 * takes the free entry or the one of its set used longest ago. Memory is
 * thus fixed (no allocation, ever), and many addresses only evict each
 * other's old entries. A set is guarded by one of S_STRIPES mutexes (held
 * for a few instructions), so the request threads seldom wait on each
 * other.
 *
 * IPv6 addresses count by their /64 (one host usually holds a whole /64,
 * and would otherwise get a fresh bucket per address); IPv4 ones (and
 * IPv4-mapped IPv6) by the address. */
#include <arpa/inet.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include "api_internal.h"
#include "api_limit.h"
#include "api_metrics.h"
#include "at_crypto.h"
#include "at_log.h"

#define S_SETS 512
#define S_WAYS 8
#define S_STRIPES 64
#define S_KEY_MAX 64                 /* an actor (AT_AUTH_ACTOR_LEN) or an address */
#define S_SESSION_COOKIE "atende_session"

/* --- the arithmetic */

long
api_limit_burst (long rate, long burst)
{
  return burst > 0 ? burst : (rate > LONG_MAX / 2 ? LONG_MAX : 2 * rate);
}

/* Whole seconds, rounded up, at least 1, of a time in microseconds. */
static int
s_seconds (int64_t us)
{
  int64_t s = (us + 999999) / 1000000;
  return s < 1 ? 1 : s > INT_MAX ? INT_MAX : (int) s;
}

int
api_bucket_take (api_bucket_t *b, long rate, long burst, int64_t now_us)
{
  int64_t cap = (int64_t) burst * API_LIMIT_TOKEN;
  int64_t elapsed = b->at_us ? now_us - b->at_us : INT64_MAX;
  if (elapsed < 0)
    elapsed = 0;      /* another thread's later clock came first */
  int64_t room = cap - b->tokens;
  /* elapsed * rate <= room when it is not full: no overflow */
  b->tokens = elapsed > room / rate ? cap : b->tokens + elapsed * rate;
  if (b->at_us < now_us)
    b->at_us = now_us;
  if (b->tokens >= API_LIMIT_TOKEN) {
    b->tokens -= API_LIMIT_TOKEN;
    return 0;
  }
  int64_t missing = API_LIMIT_TOKEN - b->tokens;
  return s_seconds ((missing + rate - 1) / rate);
}

void
api_strikes_add (api_strikes_t *s, int64_t now_us)
{
  if (s->since_us == 0 || now_us - s->since_us >= API_LIMIT_WINDOW_US) {
    s->since_us = now_us;
    s->count = 0;
  }
  s->count++;
}

int
api_strikes_wait (const api_strikes_t *s, long max, int64_t now_us)
{
  if (s->since_us == 0 || s->count < max)
    return 0;
  int64_t left = s->since_us + API_LIMIT_WINDOW_US - now_us;
  return left > 0 ? s_seconds (left) : 0;
}

/* --- the tables */

typedef struct {
  uint64_t hash;
  int64_t used_us;                   /* 0: free */
  char key[S_KEY_MAX];
  union {
    api_bucket_t bucket;
    api_strikes_t strikes;
  } v;
} s_entry_t;

typedef struct {
  pthread_mutex_t lock[S_STRIPES];
  s_entry_t set[S_SETS][S_WAYS];
} s_table_t;

static s_table_t s_callers, s_addrs, s_refusals;
static uint64_t s_seed;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void
s_init (void)
{
  s_table_t *tables[] = { &s_callers, &s_addrs, &s_refusals };
  for (size_t t = 0; t < AT_ARRAY_LEN (tables); t++)
    for (size_t i = 0; i < S_STRIPES; i++)
      pthread_mutex_init (&tables[t]->lock[i], NULL);
  if (at_random_bytes (&s_seed, sizeof s_seed) != AT_OK)
    s_seed = (uint64_t) at_now_us ();
}

/* FNV-1a from a random basis. */
static uint64_t
s_hash (const char *key)
{
  uint64_t h = 14695981039346656037ULL ^ s_seed;
  for (; *key; key++) {
    h ^= (unsigned char) *key;
    h *= 1099511628211ULL;
  }
  return h;
}

/* The entry of key, with its set's lock held (*lock, for the caller to
 * release); made, or NULL when make is false and there is none. */
static s_entry_t *
s_entry (s_table_t *t, const char *key, bool make, int64_t now_us, pthread_mutex_t **lock)
{
  pthread_once (&s_once, s_init);
  uint64_t h = s_hash (key);
  size_t set = (size_t) (h % S_SETS);
  s_entry_t *ways = t->set[set], *oldest = &ways[0];
  *lock = &t->lock[set % S_STRIPES];
  pthread_mutex_lock (*lock);
  for (size_t i = 0; i < S_WAYS; i++) {
    if (ways[i].used_us && ways[i].hash == h && strcmp (ways[i].key, key) == 0) {
      ways[i].used_us = now_us;
      return &ways[i];
    }
    if (ways[i].used_us < oldest->used_us)
      oldest = &ways[i];
  }
  if (!make)
    return NULL;
  memset (oldest, 0, sizeof *oldest);
  oldest->hash = h;
  oldest->used_us = now_us;
  at_strlcpy (oldest->key, key, sizeof oldest->key);
  return oldest;
}

/* Takes a token of key's bucket: 0, or the seconds to wait. */
static int
s_take (s_table_t *t, const char *key, long rate, long burst, int64_t now_us)
{
  pthread_mutex_t *lock;
  s_entry_t *e = s_entry (t, key, true, now_us, &lock);
  int wait = api_bucket_take (&e->v.bucket, rate, burst, now_us);
  pthread_mutex_unlock (lock);
  return wait;
}

static int
s_strikes_wait (const char *addr, long max, int64_t now_us)
{
  pthread_mutex_t *lock;
  s_entry_t *e = s_entry (&s_refusals, addr, false, now_us, &lock);
  int wait = e ? api_strikes_wait (&e->v.strikes, max, now_us) : 0;
  pthread_mutex_unlock (lock);
  return wait;
}

static void
s_strikes_add (const char *addr, int64_t now_us)
{
  pthread_mutex_t *lock;
  s_entry_t *e = s_entry (&s_refusals, addr, true, now_us, &lock);
  api_strikes_add (&e->v.strikes, now_us);
  pthread_mutex_unlock (lock);
}

/* --- the requests */

/* The key of the client's address: the address, or an IPv6 one's /64. */
static void
s_addr_key (const char *peer, char *out, size_t cap)
{
  struct in6_addr a;
  char text[INET6_ADDRSTRLEN];
  at_strlcpy (out, peer, cap);
  if (!strchr (peer, ':') || inet_pton (AF_INET6, peer, &a) != 1 || IN6_IS_ADDR_V4MAPPED (&a))
    return;
  memset (&a.s6_addr[8], 0, 8);
  if (inet_ntop (AF_INET6, &a, text, sizeof text))
    snprintf (out, cap, "%s/64", text);
}

static bool
s_route_is (const api_request_t *req, const char *name)
{
  return req->route && strcmp (req->route->name, name) == 0;
}

/* The probes are never limited. */
static bool
s_probe (const api_request_t *req)
{
  return s_route_is (req, "healthz") || s_route_is (req, "readyz");
}

/* Where a credential or a password is checked: the refusals' guard holds. */
static bool
s_guarded (const api_request_t *req)
{
  return req->route && (req->route->scope != API_PUBLIC || s_route_is (req, "session"));
}

/* Whether the request shows a credential to the door: an Authorization
 * header or a session cookie, on a route that is not public. */
static bool
s_presented (const api_request_t *req)
{
  char token[API_CREDENTIAL_MAX + 1];
  if (!req->route || req->route->scope == API_PUBLIC)
    return false;
  if (api_header (req, "Authorization"))
    return true;
  const char *cookie = api_header (req, "Cookie");
  bool found = cookie
               && api_credential_cookie (cookie, S_SESSION_COOKIE, token, sizeof token)
                      != AT_NOTFOUND;
  memset (token, 0, sizeof token);
  return found;
}

/* 429 with Retry-After, counted and logged (the actor at most, never a key). */
static void
s_limited (api_request_t *req, const char *limit, int wait_s, const char *detail)
{
  api_problem_t p;
  api_problem (&p, 429, NULL, "%s; retry after %d s", detail, wait_s);
  p.slug = "rate-limited";
  p.title = "Too many requests";
  api_reply_problem (req, &p);
  req->retry_after_s = wait_s < 1 ? 1 : wait_s;
  api_metrics_rate_limited (limit);
  at_info ("api", "msg=\"rate limited\" limit=%s actor=%s addr=%s route=%s retry_after_s=%d"
           " request_id=%s", limit, req->caller.actor[0] ? req->caller.actor : "-",
           req->peer[0] ? req->peer : "-", req->route ? req->route->name : "unmatched",
           req->retry_after_s, req->request_id);
}

/* A token of the address's bucket; false with the 429 answered. */
static bool
s_addr_take (api_request_t *req, const char *addr, int64_t now_us)
{
  const at_config_t *cfg = req->cfg;
  long rate = cfg->api_rate_per_addr;
  if (rate <= 0)
    return true;
  int wait = s_take (&s_addrs, addr, rate, api_limit_burst (rate, cfg->api_burst_per_addr),
                     now_us);
  if (wait == 0)
    return true;
  s_limited (req, "addr", wait, "too many requests from this address without a valid credential"
             " (ATENDE_API_RATE_PER_ADDR)");
  return false;
}

bool
api_limit_before (api_request_t *req)
{
  const at_config_t *cfg = req->cfg;
  char addr[S_KEY_MAX];
  if (s_probe (req))
    return true;
  int64_t now = at_mono_us ();
  s_addr_key (req->peer, addr, sizeof addr);
  if (cfg->api_auth_failures_per_addr > 0 && s_guarded (req)) {
    int wait = s_strikes_wait (addr, cfg->api_auth_failures_per_addr, now);
    if (wait > 0) {
      s_limited (req, "auth_failures", wait, "too many refused credentials from this address"
                 " within a minute (ATENDE_API_AUTH_FAILURES_PER_ADDR)");
      return false;
    }
  }
  return s_presented (req) || s_addr_take (req, addr, now);
}

bool
api_limit_caller (api_request_t *req)
{
  const at_config_t *cfg = req->cfg;
  long rate = cfg->api_rate_per_key;
  if (rate <= 0 || req->caller.kind == API_CALLER_NONE)
    return true;
  int wait = s_take (&s_callers, req->caller.actor, rate,
                     api_limit_burst (rate, cfg->api_burst_per_key), at_mono_us ());
  if (wait == 0)
    return true;
  s_limited (req, "key", wait, "too many requests with this credential"
             " (ATENDE_API_RATE_PER_KEY)");
  return false;
}

void
api_limit_answered (api_request_t *req)
{
  char addr[S_KEY_MAX];
  bool sign_in = s_route_is (req, "session") && req->status == 401;
  /* the door refused a presented credential (and forgot the caller) */
  bool refused = (req->status == 401 || req->status == 403)
                 && req->caller.kind == API_CALLER_NONE && s_presented (req);
  if (!sign_in && !refused)
    return;
  int64_t now = at_mono_us ();
  s_addr_key (req->peer, addr, sizeof addr);
  if (req->cfg->api_auth_failures_per_addr > 0 && req->status == 401)
    s_strikes_add (addr, now);
  if (refused)
    (void) s_addr_take (req, addr, now);
}
