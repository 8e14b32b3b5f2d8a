/* Fuzz: the path of a file of the inbox page as the api reads it after
 * GET /app/ (api/api_web.c, api_web_path_ok and api_web_type): whatever the
 * bytes, a path that is served resolves inside the directory (no segment
 * empty, "." or "..", none starting with a dot, no byte outside
 * [A-Za-z0-9._/-]), and nothing reads past the end. */
#include <stdlib.h>
#include <string.h>
#include "api_inbox.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *rel = malloc (size + 1);
  memcpy (rel, data, size);
  rel[size] = '\0';                 /* MHD hands the api a C string */
  if (api_web_path_ok (rel)) {
    size_t n = strlen (rel);
    if (n == 0 || n > API_WEB_PATH_MAX || rel[0] == '.' || rel[0] == '/' || rel[n - 1] == '/'
        || strstr (rel, "//") || strstr (rel, "/.")
        || strspn (rel, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-")
               != n)
      abort ();
  }
  (void) api_web_type (rel);
  free (rel);
  return 0;
}
