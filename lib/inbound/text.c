/* text: normalisation, tokens, language guess and stemming of customer
 * messages, with libunistring and libstemmer (Snowball). */
#include "at_text.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <unistr.h>
#include <uninorm.h>
#include <unicase.h>
#include <unictype.h>
#include <libstemmer.h>

const char *
at_lang_name (at_lang_t lang)
{
  switch (lang) {
  case AT_LANG_PT: return "pt";
  case AT_LANG_EN: return "en";
  case AT_LANG_ES: return "es";
  default: return "other";
  }
}

at_lang_t
at_lang_parse (const char *text)
{
  if (!text || strlen (text) < 2 || (text[2] != '\0' && text[2] != '-' && text[2] != '_'))
    return AT_LANG_OTHER;
  if (strncasecmp (text, "pt", 2) == 0)
    return AT_LANG_PT;
  if (strncasecmp (text, "en", 2) == 0)
    return AT_LANG_EN;
  if (strncasecmp (text, "es", 2) == 0)
    return AT_LANG_ES;
  return AT_LANG_OTHER;
}

bool
at_text_valid_utf8 (const char *text, size_t len)
{
  if (!text)
    return false;
  if (memchr (text, '\0', len))
    return false;
  return u8_check ((const uint8_t *) text, len) == NULL;
}

static bool
s_is_space (ucs4_t uc)
{
  return uc_is_space (uc) || uc_is_cntrl (uc) || uc == 0x00A0;
}

/* Copies src into dst dropping combining marks and folding blanks. dst has
 * room for src_len + 1 bytes (the result never grows). */
static void
s_strip_and_fold (const uint8_t *src, size_t src_len, char *dst)
{
  size_t at = 0, out = 0;
  bool pending_space = false;
  while (at < src_len) {
    ucs4_t uc;
    int n = u8_mbtouc (&uc, src + at, src_len - at);
    if (n <= 0)
      break;
    if (uc_is_general_category (uc, UC_CATEGORY_M)) {
      at += (size_t) n;
      continue;
    }
    if (s_is_space (uc)) {
      pending_space = out > 0;
      at += (size_t) n;
      continue;
    }
    if (pending_space) {
      dst[out++] = ' ';
      pending_space = false;
    }
    memcpy (dst + out, src + at, (size_t) n);
    out += (size_t) n;
    at += (size_t) n;
  }
  dst[out] = '\0';
}

char *
at_text_normalize (const char *text, size_t len)
{
  if (len > AT_TEXT_MAX || !at_text_valid_utf8 (text, len))
    return NULL;
  size_t lower_len = 0;
  uint8_t *lower = u8_tolower ((const uint8_t *) text, len, NULL, UNINORM_NFKD, NULL, &lower_len);
  if (!lower)
    return NULL;
  char *out = at_malloc (lower_len + 1);
  s_strip_and_fold (lower, lower_len, out);
  free (lower);
  return out;
}

size_t
at_text_tokenize (const char *normalized, char (*tokens)[AT_TOKEN_MAX], size_t max)
{
  if (!normalized)
    return 0;
  const uint8_t *s = (const uint8_t *) normalized;
  size_t len = strlen (normalized), at = 0, count = 0, tlen = 0;
  while (at <= len && count < max) {
    ucs4_t uc = 0;
    int n = 1;
    if (at < len) {
      n = u8_mbtouc (&uc, s + at, len - at);
      if (n <= 0)
        n = 1;
    }
    bool word = at < len && (uc_is_alnum (uc) || uc_is_general_category (uc, UC_CATEGORY_M));
    if (word) {
      if (tlen + (size_t) n < AT_TOKEN_MAX) {
        memcpy (tokens[count] + tlen, s + at, (size_t) n);
        tlen += (size_t) n;
      }
    }
    else if (tlen > 0) {
      tokens[count++][tlen] = '\0';
      tlen = 0;
    }
    at += (size_t) n;
  }
  return count;
}

/* Stop words that tell the three languages apart (normalised, no accents).
 * Words shared by two of them ("de", "que", "no", "a") are left out. */
static const char *const s_stop_pt[] = {
  "nao", "voce", "meu", "minha", "meus", "minhas", "um", "uma", "com", "do", "da", "dos",
  "das", "em", "os", "na", "isso", "isto", "ja", "obrigado", "obrigada", "ola", "oi",
  "ainda", "ate", "foi", "ao", "pelo", "pela", "muito", "quero", "gostaria", "tem",
  "sao", "ele", "ela", "eu", "cade", "onde", "quando", "voces", "agora",
  "bom", "boa", "noite", "hoje", "nem", "seu", "sua", "vou", "estou", "preciso",
  "aqui", "entao", "tambem", "chegou", "encomenda", "troca", "dia",
  "tchau", "valeu", "comprei", "recebi", "produto", "ajuda", "sim", "vc", "vcs", "pq",
  "obg", "chegar", "nenhum", "nenhuma", "gostei", "veio", "errado", "quebrado", "dinheiro",
  "devolver", "rastreio", "boleto", "frete",
};
static const char *const s_stop_en[] = {
  "the", "is", "my", "i", "you", "it", "and", "to", "of", "in", "have", "has", "not", "where",
  "what", "when", "hi", "hello", "thanks", "thank", "please", "was", "your", "for", "with",
  "this", "that", "be", "are", "can", "dont", "didnt", "hasnt", "havent", "order",
  "yet", "still", "want", "would", "like", "did", "does", "an", "at", "on", "its", "im", "we", "our", "been", "will", "there", "get", "got", "package", "refund",
  "hey", "help", "received", "arrived", "arrive", "item", "ordered", "bought", "wrong",
  "broken", "money", "back", "shipping", "tracking", "yes", "thx", "delivered",
};
static const char *const s_stop_es[] = {
  "el", "la", "los", "las", "y", "en", "con", "mi", "mis", "es", "un", "una", "del", "al",
  "muy", "gracias", "hola", "donde", "cuando", "todavia", "quiero", "necesito", "pero", "yo",
  "tengo", "ya", "usted", "ustedes", "su", "sus", "hasta", "aun", "llegado", "llega",
  "paquete", "envio", "hoy", "buenos", "buenas", "estoy", "fue",
  "favor", "tienen", "puedo", "seguimiento", "devolucion", "cambio",
  "recibi", "producto", "ayuda", "llego", "ningun", "ninguna", "dinero", "roto", "equivocado",
  "quisiera", "adios", "saludos",
};

static int
s_count_in (const char *token, const char *const *words, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp (token, words[i]) == 0)
      return 1;
  return 0;
}

#define S_GUESS_TOKENS 400

/* Letters and marks only one of the languages writes, counted on the raw
 * (not normalised) text: they decide short texts ("Não!", "¿Qué?"). */
static void
s_script_hints (const char *text, int *pt, int *es)
{
  static const char *const pt_marks[] = {"\xc3\xa3", "\xc3\xb5", "\xc3\xa7", "\xc3\xa2",
                                         "\xc3\xaa", "\xc3\xb4", "\xc3\x83", "\xc3\x95",
                                         "\xc3\x87"};   /* ã õ ç â ê ô Ã Õ Ç */
  static const char *const es_marks[] = {"\xc3\xb1", "\xc2\xbf", "\xc2\xa1",
                                         "\xc3\x91"};   /* ñ ¿ ¡ Ñ */
  for (size_t i = 0; i < AT_ARRAY_LEN (pt_marks); i++)
    *pt += strstr (text, pt_marks[i]) ? 2 : 0;
  for (size_t i = 0; i < AT_ARRAY_LEN (es_marks); i++)
    *es += strstr (text, es_marks[i]) ? 2 : 0;
}

at_lang_t
at_text_guess_language (const char *text)
{
  if (!text)
    return AT_LANG_OTHER;
  size_t len = strnlen (text, AT_TEXT_MAX + 1);
  char *norm = at_text_normalize (text, len);
  if (!norm)
    return AT_LANG_OTHER;
  char (*tokens)[AT_TOKEN_MAX] = at_malloc (S_GUESS_TOKENS * AT_TOKEN_MAX);
  size_t n = at_text_tokenize (norm, tokens, S_GUESS_TOKENS);
  int pt = 0, en = 0, es = 0;
  for (size_t i = 0; i < n; i++) {
    pt += s_count_in (tokens[i], s_stop_pt, AT_ARRAY_LEN (s_stop_pt));
    en += s_count_in (tokens[i], s_stop_en, AT_ARRAY_LEN (s_stop_en));
    es += s_count_in (tokens[i], s_stop_es, AT_ARRAY_LEN (s_stop_es));
  }
  free (tokens);
  free (norm);
  s_script_hints (text, &pt, &es);
  if (pt > en && pt > es)
    return AT_LANG_PT;
  if (en > pt && en > es)
    return AT_LANG_EN;
  if (es > pt && es > en)
    return AT_LANG_ES;
  return AT_LANG_OTHER;
}

void
at_text_excerpt (const char *text, size_t max_chars, char *out, size_t cap)
{
  if (!out || cap == 0)
    return;
  out[0] = '\0';
  if (!text)
    return;
  size_t len = strnlen (text, AT_TEXT_MAX);
  const uint8_t *s = (const uint8_t *) text;
  size_t at = 0, used = 0, chars = 0;
  bool pending_space = false;
  while (at < len && chars < max_chars) {
    ucs4_t uc;
    int n = u8_mbtouc (&uc, s + at, len - at);
    if (n <= 0)
      break;
    if (s_is_space (uc)) {
      pending_space = used > 0;
      at += (size_t) n;
      continue;
    }
    size_t need = (size_t) n + (pending_space ? 1 : 0);
    if (used + need + 1 > cap || (pending_space && chars + 1 >= max_chars))
      break;
    if (pending_space) {
      out[used++] = ' ';
      chars++;
      pending_space = false;
    }
    memcpy (out + used, s + at, (size_t) n);
    used += (size_t) n;
    chars++;
    at += (size_t) n;
  }
  out[used] = '\0';
}

const char *
at_text_safe_token (const char *in, char *out, size_t cap)
{
  if (!out || cap == 0)
    return out;
  size_t n = 0;
  for (; in && in[n] && n + 1 < cap; n++) {
    unsigned char c = (unsigned char) in[n];
    out[n] = isalnum (c) || strchr ("._-:@+", c) ? (char) c : '?';
  }
  out[n] = '\0';
  return out;
}

struct at_stemmer {
  struct sb_stemmer *sb;
};

at_stemmer_t *
at_stemmer_new (at_lang_t lang)
{
  const char *algorithm = lang == AT_LANG_PT ? "portuguese"
                        : lang == AT_LANG_EN ? "english"
                        : lang == AT_LANG_ES ? "spanish" : NULL;
  if (!algorithm)
    return NULL;
  struct sb_stemmer *sb = sb_stemmer_new (algorithm, "UTF_8");
  if (!sb)
    return NULL;
  at_stemmer_t *self = at_calloc (1, sizeof *self);
  self->sb = sb;
  return self;
}

void
at_stemmer_destroy (at_stemmer_t **self_p)
{
  if (!self_p || !*self_p)
    return;
  sb_stemmer_delete ((*self_p)->sb);
  free (*self_p);
  *self_p = NULL;
}

const char *
at_stemmer_stem (at_stemmer_t *self, const char *word, char *out, size_t cap)
{
  if (!out || cap == 0)
    return out;
  if (!self || !word) {
    at_strlcpy (out, word ? word : "", cap);
    return out;
  }
  size_t len = strnlen (word, 1024);
  const sb_symbol *stem = sb_stemmer_stem (self->sb, (const sb_symbol *) word, (int) len);
  if (!stem) {
    at_strlcpy (out, word, cap);
    return out;
  }
  size_t slen = (size_t) sb_stemmer_length (self->sb);
  if (slen >= cap)
    slen = cap - 1;
  memcpy (out, stem, slen);
  out[slen] = '\0';
  return out;
}
