/* brk_zap: the broker's ZAP handler (ZeroMQ RFC 27), which admits a CURVE
 * client only when its public key is listed in ATENDE_BUS_CURVE_CLIENTS and
 * gives it, as its ZAP user id, the roles that list the key ("publisher",
 * "publisher,worker:notify"): the broker reads them back from every frame
 * (zmq_msg_gets "User-Id") and brk_access.h says what they may send.
 *
 * libzmq asks the handler bound at inproc://zeromq.zap.01 of the socket's
 * context during each handshake and waits for the answer; without a handler
 * a CURVE server admits every client with a valid handshake, so the broker
 * binds it before its ROUTER and refuses to start when it cannot. The REP
 * socket is polled by the broker loop (it belongs to the loop's thread). */
#ifndef BRK_ZAP_H
#define BRK_ZAP_H

#include "at_config.h"

#include <stdint.h>

typedef struct brk_zap brk_zap_t;

/* The admitted keys of cfg->bus_curve_clients (checked when the settings
 * loaded), and the handler bound in the bus context. NULL (logged) when
 * the endpoint cannot be bound (another handler in the process). */
brk_zap_t *brk_zap_new (const at_config_t *cfg);
void brk_zap_destroy (brk_zap_t **self_p);
/* The REP socket, to poll for ZMQ_POLLIN. */
void *brk_zap_socket (brk_zap_t *self);
/* Answers every request waiting; returns how many it denied. */
uint64_t brk_zap_serve (brk_zap_t *self);

#endif
