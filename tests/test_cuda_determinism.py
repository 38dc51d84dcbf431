"""A job on CUDA asks torch for deterministic kernels; a job on the CPU leaves torch as it is.

The flags are process state: each test puts back what it found.
"""
from __future__ import annotations

import pytest
import torch

from facebench import torch_utils


@pytest.fixture
def torch_flags(monkeypatch):
    state = (torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic,
             torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled())
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = True, False
    torch.use_deterministic_algorithms(False)
    yield
    torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = state[0], state[1]
    torch.use_deterministic_algorithms(state[2], warn_only=state[3])


def test_cuda_job_asks_for_deterministic_kernels(torch_flags):
    import os

    torch_utils.prepare_device(None, "cuda:0")
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    assert torch.are_deterministic_algorithms_enabled() and torch.is_deterministic_algorithms_warn_only_enabled()
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"


def test_users_cublas_workspace_is_kept(torch_flags, monkeypatch):
    import os

    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8")
    torch_utils.deterministic_cuda()
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"


def test_users_strict_determinism_is_kept(torch_flags):
    torch.use_deterministic_algorithms(True)  # strict: an operation without a deterministic kernel raises
    torch_utils.deterministic_cuda()
    assert torch.are_deterministic_algorithms_enabled() and not torch.is_deterministic_algorithms_warn_only_enabled()


def test_cpu_job_leaves_torch_alone(torch_flags):
    import os

    torch_utils.prepare_device(None, "cpu")
    assert torch.backends.cudnn.benchmark and not torch.backends.cudnn.deterministic
    assert not torch.are_deterministic_algorithms_enabled()
    assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ
