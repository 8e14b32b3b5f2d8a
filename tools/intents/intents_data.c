/* intents_data: labelled rows from CSV files (lang,label,text; RFC 4180
 * quoting, one record a line), their split and checksum. */
#define _GNU_SOURCE
#include "intents.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#define S_LINE_MAX (64 * 1024)

/* One field from *p (quoted or not) into out (cap bytes, cut); *p moves past
 * it and its comma. False when a quoted field does not end. */
static bool
s_field (const char **p, char *out, size_t cap)
{
  const char *s = *p;
  size_t n = 0;
  if (*s == '"') {
    s++;
    for (;;) {
      if (*s == '\0')
        return false;
      if (*s == '"' && s[1] != '"') {
        s++;
        break;
      }
      if (*s == '"')
        s++;
      if (n + 1 < cap)
        out[n++] = *s;
      s++;
    }
  }
  else
    for (; *s && *s != ','; s++)
      if (n + 1 < cap)
        out[n++] = *s;
  out[n] = '\0';
  if (*s == ',')
    s++;
  *p = s;
  return true;
}

static in_part_t
s_part (const char *text)
{
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const unsigned char *p = (const unsigned char *) text; *p; p++)
    h = (h ^ *p) * 0x100000001b3ULL;
  unsigned bucket = (unsigned) (h % 100);
  return bucket < IN_TEST_PCT ? IN_TEST : bucket < IN_TEST_PCT + IN_VALID_PCT ? IN_VALID : IN_TRAIN;
}

/* Parses one record; AT_INVALID (said on stderr) when it is not one. */
static int
s_record (in_rows_t *rows, const char *line, const char *file, long lineno, bool own)
{
  char lang[16], label[32], *text = at_malloc (IN_TEXT_MAX + 1);
  const char *p = line;
  at_intent_t intent;
  if (!s_field (&p, lang, sizeof lang) || !s_field (&p, label, sizeof label)
      || !s_field (&p, text, IN_TEXT_MAX + 1) || at_intent_parse (label, &intent) != AT_OK
      || at_lang_parse (lang) == AT_LANG_OTHER || text[0] == '\0') {
    fprintf (stderr, "atende-intents: %s:%ld: not a lang,label,text record\n", file, lineno);
    free (text);
    return AT_INVALID;
  }
  if (rows->n == rows->cap) {
    rows->cap = rows->cap ? rows->cap * 2 : 1024;
    rows->rows = at_realloc (rows->rows, rows->cap * sizeof *rows->rows);
  }
  rows->rows[rows->n++] = (in_row_t) {.lang = at_lang_parse (lang), .label = intent,
                                      .part = s_part (text), .text = text, .own = own};
  return AT_OK;
}

static int
s_load_file (in_rows_t *rows, FILE *f, const char *path, crypto_hash_sha256_state *sha)
{
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  long lineno = 0;
  int rc = AT_OK;
  while (rc == AT_OK && (len = getline (&line, &cap, f)) >= 0) {
    lineno++;
    crypto_hash_sha256_update (sha, (const unsigned char *) line, (unsigned long long) len);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
      line[--len] = '\0';
    if (len == 0 || (lineno == 1 && strncmp (line, "lang,", 5) == 0))
      continue;
    if (len > S_LINE_MAX || rows->n >= IN_ROWS_MAX) {
      fprintf (stderr, "atende-intents: %s:%ld: line too long or too many rows\n", path, lineno);
      rc = AT_INVALID;
    }
    else
      rc = s_record (rows, line, path, lineno, strstr (path, "tools/intents/data/") != NULL);
  }
  free (line);
  return rc;
}

int
in_rows_load (in_rows_t *rows, const char *csv_list, bool optional_missing)
{
  if (sodium_init () < 0)
    return AT_ERROR;
  crypto_hash_sha256_state sha;
  crypto_hash_sha256_init (&sha);
  char *list = strdup (csv_list), *next = list;
  int rc = AT_OK;
  while (next && rc == AT_OK) {
    char *path = next, *comma = strchr (next, ',');
    next = comma ? comma + 1 : NULL;
    if (comma)
      *comma = '\0';
    if (path[0] == '\0')
      continue;
    FILE *f = fopen (path, "r");
    if (!f && optional_missing && errno == ENOENT) {
      fprintf (stderr, "atende-intents: %s is absent, skipped\n", path);
      rows->files_missing++;
      continue;
    }
    if (!f) {
      fprintf (stderr, "atende-intents: cannot open %s: %s\n", path, strerror (errno));
      rc = AT_ERROR;
      break;
    }
    rc = s_load_file (rows, f, path, &sha);
    rows->files_read++;
    fclose (f);
  }
  free (list);
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final (&sha, digest);
  sodium_bin2hex (rows->sum, sizeof rows->sum, digest, sizeof digest);
  return rc;
}

void
in_rows_clear (in_rows_t *rows)
{
  for (size_t i = 0; i < rows->n; i++) {
    free (rows->rows[i].text);
    free (rows->rows[i].f);
    free (rows->rows[i].fg);
  }
  free (rows->rows);
  memset (rows, 0, sizeof *rows);
}

void
in_rows_featurize (in_rows_t *rows, unsigned featurizer, unsigned bits, unsigned guess_parts)
{
  at_intent_text_t *tx = at_intent_text_new ();
  at_intent_feature_t *buf = at_malloc (AT_INTENT_FEATURES_MAX * sizeof *buf);
  for (size_t i = 0; i < rows->n; i++) {
    in_row_t *r = &rows->rows[i];
    at_lang_t lang = (guess_parts & (1u << r->part)) ? AT_LANG_OTHER : r->lang;
    r->nf = at_intent_text_featurize (tx, featurizer, r->text, strlen (r->text), lang, bits,
                                      buf, AT_INTENT_FEATURES_MAX, &r->lang_read);
    free (r->f);
    r->f = at_malloc ((r->nf ? r->nf : 1) * sizeof *r->f);
    memcpy (r->f, buf, r->nf * sizeof *r->f);
  }
  free (buf);
  at_intent_text_destroy (&tx);
}

void
in_rows_featurize_guessed (in_rows_t *rows, unsigned featurizer, unsigned bits)
{
  in_rows_featurize (rows, featurizer, bits, (1u << IN_TRAIN) | (1u << IN_VALID) | (1u << IN_TEST));
  for (size_t i = 0; i < rows->n; i++) {
    in_row_t *r = &rows->rows[i];
    free (r->fg);
    r->fg = r->f, r->nfg = r->nf;
    r->f = NULL, r->nf = 0;
  }
  in_rows_featurize (rows, featurizer, bits, 0);
}
