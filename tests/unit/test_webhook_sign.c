/* Standard Webhooks headers (the published test vector), secret checks and
 * the classification of providers' answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "at_webhook.h"
#include "at_crypto.h"

#define S_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define S_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define S_BODY "{\"test\": 2432232314}"

static void
test_published_vector (void **state)
{
  at_webhook_headers_t h;
  assert_int_equal (at_webhook_headers_build (S_SECRET, S_ID, 1614265330, S_BODY,
                                              strlen (S_BODY), &h), AT_OK);
  assert_string_equal (h.id, "webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek");
  assert_string_equal (h.timestamp, "webhook-timestamp: 1614265330");
  assert_string_equal (h.signature,
                       "webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  /* and what we sign, the receiving side verifies */
  assert_int_equal (at_webhook_verify (S_SECRET, S_ID, "1614265330", S_BODY, strlen (S_BODY),
                                       strchr (h.signature, ' ') + 1, 0), AT_OK);
  assert_int_equal (at_webhook_verify (S_SECRET, S_ID, "1614265331", S_BODY, strlen (S_BODY),
                                       strchr (h.signature, ' ') + 1, 0), AT_INVALID);
}

static void
test_bad_input_refused (void **state)
{
  at_webhook_headers_t h;
  assert_int_equal (at_webhook_headers_build ("not-a-secret", S_ID, 1, "x", 1, &h), AT_INVALID);
  assert_int_equal (at_webhook_headers_build (S_SECRET, "id\r\nX-Evil: 1", 1, "x", 1, &h),
                    AT_INVALID);
  assert_int_equal (at_webhook_headers_build (S_SECRET, "", 1, "x", 1, &h), AT_INVALID);
}

static void
test_secret_valid (void **state)
{
  assert_true (at_webhook_secret_valid (S_SECRET));
  assert_false (at_webhook_secret_valid (""));
  assert_false (at_webhook_secret_valid (NULL));
  assert_false (at_webhook_secret_valid ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
  assert_false (at_webhook_secret_valid ("whsec_"));
  assert_false (at_webhook_secret_valid ("whsec_c2hvcnQ="));      /* 5 bytes */
  assert_false (at_webhook_secret_valid ("whsec_!!!notbase64!!!"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_published_vector),
    cmocka_unit_test (test_bad_input_refused),
    cmocka_unit_test (test_secret_valid),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
