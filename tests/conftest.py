"""Shared test set-up: make `tools` importable, draw plots off-screen, one kernel environment.

Kernels started by nbval inherit this process's environment, so the settings in
``tools.kernels.KERNEL_ENV`` (one torch thread per kernel, a fixed hash seed)
are put there; ``tools/run_notebooks.py`` and the other notebook tests use the
same settings, so authors save outputs under the environment CI compares with.
"""

import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.kernels import apply_kernel_env  # noqa: E402

apply_kernel_env()


def pytest_collection_modifyitems(items):
    """Keep each notebook's nbval cells on one xdist worker (they share one kernel).

    With ``--dist loadgroup`` every other test is spread over the workers one by
    one, so the slow parametrised notebook tests run side by side.
    """
    for item in items:
        if type(item).__module__.startswith("nbval"):
            item.add_marker(pytest.mark.xdist_group(str(item.path)))
