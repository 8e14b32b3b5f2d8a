/* Core: settings table, channels and handles, messages and their envelope. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "at_channel.h"
#include "at_config.h"
#include "at_json.h"
#include "at_msg.h"
#include "at_time.h"

static void
test_config_env_and_flags (void **state)
{
  setenv ("ATENDE_API_PORT", "9090", 1);
  setenv ("ATENDE_DATABASE_URL", "host=/tmp dbname=x", 1);
  char *argv[] = {"atende", "api", "--api-port=9191", "--worker-batch", "7", "extra", NULL};
  int argc = 6;
  at_config_t *cfg = at_config_new (&argc, argv);
  assert_non_null (cfg);
  assert_int_equal (cfg->api_port, 9191);     /* flag wins over env */
  assert_int_equal (cfg->worker_batch, 7);
  assert_string_equal (cfg->database_url, "host=/tmp dbname=x");
  assert_int_equal (cfg->heartbeat_ms, 1000); /* default */
  assert_int_equal (argc, 3);                 /* flags removed, the rest kept in order */
  assert_string_equal (argv[1], "api");
  assert_string_equal (argv[2], "extra");
  at_config_destroy (&cfg);
  assert_null (cfg);
  unsetenv ("ATENDE_API_PORT");
  unsetenv ("ATENDE_DATABASE_URL");
}

static void
test_config_rejects_bad_values (void **state)
{
  char *argv1[] = {"atende", "--api-port=99999", NULL};
  int argc = 2;
  assert_null (at_config_new (&argc, argv1));
  char *argv2[] = {"atende", "--worker-batch=12x", NULL};
  argc = 2;
  assert_null (at_config_new (&argc, argv2));
  char *argv3[] = {"atende", "--log-level=loud", NULL};
  argc = 2;
  assert_null (at_config_new (&argc, argv3));
  setenv ("ATENDE_HEARTBEAT_MS", "-5", 1);
  assert_null (at_config_from_env ());
  unsetenv ("ATENDE_HEARTBEAT_MS");
}

static void
test_channel_handles (void **state)
{
  char out[AT_HANDLE_MAX + 1];
  assert_int_equal (at_channel_normalize_handle ("email", "Maria.Silva@Exemplo.COM.br", out,
                                                 sizeof out), AT_OK);
  assert_string_equal (out, "maria.silva@exemplo.com.br");
  assert_int_equal (at_channel_normalize_handle ("email", "not-an-email", out, sizeof out),
                    AT_INVALID);
  assert_int_equal (at_channel_normalize_handle ("email", "a@b@c.com", out, sizeof out),
                    AT_INVALID);
  assert_int_equal (at_channel_normalize_handle ("sms", "(11) 98765-4321", out, sizeof out),
                    AT_OK);
  assert_string_equal (out, "+5511987654321");
  assert_int_equal (at_channel_normalize_handle ("sms", "+1 415 555 2671", out, sizeof out),
                    AT_OK);
  assert_string_equal (out, "+14155552671");
  assert_int_equal (at_channel_normalize_handle ("whatsapp", "+55 11 98765-4321", out,
                                                 sizeof out), AT_OK);
  assert_string_equal (out, "5511987654321");
  assert_int_equal (at_channel_normalize_handle ("whatsapp", "5511987654321", out, sizeof out),
                    AT_OK);
  assert_string_equal (out, "5511987654321");   /* a wa_id as Meta sends it */
  assert_int_equal (at_channel_normalize_handle ("sms", "12ab", out, sizeof out), AT_INVALID);
  assert_int_equal (at_channel_normalize_handle ("chat", "  visitor-42 ", out, sizeof out), AT_OK);
  assert_string_equal (out, "visitor-42");
  assert_int_equal (at_channel_normalize_handle ("fax", "123", out, sizeof out), AT_INVALID);
  assert_true (at_channel_known ("whatsapp"));
  assert_false (at_channel_known ("pigeon"));
  assert_string_equal (at_channel_identity_kind ("sms"), "phone");
}

static void
test_msg_round_trip (void **state)
{
  at_msg_t *msg = at_msg_new ("ingest", "inbound.message", "email:a@b.co", NULL, "\x01\x02", 2);
  assert_non_null (msg);
  assert_true (at_uuid_valid (msg->id));
  assert_int_equal (msg->id[14], '7');   /* UUID version 7 */
  uint8_t *bytes;
  size_t len;
  assert_int_equal (at_msg_encode (msg, &bytes, &len), AT_OK);
  at_msg_t *back = NULL;
  char reason[128];
  assert_int_equal (at_msg_decode (bytes, len, &back, reason, sizeof reason), AT_OK);
  assert_string_equal (back->id, msg->id);
  assert_string_equal (back->key, "email:a@b.co");
  assert_int_equal (back->attempt, 1);
  assert_int_equal (back->payload_len, 2);
  assert_memory_equal (back->payload, "\x01\x02", 2);
  free (bytes);
  at_msg_destroy (&back);
  /* garbage and wrong stages are refused with a reason */
  assert_int_equal (at_msg_decode ((const uint8_t *) "\xff\xff\xff", 3, &back, reason,
                                   sizeof reason), AT_INVALID);
  assert_null (back);
  at_strlcpy (msg->stage, "nowhere", sizeof msg->stage);
  at_msg_encode (msg, &bytes, &len);
  assert_int_equal (at_msg_decode (bytes, len, &back, reason, sizeof reason), AT_INVALID);
  assert_string_equal (reason, "unknown stage");
  free (bytes);
  at_msg_destroy (&msg);
  assert_null (msg);
}

static void
test_problem_document (void **state)
{
  char *doc = at_problem_new (422, "invalid-field", "Invalid field", "channel \"x\" is unknown",
                              "channel");
  json_error_t err;
  json_t *root = json_loads (doc, 0, &err);
  assert_non_null (root);
  assert_int_equal (json_integer_value (json_object_get (root, "status")), 422);
  assert_string_equal (json_string_value (json_object_get (root, "field")), "channel");
  assert_string_equal (json_string_value (json_object_get (root, "detail")),
                       "channel \"x\" is unknown");
  json_decref (root);
  free (doc);
  char reason[128];
  assert_null (at_json_parse_object ("{\"a\":1,\"a\":2}", 13, reason, sizeof reason));
  assert_null (at_json_parse_object ("[1]", 3, reason, sizeof reason));
}

static void
test_json_dump_cap (void **state)
{
  json_t *doc = json_pack ("{s:s}", "a", "bcd");      /* {"a":"bcd"}: 11 bytes */
  char *text = at_json_dump (doc, 11);
  assert_non_null (text);
  assert_string_equal (text, "{\"a\":\"bcd\"}");
  free (text);
  assert_null (at_json_dump (doc, 10));
  assert_null (at_json_dump (doc, 0));
  json_decref (doc);
}

static void
test_rfc3339 (void **state)
{
  int64_t us = 0;
  assert_int_equal (at_rfc3339_parse ("1970-01-01T00:00:00Z", &us), AT_OK);
  assert_int_equal (us, 0);
  assert_int_equal (at_rfc3339_parse ("2026-11-22T18:00:00.123456789+00:00", &us), AT_OK);
  assert_int_equal (us, 1795370400123456LL);
  assert_int_equal (at_rfc3339_parse ("2026-11-22t15:00:00-03:00", &us), AT_OK);
  assert_int_equal (us, 1795370400000000LL);
  assert_int_equal (at_rfc3339_parse ("2026-11-22 18:00:60.5Z", &us), AT_OK);
  assert_int_equal (us, 1795370459500000LL);      /* a leap second: the second before */
  assert_int_equal (at_rfc3339_parse ("1969-12-31T23:59:59Z", &us), AT_OK);
  assert_int_equal (us, -1000000LL);
  const char *bad[] = { "", "2026-11-22", "2026-11-22T18:00:00", "2026-13-01T00:00:00Z",
                        "2026-02-29T00:00:00Z", "2026-11-22T18:00:00.Z", "2026-11-22T18:00Z",
                        "2026-11-22T18:00:00+3:00", "2026-11-22T18:00:00Zjunk", "yesterday",
                        "2026-11-22T24:00:00Z", "2026-11-22T18:00:00+24:00",
                        "2026-11-22T18:00:00.1234567890123456789012Z" };
  us = 7;
  for (size_t i = 0; i < AT_ARRAY_LEN (bad); i++)
    assert_int_equal (at_rfc3339_parse (bad[i], &us), AT_INVALID);
  assert_int_equal (at_rfc3339_parse (NULL, &us), AT_INVALID);
  assert_int_equal (us, 7);                        /* untouched on refusal */
}

static void
test_dates (void **state)
{
  int y = 0, m = 0, d = 0;
  assert_int_equal (at_date_parse ("2024-02-29", &y, &m, &d), AT_OK);
  assert_int_equal (y, 2024);
  assert_int_equal (m, 2);
  assert_int_equal (d, 29);
  assert_int_equal (at_date_parse ("2000-02-29", NULL, NULL, NULL), AT_OK);
  assert_int_equal (at_date_parse ("0001-01-01", NULL, NULL, NULL), AT_OK);
  assert_int_equal (at_date_parse ("9999-12-31", NULL, NULL, NULL), AT_OK);
  const char *bad[] = { "2025-02-29", "1900-02-29", "2025-04-31", "2025-1-01", "2025-01-1",
                        "0000-01-01", "2025-00-10", "2025-13-01", "2025-01-00", "2026-+1-05",
                        " 2026-01-05", "2026-01-05x", "2026/01/05", "", "yesterday" };
  for (size_t i = 0; i < AT_ARRAY_LEN (bad); i++)
    assert_int_equal (at_date_parse (bad[i], &y, &m, &d), AT_INVALID);
  assert_int_equal (at_date_parse (NULL, &y, &m, &d), AT_INVALID);
  assert_int_equal (y, 2024);                      /* untouched on refusal */
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_config_env_and_flags),
    cmocka_unit_test (test_config_rejects_bad_values),
    cmocka_unit_test (test_channel_handles),
    cmocka_unit_test (test_msg_round_trip),
    cmocka_unit_test (test_problem_document),
    cmocka_unit_test (test_json_dump_cap),
    cmocka_unit_test (test_rfc3339),
    cmocka_unit_test (test_dates),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
