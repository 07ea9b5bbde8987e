/*
 * The storage path on the service CPU: the NIC, the TCP/IP stack and one
 * NBD client per VSI disk. Guests never see any of it (docs/architecture.md).
 */
#ifndef HV_STORAGE_H
#define HV_STORAGE_H

#include <hv/config.h>
#include <hv/vlan.h>

/* Bring up the NIC and the network, and start connecting every VSI's disk. */
void storage_init(const struct hv_config *cfg);
/* Drive everything once (service loop); true while work is in flight. */
bool storage_poll(void);
/*
 * The NBD client of a VSI's disk, for its device (NULL if the VSI has no
 * disk or the network is down). lock/unlock
 * are taken around the client's work, whose callbacks complete the
 * device's I/O.
 */
struct nbd_client *storage_attach(const struct vsi_config *cfg, void (*lock)(void *),
				  void (*unlock)(void *), void *ctx);
/* A self-test (selftest=nbd, nbd-soak, nbd-bench) owns the disks. */
bool storage_selftest(void);
/* The clock the NBD clients run on. */
u64 storage_now_ms(void);
/* True when at least one VSI has a disk. */
bool storage_active(void);
/* With storage_vlan: its counters and *vid; NULL when storage is on the untagged LAN. */
const struct vlan_stats *storage_vlan_stats(u16 *vid);

#endif
