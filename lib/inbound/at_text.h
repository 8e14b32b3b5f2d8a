/* at_text: text processing for customer messages (libunistring, libstemmer).
 *   normalisation  NFKD, lower case, combining marks stripped ("Cadê" -> "cade")
 *   tokens         runs of letters and digits of the normalised text
 *   language       pt | en | es | other, guessed from stop words
 *   stems          Snowball stemmers (portuguese, english, spanish)
 *   priority       normal | high, from urgency keywords (the intent: at_intent.h)
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

#define AT_PRIORITY_NORMAL 0
#define AT_PRIORITY_HIGH   1

/* "normal" "high". */
const char *at_priority_name (int priority);

/* Why a ticket is urgent: a set of these bits. The first three come from
 * the text (at_priority_reasons); route adds the others from the intent
 * model and the store. */
#define AT_PRIORITY_URGENT    (1u << 0)   /* "urgente", "asap", "cancelar" */
#define AT_PRIORITY_AGENCY    (1u << 1)   /* Procon, Reclame Aqui, a lawyer, PROFECO */
#define AT_PRIORITY_NEGATIVE  (1u << 2)   /* negative tone: "péssimo", "scam", 😡 */
#define AT_PRIORITY_COMPLAINT (1u << 3)   /* the intent model says complaint */
#define AT_PRIORITY_REPEAT    (1u << 4)   /* repeat contacts about the same order */
#define AT_PRIORITY_LOW_SURVEY (1u << 5)  /* a low survey score's follow-up (workers/survey) */
#define AT_PRIORITY_REASONS 6
#define AT_PRIORITY_REASONS_TEXT_MAX 96

/* The reasons a message (raw UTF-8) gives by keywords of Portuguese,
 * English and Spanish, matched on stems so inflections, accents and
 * capitals do not matter (one typo allowed in long words), and by angry
 * emoji; 0 for invalid text. Implemented in workers/route/priority.c.
 * Thread-safe. */
unsigned at_priority_reasons (const char *text);

/* The reasons as "urgent,agency,negative_tone,complaint,repeat_contact"
 * (in that order, only those set) into out; "" for none. Returns out. */
const char *at_priority_reasons_text (unsigned reasons, char *out, size_t cap);

/* AT_PRIORITY_HIGH when at_priority_reasons (text) is not empty. */
int at_priority_classify (const char *text);

#endif
