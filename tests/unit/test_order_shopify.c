/* The Shopify door's pure parts: the signature (base64 HMAC-SHA256 of the raw
 * body with the shop's secret) and what topics and shipment statuses mean. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "api_templates.h"
#include "at_crypto.h"
#include "at_list.h"
#include "test_settings_list.h"

#define BODY "{\"id\":820982911946154508,\"email\":\"jon@example.com\"}"

#define S(text) s_list (text, AT_LIST_SECRETS)

static void
s_sign (const char *secret, const char *body, char out[64])
{
  uint8_t mac[32];
  at_hmac_sha256 (secret, strlen (secret), body, strlen (body), mac);
  assert_int_equal (at_base64_encode (mac, sizeof mac, out, 64), 44);
}

static void
test_signature (void **state)
{
  char sig[64];
  s_sign ("hush", BODY, sig);
  assert_true (api_shopify_verify (S ("hush"), "any.myshopify.com", sig, BODY, strlen (BODY)));
  assert_true (api_shopify_verify (S ("hush"), NULL, sig, BODY, strlen (BODY)));
  /* one byte of the body changed, truncated, another secret, no secret */
  assert_false (api_shopify_verify (S ("hush"), NULL, sig, BODY, strlen (BODY) - 1));
  assert_false (api_shopify_verify (S ("hush2"), NULL, sig, BODY, strlen (BODY)));
  assert_false (api_shopify_verify (S (""), NULL, sig, BODY, strlen (BODY)));
  assert_false (api_shopify_verify (NULL, NULL, sig, BODY, strlen (BODY)));
  assert_false (api_shopify_verify (S ("hush"), NULL, NULL, BODY, strlen (BODY)));
  assert_false (api_shopify_verify (S ("hush"), NULL, "not base64 at all, and 44 characters long!!",
                                    BODY, strlen (BODY)));
  sig[3] = sig[3] == 'A' ? 'B' : 'A';
  assert_false (api_shopify_verify (S ("hush"), NULL, sig, BODY, strlen (BODY)));
}

static void
test_secret_per_shop (void **state)
{
  const char *secrets = "a.myshopify.com=sa,b.myshopify.com=sb";
  char sig_a[64], sig_b[64];
  s_sign ("sa", BODY, sig_a);
  s_sign ("sb", BODY, sig_b);
  assert_true (api_shopify_verify (S (secrets), "a.myshopify.com", sig_a, BODY, strlen (BODY)));
  assert_true (api_shopify_verify (S (secrets), "b.myshopify.com", sig_b, BODY, strlen (BODY)));
  assert_false (api_shopify_verify (S (secrets), "a.myshopify.com", sig_b, BODY, strlen (BODY)));
  assert_false (api_shopify_verify (S (secrets), "c.myshopify.com", sig_a, BODY, strlen (BODY)));
  assert_false (api_shopify_verify (S (secrets), NULL, sig_a, BODY, strlen (BODY)));
  /* a single base64 secret ending in '=' padding is still one secret */
  char sig_eq[64];
  s_sign ("abc==", BODY, sig_eq);
  assert_true (api_shopify_verify (S ("abc=="), "x.myshopify.com", sig_eq, BODY, strlen (BODY)));
}

static void
test_topics (void **state)
{
  json_t *o = json_object ();
  assert_string_equal (api_shopify_status ("orders/create", o), "placed");
  assert_string_equal (api_shopify_status ("orders/paid", o), "confirmed");
  assert_string_equal (api_shopify_status ("orders/cancelled", o), "cancelled");
  assert_string_equal (api_shopify_status ("orders/fulfilled", o), "shipped");
  assert_null (api_shopify_status ("orders/updated", o));
  assert_null (api_shopify_status ("products/create", o));
  assert_null (api_shopify_status (NULL, o));
  json_decref (o);
}

static void
test_shipment_statuses (void **state)
{
  static const char *const map[][2] = {
    {"label_printed", "packed"}, {"confirmed", "shipped"}, {"in_transit", "in_transit"},
    {"out_for_delivery", "out_for_delivery"}, {"attempted_delivery", "failed_attempt"},
    {"delayed", "delayed"}, {"delivered", "delivered"}, {"ready_for_pickup", "out_for_delivery"},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
    json_t *o = json_pack ("{s:s, s:s}", "status", "success", "shipment_status", map[i][0]);
    assert_string_equal (api_shopify_status ("fulfillments/update", o), map[i][1]);
    json_decref (o);
  }
  json_t *o = json_pack ("{s:s, s:n}", "status", "success", "shipment_status");
  assert_string_equal (api_shopify_status ("fulfillments/create", o), "shipped");
  json_decref (o);
  o = json_pack ("{s:s}", "status", "cancelled");
  assert_null (api_shopify_status ("fulfillments/update", o));
  json_decref (o);
  o = json_pack ("{s:i}", "shipment_status", 7);
  assert_null (api_shopify_status ("fulfillments/update", o));
  json_decref (o);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_signature),
    cmocka_unit_test (test_secret_per_shop),
    cmocka_unit_test (test_topics),
    cmocka_unit_test (test_shipment_statuses),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
