#!/usr/bin/env python3
"""Verify the data partition of a guest disk image after an hvtest run.

    tools/check-disk.py IMAGE NAME [--sectors N] [--part N]

Reads the GPT of IMAGE (a raw file), finds partition N (default 2, the data
partition of tools/mkdisk.py), and checks that it holds exactly the pattern
the guest's /init writes for NAME in hvtest.mode=pattern: the first
--sectors sectors (default 8192) match and the rest of the partition is zero.
Exit status 0 when it does; 1 with a reason (all zeros, another guest's
pattern, a bad sector, ...) when not; 2 when the image cannot be read.
The pattern is defined in tools/guest-initramfs/init (gen_pattern).
"""

import argparse
import re
import struct
import sys
import zlib

SECTOR = 512
ZERO = bytes(SECTOR)
HEADER_RE = re.compile(rb"hvtest ([A-Za-z0-9_.-]+) sector ([0-9]+)\n")


class ImageError(Exception):
    pass


def pattern_sector(name, s):
    """Sector s of NAME's pattern, byte for byte as /init's awk writes it."""
    unit = name + ":"
    head = "hvtest %s sector %d\n" % (name, s)
    fill = unit * (-(-(SECTOR + len(unit)) // len(unit)))
    start = s % len(unit)
    return (head + fill[start:start + SECTOR - 1 - len(head)] + "\n").encode()


def gpt_partition(f, number):
    """(first LBA, sector count) of partition number (1-based) from the GPT."""
    f.seek(SECTOR)
    hdr = f.read(92)
    if len(hdr) < 92 or hdr[:8] != b"EFI PART":
        raise ImageError("no GPT header at LBA 1")
    hsize, hcrc = struct.unpack_from("<II", hdr, 12)
    check = bytearray(hdr[:hsize] if hsize <= 92 else hdr)
    check[16:20] = b"\0\0\0\0"
    if zlib.crc32(bytes(check)) != hcrc:
        raise ImageError("GPT header CRC mismatch")
    entries_lba, count, esize, ecrc = struct.unpack_from("<QIII", hdr, 72)
    if not 1 <= number <= count or esize < 128:
        raise ImageError("GPT has no partition %d" % number)
    f.seek(entries_lba * SECTOR)
    table = f.read(count * esize)
    if zlib.crc32(table) != ecrc:
        raise ImageError("GPT partition array CRC mismatch")
    entry = table[(number - 1) * esize:number * esize]
    first, last = struct.unpack_from("<QQ", entry, 32)
    if entry[:16] == bytes(16) or last < first:
        raise ImageError("GPT partition %d is unused" % number)
    return first, last - first + 1


def describe(sector, want=None):
    """A short human description of what a sector holds (against want)."""
    if sector == ZERO:
        return "zeros"
    m = HEADER_RE.match(sector)
    if m and want is not None and sector[:m.end()] == want[:m.end()]:
        bad = next(i for i in range(SECTOR) if sector[i] != want[i])
        return "the right header, but byte %d is %r, not %r" % (
            bad, sector[bad:bad + 1], want[bad:bad + 1])
    if m:
        return "the pattern of '%s', sector %s" % (m.group(1).decode(), m.group(2).decode())
    first = next(i for i in range(SECTOR) if sector[i])
    return "unrecognised bytes from byte %d: %r" % (first, sector[first:first + 24])


def check(f, first, count, name, sectors):
    """Returns (ok, message) for the partition at first LBA, count sectors."""
    if sectors > count:
        return False, "pattern of %d sectors is larger than the partition (%d)" % (
            sectors, count)
    f.seek(first * SECTOR)
    data = f.read(count * SECTOR)
    if len(data) < count * SECTOR:
        return False, "image ends inside the data partition"
    if data.count(0) == len(data):
        return False, "data partition is all zeros: the pattern was never written"
    for s in range(sectors):
        got = data[s * SECTOR:(s + 1) * SECTOR]
        if got != pattern_sector(name, s):
            m = HEADER_RE.match(got)
            if s == 0 and m and m.group(1).decode() != name:
                return False, "data partition holds the pattern of '%s', not '%s'" % (
                    m.group(1).decode(), name)
            return False, "sector %d of the pattern of '%s' is wrong: found %s" % (
                s, name, describe(got, pattern_sector(name, s)))
    tail = data[sectors * SECTOR:]
    if tail.count(0) != len(tail):
        bad = next(i for i in range(0, len(tail), SECTOR)
                   if tail[i:i + SECTOR] != ZERO) // SECTOR + sectors
        return False, "sector %d after the pattern is not zero: %s" % (
            bad, describe(data[bad * SECTOR:(bad + 1) * SECTOR]))
    return True, "data partition holds the pattern of '%s' (%d sectors), rest zero" % (
        name, sectors)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("image")
    p.add_argument("name")
    p.add_argument("--sectors", type=int, default=8192,
                   help="pattern length in sectors, as hvtest.sectors (default: 8192)")
    p.add_argument("--part", type=int, default=2, help="partition number (default: 2)")
    args = p.parse_args(argv)
    try:
        with open(args.image, "rb") as f:
            first, count = gpt_partition(f, args.part)
            ok, msg = check(f, first, count, args.name, args.sectors)
    except (OSError, ImageError) as e:
        print("check-disk: %s: error: %s" % (args.image, e))
        return 2
    print("check-disk: %s: %s: %s" % (args.image, "PASS" if ok else "FAIL", msg))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
