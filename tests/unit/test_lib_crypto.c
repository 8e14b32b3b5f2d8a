/* Crypto: the Standard Webhooks published vector, base64, link tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>

#include "at_crypto.h"

#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define MSG_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define PAYLOAD "{\"test\": 2432232314}"
#define EXPECTED "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static void
test_webhook_published_vector (void **state)
{
  char sig[128];
  assert_int_equal (at_webhook_sign (SECRET, MSG_ID, 1614265330, PAYLOAD, strlen (PAYLOAD), sig,
                                     sizeof sig), AT_OK);
  assert_string_equal (sig, EXPECTED);
  assert_int_equal (at_webhook_verify (SECRET, MSG_ID, "1614265330", PAYLOAD, strlen (PAYLOAD),
                                       EXPECTED, 0), AT_OK);
  /* several signatures in the header: any may match */
  assert_int_equal (at_webhook_verify (SECRET, MSG_ID, "1614265330", PAYLOAD, strlen (PAYLOAD),
                                       "v1,Zm9v " EXPECTED, 0), AT_OK);
}

static void
test_webhook_rejects_tampering (void **state)
{
  const char *body = "{\"test\": 2432232315}";
  assert_int_equal (at_webhook_verify (SECRET, MSG_ID, "1614265330", body, strlen (body), EXPECTED,
                                       0), AT_INVALID);
  assert_int_equal (at_webhook_verify (SECRET, "msg_other", "1614265330", PAYLOAD,
                                       strlen (PAYLOAD), EXPECTED, 0), AT_INVALID);
  assert_int_equal (at_webhook_verify (SECRET, MSG_ID, "1614265331", PAYLOAD, strlen (PAYLOAD),
                                       EXPECTED, 0), AT_INVALID);
  assert_int_equal (at_webhook_verify (SECRET, MSG_ID, "1614265330", PAYLOAD, strlen (PAYLOAD),
                                       "v2,g0hM9SsE", 0), AT_INVALID);
  assert_int_equal (at_webhook_verify (SECRET, MSG_ID, "not-a-number", PAYLOAD, strlen (PAYLOAD),
                                       EXPECTED, 0), AT_INVALID);
  /* outside the replay window */
  assert_int_equal (at_webhook_verify (SECRET, MSG_ID, "1614265330", PAYLOAD, strlen (PAYLOAD),
                                       EXPECTED, 300), AT_STALE);
  char sig[128];
  assert_int_equal (at_webhook_sign ("whsec_!!!notbase64", MSG_ID, 1, "x", 1, sig, sizeof sig),
                    AT_INVALID);
}

static void
test_base64_round_trip (void **state)
{
  const char *cases[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char *encoded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (size_t i = 0; i < 7; i++) {
    char out[32];
    uint8_t back[32];
    at_base64_encode (cases[i], strlen (cases[i]), out, sizeof out);
    assert_string_equal (out, encoded[i]);
    int n = at_base64_decode (out, strlen (out), back, sizeof back);
    assert_int_equal (n, (int) strlen (cases[i]));
    assert_memory_equal (back, cases[i], (size_t) n);
  }
  uint8_t buf[16];
  assert_int_equal (at_base64_decode ("Zm9", 3, buf, sizeof buf), AT_INVALID);
  assert_int_equal (at_base64_decode ("Zm9*", 4, buf, sizeof buf), AT_INVALID);
}

static void
test_token_sign_verify (void **state)
{
  char token[256], payload[128];
  assert_int_equal (at_token_sign ("k3y", "0190f1e2-aaaa-7bbb-8ccc-0123456789ab", token,
                                   sizeof token), AT_OK);
  assert_int_equal (at_token_verify ("k3y", token, payload, sizeof payload), AT_OK);
  assert_string_equal (payload, "0190f1e2-aaaa-7bbb-8ccc-0123456789ab");
  assert_int_equal (at_token_verify ("other", token, payload, sizeof payload), AT_INVALID);
  token[3] = token[3] == 'a' ? 'b' : 'a';
  assert_int_equal (at_token_verify ("k3y", token, payload, sizeof payload), AT_INVALID);
  assert_int_equal (at_token_verify ("k3y", "no-dot-here", payload, sizeof payload), AT_INVALID);
  assert_int_equal (at_token_verify ("k3y", "a.b.c", payload, sizeof payload), AT_INVALID);
  assert_int_equal (at_token_sign ("k3y", "has space", token, sizeof token), AT_INVALID);
  assert_int_equal (at_token_sign ("", "abc", token, sizeof token), AT_INVALID);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_webhook_published_vector),
    cmocka_unit_test (test_webhook_rejects_tampering),
    cmocka_unit_test (test_base64_round_trip),
    cmocka_unit_test (test_token_sign_verify),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
