/* Providers' webhook signatures: Twilio's published vectors (form and
 * bodySHA256), the default-port variants, Meta's X-Hub-Signature-256,
 * Mailgun's timestamp+token HMAC with its replay window, and the per-account
 * secret lists. Expected values not published by a provider were computed
 * with `openssl dgst -sha256 -hmac KEY` (an independent implementation). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "at_channel_sig.h"
#include "at_list.h"
#include "at_form.h"
#include "test_settings_list.h"

#define S_TWILIO_URL "https://mycompany.com/myapp.php?foo=1&bar=2"

static at_form_t *
s_form (const char *body)
{
  char reason[128];
  at_form_t *form = NULL;
  assert_int_equal (at_form_parse (body, strlen (body), &form, reason, sizeof reason), AT_OK);
  return form;
}

/* Twilio's documentation vector (the one named in issue 4). Parameters are
 * given out of order: the signature sorts them. */
static void
test_twilio_published_vector (void **state)
{
  char sig[64];
  at_form_t *form = s_form ("To=%2B18005551212&From=%2B12349013030&Digits=1234"
                            "&Caller=%2B12349013030&CallSid=CA1234567890ABCDE");
  assert_int_equal (at_sig_twilio_sign ("12345", S_TWILIO_URL, form, sig, sizeof sig), AT_OK);
  assert_string_equal (sig, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
  assert_int_equal (at_sig_twilio_verify ("12345", S_TWILIO_URL, form,
                                          "0/KCTR6DLpKmkAf8muzZqo1nDgQ="), AT_OK);
  /* the same request as Twilio may have signed it: with the default port */
  assert_int_equal (at_sig_twilio_verify ("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2",
                                          form, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="), AT_OK);
  /* wrong token, wrong URL, a changed parameter, missing or truncated header */
  assert_int_equal (at_sig_twilio_verify ("12346", S_TWILIO_URL, form,
                                          "0/KCTR6DLpKmkAf8muzZqo1nDgQ="), AT_INVALID);
  assert_int_equal (at_sig_twilio_verify ("12345", "https://mycompany.com/myapp.php?foo=1",
                                          form, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="), AT_INVALID);
  assert_int_equal (at_sig_twilio_verify ("12345", "https://mycompany.com:8443/myapp.php?foo=1&bar=2",
                                          form, "0/KCTR6DLpKmkAf8muzZqo1nDgQ="), AT_INVALID);
  assert_int_equal (at_sig_twilio_verify ("12345", S_TWILIO_URL, form, NULL), AT_INVALID);
  assert_int_equal (at_sig_twilio_verify ("12345", S_TWILIO_URL, form, "0/KCTR6DLpKmkAf8"),
                    AT_INVALID);
  at_form_destroy (&form);
  form = s_form ("To=%2B18005551212&From=%2B12349013030&Digits=1235"
                 "&Caller=%2B12349013030&CallSid=CA1234567890ABCDE");
  assert_int_equal (at_sig_twilio_verify ("12345", S_TWILIO_URL, form,
                                          "0/KCTR6DLpKmkAf8muzZqo1nDgQ="), AT_INVALID);
  at_form_destroy (&form);
}

/* The vector of Twilio's current helper libraries (twilio-python, -php). */
static void
test_twilio_library_vector (void **state)
{
  char sig[64];
  at_form_t *form = s_form ("CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675309"
                            "&To=%2B18005551212&Caller=%2B14158675309");
  assert_int_equal (at_sig_twilio_sign ("12345", S_TWILIO_URL, form, sig, sizeof sig), AT_OK);
  assert_string_equal (sig, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
  at_form_destroy (&form);
}

/* A signature made over "http://host:80/..." checks against "http://host/...". */
static void
test_twilio_port_removed (void **state)
{
  char sig[64];
  at_form_t *form = s_form ("Body=Ol%C3%A1&From=%2B5511987654321");
  assert_int_equal (at_sig_twilio_sign ("tok", "http://example.com:80/v1/channels/twilio", form,
                                        sig, sizeof sig), AT_OK);
  assert_int_equal (at_sig_twilio_verify ("tok", "http://example.com/v1/channels/twilio", form,
                                          sig), AT_OK);
  assert_int_equal (at_sig_twilio_verify ("tok", "http://[::1]/v1/channels/twilio", form, sig),
                    AT_INVALID);
  at_form_destroy (&form);
}

/* twilio-python's test_validation_of_body_succeeds. */
static void
test_twilio_body_sha256_vector (void **state)
{
  const char *body = "{\"property\": \"value\", \"boolean\": true}";
  const char *url = S_TWILIO_URL "&bodySHA256="
                    "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
  char hex[65];
  at_sig_sha256_hex (body, strlen (body), hex);
  assert_string_equal (hex, "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620");
  assert_int_equal (at_sig_twilio_verify_body ("12345", url, body, strlen (body),
                                               "a9nBmqA0ju/hNViExpshrM61xv4="), AT_OK);
  /* a changed body no longer matches its hash */
  assert_int_equal (at_sig_twilio_verify_body ("12345", url, "{\"property\": \"valuf\", \"boolean\": true}",
                                               strlen (body), "a9nBmqA0ju/hNViExpshrM61xv4="),
                    AT_INVALID);
  assert_int_equal (at_sig_twilio_verify_body ("12345", S_TWILIO_URL, body, strlen (body),
                                               "a9nBmqA0ju/hNViExpshrM61xv4="), AT_INVALID);
}

static void
test_meta (void **state)
{
  const char *body = "{\"object\":\"whatsapp_business_account\",\"entry\":[]}";
  const char *good = "sha256=0ca28c0f1996234eb6829e59ad3c11a18161f6eb043943d601e420c312432cdf";
  char sig[80];
  assert_int_equal (at_sig_meta_sign ("app-secret-1", body, strlen (body), sig, sizeof sig), AT_OK);
  assert_string_equal (sig, good);
  assert_int_equal (at_sig_meta_verify ("app-secret-1", body, strlen (body), good), AT_OK);
  assert_int_equal (at_sig_meta_verify ("app-secret-1", body, strlen (body),
                    "SHA256=0CA28C0F1996234EB6829E59AD3C11A18161F6EB043943D601E420C312432CDF"),
                    AT_OK);
  assert_int_equal (at_sig_meta_verify ("app-secret-2", body, strlen (body), good), AT_INVALID);
  assert_int_equal (at_sig_meta_verify ("app-secret-1", body, strlen (body) - 1, good),
                    AT_INVALID);
  assert_int_equal (at_sig_meta_verify ("app-secret-1", body, strlen (body), NULL), AT_INVALID);
  assert_int_equal (at_sig_meta_verify ("app-secret-1", body, strlen (body), "sha256="),
                    AT_INVALID);
  assert_int_equal (at_sig_meta_verify ("app-secret-1", body, strlen (body), good + 7),
                    AT_INVALID);
  assert_int_equal (at_sig_meta_verify ("", body, strlen (body), good), AT_INVALID);
  assert_int_equal (at_sig_meta_verify ("app-secret-1", body, strlen (body),
                    "sha256=0ca28c0f1996234eb6829e59ad3c11a18161f6eb043943d601e420c312432cdz"),
                    AT_INVALID);
}

static void
test_mailgun (void **state)
{
  const char *key = "key-7e55de6d35e1fe2e8ae1c3ed2b5ae0f7";
  const char *token = "df8b7ba4a66c6cbe2d8d8fe85efd8fc1b3b03e35e5e38a82b";
  const char *good = "0b51e00f87b4ad4fa4ed46c00f7f3498dddbe7f685051d8f0cad851233361198";
  char sig[65];
  assert_int_equal (at_sig_mailgun_sign (key, "1529006854", token, sig), AT_OK);
  assert_string_equal (sig, good);
  assert_int_equal (at_sig_mailgun_verify (key, "1529006854", token, good, 1529006854 + 10, 300),
                    AT_OK);
  /* outside the replay window, either way */
  assert_int_equal (at_sig_mailgun_verify (key, "1529006854", token, good, 1529006854 + 301, 300),
                    AT_STALE);
  assert_int_equal (at_sig_mailgun_verify (key, "1529006854", token, good, 1529006854 - 301, 300),
                    AT_STALE);
  assert_int_equal (at_sig_mailgun_verify (key, "1529006855", token, good, 1529006854, 300),
                    AT_INVALID);
  assert_int_equal (at_sig_mailgun_verify (key, "1529006854", "x", good, 1529006854, 300),
                    AT_INVALID);
  assert_int_equal (at_sig_mailgun_verify (key, "1529006854x", token, good, 1529006854, 300),
                    AT_INVALID);
  assert_int_equal (at_sig_mailgun_verify (key, NULL, token, good, 1529006854, 300), AT_INVALID);
  assert_int_equal (at_sig_mailgun_verify (key, "1529006854", token, NULL, 1529006854, 300),
                    AT_INVALID);
  assert_int_equal (at_sig_mailgun_verify ("", "1529006854", token, good, 1529006854, 300),
                    AT_INVALID);
}

#define S(text) s_list (text, AT_LIST_SECRETS)

static void
test_secret_lookup (void **state)
{
  char out[64];
  assert_int_equal (at_sig_secret_lookup (S ("plain"), "any", out, sizeof out), AT_OK);
  assert_string_equal (out, "plain");
  assert_int_equal (at_sig_secret_lookup (S ("plain"), NULL, out, sizeof out), AT_OK);
  assert_int_equal (at_sig_secret_lookup (S (""), "any", out, sizeof out), AT_NOTFOUND);
  assert_int_equal (at_sig_secret_lookup (NULL, "any", out, sizeof out), AT_NOTFOUND);
  const char *list = "1111=aaa,AC22=bbb,*=ccc";
  assert_int_equal (at_sig_secret_lookup (S (list), "AC22", out, sizeof out), AT_OK);
  assert_string_equal (out, "bbb");
  assert_int_equal (at_sig_secret_lookup (S (list), "1111", out, sizeof out), AT_OK);
  assert_string_equal (out, "aaa");
  assert_int_equal (at_sig_secret_lookup (S (list), "999", out, sizeof out), AT_OK);
  assert_string_equal (out, "ccc");
  assert_int_equal (at_sig_secret_lookup (S (list), "AC2", out, sizeof out), AT_OK);
  assert_string_equal (out, "ccc");
  assert_int_equal (at_sig_secret_lookup (S ("1111=aaa"), "2222", out, sizeof out), AT_NOTFOUND);
  assert_int_equal (at_sig_secret_lookup (S ("1111=aaa"), "1111=aaa", out, sizeof out), AT_NOTFOUND);
  assert_int_equal (at_sig_secret_lookup (S ("1111=aaa"), NULL, out, sizeof out), AT_NOTFOUND);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_twilio_published_vector),
    cmocka_unit_test (test_twilio_library_vector),
    cmocka_unit_test (test_twilio_port_removed),
    cmocka_unit_test (test_twilio_body_sha256_vector),
    cmocka_unit_test (test_meta),
    cmocka_unit_test (test_mailgun),
    cmocka_unit_test (test_secret_lookup),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
