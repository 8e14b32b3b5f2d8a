/* Accounts and API keys, the pure part (lib/core/at_auth.h): keys made and
 * taken apart, every malformed shape refused, session tokens, scopes and
 * roles, Argon2id passwords, and the checks of account fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "at_auth.h"

#define GOOD_KEY "atd_abcdefghij27_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static int
s_parse (const char *text)
{
  at_auth_key_parts_t parts;
  return at_auth_key_parse (text, strlen (text), &parts);
}

static void
test_key_round_trip (void **state)
{
  at_auth_key_t a, b;
  at_auth_key_parts_t parts;
  uint8_t hash[AT_AUTH_HASH_LEN];
  assert_int_equal (at_auth_key_generate (&a), AT_OK);
  assert_int_equal (at_auth_key_generate (&b), AT_OK);
  assert_int_equal (strlen (a.text), AT_AUTH_KEY_LEN);
  assert_int_equal (strncmp (a.text, "atd_", 4), 0);
  assert_true (at_auth_key_id_valid (a.id));
  assert_string_not_equal (a.text, b.text);
  assert_string_not_equal (a.id, b.id);
  assert_int_equal (at_auth_key_parse (a.text, strlen (a.text), &parts), AT_OK);
  assert_string_equal (parts.id, a.id);
  assert_int_equal (strlen (parts.secret), AT_AUTH_KEY_SECRET_LEN);
  assert_string_equal (a.text + 17, parts.secret);
  at_auth_key_hash (&parts, hash);
  assert_true (at_auth_hash_equal (hash, a.hash));
  assert_false (at_auth_hash_equal (hash, b.hash));
  /* another secret under the same id: parses, hashes differently */
  char other[AT_AUTH_KEY_LEN + 1];
  memcpy (other, a.text, sizeof other);
  other[30] = other[30] == 'A' ? 'B' : 'A';
  assert_int_equal (at_auth_key_parse (other, strlen (other), &parts), AT_OK);
  at_auth_key_hash (&parts, hash);
  assert_false (at_auth_hash_equal (hash, a.hash));
  /* the length given is what counts: a NUL-free slice of a longer buffer */
  char header[80];
  snprintf (header, sizeof header, "%s, trailing", a.text);
  assert_int_equal (at_auth_key_parse (header, AT_AUTH_KEY_LEN, &parts), AT_OK);
  assert_string_equal (parts.id, a.id);
}

static void
test_key_malformed (void **state)
{
  at_auth_key_parts_t parts;
  assert_int_equal (s_parse (GOOD_KEY), AT_OK);
  const char *bad[] = {
    "",
    "atd_",
    "atd_abcdefghij27",
    "atd_abcdefghij27_",
    "ATD_abcdefghij27_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",   /* prefix case */
    "atx_abcdefghij27_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",   /* prefix */
    "atd-abcdefghij27_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",   /* prefix separator */
    "atd_abcdefghij27-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",   /* id separator */
    "atd_Abcdefghij27_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",   /* upper-case id */
    "atd_abcdefghij18_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",   /* 1 and 8: not base32 */
    "atd_abcdefghij2__AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",   /* '_' in the id */
    "atd_abcdefghij2_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",    /* short id */
    "atd_abcdefghij277_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",    /* long id */
    "atd_abcdefghij27_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",     /* short secret */
    "atd_abcdefghij27_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",   /* long secret */
    "atd_abcdefghij27_AAAAAAAAAAAAAAAAAAAA+AAAAAAAAAAAAAAAAAAAAAA",   /* '+': not url-safe */
    "atd_abcdefghij27_AAAAAAAAAAAAAAAAAAAA/AAAAAAAAAAAAAAAAAAAAAA",
    "atd_abcdefghij27_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",   /* padding */
    "atd_abcdefghij27_AAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAAA",   /* space */
    "atd_abcdefghij27_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",   /* not canonical */
    "atd_abcdefghij27_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_",   /* not canonical */
    " atd_abcdefghij27_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",   /* leading space */
    "atd_abcdefghij27_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",  /* newline */
    "atd_abcdefghij27_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\xc3", /* a UTF-8 lead byte */
    "Bearer atd_abcdefghij27_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    memset (&parts, 0x55, sizeof parts);
    if (s_parse (bad[i]) != AT_INVALID)
      fail_msg ("accepted malformed key %zu: '%s'", i, bad[i]);
    assert_int_equal (at_auth_key_parse (bad[i], strlen (bad[i]), &parts), AT_INVALID);
    assert_int_equal (parts.id[0], '\0');   /* zeroed on failure */
  }
  /* a NUL inside the given length */
  char nul[] = GOOD_KEY;
  nul[20] = '\0';
  assert_int_equal (at_auth_key_parse (nul, AT_AUTH_KEY_LEN, &parts), AT_INVALID);
  assert_int_equal (at_auth_key_parse (NULL, 0, &parts), AT_INVALID);
  assert_int_equal (at_auth_key_parse (GOOD_KEY, AT_AUTH_KEY_LEN - 1, &parts), AT_INVALID);
  assert_false (at_auth_key_id_valid ("abcdefghij2"));
  assert_false (at_auth_key_id_valid ("abcdefghij271"));
  assert_false (at_auth_key_id_valid ("abcdefghij2!"));
  assert_false (at_auth_key_id_valid (NULL));
}

static void
test_tokens (void **state)
{
  char a[AT_AUTH_TOKEN_LEN + 1], b[AT_AUTH_TOKEN_LEN + 1];
  uint8_t ha[AT_AUTH_HASH_LEN], hb[AT_AUTH_HASH_LEN], again[AT_AUTH_HASH_LEN];
  assert_int_equal (at_auth_token_new (a, ha), AT_OK);
  assert_int_equal (at_auth_token_new (b, hb), AT_OK);
  assert_int_equal (strlen (a), AT_AUTH_TOKEN_LEN);
  assert_string_not_equal (a, b);
  assert_int_equal (at_auth_token_hash (a, again), AT_OK);
  assert_true (at_auth_hash_equal (ha, again));
  assert_false (at_auth_hash_equal (hb, again));
  assert_int_equal (at_auth_token_hash ("", again), AT_INVALID);
  assert_int_equal (at_auth_token_hash ("short", again), AT_INVALID);
  assert_int_equal (at_auth_token_hash (NULL, again), AT_INVALID);
  a[5] = '+';
  assert_int_equal (at_auth_token_hash (a, again), AT_INVALID);
}

static void
test_scopes (void **state)
{
  at_scopes_t mask = 0;
  char why[160], text[AT_SCOPES_TEXT_MAX];
  assert_int_equal (at_auth_scopes_parse ("tickets:read,tickets:write", &mask, why, sizeof why),
                    AT_OK);
  assert_int_equal (mask, AT_SCOPE_TICKETS_READ | AT_SCOPE_TICKETS_WRITE);
  assert_int_equal (at_auth_scopes_parse (" kpis:read , orders:write,kpis:read", &mask, why,
                                          sizeof why), AT_OK);
  assert_int_equal (mask, AT_SCOPE_KPIS_READ | AT_SCOPE_ORDERS_WRITE);
  assert_int_equal (at_auth_scopes_format (mask, text, sizeof text), AT_OK);
  assert_string_equal (text, "orders:write,kpis:read");
  assert_int_equal (at_auth_scopes_parse ("tickets:read,tickets:delete", &mask, why, sizeof why),
                    AT_INVALID);
  assert_non_null (strstr (why, "tickets:delete"));
  assert_int_equal (mask, 0);
  assert_int_equal (at_auth_scopes_parse ("Admin", &mask, why, sizeof why), AT_INVALID);
  assert_int_equal (at_auth_scopes_parse ("", &mask, why, sizeof why), AT_INVALID);
  assert_int_equal (at_auth_scopes_parse ("admin,,kpis:read", &mask, why, sizeof why),
                    AT_INVALID);
  assert_int_equal (at_auth_scopes_parse ("admin=1", &mask, why, sizeof why), AT_INVALID);
  /* every scope by name, and back */
  char all[AT_SCOPES_TEXT_MAX] = "";
  for (size_t k = 0; k < AT_SCOPE_COUNT; k++)
    snprintf (all + strlen (all), sizeof all - strlen (all), "%s%s", k ? "," : "",
              at_auth_scope_name (k));
  assert_int_equal (at_auth_scopes_parse (all, &mask, why, sizeof why), AT_OK);
  assert_int_equal (mask, (1u << AT_SCOPE_COUNT) - 1);
  assert_int_equal (at_auth_scopes_format (mask, text, sizeof text), AT_OK);
  assert_string_equal (text, all);
  assert_int_equal (at_auth_scopes_format (mask, text, 10), AT_ERROR);
  assert_null (at_auth_scope_name (AT_SCOPE_COUNT));
  /* allows */
  assert_true (at_auth_scope_allows (AT_SCOPE_ADMIN, AT_SCOPE_DLQ_ADMIN | AT_SCOPE_KPIS_READ));
  assert_true (at_auth_scope_allows (AT_SCOPE_TICKETS_READ | AT_SCOPE_KPIS_READ,
                                     AT_SCOPE_KPIS_READ));
  assert_false (at_auth_scope_allows (AT_SCOPE_TICKETS_READ, AT_SCOPE_TICKETS_WRITE));
  assert_false (at_auth_scope_allows (AT_SCOPE_TICKETS_READ,
                                      AT_SCOPE_TICKETS_READ | AT_SCOPE_TICKETS_WRITE));
  assert_false (at_auth_scope_allows (0, AT_SCOPE_KPIS_READ));
  assert_true (at_auth_scope_allows (0, 0));
}

static void
test_roles (void **state)
{
  at_auth_role_t role;
  assert_int_equal (at_auth_role_parse ("agent", &role), AT_OK);
  assert_int_equal (role, AT_ROLE_AGENT);
  assert_int_equal (at_auth_role_parse ("lead", &role), AT_OK);
  assert_int_equal (at_auth_role_parse ("admin", &role), AT_OK);
  assert_string_equal (at_auth_role_name (role), "admin");
  assert_int_equal (at_auth_role_parse ("Agent", &role), AT_INVALID);
  assert_int_equal (at_auth_role_parse ("", &role), AT_INVALID);
  assert_int_equal (at_auth_role_parse (NULL, &role), AT_INVALID);
  at_scopes_t agent = at_auth_role_scopes (AT_ROLE_AGENT);
  at_scopes_t lead = at_auth_role_scopes (AT_ROLE_LEAD);
  at_scopes_t admin = at_auth_role_scopes (AT_ROLE_ADMIN);
  assert_true (at_auth_scope_allows (agent, AT_SCOPE_TICKETS_WRITE | AT_SCOPE_CUSTOMERS_READ));
  assert_false (at_auth_scope_allows (agent, AT_SCOPE_CUSTOMERS_WRITE));
  assert_false (at_auth_scope_allows (agent, AT_SCOPE_TEMPLATES_WRITE));
  assert_false (at_auth_scope_allows (agent, AT_SCOPE_KPIS_READ));
  assert_true ((lead & agent) == agent);   /* a lead can do what an agent can */
  assert_true (at_auth_scope_allows (lead, AT_SCOPE_KPIS_READ | AT_SCOPE_TEMPLATES_WRITE));
  assert_false (at_auth_scope_allows (lead, AT_SCOPE_DLQ_ADMIN));
  assert_false (at_auth_scope_allows (lead, AT_SCOPE_MESSAGES_WRITE));
  assert_true (at_auth_scope_allows (admin, AT_SCOPE_DLQ_ADMIN | AT_SCOPE_MESSAGES_WRITE));
  assert_int_equal (at_auth_role_scopes ((at_auth_role_t) 0), 0);
  assert_string_equal (at_auth_verdict_name (AT_AUTH_REVOKED), "revoked");
  assert_string_equal (at_auth_verdict_name (AT_AUTH_LOCKED), "locked");
}

static void
test_passwords (void **state)
{
  char why[128], hash[AT_AUTH_PASSWORD_HASH_LEN], other[AT_AUTH_PASSWORD_HASH_LEN];
  char long_pw[AT_AUTH_PASSWORD_MAX + 2];
  assert_int_equal (at_auth_password_check ("eleven char", why, sizeof why), AT_INVALID);
  assert_non_null (strstr (why, "12"));
  assert_null (strstr (why, "eleven"));   /* never quoted */
  assert_int_equal (at_auth_password_check ("twelve chars", why, sizeof why), AT_OK);
  /* 11 characters in 22 bytes: short; 12 in 24 bytes: fine */
  assert_int_equal (at_auth_password_check ("ááááááááááá", why, sizeof why), AT_INVALID);
  assert_int_equal (at_auth_password_check ("áááááááááááá", why, sizeof why), AT_OK);
  memset (long_pw, 'x', AT_AUTH_PASSWORD_MAX);
  long_pw[AT_AUTH_PASSWORD_MAX] = '\0';
  assert_int_equal (at_auth_password_check (long_pw, why, sizeof why), AT_OK);
  long_pw[AT_AUTH_PASSWORD_MAX] = 'x';
  long_pw[AT_AUTH_PASSWORD_MAX + 1] = '\0';
  assert_int_equal (at_auth_password_check (long_pw, why, sizeof why), AT_INVALID);
  assert_int_equal (at_auth_password_hash (long_pw, hash), AT_INVALID);
  assert_int_equal (at_auth_password_hash ("short", hash), AT_INVALID);

  assert_int_equal (at_auth_password_hash ("correct horse battery", hash), AT_OK);
  assert_int_equal (strncmp (hash, "$argon2id$", 10), 0);
  assert_int_equal (at_auth_password_verify (hash, "correct horse battery"), AT_OK);
  assert_int_equal (at_auth_password_verify (hash, "correct horse battery "), AT_INVALID);
  assert_int_equal (at_auth_password_verify (hash, "Correct horse battery"), AT_INVALID);
  assert_int_equal (at_auth_password_verify (hash, ""), AT_INVALID);
  assert_int_equal (at_auth_password_verify (hash, long_pw), AT_INVALID);
  assert_false (at_auth_password_needs_rehash (hash));
  /* salted: the same password hashes differently */
  assert_int_equal (at_auth_password_hash ("correct horse battery", other), AT_OK);
  assert_string_not_equal (hash, other);
  /* a damaged or foreign hash refuses everything */
  assert_int_equal (at_auth_password_verify ("", "correct horse battery"), AT_INVALID);
  assert_int_equal (at_auth_password_verify ("$2b$10$abcdefghijklmnopqrstuv", "x"), AT_INVALID);
  assert_int_equal (at_auth_password_verify (NULL, "correct horse battery"), AT_INVALID);
  hash[strlen (hash) - 3] ^= 1;
  assert_int_equal (at_auth_password_verify (hash, "correct horse battery"), AT_INVALID);
  assert_true (at_auth_password_needs_rehash ("$2b$10$abcdefghijklmnopqrstuv"));
  at_auth_password_burn ("anything at all");
}

static void
test_account_fields (void **state)
{
  char email[AT_AUTH_EMAIL_MAX + 1], list[AT_AUTH_LIST_TEXT_MAX], why[160];
  assert_int_equal (at_auth_email_normalize ("Ana.Souza@Loja.COM.br", email, why, sizeof why),
                    AT_OK);
  assert_string_equal (email, "ana.souza@loja.com.br");
  const char *bad_emails[] = {"", "ana", "@loja.com", "ana@", "ana@loja", "ana@@loja.com",
                              "a b@loja.com", "ana@loja.com.", "ana@.loja", "ana\n@loja.com"};
  for (size_t i = 0; i < sizeof bad_emails / sizeof bad_emails[0]; i++)
    if (at_auth_email_normalize (bad_emails[i], email, why, sizeof why) != AT_INVALID)
      fail_msg ("accepted email '%s'", bad_emails[i]);
  assert_int_equal (at_auth_name_check ("Ana Souza", why, sizeof why), AT_OK);
  assert_int_equal (at_auth_name_check ("   ", why, sizeof why), AT_INVALID);
  assert_int_equal (at_auth_name_check ("Ana\x1b[31m", why, sizeof why), AT_INVALID);
  assert_int_equal (at_auth_languages_normalize (" pt-BR, en ,es-419", list, why, sizeof why),
                    AT_OK);
  assert_string_equal (list, "pt-BR,en,es-419");
  assert_int_equal (at_auth_languages_normalize (NULL, list, why, sizeof why), AT_OK);
  assert_string_equal (list, "");
  assert_int_equal (at_auth_languages_normalize ("pt-BR,english", list, why, sizeof why),
                    AT_INVALID);
  assert_non_null (strstr (why, "english"));
  assert_int_equal (at_auth_languages_normalize ("en,en", list, why, sizeof why), AT_INVALID);
  assert_int_equal (at_auth_languages_normalize ("pt-", list, why, sizeof why), AT_INVALID);
  assert_int_equal (at_auth_teams_normalize ("vendas,pos_venda,b2b-sul", list, why, sizeof why),
                    AT_OK);
  assert_string_equal (list, "vendas,pos_venda,b2b-sul");
  assert_int_equal (at_auth_teams_normalize ("Vendas", list, why, sizeof why), AT_INVALID);
  assert_int_equal (at_auth_teams_normalize ("a,,b", list, why, sizeof why), AT_INVALID);
  assert_int_equal (at_auth_teams_normalize ("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", list, why,
                                             sizeof why), AT_INVALID);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_key_round_trip),
    cmocka_unit_test (test_key_malformed),
    cmocka_unit_test (test_tokens),
    cmocka_unit_test (test_scopes),
    cmocka_unit_test (test_roles),
    cmocka_unit_test (test_passwords),
    cmocka_unit_test (test_account_fields),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
