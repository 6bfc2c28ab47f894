"""Shared test set-up: make `tools` importable, draw plots off-screen, one kernel environment.

It sits at the repository root so that it applies to every test path, also when
pytest is given only notebooks (`pytest notebooks/03_*.ipynb`).

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
sys.path.insert(0, str(Path(__file__).resolve().parent))

from tools.kernels import apply_kernel_env  # noqa: E402

apply_kernel_env()


def pytest_xdist_make_scheduler(config, log):
    """Spread tests over the xdist workers one by one, but each notebook's nbval cells as one unit.

    nbval runs a notebook's cells one after the other in one kernel, so they must
    stay on one worker; every other test (the slow parametrised notebook tests
    among them) is scheduled on its own, so both workers stay busy.
    """
    from xdist.scheduler import LoadScopeScheduling

    class NotebookScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return path if path.endswith(".ipynb") else nodeid

    return NotebookScheduling(config, log)


def pytest_collection_modifyitems(config, items):
    """Leave tests marked ``slow`` to ``make test-slow`` (``pytest -m slow``).

    They execute every lesson and solutions notebook several more times (under
    other CPU kernels, each cell twice) or grade every solutions notebook, which
    does not fit the time budget of ``make test``; CI runs them right after it.
    """
    if "slow" in (config.getoption("markexpr") or ""):
        return
    kept = [item for item in items if item.get_closest_marker("slow") is None]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item.get_closest_marker("slow")])
        items[:] = kept
