/* application/x-www-form-urlencoded: what is accepted, what is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "at_form.h"

static at_form_t *
s_parse_ok (const char *body)
{
  char reason[128];
  at_form_t *form = NULL;
  int rc = at_form_parse (body, strlen (body), &form, reason, sizeof reason);
  if (rc != AT_OK)
    fail_msg ("refused \"%s\": %s", body, reason);
  return form;
}

static void
s_refused (const char *body, size_t len)
{
  char reason[128];
  at_form_t *form = (at_form_t *) 1;
  assert_int_equal (at_form_parse (body, len, &form, reason, sizeof reason), AT_INVALID);
  assert_null (form);
  assert_true (reason[0] != '\0');
}

static void
test_decoding (void **state)
{
  at_form_t *form = s_parse_ok ("Body=Ol%C3%A1+mundo%21&From=whatsapp%3A%2B5511987654321"
                                "&Empty=&Flag&Eq=a%3Db=c");
  assert_int_equal (at_form_count (form), 5);
  assert_string_equal (at_form_get (form, "Body"), "Olá mundo!");
  assert_string_equal (at_form_get (form, "From"), "whatsapp:+5511987654321");
  assert_string_equal (at_form_get (form, "Empty"), "");
  assert_string_equal (at_form_get (form, "Flag"), "");
  assert_string_equal (at_form_get (form, "Eq"), "a=b=c");
  assert_null (at_form_get (form, "body"));
  assert_string_equal (at_form_field (form, 0)->name, "Body");
  assert_null (at_form_field (form, 5));
  at_form_destroy (&form);
  assert_null (form);
  at_form_destroy (&form);
  form = s_parse_ok ("");
  assert_int_equal (at_form_count (form), 0);
  at_form_destroy (&form);
}

static void
test_sorted (void **state)
{
  at_form_t *form = s_parse_ok ("b=2&a=9&B=1&a=1");
  const at_form_field_t **sorted = at_form_sorted (form);
  assert_string_equal (sorted[0]->name, "B");
  assert_string_equal (sorted[1]->name, "a");
  assert_string_equal (sorted[1]->value, "1");
  assert_string_equal (sorted[2]->value, "9");
  assert_string_equal (sorted[3]->name, "b");
  free (sorted);
  at_form_destroy (&form);
}

static void
test_refused (void **state)
{
  s_refused ("a=1&&b=2", 8);
  s_refused ("&a=1", 4);
  s_refused ("a=1&", 4);
  s_refused ("=1", 2);
  s_refused ("a=%2", 4);
  s_refused ("a=%", 3);
  s_refused ("a=%zz", 5);
  s_refused ("a=%00", 5);
  s_refused ("a=b\0c", 5);
  char big[AT_FORM_NAME_MAX + 8];
  memset (big, 'n', sizeof big);
  big[sizeof big - 2] = '=';
  s_refused (big, sizeof big - 1);
  /* one pair too many */
  size_t len = (AT_FORM_FIELDS_MAX + 1) * 4;
  char *many = malloc (len);
  for (size_t i = 0; i <= AT_FORM_FIELDS_MAX; i++)
    memcpy (many + 4 * i, "a=1&", 4);
  s_refused (many, len - 1);
  at_form_t *form = NULL;
  char reason[64];
  assert_int_equal (at_form_parse (many, len - 5, &form, reason, sizeof reason), AT_OK);
  assert_int_equal (at_form_count (form), AT_FORM_FIELDS_MAX);
  at_form_destroy (&form);
  free (many);
}

static void
test_built (void **state)
{
  at_form_t *form = at_form_new ();
  assert_int_equal (at_form_add (form, "To", "+1"), AT_OK);
  assert_int_equal (at_form_add (form, "", "x"), AT_INVALID);
  assert_string_equal (at_form_get (form, "To"), "+1");
  at_form_destroy (&form);
}

static const char s_multipart[] =
    "--XyZ\r\nContent-Disposition: form-data; name=\"from\"\r\n\r\n"
    "Ana <ana@example.com>\r\n"
    "--XyZ\r\nContent-Disposition: form-data; name=\"body-plain\"\r\n\r\nlinha 1\r\nlinha 2\r\n"
    "--XyZ\r\nContent-Disposition: form-data; name=\"attachment-1\"; filename=\"nota.pdf\"\r\n"
    "Content-Type: application/pdf\r\n\r\n%PDF\0bin\r\n"
    "--XyZ--\r\n";

static void
test_multipart (void **state)
{
  char reason[128], boundary[AT_FORM_BOUNDARY_MAX + 1];
  at_form_t *form = NULL;
  assert_int_equal (at_form_boundary ("multipart/form-data; boundary=XyZ", boundary,
                                      sizeof boundary), AT_OK);
  assert_string_equal (boundary, "XyZ");
  assert_int_equal (at_form_boundary ("multipart/form-data; boundary=\"a b\"", boundary,
                                      sizeof boundary), AT_INVALID);
  assert_int_equal (at_form_boundary ("multipart/form-data", boundary, sizeof boundary),
                    AT_INVALID);
  assert_int_equal (at_form_parse_multipart (s_multipart, sizeof s_multipart - 1, "XyZ", &form,
                                             reason, sizeof reason), AT_OK);
  assert_int_equal (at_form_count (form), 2);
  assert_string_equal (at_form_get (form, "from"), "Ana <ana@example.com>");
  assert_string_equal (at_form_get (form, "body-plain"), "linha 1\r\nlinha 2");
  assert_int_equal (at_form_file_count (form), 1);
  const at_form_file_t *f = at_form_file (form, 0);
  assert_string_equal (f->field, "attachment-1");
  assert_string_equal (f->filename, "nota.pdf");
  assert_string_equal (f->content_type, "application/pdf");
  assert_int_equal (f->len, 8);
  assert_memory_equal (f->data, "%PDF\0bin", 8);
  at_form_destroy (&form);
  /* refused: wrong boundary, no closing delimiter, no name, a NUL in a field */
  const char *bad[] = {
    "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XyZ",
    "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1",
    "--XyZ\r\nContent-Disposition: form-data\r\n\r\n1\r\n--XyZ--",
    "--XyZ\r\nContent-Type: text/plain\r\n\r\n1\r\n--XyZ--",
    "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n1\r\n--XyZ--",
    "--Other\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--Other--",
    "",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal (at_form_parse_multipart (bad[i], strlen (bad[i]), "XyZ", &form, reason,
                                               sizeof reason), AT_INVALID);
    assert_null (form);
  }
  static const char nul[] = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\0\r\n--XyZ--";
  assert_int_equal (at_form_parse_multipart (nul, sizeof nul - 1, "XyZ", &form, reason,
                                             sizeof reason), AT_INVALID);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_decoding),
    cmocka_unit_test (test_sorted),
    cmocka_unit_test (test_refused),
    cmocka_unit_test (test_built),
    cmocka_unit_test (test_multipart),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
