/* brk_access: which commands a peer of the CURVE bus may send, by the roles
 * the ZAP handler (brk_zap.h) gave its key: the ZAP user id, a comma list of
 * the ATENDE_BUS_CURVE_CLIENTS roles that list the key. A pure function
 * (no socket, no state), unit-tested in tests/unit/test_bus_curve_rules.c.
 *
 *   role             may send
 *   publisher        Publish (any stage: the api, tools, tests)
 *   worker:S         Ready naming only S, Settle, Extend, Heartbeat, Disconnect
 *   worker:*         the same for every stage
 *
 * Workers hand on what they produce inside Settle (produced), so a worker
 * role needs no Publish; a process that also publishes lists its key under
 * publisher too. Settle and Extend act only on the deliveries of the
 * sender's own Ready, which named only its stages. */
#ifndef BRK_ACCESS_H
#define BRK_ACCESS_H

#include "bus.pb-c.h"

#include <stddef.h>

/* AT_OK when roles (a ZAP user id; "" or NULL: none) allow cmd; otherwise
 * AT_INVALID with reason ("role publisher may not send Ready"). */
int brk_access_check (const char *roles, const Atende__Bus__Command *cmd, char *reason,
                      size_t reason_cap);

#endif
