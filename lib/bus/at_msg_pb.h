/* Conversions between at_msg_t and the protobuf-c Envelope, for the bus
 * code that builds and reads Commands. */
#ifndef AT_MSG_PB_H
#define AT_MSG_PB_H

#include "at_msg.h"
#include "bus.pb-c.h"

/* Fills pb with pointers borrowed from msg (valid while msg lives). */
void at_msg_to_pb (const at_msg_t *msg, Atende__Bus__Envelope *pb);
/* Copies pb into a new at_msg_t; AT_INVALID with reason when it is not valid. */
int at_msg_from_pb (const Atende__Bus__Envelope *pb, at_msg_t **out, char *reason, size_t reason_cap);

#endif
