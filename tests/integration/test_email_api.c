/* Raw email over real HTTP: POST /v1/channels/email signed with Standard
 * Webhooks to a real api + broker + ingest worker, then the customer,
 * identity, ticket, ticket_message and attachment rows; the same request
 * again creates nothing; a bad signature is 401 and publishes nothing;
 * replies thread by In-Reply-To (to a stored message and to a notification
 * atende sent) and by the subject's ticket tag only from the ticket's own
 * customer; a fresh email joins the open ticket, or opens a new one. */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "it.h"
#include "at_crypto.h"
#include "at_email.h"

#define WAIT_MS 30000
#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static char s_api[64];
static PGconn *s_db;
static int s_seq;

/* POSTs a raw message signed (or with a wrong signature); returns the status. */
static long
s_post (const char *raw, bool good_signature)
{
  char url[128], id[64], ts[32], sig[128], h_id[96], h_ts[64], h_sig[200];
  snprintf (url, sizeof url, "%s/v1/channels/email", s_api);
  snprintf (id, sizeof id, "msg_relay_%d", ++s_seq);
  long long now = (long long) time (NULL);
  snprintf (ts, sizeof ts, "%lld", now);
  IT_CHECK (at_webhook_sign (good_signature ? SECRET : "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAA", id,
                             now, raw, strlen (raw), sig, sizeof sig) == AT_OK, "sign");
  snprintf (h_id, sizeof h_id, "webhook-id: %s", id);
  snprintf (h_ts, sizeof h_ts, "webhook-timestamp: %s", ts);
  snprintf (h_sig, sizeof h_sig, "webhook-signature: %s", sig);
  struct curl_slist *headers = NULL;
  headers = curl_slist_append (headers, "Content-Type: message/rfc822");
  headers = curl_slist_append (headers, h_id);
  headers = curl_slist_append (headers, h_ts);
  headers = curl_slist_append (headers, h_sig);
  CURL *curl = curl_easy_init ();
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (curl, CURLOPT_POSTFIELDS, raw);
  curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, (long) strlen (raw));
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, 30L);
  FILE *sink = fopen ("/dev/null", "w");
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, sink);
  long status = -1;
  if (curl_easy_perform (curl) == CURLE_OK)
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
  fclose (sink);
  curl_easy_cleanup (curl);
  curl_slist_free_all (headers);
  return status;
}

#define s_q(...) it_db_scalarf (s_db, __VA_ARGS__)

static bool
s_drained (void *arg)
{
  return it_db_scalar (s_db, "SELECT count(*) FROM bus_message WHERE stage = 'ingest'") == 0;
}

/* Waits for the ticket_message of a Message-ID; returns its ticket id. */
static long long
s_ticket_of (const char *message_id)
{
  char sql[512];
  snprintf (sql, sizeof sql, "SELECT count(*) FROM ticket_message WHERE email_message_id = '%s'",
            message_id);
  IT_CHECK (it_wait_scalar (s_db, sql, 1, WAIT_MS) == 1, "message %s not recorded", message_id);
  return s_q ("SELECT ticket_id FROM ticket_message WHERE email_message_id = '%s'", message_id);
}

static char *
s_email (const char *from, const char *message_id, const char *extra_headers,
         const char *subject, const char *body)
{
  char *raw = malloc (8192);
  snprintf (raw, 8192,
            "From: %s\r\nTo: atendimento@loja.example\r\nSubject: %s\r\n"
            "Message-ID: <%s>\r\n%sMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
            from, subject, message_id, extra_headers, body);
  return raw;
}

static const char s_first[] =
  "From: Ana Souza <Ana@Example.com>\r\n"
  "To: atendimento@loja.example\r\n"
  "Subject: =?UTF-8?Q?Pedido_n=C3=A3o_chegou?=\r\n"
  "Message-ID: <first-ana@mail.example>\r\n"
  "MIME-Version: 1.0\r\n"
  "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n"
  "--m\r\n"
  "Content-Type: text/plain; charset=iso-8859-1\r\n"
  "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
  "Ol=E1, meu pedido 4521 ainda n=E3o chegou.\r\n\r\n"
  "-- \r\nAna\r\n"
  "--m\r\n"
  "Content-Type: application/pdf\r\n"
  "Content-Disposition: attachment; filename=\"nota.pdf\"\r\n"
  "Content-Transfer-Encoding: base64\r\n\r\n"
  "JVBERi0xLjQgbm90YQo=\r\n"
  "--m--\r\n";

static void
s_first_message (void)
{
  IT_CHECK (s_post (s_first, true) == 202, "first email accepted");
  long long ticket = s_ticket_of ("first-ana@mail.example");
  IT_CHECK (s_q ("SELECT count(*) FROM customer") == 1, "one customer");
  IT_CHECK (s_q ("SELECT count(*) FROM identity WHERE kind = 'email'"
                 " AND value = 'ana@example.com'") == 1, "identity lower-cased");
  IT_CHECK (s_q ("SELECT count(*) FROM customer WHERE name = 'Ana Souza'") == 1, "name");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket WHERE id = %lld AND channel = 'email'"
                 " AND subject = 'Pedido não chegou'", ticket) == 1, "ticket subject");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket_message WHERE ticket_id = %lld"
                 " AND body = 'Olá, meu pedido 4521 ainda não chegou.' AND language = 'pt'"
                 " AND full_body LIKE '%%-- %%Ana' AND provider_message_id = 'first-ana@mail.example'",
                 ticket) == 1, "message body stripped, full kept, language pt");
  IT_CHECK (s_q ("SELECT count(*) FROM attachment a JOIN attachment_content c"
                 " ON c.attachment_id = a.id WHERE a.name = 'nota.pdf'"
                 " AND a.content_type = 'application/pdf' AND a.size = 14"
                 " AND c.content = '%%PDF-1.4 nota'::bytea || '\\x0a'::bytea") == 1,
            "attachment row and bytes apart");
  /* the relay retries: nothing new */
  IT_CHECK (s_post (s_first, true) == 202, "retry accepted");
  IT_CHECK (it_wait_until (s_drained, NULL, WAIT_MS), "retry processed");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket_message") == 1, "no second message");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket") == 1, "no second ticket");
  IT_CHECK (s_q ("SELECT count(*) FROM attachment") == 1, "no second attachment");
  /* a bad signature: 401 and nothing published */
  long long bus_before = s_q ("SELECT count(*) FROM bus_message") + s_q ("SELECT count(*) FROM bus_dead");
  char *forged = s_email ("ana@example.com", "forged@x", "", "x", "forjado");
  IT_CHECK (s_post (forged, false) == 401, "bad signature refused");
  free (forged);
  IT_CHECK (s_q ("SELECT count(*) FROM bus_message") + s_q ("SELECT count(*) FROM bus_dead")
            == bus_before, "nothing published");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket_message WHERE email_message_id = 'forged@x'") == 0,
            "nothing stored");
}

static void
s_threading (void)
{
  long long ticket = s_q ("SELECT ticket_id FROM ticket_message"
                          " WHERE email_message_id = 'first-ana@mail.example'");
  /* resolved, then a reply by In-Reply-To reopens it */
  s_q ("UPDATE ticket SET status = 'resolved', resolved_at = now() WHERE id = %lld RETURNING 1",
       ticket);
  char *raw = s_email ("ana@example.com", "reply-1@mail.example",
                       "In-Reply-To: <first-ana@mail.example>\r\n", "Re: Pedido",
                       "Alguma novidade?\r\n\r\nEm seg., 16 de nov., Loja escreveu:\r\n> antigo");
  IT_CHECK (s_post (raw, true) == 202, "reply accepted");
  free (raw);
  IT_CHECK (s_ticket_of ("reply-1@mail.example") == ticket, "threaded by In-Reply-To");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket WHERE id = %lld AND status = 'open'"
                 " AND resolved_at IS NULL", ticket) == 1, "reopened");
  /* a reply to a notification atende sent (Message-ID atende.<uuid>@domain) */
  const char *nid = "018f0000-0000-7000-8000-0000000000ab";
  s_q ("INSERT INTO notification (id, customer_id, ticket_id, kind, channel, recipient, body)"
       " SELECT '%s', customer_id, id, 'reply', 'email', 'ana@example.com', 'Olá' FROM ticket"
       " WHERE id = %lld RETURNING 1", nid, ticket);
  char mid[AT_EMAIL_ID_MAX], header[2 * AT_EMAIL_ID_MAX + 64];
  IT_CHECK (at_email_message_id_for_notification (nid, "atende.invalid", mid, sizeof mid) == AT_OK,
            "outbound id");
  snprintf (header, sizeof header, "In-Reply-To: <%s>\r\nReferences: <other@x> <%s>\r\n", mid, mid);
  raw = s_email ("ana@example.com", "reply-2@mail.example", header, "Re: Resposta", "Obrigada!");
  IT_CHECK (s_post (raw, true) == 202, "reply to notification accepted");
  free (raw);
  IT_CHECK (s_ticket_of ("reply-2@mail.example") == ticket, "threaded by our Message-ID");
  /* by the subject's tag, from the ticket's customer */
  char subject[64];
  snprintf (subject, sizeof subject, "[#%lld] mais uma coisa", ticket);
  raw = s_email ("ANA@example.com", "tag-1@mail.example", "", subject, "Esqueci de dizer.");
  IT_CHECK (s_post (raw, true) == 202, "tagged accepted");
  free (raw);
  IT_CHECK (s_ticket_of ("tag-1@mail.example") == ticket, "threaded by tag");
  /* the same tag from someone else: their own new ticket */
  raw = s_email ("eve@example.net", "tag-eve@mail.example", "", subject, "Quero ver esse pedido.");
  IT_CHECK (s_post (raw, true) == 202, "other sender accepted");
  free (raw);
  long long eve_ticket = s_ticket_of ("tag-eve@mail.example");
  IT_CHECK (eve_ticket != ticket, "tag from another sender does not thread");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket t JOIN identity i ON i.customer_id = t.customer_id"
                 " WHERE t.id = %lld AND i.value = 'eve@example.net'", eve_ticket) == 1,
            "eve's ticket is eve's");
  /* a fresh email (no thread headers, no tag) joins the customer's open,
   * recent email ticket; once that is resolved, it opens a new one */
  raw = s_email ("ana@example.com", "fresh-1@mail.example", "", "Outra coisa", "E o boleto?");
  IT_CHECK (s_post (raw, true) == 202, "fresh accepted");
  free (raw);
  IT_CHECK (s_ticket_of ("fresh-1@mail.example") == ticket, "fresh email joins open ticket");
  s_q ("UPDATE ticket SET status = 'resolved', resolved_at = now() WHERE id = %lld RETURNING 1",
       ticket);
  raw = s_email ("ana@example.com", "new-2@mail.example", "", "Outro assunto", "Outra compra.");
  IT_CHECK (s_post (raw, true) == 202, "new accepted");
  free (raw);
  IT_CHECK (s_ticket_of ("new-2@mail.example") != ticket, "new conversation, new ticket");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket WHERE id = %lld AND status = 'resolved'", ticket)
            == 1, "a fresh email does not reopen a resolved ticket");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket_message WHERE ticket_id = %lld", ticket) == 5,
            "five messages in the first ticket");
}

static void
s_refusals (void)
{
  char url[128], *resp = NULL;
  snprintf (url, sizeof url, "%s/v1/channels/email", s_api);
  IT_CHECK (it_http ("POST", url, "application/json", "{}", &resp) == 415, "not rfc822: %s", resp);
  free (resp);
  IT_CHECK (s_post ("To: x@y.z\r\nSubject: no sender\r\n\r\nhi\r\n", true) == 422,
            "no From: 422");
}

int
main (void)
{
  it_require_pg ();
  it_stack_t st;
  it_stack_init (&st, "email_api", (const char *[]) {"ATENDE_EMAIL_RELAY_SECRET=" SECRET, NULL});
  s_db = it_db_connect (st.conninfo);
  at_strlcpy (s_api, st.api, sizeof s_api);
  it_stack_pids_t pids = it_stack_start (&st, "ingest", WAIT_MS);
  s_first_message ();
  s_threading ();
  s_refusals ();
  it_stack_stop (&pids);
  PQfinish (s_db);
  printf ("email api: ok\n");
  return 0;
}
