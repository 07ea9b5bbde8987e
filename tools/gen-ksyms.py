#!/usr/bin/env python3
"""Generate the kernel symbol table (section .ksyms) from `nm -n` output.

Usage: gen-ksyms.py NM_OUTPUT OUT.S
The fault handler uses the table to print "function+0xoff" in stack traces.
With an empty NM_OUTPUT it emits an empty table (first link pass).
"""
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: gen-ksyms.py NM_OUTPUT OUT.S")
    syms = []
    with open(sys.argv[1]) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 3 or parts[1] not in ("t", "T"):
                continue
            syms.append((int(parts[0], 16), parts[2]))
    syms.sort()
    out = [".section .ksyms, \"a\"", ".balign 8",
           ".globl ksyms_count", "ksyms_count: .quad %d" % len(syms),
           ".globl ksyms_addr", "ksyms_addr:"]
    out += ["\t.quad 0x%x" % a for a, _ in syms]
    out += [".globl ksyms_name", "ksyms_name:"]
    out += ["\t.quad ksym_%d" % i for i in range(len(syms))]
    for i, (_, name) in enumerate(syms):
        out.append("ksym_%d: .asciz \"%s\"" % (i, name))
    with open(sys.argv[2], "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
