"""Devices, seeds and an environment report.

Example:
    >>> from helpers.device import get_device, set_seed
    >>> set_seed(42)
    >>> get_device() in {"cuda", "mps", "cpu"}
    True
"""

from __future__ import annotations

import os
import platform
import random

import numpy as np
import torch


def get_device() -> str:
    """Return the best available device name: ``"cuda"``, then ``"mps"``, then ``"cpu"``.

    A string works everywhere a device is accepted: ``tensor.to(device)``,
    ``torch.zeros(3, device=device)``, ``model.to(device)``.
    """
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def set_seed(seed: int = 42, deterministic: bool = False) -> None:
    """Seed Python's ``random``, NumPy and PyTorch (CPU and every GPU) in one call.

    Args:
        seed: the seed; the course uses 42 everywhere.
        deterministic: also ask PyTorch for deterministic algorithms. Slower on
            a GPU, and some operations then raise an error instead of running;
            leave it off unless you need bit-for-bit repeatable GPU runs.
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False


def environment_report() -> None:
    """Print one line with the Python, PyTorch and device in use.

    Every notebook's set-up cell calls this, so a learner asking for help can
    paste the line.
    """
    device = get_device()
    detail = f" ({torch.cuda.get_device_name(0)})" if device == "cuda" else ""
    report = (
        f"Python {platform.python_version()} | PyTorch {torch.__version__} | "
        f"device: {device}{detail}"
    )
    print(report)
