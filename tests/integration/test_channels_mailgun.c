/* Mailgun inbound route (parsed form) over real HTTP to a real api, broker
 * and ingest worker: a signed post becomes a customer with an email
 * identity, a ticket and a message keyed by the email's Message-ID; a retry
 * (Mailgun signs it anew: new timestamp and token) makes nothing; a wrong
 * signature, a timestamp outside the replay window or a form without a
 * signature gets 401 and nothing; an email without a sender gets 406; an
 * email with an attachment (multipart/form-data) keeps it as the message's
 * attachment (name, type, size). */
#include <time.h>
#include "test_channels_support.h"
#include "at_channel_sig.h"

#define S_KEY "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"

/* Percent-encodes text into out (a form value). */
static void
s_encode (const char *text, char *out, size_t cap)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t o = 0;
  for (const unsigned char *c = (const unsigned char *) text; *c && o + 4 < cap; c++) {
    if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
        || strchr ("-._~", *c))
      out[o++] = (char) *c;
    else {
      out[o++] = '%';
      out[o++] = hex[*c >> 4];
      out[o++] = hex[*c & 15];
    }
  }
  out[o] = '\0';
}

/* Posts an email's fields signed at `when` with `token` (key NULL: unsigned). */
static long
s_post (const ch_env_t *e, const char *fields, long long when, const char *token,
        const char *key)
{
  char ts[32], sig[65] = "", body[8192];
  snprintf (ts, sizeof ts, "%lld", when);
  if (key)
    at_sig_mailgun_sign (key, ts, token, sig);
  if (key)
    snprintf (body, sizeof body, "%s&timestamp=%s&token=%s&signature=%s", fields, ts, token, sig);
  else
    snprintf (body, sizeof body, "%s", fields);
  return ch_http (e, "/v1/channels/mailgun", "application/x-www-form-urlencoded", body,
                  strlen (body), NULL, NULL, NULL, 0);
}

/* The form fields of Maria's email, percent-encoded. */
static void
s_fields (char *fields, size_t cap)
{
  char from[128], subject[128], text[256], headers[512];
  s_encode ("Maria Oliveira <Maria.Oliveira@Example.com.br>", from, sizeof from);
  s_encode ("Troca de produto", subject, sizeof subject);
  s_encode ("Bom dia, quero trocar o t\xc3\xaanis do pedido PED-77.\n\n-- \nMaria", text,
            sizeof text);
  s_encode ("[[\"Message-Id\", \"<CAF=abc123@mail.example.com.br>\"], [\"Subject\", "
            "\"Troca de produto\"]]", headers, sizeof headers);
  snprintf (fields, cap, "recipient=suporte%%40loja.example&sender=maria.oliveira%%40"
            "example.com.br&from=%s&subject=%s&body-plain=%s&message-headers=%s", from,
            subject, text, headers);
}

/* a wrong key, a timestamp outside the replay window, no signature: 401,
 * nothing */
static void
s_check_refused (const ch_env_t *e, const char *fields, long long now)
{
  ch_counts_t before = ch_counts (e);
  IT_CHECK (s_post (e, fields, now, "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0",
                    "key-wrong") == 401, "wrong key");
  IT_CHECK (s_post (e, fields, now - 3600, "b8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0",
                    S_KEY) == 401, "outside the replay window");
  IT_CHECK (s_post (e, fields, now, "x", NULL) == 401, "no signature");
  ch_counts_t after = ch_counts (e);
  ch_same_counts (&before, &after, "refused posts");
}

/* the signed post: a customer, an email identity, a ticket, a message;
 * returns the counts after it */
static ch_counts_t
s_check_signed (const ch_env_t *e, const char *fields, long long now)
{
  IT_CHECK (s_post (e, fields, now, "c8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0",
                    S_KEY) == 200, "signed post");
  ch_wait_ingested (e);
  ch_expect (e, "SELECT count(*) FROM identity WHERE kind = 'email' AND value ="
                " 'maria.oliveira@example.com.br'", 1);
  ch_expect (e, "SELECT count(*) FROM customer WHERE name = 'Maria Oliveira'", 1);
  ch_expect (e, "SELECT count(*) FROM ticket WHERE channel = 'email'", 1);
  ch_expect (e, "SELECT count(*) FROM ticket_message WHERE direction = 'in' AND channel ="
                " 'email' AND provider_message_id LIKE '%abc123@mail.example.com.br%'", 1);
  ch_counts_t before = ch_counts (e);
  IT_CHECK (before.customers == 1 && before.tickets == 1 && before.messages == 1,
            "one of each: %lld %lld %lld", before.customers, before.tickets, before.messages);
  return before;
}

/* Mailgun's retry: the same email, signed anew */
static void
s_check_retry (const ch_env_t *e, const char *fields, long long now, ch_counts_t before)
{
  IT_CHECK (s_post (e, fields, now + 1, "d8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0",
                    S_KEY) == 200, "retry");
  ch_wait_ingested (e);
  ch_counts_t after = ch_counts (e);
  before.bus = after.bus;
  ch_same_counts (&before, &after, "the retried post");
}

/* signed, but no sender: 406 so that Mailgun stops retrying */
static void
s_check_no_sender (const ch_env_t *e, long long now)
{
  ch_counts_t before = ch_counts (e);
  IT_CHECK (s_post (e, "subject=x&body-plain=y", now, "e8ce0edb2dd8301dee6c2405235584e45a",
                    S_KEY) == 406, "email without sender");
  ch_counts_t after = ch_counts (e);
  ch_same_counts (&before, &after, "the unusable email");
}

/* with an attachment Mailgun posts multipart/form-data */
static void
s_check_attachment (const ch_env_t *e, long long now)
{
  char mp[4096], ts[32], sig[65];
  const char *token = "f8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0";
  snprintf (ts, sizeof ts, "%lld", now);
  at_sig_mailgun_sign (S_KEY, ts, token, sig);
  int n = snprintf (mp, sizeof mp,
      "--b0undary\r\nContent-Disposition: form-data; name=\"from\"\r\n\r\n"
      "Paulo <paulo@example.org>\r\n"
      "--b0undary\r\nContent-Disposition: form-data; name=\"subject\"\r\n\r\nComprovante\r\n"
      "--b0undary\r\nContent-Disposition: form-data; name=\"body-plain\"\r\n\r\n"
      "Segue o comprovante do pagamento.\r\n"
      "--b0undary\r\nContent-Disposition: form-data; name=\"Message-Id\"\r\n\r\n"
      "<pay-1@example.org>\r\n"
      "--b0undary\r\nContent-Disposition: form-data; name=\"timestamp\"\r\n\r\n%s\r\n"
      "--b0undary\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n%s\r\n"
      "--b0undary\r\nContent-Disposition: form-data; name=\"signature\"\r\n\r\n%s\r\n"
      "--b0undary\r\nContent-Disposition: form-data; name=\"attachment-1\"; "
      "filename=\"comprovante.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
      "%%PDF-1.4 fake\r\n--b0undary--\r\n", ts, token, sig);
  long status = ch_http (e, "/v1/channels/mailgun", "multipart/form-data; boundary=b0undary",
                         mp, (size_t) n, NULL, NULL, NULL, 0);
  IT_CHECK (status == 200, "multipart post: %ld", status);
  ch_wait_ingested (e);
  ch_expect (e, "SELECT count(*) FROM attachment a JOIN ticket_message m ON m.id ="
                " a.ticket_message_id WHERE a.name = 'comprovante.pdf' AND a.content_type ="
                " 'application/pdf' AND a.size = 13 AND m.provider_message_id LIKE"
                " '%pay-1@example.org%'", 1);
}

int
main (void)
{
  ch_env_t e;
  char fields[4096];
  const char *env[] = { "ATENDE_MAILGUN_SIGNING_KEY=" S_KEY, NULL };
  ch_start (&e, "channels_mailgun", env);
  s_fields (fields, sizeof fields);
  long long now = (long long) time (NULL);

  s_check_refused (&e, fields, now);
  ch_counts_t one = s_check_signed (&e, fields, now);
  s_check_retry (&e, fields, now, one);
  s_check_no_sender (&e, now);
  s_check_attachment (&e, now);
  ch_stop (&e);
  printf ("ok\n");
  return 0;
}
