/* The NIC self-test: proves transmit and receive on the hypervisor's own NIC. */
#ifndef HV_NETDEV_SELFTEST_H
#define HV_NETDEV_SELFTEST_H

/*
 * With selftest=nic on the command line: probe the NIC, wait for link, ARP
 * for the emulator's gateway (10.0.2.2) as 10.0.2.15 and log the reply or
 * why there was none. Does nothing otherwise. Never fails the boot.
 */
void netdev_selftest(void);

#endif
