"""Learners re-run cells: every lesson and solutions notebook survives it.

Two things learners do all the time, each of which must leave the notebook
passing its own asserts:

- Shift+Enter twice: every code cell is executed twice in a row (cells tagged
  ``run-once`` are executed once; their text tells the learner what to re-run).
- Run All twice in one kernel: after that, every cell is executed once more.

A failure names the cell, the pass it failed in, and the error.
"""

import pytest

from tools.course import ROOT, notebook_paths
from tools.kernels import rerun_failure

pytestmark = pytest.mark.slow  # `make test-slow`: CI runs it after `make test`
NOTEBOOKS = notebook_paths("notebooks") + notebook_paths("solutions")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.relative_to(ROOT).as_posix() for p in NOTEBOOKS])
def test_each_cell_twice_then_run_all_again(path):
    failure = rerun_failure(path)
    if failure:
        pytest.fail(f"{path.relative_to(ROOT)} {failure}", pytrace=False)
