/* api_web: the inbox page's static files, from ATENDE_WEB_DIR: GET / is
 * index.html, GET /app/{path} the rest (scripts, styles, the catalogue of
 * interface text, the leads' dashboard), and /app/vendor/chart.min.js is
 * Chart.js from ATENDE_CHARTJS (Debian's libjs-chart.js). Public like /healthz: the files hold no data, and every
 * call the page makes for data needs the session. A path is served only
 * when api_web_path_ok says so (never outside the directory, never a hidden
 * file), only with a known extension, only a regular file of at most
 * S_FILE_MAX bytes of text; the answer carries an ETag (api_reply_tagged:
 * If-None-Match, 304) and, like every answer (api_server.c), the
 * Content-Security-Policy and X-Content-Type-Options: nosniff. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "api_inbox.h"
#include "at_log.h"

#define S_FILE_MAX (2 * 1024 * 1024)

static const struct {
  const char *ext;
  const char *type;
} s_types[] = {
  { ".html", "text/html; charset=utf-8" },
  { ".js", "text/javascript; charset=utf-8" },
  { ".css", "text/css; charset=utf-8" },
  { ".json", "application/json" },
  { ".svg", "image/svg+xml" },
  { ".txt", "text/plain; charset=utf-8" },
};

static bool
s_name_char (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
         || c == '.' || c == '_' || c == '-';
}

bool
api_web_path_ok (const char *rel)
{
  size_t n = rel ? strlen (rel) : 0;
  if (n == 0 || n > API_WEB_PATH_MAX)
    return false;
  bool segment_start = true;
  for (size_t i = 0; i < n; i++) {
    char c = rel[i];
    if (c == '/') {
      if (segment_start)
        return false;               /* a leading '/', or "//" */
      segment_start = true;
      continue;
    }
    if (!s_name_char (c) || (segment_start && c == '.'))
      return false;                 /* "..", ".hidden", '%', '\\', ' ' ... */
    segment_start = false;
  }
  return !segment_start;            /* no trailing '/' */
}

const char *
api_web_type (const char *rel)
{
  size_t n = rel ? strlen (rel) : 0;
  for (size_t i = 0; i < AT_ARRAY_LEN (s_types); i++) {
    size_t e = strlen (s_types[i].ext);
    if (n > e && strcmp (rel + n - e, s_types[i].ext) == 0)
      return s_types[i].type;
  }
  return NULL;
}

/* The file's bytes (NUL-terminated), or NULL: absent, not a regular file,
 * too large, unreadable, or holding a NUL (we serve text). */
static char *
s_read (const char *path, size_t *len_out)
{
  struct stat st;
  char *text = NULL;
  int fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || st.st_size > S_FILE_MAX)
    goto out;
  size_t len = (size_t) st.st_size, got = 0;
  text = at_malloc (len + 1);
  while (got < len) {
    ssize_t r = read (fd, text + got, len - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += (size_t) r;
  }
  text[got] = '\0';
  if (got != len || memchr (text, '\0', len)) {
    free (text);
    text = NULL;
  }
  *len_out = len;
out:
  close (fd);
  return text;
}

void
api_web_get (api_request_t *req)
{
  char path[1024];
  size_t len = 0;
  const char *rel = strcmp (req->path, "/") == 0 ? "index.html" : req->param;
  const char *type = api_web_type (rel);
  if (!api_web_path_ok (rel) || !type) {
    api_reply_not_found (req, "no such file");
    return;
  }
  int n = strcmp (rel, "vendor/chart.min.js") == 0                /* Debian's libjs-chart.js */
              ? snprintf (path, sizeof path, "%s", req->cfg->chartjs_path)
              : snprintf (path, sizeof path, "%s/%s", req->cfg->web_dir, rel);
  char *text = (n > 0 && (size_t) n < sizeof path) ? s_read (path, &len) : NULL;
  if (!text) {
    api_reply_not_found (req, "no such file");
    return;
  }
  api_reply_tagged (req, type, text, "no-cache");
}
