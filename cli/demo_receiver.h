/* demo_receiver: a local HTTP server (libmicrohttpd, 127.0.0.1) standing in
 * for the providers and for the store's systems. Notify POSTs every outgoing
 * message, and every return or cancel request (type store.request), to it as
 * a Standard Webhooks request; the receiver verifies each signature, records the
 * delivery (once per webhook-id: redeliveries are counted apart), counts by
 * kind and keeps the survey links it saw. Thread-safe. Used by the demo and
 * by tests/integration/test_e2e.c. */
#ifndef DEMO_RECEIVER_H
#define DEMO_RECEIVER_H

#include <stdint.h>
#include "at_common.h"

#define DEMO_RECEIVER_TEXT_MAX 1024   /* text kept per delivery */
#define DEMO_RECEIVER_LINK_MAX 512

typedef struct demo_receiver demo_receiver_t;

typedef struct {
  char id[64];                        /* webhook-id: the notification id */
  char kind[16];                      /* reply | auto_reply | order_status | survey |
                                         return_request | cancel_request (the store) */
  char channel[16];
  char to[128];
  int64_t ticket_id;                  /* 0: none */
  char order_id[64];                  /* "": none */
  char text[DEMO_RECEIVER_TEXT_MAX];
} demo_delivery_t;

/* Listens on 127.0.0.1:port (0: a free port) and verifies signatures with
 * secret ("whsec_..."). NULL (logged) if it cannot listen. */
demo_receiver_t *demo_receiver_new (const char *secret, int port);
void demo_receiver_destroy (demo_receiver_t **self_p);

int demo_receiver_port (demo_receiver_t *self);
/* "http://127.0.0.1:<port>/hooks" */
const char *demo_receiver_url (demo_receiver_t *self);

/* Distinct deliveries with a valid signature, of one kind (NULL: all). */
long demo_receiver_count (demo_receiver_t *self, const char *kind);
/* Requests whose signature did not verify (answered 401). */
long demo_receiver_bad_signatures (demo_receiver_t *self);
/* Requests with a valid signature for a webhook-id already received. */
long demo_receiver_duplicates (demo_receiver_t *self);
/* Requests that were not a well-formed webhook (answered 400). */
long demo_receiver_malformed (demo_receiver_t *self);
/* Every request, whatever its outcome. */
long demo_receiver_requests (demo_receiver_t *self);

/* The most recent delivery of kind (NULL: any) for ticket_id (0: any) into
 * out. AT_NOTFOUND if none. */
int demo_receiver_find (demo_receiver_t *self, const char *kind, int64_t ticket_id,
                        demo_delivery_t *out);
/* Takes the next survey link not taken yet (the URL found in a survey
 * message) and its ticket id. AT_NOTFOUND when none is waiting. */
int demo_receiver_take_survey (demo_receiver_t *self, char *link_out, size_t cap,
                               int64_t *ticket_id_out);

#endif
