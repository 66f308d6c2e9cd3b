#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_idx: tiny IDX files, plain and gzipped,
valid and broken, into tests/fuzz/corpus/idx/ (or the directory given).

Deterministic (gzip mtime 0), so rerunning it changes no file.
Usage: python3 tests/fuzz/make_idx_corpus.py [OUTDIR]"""
import gzip
import os
import struct
import sys


def idx(data, dims, dtype=0x08):
    return bytes([0, 0, dtype, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


def gz(raw):
    return gzip.compress(raw, compresslevel=9, mtime=0)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "idx")
    os.makedirs(out, exist_ok=True)
    labels = idx([i % 10 for i in range(10)], [10])
    images3 = idx([(i * 37) & 255 for i in range(3 * 4 * 4)], [3, 4, 4])
    images4 = idx([(i * 11) & 255 for i in range(2 * 3 * 3 * 2)], [2, 3, 3, 2])
    cases = {
        # valid
        "labels-idx1": labels,
        "labels-idx1.gz": gz(labels),
        "images-idx3": images3,
        "images-idx3.gz": gz(images3),
        "images-idx4": images4,
        "images-idx4.gz": gz(images4),
        "rank2": idx(range(6), [2, 3]),
        "zero-count-idx3": idx([], [0, 4, 4]),
        "zero-labels-idx1.gz": gz(idx([], [0])),
        "labels-255": idx([255, 0, 200, 9], [4]),
        "long-labels-idx1.gz": gz(idx([7] * 2000, [2000])),   # compresses to a few bytes
        # broken
        "empty": b"",
        "magic-only": bytes([0, 0, 8, 3]),
        "bad-magic": bytes([1, 2, 8, 1, 0, 0, 0, 1, 5]),
        "rank-zero": bytes([0, 0, 8, 0]),
        "type-int32": idx(range(8), [2], dtype=0x0C),
        "type-float32": idx(range(4), [1], dtype=0x0D),
        "type-unknown": idx(range(4), [4], dtype=0x07),
        "truncated-dims": images3[:9],
        "truncated-payload": images3[:-5],
        "truncated-payload.gz": gz(images3[:-5]),
        "trailing-garbage": labels + b"xyz",
        "trailing-garbage.gz": gz(labels + b"xyz"),
        "gz-cut-short.gz": gz(images3)[:-9],
        "gz-no-trailer.gz": gz(images3)[:-4],
        "gz-bad-crc.gz": gz(labels)[:-8] + b"\0\0\0\0" + gz(labels)[-4:],
        "gz-corrupt.gz": gz(images3)[:12] + b"\xff\xff\xff" + gz(images3)[15:],
        "gz-two-members.gz": gz(labels[:8]) + gz(labels[8:]),
        "huge-dims": idx([1, 2, 3], [0xFFFFFFFF, 0xFFFFFFFF, 2]),
        "over-4gib": idx([1, 2, 3], [65536, 65537]),
        "big-announced-small-data": idx([1, 2, 3, 4], [1000000, 28, 28]),
        "high-rank": idx([9], [1] * 20),
    }
    for name, raw in cases.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(raw)
    total = sum(len(r) for r in cases.values())
    print(f"{len(cases)} files, {total} bytes in {out}")


if __name__ == "__main__":
    main()
