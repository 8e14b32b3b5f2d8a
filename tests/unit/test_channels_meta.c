/* Meta webhook JSON: WhatsApp messages and statuses, Messenger and
 * Instagram messaging, what is skipped and what is refused. The deliveries
 * follow the examples of Meta's webhook documentation (also the fuzz corpus
 * in tests/fuzz/corpus/meta_json/). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "at_meta.h"

static const char s_whatsapp_text[] =
  "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"102290129340398\",\"changes\":[{\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":{\"display_phone_number\":\"15550783881\",\"phone_number_id\":\"106540352242922\"},\"contacts\":[{\"profile\":{\"name\":\"Sheena Nelson\"},\"wa_id\":\"16505551234\"}],\"messages\":[{\"from\":\"16505551234\",\"id\":\"wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=\",\"timestamp\":\"1749416383\",\"type\":\"text\",\"text\":{\"body\":\"Does it come in another color?\"}}]},\"field\":\"messages\"}]}]}";

static const char s_whatsapp_status[] =
  "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"102290129340398\",\"changes\":[{\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":{\"display_phone_number\":\"15550783881\",\"phone_number_id\":\"106540352242922\"},\"statuses\":[{\"id\":\"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjM3QUY5QjQ4NzMwRTQA\",\"status\":\"delivered\",\"timestamp\":\"1750263773\",\"recipient_id\":\"16505551234\",\"pricing\":{\"billable\":true,\"pricing_model\":\"PMP\",\"category\":\"utility\"}},{\"id\":\"wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjM3QUY5QjQ4NzMwRTUA\",\"status\":\"failed\",\"timestamp\":\"1750263774\",\"recipient_id\":\"16505551234\",\"errors\":[{\"code\":131047,\"title\":\"Re-engagement message\"}]}]},\"field\":\"messages\"}]}]}";

static const char s_messenger_text[] =
  "{\"object\":\"page\",\"entry\":[{\"id\":\"1234567890\",\"time\":1458692752478,\"messaging\":[{\"sender\":{\"id\":\"24680135792468\"},\"recipient\":{\"id\":\"1234567890\"},\"timestamp\":1458692752478,\"message\":{\"mid\":\"m_1457764197618:41d102a3e1ae206a38\",\"text\":\"Ol\xc3\xa1, meu pedido n\xc3\xa3o chegou\"}},{\"sender\":{\"id\":\"1234567890\"},\"recipient\":{\"id\":\"24680135792468\"},\"timestamp\":1458692752479,\"message\":{\"mid\":\"m_echo1\",\"text\":\"our reply\",\"is_echo\":true}},{\"sender\":{\"id\":\"24680135792468\"},\"recipient\":{\"id\":\"1234567890\"},\"timestamp\":1458692752480,\"delivery\":{\"mids\":[\"m_x\"],\"watermark\":1458668856253}}]}]}";

static const char s_instagram_media[] =
  "{\"object\":\"instagram\",\"entry\":[{\"id\":\"17841400000000000\",\"time\":1569262486134,\"messaging\":[{\"sender\":{\"id\":\"987654321012345\"},\"recipient\":{\"id\":\"17841400000000000\"},\"timestamp\":1569262485349,\"message\":{\"mid\":\"aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAw\",\"attachments\":[{\"type\":\"image\",\"payload\":{\"url\":\"https://lookaside.example/img\"}}]}}]}]}";

static at_meta_batch_t *
s_parse (const char *body)
{
  char reason[160];
  at_meta_batch_t *b = NULL;
  if (at_meta_parse (body, strlen (body), &b, reason, sizeof reason) != AT_OK)
    fail_msg ("refused: %s", reason);
  return b;
}

static void
s_refused (const char *body)
{
  char reason[160];
  at_meta_batch_t *b = NULL;
  assert_int_equal (at_meta_parse (body, strlen (body), &b, reason, sizeof reason), AT_INVALID);
  assert_null (b);
  assert_true (reason[0] != '\0');
}

static void
test_whatsapp_text (void **state)
{
  at_meta_batch_t *b = s_parse (s_whatsapp_text);
  assert_string_equal (b->object, "whatsapp_business_account");
  assert_string_equal (b->account, "106540352242922");
  assert_int_equal (b->message_count, 1);
  assert_int_equal (b->status_count, 0);
  const at_meta_message_t *m = &b->messages[0];
  assert_string_equal (m->channel, "whatsapp");
  assert_string_equal (m->sender, "16505551234");
  assert_string_equal (m->name, "Sheena Nelson");
  assert_string_equal (m->id, "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=");
  assert_string_equal (m->text, "Does it come in another color?");
  assert_int_equal (m->timestamp_us, 1749416383LL * 1000000);
  at_meta_batch_destroy (&b);
  assert_null (b);
}

static void
test_whatsapp_statuses (void **state)
{
  at_meta_batch_t *b = s_parse (s_whatsapp_status);
  assert_int_equal (b->message_count, 0);
  assert_int_equal (b->status_count, 2);
  assert_string_equal (b->statuses[0].status, "delivered");
  assert_string_equal (b->statuses[0].id, "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjM3QUY5QjQ4NzMwRTQA");
  assert_string_equal (b->statuses[0].recipient, "16505551234");
  assert_string_equal (b->statuses[0].error, "");
  assert_string_equal (b->statuses[1].status, "failed");
  assert_string_equal (b->statuses[1].error, "131047 Re-engagement message");
  at_meta_batch_destroy (&b);
}

static void
test_whatsapp_types (void **state)
{
  at_meta_batch_t *b = s_parse (
      "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"1\",\"changes\":[{\"field\":"
      "\"messages\",\"value\":{\"metadata\":{\"phone_number_id\":\"55\"},\"messages\":["
      "{\"from\":\"5511987654321\",\"id\":\"w1\",\"type\":\"image\",\"image\":{\"caption\":\"foto\"}},"
      "{\"from\":\"5511987654321\",\"id\":\"w2\",\"type\":\"interactive\",\"interactive\":"
      "{\"type\":\"button_reply\",\"button_reply\":{\"id\":\"b\",\"title\":\"Sim\"}}},"
      "{\"from\":\"5511987654321\",\"id\":\"w3\",\"type\":\"reaction\",\"reaction\":{\"emoji\":\"x\"}},"
      "{\"from\":\"5511987654321\",\"id\":\"w4\",\"type\":\"unsupported\"}]}},"
      "{\"field\":\"account_update\",\"value\":{}}]}]}");
  assert_int_equal (b->message_count, 2);
  assert_string_equal (b->messages[0].text, "[image] foto");
  assert_string_equal (b->messages[0].name, "");
  assert_string_equal (b->messages[1].text, "Sim");
  assert_int_equal (b->skipped, 3);
  at_meta_batch_destroy (&b);
}

static void
test_messenger (void **state)
{
  at_meta_batch_t *b = s_parse (s_messenger_text);
  assert_string_equal (b->account, "1234567890");
  assert_int_equal (b->message_count, 1);
  assert_int_equal (b->skipped, 2);   /* our echo and a delivery receipt */
  assert_string_equal (b->messages[0].channel, "messenger");
  assert_string_equal (b->messages[0].sender, "24680135792468");
  assert_string_equal (b->messages[0].id, "m_1457764197618:41d102a3e1ae206a38");
  assert_string_equal (b->messages[0].text, "Ol\xc3\xa1, meu pedido n\xc3\xa3o chegou");
  assert_int_equal (b->messages[0].timestamp_us, 1458692752478LL * 1000);
  at_meta_batch_destroy (&b);
}

static void
test_instagram (void **state)
{
  at_meta_batch_t *b = s_parse (s_instagram_media);
  assert_int_equal (b->message_count, 1);
  assert_string_equal (b->messages[0].channel, "instagram");
  assert_string_equal (b->messages[0].text, "[image]");
  assert_string_equal (b->messages[0].account, "17841400000000000");
  at_meta_batch_destroy (&b);
}

static void
test_refused (void **state)
{
  s_refused ("");
  s_refused ("[]");
  s_refused ("{\"object\":\"user\",\"entry\":[]}");
  s_refused ("{\"object\":\"page\"}");
  s_refused ("{\"object\":\"page\",\"entry\":[1]}");
  s_refused ("{\"object\":\"page\",\"object\":\"page\",\"entry\":[]}");
  s_refused ("{\"object\":\"page\",\"entry\":[{\"id\":\"1\",\"messaging\":[{\"sender\":{},"
             "\"message\":{\"mid\":\"m\",\"text\":\"oi\"}}]}]}");
  s_refused ("{\"object\":\"page\",\"entry\":[{\"id\":\"1\",\"messaging\":[{\"sender\":{\"id\":\"2\"},"
             "\"message\":{\"text\":\"oi\"}}]}]}");
  s_refused ("{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":[{\"field\":"
             "\"messages\",\"value\":{\"messages\":[]}}]}]}");   /* no phone_number_id */
  s_refused ("{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":[{\"field\":"
             "\"messages\",\"value\":{\"metadata\":{\"phone_number_id\":\"1\"},\"messages\":"
             "[{\"type\":\"text\",\"id\":\"x\",\"text\":{\"body\":\"oi\"}}]}}]}]}");   /* no from */
  /* more items than one delivery may hold */
  size_t cap = 64 + (AT_META_ITEMS_MAX + 1) * 80;
  char *big = malloc (cap);
  size_t n = (size_t) snprintf (big, cap, "{\"object\":\"page\",\"entry\":[{\"id\":\"1\",\"messaging\":[");
  for (int i = 0; i <= AT_META_ITEMS_MAX; i++)
    n += (size_t) snprintf (big + n, cap - n, "%s{\"sender\":{\"id\":\"2\"},\"message\":{\"mid\":\"m%d\",\"text\":\"oi\"}}",
                            i ? "," : "", i);
  snprintf (big + n, cap - n, "]}]}");
  s_refused (big);
  free (big);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_whatsapp_text),
    cmocka_unit_test (test_whatsapp_statuses),
    cmocka_unit_test (test_whatsapp_types),
    cmocka_unit_test (test_messenger),
    cmocka_unit_test (test_instagram),
    cmocka_unit_test (test_refused),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
