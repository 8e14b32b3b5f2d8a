/* Fuzz: X-Forwarded-For as the api reads it behind trusted proxies
 * (lib/core/at_net.h, at_net_client): whatever the header, the client is
 * an address in normalised text (it parses back, and is the socket's peer
 * or one of the header's hops), never longer than the buffer; and the
 * input as a range (at_cidr_parse) never reads past its end. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "at_net.h"
#include "at_common.h"

static void
s_client (const char *header, const at_cidr_t *trusted, size_t n, size_t cap)
{
  char *out = malloc (cap);
  at_net_client ("10.0.0.9", header, trusted, n, out, cap);
  size_t len = strnlen (out, cap);
  if (len == cap)
    abort ();                              /* not terminated */
  if (cap >= AT_NET_ADDR_LEN) {
    unsigned char bytes[16];
    if (inet_pton (AF_INET, out, bytes) != 1 && inet_pton (AF_INET6, out, bytes) != 1)
      abort ();                            /* not an address */
    if (strcmp (out, "10.0.0.9") != 0 && n > 0 && !strstr (header, out)
        && !strchr (header, ':'))
      abort ();                            /* an IPv4 client the header did not name (an
                                              IPv4-mapped hop is named in IPv6 form) */
  }
  free (out);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text = malloc (size + 1);
  memcpy (text, data, size);
  text[size] = '\0';                       /* a header is a C string to the api (MHD's) */
  at_cidr_t trusted[2], parsed;
  if (at_cidr_parse ("10.0.0.0/8", &trusted[0]) != AT_OK
      || at_cidr_parse ("2001:db8::/32", &trusted[1]) != AT_OK)
    abort ();
  s_client (text, trusted, 2, AT_NET_ADDR_LEN);
  s_client (text, trusted, 0, AT_NET_ADDR_LEN);
  s_client (text, trusted, 2, 4);
  (void) at_cidr_parse (text, &parsed);
  free (text);
  return 0;
}
