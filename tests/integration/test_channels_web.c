/* The store's own web chat and contact form over real HTTP to a real api,
 * broker and ingest worker, signed with Standard Webhooks
 * (ATENDE_INBOUND_SECRET): a chat message makes a customer with a chat
 * identity (the visitor id), a contact form one with an email identity,
 * each a ticket and a message keyed by its id; the same post again makes
 * nothing; a wrong signature, an old timestamp or missing headers get 401
 * and nothing. */
#include <time.h>
#include "test_channels_support.h"
#include "at_crypto.h"

#define S_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static long
s_post (const ch_env_t *e, const char *path, const char *id, const char *body,
        long long when, const char *secret)
{
  char sig[128] = "", h_id[128], h_ts[64], h_sig[160];
  if (secret)
    at_webhook_sign (secret, id, when, body, strlen (body), sig, sizeof sig);
  snprintf (h_id, sizeof h_id, "webhook-id: %s", id);
  snprintf (h_ts, sizeof h_ts, "webhook-timestamp: %lld", when);
  snprintf (h_sig, sizeof h_sig, "webhook-signature: %s", sig);
  const char *headers[] = { h_id, h_ts, h_sig, NULL };
  return ch_http (e, path, "application/json", body, strlen (body), secret ? headers : NULL,
                  NULL, NULL, 0);
}

int
main (void)
{
  ch_env_t e;
  const char *env[] = { "ATENDE_INBOUND_SECRET=" S_SECRET, NULL };
  ch_start (&e, "channels_web", env);
  long long now = (long long) time (NULL);
  const char *chat = "{\"visitor_id\":\"v-8d2f4e\",\"name\":\"Carla\",\"text\":\"Vocês entregam"
                     " em Recife?\",\"message_id\":\"chat-msg-1\"}";
  const char *form = "{\"email\":\"Carla@Example.com\",\"name\":\"Carla Dias\",\"subject\":"
                     "\"Nota fiscal\",\"text\":\"Preciso da nota fiscal do pedido PED-9\"}";

  ch_counts_t before = ch_counts (&e);
  IT_CHECK (s_post (&e, "/v1/channels/chat", "msg_1", chat, now,
                    "whsec_aGVsbG8gd29ybGQgdGhpcyBpcyBub3QgaXQ=") == 401, "wrong secret");
  IT_CHECK (s_post (&e, "/v1/channels/chat", "msg_1", chat, now - 3600, S_SECRET) == 401,
            "old timestamp");
  IT_CHECK (s_post (&e, "/v1/channels/form", "msg_2", form, now, NULL) == 401, "no headers");
  ch_counts_t after = ch_counts (&e);
  ch_same_counts (&before, &after, "refused posts");

  IT_CHECK (s_post (&e, "/v1/channels/chat", "msg_1", chat, now, S_SECRET) == 202, "chat");
  IT_CHECK (s_post (&e, "/v1/channels/form", "msg_2", form, now, S_SECRET) == 202, "form");
  ch_wait_ingested (&e);
  ch_expect (&e, "SELECT count(*) FROM identity WHERE kind = 'chat' AND value = 'v-8d2f4e'", 1);
  ch_expect (&e, "SELECT count(*) FROM identity WHERE kind = 'email' AND value ="
                 " 'carla@example.com'", 1);
  ch_expect (&e, "SELECT count(*) FROM ticket_message WHERE direction = 'in' AND channel ="
                 " 'chat' AND provider_message_id = 'chat-msg-1'", 1);
  /* the form has no id of its own: webhook-id is the dedup key */
  ch_expect (&e, "SELECT count(*) FROM ticket_message WHERE direction = 'in' AND channel ="
                 " 'form' AND provider_message_id = 'msg_2'", 1);
  ch_expect (&e, "SELECT count(*) FROM ticket WHERE subject = 'Nota fiscal'", 1);
  before = ch_counts (&e);
  IT_CHECK (before.customers == 2 && before.tickets == 2 && before.messages == 2,
            "two of each: %lld %lld %lld", before.customers, before.tickets, before.messages);

  IT_CHECK (s_post (&e, "/v1/channels/chat", "msg_1", chat, now + 2, S_SECRET) == 202, "retry");
  IT_CHECK (s_post (&e, "/v1/channels/form", "msg_2", form, now + 2, S_SECRET) == 202, "retry");
  ch_wait_ingested (&e);
  after = ch_counts (&e);
  before.bus = after.bus;
  ch_same_counts (&before, &after, "retried posts");

  /* signed but not valid: 422, nothing */
  before = ch_counts (&e);
  IT_CHECK (s_post (&e, "/v1/channels/form", "msg_3", "{\"email\":\"not-an-address\","
                    "\"text\":\"x\"}", now, S_SECRET) == 422, "bad email");
  after = ch_counts (&e);
  ch_same_counts (&before, &after, "an invalid form");
  ch_stop (&e);
  printf ("ok\n");
  return 0;
}
