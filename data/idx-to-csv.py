#!/usr/bin/env python3
"""idx-to-csv.py - writes an IDX image file and its labels as one CSV file in
Kaggle's Fashion-MNIST layout: a header "label,pixel1,...,pixelN", then one
line per sample, the label first, then the pixels (0..255) in row-major
(NHWC) order.  nnrun reads it with data: {format: csv, ...}.

usage: data/idx-to-csv.py IMAGES LABELS OUT.csv [N]
  IMAGES, LABELS  IDX files, gzipped or not; N: only the first N samples
example:
  data/idx-to-csv.py /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz \\
      /usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz \\
      data/fashion-mnist-csv/fashion-mnist_train.csv
"""
import gzip
import os
import struct
import sys


def read_idx(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[0] or raw[1] or raw[2] != 8:
        sys.exit(f"{path}: not an IDX file of unsigned bytes")
    rank = raw[3]
    dims = struct.unpack(">" + "I" * rank, raw[4:4 + 4 * rank])
    data = raw[4 + 4 * rank:]
    size = 1
    for d in dims:
        size *= d
    if len(data) != size:
        sys.exit(f"{path}: {len(data)} bytes of data, the header announces {size}")
    return dims, data


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__.split("\n\n")[1])
    idims, images = read_idx(sys.argv[1])
    ldims, labels = read_idx(sys.argv[2])
    if idims[0] != ldims[0]:
        sys.exit(f"{sys.argv[2]}: {ldims[0]} labels for {idims[0]} images")
    n = idims[0] if len(sys.argv) < 5 else min(int(sys.argv[4]), idims[0])
    per = len(images) // idims[0] if idims[0] else 0
    out = sys.argv[3]
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out + ".tmp", "w") as f:
        f.write("label," + ",".join(f"pixel{i + 1}" for i in range(per)) + "\n")
        for i in range(n):
            row = images[i * per:(i + 1) * per]
            f.write(str(labels[i]) + "," + ",".join(map(str, row)) + "\n")
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
