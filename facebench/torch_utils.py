"""Torch utilities shared by every task: CPU threads, mixed precision, loaders, a training epoch.

On CUDA, training runs under ``torch.autocast`` (bfloat16 where supported, else float16 with a
GradScaler); losses are returned in float32. On CPU everything is float32. Nothing here assumes a
network's structure: a training step is ``loss_fn(net, x, y, generator)``.

A job on CUDA asks for deterministic kernels (:func:`deterministic_cuda`): cuDNN's deterministic
algorithms without autotuning, cuBLAS with a fixed workspace, and torch's deterministic
implementations where they exist (a warning, not an error, for an operation that has none), so
that a seed gives the same result on the same GPU and software. CPU and GPU results still differ:
other kernels, other rounding, and bfloat16 under autocast (``benchmarks/gpu_check.md``).
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Callable

import torch


def set_cpu_threads(num_threads: int | None, device: str) -> None:
    """``torch.set_num_threads(num_threads)`` when running on CPU (None: leave torch's default)."""
    if num_threads and not str(device).startswith("cuda"):
        if torch.get_num_threads() != num_threads:
            torch.set_num_threads(num_threads)


def is_cuda(device: str) -> bool:
    return str(device).startswith("cuda")


def deterministic_cuda() -> None:
    """Deterministic CUDA kernels for this process (module docstring); a no-op when already set.

    ``CUBLAS_WORKSPACE_CONFIG`` must be set before cuBLAS starts in the process; a value the user
    set is kept.
    """
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    if not torch.are_deterministic_algorithms_enabled():
        torch.use_deterministic_algorithms(True, warn_only=True)


def prepare_device(num_threads: int | None, device: str) -> None:
    """Before a job's torch work: CPU threads (:func:`set_cpu_threads`), deterministic CUDA kernels."""
    set_cpu_threads(num_threads, device)
    if is_cuda(device):
        deterministic_cuda()


@dataclass
class Amp:
    """Mixed precision for one device: ``with amp.autocast(): ...`` and a (possibly disabled) scaler."""

    device: str

    def __post_init__(self) -> None:
        self.enabled = is_cuda(self.device)
        self.dtype = None
        if self.enabled:
            deterministic_cuda()
            self.dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.enabled and self.dtype == torch.float16)

    def autocast(self):
        if not self.enabled:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cuda", dtype=self.dtype)

    def step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(optimizer)
        self.scaler.update()


def make_loader(dataset, batch_size: int, *, shuffle: bool, seed: int = 0, num_workers: int = 0,
                device: str | None = None):
    """A DataLoader; shuffling draws from its own generator seeded with ``seed``.

    The last batch is dropped only when it would hold a single item (BatchNorm cannot train on it).
    For a CUDA ``device`` batches come in pinned memory (their copies to the GPU are asynchronous:
    ``non_blocking`` in :func:`train_epoch`); ``num_workers`` processes load them meanwhile.
    """
    from torch.utils.data import DataLoader

    n = len(dataset)
    drop_last = shuffle and n > batch_size and n % batch_size == 1
    gen = torch.Generator().manual_seed(int(seed)) if shuffle else None
    return DataLoader(
        dataset, batch_size=batch_size, shuffle=shuffle, generator=gen, num_workers=num_workers,
        drop_last=drop_last, persistent_workers=False, pin_memory=is_cuda(device or "cpu"),
    )


def train_epoch(net, loader, optimizer, loss_fn: Callable, device: str, amp: Amp, generator: torch.Generator | None = None,
                scheduler=None) -> float:
    """One pass over ``loader``; ``loss_fn(net, x, y, generator)``; returns the mean batch loss.

    ``scheduler`` (a learning-rate schedule stepped per batch), when given, steps after each update.
    """
    net.train()
    total, count = 0.0, 0
    for x, y in loader:
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        with amp.autocast():
            loss = loss_fn(net, x, y, generator)
        amp.step(loss, optimizer)
        if scheduler is not None:
            scheduler.step()
        total += float(loss.detach()) * x.shape[0]
        count += x.shape[0]
    return total / max(count, 1)
