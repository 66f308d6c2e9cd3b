#!/usr/bin/env python3
"""nnrun against the PyTorch reference, one after the other, same machine.

Runs the seed's two models (models/cnn.yaml, models/dense.yaml) in nnrun and
in bench/torch_ref.py (PyTorch with Keras' defaults: the fixed reference the
performance targets are measured against), with the same hyperparameters,
data and thread count, and prints the ratios against the targets:

  conv epoch <= 1/10 of the reference's, dense epoch <= 1/20,
  inference over the 10,000 test images <= 1/10, peak RSS (conv) <= 100 MB,
  conv epoch at 2 threads >= 1.7x faster than at 1 thread.

Usage:  python3 bench/run.py [--epochs 3] [--threads 2] [--nnrun build/nnrun]
Needs:  apt-get install python3-torch python3-numpy dataset-fashion-mnist
        (the reference is run with /usr/bin/python3, Debian's torch 1.13.1)
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd):
    """Runs cmd; returns (stdout, seconds)."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    return p.stdout, time.perf_counter() - t0


def steal_seconds():
    """CPU time the hypervisor gave to other guests (the 'steal' column of
    /proc/stat), summed over all CPUs: a contaminated timing shows here."""
    try:
        with open("/proc/stat") as f:
            v = f.readline().split()
        return int(v[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


STEAL = {}


def run_rss(cmd):
    """Runs cmd with its own wait4, so ru_maxrss is that process's peak RSS."""
    with tempfile.TemporaryFile("w+") as fo, tempfile.TemporaryFile("w+") as fe:
        s0 = steal_seconds()
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, text=True)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        dt = time.perf_counter() - t0
        STEAL[" ".join(os.path.basename(c) for c in cmd[:3])] = (steal_seconds() - s0, dt)
        fo.seek(0)
        fe.seek(0)
        out, err = fo.read(), fe.read()
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed ({p.returncode}):\n{err}")
    return out, dt, ru.ru_maxrss / 1024.0


def nnrun_model(nnrun, spec, threads, epochs):
    out, wall, rss = run_rss([nnrun, spec, "--no-record", "--threads", str(threads),
                              "--set", f"train.epochs={epochs}"])
    epochs = [float(x) for x in re.findall(r"(?m)^epoch \d+/\d+ .* ([0-9.]+)s$", out)]
    acc = float(re.search(r"test accuracy: ([0-9.]+)%", out).group(1))
    infer = float(re.search(r"\((\d+) samples, ([0-9.]+)s;", out).group(2))
    return dict(epochs=epochs, median=statistics.median(epochs), acc=acc, infer=infer,
                rss=rss, wall=wall)


def train_mflop(nnrun, spec):
    out, _ = run([nnrun, "check", spec])
    return float(re.search(r"training ([0-9.]+) MFLOP", out).group(1))


def torch_model(ref, model, threads, epochs, seed):
    with tempfile.TemporaryDirectory() as d:
        js = os.path.join(d, "r.json")
        run_rss(["/usr/bin/python3", ref, model, "--threads", str(threads), "--epochs",
                 str(epochs), "--seed", str(seed), "--json", js])
        r = json.load(open(js))
    return dict(median=r["median_epoch_s"], acc=100 * r["test_acc"],
                infer=r["infer_10k_median_s"], rss=r["peak_rss_mb"], torch=r["torch"])


def cpu_facts():
    model, mhz = "?", 0.0
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name") and model == "?":
                model = line.split(":", 1)[1].strip()
            if line.startswith("cpu MHz") and not mhz:
                mhz = float(line.split(":", 1)[1])
    except OSError:
        pass
    flags = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    lanes = 16 if " avx512f" in flags else 8 if " avx2" in flags else 4
    return model, mhz, lanes


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=3, help="epochs per run (default 3)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--nnrun", default=os.path.join(ROOT, "build", "nnrun"))
    ap.add_argument("--reference", default=os.path.join(ROOT, "bench", "torch_ref.py"))
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args()
    if not os.access(args.nnrun, os.X_OK):
        sys.exit(f"bench: {args.nnrun} not found; build first (meson setup build && ninja -C build)")
    try:
        subprocess.run(["/usr/bin/python3", "-c", "import torch, numpy"], check=True,
                       capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        sys.exit("bench: the reference needs Debian's torch: apt-get install python3-torch python3-numpy")

    cores = os.cpu_count() or 1
    model, mhz, lanes = cpu_facts()
    peak = cores * mhz / 1e3 * lanes * 2 * 2  # FMA units x lanes x 2 FLOP
    print(f"# machine: {model}, {cores} cores at {mhz:.0f} MHz, {lanes}-lane FMA; "
          f"peak {peak:.0f} GFLOP/s (2 FMA per cycle per core)")
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}, {args.epochs} epochs per run, "
          f"{args.threads} threads, seed {args.seed}")
    res = {}
    cnn = os.path.join(ROOT, "models", "cnn.yaml")
    dense = os.path.join(ROOT, "models", "dense.yaml")
    for m, spec in (("cnn", cnn), ("dense", dense)):
        print(f"# nnrun {m} ...", flush=True)
        res[f"nnrun_{m}"] = nnrun_model(args.nnrun, spec, args.threads, args.epochs)
        res[f"mflop_{m}"] = train_mflop(args.nnrun, spec)
    print("# nnrun cnn, 1 thread ...", flush=True)
    res["nnrun_cnn_1t"] = nnrun_model(args.nnrun, cnn, 1, args.epochs)
    for m in ("cnn", "dense"):
        print(f"# reference {m} ...", flush=True)
        res[f"torch_{m}"] = torch_model(args.reference, m, args.threads, args.epochs, args.seed)

    n, t = res["nnrun_cnn"], res["torch_cnn"]
    nd, td = res["nnrun_dense"], res["torch_dense"]
    n1 = res["nnrun_cnn_1t"]
    rows = [
        ("cnn median epoch", f"{n['median']:.3f} s", f"{t['median']:.3f} s",
         t["median"] / n["median"], ">= 10x", t["median"] / n["median"] >= 10),
        ("dense median epoch", f"{nd['median']:.3f} s", f"{td['median']:.3f} s",
         td["median"] / nd["median"], ">= 20x", td["median"] / nd["median"] >= 20),
        ("cnn inference, 10k images", f"{n['infer']*1e3:.0f} ms", f"{t['infer']*1e3:.0f} ms",
         t["infer"] / n["infer"], ">= 10x", t["infer"] / n["infer"] >= 10),
        ("cnn peak RSS", f"{n['rss']:.0f} MB", f"{t['rss']:.0f} MB", t["rss"] / n["rss"],
         "<= 100 MB", n["rss"] <= 100),
        ("cnn epoch 1 -> 2 threads", f"{n1['median']:.3f} -> {n['median']:.3f} s", "",
         n1["median"] / n["median"], ">= 1.7x", n1["median"] / n["median"] >= 1.7),
    ]
    print()
    print("| measure | nnrun | PyTorch | ratio | target | met |")
    print("|---|---:|---:|---:|---|---|")
    for name, a, b, r, tgt, ok in rows:
        print(f"| {name} | {a} | {b} | {r:.2f}x | {tgt} | {'yes' if ok else 'no'} |")
    print()
    for m, r, tr in (("cnn", n, t), ("dense", nd, td)):
        gf = res[f"mflop_{m}"] * 60000 / r["median"] / 1e3
        print(f"{m}: test accuracy nnrun {r['acc']:.2f}% vs PyTorch {tr['acc']:.2f}% "
              f"after {args.epochs} epochs; nnrun {gf:.1f} GFLOP/s = {100 * gf / peak:.1f}% "
              f"of peak ({res[f'mflop_{m}']:.3f} MFLOP per training sample)")
    print(f"PyTorch {t['torch']}; nnrun {args.nnrun}")
    for name, (st, dt) in STEAL.items():
        flag = "  <-- contaminated" if st > 0.05 * dt else ""
        print(f"steal time during '{name}': {st:.1f} s of {dt:.1f} s{flag}")
    if args.json:
        json.dump(res, open(args.json, "w"), indent=1)
    return 0 if all(r[-1] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
