/* The inbox page's files (api/api_web.c, api_inbox.c): which paths below
 * web/ are served (a table of the tricks, then 300,000 random paths built
 * from dots, slashes, encodings and names: every one accepted stays inside
 * the directory by a lexical resolution of its own, holds no byte outside
 * [A-Za-z0-9._/-] and no hidden segment), the Content-Type by extension,
 * the router's final "*", and the inbox list's query arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "api_inbox.h"
#include "api_router.h"

static void
test_path_table (void **state)
{
  (void) state;
  static const char *const ok[] = { "app.js", "app.css", "i18n.js", "img/logo.svg",
                                    "a/b/c.txt", "x..y.js", "a-b_c.1.json" };
  static const char *const refused[] = {
    "", "..", ".", "../x.js", "a/../../x.js", "a/./b.js", "/etc/passwd", "a//b.js", "a/",
    ".hidden", "a/.git/config", "%2e%2e/x.js", "..%2fx.js", "a\\..\\x.js", "a b.js",
    "a%00.js", "a?b.js", "a#b.js", "\xc3\xa9.js", "a/..", "...", ".../x.js", "~/x.js",
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    assert_true (api_web_path_ok (ok[i]));
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
    if (api_web_path_ok (refused[i]))
      fail_msg ("served: \"%s\"", refused[i]);
  char longest[API_WEB_PATH_MAX + 2];
  memset (longest, 'a', sizeof longest);
  longest[API_WEB_PATH_MAX] = '\0';
  assert_true (api_web_path_ok (longest));
  longest[API_WEB_PATH_MAX] = 'a';
  longest[API_WEB_PATH_MAX + 1] = '\0';
  assert_false (api_web_path_ok (longest));
  assert_false (api_web_path_ok (NULL));
}

/* "/srv/web/" + rel resolved lexically ("." and ".." segments, empty
 * segments, a leading '/' restarting at the root): inside /srv/web/? */
static bool
s_inside (const char *rel)
{
  char stack[64][160];
  int depth = 2;                    /* /srv/web */
  if (rel[0] == '/')
    depth = 0;
  for (const char *p = rel; *p;) {
    size_t n = strcspn (p, "/");
    if (n == 2 && p[0] == '.' && p[1] == '.')
      depth = depth > 0 ? depth - 1 : 0;
    else if (n > 0 && !(n == 1 && p[0] == '.') && depth < 64)
      snprintf (stack[depth++], sizeof stack[0], "%.*s", (int) n, p);
    p += n + (p[n] == '/');
  }
  return depth > 2 || (depth == 2 && rel[0] != '/');
}

static void
test_path_random (void **state)
{
  (void) state;
  static const char *const pieces[] = { "..", ".", "/", "//", "%2e", "%2f", "\\", "a", "app.js",
                                        "x", "-", "_", "%", " ", "\xc3\xa9", ".git", "~", ":",
                                        "?", "#", "js", "\t" };
  size_t n = sizeof pieces / sizeof pieces[0], accepted = 0;
  srand (16);
  for (int i = 0; i < 300000; i++) {
    char rel[256] = "";
    int parts = 1 + rand () % 10;
    for (int k = 0; k < parts; k++)
      strncat (rel, pieces[(size_t) rand () % n], sizeof rel - strlen (rel) - 1);
    if (!api_web_path_ok (rel))
      continue;
    accepted++;
    if (!s_inside (rel) || strspn (rel, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789._/-") != strlen (rel)
        || rel[0] == '.' || strstr (rel, "/.") || strstr (rel, "//"))
      fail_msg ("served a path outside web/ or an odd one: \"%s\"", rel);
  }
  assert_true (accepted > 1000);   /* the generator does reach the accepted side */
}

static void
test_types (void **state)
{
  (void) state;
  assert_string_equal (api_web_type ("index.html"), "text/html; charset=utf-8");
  assert_string_equal (api_web_type ("app.js"), "text/javascript; charset=utf-8");
  assert_string_equal (api_web_type ("app.css"), "text/css; charset=utf-8");
  assert_string_equal (api_web_type ("favicon.svg"), "image/svg+xml");
  assert_null (api_web_type ("app.exe"));
  assert_null (api_web_type (".js"));
  assert_null (api_web_type ("js"));
  assert_null (api_web_type ("app.js.bak"));
}

/* The router: /app/ with a final star takes the rest of the path; "/" only "/". */
static void
test_router_rest (void **state)
{
  (void) state;
  api_request_t req;
  memset (&req, 0, sizeof req);
  req.method = "GET";
  req.path = "/app/img/logo.svg";
  api_route_match (&req);
  assert_non_null (req.route);
  assert_string_equal (req.route->name, "web");
  assert_string_equal (req.param, "img/logo.svg");
  req.path = "/app/";
  api_route_match (&req);
  assert_null (req.route);
  req.path = "/";
  api_route_match (&req);
  assert_non_null (req.route);
  assert_string_equal (req.route->pattern, "/");
  req.path = "/v1/tickets";
  api_route_match (&req);
  assert_string_equal (req.route->name, "tickets");
}

typedef struct {
  const char *names[8], *values[8];
} s_args_t;

static const char *
s_arg (const void *ctx, const char *name)
{
  const s_args_t *a = ctx;
  for (int i = 0; i < 8 && a->names[i]; i++)
    if (strcmp (a->names[i], name) == 0)
      return a->values[i];
  return NULL;
}

static void
test_filter (void **state)
{
  (void) state;
  api_problem_t p;
  at_inbox_filter_t f;
  s_args_t none = { { NULL }, { NULL } };
  assert_int_equal (api_inbox_filter_parse (s_arg, &none, 7, &f, &p), AT_OK);
  assert_int_equal (f.view, AT_INBOX_MINE);
  assert_int_equal (f.limit, AT_INBOX_LIST_DEFAULT);
  assert_int_equal (api_inbox_filter_parse (s_arg, &none, 0, &f, &p), AT_INVALID);
  assert_int_equal (p.status, 422);
  s_args_t all = { { "view", "channel", "intent", "priority", "status", "within", "limit" },
                   { "breaching", "whatsapp", "order_status", "high", "open", "30", "10" } };
  assert_int_equal (api_inbox_filter_parse (s_arg, &all, 0, &f, &p), AT_OK);
  assert_int_equal (f.view, AT_INBOX_BREACHING);
  assert_string_equal (f.channel, "whatsapp");
  assert_int_equal (f.within_min, 30);
  assert_int_equal (f.limit, 10);
  static const char *const bad[][2] = { { "view", "all" }, { "status", "closed" },
                                        { "channel", "a'b" }, { "limit", "0" },
                                        { "limit", "201" }, { "within", "x" },
                                        { "intent", "ABC" } };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    s_args_t one = { { bad[i][0] }, { bad[i][1] } };
    assert_int_equal (api_inbox_filter_parse (s_arg, &one, 7, &f, &p), AT_INVALID);
    assert_int_equal (p.status, 400);
    assert_string_equal (p.field, bad[i][0]);
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_path_table), cmocka_unit_test (test_path_random),
    cmocka_unit_test (test_types), cmocka_unit_test (test_router_rest),
    cmocka_unit_test (test_filter),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
