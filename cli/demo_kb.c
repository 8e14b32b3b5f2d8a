/* demo_kb: the demo's knowledge base. At setup, the seed's articles and saved replies
 * (deploy/kb/seed.json) go in through the api like any other call; after
 * the first messages, the customers who answer the knowledge base's
 * "Isso resolveu?" say "sim" or "não". */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "demo_internal.h"

#define S_KB_CONCURRENCY 8

/* Whether an article of this locale and title is in the list already (a
 * second demo on the same database loads nothing twice). */
static bool
s_known (const json_t *items, const json_t *article)
{
  const char *locale = json_string_value (json_object_get (article, "locale"));
  const char *title = json_string_value (json_object_get (article, "title"));
  size_t i;
  const json_t *item;
  json_array_foreach (items, i, item) {
    const char *l = json_string_value (json_object_get (item, "locale"));
    const char *t = json_string_value (json_object_get (item, "title"));
    if (locale && title && l && t && strcmp (l, locale) == 0 && strcmp (t, title) == 0)
      return true;
  }
  return false;
}

/* What the api has now at list_path (its items), or an empty array. */
static json_t *
s_existing (const char *api_base, const char *list_path)
{
  char url[DEMO_URL_MAX], *body = NULL;
  snprintf (url, sizeof url, "%s%s", api_base, list_path);
  long status = demo_http_one ("GET", url, NULL, &body);
  json_t *doc = status == 200 && body ? json_loads (body, 0, NULL) : NULL;
  free (body);
  json_t *items = json_incref (json_object_get (doc, "items"));
  json_decref (doc);
  return json_is_array (items) ? items : (json_decref (items), json_array ());
}

/* POSTs to path each entry of list the api does not have yet (by locale
 * and title, as list_path lists them); *fresh_out: how many were sent. */
static size_t
s_post_new (const char *api_base, const json_t *list, const char *path, const char *list_path,
            size_t *fresh_out, volatile sig_atomic_t *stop)
{
  json_t *existing = s_existing (api_base, list_path);
  size_t n = 0, total = json_array_size (list), i;
  demo_req_t *reqs = at_calloc (total ? total : 1, sizeof *reqs);
  json_t *entry;
  json_array_foreach (list, i, entry) {
    if (!json_is_object (entry) || s_known (existing, entry))
      continue;
    reqs[n].method = "POST";
    snprintf (reqs[n].url, DEMO_URL_MAX, "%s%s", api_base, path);
    reqs[n].body = json_dumps (entry, JSON_COMPACT);
    n++;
  }
  size_t ok = demo_http_run (reqs, n, S_KB_CONCURRENCY, stop);
  if (ok < n)
    fprintf (stderr, "demo: %zu of %zu entries of %s refused (last status %ld)\n", n - ok, n,
             path, reqs[n - 1].status);
  demo_req_free (reqs, n);
  json_decref (existing);
  *fresh_out = n;
  return ok;
}

long
demo_kb_seed (const char *api_base, const char *path, char *note, size_t cap,
              volatile sig_atomic_t *stop)
{
  json_error_t err;
  json_t *seed = json_load_file (path, 0, &err);
  json_t *articles = json_object_get (seed, "articles");
  json_t *replies = json_object_get (seed, "saved_replies");
  if (!json_is_array (articles)) {
    snprintf (note, cap, "knowledge base seed %s not loaded (%s); questions go to people",
              path, seed ? "no \"articles\" array" : err.text);
    json_decref (seed);
    return AT_NOTFOUND;
  }
  size_t fresh = 0, fresh_replies = 0, total = json_array_size (articles);
  size_t ok = s_post_new (api_base, articles, "/v1/kb/articles", "/v1/kb/articles?limit=500",
                          &fresh, stop);
  size_t ok_replies = s_post_new (api_base, replies, "/v1/saved-replies",
                                  "/v1/saved-replies?limit=200", &fresh_replies, stop);
  snprintf (note, cap, "knowledge base: %zu of %zu articles and %zu of %zu saved replies loaded"
            " from %s%s", ok, total, ok_replies, json_array_size (replies), path,
            total - fresh ? " (the others were there already)" : "");
  json_decref (seed);
  return (long) ok;
}

size_t
demo_kb_followups (at_store_t *store, int64_t after, const demo_customer_t *people, size_t n,
                   const char *run, const char *api_base, volatile sig_atomic_t *stop)
{
  int64_t *ids = at_calloc (n ? n : 1, sizeof *ids);
  char (*provider_ids)[DEMO_PROVIDER_ID_MAX] = at_calloc (n ? n : 1, sizeof *provider_ids);
  demo_req_t *reqs = at_calloc (n ? n : 1, sizeof *reqs);
  size_t waiting = demo_probe_kb_awaiting (store, after, ids, provider_ids, n), m = 0;
  for (size_t i = 0; i < waiting; i++) {
    long who = demo_scenario_index (provider_ids[i], run);
    if (who < 0 || (size_t) who >= n || !people[who].followup[0])
      continue;
    reqs[m].method = "POST";
    snprintf (reqs[m].url, DEMO_URL_MAX, "%s/v1/messages", api_base);
    reqs[m].body = demo_scenario_followup (&people[who], (size_t) who, run);
    m++;
  }
  size_t ok = demo_http_run (reqs, m, 64, stop);
  if (ok < m)
    fprintf (stderr, "demo: %zu of %zu answers to the knowledge base refused\n", m - ok, m);
  demo_req_free (reqs, m);
  free (provider_ids);
  free (ids);
  return ok;
}
