"""face-cf-literal: the float32 option against float64, time and agreement (``metric_speed_face_cf.md``).

Times :func:`facebench.metrics.face.bhattacharyya_full` (all of face-cf-literal's work but the
final softmax) with ``precision="float64"`` and ``"float32"`` on one bundle, alternating the two
``--repeat`` times, best kept; wall time and the process's CPU time (which, for work on one core,
is what an unloaded core would take, give or take cache sharing, when other processes compete for
the cores). Then the agreement: the largest relative difference of the off-diagonal distances
D_ij and of F (face-cf-literal's score, ``t`` = 0.05, both row readings) between the two.

Run it on one core (``taskset -c 0``: the metric's workers follow the process's affinity) with one
BLAS thread::

    OPENBLAS_NUM_THREADS=1 taskset -c 0 python benchmarks/face_cf_precision.py --n 10000 --d 2048 --k 100

``--data gaussian`` is ``bench_metrics.py``'s bundle (Gaussian classes, random means); ``lowrank``
draws every class from one shared ReLU map of a 64-dim latent (strongly overlapping class
subspaces: near-singular Schur complements, the hard case for float32); ``fmnist`` is raw
Fashion-MNIST pixels (d = 784; ``/usr/share/datasets/fashion-mnist``).

``--calibrate`` instead measures, pair by pair with the float32 guard off, the rounding errors that
the guard's bound covers (``SINGLE_LOGDET_ERROR``, ``SINGLE_QUAD_ERROR`` in ``facebench/metrics/face.py``)
on the bundles of ``metric_speed_face_cf.md``: the largest error of ln|S| / (u kappa sqrt(r)) and of
b^T S^-1 b / (u kappa b^T S^-1 b).
"""
from __future__ import annotations

import argparse
import gzip
import struct
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))


def lowrank_bundle(n: int, d: int, k: int, seed: int = 0, latent: int = 64):
    from facebench.bundle import FeatureBundle

    rng = np.random.default_rng(seed)
    labels = np.arange(n) % k
    rng.shuffle(labels)
    w = rng.standard_normal((latent, d)).astype(np.float32) / np.float32(np.sqrt(latent))
    z = rng.standard_normal((n, latent)).astype(np.float32)
    z += rng.standard_normal((k, latent)).astype(np.float32)[labels]  # class centres in the latent space
    features = np.maximum(z @ w, 0.0).astype(np.float32)
    return FeatureBundle.from_arrays(features, labels, None, name=f"lowrank-n{n}-d{d}-K{k}")


def fmnist_bundle(per_class: int, seed: int = 0):
    from facebench.bundle import FeatureBundle

    root = Path("/usr/share/datasets/fashion-mnist")
    with gzip.open(root / "train-labels-idx1-ubyte.gz") as fh:
        fh.read(8)
        labels = np.frombuffer(fh.read(), np.uint8).astype(np.int64)
    with gzip.open(root / "train-images-idx3-ubyte.gz") as fh:
        _, n, h, w = struct.unpack(">IIII", fh.read(16))
        images = np.frombuffer(fh.read(), np.uint8).reshape(n, h * w)
    rng = np.random.default_rng(seed)
    pick = np.concatenate([rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in range(10)])
    return FeatureBundle.from_arrays(images[pick].astype(np.float32) / 255, labels[pick], None,
                                     name=f"fmnist-{per_class}-per-class")


def calibrate() -> None:
    """Per-pair errors of the float32 route (guard off) against float64, over the reference bundles."""
    from bench_metrics import make_bundle
    from scipy.linalg.blas import ssyrk
    from scipy.linalg.lapack import dpocon, dpotrf

    from facebench.metrics import face

    u = float(np.finfo(np.float32).eps)

    def kappa(lam, ei, ej, cross):  # as in face._lowrank_pair_single
        if ej.size > ei.size:
            ei, ej, cross = ej, ei, cross.T
        g = cross * (np.sqrt(ei / 2) / np.sqrt(lam + ei / 2)).astype(np.float32)[:, None]
        g *= (np.sqrt(ej / 2) / np.sqrt(lam + ej / 2)).astype(np.float32)[None, :]
        schur = ssyrk(-1.0, g.T, lower=1).astype(np.float64, order="F")
        schur[np.diag_indices_from(schur)] += 1.0
        chol, info = dpotrf(schur, lower=1, clean=0)
        return (np.inf if info else 1.0 / dpocon(chol, 1.0, uplo="L")[0]), ej.size

    cases = [(fmnist_bundle(pc), r) for pc in (100, 150, 300) for r in (1e-10, 1e-4, 1e-2, 1.0)]
    cases += [(lowrank_bundle(4000, 512, 20), r) for r in (1e-10, 1e-2, 1.0)]
    cases += [(make_bundle(2000, 256, 20, 10), r) for r in (1e-10, 1.0)]
    rows = []
    real64, real32, tolerance = face._lowrank_pair, face._lowrank_pair_single, face.FLOAT32_TOLERANCE
    face.FLOAT32_TOLERANCE = np.inf  # the guard off
    try:
        for bundle, ridge in cases:
            pairs: dict = {}

            def w64(lam, ei, ej, cross, pi, pj):
                pairs.setdefault((lam, float(pi @ pi)), {})["64"] = out = real64(lam, ei, ej, cross, pi, pj)
                return out

            def w32(lam, ei, ej, cross, pi, pj):
                out = real32(lam, ei, ej, cross, pi, pj)
                pairs.setdefault((lam, float(pi @ pi)), {})["32"] = (out, kappa(lam, ei, ej, cross))
                return out

            face._lowrank_pair, face._lowrank_pair_single = w64, w32
            x, y, k = bundle.features, bundle.labels, bundle.num_classes
            face.bhattacharyya_full(x, y, k, ridge, "float64")
            face.bhattacharyya_full(x, y, k, ridge, "float32")
            face._lowrank_pair, face._lowrank_pair_single = real64, real32
            for v in pairs.values():
                if "64" in v and "32" in v and v["32"][0] is not None and np.isfinite(v["32"][1][0]):
                    (ld32, q32, _, _), (kap, r) = v["32"]
                    ld64, q64 = v["64"]
                    rows.append((abs(ld32 - ld64) / (u * kap * np.sqrt(r)), abs(q32 - q64) / (u * kap * q64)))
    finally:
        face._lowrank_pair, face._lowrank_pair_single = real64, real32
        face.FLOAT32_TOLERANCE = tolerance
    a = np.array(rows)
    print(f"{len(a)} pairs: max |error of ln|S|| / (u kappa sqrt(r)) = {a[:, 0].max():.3g}, "
          f"max |error of b^T S^-1 b| / (u kappa b^T S^-1 b) = {a[:, 1].max():.3g}")


def main(argv: list[str] | None = None) -> int:
    from bench_metrics import make_bundle

    from facebench.metrics import face
    from facebench.metrics._linalg import available_cores
    from facebench.metrics.face import bhattacharyya_full, fairness_from_distances

    calls = {"n": 0}  # low-rank pairs computed in float64 (with float32: those given back, or after row 0)
    float64_pair = face._lowrank_pair

    def counted(*a):
        calls["n"] += 1
        return float64_pair(*a)

    face._lowrank_pair = counted

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=("gaussian", "lowrank", "fmnist"), default="gaussian")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--d", type=int, default=2_048)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--per-class", type=int, default=300, help="fmnist: samples per class")
    parser.add_argument("--ridge", type=float, nargs="+", default=[1e-10], help="ridges to compare at (first timed)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--calibrate", action="store_true", help="measure the float32 guard's error ratios instead")
    args = parser.parse_args(argv)
    if args.calibrate:
        calibrate()
        return 0

    if args.data == "gaussian":
        bundle = make_bundle(args.n, args.d, args.k, 10, seed=args.seed)
    elif args.data == "lowrank":
        bundle = lowrank_bundle(args.n, args.d, args.k, seed=args.seed)
    else:
        bundle = fmnist_bundle(args.per_class, seed=args.seed)
    x, y, k = bundle.features, bundle.labels, bundle.num_classes
    print(f"# {bundle.name}: n={x.shape[0]}, d={x.shape[1]}, K={k}; {available_cores()} core(s) in the affinity mask",
          flush=True)
    off = ~np.eye(k, dtype=bool)
    for r, ridge in enumerate(args.ridge):
        best: dict[str, tuple[float, float]] = {}
        dist: dict[str, np.ndarray] = {}
        pairs: dict[str, int] = {}
        for _ in range(args.repeat if r == 0 else 1):
            for precision in ("float64", "float32"):
                calls["n"] = 0
                wall, cpu = time.perf_counter(), time.process_time()
                dist[precision] = bhattacharyya_full(x, y, k, ridge, precision)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                pairs[precision] = calls["n"]
                if r == 0:
                    old = best.get(precision, (np.inf, np.inf))
                    best[precision] = (min(old[0], wall), min(old[1], cpu))
        d64, d32 = dist["float64"], dist["float32"]
        rel = np.abs(d32 - d64)[off] / np.abs(d64)[off]
        b64 = np.exp(-d64[off])
        line = (f"ridge {ridge:g}: D_ij in [{d64[off].min():.4g}, {d64[off].max():.4g}], off-diagonal B_ij max "
                f"{b64.max():.3g}; max |D32 - D64| / |D64| = {rel.max():.3g} (median {np.median(rel):.3g})")
        for row in ("others", "all"):
            f64, f32 = fairness_from_distances(d64, 0.05, row), fairness_from_distances(d32, 0.05, row)
            line += f"; F[{row}] {f64:.10g}, rel. diff {abs(f32 - f64) / abs(f64):.3g}"
        line += f"; float32 run: {pairs['float32']} of {pairs['float64']} low-rank pairs in float64"
        print(line, flush=True)
        if r == 0:
            for precision, (wall, cpu) in best.items():
                print(f"{precision}: wall {wall:.2f} s, cpu {cpu:.2f} s (best of {args.repeat})", flush=True)
            print(f"speed-up float64/float32: wall {best['float64'][0] / best['float32'][0]:.2f}x, "
                  f"cpu {best['float64'][1] / best['float32'][1]:.2f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
