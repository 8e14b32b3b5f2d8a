/* Fuzz: API keys as presented in a header (at_auth_key_parse), and the same
 * bytes as a scope list (at_auth_scopes_parse) and a session token. A key
 * that parses is exactly AT_AUTH_KEY_LEN bytes, its parts are what the input
 * holds at their places, in their alphabets, and put back together they give
 * the input; one that does not leaves nothing behind. A scope list that
 * parses formats back into one that parses to the same mask. */
#include <stdlib.h>
#include <string.h>
#include "at_auth.h"

static void
s_key (const uint8_t *data, size_t size)
{
  at_auth_key_parts_t parts;
  uint8_t hash[AT_AUTH_HASH_LEN];
  if (at_auth_key_parse ((const char *) data, size, &parts) != AT_OK) {
    if (parts.id[0] || parts.secret[0])
      abort ();
    return;
  }
  if (size != AT_AUTH_KEY_LEN || !at_auth_key_id_valid (parts.id)
      || strlen (parts.secret) != AT_AUTH_KEY_SECRET_LEN)
    abort ();
  char again[AT_AUTH_KEY_LEN + 1];
  memcpy (again, "atd_", 4);
  memcpy (again + 4, parts.id, AT_AUTH_KEY_ID_LEN);
  again[4 + AT_AUTH_KEY_ID_LEN] = '_';
  memcpy (again + 5 + AT_AUTH_KEY_ID_LEN, parts.secret, AT_AUTH_KEY_SECRET_LEN);
  if (memcmp (again, data, AT_AUTH_KEY_LEN) != 0)
    abort ();
  for (size_t i = 0; i < AT_AUTH_KEY_SECRET_LEN; i++)
    if (!strchr ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                 parts.secret[i]))
      abort ();
  at_auth_key_hash (&parts, hash);
}

static void
s_text (const char *text)
{
  at_scopes_t mask = 0, again = 0;
  char reason[160], formatted[AT_SCOPES_TEXT_MAX];
  uint8_t hash[AT_AUTH_HASH_LEN];
  if (at_auth_scopes_parse (text, &mask, reason, sizeof reason) == AT_OK) {
    if (mask == 0 || mask >= (1u << AT_SCOPE_COUNT)
        || at_auth_scopes_format (mask, formatted, sizeof formatted) != AT_OK
        || at_auth_scopes_parse (formatted, &again, reason, sizeof reason) != AT_OK
        || again != mask)
      abort ();
  }
  else if (mask != 0 || reason[0] == '\0')
    abort ();
  if (at_auth_token_hash (text, hash) == AT_OK && strlen (text) != AT_AUTH_TOKEN_LEN)
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size > 4096)
    return 0;
  s_key (data, size);
  char *text = malloc (size + 1);
  if (text == NULL)
    return 0;
  memcpy (text, data, size);
  text[size] = '\0';
  s_text (text);
  free (text);
  return 0;
}
