/* at_text: text processing for customer messages (libunistring, libstemmer).
 *   normalisation  NFKD, lower case, combining marks stripped ("Cadê" -> "cade")
 *   tokens         runs of letters and digits of the normalised text
 *   language       pt | en | es | other, guessed from stop words
 *   stems          Snowball stemmers (portuguese, english, spanish)
 *   intent         order_status | returns | other, and priority, from the text
 * All functions are safe on any input: invalid UTF-8 is refused, never read past. */
#ifndef AT_TEXT_H
#define AT_TEXT_H

#include "at_common.h"

#define AT_TEXT_MAX (64 * 1024)   /* longest message text accepted, bytes */
#define AT_TOKEN_MAX 48           /* longest token kept, bytes (longer ones are cut) */

typedef enum { AT_LANG_OTHER = 0, AT_LANG_PT, AT_LANG_EN, AT_LANG_ES } at_lang_t;

/* "pt" "en" "es" "other". */
const char *at_lang_name (at_lang_t lang);
/* Parses "pt", "pt-BR", "en", "en-US", "es", ... (case-insensitive); AT_LANG_OTHER otherwise. */
at_lang_t at_lang_parse (const char *text);

/* True when text[0..len) is valid UTF-8 without NUL bytes. */
bool at_text_valid_utf8 (const char *text, size_t len);

/* Normalised copy of text (caller frees): NFKD, lower case, combining marks
 * removed, every run of whitespace and control characters one space, trimmed.
 * NULL for invalid UTF-8 or text longer than AT_TEXT_MAX. */
char *at_text_normalize (const char *text, size_t len);

/* Splits normalised text into at most max tokens of letters and digits
 * (each NUL-terminated, cut at AT_TOKEN_MAX - 1 bytes). Returns the count. */
size_t at_text_tokenize (const char *normalized, char (*tokens)[AT_TOKEN_MAX], size_t max);

/* Guesses the language of raw text from its stop words; AT_LANG_OTHER when
 * there are too few to tell. */
at_lang_t at_text_guess_language (const char *text);

/* Copies the first max_chars characters of UTF-8 text into out (cap bytes,
 * never cutting a character), whitespace runs folded, trimmed. */
void at_text_excerpt (const char *text, size_t max_chars, char *out, size_t cap);

/* A copy of an untrusted short identifier fit to quote in a log line or a
 * dead-letter reason: ASCII letters, digits and "._-:@+" kept, anything else
 * '?', cut to cap - 1 bytes. Returns out. */
const char *at_text_safe_token (const char *in, char *out, size_t cap);

/* A Snowball stemmer for one language (not shareable between threads). */
typedef struct at_stemmer at_stemmer_t;
at_stemmer_t *at_stemmer_new (at_lang_t lang);   /* NULL for AT_LANG_OTHER */
void at_stemmer_destroy (at_stemmer_t **self_p);
/* Stems one normalised word into out; returns out. */
const char *at_stemmer_stem (at_stemmer_t *self, const char *word, char *out, size_t cap);

/* What a customer's message is about. */
typedef enum { AT_INTENT_OTHER = 0, AT_INTENT_ORDER_STATUS, AT_INTENT_RETURNS } at_intent_t;
#define AT_PRIORITY_NORMAL 0
#define AT_PRIORITY_HIGH   1

/* "order_status" "returns" "other". */
const char *at_intent_name (at_intent_t intent);
/* "normal" "high". */
const char *at_priority_name (int priority);

/* Classifies a message (raw UTF-8) from keywords and phrases of Portuguese,
 * English and Spanish, all three matched on stems, so inflections, missing
 * accents, capitals and one-letter typos in longer words do not matter.
 * Phrases ("onde esta", "where is my order") weigh more than single words.
 * *priority_out (optional) gets AT_PRIORITY_HIGH when the text signals urgency
 * or a complaint. Invalid text is AT_INTENT_OTHER, normal. Implemented in
 * workers/route/intent.c. Thread-safe. */
at_intent_t at_intent_classify (const char *text, int *priority_out);

#endif
