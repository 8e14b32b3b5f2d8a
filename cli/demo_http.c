/* demo_http: the demo's load generator, libcurl's multi interface. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "demo_internal.h"

#define S_RESPONSE_MAX (256 * 1024)
#define S_TRIES 6

/* "Authorization: Bearer <the demo's key>" (demo_http_key), "" before. */
static char s_auth[AT_AUTH_KEY_LEN + 32];

void
demo_http_key (const char *key)
{
  snprintf (s_auth, sizeof s_auth, "Authorization: Bearer %s", key);
}

typedef struct {
  demo_req_t *req;
  struct curl_slist *headers;
  size_t len;
} s_xfer_t;

static size_t
s_on_body (char *ptr, size_t size, size_t nmemb, void *user)
{
  s_xfer_t *x = user;
  size_t n = size * nmemb;
  if (x->len + n > S_RESPONSE_MAX)
    return n;   /* keep the head, drop the rest */
  char *grown = realloc (x->req->response, x->len + n + 1);
  if (!grown)
    return 0;
  x->req->response = grown;
  memcpy (grown + x->len, ptr, n);
  x->len += n;
  grown[x->len] = '\0';
  return n;
}

static CURL *
s_easy (demo_req_t *req, s_xfer_t *x)
{
  CURL *c = curl_easy_init ();
  if (!c)
    return NULL;
  free (req->response);
  req->response = NULL;
  req->status = -1;
  x->req = req;
  x->len = 0;
  x->headers = curl_slist_append (NULL, "Content-Type: application/json");
  x->headers = curl_slist_append (x->headers, "Expect:");
  if (s_auth[0])
    x->headers = curl_slist_append (x->headers, s_auth);
  curl_easy_setopt (c, CURLOPT_URL, req->url);
  curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, req->method);
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, x->headers);
  curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, s_on_body);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, x);
  curl_easy_setopt (c, CURLOPT_PRIVATE, x);
  if (req->body) {
    curl_easy_setopt (c, CURLOPT_POSTFIELDS, req->body);
    curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE, (long) strlen (req->body));
  }
  return c;
}

/* One pass over the requests listed in todo; returns how many are left to retry
 * (their indexes written back into todo). */
static size_t
s_pass (demo_req_t *reqs, size_t *todo, size_t n, int concurrency, volatile sig_atomic_t *stop)
{
  CURLM *multi = curl_multi_init ();
  curl_multi_setopt (multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long) concurrency);
  s_xfer_t *xfers = calloc ((size_t) concurrency, sizeof *xfers);
  size_t next = 0, retry = 0;
  int running = 0, active = 0;
  while ((next < n || active > 0) && !(stop && *stop)) {
    while (active < concurrency && next < n) {
      s_xfer_t *x = NULL;
      for (int i = 0; i < concurrency && !x; i++)
        if (!xfers[i].req)
          x = &xfers[i];
      CURL *c = s_easy (&reqs[todo[next]], x);
      next++;
      if (!c)
        continue;
      curl_multi_add_handle (multi, c);
      active++;
    }
    curl_multi_perform (multi, &running);
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read (multi, &left))) {
      if (m->msg != CURLMSG_DONE)
        continue;
      s_xfer_t *x;
      curl_easy_getinfo (m->easy_handle, CURLINFO_PRIVATE, (char **) &x);
      if (m->data.result == CURLE_OK)
        curl_easy_getinfo (m->easy_handle, CURLINFO_RESPONSE_CODE, &x->req->status);
      if (x->req->status == 503 || x->req->status == 429 || x->req->status < 0)
        todo[retry++] = (size_t) (x->req - reqs);   /* retry < next: safe to reuse */
      curl_multi_remove_handle (multi, m->easy_handle);
      curl_easy_cleanup (m->easy_handle);
      curl_slist_free_all (x->headers);
      memset (x, 0, sizeof *x);
      active--;
    }
    if (active > 0)
      curl_multi_poll (multi, NULL, 0, 100, NULL);
  }
  for (int i = 0; i < concurrency; i++)
    if (xfers[i].req)
      curl_slist_free_all (xfers[i].headers);
  curl_multi_cleanup (multi);   /* easy handles left only when stopped */
  free (xfers);
  return retry;
}

size_t
demo_http_run (demo_req_t *reqs, size_t n, int concurrency, volatile sig_atomic_t *stop)
{
  if (n == 0)
    return 0;
  size_t *todo = malloc (n * sizeof *todo);
  for (size_t i = 0; i < n; i++)
    todo[i] = i;
  size_t left = n;
  for (int t = 0; t < S_TRIES && left > 0 && !(stop && *stop); t++) {
    if (t > 0) {
      struct timespec pause = { 0, 250L * 1000 * 1000 * t };
      nanosleep (&pause, NULL);
    }
    left = s_pass (reqs, todo, left, concurrency, stop);
  }
  free (todo);
  size_t ok = 0;
  for (size_t i = 0; i < n; i++)
    if (reqs[i].status >= 200 && reqs[i].status < 300)
      ok++;
  return ok;
}

void
demo_req_free (demo_req_t *reqs, size_t n)
{
  for (size_t i = 0; reqs && i < n; i++) {
    free (reqs[i].body);
    free (reqs[i].response);
  }
  free (reqs);
}

long
demo_http_one (const char *method, const char *url, const char *body, char **response)
{
  demo_req_t *r = calloc (1, sizeof *r);
  r->method = method;
  snprintf (r->url, sizeof r->url, "%s", url);
  r->body = body ? strdup (body) : NULL;
  size_t todo = 0;
  s_pass (r, &todo, 1, 1, NULL);
  long status = r->status;
  if (response) {
    *response = r->response;
    r->response = NULL;
  }
  demo_req_free (r, 1);
  return status;
}
