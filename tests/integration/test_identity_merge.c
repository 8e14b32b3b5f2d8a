/* Identity across channels and the merge, over real HTTP to a real api +
 * broker + ingest worker: a WhatsApp wa_id finds the customer known by that
 * phone number from SMS (and gains the identity); two customers with the
 * same name stay two; POST /v1/customers/{id}/merge moves identities,
 * tickets, orders, notifications and surveys in one go, is idempotent,
 * refuses itself, a merged target and unknown ids; GET shows the result;
 * the merged customer's next message lands on the survivor; a chat-like
 * conversation opens a new ticket after ATENDE_CONVERSATION_WINDOW_MIN. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "it.h"
#include "at_common.h"

#define WAIT_MS 30000

static char s_api[64];
static PGconn *s_db;

#define s_q(...) it_db_scalarf (s_db, __VA_ARGS__)

static json_t *
s_call (const char *method, const char *path, const char *body, long want)
{
  char url[256], *resp = NULL;
  snprintf (url, sizeof url, "%s%s", s_api, path);
  long status = it_http (method, url, body ? "application/json" : NULL, body, &resp);
  IT_CHECK (status == want, "%s %s: %ld, want %ld: %s", method, path, status, want,
            resp ? resp : "");
  json_t *doc = json_loads (resp ? resp : "", 0, NULL);
  IT_CHECK (doc != NULL, "%s %s: not JSON: %s", method, path, resp ? resp : "");
  free (resp);
  return doc;
}

/* Sends a message through /v1/messages and waits until ingest recorded it. */
static void
s_send (const char *channel, const char *handle, const char *name, const char *text,
        const char *provider_id)
{
  it_message_send (s_api, s_db, channel, handle, name, text, provider_id, WAIT_MS);
}

static long long
s_customer_of (const char *kind, const char *value)
{
  return s_q ("SELECT customer_id FROM identity WHERE kind = '%s' AND value = '%s'", kind, value);
}

static void
s_identity (void)
{
  s_send ("sms", "(11) 98765-4321", "Carlos", "Oi, meu pedido não chegou", "sms-1");
  long long carlos = s_customer_of ("phone", "+5511987654321");
  IT_CHECK (carlos > 0, "sms customer");
  s_send ("whatsapp", "5511987654321", "Carlos S.", "Alguma novidade?", "wamid.1");
  IT_CHECK (s_customer_of ("whatsapp", "5511987654321") == carlos, "wa_id found by phone");
  IT_CHECK (s_q ("SELECT count(*) FROM customer") == 1, "still one customer");
  /* the same name on another address is another customer */
  s_send ("email", "carlos@example.com", "Carlos", "Olá, quero trocar", "<c1@x>");
  long long other = s_customer_of ("email", "carlos@example.com");
  IT_CHECK (other > 0 && other != carlos, "never merged on a name");
}

static void
s_merge (void)
{
  long long carlos = s_customer_of ("phone", "+5511987654321");
  long long other = s_customer_of ("email", "carlos@example.com");
  s_q ("INSERT INTO orders (id, customer_id, status, status_rank, status_at)"
       " VALUES ('P-9', %lld, 'shipped', 3, now()) RETURNING 1", other);
  char path[128], body[64];
  snprintf (path, sizeof path, "/v1/customers/%lld/merge", carlos);
  snprintf (body, sizeof body, "{\"from\": %lld}", other);
  json_t *doc = s_call ("POST", path, body, 200);
  json_t *moved = json_object_get (doc, "moved");
  IT_CHECK (json_integer_value (json_object_get (moved, "identities")) == 1
            && json_integer_value (json_object_get (moved, "tickets")) == 1
            && json_integer_value (json_object_get (moved, "orders")) == 1
            && !json_is_true (json_object_get (doc, "already_merged")), "moved");
  json_decref (doc);
  IT_CHECK (s_q ("SELECT count(*) FROM identity WHERE customer_id = %lld", carlos) == 3,
            "three identities");
  IT_CHECK (s_q ("SELECT count(*) FROM ticket WHERE customer_id = %lld", other) == 0, "tickets");
  IT_CHECK (s_q ("SELECT customer_id FROM orders WHERE id = 'P-9'") == carlos, "order moved");
  IT_CHECK (s_q ("SELECT merged_into FROM customer WHERE id = %lld", other) == carlos, "marked");
  /* again: idempotent */
  doc = s_call ("POST", path, body, 200);
  IT_CHECK (json_is_true (json_object_get (doc, "already_merged")), "already merged");
  json_decref (doc);
  /* refusals */
  snprintf (body, sizeof body, "{\"from\": %lld}", carlos);
  json_decref (s_call ("POST", path, body, 422));                  /* itself */
  snprintf (path, sizeof path, "/v1/customers/%lld/merge", other);
  json_decref (s_call ("POST", path, body, 409));                  /* into a merged one */
  snprintf (path, sizeof path, "/v1/customers/%lld/merge", carlos);
  json_decref (s_call ("POST", path, "{\"from\": 999999}", 404));
  json_decref (s_call ("POST", path, "{\"from\": \"x\"}", 422));
  /* reads */
  snprintf (path, sizeof path, "/v1/customers/%lld", carlos);
  doc = s_call ("GET", path, NULL, 200);
  IT_CHECK (json_array_size (json_object_get (doc, "identities")) == 3, "GET identities");
  json_decref (doc);
  snprintf (path, sizeof path, "/v1/customers/%lld", other);
  doc = s_call ("GET", path, NULL, 200);
  IT_CHECK (json_integer_value (json_object_get (doc, "merged_into")) == carlos, "GET merged");
  json_decref (doc);
  json_decref (s_call ("GET", "/v1/customers/999999", NULL, 404));
  /* the merged address writes again: the survivor gets it */
  s_send ("email", "carlos@example.com", "Carlos", "E a troca?", "<c2@x>");
  IT_CHECK (s_q ("SELECT t.customer_id FROM ticket_message m JOIN ticket t ON t.id = m.ticket_id"
                 " WHERE m.provider_message_id = '<c2@x>'") == carlos, "lands on survivor");
}

static void
s_window (void)
{
  long long t1 = s_q ("SELECT ticket_id FROM ticket_message WHERE provider_message_id = 'wamid.1'");
  s_send ("whatsapp", "5511987654321", "Carlos", "Ainda aguardo", "wamid.2");
  IT_CHECK (s_q ("SELECT ticket_id FROM ticket_message WHERE provider_message_id = 'wamid.2'")
            == t1, "same conversation");
  s_q ("UPDATE ticket SET updated_at = now() - interval '2 minutes' WHERE id = %lld RETURNING 1",
       t1);
  s_send ("whatsapp", "5511987654321", "Carlos", "Oi de novo", "wamid.3");
  IT_CHECK (s_q ("SELECT ticket_id FROM ticket_message WHERE provider_message_id = 'wamid.3'")
            != t1, "window over: new ticket");
}

int
main (void)
{
  it_require_pg ();
  it_stack_t st;
  it_stack_init (&st, "identity_merge", (const char *[]) {"ATENDE_CONVERSATION_WINDOW_MIN=1", NULL});
  s_db = it_db_connect (st.conninfo);
  at_strlcpy (s_api, st.api, sizeof s_api);
  it_stack_pids_t pids = it_stack_start (&st, "ingest", WAIT_MS);
  s_identity ();
  s_merge ();
  s_window ();
  it_stack_stop (&pids);
  PQfinish (s_db);
  printf ("identity merge: ok\n");
  return 0;
}
