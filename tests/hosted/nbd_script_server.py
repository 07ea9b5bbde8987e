#!/usr/bin/env python3
"""A scripted NBD server for tests: the misbehaviour real servers cannot produce.

It speaks fixed newstyle negotiation (NBD_OPT_GO with NBD_INFO_EXPORT and,
if asked, NBD_INFO_BLOCK_SIZE; NBD_OPT_EXPORT_NAME; NBD_OPT_ABORT) and simple
replies to READ, WRITE, FLUSH, TRIM, WRITE_ZEROES and DISC on a backing file
(doc/proto.md of the NBD project). On the first --bad connections it breaks
the protocol in one way, chosen by --script, then behaves:

  good            nothing wrong (odd sizes and block sizes come from the options)
  early-reply     answers the first large WRITE as soon as its header is in,
                  then reads its data and throws it away (a write acknowledged
                  before the server had it)
  truncated-reply sends half of the first READ's data, then closes
  bad-magic       the first reply has a wrong magic
  wrong-handle    the first reply names a handle never issued
  structured      the first reply is a structured reply chunk (not negotiated)
  shutdown        the first reply is NBD_ESHUTDOWN
  info-length     NBD_INFO_EXPORT of 10 bytes instead of 12
  bad-block-sizes NBD_INFO_BLOCK_SIZE with a minimum that is not a power of 2
  stall           never answers the first request and stays silent
  slow            goes silent for --delay ms before its first reply

  nbd_script_server.py --port P --image FILE --script NAME [--bad N] [--size N]
                       [--block-sizes MIN,PREF,MAX] [--delay MS] [--export NAME]

Only on 127.0.0.1. Prints "nbd_script_server: misbehaved: SCRIPT" to stdout
each time it did, so a test can tell that the path it meant was taken.
"""
import argparse
import os
import socket
import struct
import sys
import threading
import time

NBDMAGIC = 0x4E42444D41474943
IHAVEOPT = 0x49484156454F5054
OPT_REPLY_MAGIC = 0x3E889045565A9
REQUEST_MAGIC = 0x25609513
SIMPLE_REPLY_MAGIC = 0x67446698
STRUCTURED_REPLY_MAGIC = 0x668E33EF

FLAG_FIXED_NEWSTYLE, FLAG_NO_ZEROES = 1, 2
FLAG_C_NO_ZEROES = 2
OPT_EXPORT_NAME, OPT_ABORT, OPT_GO = 1, 2, 7
REP_ACK, REP_INFO = 1, 3
REP_ERR_UNSUP, REP_ERR_UNKNOWN = 0x80000001, 0x80000006
INFO_EXPORT, INFO_BLOCK_SIZE = 0, 3
# HAS_FLAGS, SEND_FLUSH, SEND_FUA, SEND_TRIM, SEND_WRITE_ZEROES
TFLAGS = 0x0001 | 0x0004 | 0x0008 | 0x0020 | 0x0040
CMD_READ, CMD_WRITE, CMD_DISC, CMD_FLUSH, CMD_TRIM, CMD_WRITE_ZEROES = 0, 1, 2, 3, 4, 6
EIO, ESHUTDOWN = 5, 108
LARGE_WRITE = 64 * 1024  # early-reply waits for a WRITE this large


class Closed(Exception):
    pass


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        part = sock.recv(n - len(buf))
        if not part:
            raise Closed()
        buf += part
    return bytes(buf)


class Server:
    def __init__(self, args):
        self.args = args
        self.fd = os.open(args.image, os.O_RDWR)
        self.size = args.size if args.size is not None else os.fstat(self.fd).st_size
        self.lock = threading.Lock()
        self.connections = 0

    def misbehaved(self):
        print(f"nbd_script_server: misbehaved: {self.args.script}", flush=True)

    def serve(self):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # A small receive window: a large WRITE cannot all leave the client at once.
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        ls.bind(("127.0.0.1", self.args.port))
        ls.listen(8)
        while True:
            sock, _ = ls.accept()
            threading.Thread(target=Connection(self, sock).run, daemon=True).start()

    def next_is_bad(self):
        """Whether the connection now starting to negotiate is one that misbehaves."""
        with self.lock:
            self.connections += 1
            return self.connections <= self.args.bad


class Connection:
    def __init__(self, server, sock):
        self.srv, self.sock = server, sock
        self.script = "good"
        self.no_zeroes = False

    def run(self):
        try:
            if self.negotiate():
                self.transmit()
        except (Closed, ConnectionError, OSError):
            pass
        finally:
            self.sock.close()

    # ---- negotiation (proto.md "Fixed newstyle negotiation") ----

    def opt_reply(self, opt, rtype, data=b""):
        self.sock.sendall(struct.pack(">QIII", OPT_REPLY_MAGIC, opt, rtype, len(data)) + data)

    def negotiate(self):
        self.sock.sendall(struct.pack(">QQH", NBDMAGIC, IHAVEOPT, FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES))
        (cflags,) = struct.unpack(">I", recv_exact(self.sock, 4))
        # Counted only now: a probe that merely connects (wait_port) is not a client.
        if self.srv.next_is_bad():
            self.script = self.srv.args.script
        self.no_zeroes = bool(cflags & FLAG_C_NO_ZEROES)
        while True:
            magic, opt, length = struct.unpack(">QII", recv_exact(self.sock, 16))
            data = recv_exact(self.sock, length)
            if magic != IHAVEOPT:
                return False
            if opt == OPT_GO:
                return self.go(opt, data)
            if opt == OPT_EXPORT_NAME:
                self.sock.sendall(struct.pack(">QH", self.srv.size, TFLAGS) + (b"" if self.no_zeroes else bytes(124)))
                return True
            if opt == OPT_ABORT:
                self.opt_reply(opt, REP_ACK)
                return False
            self.opt_reply(opt, REP_ERR_UNSUP)

    def go(self, opt, data):
        (n,) = struct.unpack(">I", data[:4])
        if data[4:4 + n].decode(errors="replace") != self.srv.args.export:
            self.opt_reply(opt, REP_ERR_UNKNOWN, b"no such export")
            return self.negotiate_after_error()
        info = struct.pack(">HQH", INFO_EXPORT, self.srv.size, TFLAGS)
        if self.script == "info-length":
            self.srv.misbehaved()
            info = info[:10]
        self.opt_reply(opt, REP_INFO, info)
        sizes = self.srv.args.block_sizes
        if self.script == "bad-block-sizes":
            self.srv.misbehaved()
            sizes = (3, 4096, 32 * 1024 * 1024)
        if sizes:
            self.opt_reply(opt, REP_INFO, struct.pack(">HIII", INFO_BLOCK_SIZE, *sizes))
        self.opt_reply(opt, REP_ACK)
        return True

    def negotiate_after_error(self):
        magic, opt, length = struct.unpack(">QII", recv_exact(self.sock, 16))
        recv_exact(self.sock, length)
        if opt == OPT_ABORT:
            self.opt_reply(opt, REP_ACK)
        return False

    # ---- transmission (proto.md "Transmission phase") ----

    def reply(self, cookie, err=0, data=b""):
        self.sock.sendall(struct.pack(">IIQ", SIMPLE_REPLY_MAGIC, err, cookie) + data)

    def transmit(self):
        while True:
            magic, flags, cmd, cookie, offset, length = struct.unpack(">IHHQQI", recv_exact(self.sock, 28))
            if magic != REQUEST_MAGIC or cmd == CMD_DISC:
                return
            if self.script == "early-reply" and cmd == CMD_WRITE and length >= LARGE_WRITE:
                self.srv.misbehaved()
                self.script = "good"
                self.reply(cookie)
                time.sleep(0.3)  # the client is still sending the data
                recv_exact(self.sock, length)  # ... which is dropped
                continue
            payload = recv_exact(self.sock, length) if cmd == CMD_WRITE else b""
            script = self.script
            if script in ("good", "early-reply") or (script == "truncated-reply" and cmd != CMD_READ):
                self.do(cookie, cmd, offset, length, payload)
                continue
            self.script = "good"
            if self.misbehave(script, cookie, length):
                return
            self.do(cookie, cmd, offset, length, payload)

    def misbehave(self, s, cookie, length):
        """Break the protocol on this request; True if the connection is to end."""
        self.srv.misbehaved()
        if s == "truncated-reply":
            self.reply(cookie, 0, bytes(length // 2))
            return True
        if s == "bad-magic":
            self.sock.sendall(struct.pack(">IIQ", 0x12345678, 0, cookie))
        elif s == "wrong-handle":
            self.sock.sendall(struct.pack(">IIQ", SIMPLE_REPLY_MAGIC, 0, cookie ^ 0xDEAD0000))
        elif s == "structured":
            self.sock.sendall(struct.pack(">IHHQI", STRUCTURED_REPLY_MAGIC, 1, 0, cookie, 0))
        elif s == "shutdown":
            self.reply(cookie, ESHUTDOWN)
        elif s == "slow":
            time.sleep(self.srv.args.delay / 1000)
            return False
        # stall, and whatever the client does after the rest: silence until it gives up on us.
        try:
            while self.sock.recv(1 << 16):
                pass
        except OSError:
            pass
        return True

    def do(self, cookie, cmd, offset, length, payload):
        fd = self.srv.fd
        if cmd in (CMD_READ, CMD_WRITE, CMD_TRIM, CMD_WRITE_ZEROES) and offset + length > self.srv.size:
            self.reply(cookie, EIO)
            return
        if cmd == CMD_READ:
            self.reply(cookie, 0, os.pread(fd, length, offset).ljust(length, b"\0"))
            return
        if cmd == CMD_WRITE:
            os.pwrite(fd, payload, offset)
        elif cmd in (CMD_TRIM, CMD_WRITE_ZEROES):
            os.pwrite(fd, bytes(length), offset)
        elif cmd == CMD_FLUSH:
            os.fsync(fd)
        self.reply(cookie)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--script", default="good")
    ap.add_argument("--bad", type=int, default=1, help="connections that misbehave")
    ap.add_argument("--size", type=int, help="advertised size (default: the file's)")
    ap.add_argument("--block-sizes", type=lambda v: tuple(int(x) for x in v.split(",")))
    ap.add_argument("--delay", type=int, default=0, help="ms of silence for the slow script")
    ap.add_argument("--export", default="vsi0")
    Server(ap.parse_args()).serve()


if __name__ == "__main__":
    sys.exit(main())
