/* Meta webhook JSON -> customer messages and delivery statuses (at_meta.h). */
#include "at_meta.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  at_meta_batch_t *batch;
  size_t message_cap;
  size_t status_cap;
  char *reason;
  size_t reason_cap;
} s_parse_t;

static int
s_fail (s_parse_t *ps, const char *why)
{
  snprintf (ps->reason, ps->reason_cap, "%s", why);
  return AT_INVALID;
}

/* Copies an optional string field; a non-string or too long value fails. */
static int
s_string (s_parse_t *ps, const json_t *obj, const char *field, char *out, size_t cap,
          bool required)
{
  const json_t *v = json_object_get (obj, field);
  if (!v || json_is_null (v)) {
    out[0] = '\0';
    if (!required)
      return AT_OK;
    snprintf (ps->reason, ps->reason_cap, "%s is missing", field);
    return AT_INVALID;
  }
  if (!json_is_string (v) || json_string_length (v) >= cap
      || strlen (json_string_value (v)) != json_string_length (v)) {
    snprintf (ps->reason, ps->reason_cap, "%s is not a string of at most %zu bytes", field,
              cap - 1);
    return AT_INVALID;
  }
  if (required && json_string_length (v) == 0) {
    snprintf (ps->reason, ps->reason_cap, "%s is empty", field);
    return AT_INVALID;
  }
  memcpy (out, json_string_value (v), json_string_length (v) + 1);
  return AT_OK;
}

/* A readable text from a string field, or NULL (wrong type, empty, too long). */
static const char *
s_text (const json_t *obj, const char *field)
{
  const json_t *v = json_object_get (obj, field);
  if (!json_is_string (v) || json_string_length (v) == 0
      || json_string_length (v) > AT_META_TEXT_MAX
      || strlen (json_string_value (v)) != json_string_length (v))
    return NULL;
  return json_string_value (v);
}

/* WhatsApp's timestamp: unix seconds as a decimal string (or a number). */
static int64_t
s_seconds_us (const json_t *v)
{
  long seconds = 0;
  if (json_is_integer (v) && json_integer_value (v) > 0 && json_integer_value (v) < 1L << 40)
    return (int64_t) json_integer_value (v) * 1000000;
  if (json_is_string (v) && at_parse_long (json_string_value (v), 1, 1L << 40, &seconds) == AT_OK)
    return (int64_t) seconds * 1000000;
  return 0;
}

static at_meta_message_t *
s_message_slot (s_parse_t *ps)
{
  at_meta_batch_t *b = ps->batch;
  if (b->message_count + b->status_count >= AT_META_ITEMS_MAX)
    return NULL;
  if (b->message_count == ps->message_cap) {
    ps->message_cap = ps->message_cap ? ps->message_cap * 2 : 4;
    at_meta_message_t *grown = realloc (b->messages, ps->message_cap * sizeof *grown);
    if (!grown)
      abort ();
    b->messages = grown;
  }
  at_meta_message_t *m = &b->messages[b->message_count];
  memset (m, 0, sizeof *m);
  return m;
}

static at_meta_status_t *
s_status_slot (s_parse_t *ps)
{
  at_meta_batch_t *b = ps->batch;
  if (b->message_count + b->status_count >= AT_META_ITEMS_MAX)
    return NULL;
  if (b->status_count == ps->status_cap) {
    ps->status_cap = ps->status_cap ? ps->status_cap * 2 : 4;
    at_meta_status_t *grown = realloc (b->statuses, ps->status_cap * sizeof *grown);
    if (!grown)
      abort ();
    b->statuses = grown;
  }
  at_meta_status_t *s = &b->statuses[b->status_count];
  memset (s, 0, sizeof *s);
  return s;
}

/* --- WhatsApp */

/* The text a person reads in a WhatsApp message of any type; NULL if none. */
static const char *
s_wa_text (const json_t *msg, const char *type)
{
  static const char *const media[] = { "image", "video", "document", "audio", "sticker" };
  const json_t *part = json_object_get (msg, type);
  if (strcmp (type, "text") == 0)
    return s_text (part, "body");
  if (strcmp (type, "button") == 0)
    return s_text (part, "text");
  if (strcmp (type, "interactive") == 0) {
    const json_t *reply = json_object_get (part, "button_reply");
    reply = reply ? reply : json_object_get (part, "list_reply");
    const char *id = s_text (reply, "id");   /* a survey's list: "nps:9" is what route reads */
    if (id && (strncmp (id, "nps:", 4) == 0 || strncmp (id, "csat:", 5) == 0) && strlen (id) < 8)
      return id;
    return s_text (reply, "title");
  }
  if (strcmp (type, "location") == 0) {
    const char *t = s_text (part, "address");
    return t ? t : s_text (part, "name");
  }
  for (size_t i = 0; i < AT_ARRAY_LEN (media); i++)
    if (strcmp (type, media[i]) == 0) {
      const char *caption = s_text (part, "caption");
      return caption ? caption : s_text (part, "filename");
    }
  return NULL;
}

/* "[image] caption" style text for media, plain text otherwise. */
static char *
s_wa_render (const char *type, const char *text)
{
  bool plain = strcmp (type, "text") == 0 || strcmp (type, "button") == 0
               || strcmp (type, "interactive") == 0;
  if (plain)
    return at_strdup (text);
  size_t n = strlen (type) + strlen (text) + 4;
  char *out = at_malloc (n);
  snprintf (out, n, "[%s] %s", type, text);
  return out;
}

static int
s_wa_message (s_parse_t *ps, const json_t *value, const json_t *msg, const char *account)
{
  char type[32];
  if (!json_is_object (msg))
    return s_fail (ps, "messages[] holds a non-object");
  if (s_string (ps, msg, "type", type, sizeof type, true) != AT_OK)
    return AT_INVALID;
  const char *text = s_wa_text (msg, type);
  if (!text) {
    ps->batch->skipped++;
    return AT_OK;
  }
  at_meta_message_t *m = s_message_slot (ps);
  if (!m)
    return s_fail (ps, "too many messages and statuses in one delivery");
  at_strlcpy (m->channel, "whatsapp", sizeof m->channel);
  at_strlcpy (m->account, account, sizeof m->account);
  if (s_string (ps, msg, "from", m->sender, sizeof m->sender, true) != AT_OK
      || s_string (ps, msg, "id", m->id, sizeof m->id, true) != AT_OK)
    return AT_INVALID;
  m->timestamp_us = s_seconds_us (json_object_get (msg, "timestamp"));
  size_t i;
  const json_t *contact;
  json_array_foreach (json_object_get (value, "contacts"), i, contact) {
    const json_t *wa_id = json_object_get (contact, "wa_id");
    const char *name = s_text (json_object_get (contact, "profile"), "name");
    if (json_is_string (wa_id) && strcmp (json_string_value (wa_id), m->sender) == 0 && name)
      at_strlcpy (m->name, name, sizeof m->name);
  }
  m->text = s_wa_render (type, text);
  if (strlen (m->text) > AT_META_TEXT_MAX) {
    free (m->text);
    m->text = NULL;
    return s_fail (ps, "a message text is too long");
  }
  ps->batch->message_count++;
  return AT_OK;
}

static int
s_wa_status (s_parse_t *ps, const json_t *st, const char *account)
{
  if (!json_is_object (st))
    return s_fail (ps, "statuses[] holds a non-object");
  at_meta_status_t *s = s_status_slot (ps);
  if (!s)
    return s_fail (ps, "too many messages and statuses in one delivery");
  at_strlcpy (s->account, account, sizeof s->account);
  if (s_string (ps, st, "id", s->id, sizeof s->id, true) != AT_OK
      || s_string (ps, st, "status", s->status, sizeof s->status, true) != AT_OK
      || s_string (ps, st, "recipient_id", s->recipient, sizeof s->recipient, false) != AT_OK)
    return AT_INVALID;
  s->timestamp_us = s_seconds_us (json_object_get (st, "timestamp"));
  const json_t *err = json_array_get (json_object_get (st, "errors"), 0);
  if (json_is_object (err)) {
    const json_t *code = json_object_get (err, "code");
    const char *title = s_text (err, "title");
    snprintf (s->error, sizeof s->error, "%lld %s",
              json_is_integer (code) ? (long long) json_integer_value (code) : 0LL,
              title ? title : "");
  }
  ps->batch->status_count++;
  return AT_OK;
}

static int
s_wa_change (s_parse_t *ps, const json_t *change)
{
  char account[AT_META_ID_MAX];
  size_t i;
  const json_t *item;
  const json_t *value = json_object_get (change, "value");
  const json_t *field = json_object_get (change, "field");
  if (!json_is_object (change) || !json_is_object (value))
    return s_fail (ps, "changes[] needs objects with a value object");
  if (json_is_string (field) && strcmp (json_string_value (field), "messages") != 0) {
    ps->batch->skipped++;
    return AT_OK;
  }
  if (s_string (ps, json_object_get (value, "metadata"), "phone_number_id", account,
                sizeof account, true) != AT_OK)
    return AT_INVALID;
  if (!ps->batch->account[0])
    at_strlcpy (ps->batch->account, account, sizeof ps->batch->account);
  const json_t *messages = json_object_get (value, "messages");
  const json_t *statuses = json_object_get (value, "statuses");
  if ((messages && !json_is_array (messages)) || (statuses && !json_is_array (statuses)))
    return s_fail (ps, "messages and statuses must be arrays");
  json_array_foreach (messages, i, item)
    if (s_wa_message (ps, value, item, account) != AT_OK)
      return AT_INVALID;
  json_array_foreach (statuses, i, item)
    if (s_wa_status (ps, item, account) != AT_OK)
      return AT_INVALID;
  return AT_OK;
}

/* --- Messenger and Instagram */

/* The text of message: its text, else "[type]" of its first attachment. */
static char *
s_page_text (const json_t *message)
{
  const char *text = s_text (message, "text");
  if (text)
    return at_strdup (text);
  const json_t *att = json_array_get (json_object_get (message, "attachments"), 0);
  const json_t *type = json_object_get (att, "type");
  if (!json_is_string (type) || json_string_length (type) == 0
      || json_string_length (type) > 32)
    return NULL;
  size_t n = json_string_length (type) + 3;
  char *out = at_malloc (n);
  snprintf (out, n, "[%s]", json_string_value (type));
  return out;
}

static int
s_page_event (s_parse_t *ps, const json_t *event, const char *channel, const char *account)
{
  if (!json_is_object (event))
    return s_fail (ps, "messaging[] holds a non-object");
  const json_t *message = json_object_get (event, "message");
  if (!json_is_object (message) || json_is_true (json_object_get (message, "is_echo"))
      || json_is_true (json_object_get (message, "is_deleted"))) {
    ps->batch->skipped++;   /* deliveries, reads, postbacks, echoes of ours */
    return AT_OK;
  }
  char *text = s_page_text (message);
  if (!text) {
    ps->batch->skipped++;
    return AT_OK;
  }
  at_meta_message_t *m = s_message_slot (ps);
  if (!m) {
    free (text);
    return s_fail (ps, "too many messages in one delivery");
  }
  m->text = text;   /* owned by the slot from here, freed with the batch */
  ps->batch->message_count++;
  at_strlcpy (m->channel, channel, sizeof m->channel);
  at_strlcpy (m->account, account, sizeof m->account);
  const json_t *ts = json_object_get (event, "timestamp");
  if (json_is_integer (ts) && json_integer_value (ts) > 0 && json_integer_value (ts) < 1LL << 50)
    m->timestamp_us = (int64_t) json_integer_value (ts) * 1000;
  if (s_string (ps, json_object_get (event, "sender"), "id", m->sender, sizeof m->sender, true)
      != AT_OK
      || s_string (ps, message, "mid", m->id, sizeof m->id, true) != AT_OK)
    return AT_INVALID;
  return AT_OK;
}

/* --- the delivery */

static int
s_entry (s_parse_t *ps, const json_t *entry, const char *channel)
{
  char account[AT_META_ID_MAX];
  size_t i;
  const json_t *item;
  if (!json_is_object (entry))
    return s_fail (ps, "entry[] holds a non-object");
  if (!channel) {   /* WhatsApp: the account is in each change */
    const json_t *changes = json_object_get (entry, "changes");
    if (!json_is_array (changes))
      return s_fail (ps, "entry[].changes must be an array");
    json_array_foreach (changes, i, item)
      if (s_wa_change (ps, item) != AT_OK)
        return AT_INVALID;
    return AT_OK;
  }
  if (s_string (ps, entry, "id", account, sizeof account, true) != AT_OK)
    return AT_INVALID;
  if (!ps->batch->account[0])
    at_strlcpy (ps->batch->account, account, sizeof ps->batch->account);
  const json_t *messaging = json_object_get (entry, "messaging");
  if (messaging && !json_is_array (messaging))
    return s_fail (ps, "entry[].messaging must be an array");
  if (!messaging)
    ps->batch->skipped++;   /* changes-only entries (comments, mentions) */
  json_array_foreach (messaging, i, item)
    if (s_page_event (ps, item, channel, account) != AT_OK)
      return AT_INVALID;
  return AT_OK;
}

int
at_meta_parse (const char *body, size_t len, at_meta_batch_t **out, char *reason,
               size_t reason_cap)
{
  json_error_t error;
  size_t i;
  const json_t *entry;
  const char *channel = NULL;
  s_parse_t ps = { at_calloc (1, sizeof (at_meta_batch_t)), 0, 0, reason, reason_cap };
  int rc = AT_INVALID;
  *out = NULL;
  reason[0] = '\0';
  json_t *doc = json_loadb (body, len, JSON_REJECT_DUPLICATES, &error);
  if (!json_is_object (doc)) {
    snprintf (reason, reason_cap, "not a JSON object: %s", doc ? "other type" : error.text);
    goto out;
  }
  if (s_string (&ps, doc, "object", ps.batch->object, sizeof ps.batch->object, true) != AT_OK)
    goto out;
  if (strcmp (ps.batch->object, "page") == 0)
    channel = "messenger";
  else if (strcmp (ps.batch->object, "instagram") == 0)
    channel = "instagram";
  else if (strcmp (ps.batch->object, "whatsapp_business_account") != 0) {
    snprintf (reason, reason_cap, "object must be whatsapp_business_account, page or instagram");
    goto out;
  }
  const json_t *entries = json_object_get (doc, "entry");
  if (!json_is_array (entries)) {
    snprintf (reason, reason_cap, "entry must be an array");
    goto out;
  }
  json_array_foreach (entries, i, entry)
    if (s_entry (&ps, entry, channel) != AT_OK)
      goto out;
  rc = AT_OK;
out:
  json_decref (doc);
  if (rc == AT_OK)
    *out = ps.batch;
  else
    at_meta_batch_destroy (&ps.batch);
  return rc;
}

void
at_meta_batch_destroy (at_meta_batch_t **self_p)
{
  at_meta_batch_t *self = self_p ? *self_p : NULL;
  if (!self)
    return;
  for (size_t i = 0; i < self->message_count; i++)
    free (self->messages[i].text);
  free (self->messages);
  free (self->statuses);
  free (self);
  *self_p = NULL;
}
