/* at_bus: the publisher side of the bus protocol (proto/README.md).
 * A publisher owns one DEALER socket per broker; it belongs to one thread. */
#ifndef AT_BUS_H
#define AT_BUS_H

#include "at_config.h"
#include "at_msg.h"

typedef struct at_publisher at_publisher_t;

at_publisher_t *at_publisher_new (const at_config_t *cfg);
void at_publisher_destroy (at_publisher_t **self_p);

/* Publishes n messages, each to the broker that owns its key (a batch that
 * spans brokers is split, one Publish per broker, all sent before the
 * answers are awaited; on a failure some parts may be committed: retrying
 * the whole batch is harmless), and waits (up to cfg->publish_timeout_ms
 * for each broker) until the brokers confirm they are committed in
 * PostgreSQL. Messages stay owned by
 * the caller. Returns
 *   AT_OK       all committed
 *   AT_BUSY     a stage is full, PostgreSQL is down or the broker is
 *               draining: retry after *retry_after_ms
 *   AT_AGAIN    no confirm in time (broker down or slow): retry later
 *   AT_INVALID  the broker rejected the request (reason logged) */
int at_publisher_send (at_publisher_t *self, at_msg_t *const *msgs, size_t n,
                       int *retry_after_ms);

#endif
