/* How well the knowledge base's search answers: the seed articles of the
 * demo (deploy/kb/seed.json) in a fresh database, and the questions of
 * tests/fixtures/kb/questions.txt (each with the article that answers it, or
 * none), searched the way route searches (at_store_kb_best). Prints per
 * locale: questions an article answers, how often the best article is the
 * right one, how many are answered at ATENDE_KB_MIN_SCORE's default (50),
 * and how many questions no article answers still get one; then the same at
 * other thresholds. Run: ctest -R kb_search_eval -V (or the binary with
 * ATENDE_TEST_PG). Asserts only that the best article is the right one for
 * at least 9 in 10 answerable questions: the rest are figures. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it.h"
#include "at_common.h"
#include "at_store_kb.h"

#define S_QUESTIONS_MAX 200
#define S_LOCALES 3

typedef struct {
  char locale[8];
  char expected[160];        /* "" : no article answers it */
  char question[400];
  double score;
  bool right;                /* the best article is the expected one */
} s_question_t;

static const char *const s_locales[S_LOCALES] = { "pt-BR", "en", "es" };

/* A file beside the sources. */
static void
s_path (const char *rel, char *out, size_t cap)
{
  const char *here = __FILE__, *cut = strstr (here, "tests/integration/");
  IT_CHECK (cut != NULL, "source path %s", here);
  snprintf (out, cap, "%.*s%s", (int) (cut - here), here, rel);
}

/* The seed's articles, created through the store as the api creates them. */
static void
s_seed (at_store_t *store)
{
  char path[1024];
  s_path ("deploy/kb/seed.json", path, sizeof path);
  json_error_t err;
  json_t *doc = json_load_file (path, 0, &err), *a;
  IT_CHECK (doc != NULL, "%s: %s", path, err.text);
  size_t i;
  json_array_foreach (json_object_get (doc, "articles"), i, a) {
    const char *tags[32];
    size_t n = 0, k;
    json_t *tag;
    json_array_foreach (json_object_get (a, "tags"), k, tag)
      if (n < AT_ARRAY_LEN (tags))
        tags[n++] = json_string_value (tag);
    const char *status = json_string_value (json_object_get (a, "status"));
    at_kb_article_t art = {.locale = json_string_value (json_object_get (a, "locale")),
                           .title = json_string_value (json_object_get (a, "title")),
                           .body = json_string_value (json_object_get (a, "body")),
                           .status = status ? status : "published", .tags = tags,
                           .n_tags = n};
    int64_t id = 0;
    IT_CHECK (at_store_kb_article_create (store, &art, "eval", &id) == AT_OK, "article %zu", i);
  }
  json_decref (doc);
}

/* Reads "locale|expected|question" lines ('#' comments). */
static size_t
s_load (s_question_t *qs, size_t cap)
{
  char path[1024], line[1024];
  s_path ("tests/fixtures/kb/questions.txt", path, sizeof path);
  FILE *f = fopen (path, "r");
  IT_CHECK (f != NULL, "%s", path);
  size_t n = 0;
  while (n < cap && fgets (line, sizeof line, f)) {
    line[strcspn (line, "\n")] = '\0';
    char *a = strchr (line, '|'), *b = a ? strchr (a + 1, '|') : NULL;
    if (line[0] == '#' || !b)
      continue;
    *a = *b = '\0';
    at_strlcpy (qs[n].locale, line, sizeof qs[n].locale);
    at_strlcpy (qs[n].expected, strcmp (a + 1, "-") == 0 ? "" : a + 1, sizeof qs[n].expected);
    at_strlcpy (qs[n].question, b + 1, sizeof qs[n].question);
    n++;
  }
  fclose (f);
  return n;
}

static void
s_search (at_store_t *store, s_question_t *qs, size_t n)
{
  at_kb_hit_t *hit = at_calloc (1, sizeof *hit);
  for (size_t i = 0; i < n; i++) {
    memset (hit, 0, sizeof *hit);
    int rc = at_store_kb_best (store, qs[i].locale, qs[i].question, hit);
    IT_CHECK (rc == AT_OK || rc == AT_NOTFOUND, "search %s", qs[i].question);
    qs[i].score = rc == AT_OK ? hit->score : 0;
    qs[i].right = rc == AT_OK && qs[i].expected[0] && strcmp (hit->title, qs[i].expected) == 0;
    printf ("  %-5s %.3f %-5s %s -> %s\n", qs[i].locale, qs[i].score,
            qs[i].expected[0] ? (qs[i].right ? "right" : "WRONG") : "none",
            qs[i].question, rc == AT_OK ? hit->title : "(nothing)");
  }
  free (hit);
}

/* One line of figures for locale (NULL: all) at threshold. */
static void
s_figures (const s_question_t *qs, size_t n, const char *locale, double threshold,
           long *answerable_out, long *right_out)
{
  long answerable = 0, right = 0, answered = 0, none = 0, none_answered = 0;
  for (size_t i = 0; i < n; i++) {
    if (locale && strcmp (qs[i].locale, locale) != 0)
      continue;
    bool over = qs[i].score >= threshold;
    if (qs[i].expected[0]) {
      answerable++;
      right += qs[i].right;
      answered += qs[i].right && over;
    }
    else {
      none++;
      none_answered += over;
    }
  }
  printf ("%-6s at %.2f: best article right %ld/%ld, answered rightly %ld/%ld,"
          " answered without an article %ld/%ld\n", locale ? locale : "all", threshold, right,
          answerable, answered, answerable, none_answered, none);
  *answerable_out = answerable;
  *right_out = right;
}

int
main (void)
{
  it_require_pg ();
  const char *conninfo = it_db_create ("kb_search_eval", true);
  at_store_t *store = at_store_new (conninfo, "test");
  IT_CHECK (store != NULL, "store");
  s_seed (store);
  static s_question_t qs[S_QUESTIONS_MAX];
  size_t n = s_load (qs, S_QUESTIONS_MAX);
  IT_CHECK (n > 0, "no questions");
  s_search (store, qs, n);
  long answerable = 0, right = 0;
  for (int l = 0; l < S_LOCALES; l++)
    s_figures (qs, n, s_locales[l], 0.5, &answerable, &right);
  static const double thresholds[] = { 0.35, 0.4, 0.45, 0.5, 0.55, 0.6 };
  for (size_t t = 0; t < AT_ARRAY_LEN (thresholds); t++)
    s_figures (qs, n, NULL, thresholds[t], &answerable, &right);
  IT_CHECK (right * 10 >= answerable * 9, "best article right for %ld of %ld", right, answerable);
  at_store_destroy (&store);
  printf ("kb search eval: ok\n");
  return 0;
}
