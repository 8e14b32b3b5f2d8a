/* Messenger and Instagram webhooks (Meta's object "page" / "instagram") over
 * real HTTP to a real api, broker and ingest worker: a signed delivery makes
 * a customer with a messenger (or instagram) identity, the page-scoped id, a
 * ticket and a message keyed by its mid; our own echoes and delivery
 * receipts make nothing; a retry makes nothing; the app secret is chosen by
 * the page id (page=secret list with no default), so another app's or a
 * wrong signature gets 401 and nothing. */
#include "test_channels_support.h"
#include "at_channel_sig.h"

static const char s_messenger[] =
    "{\"object\":\"page\",\"entry\":[{\"id\":\"1234567890\",\"time\":1458692752478,\"messaging\":["
    "{\"sender\":{\"id\":\"24680135792468\"},\"recipient\":{\"id\":\"1234567890\"},"
    "\"timestamp\":1458692752478,\"message\":{\"mid\":\"m_1457764197618:41d102a3e1ae206a38\","
    "\"text\":\"Quero trocar o tamanho da camiseta\"}},"
    "{\"sender\":{\"id\":\"1234567890\"},\"recipient\":{\"id\":\"24680135792468\"},"
    "\"timestamp\":1458692752479,\"message\":{\"mid\":\"m_echo1\",\"text\":\"ok\",\"is_echo\":true}},"
    "{\"sender\":{\"id\":\"24680135792468\"},\"recipient\":{\"id\":\"1234567890\"},"
    "\"timestamp\":1458692752480,\"delivery\":{\"mids\":[\"m_echo1\"],\"watermark\":1458668856253}}"
    "]}]}";

static const char s_instagram[] =
    "{\"object\":\"instagram\",\"entry\":[{\"id\":\"17841400000000000\",\"time\":1569262486134,"
    "\"messaging\":[{\"sender\":{\"id\":\"987654321012345\"},\"recipient\":{\"id\":"
    "\"17841400000000000\"},\"timestamp\":1569262485349,\"message\":{\"mid\":"
    "\"aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAw\",\"text\":\"Tem na cor azul?\"}}]}]}";

static long
s_post (const ch_env_t *e, const char *path, const char *body, const char *secret)
{
  char sig[128], header[160];
  const char *headers[] = { header, NULL };
  at_sig_meta_sign (secret, body, strlen (body), sig, sizeof sig);
  snprintf (header, sizeof header, "X-Hub-Signature-256: %s", sig);
  return ch_http (e, path, "application/json", body, strlen (body), headers, NULL, NULL, 0);
}

int
main (void)
{
  ch_env_t e;
  const char *env[] = {
    "ATENDE_META_APP_SECRET=1234567890=page-secret,17841400000000000=ig-secret", NULL,
  };
  ch_start (&e, "channels_meta_pages", env);

  ch_counts_t before = ch_counts (&e);
  IT_CHECK (s_post (&e, "/v1/channels/messenger", s_messenger, "ig-secret") == 401,
            "another account's secret");
  IT_CHECK (s_post (&e, "/v1/channels/instagram", s_instagram, "page-secret") == 401,
            "another account's secret");
  ch_counts_t after = ch_counts (&e);
  ch_same_counts (&before, &after, "refused deliveries");

  IT_CHECK (s_post (&e, "/v1/channels/messenger", s_messenger, "page-secret") == 200,
            "messenger delivery");
  IT_CHECK (s_post (&e, "/v1/channels/instagram", s_instagram, "ig-secret") == 200,
            "instagram delivery");
  ch_wait_ingested (&e);
  ch_expect (&e, "SELECT count(*) FROM identity WHERE kind = 'messenger' AND value ="
                 " '24680135792468'", 1);
  ch_expect (&e, "SELECT count(*) FROM identity WHERE kind = 'instagram' AND value ="
                 " '987654321012345'", 1);
  ch_expect (&e, "SELECT count(*) FROM ticket WHERE channel IN ('messenger', 'instagram')", 2);
  ch_expect (&e, "SELECT count(*) FROM ticket_message WHERE direction = 'in' AND channel ="
                 " 'messenger' AND provider_message_id = 'm_1457764197618:41d102a3e1ae206a38'"
                 " AND body = 'Quero trocar o tamanho da camiseta'", 1);
  ch_expect (&e, "SELECT count(*) FROM ticket_message WHERE direction = 'in' AND channel ="
                 " 'instagram' AND provider_message_id ="
                 " 'aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAw'", 1);
  before = ch_counts (&e);
  IT_CHECK (before.customers == 2 && before.messages == 2, "echo or receipt made rows: "
            "customers %lld messages %lld", before.customers, before.messages);

  IT_CHECK (s_post (&e, "/v1/channels/messenger", s_messenger, "page-secret") == 200, "retry");
  IT_CHECK (s_post (&e, "/v1/channels/instagram", s_instagram, "ig-secret") == 200, "retry");
  ch_wait_ingested (&e);
  after = ch_counts (&e);
  before.bus = after.bus;
  ch_same_counts (&before, &after, "retried deliveries");
  ch_stop (&e);
  printf ("ok\n");
  return 0;
}
