#!/usr/bin/env python3
"""Writes N valid vbx tokens, one per line, to stdout (the README's format: vbx_ + 30 base62
characters + the CRC-32 of those, in base62, left-padded to six). For the benchmark only."""
import os
import sys
import zlib

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def checksum(random: str) -> str:
    n = zlib.crc32(random.encode())
    out = []
    for _ in range(6):
        out.append(ALPHABET[n % 62])
        n //= 62
    return "".join(reversed(out))


def main() -> None:
    count = int(sys.argv[1])
    out = sys.stdout
    raw = os.urandom(30 * count)
    for i in range(count):
        random = "".join(ALPHABET[b % 62] for b in raw[30 * i : 30 * i + 30])
        out.write(f"vbx_{random}{checksum(random)}\n")


if __name__ == "__main__":
    main()
