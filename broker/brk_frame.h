/* brk_frame: the broker's decoding of one command frame, a pure function
 * (no socket, no state) so that it can be fuzzed (tests/fuzz/fuzz_bus_frame.c). */
#ifndef BRK_FRAME_H
#define BRK_FRAME_H

#include "brk_metrics.h"
#include "bus.pb-c.h"

/* Decodes one frame into a version-1 Command with a body the broker
 * accepts. AT_OK: *cmd_out set (free with atende__bus__command__free_unpacked).
 * AT_INVALID: *why and reason say what is wrong, and *correlation is the
 * Publish correlation when one could be read (0 otherwise) so the Reject
 * can carry it. Never crashes on any bytes. */
int brk_frame_decode (const void *data, size_t size, Atende__Bus__Command **cmd_out,
                      brk_reject_t *why, uint64_t *correlation, char *reason, size_t reason_cap);

#endif
