/* at_net: address ranges (CIDR) and the client behind trusted proxies.
 *
 * Behind an ingress or a load balancer every request's socket comes from the
 * proxy; the client is in X-Forwarded-For, which anyone can also write. So
 * the header is believed only when the socket's peer is a trusted proxy
 * (ATENDE_API_TRUSTED_PROXIES), and then read from the right: each hop a
 * trusted proxy appended is skipped, and the first address that is not a
 * trusted proxy is the client (what the client wrote on the left of it is
 * never believed). Pure functions; the header parser is fuzzed
 * (tests/fuzz/fuzz_forwarded.c). */
#ifndef AT_NET_H
#define AT_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AT_NET_ADDR_LEN 48   /* an IPv4 or IPv6 address as text, with its NUL */

typedef struct {
  int family;            /* AF_INET or AF_INET6 */
  uint8_t addr[16];      /* network order; IPv4 in the first 4 bytes */
  int bits;              /* prefix length */
} at_cidr_t;

/* "10.0.0.0/8", "fd00::/8", or one address ("10.1.2.3" is /32). AT_OK, or
 * AT_INVALID (not an address, a prefix out of range, host bits set). */
int at_cidr_parse (const char *text, at_cidr_t *out);
/* Whether the address (text; an IPv4-mapped IPv6 address counts as its
 * IPv4) is inside one of the n ranges. False for text that is no address. */
bool at_cidr_match (const at_cidr_t *ranges, size_t n, const char *addr);
/* The client of a request whose socket came from `peer`: peer itself unless
 * it is a trusted proxy and `forwarded` (X-Forwarded-For, may be NULL) names
 * someone else, as above. out gets a normalised address (inet_ntop); when
 * the header is malformed at the hop that would be taken, the last trusted
 * hop stands. */
void at_net_client (const char *peer, const char *forwarded, const at_cidr_t *trusted,
                    size_t n, char *out, size_t cap);

#endif
