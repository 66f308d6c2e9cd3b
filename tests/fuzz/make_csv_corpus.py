#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_csv into tests/fuzz/corpus/csv/ (or the
directory given): two parameter bytes (see fuzz_csv.c) and a tiny CSV file,
plain or gzipped, valid and broken.

Deterministic (gzip mtime 0), so rerunning it changes no file.
Usage: python3 tests/fuzz/make_csv_corpus.py [OUTDIR]"""
import gzip
import os
import sys


def params(h, w, c, header, classes, label_column, limit64=0):
    cls = {0: 0, 2: 1, 4: 2, 10: 3}[classes]
    return bytes([(h - 1) | (w - 1) << 2 | (c - 1) << 4 | header << 5 | cls << 6,
                  label_column | limit64 << 4])


def gz(raw):
    return gzip.compress(raw, compresslevel=9, mtime=0)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus", "csv")
    os.makedirs(out, exist_ok=True)
    p22 = params(2, 2, 1, 1, 10, 0)
    p22n = params(2, 2, 1, 0, 10, 0)
    good = b"label,a,b,c,d\n1,2,3,4,5\n0,255,0,255,0\n9,1,1,1,1\n"
    cases = {
        "good": p22 + good,
        "good.gz": p22 + gz(good),
        "crlf": p22 + good.replace(b"\n", b"\r\n"),
        "cr-only": p22 + good.replace(b"\n", b"\r"),
        "no-final-newline": p22 + good.rstrip(b"\n"),
        "no-header": p22n + b"1,2,3,4,5\n3,4,5,6,7\n",
        "label-last": params(2, 2, 1, 0, 10, 4) + b"2,3,4,5,1\n",
        "label-middle-spaces": params(2, 2, 1, 0, 4, 2) + b" 1 , 2 ,3, 4,+5\n\n0,0,0,0,0\n",
        "rgb": params(1, 2, 2, 1, 2, 0) + b"h\n1,0,1,2,3\n0,4,5,6,7\n",
        "limit": params(2, 2, 1, 1, 10, 0, 1) + good + b"".join(b"1,2,3,4,5\n" for _ in range(20)),
        "empty": p22,
        "header-only": p22 + b"label,a,b,c,d\n",
        "blank-lines": p22n + b"\n\n  \n",
        "too-few": p22n + b"1,2,3\n",
        "too-many": p22n + b"1,2,3,4,5,6,7\n",
        "not-a-number": p22n + b"1,2,x,4,5\n",
        "float": p22n + b"1,2,3.5,4,5\n",
        "pixel-256": p22n + b"1,2,256,4,5\n",
        "negative": p22n + b"1,-2,3,4,5\n",
        "label-11": p22n + b"11,2,3,4,5\n",
        "empty-field": p22n + b"1,,3,4,5\n",
        "long-field": p22n + b"1," + b"9" * 100 + b",3,4,5\n",
        "binary": p22n + bytes(range(256)),
        "nul": p22 + b"\0" * 64,
        "gz-cut": p22 + gz(good)[:20],
        "gz-trailing": p22 + gz(good) + b"junk",
        "gz-two-members": p22 + gz(good) + gz(b"2,2,2,2,2\n"),
        "label-column-past": params(2, 2, 1, 0, 10, 5) + b"1,2,3,4,5\n",
    }
    for name, data in cases.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
