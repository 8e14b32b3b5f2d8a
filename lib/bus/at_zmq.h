/* at_zmq: the process-wide ZeroMQ context and the one-frame Command codec
 * of the bus protocol (proto/README.md), shared by the broker, the worker
 * loop and the publisher. */
#ifndef AT_ZMQ_H
#define AT_ZMQ_H

#include "at_common.h"
#include "at_config.h"
#include "bus.pb-c.h"

#define AT_BUS_VERSION 1
/* Largest frame anyone accepts (ZMQ_MAXMSGSIZE): a peer sending more is
 * disconnected by ZeroMQ. Senders split their batches to stay below it. */
#define AT_BUS_FRAME_MAX (64 * 1024 * 1024)
/* Payload bytes a sender puts in one Deliver or Publish before splitting. */
#define AT_BUS_BATCH_BYTES (16 * 1024 * 1024)

/* The one ZeroMQ context of the process, created on first use (pthread_once).
 * Never destroyed before exit: sockets are closed with linger 0. */
void *at_bus_zmq_context (void);

/* A client's CURVE keys (README "Bus security"), Z85 text: the broker's
 * public key and the client's own pair. server[0] == '\0': CURVE off. */
typedef struct {
  char server[AT_CURVE_Z85_LEN + 1];
  char public_key[AT_CURVE_Z85_LEN + 1];
  char secret_key[AT_CURVE_Z85_LEN + 1];
} at_bus_curve_t;

/* The client keys of cfg (bus_curve_server_key, _client_public, _client_secret,
 * checked when the settings loaded) into out; returns out, or NULL when
 * CURVE is off (no server key). */
const at_bus_curve_t *at_bus_curve_of (const at_config_t *cfg, at_bus_curve_t *out);

/* A DEALER socket with the bus options (linger 0, high water marks, frame
 * cap, reconnect interval) connected to endpoint, a CURVE client of the
 * broker when curve is not NULL (NULL: plain). NULL (logged) on error. */
void *at_bus_dealer_new (const char *endpoint, const at_bus_curve_t *curve);
/* Closes a socket from at_bus_dealer_new, nulls *socket_p. */
void at_bus_socket_close (void **socket_p);

/* Sets cmd->version and sends it as one frame (flags: ZMQ_DONTWAIT...).
 * AT_OK, AT_AGAIN (EAGAIN, EHOSTUNREACH: peer gone or full), AT_ERROR. */
int at_bus_cmd_send (void *socket, Atende__Bus__Command *cmd, int flags);

/* Decodes one frame. AT_INVALID (reason set) when the bytes are not a
 * Command, the version is not AT_BUS_VERSION, or no body is set; the caller
 * frees *cmd_out with atende__bus__command__free_unpacked (*cmd_out, NULL). */
int at_bus_cmd_decode (const void *data, size_t len, Atende__Bus__Command **cmd_out,
                       char *reason, size_t reason_cap);

/* Receives one frame on a DEALER (flags: ZMQ_DONTWAIT...) and decodes it.
 * AT_AGAIN when nothing is there (or interrupted), AT_INVALID as above,
 * AT_ERROR on a socket error. */
int at_bus_cmd_recv (void *socket, Atende__Bus__Command **cmd_out, int flags,
                     char *reason, size_t reason_cap);

/* The shard of a key among n brokers: FNV-1a 32 of the key, mod n (0 when
 * n is 0). Publishers route a batch by its first message's key, so one key
 * always goes to the same broker. */
uint32_t at_bus_shard (const char *key, uint32_t n);

/* The bus_message.shard of a key when `count` brokers share the bus
 * (cfg->broker_count): at_bus_shard (key, count), 0 when count <= 1.
 * Everyone who inserts a bus row fills its shard with this, so that
 * broker i (cfg->broker_index) sweeps only the rows of shard i. */
int at_bus_shard_of (const char *key, int count);

#endif
