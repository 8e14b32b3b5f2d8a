/* The broker's ZAP handler (broker/brk_zap.h). */
#include "brk_zap.h"
#include "at_common.h"
#include "at_log.h"
#include "at_zmq.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_ENDPOINT "inproc://zeromq.zap.01"
#define S_ROLES_MAX 256            /* "publisher,worker:ingest,..." */
#define S_FRAMES 7                 /* a CURVE request: version .. client key */
#define S_FRAME_MAX 256
#define S_LOG_EVERY_MS 10000       /* denials are logged at most this often */

typedef struct {
  unsigned char key[AT_CURVE_KEY_BYTES];
  char roles[S_ROLES_MAX];
} s_client_t;

struct brk_zap {
  void *socket;
  s_client_t clients[AT_CURVE_KEYS_MAX];
  size_t n;
  uint64_t denied, denied_logged;
  int64_t logged_ms;
};

/* Adds role to the entry of key (made when new). */
static void
s_admit (brk_zap_t *self, const unsigned char *key, const char *role)
{
  s_client_t *c = NULL;
  for (size_t i = 0; i < self->n && c == NULL; i++)
    if (memcmp (self->clients[i].key, key, AT_CURVE_KEY_BYTES) == 0)
      c = &self->clients[i];
  if (c == NULL) {
    if (self->n == AT_CURVE_KEYS_MAX)
      return;   /* at_config_curve_keys capped the total already */
    c = &self->clients[self->n++];
    memcpy (c->key, key, AT_CURVE_KEY_BYTES);
  }
  size_t len = strlen (c->roles);
  snprintf (c->roles + len, sizeof c->roles - len, "%s%s", len ? "," : "", role);
}

brk_zap_t *
brk_zap_new (const at_config_t *cfg)
{
  brk_zap_t *self = at_calloc (1, sizeof *self);
  const at_list_t *list = &cfg->bus_curve_clients;
  for (size_t i = 0; i < list->n; i++) {
    unsigned char keys[AT_CURVE_KEYS_MAX][AT_CURVE_KEY_BYTES];
    size_t n = 0;
    if (list->items[i].key == NULL
        || at_config_curve_keys (list->items[i].value, keys, AT_CURVE_KEYS_MAX, &n) != AT_OK)
      continue;   /* refused when the settings loaded */
    for (size_t k = 0; k < n; k++)
      s_admit (self, keys[k], list->items[i].key);
  }
  int linger = 0;
  self->socket = zmq_socket (at_bus_zmq_context (), ZMQ_REP);
  if (self->socket)
    zmq_setsockopt (self->socket, ZMQ_LINGER, &linger, sizeof linger);
  if (self->socket == NULL || zmq_bind (self->socket, S_ENDPOINT) != 0) {
    at_error ("broker", "msg=\"cannot start the ZAP handler\" endpoint=%s error=\"%s\"",
              S_ENDPOINT, zmq_strerror (errno));
    brk_zap_destroy (&self);
    return NULL;
  }
  at_info ("broker", "msg=\"bus CURVE on\" admitted_keys=%zu", self->n);
  return self;
}

void
brk_zap_destroy (brk_zap_t **self_p)
{
  if (self_p == NULL || *self_p == NULL)
    return;
  brk_zap_t *self = *self_p;
  if (self->socket)
    zmq_close (self->socket);
  free (self);
  *self_p = NULL;
}

void *
brk_zap_socket (brk_zap_t *self)
{
  return self->socket;
}

/* One request's frames (at most S_FRAMES kept, the rest read and dropped);
 * returns how many were kept, -1 when nothing is waiting. */
static int
s_read (void *socket, char frames[S_FRAMES][S_FRAME_MAX], size_t sizes[S_FRAMES])
{
  int n = 0;
  zmq_msg_t part;
  zmq_msg_init (&part);
  if (zmq_msg_recv (&part, socket, ZMQ_DONTWAIT) < 0) {
    zmq_msg_close (&part);
    return -1;
  }
  for (;;) {
    if (n < S_FRAMES) {
      sizes[n] = zmq_msg_size (&part) < S_FRAME_MAX ? zmq_msg_size (&part) : S_FRAME_MAX - 1;
      memcpy (frames[n], zmq_msg_data (&part), sizes[n]);
      frames[n][sizes[n]] = '\0';
      n++;
    }
    if (!zmq_msg_more (&part) || zmq_msg_recv (&part, socket, 0) < 0)
      break;
  }
  zmq_msg_close (&part);
  return n;
}

static void
s_reply (void *socket, const char *request_id, size_t id_len, const char *status,
         const char *text, const char *user)
{
  zmq_send (socket, "1.0", 3, ZMQ_SNDMORE);
  zmq_send (socket, request_id, id_len, ZMQ_SNDMORE);
  zmq_send (socket, status, strlen (status), ZMQ_SNDMORE);
  zmq_send (socket, text, strlen (text), ZMQ_SNDMORE);
  zmq_send (socket, user, strlen (user), ZMQ_SNDMORE);
  zmq_send (socket, "", 0, 0);
}

static const s_client_t *
s_find (const brk_zap_t *self, const void *key)
{
  for (size_t i = 0; i < self->n; i++)
    if (memcmp (self->clients[i].key, key, AT_CURVE_KEY_BYTES) == 0)
      return &self->clients[i];
  return NULL;
}

/* A denial, logged with the key and the peer's address at most every 10 s. */
static void
s_denied (brk_zap_t *self, const char *address, const unsigned char *key)
{
  self->denied++;
  int64_t now = at_mono_ms ();
  if (self->logged_ms != 0 && now - self->logged_ms < S_LOG_EVERY_MS)
    return;
  char z85[AT_CURVE_Z85_LEN + 1] = "-";
  if (key)
    zmq_z85_encode (z85, key, AT_CURVE_KEY_BYTES);
  at_warn ("broker", "msg=\"bus handshake denied: key not in ATENDE_BUS_CURVE_CLIENTS\""
           " address=\"%.64s\" key=\"%s\" denied_since_last_log=%llu", address, z85,
           (unsigned long long) (self->denied - self->denied_logged));
  self->denied_logged = self->denied;
  self->logged_ms = now;
}

uint64_t
brk_zap_serve (brk_zap_t *self)
{
  uint64_t before = self->denied;
  char frames[S_FRAMES][S_FRAME_MAX];
  size_t sizes[S_FRAMES];
  int n;
  while ((n = s_read (self->socket, frames, sizes)) >= 0) {
    bool curve = n == S_FRAMES && strcmp (frames[0], "1.0") == 0
                 && strcmp (frames[5], "CURVE") == 0 && sizes[6] == AT_CURVE_KEY_BYTES;
    const s_client_t *client = curve ? s_find (self, frames[6]) : NULL;
    if (client)
      s_reply (self->socket, frames[1], sizes[1], "200", "OK", client->roles);
    else {
      s_denied (self, n > 3 ? frames[3] : "", curve ? (unsigned char *) frames[6] : NULL);
      s_reply (self->socket, n > 1 ? frames[1] : "", n > 1 ? sizes[1] : 0, "400",
               "key not admitted", "");
    }
  }
  return self->denied - before;
}
