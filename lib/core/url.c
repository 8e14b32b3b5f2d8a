/* at_url: see at_url.h. */
#include "at_url.h"

#include <string.h>
#include <curl/curl.h>

bool
at_url_is_web (const char *url)
{
  if (!url || !*url)
    return false;
  CURLU *u = curl_url ();
  if (!u)
    return false;
  char *scheme = NULL, *host = NULL;
  /* flags 0: no CURLU_DEFAULT_SCHEME nor CURLU_GUESS_SCHEME, no spaces */
  bool ok = curl_url_set (u, CURLUPART_URL, url, 0) == CURLUE_OK
            && curl_url_get (u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK
            && curl_url_get (u, CURLUPART_HOST, &host, 0) == CURLUE_OK
            && (strcmp (scheme, "http") == 0 || strcmp (scheme, "https") == 0) && host[0];
  curl_free (host);
  curl_free (scheme);
  curl_url_cleanup (u);
  return ok;
}
