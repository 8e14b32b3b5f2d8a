/* at_url: URLs taken from outside (an order's tracking_url, links put in
 * messages) checked with libcurl's URL parser (curl_url), the one that
 * would fetch them, never by comparing a prefix. */
#ifndef AT_URL_H
#define AT_URL_H

#include <stdbool.h>

/* True when url is an absolute http or https URL with a host, as libcurl
 * parses it: the scheme is never guessed ("example.com/x" is not one), and
 * spaces, control characters or a bad port or host refuse it. */
bool at_url_is_web (const char *url);

#endif
