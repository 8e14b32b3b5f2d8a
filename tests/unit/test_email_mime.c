/* Email: MIME parsing (GMime) of our own fixtures and of every message in
 * ../shared/data/mime (when present), the text an agent reads (quotes and
 * signatures stripped, HTML made text), threading ids, ticket tags,
 * outbound Message-IDs, the InboundMessage, and the helpers' edge cases. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "at_email.h"
#include "at_channel.h"
#include "at_text.h"
#include "domain.pb-c.h"

/* The repo root, from this file's path (CMake compiles it by absolute path). */
static void
s_root (char *out, size_t cap)
{
  snprintf (out, cap, "%s", __FILE__);
  char *cut = strstr (out, "/tests/unit/");
  if (cut)
    *cut = '\0';
  else
    snprintf (out, cap, ".");
}

static char *
s_read (const char *path, size_t *len)
{
  FILE *f = fopen (path, "rb");
  if (!f)
    return NULL;
  char *buf = malloc (8 * 1024 * 1024);
  *len = fread (buf, 1, 8 * 1024 * 1024, f);
  fclose (f);
  return buf;
}

static int
s_parse_fixture (const char *name, at_email_t **out, char *reason, size_t cap)
{
  char root[512], path[800];
  s_root (root, sizeof root);
  snprintf (path, sizeof path, "%s/tests/fixtures/mime/%s", root, name);
  size_t len = 0;
  char *raw = s_read (path, &len);
  assert_non_null (raw);
  int rc = at_email_parse (raw, len, out, reason, cap);
  free (raw);
  return rc;
}

static void
test_latin1_qp_quoted_reply (void **state)
{
  at_email_t *e = NULL;
  char reason[AT_EMAIL_REASON_MAX] = "";
  assert_int_equal (s_parse_fixture ("plain_qp_latin1.eml", &e, reason, sizeof reason), AT_OK);
  assert_string_equal (e->from, "Ana.Souza@Example.COM.br");
  assert_string_equal (e->from_name, "Ana Souza");
  assert_string_equal (e->subject, "Pedido n\xc3\xa3o chegou");
  assert_string_equal (e->message_id, "qp-latin1-1@mail.example");
  assert_string_equal (e->text,
                       "Ol\xc3\xa1, meu pedido 4521 ainda n\xc3\xa3o chegou. Voc\xc3\xaas podem "
                       "verificar?");
  assert_non_null (strstr (e->full_text, "> Seu pedido foi enviado."));
  assert_false (e->html_stripped);
  assert_int_equal (at_text_guess_language (e->text), AT_LANG_PT);
  at_msg_t *msg = NULL;
  assert_int_equal (at_email_to_inbound (e, NULL, &msg, reason, sizeof reason), AT_OK);
  assert_string_equal (msg->key, "email:ana.souza@example.com.br");
  Atende__InboundMessage *in = atende__inbound_message__unpack (NULL, msg->payload_len,
                                                                msg->payload);
  assert_non_null (in);
  assert_string_equal (in->handle, "ana.souza@example.com.br");
  assert_string_equal (in->provider_message_id, "qp-latin1-1@mail.example");
  assert_string_equal (in->text, e->text);
  assert_string_equal (in->full_text, e->full_text);
  atende__inbound_message__free_unpacked (in, NULL);
  at_msg_destroy (&msg);
  at_email_destroy (&e);
  assert_null (e);
}

static void
test_html_only (void **state)
{
  at_email_t *e = NULL;
  char reason[AT_EMAIL_REASON_MAX] = "";
  assert_int_equal (s_parse_fixture ("html_only.eml", &e, reason, sizeof reason), AT_OK);
  assert_true (e->html_stripped);
  assert_string_equal (e->text, "Ol\xc3\xa1, onde est\xc3\xa1 meu pedido?\n\nObrigado & "
                                "abra\xc3\xa7os");
  assert_null (strstr (e->text, "alert"));
  assert_null (strstr (e->text, "color"));
  at_email_destroy (&e);
}

static void
test_reply_threading_headers (void **state)
{
  at_email_t *e = NULL;
  char reason[AT_EMAIL_REASON_MAX] = "";
  assert_int_equal (s_parse_fixture ("reply_en.eml", &e, reason, sizeof reason), AT_OK);
  assert_string_equal (e->text, "Hi, I still have not received my order. Can you help?");
  assert_false (e->html_stripped);
  assert_string_equal (e->in_reply_to,
                       "atende.018f0000-0000-7000-8000-0000000000aa@atende.invalid");
  assert_int_equal (e->n_references, 2);
  assert_string_equal (e->references[0], "first-1@mail.example");
  assert_int_equal (at_email_ticket_tag (e->subject), 42);
  char nid[AT_ID_LEN];
  assert_int_equal (at_email_notification_from_message_id (e->in_reply_to, nid), AT_OK);
  assert_string_equal (nid, "018f0000-0000-7000-8000-0000000000aa");
  assert_int_equal (at_text_guess_language (e->text), AT_LANG_EN);
  at_email_destroy (&e);
}

static void
test_attachments_and_signature (void **state)
{
  at_email_t *e = NULL;
  char reason[AT_EMAIL_REASON_MAX] = "";
  assert_int_equal (s_parse_fixture ("mixed_es_attachments.eml", &e, reason, sizeof reason),
                    AT_OK);
  assert_string_equal (e->from_name, "Mar\xc3\xad" "a");
  assert_string_equal (e->subject, "Devoluci\xc3\xb3n del pedido");
  assert_string_equal (e->text, "Hola, quiero devolver el pedido, lleg\xc3\xb3 roto. \xc2\xbf"
                                "C\xc3\xb3mo hago?");
  assert_int_equal (e->n_attachments, 2);
  assert_string_equal (e->attachments[0].name, "factura n\xc2\xba" "1.pdf");
  assert_string_equal (e->attachments[0].content_type, "application/pdf");
  assert_int_equal (e->attachments[0].size, strlen ("%PDF-1.4 fake invoice bytes\n"));
  assert_memory_equal (e->attachments[0].content, "%PDF-1.4", 8);
  assert_string_equal (e->attachments[1].name, "foto.png");
  assert_int_equal (e->attachments[1].size, 8);
  assert_int_equal (at_text_guess_language (e->text), AT_LANG_ES);
  at_email_destroy (&e);
}

static void
test_refusals (void **state)
{
  at_email_t *e = NULL;
  char reason[AT_EMAIL_REASON_MAX] = "";
  assert_int_equal (s_parse_fixture ("no_from.eml", &e, reason, sizeof reason), AT_INVALID);
  assert_null (e);
  assert_string_equal (reason, "the message has no From address");
  assert_int_equal (s_parse_fixture ("garbage.bin", &e, reason, sizeof reason), AT_INVALID);
  assert_true (reason[0] != '\0');
  assert_int_equal (at_email_parse ("", 0, &e, reason, sizeof reason), AT_INVALID);
  /* no Message-ID: the digest of the bytes is the dedup key, stable */
  at_email_t *a = NULL, *b = NULL;
  assert_int_equal (s_parse_fixture ("signature_no_message_id.eml", &a, reason, sizeof reason),
                    AT_OK);
  assert_int_equal (s_parse_fixture ("signature_no_message_id.eml", &b, reason, sizeof reason),
                    AT_OK);
  assert_string_equal (a->text, "Quero trocar o tamanho.");
  assert_string_equal (a->message_id, "");
  assert_string_equal (a->digest, b->digest);
  assert_int_equal (strncmp (a->digest, "sha256:", 7), 0);
  at_email_destroy (&a);
  at_email_destroy (&b);
}

/* Every message of ../shared/data/mime parses or is refused with a reason. */
static void
test_shared_corpus (void **state)
{
  char root[512], dir[800];
  s_root (root, sizeof root);
  const char *subdirs[] = {"rfc", "malformed", "thirdparty"};
  int parsed = 0, refused = 0;
  for (size_t s = 0; s < 3; s++) {
    snprintf (dir, sizeof dir, "%s/../shared/data/mime/%s", root, subdirs[s]);
    DIR *d = opendir (dir);
    if (!d) {
      print_message ("skipped: %s is absent\n", dir);
      continue;
    }
    struct dirent *ent;
    while ((ent = readdir (d))) {
      if (ent->d_name[0] == '.')
        continue;
      char path[1200];
      snprintf (path, sizeof path, "%s/%s", dir, ent->d_name);
      size_t len = 0;
      char *raw = s_read (path, &len);
      if (!raw)
        continue;
      at_email_t *e = NULL;
      char reason[AT_EMAIL_REASON_MAX] = "";
      int rc = at_email_parse (raw, len, &e, reason, sizeof reason);
      if (rc == AT_OK) {
        assert_true (at_text_valid_utf8 (e->text, strlen (e->text)));
        assert_true (at_text_valid_utf8 (e->full_text, strlen (e->full_text)));
        assert_true (at_text_valid_utf8 (e->subject, strlen (e->subject)));
        assert_true (e->text[0] != '\0');
        assert_true (strlen (e->full_text) <= AT_TEXT_MAX);
        at_msg_t *msg = NULL;
        char why[AT_EMAIL_REASON_MAX] = "";
        if (at_email_to_inbound (e, NULL, &msg, why, sizeof why) != AT_OK)
          assert_true (why[0] != '\0');
        at_msg_destroy (&msg);
        parsed++;
      }
      else {
        assert_int_equal (rc, AT_INVALID);
        assert_true (reason[0] != '\0');
        print_message ("refused %s/%s: %s\n", subdirs[s], ent->d_name, reason);
        refused++;
      }
      at_email_destroy (&e);
      free (raw);
    }
    closedir (d);
  }
  print_message ("shared mime corpus: %d parsed, %d refused\n", parsed, refused);
}

static void
test_strip_reply (void **state)
{
  bool stripped = false;
  char *t = at_email_strip_reply ("Oi\n\nEl lun, 16 nov 2026, Tienda escribió:\n> hola", &stripped);
  assert_string_equal (t, "Oi");
  assert_true (stripped);
  free (t);
  t = at_email_strip_reply ("> only a quote\n> more", &stripped);
  assert_string_equal (t, "> only a quote\n> more");     /* nothing else: kept whole */
  assert_false (stripped);
  free (t);
  t = at_email_strip_reply ("Answer\n\nFrom: Store\nSent: Monday\nold text", &stripped);
  assert_string_equal (t, "Answer");
  free (t);
  t = at_email_strip_reply ("On time delivery matters.\nThanks", &stripped);
  assert_string_equal (t, "On time delivery matters.\nThanks");
  assert_false (stripped);
  free (t);
  t = at_email_strip_reply (NULL, &stripped);
  assert_string_equal (t, "");
  free (t);
}

static void
test_helpers (void **state)
{
  char *t = at_email_utf8_clean ("a\xff" "b\r\nc\0d", 8, 100);
  assert_string_equal (t, "a\xef\xbf\xbd" "b\ncd");
  free (t);
  t = at_email_utf8_clean ("\xc3\xa3\xc3\xa3", 4, 3);     /* cut on a character boundary */
  assert_string_equal (t, "\xc3\xa3");
  free (t);
  /* len past the NUL: read up to it; a '<' that opens no tag is text */
  t = at_email_html_to_text ("<p>a &lt;b&gt; &#233;&#x20AC; &bogus; <", 40);
  assert_string_equal (t, "a <b> \xc3\xa9\xe2\x82\xac &bogus; <");
  free (t);
  assert_int_equal (at_email_ticket_tag ("Re: [#123] Pedido"), 123);
  assert_int_equal (at_email_ticket_tag ("[#] [#12a] [#0]"), 0);
  assert_int_equal (at_email_ticket_tag (NULL), 0);
  char id[AT_EMAIL_ID_MAX];
  assert_int_equal (at_email_message_id_for_notification ("018f0000-0000-7000-8000-000000000001",
                                                          "loja.example", id, sizeof id), AT_OK);
  assert_string_equal (id, "atende.018f0000-0000-7000-8000-000000000001@loja.example");
  assert_int_equal (at_email_message_id_for_notification ("nope", "x", id, sizeof id), AT_INVALID);
  char nid[AT_ID_LEN];
  assert_int_equal (at_email_notification_from_message_id ("atende.x@y", nid), AT_NOTFOUND);
  assert_int_equal (at_email_notification_from_message_id ("other@y", nid), AT_NOTFOUND);
}

/* html_to_text with its expected text; "" for NULL. */
static void
s_html (const char *html, const char *want)
{
  char *t = at_email_html_to_text (html, html ? strlen (html) : 0);
  assert_non_null (t);
  assert_string_equal (t, want);
  assert_true (at_text_valid_utf8 (t, strlen (t)));
  assert_true (strlen (t) <= (html ? strlen (html) : 0));
  free (t);
}

static void
test_html_text (void **state)
{
  /* comments, even with tags or an unterminated one inside, are not text */
  s_html ("a<!-- hidden <b>x</b> -- still -->b", "ab");
  s_html ("<p>kept</p><!-- <p>never closed", "kept");
  /* CDATA in style or script is skipped with them */
  s_html ("<style><![CDATA[p{color:red}]]></style><p>Oi</p>"
          "<script>//<![CDATA[\nalert(1)\n//]]></script>", "Oi");
  /* named and numeric entities, the no-break space a space */
  s_html ("Caf&eacute; &#233;&#xE9; a&nbsp;&nbsp;b &amp;&lt;&gt;&quot;&apos; &hellip;&euro;",
          "Caf\xc3\xa9 \xc3\xa9\xc3\xa9 a b &<>\"' \xe2\x80\xa6\xe2\x82\xac");
  s_html ("&Ccedil;&atilde;o &Aacute;gua &ntilde; &mdash; &#x1F600;",
          "\xc3\x87\xc3\xa3o \xc3\x81gua \xc3\xb1 \xe2\x80\x94 \xf0\x9f\x98\x80");
  /* script, style, head and title skipped; link text kept */
  s_html ("<html><head><title>T</title><style>.x{}</style></head><body>"
          "<script>var a = '<p>no</p>';</script>Veja <a href=\"https://x.example\">o "
          "pedido</a>.</body></html>", "Veja o pedido.");
  /* blocks: paragraphs and headings a blank line, div and br a line */
  s_html ("<h1>T\xc3\xadtulo</h1><p>um\n   dois</p><div>tr\xc3\xaas</div><div>quatro<br>cinco</div>",
          "T\xc3\xadtulo\n\num dois\n\ntr\xc3\xaas\nquatro\ncinco");
  s_html ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc");
  /* nested lists: one item a line, indented by level */
  s_html ("<p>Itens:</p><ul><li>um</li><li>dois<ul><li>dois.a</li><li>dois.b</li></ul></li>"
          "<li>tr\xc3\xaas</li></ul><p>fim</p>",
          "Itens:\n\n- um\n- dois\n  - dois.a\n  - dois.b\n- tr\xc3\xaas\n\nfim");
  /* unclosed and stray tags, a NUL ends the text */
  s_html ("<p>a<b>b<i>c</p>d</i></b></span>e", "abc\n\nde");
  s_html ("", "");
  s_html (NULL, "");
  char *t = at_email_html_to_text ("ok\0<p>hidden", 13);
  assert_string_equal (t, "ok");
  free (t);
}

static void
test_fields (void **state)
{
  at_email_fields_t f = {.from = "Bia <BIA@example.com>", .subject = "Troca",
                         .body_html = "<p>Quero trocar</p>", .message_id = "<mg-1@x>",
                         .references = "<a@x> <b@x>"};
  at_email_t *e = NULL;
  char reason[AT_EMAIL_REASON_MAX];
  assert_int_equal (at_email_from_fields (&f, &e, reason, sizeof reason), AT_OK);
  assert_string_equal (e->from, "BIA@example.com");
  assert_string_equal (e->text, "Quero trocar");
  assert_true (e->html_stripped);
  assert_string_equal (e->message_id, "mg-1@x");
  assert_int_equal (e->n_references, 2);
  assert_int_equal (at_email_attachment_add (e, "a/b.txt", "text/plain", "hi", 2), AT_OK);
  assert_string_equal (e->attachments[0].name, "a_b.txt");
  at_email_destroy (&e);
  at_email_fields_t bad = {.from = "nobody", .body_plain = "x"};
  assert_int_equal (at_email_from_fields (&bad, &e, reason, sizeof reason), AT_INVALID);
  assert_null (e);
}

static void
test_language_short_texts (void **state)
{
  assert_int_equal (at_text_guess_language ("Oi"), AT_LANG_PT);
  assert_int_equal (at_text_guess_language ("Não!"), AT_LANG_PT);
  assert_int_equal (at_text_guess_language ("Valeu"), AT_LANG_PT);
  assert_int_equal (at_text_guess_language ("Hola"), AT_LANG_ES);
  assert_int_equal (at_text_guess_language ("¿Y mi pedido?"), AT_LANG_ES);
  assert_int_equal (at_text_guess_language ("Gracias"), AT_LANG_ES);
  assert_int_equal (at_text_guess_language ("Thanks!"), AT_LANG_EN);
  assert_int_equal (at_text_guess_language ("Hello"), AT_LANG_EN);
  assert_int_equal (at_text_guess_language ("ok"), AT_LANG_OTHER);
  assert_int_equal (at_text_guess_language ("pedido"), AT_LANG_OTHER);
}

static void
test_phone_identity (void **state)
{
  char out[64];
  const char *kind = NULL;
  assert_non_null (at_channel_phone_twin ("whatsapp", "5511987654321", out, sizeof out, &kind));
  assert_string_equal (out, "+5511987654321");
  assert_string_equal (kind, "phone");
  assert_non_null (at_channel_phone_twin ("phone", "+5511987654321", out, sizeof out, &kind));
  assert_string_equal (out, "5511987654321");
  assert_string_equal (kind, "whatsapp");
  assert_null (at_channel_phone_twin ("email", "a@b.c", out, sizeof out, &kind));
  assert_int_equal (at_channel_set_default_country ("+1"), AT_OK);
  assert_int_equal (at_channel_normalize_handle ("sms", "(415) 555-2671", out, sizeof out), AT_OK);
  assert_string_equal (out, "+14155552671");
  assert_int_equal (at_channel_set_default_country ("0x"), AT_INVALID);
  assert_int_equal (at_channel_set_default_country ("1234"), AT_INVALID);
  assert_int_equal (at_channel_set_default_country ("55"), AT_OK);
  assert_int_equal (at_channel_normalize_handle ("sms", "(11) 98765-4321", out, sizeof out), AT_OK);
  assert_string_equal (out, "+5511987654321");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_latin1_qp_quoted_reply),
    cmocka_unit_test (test_html_only),
    cmocka_unit_test (test_html_text),
    cmocka_unit_test (test_reply_threading_headers),
    cmocka_unit_test (test_attachments_and_signature),
    cmocka_unit_test (test_refusals),
    cmocka_unit_test (test_shared_corpus),
    cmocka_unit_test (test_strip_reply),
    cmocka_unit_test (test_helpers),
    cmocka_unit_test (test_fields),
    cmocka_unit_test (test_language_short_texts),
    cmocka_unit_test (test_phone_identity),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
