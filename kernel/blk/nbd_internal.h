/*
 * Inside the NBD client: what nbd.c (requests, transmission, the driver) and
 * nbd_handshake.c (negotiation) share. Not an interface: use hv/nbd.h.
 */
#ifndef HV_BLK_NBD_INTERNAL_H
#define HV_BLK_NBD_INTERNAL_H

#include <hv/nbd.h>

#define WORK_PER_POLL 1024 /* transport calls per direction per poll */

/* Record why the connection failed (nbd_last_error()). */
void __printf(2, 3) nbd_set_error(struct nbd_client *c, const char *fmt, ...);
/* Whether r may be sent to the export last negotiated: 0 or the -errno done() would get. */
int nbd_validate(const struct nbd_client *c, const struct nbd_request *r);
/* Take r off the client and call its done() with status. */
void nbd_finish(struct nbd_client *c, struct nbd_request *r, int status);
/* Drop the connection (why is in last_error); pending requests are replayed later. */
void nbd_teardown(struct nbd_client *c, u64 now);
/* A message broke the protocol: log, count, tear down. */
void __printf(3, 4) nbd_violation(struct nbd_client *c, u64 now, const char *fmt, ...);
/* Receive into the read-ahead buffer: >0 bytes, 0 none yet, <0 closed or failed. */
long nbd_rx_fill(struct nbd_client *c);
/* Make n bytes contiguous at rxbuf + rx_head: 1, 0 not yet, <0 failed. */
int nbd_rx_need(struct nbd_client *c, u32 n, u64 now);
/* A receive failed (during names where): tear down. */
void nbd_rx_failed(struct nbd_client *c, u64 now, long rc, const char *during);
/* Send the staged bytes: true when all are out. */
bool nbd_tx_flush(struct nbd_client *c, u64 now);

/* nbd_handshake.c: reset the handshake for a new connection attempt. */
void nbd_hs_begin(struct nbd_client *c);
/* nbd_handshake.c: advance the handshake as far as the bytes at hand allow. */
void nbd_hs_run(struct nbd_client *c, u64 now);

#endif
