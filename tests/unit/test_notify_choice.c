/* notify's channel choice without a database: preference, fallback, the
 * WhatsApp 24 h window and templates, quiet hours, frequency cap, urgency. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "notify/notify.h"
#include "test_settings_list.h"


static bool
s_routable (void *arg, const char *channel)
{
  return strstr ((const char *) arg, channel) != NULL;
}

static wrk_choice_policy_t
s_policy (void)
{
  return (wrk_choice_policy_t) {
    .fallback = s_list ("whatsapp, sms,email", AT_LIST_VALUES),
    .whatsapp_templates = s_list ("order_status=order_update,*=generic", AT_LIST_PAIRS),
    .cap_count = 3, .whatsapp_direct = true, .routable = s_routable,
    .routable_arg = "whatsapp sms email",
  };
}

static at_notification_ctx_t
s_ctx (const char *kind, const char *channel, const char *recipient, const char *ids)
{
  at_notification_ctx_t c;
  memset (&c, 0, sizeof c);
  at_strlcpy (c.kind, kind, sizeof c.kind);
  at_strlcpy (c.channel, channel, sizeof c.channel);
  at_strlcpy (c.locale, "pt-BR", sizeof c.locale);
  c.recipient = (char *) recipient;
  c.identities_json = (char *) ids;
  c.whatsapp_window = true;
  return c;
}

static void
test_preferred_then_fallback (void **state)
{
  wrk_choice_policy_t p = s_policy ();
  wrk_choice_t out;
  at_notification_ctx_t c = s_ctx ("order_status", "whatsapp", "5511999990000",
                                   "{\"whatsapp\":\"5511999990000\",\"email\":\"ana@example.com\","
                                   "\"phone\":\"+5511999990000\"}");
  wrk_notify_choose (&c, &p, &out);
  assert_int_equal (out.action, WRK_CHOICE_SEND);
  assert_string_equal (out.channel, "whatsapp");
  assert_string_equal (out.template_name, "");
  at_strlcpy (c.preferred_channel, "email", sizeof c.preferred_channel);
  wrk_notify_choose (&c, &p, &out);
  assert_string_equal (out.channel, "email");
  assert_string_equal (out.recipient, "ana@example.com");
  /* email failed for good: the notification's own channel, then the fallback */
  at_strlcpy (c.failed_channels, "email,whatsapp", sizeof c.failed_channels);
  wrk_notify_choose (&c, &p, &out);
  assert_string_equal (out.channel, "sms");
  assert_string_equal (out.recipient, "+5511999990000");
  at_strlcpy (c.failed_channels, "email,whatsapp,sms", sizeof c.failed_channels);
  wrk_notify_choose (&c, &p, &out);
  assert_int_equal (out.action, WRK_CHOICE_NONE);
  assert_non_null (strstr (out.reason, "sms: failed"));
}

static void
test_no_identity_or_provider (void **state)
{
  wrk_choice_policy_t p = s_policy ();
  p.routable_arg = "whatsapp email";   /* no SMS provider */
  wrk_choice_t out;
  at_notification_ctx_t c = s_ctx ("survey", "chat", "visitor-1",
                                   "{\"chat\":\"visitor-1\",\"phone\":\"+5511988887777\"}");
  wrk_notify_choose (&c, &p, &out);
  /* chat has no provider; whatsapp reaches the phone number; no email */
  assert_int_equal (out.action, WRK_CHOICE_SEND);
  assert_string_equal (out.channel, "whatsapp");
  assert_string_equal (out.recipient, "+5511988887777");
  c.identities_json = "{\"chat\":\"visitor-1\"}";
  wrk_notify_choose (&c, &p, &out);
  assert_int_equal (out.action, WRK_CHOICE_NONE);
  assert_non_null (strstr (out.reason, "chat: no provider"));
  assert_non_null (strstr (out.reason, "email: no identity"));
  c.identities_json = "not json";   /* never crashes on a bad read */
  wrk_notify_choose (&c, &p, &out);
  assert_int_equal (out.action, WRK_CHOICE_NONE);
}

static void
test_whatsapp_window (void **state)
{
  wrk_choice_policy_t p = s_policy ();
  wrk_choice_t out;
  at_notification_ctx_t c = s_ctx ("order_status", "whatsapp", "5511999990000",
                                   "{\"whatsapp\":\"5511999990000\",\"email\":\"a@b.example\"}");
  c.whatsapp_window = false;
  at_strlcpy (c.locale, "es", sizeof c.locale);
  wrk_notify_choose (&c, &p, &out);
  assert_string_equal (out.channel, "whatsapp");
  assert_string_equal (out.template_name, "order_update");
  assert_string_equal (out.template_lang, "es");
  at_strlcpy (c.kind, "reply", sizeof c.kind);       /* the wildcard template */
  wrk_notify_choose (&c, &p, &out);
  assert_string_equal (out.template_name, "generic");
  p.whatsapp_templates = s_list ("survey=nps_invite", AT_LIST_PAIRS);        /* none for replies: next channel */
  wrk_notify_choose (&c, &p, &out);
  assert_string_equal (out.channel, "email");
  assert_string_equal (out.template_name, "");
  p.whatsapp_direct = false;                         /* a BSP behind a webhook decides */
  wrk_notify_choose (&c, &p, &out);
  assert_string_equal (out.channel, "whatsapp");
  assert_string_equal (out.template_name, "");
}

static void
test_quiet_hours_and_cap (void **state)
{
  wrk_choice_policy_t p = s_policy ();
  wrk_choice_t out;
  at_notification_ctx_t c = s_ctx ("order_status", "whatsapp", "5511999990000",
                                   "{\"whatsapp\":\"5511999990000\"}");
  c.quiet = true;
  c.quiet_until_us = 1800000000000000LL;
  wrk_notify_choose (&c, &p, &out);
  assert_int_equal (out.action, WRK_CHOICE_HOLD);
  assert_int_equal (out.hold_until_us, 1800000000000000LL);
  assert_string_equal (out.reason, "quiet hours");
  /* a reply to a customer who just wrote is urgent: not held */
  at_strlcpy (c.kind, "reply", sizeof c.kind);
  c.customer_recent = true;
  wrk_notify_choose (&c, &p, &out);
  assert_int_equal (out.action, WRK_CHOICE_SEND);
  assert_true (out.urgent);
  /* a reply to someone who wrote long ago waits for the morning */
  c.customer_recent = false;
  wrk_notify_choose (&c, &p, &out);
  assert_int_equal (out.action, WRK_CHOICE_HOLD);
  /* frequency cap: the 4th order update in the window waits */
  c.quiet = false;
  at_strlcpy (c.kind, "order_status", sizeof c.kind);
  c.cap_sent = 3;
  c.cap_until_us = 1700000000000000LL;
  wrk_notify_choose (&c, &p, &out);
  assert_int_equal (out.action, WRK_CHOICE_HOLD);
  assert_string_equal (out.reason, "frequency cap");
  assert_true (out.hold_until_us > c.cap_until_us);
  c.cap_sent = 2;
  wrk_notify_choose (&c, &p, &out);
  assert_int_equal (out.action, WRK_CHOICE_SEND);
}

static void
test_reply_channel_first (void **state)
{
  wrk_choice_policy_t p = s_policy ();
  wrk_choice_t out;
  at_notification_ctx_t c = s_ctx ("reply", "email", "ana@example.com",
                                   "{\"whatsapp\":\"5511999990000\",\"email\":\"ana@example.com\"}");
  at_strlcpy (c.preferred_channel, "whatsapp", sizeof c.preferred_channel);
  wrk_notify_choose (&c, &p, &out);
  assert_string_equal (out.channel, "email");   /* answer where the customer wrote */
}

static void
test_template_list (void **state)
{
  char out[64];
  assert_true (wrk_notify_template_for (s_list ("a=x,b=y", AT_LIST_PAIRS), "b", out, sizeof out));
  assert_string_equal (out, "y");
  assert_false (wrk_notify_template_for (s_list ("a=x", AT_LIST_PAIRS), "b", out, sizeof out));
  assert_false (wrk_notify_template_for (s_list ("", AT_LIST_PAIRS), "b", out, sizeof out));
  assert_true (wrk_notify_template_for (s_list ("*=z,b=y", AT_LIST_PAIRS), "c", out, sizeof out));
  assert_string_equal (out, "z");
  assert_false (wrk_notify_template_for (s_list ("b=abcdefgh", AT_LIST_PAIRS), "b", out, 4));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_preferred_then_fallback), cmocka_unit_test (test_no_identity_or_provider),
    cmocka_unit_test (test_whatsapp_window),         cmocka_unit_test (test_quiet_hours_and_cap),
    cmocka_unit_test (test_reply_channel_first),     cmocka_unit_test (test_template_list),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
