/* Address ranges and the client behind trusted proxies (lib/core/at_net.h). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "at_net.h"
#include "at_common.h"

static const uint8_t s_v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* An address into family and bytes; an IPv4-mapped IPv6 address as IPv4. */
static bool
s_addr (const char *text, int *family, uint8_t bytes[16])
{
  memset (bytes, 0, 16);
  if (inet_pton (AF_INET, text, bytes) == 1) {
    *family = AF_INET;
    return true;
  }
  if (inet_pton (AF_INET6, text, bytes) != 1)
    return false;
  *family = AF_INET6;
  if (memcmp (bytes, s_v4_mapped, sizeof s_v4_mapped) == 0) {
    memmove (bytes, bytes + 12, 4);
    memset (bytes + 4, 0, 12);
    *family = AF_INET;
  }
  return true;
}

static bool
s_prefix_equal (const uint8_t *a, const uint8_t *b, int bits)
{
  int whole = bits / 8, rest = bits % 8;
  if (memcmp (a, b, (size_t) whole) != 0)
    return false;
  if (rest == 0)
    return true;
  uint8_t mask = (uint8_t) (0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

int
at_cidr_parse (const char *text, at_cidr_t *out)
{
  char addr[AT_NET_ADDR_LEN];
  const char *slash = text ? strchr (text, '/') : NULL;
  size_t len = text ? (slash ? (size_t) (slash - text) : strlen (text)) : 0;
  if (len == 0 || len >= sizeof addr)
    return AT_INVALID;
  memcpy (addr, text, len);
  addr[len] = '\0';
  memset (out, 0, sizeof *out);
  if (!s_addr (addr, &out->family, out->addr) || (strchr (addr, ':') && out->family == AF_INET))
    return AT_INVALID;   /* a mapped address as a range would be ambiguous: write it as IPv4 */
  int max = out->family == AF_INET ? 32 : 128;
  out->bits = max;
  if (slash) {
    char *end = NULL;
    long bits = strtol (slash + 1, &end, 10);
    if (end == slash + 1 || *end != '\0' || bits < 0 || bits > max)
      return AT_INVALID;
    out->bits = (int) bits;
  }
  uint8_t host[16];
  memcpy (host, out->addr, sizeof host);
  for (int b = out->bits; b < 128; b++)
    host[b / 8] &= (uint8_t) ~(0x80 >> (b % 8));
  return memcmp (host, out->addr, sizeof host) == 0 ? AT_OK : AT_INVALID;   /* host bits set */
}

bool
at_cidr_match (const at_cidr_t *ranges, size_t n, const char *addr)
{
  int family;
  uint8_t bytes[16];
  if (addr == NULL || !s_addr (addr, &family, bytes))
    return false;
  for (size_t i = 0; i < n; i++)
    if (ranges[i].family == family && s_prefix_equal (ranges[i].addr, bytes, ranges[i].bits))
      return true;
  return false;
}

/* The address as inet_ntop writes it (IPv4-mapped as IPv4); false if none. */
static bool
s_normalise (const char *text, char *out, size_t cap)
{
  int family;
  uint8_t bytes[16];
  if (!s_addr (text, &family, bytes))
    return false;
  return inet_ntop (family, bytes, out, (socklen_t) cap) != NULL;
}

/* The hop of the header that ends before `end`, trimmed, into hop; the
 * start of that hop's item in *start. False when the hop is too long. */
static bool
s_hop_before (const char *header, const char *end, const char **start, char *hop, size_t cap)
{
  const char *b = end;
  while (b > header && b[-1] != ',')
    b--;
  *start = b;
  while (b < end && (*b == ' ' || *b == '\t'))
    b++;
  const char *e = end;
  while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
    e--;
  size_t len = (size_t) (e - b);
  if (len == 0 || len >= cap)
    return false;
  memcpy (hop, b, len);
  hop[len] = '\0';
  return true;
}

void
at_net_client (const char *peer, const char *forwarded, const at_cidr_t *trusted, size_t n,
               char *out, size_t cap)
{
  if (cap == 0)
    return;
  out[0] = '\0';
  if (peer == NULL || !s_normalise (peer, out, cap))
    return;
  if (forwarded == NULL || n == 0 || !at_cidr_match (trusted, n, peer))
    return;
  const char *end = forwarded + strlen (forwarded);
  while (end > forwarded) {
    char hop[AT_NET_ADDR_LEN], norm[AT_NET_ADDR_LEN];
    const char *start;
    if (!s_hop_before (forwarded, end, &start, hop, sizeof hop)
        || !s_normalise (hop, norm, sizeof norm))
      return;   /* malformed where we would look: the last trusted hop stands */
    at_strlcpy (out, norm, cap);
    if (!at_cidr_match (trusted, n, norm))
      return;   /* the first hop no trusted proxy vouches for: the client */
    end = start > forwarded ? start - 1 : forwarded;
  }
}
