/*
 * The storage path on the service CPU: the NIC, the TCP/IP stack and one
 * NBD client per VSI disk. Guests never see any of it (docs/architecture.md).
 */
#ifndef HV_STORAGE_H
#define HV_STORAGE_H

#include <hv/config.h>

/* Bring up the NIC and the network, and start connecting every VSI's disk. */
void storage_init(const struct hv_config *cfg);
/* Drive everything once (service loop); true while work is in flight. */
bool storage_poll(void);
/* True when at least one VSI has a disk. */
bool storage_active(void);

#endif
