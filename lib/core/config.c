/* The settings table made real: defaults, then environment, then flags. */
#include "at_config.h"
#include "at_common.h"
#include "at_log.h"

#include <stdlib.h>
#include <string.h>
#include <zmq.h>

typedef enum { S_STR, S_INT, S_SECRET, S_LIST, S_MAP, S_SECRETS } s_type_t;

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
#define S_TYPE_LIST S_LIST
#define S_TYPE_MAP S_MAP
#define S_TYPE_SECRETS S_SECRETS
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

static bool
s_is_list (s_type_t type)
{
  return type == S_LIST || type == S_MAP || type == S_SECRETS;
}

static int
s_set_list (const s_setting_t *s, at_list_t *list, const char *value)
{
  static const at_list_kind_t kinds[] = {[S_LIST] = AT_LIST_VALUES, [S_MAP] = AT_LIST_PAIRS,
                                         [S_SECRETS] = AT_LIST_SECRETS};
  char reason[160];
  if (at_list_parse (list, value, kinds[s->type], reason, sizeof reason) == AT_OK)
    return AT_OK;
  fprintf (stderr, "atende: %s (%s): %s\n", s->name, s->env, reason);
  return AT_INVALID;
}

static int
s_set (at_config_t *self, size_t i, const char *value, unsigned char source)
{
  const s_setting_t *s = &s_settings[i];
  char *base = (char *) self + s->offset;
  if (s_is_list (s->type)) {
    if (s_set_list (s, (at_list_t *) base, value) != AT_OK)
      return AT_INVALID;
  }
  else if (s->type == S_INT) {
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

#define S_ATTEMPTS_MIN 1
#define S_ATTEMPTS_MAX 1000

/* stage_max_attempts: known stages, each an integer in [1, 1000]. */
static int
s_validate_attempts (const at_config_t *self)
{
  static const char *const stages[] = {AT_STAGE_INGEST, AT_STAGE_ROUTE, AT_STAGE_NOTIFY,
                                       AT_STAGE_SURVEY};
  const at_list_t *list = &self->stage_max_attempts;
  for (size_t i = 0; i < list->n; i++) {
    bool known = false;
    for (size_t k = 0; k < AT_ARRAY_LEN (stages); k++)
      known = known || strcmp (list->items[i].key, stages[k]) == 0;
    long v;
    if (!known)
      fprintf (stderr, "atende: stage_max_attempts (ATENDE_STAGE_MAX_ATTEMPTS): unknown stage"
               " '%s' (ingest, route, notify, survey)\n", list->items[i].key);
    else if (at_parse_long (list->items[i].value, S_ATTEMPTS_MIN, S_ATTEMPTS_MAX, &v) != AT_OK)
      fprintf (stderr, "atende: stage_max_attempts (ATENDE_STAGE_MAX_ATTEMPTS): attempts of %s"
               " must be an integer in [%d, %d], got '%s'\n", list->items[i].key,
               S_ATTEMPTS_MIN, S_ATTEMPTS_MAX, list->items[i].value);
    else
      continue;
    return AT_INVALID;
  }
  return AT_OK;
}

long
at_config_max_attempts (const at_config_t *self, const char *stage)
{
  long v;
  const char *value = at_list_get (&self->stage_max_attempts, stage);
  if (value && at_parse_long (value, S_ATTEMPTS_MIN, S_ATTEMPTS_MAX, &v) == AT_OK)
    return v;
  return self->max_attempts;
}

int
at_config_shards (const at_config_t *self)
{
  long endpoints = (long) self->broker_endpoints.n;
  return (int) (endpoints > self->broker_count ? endpoints : self->broker_count);
}

/* ---- CURVE keys of the bus (README "Bus security") */

int
at_config_curve_key (const char *z85, unsigned char *out)
{
  if (z85 == NULL || strlen (z85) != AT_CURVE_Z85_LEN)
    return AT_INVALID;
  return zmq_z85_decode (out, z85) != NULL ? AT_OK : AT_INVALID;
}

int
at_config_curve_keys (const char *value, unsigned char (*keys)[AT_CURVE_KEY_BYTES], size_t cap,
                      size_t *n)
{
  char z85[AT_CURVE_Z85_LEN + 1];
  size_t len = strlen (value);
  *n = 0;
  if ((len + 1) % (AT_CURVE_Z85_LEN + 1) != 0)
    return AT_INVALID;
  for (size_t at = 0; at < len; at += AT_CURVE_Z85_LEN + 1) {
    if (*n == cap || (at > 0 && value[at - 1] != '+'))
      return AT_INVALID;
    memcpy (z85, value + at, AT_CURVE_Z85_LEN);
    z85[AT_CURVE_Z85_LEN] = '\0';
    if (at_config_curve_key (z85, keys[*n]) != AT_OK)
      return AT_INVALID;
    (*n)++;
  }
  return *n > 0 ? AT_OK : AT_INVALID;
}

bool
at_config_curve_role_valid (const char *role)
{
  static const char *const roles[] = {"publisher", "worker:*", "worker:" AT_STAGE_INGEST,
                                      "worker:" AT_STAGE_ROUTE, "worker:" AT_STAGE_NOTIFY,
                                      "worker:" AT_STAGE_SURVEY};
  for (size_t i = 0; role && i < AT_ARRAY_LEN (roles); i++)
    if (strcmp (role, roles[i]) == 0)
      return true;
  return false;
}

/* One key setting: empty, or Z85 of a 32-byte key. */
static int
s_curve_one (const char *value, const char *name, const char *env, unsigned char *out)
{
  if (*value == '\0' || at_config_curve_key (value, out) == AT_OK)
    return AT_OK;
  fprintf (stderr, "atende: %s (%s) must be a CURVE key: 40 characters of Z85 (atende keys curve)\n",
           name, env);
  return AT_INVALID;
}

/* ATENDE_BUS_CURVE_CLIENTS: known roles, each with one or more keys. */
static int
s_curve_clients (const at_list_t *list)
{
  size_t total = 0;
  for (size_t i = 0; i < list->n; i++) {
    unsigned char keys[AT_CURVE_KEYS_MAX][AT_CURVE_KEY_BYTES];
    size_t n = 0;
    const char *role = list->items[i].key ? list->items[i].key : "";
    if (!at_config_curve_role_valid (role))
      fprintf (stderr, "atende: bus_curve_clients (ATENDE_BUS_CURVE_CLIENTS): unknown role '%.40s'"
               " (publisher, worker:<stage>, worker:*)\n", role);
    else if (at_config_curve_keys (list->items[i].value, keys, AT_CURVE_KEYS_MAX - total, &n)
             != AT_OK)
      fprintf (stderr, "atende: bus_curve_clients (ATENDE_BUS_CURVE_CLIENTS): the keys of %s must"
               " be CURVE public keys (40 characters of Z85) joined by +, at most %d in all\n",
               role, AT_CURVE_KEYS_MAX);
    else {
      total += n;
      continue;
    }
    return AT_INVALID;
  }
  return AT_OK;
}

/* The broker's side (secret and clients) and the client's (server key and
 * its own pair) are each complete or absent; a pair's halves belong together. */
static int
s_validate_curve (const at_config_t *self)
{
  unsigned char secret[AT_CURVE_KEY_BYTES], server[AT_CURVE_KEY_BYTES];
  unsigned char pub[AT_CURVE_KEY_BYTES], own[AT_CURVE_KEY_BYTES];
  char derived[AT_CURVE_Z85_LEN + 1];
  if (s_curve_one (self->bus_curve_secret, "bus_curve_secret", "ATENDE_BUS_CURVE_SECRET", secret)
        != AT_OK
      || s_curve_one (self->bus_curve_server_key, "bus_curve_server_key",
                      "ATENDE_BUS_CURVE_SERVER_KEY", server) != AT_OK
      || s_curve_one (self->bus_curve_client_public, "bus_curve_client_public",
                      "ATENDE_BUS_CURVE_CLIENT_PUBLIC", pub) != AT_OK
      || s_curve_one (self->bus_curve_client_secret, "bus_curve_client_secret",
                      "ATENDE_BUS_CURVE_CLIENT_SECRET", own) != AT_OK
      || s_curve_clients (&self->bus_curve_clients) != AT_OK)
    return AT_INVALID;
  const char *missing = NULL;
  if (*self->bus_curve_secret && self->bus_curve_clients.n == 0)
    missing = "ATENDE_BUS_CURVE_CLIENTS is empty: with ATENDE_BUS_CURVE_SECRET set the broker"
              " would admit no one";
  else if (!*self->bus_curve_secret && self->bus_curve_clients.n > 0)
    missing = "ATENDE_BUS_CURVE_SECRET is empty: ATENDE_BUS_CURVE_CLIENTS needs the broker's key";
  else if (*self->bus_curve_server_key && !*self->bus_curve_client_public)
    missing = "ATENDE_BUS_CURVE_CLIENT_PUBLIC is empty: with ATENDE_BUS_CURVE_SERVER_KEY set a"
              " client needs its own key pair";
  else if (*self->bus_curve_server_key && !*self->bus_curve_client_secret)
    missing = "ATENDE_BUS_CURVE_CLIENT_SECRET is empty: with ATENDE_BUS_CURVE_SERVER_KEY set a"
              " client needs its own key pair";
  else if (!*self->bus_curve_server_key
           && (*self->bus_curve_client_public || *self->bus_curve_client_secret))
    missing = "ATENDE_BUS_CURVE_SERVER_KEY is empty: a client key pair needs the broker's public key";
  else if (*self->bus_curve_client_secret
           && (zmq_curve_public (derived, self->bus_curve_client_secret) != 0
               || strcmp (derived, self->bus_curve_client_public) != 0))
    missing = "ATENDE_BUS_CURVE_CLIENT_PUBLIC is not the public key of"
              " ATENDE_BUS_CURVE_CLIENT_SECRET";
  if (missing == NULL)
    return AT_OK;
  fprintf (stderr, "atende: %s\n", missing);
  return AT_INVALID;
}

static int
s_validate (at_config_t *self)
{
  at_log_level_t level;
  if (at_log_level_parse (self->log_level, &level) != 0) {
    fprintf (stderr, "atende: log_level (ATENDE_LOG_LEVEL) must be debug, info, warn or error\n");
    return AT_INVALID;
  }
  if (self->broker_endpoints.n == 0) {
    fprintf (stderr, "atende: broker_endpoints (ATENDE_BROKER_ENDPOINTS) is empty\n");
    return AT_INVALID;
  }
  if (s_validate_attempts (self) != AT_OK || s_validate_curve (self) != AT_OK)
    return AT_INVALID;
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
  for (size_t i = 0; i < S_COUNT; i++) {
    char *base = (char *) self + s_settings[i].offset;
    if (s_is_list (s_settings[i].type))
      at_list_clear ((at_list_t *) base);
    else if (s_settings[i].type != S_INT)
      free (*(char **) base);
  }
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
    const char *text = s_is_list (s->type) ? ((const at_list_t *) base)->text
                       : s->type == S_INT ? NULL : *(char *const *) base;
    if (s->type == S_INT)
      fprintf (out, "%-30s %-38s %ld  (%s)\n", s->name, s->env, *(const long *) base, src);
    else if (s->type == S_SECRET || s->type == S_SECRETS)
      fprintf (out, "%-30s %-38s %s  (%s)\n", s->name, s->env, *text ? "********" : "(empty)",
               src);
    else
      fprintf (out, "%-30s %-38s %s  (%s)\n", s->name, s->env, text, src);
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
      fprintf (out, " [default '%s']\n",
               (s->type == S_SECRET || s->type == S_SECRETS) && *s->def ? "********" : s->def);
  }
}
