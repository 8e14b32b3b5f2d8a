/* The settings table made real: defaults, then environment, then flags. */
#include "at_config.h"
#include "at_common.h"
#include "at_log.h"

#include <stdlib.h>
#include <string.h>

typedef enum { S_STR, S_INT, S_SECRET } s_type_t;

typedef struct {
  s_type_t type;
  const char *name;
  const char *env;
  const char *def;
  long min, max;
  const char *help;
  size_t offset;
} s_setting_t;

#define S_TYPE_STR S_STR
#define S_TYPE_INT S_INT
#define S_TYPE_SECRET S_SECRET
#define S_ROW(type, f, env, def, lo, hi, help) \
  {S_TYPE_##type, #f, env, def, lo, hi, help, offsetof (at_config_t, f)},
static const s_setting_t s_settings[] = {AT_SETTINGS (S_ROW)};
#undef S_ROW

#define S_COUNT AT_ARRAY_LEN (s_settings)
_Static_assert (AT_ARRAY_LEN (s_settings) <= sizeof ((at_config_t *) 0)->source_, "source_ holds every setting");

static const char *const s_source_names[] = {"default", "env", "flag"};

/* "database_url" <-> "--database-url" */
static void
s_flag_name (const char *name, char *out, size_t cap)
{
  size_t n = 0;
  if (cap < 3)
    return;
  out[n++] = '-';
  out[n++] = '-';
  for (; *name && n + 1 < cap; name++)
    out[n++] = *name == '_' ? '-' : *name;
  out[n] = '\0';
}

static int
s_set (at_config_t *self, size_t i, const char *value, unsigned char source)
{
  const s_setting_t *s = &s_settings[i];
  char *base = (char *) self + s->offset;
  if (s->type == S_INT) {
    long v;
    if (at_parse_long (value, s->min, s->max, &v) != AT_OK) {
      fprintf (stderr, "atende: %s (%s) must be an integer in [%ld, %ld], got '%s'\n", s->name,
               s->env, s->min, s->max, value);
      return AT_INVALID;
    }
    *(long *) base = v;
  }
  else {
    char **slot = (char **) base;
    free (*slot);
    *slot = at_strdup (value);
  }
  self->source_[i] = source;
  return AT_OK;
}

static at_config_t *
s_defaults_and_env (void)
{
  at_config_t *self = at_calloc (1, sizeof *self);
  for (size_t i = 0; i < S_COUNT; i++) {
    if (s_set (self, i, s_settings[i].def, 0) != AT_OK)
      abort ();   /* a default outside its own bounds is a bug in the table */
    const char *env = getenv (s_settings[i].env);
    if (env != NULL && s_set (self, i, env, 1) != AT_OK) {
      at_config_destroy (&self);
      return NULL;
    }
  }
  return self;
}

static int
s_validate (at_config_t *self)
{
  at_log_level_t level;
  if (at_log_level_parse (self->log_level, &level) != 0) {
    fprintf (stderr, "atende: log_level (ATENDE_LOG_LEVEL) must be debug, info, warn or error\n");
    return AT_INVALID;
  }
  if (*self->broker_endpoints == '\0') {
    fprintf (stderr, "atende: broker_endpoints (ATENDE_BROKER_ENDPOINTS) is empty\n");
    return AT_INVALID;
  }
  at_log_set_level (level);
  return AT_OK;
}

at_config_t *
at_config_from_env (void)
{
  at_config_t *self = s_defaults_and_env ();
  if (self && s_validate (self) != AT_OK)
    at_config_destroy (&self);
  return self;
}

/* Matches argv[i] against every setting's flag; consumes 1 or 2 args. */
static int
s_match_flag (at_config_t *self, int argc, char **argv, int i, int *consumed)
{
  char flag[80];
  *consumed = 0;
  for (size_t k = 0; k < S_COUNT; k++) {
    s_flag_name (s_settings[k].name, flag, sizeof flag);
    size_t len = strlen (flag);
    if (strncmp (argv[i], flag, len) != 0)
      continue;
    if (argv[i][len] == '=') {
      *consumed = 1;
      return s_set (self, k, argv[i] + len + 1, 2);
    }
    if (argv[i][len] == '\0') {
      if (i + 1 >= argc) {
        fprintf (stderr, "atende: %s needs a value\n", flag);
        return AT_INVALID;
      }
      *consumed = 2;
      return s_set (self, k, argv[i + 1], 2);
    }
  }
  return AT_OK;
}

at_config_t *
at_config_new (int *argc, char **argv)
{
  at_config_t *self = s_defaults_and_env ();
  if (self == NULL)
    return NULL;
  int out = 1;
  for (int i = 1; i < *argc;) {
    int consumed = 0;
    if (strcmp (argv[i], "--") == 0)
      break;
    if (s_match_flag (self, *argc, argv, i, &consumed) != AT_OK) {
      at_config_destroy (&self);
      return NULL;
    }
    if (consumed == 0)
      argv[out++] = argv[i++];
    else
      i += consumed;
  }
  argv[out] = NULL;
  *argc = out;
  if (s_validate (self) != AT_OK)
    at_config_destroy (&self);
  return self;
}

void
at_config_destroy (at_config_t **self_p)
{
  if (self_p == NULL || *self_p == NULL)
    return;
  at_config_t *self = *self_p;
  for (size_t i = 0; i < S_COUNT; i++)
    if (s_settings[i].type != S_INT)
      free (*(char **) ((char *) self + s_settings[i].offset));
  free (self);
  *self_p = NULL;
}

void
at_config_print (const at_config_t *self, FILE *out)
{
  for (size_t i = 0; i < S_COUNT; i++) {
    const s_setting_t *s = &s_settings[i];
    const char *base = (const char *) self + s->offset;
    const char *src = s_source_names[self->source_[i] < 3 ? self->source_[i] : 0];
    if (s->type == S_INT)
      fprintf (out, "%-30s %-38s %ld  (%s)\n", s->name, s->env, *(const long *) base, src);
    else if (s->type == S_SECRET)
      fprintf (out, "%-30s %-38s %s  (%s)\n", s->name, s->env,
               **(char *const *) base ? "********" : "(empty)", src);
    else
      fprintf (out, "%-30s %-38s %s  (%s)\n", s->name, s->env, *(char *const *) base, src);
  }
}

void
at_config_print_help (FILE *out)
{
  char flag[80];
  fprintf (out, "Settings (flag, environment variable, default):\n");
  for (size_t i = 0; i < S_COUNT; i++) {
    const s_setting_t *s = &s_settings[i];
    s_flag_name (s->name, flag, sizeof flag);
    fprintf (out, "  %-34s %s\n      %s", flag, s->env, s->help);
    if (s->type == S_INT)
      fprintf (out, " [%ld..%ld, default %s]\n", s->min, s->max, s->def);
    else
      fprintf (out, " [default '%s']\n", s->type == S_SECRET && *s->def ? "********" : s->def);
  }
}
