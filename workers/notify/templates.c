/* notify: templates from the store, cached per thread with a short TTL so
 * that a template changed through the api reaches every worker within
 * template_cache_ms, without a query per message. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "templates.h"
#include "at_store_order.h"
#include "at_log.h"

#define S_ROWS_MAX 256   /* events x locales, with room to grow */

typedef struct {
  at_template_row_t *rows;
  size_t n;
  int64_t loaded_ms;
  bool loaded;
} s_cache_t;

static pthread_key_t s_key;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static void
s_cache_free (void *p)
{
  s_cache_t *cache = p;
  if (cache)
    free (cache->rows);
  free (cache);
}

static void
s_key_init (void)
{
  if (pthread_key_create (&s_key, s_cache_free) != 0)
    abort ();   /* out of keys at start: nothing sensible to do */
}

static s_cache_t *
s_cache (void)
{
  pthread_once (&s_once, s_key_init);
  s_cache_t *cache = pthread_getspecific (s_key);
  if (!cache) {
    cache = at_calloc (1, sizeof *cache);
    pthread_setspecific (s_key, cache);
  }
  return cache;
}

void
wrk_notify_templates_forget (void)
{
  s_cache_t *cache = s_cache ();
  free (cache->rows);
  memset (cache, 0, sizeof *cache);
}

static int
s_refresh (at_store_t *store, const at_config_t *cfg, s_cache_t *cache)
{
  int64_t now = at_mono_ms ();
  if (cache->loaded && now - cache->loaded_ms < cfg->template_cache_ms)
    return AT_OK;
  at_template_row_t *rows = NULL;
  size_t n = 0;
  int rc = at_store_template_list (store, S_ROWS_MAX, &rows, &n);
  if (rc != AT_OK)
    return rc;
  free (cache->rows);
  cache->rows = rows;
  cache->n = n;
  cache->loaded = true;
  cache->loaded_ms = now;
  return AT_OK;
}

static const at_template_row_t *
s_find (const s_cache_t *cache, const char *event, const char *locale)
{
  for (size_t i = 0; i < cache->n; i++)
    if (strcmp (cache->rows[i].event, event) == 0 && strcmp (cache->rows[i].locale, locale) == 0)
      return &cache->rows[i];
  return NULL;
}

int
wrk_notify_render (at_store_t *store, const at_config_t *cfg, const char *event,
                   const char *locale, const at_template_vars_t *vars, char *out, size_t cap,
                   const char **locale_used)
{
  s_cache_t *cache = s_cache ();
  int rc = s_refresh (store, cfg, cache);
  if (rc != AT_OK)
    return rc;
  const char *fallback = at_locale_pick (cfg->default_locale, NULL);
  const at_template_row_t *t = s_find (cache, event, locale);
  if (!t && (t = s_find (cache, event, fallback)) != NULL)
    at_debug ("notify", "msg=\"template missing, default locale used\" event=%s locale=%s"
              " fallback=%s", event, locale, fallback);
  if (!t)
    return AT_NOTFOUND;
  if (locale_used)
    *locale_used = t == s_find (cache, event, locale) ? locale : fallback;
  /* dates are written the way of the language the text is in */
  return at_template_render (t->body, t->locale, vars, out, cap);
}

int
wrk_notify_date (const char *iso_date, const char *locale, char *out, size_t cap)
{
  return at_template_date (iso_date, locale, out, cap);
}
